//! Deals brought in from another system with their past (ImportOpportunities): the stays as
//! they happened, the outcome and the creation time, written with the same history, roll-up
//! and audit rows a deal that lived here would have, and announced as `OpportunityCreated`.

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::{Caller, Role},
    error::Violations,
    org::OrgDirectory,
};
use crm_proto::crm::opportunities::v1::CompetitorStatus;
use uuid::Uuid;

use super::{
    DealEvent, NewOpportunity, Opportunities, Result,
    deals::{no_currency, usable_account},
    price_book::priced_line_items,
    publishing::publish,
    to_corporate,
};
use crate::{
    domain::{
        opportunity::{self, CloseOutcome, DealCompetitor, Opportunity, OpportunityStatus},
        pipeline::StageKind,
        price_book::InactiveProducts,
    },
    error::OpportunitiesError,
    store::{self, history::ExitKind},
};

/// One stay of an imported deal.
#[derive(Debug, Clone)]
pub struct PastStay {
    pub stage_id: Uuid,
    pub entered_at: DateTime<Utc>,
    pub entered_by: Option<Uuid>,
}

/// A deal as another system knew it (validated in form by the grpc mapping).
#[derive(Debug, Clone)]
pub struct PastOpportunity {
    pub id: Uuid,
    pub deal: NewOpportunity,
    pub created_at: DateTime<Utc>,
    pub stays: Vec<PastStay>,
    pub close_reason_id: Option<Uuid>,
    pub close_note: String,
    pub lost_to_competitor_id: Option<Uuid>,
    pub competitors: Vec<DealCompetitor>,
}

