//! The account 360 view (A5) through the gateway, with the accounts and opportunities services
//! in the same process: an account with its contacts and deals made through those services,
//! then the view over gRPC and over HTTP — exactly what each caller may see there, with the
//! buying roles merged and the figures in the corporate currency; another rep's NOT_FOUND, the
//! manager's fuller view, and an unreachable opportunities service as 503 with Retry-After.

use std::time::Duration;

use crm_platform::auth::Caller;
use crm_proto::crm::{
    accounts::v1::{self as accounts, BuyingRole, account_service_client::AccountServiceClient},
    common::v1::Money,
    gateway::v1::{
        self as pb, account_view_service_client::AccountViewServiceClient,
        org_service_client::OrgServiceClient,
    },
    opportunities::v1::{
        self as deals, Attitude, OpportunityStatus, activity_service_client::ActivityServiceClient,
        opportunity_service_client::OpportunityServiceClient,
        quote_service_client::QuoteServiceClient,
    },
};
use crm_test_support::{HttpClient, TestApp, authorized, eventually, user};
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde_json::{Value, json};
use tonic::{Code, transport::Channel};
use tonic_types::StatusExt;

const EAST: &str = "/northwind/east/";
const EAST_1: &str = "/northwind/east/east-1/";
/// Seeded close reasons (migrations/opportunities).
const WON_FOR_PRODUCT_FIT: &str = "01900000-0000-7000-8000-000000000101";
const LOST_TO_COMPETITOR: &str = "01900000-0000-7000-8000-000000000112";

fn money(currency: &str, amount: &str) -> Option<Money> {
    Some(Money {
        currency_code: currency.into(),
        amount: amount.into(),
    })
}

struct Suite {
    app: TestApp,
    accounts: AccountServiceClient<Channel>,
    deals: OpportunityServiceClient<Channel>,
    views: AccountViewServiceClient<Channel>,
}

impl Suite {
    async fn start(app: TestApp) -> Self {
        let channel = app.channel().await;
        Self {
            accounts: AccountServiceClient::new(channel.clone()),
            deals: OpportunityServiceClient::new(channel.clone()),
            views: AccountViewServiceClient::new(channel),
            app,
        }
    }

    async fn view(
        &self,
        caller: &Caller,
        account_id: &str,
    ) -> Result<pb::GetAccount360Response, tonic::Status> {
        self.views
            .clone()
            .get_account360(authorized(
                pb::GetAccount360Request {
                    account_id: account_id.into(),
                },
                &self.app.token(caller),
            ))
            .await
            .map(tonic::Response::into_inner)
    }

