//! The pool (L3) and assignment (L4): claiming, releasing, and assigning by rules with the
//! fairness policy, every decision explained in the lead's history.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::{Caller, Role, TeamPath},
    text::LocalizableText,
};
use crm_proto::crm::leads::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{History, Leads, Result, load_policies, locked_for_change, works_pool};
use crate::{
    domain::{
        assignment::{self, AssignmentDecision, AssignmentRule, AssignmentState, RuleCriteria},
        assignment_explanation::text_codes,
        fairness::{RepLoad, RoundRobinState},
        lead::Lead,
        lifecycle::LeadTransition,
        recycling,
        roster::Rep,
    },
    error::LeadsError,
    store,
};

/// Claim cap and capacity of someone who is not on the rep roster yet.
const DEFAULT_CLAIM_CAP: u32 = 20;
const DEFAULT_CAPACITY: u32 = 50;

impl Leads {
    pub async fn claim(&self, caller: &Caller, id: Uuid) -> Result<Lead> {
        let mut transaction = self.pool.begin().await?;
        let mut lead = match store::leads::lock_lead(&mut transaction, id).await? {
            Some(lead) if lead.owner_id.is_none() && works_pool(caller, &lead.pool_team_path) => {
                lead
            }
            Some(lead) if lead.owner_id.is_some() && super::can_see(caller, &lead) => {
                return Err(LeadsError::NotInPool { id });
            }
            _ => return Err(LeadsError::not_found("lead", id)),
        };
        let status = LeadsError::transition(lead.status, &LeadTransition::Claim)?;
        let now = crm_platform::time::now();
        let policies = load_policies(&mut transaction).await?;
        let last_lost = store::history::last_lost_by(&mut transaction, id, caller.user_id).await?;
        recycling::reclaim_allowed(
            caller.user_id,
            last_lost.map(|at| (caller.user_id, at)),
            &policies.recycling,
            now,
        )
        .map_err(LeadsError::ReclaimTooSoon)?;
        let rep = store::roster::get_rep(&mut transaction, caller.user_id).await?;
        let counts = store::leads::open_lead_counts(&mut transaction, &[caller.user_id]).await?;
        let (open, claimed) = counts.get(&caller.user_id).copied().unwrap_or((0, 0));
        let claim_cap = rep.as_ref().map_or(DEFAULT_CLAIM_CAP, |rep| rep.claim_cap);
        let load = rep_load(rep.as_ref(), caller.user_id, open, now);
        assignment::can_claim(&load, claim_cap, claimed).map_err(LeadsError::ClaimRefused)?;

        let team_path = self.directory.filing_team(&mut transaction, caller).await?;
        lead.give_to(caller.user_id, team_path, status, now);
        lead.held_by_claim = true;
        let history = History {
            to_owner: Some(caller.user_id),
            ..History::by("claimed", Some(caller.user_id), "claimed from the pool")
        };
        self.save(&mut transaction, &mut lead, history, |lead| {
            pb::LeadAssigned {
                lead: Some(lead),
                previous_owner_id: String::new(),
                how: "claimed".to_owned(),
                explanation: String::new(),
                explanation_text: None,
            }
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(lead)
    }

    pub async fn release(&self, caller: &Caller, id: Uuid, reason: &str) -> Result<Lead> {
        let mut transaction = self.pool.begin().await?;
        let mut lead = locked_for_change(&mut transaction, caller, id, None).await?;
        let previous_owner = lead.owner_id.ok_or(LeadsError::InPool {
            id,
            needs: "it has no owner to release it",
        })?;
        let status = LeadsError::transition(lead.status, &LeadTransition::ReturnToPool)?;
        let reason = match reason.trim() {
            "" => "released by its owner".to_owned(),
            text if text.chars().count() > 500 => {
                return Err(LeadsError::invalid(
                    "reason",
                    "must be at most 500 characters",
                ));
            }
            text => text.to_owned(),
        };
        lead.return_to_pool(status);
        let history = History {
            from_owner: Some(previous_owner),
            ..History::by(
                "released",
                Some(caller.user_id),
                format!("returned to the pool: {reason}"),
            )
        };
        self.save(&mut transaction, &mut lead, history, |lead| {
            pb::LeadRecycled {
                lead: Some(lead),
                previous_owner_id: previous_owner.to_string(),
                reason: reason.clone(),
            }
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(lead)
    }

    /// Assigns to `rep_id`, or by the rules when `None`. Returns the lead and the explanation.
    pub async fn assign(
        &self,
        caller: &Caller,
        id: Uuid,
        rep_id: Option<Uuid>,
    ) -> Result<(Lead, LocalizableText)> {
        if caller.role == Role::Rep {
            return Err(LeadsError::permission_denied(
                "only managers and admins assign leads",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let mut lead = locked_for_change(&mut transaction, caller, id, None).await?;
        let explanation = match rep_id {
            Some(rep_id) => {
                self.assign_to_rep(&mut transaction, caller, &mut lead, rep_id)
                    .await?;
                LocalizableText::new(
                    text_codes::BY_MANAGER,
                    format!("assigned by a manager to rep {rep_id}"),
                )
                .param("rep_id", rep_id)
            }
            None => match self
                .assign_by_rules(&mut transaction, Some(caller.user_id), &mut lead)
                .await?
            {
                Some(explanation) => explanation,
                None => return Err(LeadsError::NoEligibleRep),
            },
        };
        self.outbox.commit(transaction).await?;
        Ok((lead, explanation))
    }

    async fn assign_to_rep(
        &self,
        connection: &mut PgConnection,
        caller: &Caller,
        lead: &mut Lead,
        rep_id: Uuid,
    ) -> Result<()> {
        let status = LeadsError::transition(lead.status, &LeadTransition::Assign)?;
        let Some(rep) = store::roster::get_rep(connection, rep_id).await? else {
            return Err(LeadsError::unusable_reference(
                "rep_id",
                "is not a rep on the roster",
            ));
        };
        if !rep.active {
            return Err(LeadsError::unusable_reference("rep_id", "is not active"));
        }
        // A manager gives work only to the reps of their own subtree.
        let reachable = caller.role == Role::Admin || rep.team_path.is_within(&caller.team_path);
        if !reachable {
            return Err(LeadsError::permission_denied(format!(
                "rep {rep_id} is outside your team"
            )));
        }
        let now = crm_platform::time::now();
        let (open, _) = store::leads::open_lead_counts(connection, &[rep_id])
            .await?
            .get(&rep_id)
            .copied()
            .unwrap_or((0, 0));
        if open >= rep.capacity {
            return Err(LeadsError::AtCapacity {
                rep_id,
                open,
                capacity: rep.capacity,
            });
        }
        let previous_owner = lead.owner_id;
        lead.give_to(rep_id, rep.team_path.clone(), status, now);
        let history = History {
            from_owner: previous_owner,
            to_owner: Some(rep_id),
            ..History::by(
                "assigned",
                Some(caller.user_id),
                format!("assigned to {} by a manager", rep.name()),
            )
        };
        self.save(connection, lead, history, |lead| pb::LeadAssigned {
            lead: Some(lead),
            previous_owner_id: previous_owner.map(|id| id.to_string()).unwrap_or_default(),
            how: "assigned".to_owned(),
            explanation: "manual assignment".to_owned(),
            explanation_text: Some(
                LocalizableText::new(text_codes::MANUAL, "manual assignment").to_wire(),
            ),
        })
        .await
    }

    /// Runs the pool team's rules with the fairness policy. `None` when the lead stays in the
    /// pool (no eligible rep). Assignments of one pool are serialised, so the round-robin
    /// state and the capacity counts they read are current.
    pub(crate) async fn assign_by_rules(
        &self,
        connection: &mut PgConnection,
        actor: Option<Uuid>,
        lead: &mut Lead,
    ) -> Result<Option<LocalizableText>> {
        let status = LeadsError::transition(lead.status, &LeadTransition::Assign)?;
        store::admin::serialise_on(connection, "assign", lead.pool_team_path.as_str()).await?;
        let policies = load_policies(connection).await?;
        let rules = rules_of(connection, &lead.pool_team_path).await?;
        let team_reps = store::roster::reps_in_subtree(connection, &lead.pool_team_path).await?;
        let fallback: Vec<Uuid> = team_reps
            .iter()
            .filter(|rep| rep.active)
            .map(|rep| rep.rep_id)
            .collect();
        let mut rep_ids: HashSet<Uuid> = fallback.iter().copied().collect();
        rep_ids.extend(rules.iter().flat_map(|rule| rule.reps.iter().copied()));
        let rep_ids: Vec<Uuid> = rep_ids.into_iter().collect();
        let reps = store::roster::reps_by_id(connection, &rep_ids).await?;
        let counts = store::leads::open_lead_counts(connection, &rep_ids).await?;
        let now = crm_platform::time::now();
        let loads: Vec<RepLoad> = reps
            .iter()
            .map(|rep| {
                rep_load(
                    Some(rep),
                    rep.rep_id,
                    counts.get(&rep.rep_id).map_or(0, |c| c.0),
                    now,
                )
            })
            .collect();

        let group_keys: Vec<String> = rules
            .iter()
            .map(|rule| rule.id.to_string())
            .chain([assignment::FALLBACK_GROUP.to_owned()])
            .collect();
        let stored_keys: Vec<String> = group_keys
            .iter()
            .map(|key| state_key(lead.pool_team_path.as_str(), key))
            .collect();
        let mut state = AssignmentState::default();
        for (key, stored) in store::admin::assignment_state(connection, &stored_keys).await? {
            let group = key.rsplit('|').next().unwrap_or_default().to_owned();
            if let Ok(group_state) = serde_json::from_value::<RoundRobinState>(stored.0) {
                state.groups.insert(group, group_state);
            }
        }
        let before = state.clone();
        let profile = lead.profile();
        let decision = assignment::assign(
            &profile,
            &rules,
            &fallback,
            &loads,
            &policies.fairness,
            &mut state,
        );
        for (group, group_state) in &state.groups {
            if before.groups.get(group) != Some(group_state) {
                let value = serde_json::to_value(group_state)
                    .map_err(|e| LeadsError::unreadable("assignment state", e))?;
                store::admin::save_assignment_state(
                    connection,
                    &state_key(lead.pool_team_path.as_str(), group),
                    &value,
                )
                .await?;
            }
        }
        let AssignmentDecision::Assigned {
            rep_id,
            explanation,
            ..
        } = decision
        else {
            return Ok(None);
        };
        let rep = reps
            .iter()
            .find(|rep| rep.rep_id == rep_id)
            .expect("the engine picks among the given reps");
        let text = explanation.text();
        let summary = text.text.clone();
        let previous_owner = lead.owner_id;
        lead.give_to(rep_id, rep.team_path.clone(), status, now);
        let history = History {
            from_owner: previous_owner,
            to_owner: Some(rep_id),
            details: serde_json::to_value(&explanation).unwrap_or_default(),
            ..History::by("assigned", actor, summary.clone())
        };
        let event_text = text.to_wire();
        self.save(connection, lead, history, |lead| pb::LeadAssigned {
            lead: Some(lead),
            previous_owner_id: previous_owner.map(|id| id.to_string()).unwrap_or_default(),
            how: "assigned".to_owned(),
            explanation: summary,
            explanation_text: Some(event_text),
        })
        .await?;
        Ok(Some(text))
    }
}

/// The pool team's rules as the engine takes them.
pub(crate) async fn rules_of(
    connection: &mut PgConnection,
    team_path: &TeamPath,
) -> Result<Vec<AssignmentRule>> {
    store::admin::rules(connection, team_path.as_str())
        .await?
        .into_iter()
        .map(|row| {
            let criteria: RuleCriteria = serde_json::from_value(row.criteria.0)
                .map_err(|e| LeadsError::unreadable(format!("rule {}", row.id), e))?;
            Ok(AssignmentRule {
                id: row.id,
                name: row.name,
                position: row.position.max(0) as u32,
                criteria,
                reps: row.rep_ids,
            })
        })
        .collect()
}

fn state_key(team_path: &str, group: &str) -> String {
    format!("{team_path}|{group}")
}

/// What the engine knows of a rep today.
pub(crate) fn rep_load(
    rep: Option<&Rep>,
    rep_id: Uuid,
    open_leads: u32,
    now: DateTime<Utc>,
) -> RepLoad {
    let tenure_days = rep
        .map(|rep| (now.date_naive() - rep.started_on).num_days().max(0) as u32)
        .unwrap_or(365);
    RepLoad {
        rep_id,
        display_name: rep.map(|rep| rep.display_name.clone()).unwrap_or_default(),
        stage: rep.map_or(crate::domain::fairness::RepStage::Established, |rep| {
            rep.stage
        }),
        tenure_days,
        open_leads,
        capacity: rep.map_or(DEFAULT_CAPACITY, |rep| rep.capacity),
        open_pipeline: rep.map(|rep| rep.open_pipeline).unwrap_or_default(),
        active: rep.is_none_or(|rep| rep.active),
    }
}