impl Opportunities {
    /// Imports the deals in one transaction; returns (imported, skipped).
    pub async fn import_opportunities(
        &self,
        caller: &Caller,
        deals: Vec<PastOpportunity>,
    ) -> Result<(u32, u32)> {
        if caller.role != Role::Admin {
            return Err(OpportunitiesError::permission_denied(
                "only admins may import deals",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let now = crm_platform::time::now();
        let (mut imported, mut skipped) = (0, 0);
        for (index, mut past) in deals.into_iter().enumerate() {
            let at = format!("opportunities[{index}]");
            if store::deals::get_deal(&mut transaction, past.id, false)
                .await?
                .is_some()
            {
                skipped += 1;
                continue;
            }
            let owner_id = past.deal.owner_id.ok_or_else(|| {
                // Optional in the schema (a create defaults it to the caller): a refusal here.
                OpportunitiesError::from(crm_platform::error::FieldViolation::refusal(
                    crm_platform::error::reasons::INCONSISTENT_FIELDS,
                    format!("{at}.opportunity.owner_id"),
                    "is required for an imported deal",
                ))
            })?;
            let Some(owner_team_path) = OrgDirectory::team_of(&mut transaction, owner_id).await?
            else {
                return Err(OpportunitiesError::unusable_reference(
                    format!("{at}.opportunity.owner_id"),
                    "is not a user known to this service",
                ));
            };
            usable_account(
                &mut transaction,
                None,
                past.deal.account_id,
                &format!("{at}.opportunity.account_id"),
            )
            .await?;
            let pipeline_id = match past.deal.pipeline_id {
                Some(id) => Some(id),
                None => store::pipelines::default_pipeline_id(&mut transaction).await?,
            };
            let Some(pipeline) = (match pipeline_id {
                Some(id) => store::pipelines::get_pipeline(&mut transaction, id, false).await?,
                None => None,
            }) else {
                return Err(OpportunitiesError::unusable_reference(
                    format!("{at}.opportunity.pipeline_id"),
                    "is not a pipeline",
                ));
            };
            // The stays: stages of the pipeline, in time order, from creation to no later than
            // now; closing stages only last.
            let mut violations = Violations::new();
            let mut previous = past.created_at;
            for (number, stay) in past.stays.iter().enumerate() {
                let field = format!("{at}.stays[{number}]");
                match pipeline.stage(stay.stage_id) {
                    None => violations.add(
                        format!("{field}.stage_id"),
                        "is not a stage of the pipeline",
                    ),
                    Some(stage) if !stage.is_open() && number + 1 != past.stays.len() => violations
                        .add(
                            format!("{field}.stage_id"),
                            "a won or lost stage can only be the last stay",
                        ),
                    Some(_) => {}
                }
                if stay.entered_at < previous || stay.entered_at > now {
                    violations.add(
                        format!("{field}.entered_at"),
                        "must follow the creation and the stay before, and not be in the future",
                    );
                }
                previous = stay.entered_at;
            }
            if past.stays.is_empty() {
                violations.add(format!("{at}.stays"), "needs at least one stay");
            }
            opportunity::validate_competitors(&past.competitors)?;
            violations.into_result().map_err(|list| {
                crm_platform::error::as_refusals(
                    crm_platform::error::reasons::INCONSISTENT_FIELDS,
                    list,
                )
            })?;
            let last = past.stays.last().expect("checked above");
            let last_stage = pipeline
                .stage(last.stage_id)
                .expect("checked above")
                .clone();
            let status = match last_stage.kind {
                StageKind::Open => OpportunityStatus::Open,
                StageKind::Won => OpportunityStatus::Won,
                StageKind::Lost => OpportunityStatus::Lost,
            };
            // The first priced line names the currency (as before lines could leave their
            // price to the book), else the amount; list prices are those of the creation day.
            let items_field = format!("{at}.opportunity.line_items");
            let currency = past
                .deal
                .line_items
                .iter()
                .find_map(|item| item.unit_price.map(|price| price.currency))
                .or(past.deal.amount.map(|amount| amount.currency));
            let line_items = match currency {
                _ if past.deal.line_items.is_empty() => Vec::new(),
                Some(currency) => {
                    priced_line_items(
                        &mut transaction,
                        &items_field,
                        currency,
                        std::mem::take(&mut past.deal.line_items),
                        past.created_at.date_naive(),
                        InactiveProducts::Allowed,
                    )
                    .await?
                }
                None => return Err(no_currency(&format!("{items_field}[0].unit_price"))),
            };
            let amount = match (&past.deal.amount, line_items.is_empty()) {
                (_, false) => {
                    let currency = currency.expect("line items have a currency");
                    opportunity::validate_line_items(&items_field, currency, &line_items)?;
                    opportunity::line_items_amount(currency, &line_items)
                }
                (Some(amount), true) => *amount,
                (None, true) => {
                    return Err(OpportunitiesError::invalid(
                        format!("{at}.opportunity.amount"),
                        "is required unless line items are given",
                    ));
                }
            };
            let mut competitors = past.competitors.clone();
            let ids: Vec<Uuid> = competitors
                .iter()
                .map(|competitor| competitor.competitor_id)
                .collect();
            let names = store::pipelines::competitor_names(&mut transaction, &ids).await?;
            for (number, competitor) in competitors.iter_mut().enumerate() {
                match names.iter().find(|(id, _)| *id == competitor.competitor_id) {
                    Some((_, name)) => competitor.competitor_name = name.clone(),
                    None => {
                        return Err(OpportunitiesError::unusable_reference(
                            format!("{at}.competitors[{number}].competitor_id"),
                            "is not a competitor of the catalogue",
                        ));
                    }
                }
            }
            let outcome = match status {
                OpportunityStatus::Open => None,
                _ => {
                    let won = status == OpportunityStatus::Won;
                    let reason_field = format!("{at}.close_reason_id");
                    let reason_id = past.close_reason_id.ok_or_else(|| {
                        OpportunitiesError::invalid(
                            reason_field.clone(),
                            "is required for a closed deal",
                        )
                    })?;
                    let label = match store::pipelines::close_reason(&mut transaction, reason_id)
                        .await?
                    {
                        Some((outcome, label, _)) if outcome == if won { 1 } else { 2 } => label,
                        _ => {
                            return Err(OpportunitiesError::unusable_reference(
                                reason_field,
                                format!("is not a {} reason", if won { "won" } else { "lost" }),
                            ));
                        }
                    };
                    if let Some(competitor) = past.lost_to_competitor_id
                        && (won
                            || !competitors
                                .iter()
                                .any(|known| known.competitor_id == competitor))
                    {
                        return Err(OpportunitiesError::unusable_reference(
                            format!("{at}.lost_to_competitor_id"),
                            "is not a competitor on the lost deal",
                        ));
                    }
                    for competitor in &mut competitors {
                        if won {
                            competitor.status = CompetitorStatus::WonAgainst;
                        } else if Some(competitor.competitor_id) == past.lost_to_competitor_id {
                            competitor.status = CompetitorStatus::LostTo;
                        }
                    }
                    Some(CloseOutcome {
                        close_reason_id: reason_id,
                        close_reason_label: label,
                        note: past.close_note.clone(),
                        lost_to_competitor_id: past.lost_to_competitor_id,
                        closed_on: last.entered_at.date_naive(),
                        closed_at: last.entered_at,
                        closed_by: last.entered_by.or(Some(owner_id)),
                    })
                }
            };
            // Converted at the rate of the day it closed (open deals: today's), as a deal that
            // lived here would have been.
            let rate_day = outcome
                .as_ref()
                .map_or(now.date_naive(), |outcome| outcome.closed_on);
            let corporate = to_corporate(&mut transaction, &amount, rate_day).await?;
            let closed_from = past
                .stays
                .iter()
                .rev()
                .filter_map(|stay| pipeline.stage(stay.stage_id))
                .find(|stage| stage.is_open())
                .map(|stage| stage.id);
            let deal = Opportunity {
                id: past.id,
                name: past.deal.name,
                account_id: past.deal.account_id,
                owner_id,
                owner_team_path,
                pipeline_id: pipeline.id,
                stage_id: last_stage.id,
                status,
                probability_override: past.deal.probability_override,
                effective_probability: if status == OpportunityStatus::Open {
                    opportunity::effective_probability(
                        past.deal.probability_override,
                        last_stage.default_probability,
                    )
                } else {
                    last_stage.default_probability
                },
                amount,
                corporate,
                expected_close_date: past.deal.expected_close_date,
                next_step: past.deal.next_step,
                source_lead_id: past.deal.source_lead_id,
                campaign_id: past.deal.campaign_id,
                custom_fields: past.deal.custom_fields,
                line_items,
                team: Vec::new(),
                splits: opportunity::owner_split(owner_id),
                competitors,
                committee: Vec::new(),
                outcome,
                closed_from_stage_id: if status == OpportunityStatus::Open {
                    None
                } else {
                    closed_from
                },
                stage_entered_at: last.entered_at,
                version: 1,
                created_at: past.created_at,
                updated_at: now,
            };
            store::deals::insert_deal(&mut transaction, &deal, Some(caller.user_id)).await?;
            // The stays, each closed by the next: forward or back by position, won or lost by
            // where the deal ended.
            for (number, stay) in past.stays.iter().enumerate() {
                let stage = pipeline.stage(stay.stage_id).expect("checked above");
                let by = stay.entered_by.or(Some(owner_id));
                store::history::enter_stage(&mut transaction, &deal, stage, stay.entered_at, by)
                    .await?;
                if let Some(next) = past.stays.get(number + 1) {
                    let next_stage = pipeline.stage(next.stage_id).expect("checked above");
                    let kind = match next_stage.kind {
                        StageKind::Won => ExitKind::Won,
                        StageKind::Lost => ExitKind::Lost,
                        StageKind::Open if next_stage.position > stage.position => {
                            ExitKind::MovedForward
                        }
                        StageKind::Open => ExitKind::MovedBack,
                    };
                    let mut leaving = deal.clone();
                    leaving.stage_entered_at = stay.entered_at;
                    store::history::exit_stage(
                        &mut transaction,
                        &leaving,
                        stage,
                        next.entered_at,
                        next.entered_by.or(Some(owner_id)),
                        kind,
                    )
                    .await?;
                }
            }
            if status != OpportunityStatus::Open {
                store::history::roll_up_outcome(
                    &mut transaction,
                    &deal,
                    status == OpportunityStatus::Won,
                    1,
                )
                .await?;
            }
            store::history::record_change(
                &mut transaction,
                &deal,
                Some(caller.user_id),
                "imported",
                &[],
                "",
            )
            .await?;
            publish(
                &self.outbox,
                &mut transaction,
                &deal,
                &pipeline,
                Some(caller.user_id),
                DealEvent::Created,
            )
            .await?;
            imported += 1;
        }
        self.outbox.commit(transaction).await?;
        Ok((imported, skipped))
    }
}