    async fn create_account(&self, caller: &Caller, name: &str) -> accounts::Account {
        self.accounts
            .clone()
            .create_account(authorized(
                accounts::CreateAccountRequest {
                    account: Some(accounts::AccountInput {
                        name: name.into(),
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

    async fn get_account(&self, caller: &Caller, id: &str) -> accounts::Account {
        self.accounts
            .clone()
            .get_account(authorized(
                accounts::GetAccountRequest {
                    account_id: id.into(),
                },
                &self.app.token(caller),
            ))
            .await
            .unwrap()
            .into_inner()
            .account
            .unwrap()
    }

    async fn create_contact(
        &self,
        caller: &Caller,
        account_id: &str,
        name: &str,
        role: BuyingRole,
    ) -> accounts::Contact {
        self.accounts
            .clone()
            .create_contact(authorized(
                accounts::CreateContactRequest {
                    contact: Some(accounts::ContactInput {
                        account_id: account_id.into(),
                        full_name: name.into(),
                        buying_role: role.into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                &self.app.token(caller),
            ))
            .await
            .unwrap()
            .into_inner()
            .contact
            .unwrap()
    }

    /// A deal on the account, once the opportunities service knows the account from the
    /// accounts service's AccountCreated (until then FAILED_PRECONDITION).
    async fn create_deal(
        &self,
        caller: &Caller,
        account_id: &str,
        name: &str,
        amount: Option<Money>,
        close: &str,
    ) -> deals::Opportunity {
        let request = deals::CreateOpportunityRequest {
            opportunity: Some(deals::OpportunityInput {
                name: name.into(),
                account_id: account_id.into(),
                amount,
                expected_close_date: close.into(),
                ..Default::default()
            }),
            opportunity_id: uuid::Uuid::now_v7().to_string(),
        };
        let token = self.app.token(caller);
        until_known(name, || {
            let mut deals = self.deals.clone();
            let request = authorized(request.clone(), &token);
            async move { deals.create_opportunity(request).await }
        })
        .await
        .opportunity
        .unwrap()
    }

    /// Sets the committee once the opportunities service knows the contacts (ContactCreated).
    async fn set_committee(
        &self,
        caller: &Caller,
        deal: &deals::Opportunity,
        members: &[(&accounts::Contact, BuyingRole, Attitude)],
    ) {
        let request = deals::SetBuyingCommitteeRequest {
            opportunity_id: deal.id.clone(),
            members: members
                .iter()
                .map(|(contact, role, attitude)| deals::CommitteeMember {
                    contact_id: contact.id.clone(),
                    role: (*role).into(),
                    attitude: (*attitude).into(),
                    ..Default::default()
                })
                .collect(),
            expected_version: 0,
        };
        let token = self.app.token(caller);
        until_known(&deal.name, || {
            let mut deals = self.deals.clone();
            let request = authorized(request.clone(), &token);
            async move { deals.set_buying_committee(request).await }
        })
        .await;
    }

    /// A draft quote of `deal` for engineering hours (an item the price book does not list).
    async fn quote(&self, caller: &Caller, deal: &deals::Opportunity, hours: &str) -> deals::Quote {
        let request = deals::CreateQuoteRequest {
            opportunity_id: deal.id.clone(),
            lines: vec![deals::QuoteLineInput {
                product_code: "ENG-HOURS".into(),
                product_name: "Engineering hours".into(),
                quantity: hours.into(),
                unit_price: money("CNY", "1000.00"),
                ..Default::default()
            }],
            ..Default::default()
        };
        QuoteServiceClient::new(self.app.channel().await)
            .create_quote(authorized(request, &self.app.token(caller)))
            .await
            .unwrap()
            .into_inner()
            .quote
            .unwrap()
    }

    /// A call of `caller`'s regarding the account.
    async fn log_call(&self, caller: &Caller, account_id: &str, subject: &str) -> deals::Activity {
        let request = deals::LogActivityRequest {
            activity: Some(deals::ActivityInput {
                kind: deals::ActivityKind::Call.into(),
                subject: subject.into(),
                starts_at: Some(crm_platform::time::to_timestamp(
                    chrono::Utc::now() - chrono::Duration::hours(1),
                )),
                ..Default::default()
            }),
            regarding: Some(deals::Regarding {
                account_id: account_id.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        ActivityServiceClient::new(self.app.channel().await)
            .log_activity(authorized(request, &self.app.token(caller)))
            .await
            .unwrap()
            .into_inner()
            .activity
            .unwrap()
    }

    async fn get_deal(&self, caller: &Caller, id: &str) -> deals::Opportunity {
        self.deals
            .clone()
            .get_opportunity(authorized(
                deals::GetOpportunityRequest {
                    opportunity_id: id.into(),
                },
                &self.app.token(caller),
            ))
            .await
            .unwrap()
            .into_inner()
            .opportunity
            .unwrap()
    }
}

/// Retries a call the opportunities service refuses with FAILED_PRECONDITION until what it
/// learns from the accounts service's events has arrived.
async fn until_known<T, F, Fut>(what: &str, mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let mut last = None;
    for _ in 0..150 {
        match call().await {
            Ok(reply) => return reply.into_inner(),
            Err(status) if status.code() == Code::FailedPrecondition => last = Some(status),
            Err(status) => panic!("{what}: {status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} was never accepted: {last:?}");
}

fn role_view(
    contact: &accounts::Contact,
    deal_roles: Vec<pb::DealCommitteeRole>,
) -> pb::BuyingRoleView {
    pb::BuyingRoleView {
        contact_id: contact.id.clone(),
        contact_name: contact.full_name.clone(),
        buying_role: contact.buying_role,
        deal_roles,
    }
}

fn place(deal: &deals::Opportunity, role: BuyingRole, attitude: Attitude) -> pb::DealCommitteeRole {
    pb::DealCommitteeRole {
        opportunity_id: deal.id.clone(),
        opportunity_name: deal.name.clone(),
        opportunity_status: deal.status,
        role: role.into(),
        attitude: attitude.into(),
    }
}

/// The JSON the front door renders for `view` (proto field names, enums by name, every field):
/// the HTTP answer must be the gRPC one, transcoded.
fn as_json(view: &pb::GetAccount360Response) -> Value {
    let pool = DescriptorPool::decode(crm_proto::FILE_DESCRIPTOR_SET).unwrap();
    let descriptor = pool
        .get_message_by_name("crm.gateway.v1.GetAccount360Response")
        .unwrap();
    let message = DynamicMessage::decode(descriptor, view.encode_to_vec().as_slice()).unwrap();
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .skip_default_fields(false);
    message
        .serialize_with_options(serde_json::value::Serializer, &options)
        .unwrap()
}

#[tokio::test]
async fn the_account_360_view_holds_what_each_caller_may_see_with_roles_and_figures() {
    let app = TestApp::spawn(&[
        crm_gateway::module(),
        crm_accounts::module(),
        crm_opportunities::module(),
    ])
    .await;
    let suite = Suite::start(app).await;
    let ada = user("admin", "/northwind/");
    let ravi = user("rep", EAST_1);
    let nora = user("rep", EAST_1);
    let mei = user("manager", EAST);

    let contoso = suite.create_account(&ravi, "Contoso Ltd").await;
    let li = suite
        .create_contact(&ravi, &contoso.id, "Li Wei", BuyingRole::Champion)
        .await;
    let zhang = suite
        .create_contact(&ravi, &contoso.id, "Zhang Min", BuyingRole::Unspecified)
        .await;
    let chen = suite
        .create_contact(&ravi, &contoso.id, "Chen Jing", BuyingRole::EconomicBuyer)
        .await;
    let xu = suite
        .create_contact(&ravi, &contoso.id, "Xu Ming", BuyingRole::Unspecified)
        .await;
    // Another account's contact and deal stay out of the view.
    let fabrikam = suite.create_account(&ravi, "Fabrikam").await;
    suite
        .create_contact(&ravi, &fabrikam.id, "Wu Fang", BuyingRole::Champion)
        .await;

    // Made while the organisation has no corporate currency: it has no corporate amount, so it
    // is unpriced in the figures (once there is one, a deal needs a rate for its currency).
    let service = suite
        .create_deal(
            &ravi,
            &contoso.id,
            "Service contract",
            money("EUR", "10000.00"),
            "2027-03-31",
        )
        .await;
    // The organisation reports in CNY; deals are priced once the opportunities service knows.
    OrgServiceClient::new(suite.app.channel().await)
        .update_org_settings(authorized(
            pb::UpdateOrgSettingsRequest {
                corporate_currency: Some("CNY".into()),
                ..Default::default()
            },
            &suite.app.token(&ada),
        ))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(15),
        "the opportunities service knows the corporate currency",
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM org_settings WHERE corporate_currency = 'CNY'",
            )
            .fetch_one(suite.app.pool("opportunities"))
            .await
            .unwrap()
                == 1
        },
    )
    .await;

    let line_3 = suite
        .create_deal(
            &ravi,
            &contoso.id,
            "Line 3 automation",
            money("CNY", "1200000.00"),
            "2027-01-30",
        )
        .await;
    let spares = suite
        .create_deal(
            &ravi,
            &contoso.id,
            "Spare parts",
            money("CNY", "350000.50"),
            "2026-12-15",
        )
        .await;
    let retrofit = suite
        .create_deal(
            &ravi,
            &contoso.id,
            "Old retrofit",
            money("CNY", "50000.00"),
            "2026-12-31",
        )
        .await;
    // Mei's own deal on Ravi's account: hers to see, not his.
    let pilot = suite
        .create_deal(
            &mei,
            &contoso.id,
            "Pilot cell",
            money("CNY", "90000.00"),
            "2027-02-15",
        )
        .await;
    suite
        .create_deal(
            &ravi,
            &fabrikam.id,
            "Fabrikam pumps",
            money("CNY", "1.00"),
            "2027-01-01",
        )
        .await;

    suite
        .set_committee(
            &ravi,
            &line_3,
            &[
                (&li, BuyingRole::Champion, Attitude::Supporter),
                (&zhang, BuyingRole::DecisionMaker, Attitude::Favourable),
                (&xu, BuyingRole::Blocker, Attitude::Opponent),
            ],
        )
        .await;
    suite
        .set_committee(
            &ravi,
            &spares,
            &[(&zhang, BuyingRole::Influencer, Attitude::Neutral)],
        )
        .await;
    suite
        .set_committee(
            &mei,
            &pilot,
            &[(&chen, BuyingRole::EconomicBuyer, Attitude::Sceptical)],
        )
        .await;
    // Xu leaves: no longer a contact of the view, still on Line 3's committee.
    suite
        .accounts
        .clone()
        .archive_contact(authorized(
            accounts::ArchiveContactRequest {
                contact_id: xu.id.clone(),
                expected_version: 0,
            },
            &suite.app.token(&ravi),
        ))
        .await
        .unwrap();
    // Won first, then lost: the lost one is the newest close.
    suite
        .deals
        .clone()
        .mark_won(authorized(
            deals::MarkWonRequest {
                opportunity_id: spares.id.clone(),
                close_reason_id: WON_FOR_PRODUCT_FIT.into(),
                ..Default::default()
            },
            &suite.app.token(&ravi),
        ))
        .await
        .unwrap();
    suite
        .deals
        .clone()
        .mark_lost(authorized(
            deals::MarkLostRequest {
                opportunity_id: retrofit.id.clone(),
                close_reason_id: LOST_TO_COMPETITOR.into(),
                ..Default::default()
            },
            &suite.app.token(&ravi),
        ))
        .await
        .unwrap();

    // The deal desk: a quote of Ravi's and one of Mei's, and Ravi's call on the account.
    let ravi_quote = suite.quote(&ravi, &line_3, "10").await;
    let mei_quote = suite.quote(&mei, &pilot, "4").await;
    let call = suite
        .log_call(&ravi, &contoso.id, "Budget call with Li Wei")
        .await;

    // Ravi's view: his four deals, not Mei's.
    let view = suite.view(&ravi, &contoso.id).await.unwrap();

    let line_3 = suite.get_deal(&ravi, &line_3.id).await;
    let spares = suite.get_deal(&ravi, &spares.id).await;
    let service = suite.get_deal(&ravi, &service.id).await;
    let retrofit = suite.get_deal(&ravi, &retrofit.id).await;
    assert_eq!(spares.status(), OpportunityStatus::Won);
    assert_eq!(retrofit.status(), OpportunityStatus::Lost);
    assert_eq!(
        view.account,
        Some(suite.get_account(&ravi, &contoso.id).await)
    );
    let names: Vec<&str> = view.contacts.iter().map(|c| c.full_name.as_str()).collect();
    assert_eq!(
        names,
        ["Chen Jing", "Li Wei", "Zhang Min"],
        "active ones, by name"
    );
    assert_eq!(view.contacts, [chen.clone(), li.clone(), zhang.clone()]);
    // Soonest expected close first; newest close first.
    assert_eq!(view.open_opportunities, [line_3.clone(), service.clone()]);
    assert_eq!(
        view.closed_opportunities,
        [retrofit.clone(), spares.clone()]
    );
    let xu_on_line_3 = pb::BuyingRoleView {
        contact_id: xu.id.clone(),
        contact_name: "Xu Ming".into(),
        buying_role: BuyingRole::Unspecified.into(),
        deal_roles: vec![place(&line_3, BuyingRole::Blocker, Attitude::Opponent)],
    };
    assert_eq!(
        view.buying_roles,
        [
            // Her own role; the committee she is on is Mei's deal, out of Ravi's sight.
            role_view(&chen, vec![]),
            role_view(
                &li,
                vec![place(&line_3, BuyingRole::Champion, Attitude::Supporter)]
            ),
            role_view(
                &zhang,
                vec![
                    place(&line_3, BuyingRole::DecisionMaker, Attitude::Favourable),
                    place(&spares, BuyingRole::Influencer, Attitude::Neutral),
                ],
            ),
            xu_on_line_3.clone(),
        ]
    );
    assert_eq!(
        view.summary,
        Some(pb::AccountSummary {
            corporate_currency: "CNY".into(),
            open_deals: 2,
            // Line 3 only: the service contract has no corporate amount.
            open_amount: money("CNY", "1200000"),
            open_deals_unpriced: 1,
            won_deals: 1,
            won_amount: money("CNY", "350000.5"),
            won_deals_unpriced: 0,
            lost_deals: 1,
            win_rate: "0.5000".into(),
        })
    );
    assert!(!view.contacts_truncated && !view.opportunities_truncated);
    // His deal desk, as the opportunities service shows it to him: his quote, not Mei's.
    let desk = view.deal_desk.clone().unwrap();
    assert_eq!(desk.account_id, contoso.id);
    assert_eq!(desk.quotes, std::slice::from_ref(&ravi_quote));
    assert_eq!(desk.activities, std::slice::from_ref(&call));
    assert!(desk.payments.is_empty() && desk.expenses.is_empty() && desk.plans.is_empty());

    // Over HTTP, the same view, transcoded.
    let http = HttpClient::new(suite.app.http_url());
    let reply = http
        .get(
            &format!("/v1/accountViews/{}", contoso.id),
            Some(&suite.app.token(&ravi)),
        )
        .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert_eq!(body, as_json(&view));
    assert_eq!(
        body["summary"],
        json!({
            "corporate_currency": "CNY",
            "open_deals": 2,
            "open_amount": {"currency_code": "CNY", "amount": "1200000"},
            "open_deals_unpriced": 1,
            "won_deals": 1,
            "won_amount": {"currency_code": "CNY", "amount": "350000.5"},
            "won_deals_unpriced": 0,
            "lost_deals": 1,
            "win_rate": "0.5000",
        })
    );
    assert_eq!(
        body["buying_roles"][3],
        json!({
            "contact_id": xu.id,
            "contact_name": "Xu Ming",
            "buying_role": "BUYING_ROLE_UNSPECIFIED",
            "deal_roles": [{
                "opportunity_id": line_3.id,
                "opportunity_name": "Line 3 automation",
                "opportunity_status": "OPPORTUNITY_STATUS_OPEN",
                "role": "BUYING_ROLE_BLOCKER",
                "attitude": "ATTITUDE_OPPONENT",
            }],
        })
    );

    // Nora, a rep of the same team, cannot see Ravi's account: NOT_FOUND, as from accounts.
    let refused = suite.view(&nora, &contoso.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    let refused = http
        .get(
            &format!("/v1/accountViews/{}", contoso.id),
            Some(&suite.app.token(&nora)),
        )
        .await;
    assert_eq!(refused.status, 404);
    let unknown = suite
        .view(&ravi, &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = suite.view(&ravi, "contoso").await.unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(
        malformed
            .get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "account_id"
    );

    // Mei, the team's manager, sees Ravi's deals and her own, and Chen's place on hers.
    let view = suite.view(&mei, &contoso.id).await.unwrap();
    let pilot = suite.get_deal(&mei, &pilot.id).await;
    assert_eq!(view.contacts, [chen.clone(), li.clone(), zhang.clone()]);
    assert_eq!(
        view.open_opportunities,
        [line_3.clone(), pilot.clone(), service.clone()]
    );
    assert_eq!(view.closed_opportunities, [retrofit, spares.clone()]);
    assert_eq!(
        view.buying_roles[0],
        role_view(
            &chen,
            vec![place(
                &pilot,
                BuyingRole::EconomicBuyer,
                Attitude::Sceptical
            )]
        )
    );
    assert_eq!(view.buying_roles[3], xu_on_line_3);
    let summary = view.summary.unwrap();
    assert_eq!(
        (
            summary.open_deals,
            summary.open_amount,
            summary.open_deals_unpriced
        ),
        (3, money("CNY", "1290000"), 1)
    );
    assert_eq!(summary.win_rate, "0.5000");
    let desk = view.deal_desk.unwrap();
    let numbers: Vec<&str> = desk.quotes.iter().map(|q| q.number.as_str()).collect();
    assert_eq!(
        numbers,
        [mei_quote.number.as_str(), ravi_quote.number.as_str()],
        "the newest first"
    );
    assert_eq!(desk.activities, [call]);
}

#[tokio::test]
async fn an_unreachable_opportunities_service_makes_the_view_503_with_retry_after() {
    let app = TestApp::spawn_with(
        &[crm_gateway::module(), crm_accounts::module()],
        &crm_test_support::nats_url(),
        &[("CRM_GATEWAY_UPSTREAM_OPPORTUNITIES", "http://127.0.0.1:1")],
    )
    .await;
    let suite = Suite::start(app).await;
    let ravi = user("rep", EAST_1);
    let contoso = suite.create_account(&ravi, "Contoso Ltd").await;

    let refused = suite.view(&ravi, &contoso.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(refused.get_error_details().retry_info().is_some());

    let reply = HttpClient::new(suite.app.http_url())
        .get(
            &format!("/v1/accountViews/{}", contoso.id),
            Some(&suite.app.token(&ravi)),
        )
        .await;
    assert_eq!(
        reply.status,
        503,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let retry_after: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after >= 1);
    assert_eq!(reply.json()["code"], "UNAVAILABLE");
}
