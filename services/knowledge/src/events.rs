//! Events the knowledge service consumes: every deal event of the opportunities service
//! (`knowledge-deals`), each carrying the deal's full state, kept by version for
//! recommendations, attachments and content influence; the accounts service's accounts
//! (`knowledge-accounts`) for their industries; and the organisation's directory
//! (`knowledge-org-directory`), whose lifecycle stages give new reps the onboarding track.

use std::sync::Arc;

use crm_platform::{
    auth::TeamPath,
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    deals::{self, read},
    org::{OrgChange, OrgFollower},
};
use crm_proto::crm::{common::v1::LifecycleStage, opportunities::v1::Opportunity};
use sqlx::PgConnection;

use crate::store::{self, deals::DealRecord, training::UserStage};

pub(crate) fn deals() -> ConsumerSpec {
    deals::consumer_spec("knowledge-deals")
}

pub(crate) fn accounts() -> ConsumerSpec {
    crm_platform::accounts::consumer_spec("knowledge-accounts")
}

/// What the producer sent is as bad on every delivery.
fn permanent(error: String) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{error}"))
}

/// What the service keeps of a deal's state.
fn deal_record(opportunity: Opportunity) -> Result<DealRecord, HandlerError> {
    let id = read::id("id", &opportunity.id).map_err(permanent)?;
    let account_id = read::id("account_id", &opportunity.account_id).map_err(permanent)?;
    let owner_id = read::id("owner_id", &opportunity.owner_id).map_err(permanent)?;
    let owner_team_path = TeamPath::parse(&opportunity.owner_team_path)
        .map_err(|error| permanent(format!("opportunity.owner_team_path: {error}")))?;
    let status = read::status(&opportunity).map_err(permanent)?;
    let version = read::version(&opportunity).map_err(permanent)?;
    let (stage_id, stage_name) = match &opportunity.stage {
        Some(stage) if !stage.stage_id.is_empty() => (
            Some(read::id("stage.stage_id", &stage.stage_id).map_err(permanent)?),
            stage.name.clone(),
        ),
        _ => (None, String::new()),
    };
    let mut competitor_ids = Vec::new();
    let mut competitor_names = Vec::new();
    for competitor in &opportunity.competitors {
        competitor_ids.push(
            read::id("competitors.competitor_id", &competitor.competitor_id).map_err(permanent)?,
        );
        competitor_names.push(competitor.competitor_name.clone());
    }
    let mut product_codes: Vec<String> = Vec::new();
    for line in &opportunity.line_items {
        let code = line.product_code.trim();
        if !code.is_empty()
            && !product_codes
                .iter()
                .any(|kept| kept.eq_ignore_ascii_case(code))
        {
            product_codes.push(code.to_owned());
        }
    }
    Ok(DealRecord {
        id,
        version,
        name: opportunity.name,
        account_id,
        owner_id,
        owner_team_path,
        stage_id,
        stage_name,
        status,
        competitor_ids,
        competitor_names,
        product_codes,
    })
}

/// Keeps what the service knows of deals.
pub(crate) struct DealHandler;

impl DealHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl EventHandler for DealHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let deal = deal_record(deals::state(event)?)?;
            store::deals::record_deal(connection, &deal).await?;
            Ok(())
        })
    }
}

/// Keeps accounts' industries.
pub(crate) struct AccountHandler;

impl AccountHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl EventHandler for AccountHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let account = crm_platform::accounts::state(event)?;
            let (account_id, version) = crm_platform::accounts::identity(&account)?;
            store::deals::record_industry(connection, account_id, version, account.industry.trim())
                .await?;
            Ok(())
        })
    }
}

/// Keeps each user's lifecycle stage, and gives an active rep who is (or becomes) new every
/// onboarding course they do not have.
pub(crate) struct Onboarding;

fn stage_name(stage: LifecycleStage) -> &'static str {
    match stage {
        LifecycleStage::New => "new",
        LifecycleStage::Established => "established",
        LifecycleStage::Senior => "senior",
        LifecycleStage::Unspecified => "unspecified",
    }
}

impl OrgFollower for Onboarding {
    fn follow<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        change: &'a OrgChange,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let user = change.user();
            let rep = user.role == crm_platform::auth::Role::Rep;
            let applied = store::training::record_stage(
                connection,
                UserStage {
                    user_id: user.user_id,
                    version: user.version,
                    stage: stage_name(user.stage),
                    rep,
                    active: user.active,
                },
            )
            .await?;
            if applied && rep && user.active && user.stage == LifecycleStage::New {
                let now = crm_platform::time::now();
                for course_id in store::training::onboarding_courses(&mut *connection).await? {
                    store::training::enroll(
                        connection,
                        course_id,
                        &[user.user_id],
                        store::training::Source::Onboarding,
                        now,
                    )
                    .await?;
                }
            }
            Ok(())
        })
    }
}
