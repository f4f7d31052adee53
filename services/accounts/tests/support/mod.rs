//! The accounts service for tiering tests: the service on real PostgreSQL and NATS, with the
//! test standing in for the opportunities service by publishing its deal events.

use std::time::Duration;

use chrono::{Days, NaiveDate};
use crm_platform::{auth::Caller, events::DomainEvent};
use crm_proto::crm::{
    accounts::v1::{self as pb, account_service_client::AccountServiceClient},
    common::v1::Money,
    opportunities::v1::{CloseOutcome, CorporateAmount, Opportunity, OpportunityStatus},
};
use crm_test_support::{TestApp, authorized, eventually, nats_url, user};
use tonic::transport::Channel;
use uuid::Uuid;

pub const EAST: &str = "/northwind/east/";
pub const EAST_1: &str = "/northwind/east/east-1";

pub struct Tiers {
    pub app: TestApp,
    pub client: AccountServiceClient<Channel>,
    pub admin: Caller,
}

impl Tiers {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With extra settings, e.g. a short re-evaluation interval.
    pub async fn start_with(settings: &[(&str, &str)]) -> Self {
        let app = TestApp::spawn_with(&[crm_accounts::module()], &nats_url(), settings).await;
        // The opportunities service would create its stream; here the test stands in for it.
        app.stand_in_for("accounts", "opportunities").await;
        let client = AccountServiceClient::new(app.channel().await);
        Self {
            app,
            client,
            admin: user("admin", "/northwind/"),
        }
    }

    pub async fn set_thresholds(
        &self,
        caller: &Caller,
        a: &str,
        b: &str,
        expected_version: u64,
    ) -> Result<pb::TierSettings, tonic::Status> {
        self.client
            .clone()
            .update_tier_settings(authorized(
                pb::UpdateTierSettingsRequest {
                    a_threshold: Some(cny(a)),
                    b_threshold: Some(cny(b)),
                    expected_version,
                },
                &self.app.token(caller),
            ))
            .await
            .map(|response| response.into_inner().settings.unwrap())
    }

    pub async fn create_account(&self, caller: &Caller, name: &str) -> pb::Account {
        self.client
            .clone()
            .create_account(authorized(
                pb::CreateAccountRequest {
                    account: Some(pb::AccountInput {
                        name: format!("{name} {}", Uuid::now_v7().simple()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &self.app.token(caller),
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }

    pub async fn get(&self, account_id: &str) -> pb::Account {
        self.client
            .clone()
            .get_account(authorized(
                pb::GetAccountRequest {
                    account_id: account_id.into(),
                },
                &self.app.token(&self.admin),
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }

    pub async fn set_tier(
        &self,
        caller: &Caller,
        account_id: &str,
        tier: pb::AccountTier,
    ) -> Result<pb::Account, tonic::Status> {
        self.client
            .clone()
            .set_account_tier(authorized(
                pb::SetAccountTierRequest {
                    account_id: account_id.into(),
                    tier_override: tier as i32,
                    expected_version: 0,
                },
                &self.app.token(caller),
            ))
            .await
            .map(|response| response.into_inner().account.unwrap())
    }

    /// Publishes a deal event as the opportunities service's relay would.
    pub async fn publish<E: DomainEvent>(&self, event: &E) {
        self.app.publish_event("accounts", event).await;
    }

    /// Waits until the account's trailing won revenue is `amount` (CNY, as the wire writes it).
    pub async fn wait_for_revenue(&self, account_id: &str, amount: &str) -> pb::Account {
        let what = format!("account {account_id} at {amount} CNY");
        eventually(Duration::from_secs(15), &what, || async {
            self.get(account_id)
                .await
                .trailing_won_revenue
                .is_some_and(|revenue| revenue.amount == amount)
        })
        .await;
        self.get(account_id).await
    }

    /// Waits until the account's tier is `tier`.
    pub async fn wait_for_tier(&self, account_id: &str, tier: pb::AccountTier) -> pb::Account {
        let what = format!("account {account_id} in tier {tier:?}");
        eventually(Duration::from_secs(15), &what, || async {
            self.get(account_id).await.tier == tier as i32
        })
        .await;
        self.get(account_id).await
    }

    /// Publishes an unrelated deal and waits until it is kept: every event published before it
    /// has been handled (one consumer reads the stream in order).
    pub async fn settle(&self) {
        let sentinel = deal(
            &Uuid::now_v7().to_string(),
            OpportunityStatus::Open,
            None,
            None,
            1,
        );
        let id = sentinel.id.clone();
        self.publish(&crm_proto::crm::opportunities::v1::OpportunityCreated {
            opportunity: Some(sentinel),
            change: None,
        })
        .await;
        let sql = format!("SELECT count(*) FROM account_deals WHERE opportunity_id = '{id}'");
        eventually(
            Duration::from_secs(15),
            "the sentinel deal kept",
            || async { self.count(&sql).await == 1 },
        )
        .await;
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(self.app.pool("accounts"))
            .await
            .unwrap()
    }

    pub async fn execute(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(self.app.pool("accounts"))
            .await
            .unwrap();
    }

    /// The account's AccountTierChanged events in the outbox, oldest first.
    pub async fn tier_changes(&self, account_id: &str) -> Vec<pb::AccountTierChanged> {
        self.outbox::<pb::AccountTierChanged>(account_id).await
    }

    /// The account's events of type `E` in the outbox, oldest first.
    pub async fn outbox<E: DomainEvent + Default>(&self, account_id: &str) -> Vec<E> {
        let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT payload FROM outbox WHERE event_type = $1 AND aggregate_id = $2 ORDER BY seq",
        )
        .bind(E::full_name())
        .bind(account_id)
        .fetch_all(self.app.pool("accounts"))
        .await
        .unwrap();
        payloads
            .iter()
            .map(|payload| E::decode(payload.as_slice()).unwrap())
            .collect()
    }
}

pub fn cny(amount: &str) -> Money {
    Money {
        currency_code: "CNY".into(),
        amount: amount.into(),
    }
}

/// Today in UTC, and `days` before it.
pub fn days_ago(days: u64) -> NaiveDate {
    chrono::Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(days))
        .unwrap()
}

/// A deal's full state as the opportunities service's events carry it.
pub fn deal(
    account_id: &str,
    status: OpportunityStatus,
    corporate_amount: Option<Money>,
    closed_on: Option<NaiveDate>,
    version: u64,
) -> Opportunity {
    Opportunity {
        id: Uuid::now_v7().to_string(),
        name: "Line 3 retrofit".into(),
        account_id: account_id.into(),
        amount: corporate_amount.clone(),
        corporate_amount: corporate_amount.map(|amount| CorporateAmount {
            amount: Some(amount),
            rate: "1".into(),
            rate_date: days_ago(0).to_string(),
        }),
        status: status as i32,
        outcome: closed_on.map(|day| CloseOutcome {
            closed_on: day.to_string(),
            ..Default::default()
        }),
        version,
        ..Default::default()
    }
}

/// The same deal at a later version, changed by `change`.
pub fn next(deal: &Opportunity, change: impl FnOnce(&mut Opportunity)) -> Opportunity {
    let mut next = deal.clone();
    next.version += 1;
    change(&mut next);
    next
}

pub fn tier(account: &pb::Account) -> pb::AccountTier {
    pb::AccountTier::try_from(account.tier).unwrap()
}

pub fn manager() -> Caller {
    user("manager", EAST)
}

pub fn rep() -> Caller {
    user("rep", EAST_1)
}
