//! A deal's moves through its pipeline (O3, O4): stage changes with exit criteria enforced on
//! every move forward, win and loss with a reason from the list, reopen, archive. Each move
//! closes the current stay, opens the next, rolls both up for the funnel, audits and publishes.

use crm_platform::{
    auth::{Caller, Role},
    money::Money,
};
use crm_proto::crm::opportunities::v1::CompetitorStatus;
use uuid::Uuid;

use super::{
    DealEvent, Opportunities, Result, change::Change, changeable, deals::pipeline_of,
    to_corporate_required,
};
use crate::{
    domain::{
        criteria,
        opportunity::{self, CloseOutcome, FieldChange, Opportunity, OpportunityStatus},
        pipeline::{Pipeline, Stage, StageKind},
    },
    error::OpportunitiesError,
    store::{self, history::ExitKind},
};

/// What a win or a loss says.
#[derive(Debug, Clone)]
pub struct Close {
    pub close_reason_id: Uuid,
    pub note: String,
    /// Wins: the final amount, when it differs.
    pub final_amount: Option<Money>,
    /// Losses: the competitor on the deal that won it.
    pub lost_to_competitor_id: Option<Uuid>,
}

/// Refuses a move forward that leaves stages with unmet exit criteria, naming every field.
fn check_exit_criteria(
    deal: &Opportunity,
    pipeline: &Pipeline,
    from: &Stage,
    to_position: u32,
) -> Result<()> {
    let passed = pipeline.stages_passed(from, to_position);
    let missing = criteria::unmet(
        deal,
        passed
            .iter()
            .map(|stage| (stage.name.as_str(), stage.exit_criteria.as_slice())),
    );
    if missing.is_empty() {
        return Ok(());
    }
    Err(OpportunitiesError::ExitCriteriaNotMet {
        stage: from.name.clone(),
        missing,
    })
}

