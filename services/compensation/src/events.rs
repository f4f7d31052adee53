//! Events the compensation service consumes: the opportunities service's won, reopened and lost
//! deals (and deals imported already won), payments, refunds and approved expenses, into the
//! credit ledger (`compensation-ledger`,
//! one consumer, so a deal's events are applied in the order they were published); the
//! forecasting service's quotas (`compensation-quotas`); and the organisation's directory (the
//! kit's `compensation-org-directory`).

use std::sync::Arc;

use chrono::NaiveDate;
use crm_platform::{
    consumer::{ConsumerSpec, EventHandler, HandlerError, HandlerFuture, ReceivedEvent},
    deals::read,
    events::DomainEvent,
    money::{Money, Sign},
    org,
};
use crm_proto::crm::{
    forecasting::v1::{QuotaSet, TargetKind, resolved_scope, target_value},
    opportunities::v1::{
        ChangeContext, ExpenseApproved, Opportunity, OpportunityCreated, OpportunityLost,
        OpportunityReopened, OpportunityStatus, OpportunityWon, PaymentReceived, PaymentRefunded,
    },
};
use sqlx::PgConnection;

use crate::{domain::ledger, service, store::quotas::RepQuota};

pub(crate) fn ledger() -> ConsumerSpec {
    ConsumerSpec {
        name: "compensation-ledger".to_owned(),
        producer: "opportunities".to_owned(),
        subjects: vec![
            OpportunityCreated::subject(),
            OpportunityWon::subject(),
            OpportunityReopened::subject(),
            OpportunityLost::subject(),
            PaymentReceived::subject(),
            PaymentRefunded::subject(),
            ExpenseApproved::subject(),
        ],
    }
}

pub(crate) struct LedgerHandler;

impl LedgerHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

/// What the producer sent is as bad on every delivery.
fn permanent(error: String) -> HandlerError {
    HandlerError::Permanent(anyhow::anyhow!("{error}"))
}

/// The day a deal change happened, for its reversal: when the change occurred, else when the
/// deal was last updated.
fn change_day(
    change: Option<&ChangeContext>,
    opportunity: &Opportunity,
) -> Result<NaiveDate, HandlerError> {
    change
        .and_then(|change| change.occurred_at.as_ref())
        .or(opportunity.updated_at.as_ref())
        .and_then(crm_platform::time::from_timestamp)
        .map(|at| at.date_naive())
        .ok_or_else(|| {
            permanent(
                "the event says neither when the change occurred nor when the deal was updated"
                    .into(),
            )
        })
}

/// A deal no longer won: each of its standing bookings reversed.
async fn reverse(
    connection: &mut PgConnection,
    event: &ReceivedEvent,
    opportunity: Option<&Opportunity>,
    change: Option<&ChangeContext>,
) -> Result<(), HandlerError> {
    let opportunity =
        opportunity.ok_or_else(|| permanent("event carries no opportunity".into()))?;
    let deal_id = read::id("id", &opportunity.id).map_err(permanent)?;
    let version = read::version(opportunity).map_err(permanent)?;
    let day = change_day(change, opportunity)?;
    service::ledger::reverse_bookings(connection, deal_id, version, day, event.id).await?;
    Ok(())
}

