//! A lead's life (L6): edits, follow-ups, qualification and conversion.

use chrono::NaiveDate;
use crm_platform::{auth::Caller, money::Money};
use crm_proto::crm::leads::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{History, Leads, Result, load_policies, locked_for_change};
use crate::{
    convert,
    domain::{
        lead::{Lead, LeadChanges, StoredScore},
        lifecycle::{LeadStatus, LeadTransition},
        scoring::{self, EngagementActivity},
    },
    error::LeadsError,
    store,
};

/// What a conversion asks for.
#[derive(Clone, Debug)]
pub struct Conversion {
    pub account_id: Option<Uuid>,
    pub opportunity_name: String,
    pub opportunity_amount: Option<Money>,
    pub expected_close_date: Option<NaiveDate>,
}

pub struct Converted {
    pub lead: Lead,
    pub account_id: Uuid,
    pub account_is_new: bool,
    pub contact_id: Uuid,
    pub opportunity_id: Uuid,
}

impl Leads {
    /// Applies field changes with capture's rules.
    pub async fn update(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: LeadChanges,
        expected_version: Option<i64>,
    ) -> Result<Lead> {
        let mut transaction = self.pool.begin().await?;
        let mut lead = locked_for_change(&mut transaction, caller, id, expected_version).await?;
        if lead.status == LeadStatus::Converted {
            return Err(LeadsError::Converted { id });
        }
        let calling_code = crm_platform::org::OrgDirectory::settings(&mut *transaction)
            .await?
            .default_calling_code;
        let changed = lead
            .apply_changes(&changes, calling_code.as_deref(), "patch")
            .map_err(|violations| {
                // The patch alone is valid; with what the lead holds it leaves no contact point.
                if violations
                    .iter()
                    .all(|violation| violation.field == "patch")
                {
                    LeadsError::NoContactPoint { id }
                } else {
                    LeadsError::from(violations)
                }
            })?;
        if changed.is_empty() {
            return Ok(lead);
        }
        self.rescore(&mut transaction, &mut lead).await?;
        let history = History::by(
            "updated",
            Some(caller.user_id),
            format!("changed {}", changed.join(", ")),
        );
        let changed_fields = changed.iter().map(|field| field.to_string()).collect();
        self.save(&mut transaction, &mut lead, history, |lead| {
            pb::LeadUpdated {
                lead: Some(lead),
                changed_fields,
            }
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(lead)
    }

    /// A follow-up: resets the recycling clock, moves an assigned lead to working, re-scores.
    pub async fn log_activity(
        &self,
        caller: &Caller,
        id: Uuid,
        kind: &str,
        note: &str,
    ) -> Result<Lead> {
        let mut transaction = self.pool.begin().await?;
        let mut lead = locked_for_change(&mut transaction, caller, id, None).await?;
        if lead.owner_id.is_none() {
            return Err(LeadsError::InPool {
                id,
                needs: "claim or assign the lead before working it",
            });
        }
        let now = crm_platform::time::now();
        store::history::record_activity(
            &mut transaction,
            id,
            kind,
            now,
            Some(caller.user_id),
            note,
        )
        .await?;
        let mut changed = vec!["last_touched_at"];
        if lead.status == LeadStatus::Assigned {
            lead.status =
                LeadsError::transition(LeadStatus::Assigned, &LeadTransition::StartWorking)?;
            changed.push("status");
        }
        lead.last_touched_at = Some(now);
        lead.recycle_warned_at = None;
        if self.rescore(&mut transaction, &mut lead).await? {
            changed.push("score");
        }
        let history = History::by(
            "activity",
            Some(caller.user_id),
            format!("{kind}: {}", note.trim()),
        );
        let changed_fields = changed.iter().map(|field| field.to_string()).collect();
        self.save(&mut transaction, &mut lead, history, |lead| {
            pb::LeadUpdated {
                lead: Some(lead),
                changed_fields,
            }
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(lead)
    }

    pub async fn qualify(&self, caller: &Caller, id: Uuid) -> Result<Lead> {
        self.change_status(caller, id, LeadTransition::Qualify)
            .await
    }

    pub async fn disqualify(&self, caller: &Caller, id: Uuid, reason: &str) -> Result<Lead> {
        self.change_status(
            caller,
            id,
            LeadTransition::Disqualify {
                reason: reason.to_owned(),
            },
        )
        .await
    }

    pub async fn reopen(&self, caller: &Caller, id: Uuid) -> Result<Lead> {
        self.change_status(caller, id, LeadTransition::Reopen).await
    }

    async fn change_status(
        &self,
        caller: &Caller,
        id: Uuid,
        action: LeadTransition,
    ) -> Result<Lead> {
        let mut transaction = self.pool.begin().await?;
        let mut lead = locked_for_change(&mut transaction, caller, id, None).await?;
        let from = lead.status;
        // The status first (an illegal transition), then the reason (invalid input on `reason`).
        let to = LeadsError::transition(from, &action)?;
        lead.status = to;
        lead.last_touched_at = Some(crm_platform::time::now());
        let summary = format!("{} → {}", from.as_str(), to.as_str());
        match &action {
            LeadTransition::Disqualify { reason } => {
                let reason = reason.trim().to_owned();
                lead.disqualify_reason = Some(reason.clone());
                let history = History::by(
                    "status_changed",
                    Some(caller.user_id),
                    format!("{summary}: {reason}"),
                );
                self.save(&mut transaction, &mut lead, history, |lead| {
                    pb::LeadDisqualified {
                        lead: Some(lead),
                        reason,
                    }
                })
                .await?;
            }
            LeadTransition::Qualify => {
                let history = History::by("status_changed", Some(caller.user_id), summary);
                self.save(&mut transaction, &mut lead, history, |lead| {
                    pb::LeadQualified { lead: Some(lead) }
                })
                .await?;
            }
            _ => {
                lead.disqualify_reason = None;
                if to == LeadStatus::New {
                    lead.return_to_pool(to);
                }
                let history = History::by("status_changed", Some(caller.user_id), summary);
                self.save(&mut transaction, &mut lead, history, |lead| {
                    pb::LeadUpdated {
                        lead: Some(lead),
                        changed_fields: vec!["status".to_owned()],
                    }
                })
                .await?;
            }
        }
        self.outbox.commit(transaction).await?;
        Ok(lead)
    }

    /// Converts a qualified lead. The account is the one named, else an account known to
    /// match the company (by name or domain), else a new one; the ids travel in one
    /// LeadConverted event so accounts and opportunities create their records exactly once.
    pub async fn convert(
        &self,
        caller: &Caller,
        id: Uuid,
        conversion: Conversion,
    ) -> Result<Converted> {
        let mut transaction = self.pool.begin().await?;
        let mut lead = locked_for_change(&mut transaction, caller, id, None).await?;
        let to = LeadsError::transition(lead.status, &LeadTransition::Convert)?;
        let (Some(owner_id), Some(owner_team_path)) = (lead.owner_id, lead.owner_team_path.clone())
        else {
            return Err(LeadsError::InPool {
                id,
                needs: "a lead in the pool cannot be converted",
            });
        };
        let company = if lead.company.is_empty() {
            lead.full_name()
        } else {
            lead.company.clone()
        };
        let name_key = crm_contact_data::normalize_company_name(&company);
        let domain = crm_contact_data::normalize_domain(&lead.website)
            .or_else(|| {
                lead.email
                    .as_deref()
                    .and_then(crm_contact_data::normalize_domain)
            })
            .filter(|domain| !crm_contact_data::is_free_mail_domain(domain));
        // Conversions of one company queue behind each other, so the second finds the first's
        // account instead of creating another.
        store::admin::serialise_on(&mut transaction, "convert", &name_key).await?;
        let (account_id, account_is_new) = match conversion.account_id {
            Some(account_id) => {
                if !store::admin::account_exists(&mut transaction, account_id).await? {
                    return Err(LeadsError::unusable_reference(
                        "account_id",
                        "is not an active account",
                    ));
                }
                (account_id, false)
            }
            None => {
                match store::admin::matching_account(&mut transaction, &name_key, domain.as_deref())
                    .await?
                {
                    Some(account_id) => (account_id, false),
                    None => {
                        let account_id = Uuid::now_v7();
                        store::admin::upsert_account(
                            &mut transaction,
                            account_id,
                            &company,
                            domain.as_deref(),
                            true,
                        )
                        .await?;
                        (account_id, true)
                    }
                }
            }
        };
        let (contact_id, opportunity_id) = (Uuid::now_v7(), Uuid::now_v7());
        let now = crm_platform::time::now();
        lead.status = to;
        lead.converted_account_id = Some(account_id);
        lead.converted_contact_id = Some(contact_id);
        lead.converted_opportunity_id = Some(opportunity_id);
        lead.converted_at = Some(now);
        lead.last_touched_at = Some(now);
        let opportunity_name = match conversion.opportunity_name.trim() {
            "" if lead.product_interest.is_empty() => format!("{company} — new business"),
            "" => format!("{company} — {}", lead.product_interest),
            name => name.to_owned(),
        };
        let summary = format!(
            "converted: account {account_id} ({}), contact {contact_id}, opportunity {opportunity_id}",
            if account_is_new { "new" } else { "existing" }
        );
        let history = History::by("converted", Some(caller.user_id), summary);
        let event = |lead_message: pb::Lead| pb::LeadConverted {
            account_id: account_id.to_string(),
            account_is_new,
            account_name: company.clone(),
            account_website: lead.website.clone(),
            account_phone: String::new(),
            account_industry: lead.industry.clone(),
            account_region: lead.territory.clone(),
            contact_id: contact_id.to_string(),
            contact_full_name: lead.full_name(),
            contact_email: lead.email.clone().unwrap_or_default(),
            contact_phone: lead.phone.clone().unwrap_or_default(),
            contact_title: lead.title.clone(),
            opportunity_id: opportunity_id.to_string(),
            opportunity_name: opportunity_name.clone(),
            opportunity_amount: conversion
                .opportunity_amount
                .map(|money| money.to_message()),
            expected_close_date: conversion
                .expected_close_date
                .map(|date| date.to_string())
                .unwrap_or_default(),
            campaign_id: lead
                .campaign_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            owner_id: owner_id.to_string(),
            owner_team_path: owner_team_path.to_string(),
            lead: Some(lead_message),
        };
        let event = event(convert::lead(&lead));
        self.save(&mut transaction, &mut lead, history, |message| {
            pb::LeadConverted {
                lead: Some(message),
                ..event
            }
        })
        .await?;
        self.outbox.commit(transaction).await?;
        Ok(Converted {
            lead,
            account_id,
            account_is_new,
            contact_id,
            opportunity_id,
        })
    }

    /// Recomputes the score from the lead's fields and activities; `true` when it changed.
    async fn rescore(&self, connection: &mut PgConnection, lead: &mut Lead) -> Result<bool> {
        let policies = load_policies(connection).await?;
        let activities: Vec<EngagementActivity> = store::history::activities(connection, lead.id)
            .await?
            .into_iter()
            .map(|(kind, at)| EngagementActivity { kind, at })
            .collect();
        let input = lead.scoring_input();
        let score = scoring::score(
            &input,
            &activities,
            &policies.scoring,
            crm_platform::time::now(),
        );
        let stored = StoredScore::of(&score);
        let changed = stored != lead.score;
        lead.score = stored;
        Ok(changed)
    }
}

/// The wire's activity kinds as scoring names them.
pub fn activity_kind(kind: pb::ActivityKind) -> Option<&'static str> {
    match kind {
        pb::ActivityKind::Unspecified => None,
        pb::ActivityKind::Call => Some("call"),
        pb::ActivityKind::Email => Some("email"),
        pb::ActivityKind::Meeting => Some("meeting"),
        pb::ActivityKind::Note => Some("note"),
        pb::ActivityKind::WebVisit => Some("web_visit"),
        pb::ActivityKind::EmailOpen => Some("email_open"),
    }
}
