//! The opportunities use cases: each one a transaction that checks access, applies the domain
//! rules, writes the records, their history and audit rows and their events (outbox) together.

mod account_desk;
mod activities;
mod analytics;
mod approvals;
mod calendar;
mod calendar_feeds;
mod care;
mod change;
mod collections;
mod conversion;
mod deals;
mod expenses;
mod import;
mod lifecycle;
mod orders;
mod parts;
mod payment_reminders;
mod pipelines;
mod plans;
mod price_book;
mod publishing;
mod quote_flow;
mod quote_settings;
mod quotes;
mod receivables;
mod reminders;
mod replicas;
mod work_reports;

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, TeamPath},
    error::check_version,
    money::Money,
    org::OrgDirectory,
    outbox::Outbox,
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{
    domain::{
        CorporateAmount,
        opportunity::{Opportunity, OpportunityStatus},
    },
    error::OpportunitiesError,
};

pub use account_desk::{AccountDesk, DeskPages};
pub use activities::NewTask;
pub use calendar::CalendarEntry;
pub use calendar_feeds::{feed_path, new_feed_token};
pub use care::{CARE_REMINDERS, TemplateDraft};
pub use collections::NewPayment;
pub use deals::NewOpportunity;
pub use expenses::ExpenseOn;
pub use import::{PastOpportunity, PastStay};
pub use lifecycle::Close;
pub use orders::NewDelivery;
pub use payment_reminders::PAYMENT_REMINDERS;
pub use pipelines::{CompetitorChanges, NewPipeline, PipelineChanges};
pub use plans::{MILESTONE_CHECK, MilestoneDraft, PlanChange, PlanView, TaskDraft};
pub(crate) use publishing::DealEvent;
pub use quote_settings::QuoteSettingsChanges;
pub use quotes::{NewQuote, QuoteChanges, QuoteLineDraft};
pub use receivables::{ReceivableFilter, Receivables};
pub use reminders::{STALE_DEALS, TASK_REMINDERS};
pub(crate) use replicas::ContactCare;
pub use work_reports::{WORK_REPORTS, WhoseReport};

type Result<T> = std::result::Result<T, OpportunitiesError>;

/// The opportunities service's use cases over its database and outbox.
#[derive(Clone)]
pub struct Opportunities {
    pool: PgPool,
    outbox: Outbox,
    /// The organisation's directory: who owns what, where new deals are filed, and the
    /// corporate currency with its rates.
    directory: OrgDirectory,
}

impl Opportunities {
    pub fn new(pool: PgPool, outbox: Outbox) -> Self {
        Self {
            pool,
            outbox,
            directory: OrgDirectory::default(),
        }
    }

    /// Makes sure this service knows the caller, so deals can be given to them by id.
    async fn remember(&self, connection: &mut PgConnection, caller: &Caller) -> Result<()> {
        Ok(self.directory.remember(connection, caller).await?)
    }

    /// Who will own a deal: the caller, or (managers and admins) a user in their reach.
    async fn resolve_owner(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        requested: Option<Uuid>,
        field: &str,
    ) -> Result<(Uuid, TeamPath)> {
        Ok(crm_platform::ownership::resolve_owner(
            &self.directory,
            connection,
            caller,
            requested,
            field,
        )
        .await?)
    }
}

/// The amount in the corporate currency on `on`, as the organisation's rates say (`None`
/// without a corporate currency or a rate).
async fn to_corporate(
    connection: &mut PgConnection,
    amount: &Money,
    on: NaiveDate,
) -> Result<Option<CorporateAmount>> {
    Ok(OrgDirectory::to_corporate(&mut *connection, amount, on).await?)
}

/// Like [`to_corporate`] for a change a user makes: a deal in a currency other than the
/// corporate one needs a rate, or the change is refused (so events never lack the corporate
/// amount for a user's write while a corporate currency is set).
async fn to_corporate_required(
    connection: &mut PgConnection,
    amount: &Money,
    on: NaiveDate,
) -> Result<Option<CorporateAmount>> {
    let converted = to_corporate(connection, amount, on).await?;
    if converted.is_none()
        && let Some(corporate) = OrgDirectory::settings(&mut *connection)
            .await?
            .corporate_currency
    {
        return Err(OpportunitiesError::NoExchangeRate {
            currency: amount.currency.to_string(),
            corporate: corporate.to_string(),
            on,
        });
    }
    Ok(converted)
}

/// The deal if the caller may see it; a deal out of reach looks like one that does not exist,
/// and so does an archived one.
pub(crate) fn visible(caller: &Caller, id: Uuid, deal: Option<Opportunity>) -> Result<Opportunity> {
    match deal {
        Some(deal)
            if caller.can_access(deal.owner_id, &deal.owner_team_path)
                || deal.names_member(caller.user_id) =>
        {
            Ok(deal)
        }
        _ => Err(OpportunitiesError::not_found("opportunity", id)),
    }
}

/// A deal the caller may change: in their reach (their own, their team subtree's as a
/// manager, any as an admin). A member of its team or splits reads it but changes nothing:
/// PERMISSION_DENIED, as the deal is no secret to them.
fn in_reach(caller: &Caller, id: Uuid, deal: Option<Opportunity>) -> Result<Opportunity> {
    let deal = visible(caller, id, deal)?;
    if caller.can_access(deal.owner_id, &deal.owner_team_path) {
        Ok(deal)
    } else {
        Err(OpportunitiesError::permission_denied(
            "the deal's team and split members read the deal; its owner, their managers and admins change it",
        ))
    }
}

/// A (locked) deal the caller may change: visible, at the expected version, in one of the
/// statuses the action allows.
pub(crate) fn changeable(
    caller: &Caller,
    id: Uuid,
    deal: Option<Opportunity>,
    expected_version: Option<i64>,
    allowed: &[OpportunityStatus],
    action: &'static str,
) -> Result<Opportunity> {
    let deal = in_reach(caller, id, deal)?;
    check_version("opportunity", id, expected_version, deal.version)?;
    if !allowed.contains(&deal.status) {
        return Err(OpportunitiesError::NotAllowedInStatus {
            id,
            status: deal.status,
            action,
        });
    }
    Ok(deal)
}
