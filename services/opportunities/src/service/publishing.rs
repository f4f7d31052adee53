//! The deal events (proto/crm/opportunities/v1/events.proto): every one carries the deal's full
//! state after the change and its version, written to the outbox in the change's transaction.

use crm_platform::{outbox::Outbox, time::to_timestamp};
use crm_proto::crm::opportunities::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    convert,
    domain::{
        CorporateAmount,
        opportunity::{CloseOutcome, Opportunity, OpportunityStatus, RevenueSplit},
        pipeline::{Pipeline, Stage},
    },
};

/// What happened to a deal, with what the event adds beyond the deal's state.
pub(crate) enum DealEvent<'a> {
    Created,
    StageChanged {
        from: &'a Stage,
        seconds_in_from: u64,
    },
    AmountChanged {
        previous: crm_platform::money::Money,
        previous_corporate: Option<CorporateAmount>,
    },
    CloseDateChanged {
        previous: chrono::NaiveDate,
    },
    OwnerChanged {
        previous_owner: Uuid,
        previous_team_path: String,
    },
    SplitsChanged {
        previous: &'a [RevenueSplit],
    },
    Updated {
        fields: Vec<String>,
    },
    Won {
        from: &'a Stage,
    },
    Lost {
        from: &'a Stage,
    },
    Reopened {
        previous_status: OpportunityStatus,
        previous_outcome: &'a CloseOutcome,
        reason: &'a str,
    },
    Archived {
        previous_status: OpportunityStatus,
    },
}

/// Writes the event to the outbox (aggregate "opportunity", the deal's version).
pub(crate) async fn publish(
    outbox: &Outbox,
    connection: &mut PgConnection,
    deal: &Opportunity,
    pipeline: &Pipeline,
    changed_by: Option<Uuid>,
    event: DealEvent<'_>,
) -> sqlx::Result<()> {
    let opportunity = Some(convert::opportunity(deal, pipeline));
    let change = Some(pb::ChangeContext {
        changed_by: changed_by.map(|id| id.to_string()).unwrap_or_default(),
        occurred_at: Some(to_timestamp(deal.updated_at)),
    });
    macro_rules! enqueue {
        ($message:expr) => {
            outbox
                .enqueue_for(connection, "opportunity", deal.id, deal.version, &$message)
                .await
                .map(drop)
        };
    }
    match event {
        DealEvent::Created => enqueue!(pb::OpportunityCreated {
            opportunity,
            change
        }),
        DealEvent::StageChanged {
            from,
            seconds_in_from,
        } => enqueue!(pb::OpportunityStageChanged {
            opportunity,
            change,
            from_stage: Some(convert::stage_summary(from)),
            seconds_in_from_stage: seconds_in_from,
        }),
        DealEvent::AmountChanged {
            previous,
            previous_corporate,
        } => enqueue!(pb::OpportunityAmountChanged {
            opportunity,
            change,
            previous_amount: Some(previous.to_message()),
            previous_corporate_amount: previous_corporate.as_ref().map(convert::corporate_amount),
        }),
        DealEvent::CloseDateChanged { previous } => enqueue!(pb::OpportunityCloseDateChanged {
            opportunity,
            change,
            previous_close_date: previous.to_string(),
        }),
        DealEvent::OwnerChanged {
            previous_owner,
            previous_team_path,
        } => enqueue!(pb::OpportunityOwnerChanged {
            opportunity,
            change,
            previous_owner_id: previous_owner.to_string(),
            previous_owner_team_path: previous_team_path,
        }),
        DealEvent::SplitsChanged { previous } => enqueue!(pb::OpportunitySplitsChanged {
            opportunity,
            change,
            previous_splits: convert::splits(previous),
        }),
        DealEvent::Updated { fields } => enqueue!(pb::OpportunityUpdated {
            opportunity,
            change,
            changed_fields: fields,
        }),
        DealEvent::Won { from } => enqueue!(pb::OpportunityWon {
            opportunity,
            change,
            from_stage: Some(convert::stage_summary(from)),
        }),
        DealEvent::Lost { from } => enqueue!(pb::OpportunityLost {
            opportunity,
            change,
            from_stage: Some(convert::stage_summary(from)),
        }),
        DealEvent::Reopened {
            previous_status,
            previous_outcome,
            reason,
        } => enqueue!(pb::OpportunityReopened {
            opportunity,
            change,
            previous_status: convert::status(previous_status).into(),
            previous_outcome: Some(convert::close_outcome(previous_outcome)),
            reason: reason.to_owned(),
        }),
        DealEvent::Archived { previous_status } => enqueue!(pb::OpportunityArchived {
            opportunity,
            change,
            previous_status: convert::status(previous_status).into(),
        }),
    }
}
