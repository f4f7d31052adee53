//! A quote version's life after the draft (O6): submission against the discount threshold, a
//! manager's approval or rejection (audited on the version), issue to the customer (event
//! quote_issued), the customer's acceptance — which sets the deal's amount and line items in
//! the same transaction (events opportunity_amount_changed and quote_accepted) and makes the
//! version an order (order_created) — or refusal, and revisions into new versions.

use crm_platform::{
    auth::{Caller, Role},
    error::{as_refusals, reasons::INCONSISTENT_FIELDS},
    time::to_timestamp,
};
use crm_proto::crm::opportunities::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    DealEvent, Opportunities, Result, approvals,
    change::Change,
    deals::pipeline_of,
    quotes::{locked_quote, next_status, refused},
    to_corporate_required, visible,
};
use crate::{
    convert,
    domain::{
        opportunity::{self, Opportunity, OpportunityChanges, OpportunityStatus},
        order::Order,
        pipeline::Pipeline,
        quote::{self, Approval, Decision, Quote, QuoteAction, QuoteStatus},
    },
    error::OpportunitiesError,
    store::{self, quotes as store_quotes},
};

/// The events a quote version publishes.
enum QuoteEvent {
    Issued,
    Accepted,
}

/// Whether a version still waits for something (being written, approved or answered), so a
/// newer version or an accepted one replaces it.
fn is_open(status: QuoteStatus) -> bool {
    status.after(QuoteAction::Supersede).is_ok()
}

impl Opportunities {
    /// Writes a version's next state (its next revision, by the caller, now).
    async fn save_quote(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        mut quote: Quote,
        deal: &Opportunity,
    ) -> Result<Quote> {
        quote.revision += 1;
        quote.updated_by = caller.user_id;
        quote.updated_at = crm_platform::time::now();
        quote.owner_id = deal.owner_id;
        quote.owner_team_path = deal.owner_team_path.clone();
        store_quotes::update_quote(connection, &quote).await?;
        Ok(quote)
    }

    /// Enqueues the event with the version's full state (aggregate "quote", its revision).
    async fn publish_quote(
        &self,
        connection: &mut PgConnection,
        quote: &Quote,
        event: QuoteEvent,
    ) -> Result<()> {
        let state = Some(convert::quotes::quote(quote));
        let change = Some(pb::ChangeContext {
            changed_by: quote.updated_by.to_string(),
            occurred_at: Some(to_timestamp(quote.updated_at)),
        });
        let (kind, id, version) = ("quote", quote.id, quote.revision);
        match event {
            QuoteEvent::Issued => {
                let message = pb::QuoteIssued {
                    quote: state,
                    change,
                };
                self.outbox
                    .enqueue_for(connection, kind, id, version, &message)
                    .await?
            }
            QuoteEvent::Accepted => {
                let message = pb::QuoteAccepted {
                    quote: state,
                    change,
                };
                self.outbox
                    .enqueue_for(connection, kind, id, version, &message)
                    .await?
            }
        };
        Ok(())
    }

