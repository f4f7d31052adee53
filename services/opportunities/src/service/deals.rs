//! Deal use cases besides the stage and outcome moves (`lifecycle`): create, read, list,
//! update, reassign, and the team, committee and competitor lists. Each write is one
//! transaction: the row, the audit entry and the events.

use chrono::NaiveDate;
use crm_platform::{
    auth::{Caller, Role},
    money::Money,
    paging::{Listing, Page},
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    DealEvent, Opportunities, Result, change::Change, changeable, price_book::priced_line_items,
    publishing::publish, to_corporate_required, visible,
};
use crate::{
    domain::{
        criteria,
        opportunity::{self, FieldChange, Opportunity, OpportunityChanges, OpportunityStatus},
        pipeline::Pipeline,
        price_book::{InactiveProducts, LineItemDraft},
    },
    error::OpportunitiesError,
    store::{self, deals::DealFilter, history::AuditEntry},
};

/// A new deal as the API gives it (validated in form by the grpc mapping).
#[derive(Debug, Clone)]
pub struct NewOpportunity {
    pub name: String,
    pub account_id: Uuid,
    pub owner_id: Option<Uuid>,
    pub pipeline_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    pub amount: Option<Money>,
    pub expected_close_date: NaiveDate,
    pub probability_override: Option<u8>,
    pub next_step: String,
    pub source_lead_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub custom_fields: std::collections::BTreeMap<String, String>,
    /// Priced from the book where a line leaves its unit price to it.
    pub line_items: Vec<LineItemDraft>,
}

/// Line items that all leave their price to the book, of a deal whose amount is not given:
/// nothing names the deal's currency, so no list applies (a refusal, as the schema lets every
/// price be left out).
pub(crate) fn no_currency(field: &str) -> OpportunitiesError {
    OpportunitiesError::Common(crm_platform::error::CommonError::Unusable {
        reason: crm_platform::error::reasons::INCONSISTENT_FIELDS,
        violations: vec![crm_platform::error::FieldViolation::refusal(
            crm_platform::error::reasons::INCONSISTENT_FIELDS,
            field,
            "is required: no amount or unit price names the deal's currency",
        )],
    })
}

/// The deal's pipeline (it always exists: stages are never deleted while deals use them).
pub(crate) async fn pipeline_of(
    connection: &mut PgConnection,
    deal: &Opportunity,
) -> Result<Pipeline> {
    store::pipelines::get_pipeline(connection, deal.pipeline_id, false)
        .await?
        .ok_or_else(|| {
            OpportunitiesError::Common(crm_platform::error::CommonError::Database(
                sqlx::Error::RowNotFound,
            ))
        })
}