impl Opportunities {
    pub async fn change_stage(
        &self,
        caller: &Caller,
        id: Uuid,
        stage_id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked(
                &mut transaction,
                caller,
                id,
                expected_version,
                "moved to another stage",
            )
            .await?;
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        let from = current_stage(&pipeline, &current)?;
        let Some(to) = pipeline
            .stage(stage_id)
            .filter(|stage| stage.is_open() && !stage.retired)
        else {
            return Err(OpportunitiesError::unusable_reference(
                "stage_id",
                "is not an open stage in use of the deal's pipeline (win and loss have their own calls)",
            ));
        };
        if to.id == from.id {
            return Ok((current, pipeline));
        }
        let forward = to.position > from.position;
        if forward {
            check_exit_criteria(&current, &pipeline, from, to.position)?;
        }
        let now = crm_platform::time::now();
        let exit = if forward {
            ExitKind::MovedForward
        } else {
            ExitKind::MovedBack
        };
        let seconds = store::history::exit_stage(
            &mut transaction,
            &current,
            from,
            now,
            Some(caller.user_id),
            exit,
        )
        .await?;
        let mut next = current.clone();
        next.stage_id = to.id;
        next.stage_entered_at = now;
        next.effective_probability =
            opportunity::effective_probability(next.probability_override, to.default_probability);
        store::history::enter_stage(&mut transaction, &next, to, now, Some(caller.user_id)).await?;
        let changed = vec![FieldChange::new("stage", &from.name, &to.name)];
        let events = vec![DealEvent::StageChanged {
            from,
            seconds_in_from: seconds,
        }];
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "stage_changed",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    pub async fn mark_won(
        &self,
        caller: &Caller,
        id: Uuid,
        close: Close,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        self.close(caller, id, close, expected_version, StageKind::Won)
            .await
    }

    pub async fn mark_lost(
        &self,
        caller: &Caller,
        id: Uuid,
        close: Close,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        self.close(caller, id, close, expected_version, StageKind::Lost)
            .await
    }

    async fn close(
        &self,
        caller: &Caller,
        id: Uuid,
        close: Close,
        expected_version: Option<i64>,
        kind: StageKind,
    ) -> Result<(Opportunity, Pipeline)> {
        let won = kind == StageKind::Won;
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked(
                &mut transaction,
                caller,
                id,
                expected_version,
                if won { "won" } else { "lost" },
            )
            .await?;
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        let from = current_stage(&pipeline, &current)?;
        let Some(to) = pipeline.closing_stage(kind) else {
            return Err(OpportunitiesError::unusable_reference(
                "opportunity_id",
                "is in a pipeline without a closing stage in use",
            ));
        };
        let label =
            match store::pipelines::close_reason(&mut transaction, close.close_reason_id).await? {
                Some((outcome, label, false)) if outcome == if won { 1 } else { 2 } => label,
                _ => {
                    return Err(OpportunitiesError::unusable_reference(
                        "close_reason_id",
                        format!(
                            "is not a {} reason in use",
                            if won { "won" } else { "lost" }
                        ),
                    ));
                }
            };
        let mut next = current.clone();
        if let Some(amount) = close.final_amount
            && next.line_items.is_empty()
        {
            next.amount = amount;
        }
        if won {
            // A win leaves the last open stage forward: its criteria, and those of the stages
            // it skips, apply. A loss can happen from anywhere.
            check_exit_criteria(&next, &pipeline, from, to.position)?;
        }
        if let Some(competitor) = close.lost_to_competitor_id
            && !next
                .competitors
                .iter()
                .any(|known| known.competitor_id == competitor)
        {
            return Err(OpportunitiesError::unusable_reference(
                "lost_to_competitor_id",
                "is not a competitor on the deal",
            ));
        }
        let now = crm_platform::time::now();
        // The close freezes the corporate amount at the close day's rate.
        next.corporate =
            to_corporate_required(&mut transaction, &next.amount, now.date_naive()).await?;
        for competitor in &mut next.competitors {
            if won && competitor.status == CompetitorStatus::Active {
                competitor.status = CompetitorStatus::WonAgainst;
            }
            if Some(competitor.competitor_id) == close.lost_to_competitor_id {
                competitor.status = CompetitorStatus::LostTo;
            }
        }
        let exit = if won { ExitKind::Won } else { ExitKind::Lost };
        store::history::exit_stage(
            &mut transaction,
            &current,
            from,
            now,
            Some(caller.user_id),
            exit,
        )
        .await?;
        next.status = if won {
            OpportunityStatus::Won
        } else {
            OpportunityStatus::Lost
        };
        next.stage_id = to.id;
        next.stage_entered_at = now;
        next.closed_from_stage_id = Some(from.id);
        next.effective_probability = to.default_probability;
        next.outcome = Some(CloseOutcome {
            close_reason_id: close.close_reason_id,
            close_reason_label: label.clone(),
            note: close.note.clone(),
            lost_to_competitor_id: close.lost_to_competitor_id,
            closed_on: now.date_naive(),
            closed_at: now,
            closed_by: Some(caller.user_id),
        });
        store::history::enter_stage(&mut transaction, &next, to, now, Some(caller.user_id)).await?;
        let mut changed = vec![
            FieldChange::new("stage", &from.name, &to.name),
            FieldChange::new("status", current.status, next.status),
            FieldChange::new("close_reason", "", &label),
        ];
        if next.amount != current.amount {
            changed.push(FieldChange::new(
                "amount",
                opportunity::money_text(&current.amount),
                opportunity::money_text(&next.amount),
            ));
        }
        let event = if won {
            DealEvent::Won { from }
        } else {
            DealEvent::Lost { from }
        };
        let action = if won { "won" } else { "lost" };
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action,
                    fields: changed,
                    comment: &close.note,
                    events: vec![event],
                },
            )
            .await?;
        store::history::roll_up_outcome(&mut transaction, &deal, won, 1).await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    pub async fn reopen(
        &self,
        caller: &Caller,
        id: Uuid,
        stage_id: Option<Uuid>,
        reason: String,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        if caller.role == Role::Rep {
            return Err(OpportunitiesError::permission_denied(
                "only managers and admins may reopen a closed deal",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let deal = store::deals::get_deal(&mut transaction, id, true)
            .await?
            .map(|(deal, _)| deal);
        let current = changeable(
            caller,
            id,
            deal,
            expected_version,
            &[OpportunityStatus::Won, OpportunityStatus::Lost],
            "reopened",
        )?;
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        let closing = current_stage(&pipeline, &current)?;
        let target = stage_id.or(current.closed_from_stage_id);
        let Some(to) = target
            .and_then(|id| pipeline.stage(id))
            .filter(|stage| stage.is_open() && !stage.retired)
            .or_else(|| {
                stage_id
                    .is_none()
                    .then(|| pipeline.first_open_stage())
                    .flatten()
            })
        else {
            return Err(OpportunitiesError::unusable_reference(
                "stage_id",
                "is not an open stage in use of the deal's pipeline",
            ));
        };
        let now = crm_platform::time::now();
        let was_won = current.status == OpportunityStatus::Won;
        store::history::roll_up_outcome(&mut transaction, &current, was_won, -1).await?;
        store::history::exit_stage(
            &mut transaction,
            &current,
            closing,
            now,
            Some(caller.user_id),
            ExitKind::Reopened,
        )
        .await?;
        let mut next = current.clone();
        next.status = OpportunityStatus::Open;
        next.stage_id = to.id;
        next.stage_entered_at = now;
        next.outcome = None;
        next.closed_from_stage_id = None;
        next.effective_probability =
            opportunity::effective_probability(next.probability_override, to.default_probability);
        for competitor in &mut next.competitors {
            competitor.status = CompetitorStatus::Active;
        }
        store::history::enter_stage(&mut transaction, &next, to, now, Some(caller.user_id)).await?;
        let changed = vec![
            FieldChange::new("stage", &closing.name, &to.name),
            FieldChange::new("status", current.status, next.status),
        ];
        let previous_outcome = current
            .outcome
            .clone()
            .expect("a won or lost deal has its outcome");
        let event = DealEvent::Reopened {
            previous_status: current.status,
            previous_outcome: &previous_outcome,
            reason: &reason,
        };
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "reopened",
                    fields: changed,
                    comment: &reason,
                    events: vec![event],
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    pub async fn archive(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        let mut transaction = self.pool.begin().await?;
        let deal = store::deals::get_deal(&mut transaction, id, true)
            .await?
            .map(|(deal, _)| deal);
        let current = changeable(
            caller,
            id,
            deal,
            expected_version,
            &[
                OpportunityStatus::Open,
                OpportunityStatus::Won,
                OpportunityStatus::Lost,
            ],
            "archived",
        )?;
        // A closed deal carries credit: archiving it is a manager's decision.
        if current.status != OpportunityStatus::Open && caller.role == Role::Rep {
            return Err(OpportunitiesError::permission_denied(
                "only managers and admins may archive a closed deal",
            ));
        }
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        let stage = current_stage(&pipeline, &current)?;
        let now = crm_platform::time::now();
        if current.status != OpportunityStatus::Open {
            store::history::roll_up_outcome(
                &mut transaction,
                &current,
                current.status == OpportunityStatus::Won,
                -1,
            )
            .await?;
        }
        store::history::exit_stage(
            &mut transaction,
            &current,
            stage,
            now,
            Some(caller.user_id),
            ExitKind::Archived,
        )
        .await?;
        store::history::withdraw_stage_flows(&mut transaction, current.id).await?;
        let mut next = current.clone();
        next.status = OpportunityStatus::Archived;
        let changed = vec![FieldChange::new("status", current.status, next.status)];
        let event = DealEvent::Archived {
            previous_status: current.status,
        };
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "archived",
                    fields: changed,
                    comment: "",
                    events: vec![event],
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }
}

/// The deal's current stage in its pipeline.
fn current_stage<'p>(pipeline: &'p Pipeline, deal: &Opportunity) -> Result<&'p Stage> {
    pipeline.stage(deal.stage_id).ok_or_else(|| {
        OpportunitiesError::Common(crm_platform::error::CommonError::Database(
            sqlx::Error::Decode(
                format!(
                    "deal {} is in stage {} outside its pipeline",
                    deal.id, deal.stage_id
                )
                .into(),
            ),
        ))
    })
}