    /// Submits a draft: above the threshold in force it waits for a manager, otherwise it is
    /// approved at once; the submission and the threshold are kept on the version.
    pub async fn submit_quote(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Quote> {
        let mut transaction = self.pool.begin().await?;
        let (mut quote, deal) = self
            .writable_quote(&mut transaction, caller, id, expected_version, "quoted")
            .await?;
        let settings = store_quotes::settings(&mut transaction, false).await?;
        let threshold = settings.discount_approval_threshold_percent;
        let needs_approval = quote::needs_approval(&quote.figures, threshold);
        quote.status = next_status(&quote, QuoteAction::Submit { needs_approval }, "submitted")?;
        quote.approval = Some(Approval {
            submitted_by: caller.user_id,
            submitted_at: crm_platform::time::now(),
            threshold_percent: threshold,
            required: needs_approval,
            decision: None,
            note: String::new(),
        });
        let quote = self
            .save_quote(&mut transaction, caller, quote, &deal)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(quote)
    }

    /// The approval queue: the quotes whose discount the caller may decide on (a manager's
    /// reps', an admin's all; a rep decides on none), the longest-waiting first, at most
    /// `limit`, and whether more wait.
    pub async fn quotes_awaiting_approval(
        &self,
        caller: &Caller,
        limit: u32,
    ) -> Result<(Vec<(Quote, String)>, bool)> {
        if caller.role == Role::Rep {
            return Ok((Vec::new(), false));
        }
        let limit = limit as usize;
        let mut connection = self.pool.acquire().await?;
        // One more than asked, to know whether more wait.
        let mut quotes =
            store_quotes::awaiting_approval(&mut connection, caller, limit as i64 + 1).await?;
        let more = quotes.len() > limit;
        quotes.truncate(limit);
        Ok((quotes, more))
    }

    /// Approves or rejects a pending discount: the caller must see the deal (NOT_FOUND
    /// otherwise, as for any read) and pass `check_approver` — an admin, or a manager whose
    /// subtree holds the owner's team, never the owner (PERMISSION_DENIED).
    pub async fn decide_quote_discount(
        &self,
        caller: &Caller,
        id: Uuid,
        decision: Decision,
        note: String,
        expected_version: Option<i64>,
    ) -> Result<Quote> {
        let mut transaction = self.pool.begin().await?;
        let (unlocked, _) = self.readable_quote(&mut transaction, caller, id).await?;
        let deal = store::deals::get_deal(&mut transaction, unlocked.opportunity_id, true)
            .await?
            .map(|(deal, _)| deal);
        let deal = visible(caller, unlocked.opportunity_id, deal)?;
        let request = approvals::Request {
            what: "quote's discount",
            owner: "deal owner",
        };
        approvals::check_approver(caller, deal.owner_id, &deal.owner_team_path, request)?;
        if deal.status != OpportunityStatus::Open {
            return Err(OpportunitiesError::NotAllowedInStatus {
                id: deal.id,
                status: deal.status,
                action: "quoted",
            });
        }
        let mut quote = locked_quote(&mut transaction, id, expected_version).await?;
        let (action, name) = match decision {
            Decision::Approved => (QuoteAction::Approve, "approved"),
            Decision::Rejected => (QuoteAction::Reject, "rejected"),
        };
        quote.status = next_status(&quote, action, name)?;
        let approval =
            quote
                .approval
                .as_mut()
                .ok_or_else(|| OpportunitiesError::QuoteNotAllowedInStatus {
                    id,
                    status: QuoteStatus::Draft,
                    action: name,
                })?;
        approval.decision = Some((decision, caller.user_id, crm_platform::time::now()));
        approval.note = note;
        let quote = self
            .save_quote(&mut transaction, caller, quote, &deal)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(quote)
    }

    /// Issues an approved version to the customer (event quote_issued).
    pub async fn issue_quote(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<Quote> {
        let mut transaction = self.pool.begin().await?;
        let (mut quote, deal) = self
            .writable_quote(&mut transaction, caller, id, expected_version, "quoted")
            .await?;
        quote.status = next_status(&quote, QuoteAction::Issue, "issued")?;
        let quote = self
            .save_quote(&mut transaction, caller, quote, &deal)
            .await?;
        self.publish_quote(&mut transaction, &quote, QuoteEvent::Issued)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(quote)
    }

    /// Records that the customer declined an issued version.
    pub async fn decline_quote(
        &self,
        caller: &Caller,
        id: Uuid,
        reason: String,
        expected_version: Option<i64>,
    ) -> Result<Quote> {
        let mut transaction = self.pool.begin().await?;
        let (mut quote, deal) = self
            .writable_quote(&mut transaction, caller, id, expected_version, "quoted")
            .await?;
        quote.status = next_status(&quote, QuoteAction::Decline, "declined")?;
        quote.decline_reason = reason;
        let quote = self
            .save_quote(&mut transaction, caller, quote, &deal)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(quote)
    }

    /// Records the customer's acceptance of an issued version of an open deal: in the same
    /// transaction the deal's line items become the quote's lines (`quote::deal_line_items`:
    /// each deal line's total is the quote line's discounted net, so the deal's amount is the
    /// quote's amount before tax to the cent), with the deal's usual events, the quote's
    /// quote_accepted, every other open version of the deal superseded, and the version made
    /// an order (`create_order`, event order_created).
    pub async fn accept_quote(
        &self,
        caller: &Caller,
        id: Uuid,
        expected_version: Option<i64>,
    ) -> Result<(Quote, Opportunity, Pipeline, Order)> {
        let mut transaction = self.pool.begin().await?;
        let (mut quote, current) = self
            .writable_quote(&mut transaction, caller, id, expected_version, "quoted")
            .await?;
        quote.status = next_status(&quote, QuoteAction::Accept, "accepted")?;
        let items = quote::deal_line_items(&quote.lines, &quote.terms);
        opportunity::validate_line_items("lines", quote.terms.currency, &items)
            .map_err(|violations| refused(as_refusals(INCONSISTENT_FIELDS, violations)))?;
        let pipeline = pipeline_of(&mut transaction, &current).await?;
        let stage_default = pipeline
            .stage(current.stage_id)
            .map_or(current.effective_probability, |stage| {
                stage.default_probability
            });
        let changes = OpportunityChanges {
            line_items: Some(items),
            ..OpportunityChanges::default()
        };
        let (mut next, changed) = opportunity::apply_changes(&current, &changes, stage_default)
            .map_err(|problem| match problem {
                opportunity::ChangeProblem::AmountFromLineItems => {
                    OpportunitiesError::AmountFromLineItems
                }
                opportunity::ChangeProblem::Invalid(violations) => {
                    refused(as_refusals(INCONSISTENT_FIELDS, violations))
                }
            })?;
        let now = crm_platform::time::now();
        let deal = if changed.is_empty() {
            current
        } else {
            if next.amount != current.amount || current.corporate.is_none() {
                next.corporate =
                    to_corporate_required(&mut transaction, &next.amount, now.date_naive()).await?;
            }
            // As UpdateOpportunity publishes a change of line items: the amount's event when
            // the amount moved, else an update naming the fields.
            let events = if next.amount != current.amount {
                vec![DealEvent::AmountChanged {
                    previous: current.amount,
                    previous_corporate: current.corporate,
                }]
            } else {
                vec![DealEvent::Updated {
                    fields: changed.iter().map(|change| change.field.clone()).collect(),
                }]
            };
            let comment = format!(
                "quote {} version {} accepted",
                quote.number, quote.quote_version
            );
            self.save(
                &mut transaction,
                Some(caller.user_id),
                next,
                &pipeline,
                Change {
                    action: "quote_accepted",
                    fields: changed,
                    comment: &comment,
                    events,
                },
            )
            .await?
        };
        for other in store_quotes::quotes_of_deal(&mut transaction, deal.id, true).await? {
            if other.id != quote.id && is_open(other.status) {
                let mut other = other;
                other.status = QuoteStatus::Superseded;
                self.save_quote(&mut transaction, caller, other, &deal)
                    .await?;
            }
        }
        let quote = self
            .save_quote(&mut transaction, caller, quote, &deal)
            .await?;
        self.publish_quote(&mut transaction, &quote, QuoteEvent::Accepted)
            .await?;
        let order = self.create_order(&mut transaction, &quote, &deal).await?;
        self.outbox.commit(transaction).await?;
        Ok((quote, deal, pipeline, order))
    }

    /// Makes the next version of a quote from `id`, a draft with its lines and terms; every
    /// open version of the quote (this one among them, unless the customer accepted or
    /// declined it) is superseded. A retry with the same new id by its creator returns it.
    pub async fn revise_quote(
        &self,
        caller: &Caller,
        id: Uuid,
        new_id: Option<Uuid>,
        expected_version: Option<i64>,
    ) -> Result<(Quote, Quote)> {
        let mut transaction = self.pool.begin().await?;
        let new_id = new_id.unwrap_or_else(Uuid::now_v7);
        if let Some(existing) = store_quotes::get_quote(&mut transaction, new_id, false).await? {
            if existing.revised_from != Some(id) {
                return Err(OpportunitiesError::IdTaken {
                    kind: "quote",
                    id: new_id,
                });
            }
            let revised = self.retried(&mut transaction, caller, existing).await?;
            let (from, _) = self.readable_quote(&mut transaction, caller, id).await?;
            return Ok((revised, from));
        }
        let (from, deal) = self
            .writable_quote(&mut transaction, caller, id, expected_version, "quoted")
            .await?;
        let mut revised_from = from.clone();
        for other in store_quotes::quotes_of_deal(&mut transaction, deal.id, true).await? {
            if other.number == from.number && is_open(other.status) {
                let mut other = other;
                other.status = QuoteStatus::Superseded;
                let saved = self
                    .save_quote(&mut transaction, caller, other, &deal)
                    .await?;
                if saved.id == from.id {
                    revised_from = saved;
                }
            }
        }
        let now = crm_platform::time::now();
        let version = store_quotes::latest_version(&mut transaction, &from.number).await? + 1;
        let quote = Quote {
            id: new_id,
            quote_version: version,
            revised_from: Some(from.id),
            status: QuoteStatus::Draft,
            owner_id: deal.owner_id,
            owner_team_path: deal.owner_team_path.clone(),
            approval: None,
            decline_reason: String::new(),
            created_by: caller.user_id,
            created_at: now,
            updated_by: caller.user_id,
            updated_at: now,
            revision: 1,
            ..from
        };
        if !store_quotes::insert_quote(&mut transaction, &quote).await? {
            return Err(OpportunitiesError::IdTaken {
                kind: "quote",
                id: new_id,
            });
        }
        self.outbox.commit(transaction).await?;
        Ok((quote, revised_from))
    }
}