impl Opportunities {
    pub async fn create_opportunity(
        &self,
        caller: &Caller,
        new: NewOpportunity,
        requested_id: Option<Uuid>,
    ) -> Result<(Opportunity, Pipeline)> {
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let (owner_id, owner_team_path) = self
            .resolve_owner(
                &mut transaction,
                caller,
                new.owner_id,
                "opportunity.owner_id",
            )
            .await?;
        usable_account(
            &mut transaction,
            Some(caller),
            new.account_id,
            "opportunity.account_id",
        )
        .await?;
        let pipeline_id = match new.pipeline_id {
            Some(id) => id,
            None => store::pipelines::default_pipeline_id(&mut transaction)
                .await?
                .ok_or_else(|| {
                    OpportunitiesError::unusable_reference(
                        "opportunity.pipeline_id",
                        "is required: the organisation has no default pipeline",
                    )
                })?,
        };
        let Some(pipeline) =
            store::pipelines::get_pipeline(&mut transaction, pipeline_id, false).await?
        else {
            return Err(OpportunitiesError::unusable_reference(
                "opportunity.pipeline_id",
                "is not a pipeline",
            ));
        };
        let stage = match new.stage_id {
            Some(id) => pipeline
                .stage(id)
                .filter(|stage| stage.is_open() && !stage.retired)
                .ok_or_else(|| {
                    OpportunitiesError::unusable_reference(
                        "opportunity.stage_id",
                        "is not an open stage of the pipeline in use",
                    )
                })?,
            None => pipeline.first_open_stage().ok_or_else(|| {
                OpportunitiesError::unusable_reference(
                    "opportunity.pipeline_id",
                    "has no open stage in use",
                )
            })?,
        }
        .clone();
        let now = crm_platform::time::now();
        let currency = new.amount.map(|amount| amount.currency).or_else(|| {
            new.line_items
                .iter()
                .find_map(|item| item.unit_price.map(|price| price.currency))
        });
        let line_items = match currency {
            _ if new.line_items.is_empty() => Vec::new(),
            Some(currency) => {
                priced_line_items(
                    &mut transaction,
                    "opportunity.line_items",
                    currency,
                    new.line_items,
                    now.date_naive(),
                    InactiveProducts::Kept(&[]),
                )
                .await?
            }
            None => return Err(no_currency("opportunity.line_items[0].unit_price")),
        };
        let amount = match (&new.amount, line_items.is_empty()) {
            (_, false) => {
                let currency = currency.expect("line items have a currency");
                opportunity::validate_line_items("opportunity.line_items", currency, &line_items)?;
                opportunity::line_items_amount(currency, &line_items)
            }
            (Some(amount), true) => *amount,
            (None, true) => {
                return Err(OpportunitiesError::invalid(
                    "opportunity.amount",
                    "is required unless line items are given",
                ));
            }
        };
        let corporate = to_corporate_required(&mut transaction, &amount, now.date_naive()).await?;
        let deal = Opportunity {
            id: requested_id.unwrap_or_else(Uuid::now_v7),
            name: new.name,
            account_id: new.account_id,
            owner_id,
            owner_team_path,
            pipeline_id: pipeline.id,
            stage_id: stage.id,
            status: OpportunityStatus::Open,
            probability_override: new.probability_override,
            effective_probability: opportunity::effective_probability(
                new.probability_override,
                stage.default_probability,
            ),
            amount,
            corporate,
            expected_close_date: new.expected_close_date,
            next_step: new.next_step,
            source_lead_id: new.source_lead_id,
            campaign_id: new.campaign_id,
            custom_fields: new.custom_fields,
            line_items,
            team: Vec::new(),
            splits: opportunity::owner_split(owner_id),
            competitors: Vec::new(),
            committee: Vec::new(),
            outcome: None,
            closed_from_stage_id: None,
            stage_entered_at: now,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        // Starting past the first stage passes the stages before it: their criteria apply.
        if let Some(first) = pipeline.first_open_stage() {
            let passed = pipeline.stages_passed(first, stage.position);
            let missing = criteria::unmet(
                &deal,
                passed
                    .iter()
                    .map(|stage| (stage.name.as_str(), stage.exit_criteria.as_slice())),
            );
            if !missing.is_empty() {
                return Err(OpportunitiesError::ExitCriteriaNotMet {
                    stage: passed[0].name.clone(),
                    missing,
                });
            }
        }
        if !store::deals::insert_deal(&mut transaction, &deal, Some(caller.user_id)).await? {
            let existing = store::deals::get_deal(&mut transaction, deal.id, false).await?;
            return match existing {
                Some((existing, Some(creator))) if creator == caller.user_id => {
                    let pipeline = pipeline_of(&mut transaction, &existing).await?;
                    Ok((existing, pipeline))
                }
                _ => Err(OpportunitiesError::IdTaken {
                    kind: "opportunity",
                    id: deal.id,
                }),
            };
        }
        self.record_creation(&mut transaction, &deal, &pipeline, Some(caller.user_id))
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    /// The first stay, audit entry and event of a deal just inserted.
    pub(crate) async fn record_creation(
        &self,
        connection: &mut PgConnection,
        deal: &Opportunity,
        pipeline: &Pipeline,
        by: Option<Uuid>,
    ) -> Result<()> {
        let stage = pipeline
            .stage(deal.stage_id)
            .expect("a new deal's stage is its pipeline's");
        store::history::enter_stage(connection, deal, stage, deal.created_at, by).await?;
        store::history::record_change(connection, deal, by, "created", &[], "").await?;
        publish(
            &self.outbox,
            connection,
            deal,
            pipeline,
            by,
            DealEvent::Created,
        )
        .await?;
        Ok(())
    }

    pub async fn get_opportunity(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(Opportunity, Pipeline)> {
        let mut connection = self.pool.acquire().await?;
        let deal = store::deals::get_deal(&mut connection, id, false)
            .await?
            .map(|(deal, _)| deal);
        let deal = visible(caller, id, deal)?;
        let pipeline = pipeline_of(&mut connection, &deal).await?;
        Ok((deal, pipeline))
    }

    pub async fn list_opportunities(
        &self,
        caller: &Caller,
        filter: &DealFilter,
        page: &Page,
        sort_column: &'static str,
    ) -> Result<(Listing<Opportunity>, Vec<Pipeline>)> {
        let mut connection = self.pool.acquire().await?;
        let rows = store::deals::list_deals(&mut connection, caller, filter, page).await?;
        let listing = Listing::from_rows(rows, page, |deal| {
            (store::deals::sort_key(deal, sort_column), deal.id)
        });
        let pipelines = store::pipelines::list_pipelines(&mut connection).await?;
        Ok((listing, pipelines))
    }

    pub async fn update_opportunity(
        &self,
        caller: &Caller,
        id: Uuid,
        mut changes: OpportunityChanges,
        line_items: Option<Vec<LineItemDraft>>,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        let mut transaction = self.pool.begin().await?;
        let current = self
            .locked(&mut transaction, caller, id, expected_version, "updated")
            .await?;
        if let Some(drafts) = line_items {
            let currency = changes
                .amount
                .map_or(current.amount.currency, |amount| amount.currency);
            changes.line_items = Some(
                priced_line_items(
                    &mut transaction,
                    "patch.line_items.line_items",
                    currency,
                    drafts,
                    crm_platform::time::now().date_naive(),
                    InactiveProducts::Kept(&current.line_items),
                )
                .await?,
            );
        }
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        let stage_default = pipeline
            .stage(current.stage_id)
            .map_or(current.effective_probability, |stage| {
                stage.default_probability
            });
        let (mut next, changed) = opportunity::apply_changes(&current, &changes, stage_default)
            .map_err(|problem| match problem {
                opportunity::ChangeProblem::AmountFromLineItems => {
                    OpportunitiesError::AmountFromLineItems
                }
                opportunity::ChangeProblem::Invalid(violations) => violations.into(),
            })?;
        if changed.is_empty() {
            return Ok((current, pipeline));
        }
        let now = crm_platform::time::now();
        if next.amount != current.amount || current.corporate.is_none() {
            next.corporate =
                to_corporate_required(&mut transaction, &next.amount, now.date_naive()).await?;
        }
        let mut events = Vec::new();
        if next.amount != current.amount {
            events.push(DealEvent::AmountChanged {
                previous: current.amount,
                previous_corporate: current.corporate,
            });
        }
        if next.expected_close_date != current.expected_close_date {
            events.push(DealEvent::CloseDateChanged {
                previous: current.expected_close_date,
            });
        }
        let others: Vec<String> = changed
            .iter()
            .map(|change| change.field.clone())
            .filter(|field| {
                !matches!(
                    field.as_str(),
                    "amount" | "line_items" | "expected_close_date"
                )
            })
            .collect();
        if !others.is_empty() || (events.is_empty() && !changed.is_empty()) {
            events.push(DealEvent::Updated {
                fields: changed.iter().map(|change| change.field.clone()).collect(),
            });
        }
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "updated",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    pub async fn reassign_opportunity(
        &self,
        caller: &Caller,
        id: Uuid,
        new_owner: Uuid,
        expected_version: Option<i64>,
    ) -> Result<(Opportunity, Pipeline)> {
        if caller.role == Role::Rep {
            return Err(OpportunitiesError::permission_denied(
                "only managers and admins may reassign deals",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        self.remember(&mut transaction, caller).await?;
        let current = self
            .locked(&mut transaction, caller, id, expected_version, "reassigned")
            .await?;
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        if new_owner == current.owner_id {
            return Ok((current, pipeline));
        }
        let (owner_id, team_path) = self
            .resolve_owner(&mut transaction, caller, Some(new_owner), "owner_id")
            .await?;
        let mut next = current.clone();
        next.owner_id = owner_id;
        next.owner_team_path = team_path;
        next.team.retain(|member| member.user_id != owner_id);
        next.splits =
            opportunity::splits_after_reassignment(&current.splits, current.owner_id, owner_id);
        let changed = vec![
            FieldChange::new("owner_id", current.owner_id, owner_id),
            FieldChange::new(
                "owner_team_path",
                &current.owner_team_path,
                &next.owner_team_path,
            ),
        ];
        let events = vec![DealEvent::OwnerChanged {
            previous_owner: current.owner_id,
            previous_team_path: current.owner_team_path.to_string(),
        }];
        let deal = self
            .save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "reassigned",
                    fields: changed,
                    comment: "",
                    events,
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((deal, pipeline))
    }

    pub async fn list_stage_history(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(Vec<store::history::Stay>, Pipeline)> {
        let (_, pipeline) = self.get_opportunity(caller, id).await?;
        let mut connection = self.pool.acquire().await?;
        let stays = store::history::list_stays(&mut connection, id).await?;
        Ok((stays, pipeline))
    }

    pub async fn list_changes(
        &self,
        caller: &Caller,
        id: Uuid,
        before_version: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        self.get_opportunity(caller, id).await?;
        let mut connection = self.pool.acquire().await?;
        Ok(store::history::list_changes(&mut connection, id, before_version, limit).await?)
    }

    /// The deal, locked, if the caller may change it now (open, at the expected version).
    pub(crate) async fn locked(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
        action: &'static str,
    ) -> Result<Opportunity> {
        let deal = store::deals::get_deal(connection, id, true)
            .await?
            .map(|(deal, _)| deal);
        changeable(
            caller,
            id,
            deal,
            expected_version,
            &[OpportunityStatus::Open],
            action,
        )
    }
}

/// An account the deal may name: known from the accounts service, active (a merged one names
/// its survivor) and, for `caller`, one they may see — an account out of their reach looks like
/// one this service does not know, as it would in the accounts service.
pub(crate) async fn usable_account(
    connection: &mut PgConnection,
    caller: Option<&Caller>,
    id: Uuid,
    field: &str,
) -> Result<()> {
    let unknown =
        || OpportunitiesError::unusable_reference(field, "is not an account known to this service");
    let Some(account) = store::replicas::get_account(connection, id).await? else {
        return Err(unknown());
    };
    if let (Some(caller), Some((owner, team))) = (caller, &account.owner) {
        let team = crm_platform::auth::TeamPath::parse(team).map_err(|error| {
            OpportunitiesError::Common(crm_platform::error::CommonError::Database(
                sqlx::Error::Decode(error.into()),
            ))
        })?;
        if !caller.can_access(*owner, &team) {
            return Err(unknown());
        }
    }
    match (account.status, account.merged_into) {
        (1, _) => Ok(()),
        (_, Some(survivor)) => Err(OpportunitiesError::unusable_reference(
            field,
            format!("was merged into {survivor}"),
        )),
        _ => Err(OpportunitiesError::unusable_reference(
            field,
            "is not an active account",
        )),
    }
}