impl EventHandler for LedgerHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            let subject = event.subject.as_str();
            let credits = if subject == OpportunityCreated::subject() {
                // A deal brought in from another system already won (ImportOpportunities):
                // booked on the day it was won, as if its won event had come then. Any other
                // new deal credits nothing yet.
                let created = event.decode::<OpportunityCreated>()?;
                match created.opportunity {
                    Some(opportunity) if opportunity.status == OpportunityStatus::Won as i32 => {
                        ledger::bookings(&opportunity).map_err(permanent)?
                    }
                    _ => return Ok(()),
                }
            } else if subject == OpportunityWon::subject() {
                let won = event.decode::<OpportunityWon>()?;
                let opportunity = won
                    .opportunity
                    .ok_or_else(|| permanent("event carries no opportunity".into()))?;
                ledger::bookings(&opportunity).map_err(permanent)?
            } else if subject == OpportunityReopened::subject() {
                let reopened = event.decode::<OpportunityReopened>()?;
                return reverse(
                    connection,
                    event,
                    reopened.opportunity.as_ref(),
                    reopened.change.as_ref(),
                )
                .await;
            } else if subject == OpportunityLost::subject() {
                // Lost straight after being won takes its bookings back; lost while open (or
                // after a reopening) finds none standing.
                let lost = event.decode::<OpportunityLost>()?;
                return reverse(
                    connection,
                    event,
                    lost.opportunity.as_ref(),
                    lost.change.as_ref(),
                )
                .await;
            } else if subject == PaymentReceived::subject() {
                ledger::payment(&event.decode::<PaymentReceived>()?).map_err(permanent)?
            } else if subject == PaymentRefunded::subject() {
                ledger::refund(&event.decode::<PaymentRefunded>()?).map_err(permanent)?
            } else if subject == ExpenseApproved::subject() {
                ledger::expense(&event.decode::<ExpenseApproved>()?)
                    .map_err(permanent)?
                    .map(|credit| vec![credit])
            } else {
                return Err(org::unknown_subject(event));
            };
            match credits {
                Some(credits) => {
                    service::ledger::credit(connection, &credits, event.id).await?;
                }
                // Without a corporate amount there is nothing to credit in the plans' currency.
                None => {
                    tracing::warn!(event_id = %event.id, event_type = %event.event_type, "no corporate amount: nothing credited")
                }
            }
            Ok(())
        })
    }
}

/// Forecasting's quotas: the reps' revenue quotas attainment is measured against
/// (`compensation-quotas`).
pub(crate) fn quotas() -> ConsumerSpec {
    ConsumerSpec {
        name: "compensation-quotas".to_owned(),
        producer: "forecasting".to_owned(),
        subjects: vec![QuotaSet::subject()],
    }
}

pub(crate) struct QuotaHandler;

impl QuotaHandler {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self)
    }
}

/// A rep's revenue quota from a quota_set event; `None` for any other holder or kind.
fn rep_quota(event: &QuotaSet, version: i64) -> Result<Option<RepQuota>, String> {
    let quota = event.quota.as_ref().ok_or("event carries no quota")?;
    if quota.kind != TargetKind::Revenue as i32 {
        return Ok(None);
    }
    let Some(resolved_scope::Of::UserId(user)) =
        quota.holder.as_ref().and_then(|holder| holder.of.as_ref())
    else {
        return Ok(None);
    };
    let Some(target_value::Of::Amount(amount)) =
        quota.target.as_ref().and_then(|target| target.of.as_ref())
    else {
        return Err("a revenue quota's target is an amount".into());
    };
    let amount = Money::parse("quota.target.amount", amount, Sign::Any)
        .map_err(|violation| violation.to_string())?;
    Ok(Some(RepQuota {
        quota_id: read::id("quota.quota_id", &quota.quota_id)?,
        user_id: read::id("quota.holder.user_id", user)?,
        period_label: quota
            .period
            .as_ref()
            .map(|period| period.label.clone())
            .filter(|label| !label.is_empty())
            .ok_or("the quota names no period")?,
        currency: amount.currency.as_str().to_owned(),
        amount: amount.amount,
        version,
    }))
}

impl EventHandler for QuotaHandler {
    fn handle<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        event: &'a ReceivedEvent,
    ) -> HandlerFuture<'a> {
        Box::pin(async move {
            if event.subject != QuotaSet::subject() {
                return Err(org::unknown_subject(event));
            }
            let set: QuotaSet = event.decode()?;
            let version = set
                .quota
                .as_ref()
                .map_or(0, |quota| i64::try_from(quota.version).unwrap_or(i64::MAX));
            if let Some(quota) = rep_quota(&set, version).map_err(permanent)? {
                service::quotas::record(connection, &quota).await?;
            }
            Ok(())
        })
    }
}
