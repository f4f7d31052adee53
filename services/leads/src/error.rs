//! Everything that can go wrong in the leads service, mapped once to the wire: the kit's
//! common failures, and the leads' own typed ones.

use crm_platform::{
    error::{CommonError, ErrorCode, FieldViolation, ServiceError},
    text::LocalizableText,
};
use uuid::Uuid;

use crate::domain::{
    assignment::ClaimRefusal,
    lifecycle::{LeadStatus, LeadTransition, LifecycleError, MAX_DISQUALIFY_REASON_CHARS},
    recycling::CooldownRefusal,
};

#[derive(Debug, thiserror::Error)]
pub enum LeadsError {
    #[error(transparent)]
    Common(#[from] CommonError),
    /// The lead's status does not allow the change; `refusal` says what would.
    #[error("{refusal}")]
    IllegalTransition {
        from: LeadStatus,
        to: LeadStatus,
        refusal: LifecycleError,
    },
    /// A converted lead's fields no longer change.
    #[error("a converted lead cannot change")]
    Converted { id: Uuid },
    /// The action needs an owned lead (working, converting, releasing).
    #[error("lead {id} is in the pool: {needs}")]
    InPool { id: Uuid, needs: &'static str },
    /// Claiming a lead someone owns.
    #[error("lead {id} is not in the pool")]
    NotInPool { id: Uuid },
    /// A create retried with an id another user already created a lead under.
    #[error("lead {id} already exists")]
    IdTaken { id: Uuid },
    /// A converted lead stays; merging it away would orphan what conversion created.
    #[error("lead {id} is converted and cannot be merged away")]
    ConvertedNotMergeable { id: Uuid },
    #[error("merge {id} was already undone")]
    MergeUndone { id: Uuid },
    /// A directory rep's team is the organisation's to change.
    #[error("rep {rep_id}'s team comes from the organisation's directory; move the user there")]
    TeamFromDirectory { rep_id: Uuid },
    #[error("no eligible rep: every candidate is inactive or at capacity")]
    NoEligibleRep,
    #[error("{0}")]
    ReclaimTooSoon(CooldownRefusal),
    #[error("{0}")]
    ClaimRefused(ClaimRefusal),
    #[error("rep {rep_id} is at capacity: {open} of {capacity} open leads")]
    AtCapacity {
        rep_id: Uuid,
        open: u32,
        capacity: u32,
    },
    #[error("this form accepts at most {per_minute} submissions a minute; try again shortly")]
    FormRateLimited { per_minute: u32 },
    /// A web form's key is missing or unknown.
    #[error("{0}")]
    FormKey(&'static str),
    /// Stored data this version cannot read (policies, a rule, a merge snapshot).
    #[error("stored {what} is unreadable: {cause}")]
    Unreadable { what: String, cause: String },
}

impl LeadsError {
    pub fn unreadable(what: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        LeadsError::Unreadable {
            what: what.into(),
            cause: cause.to_string(),
        }
    }

    /// The status `action` leads to from `from`, or the typed refusal.
    pub fn transition(from: LeadStatus, action: &LeadTransition) -> Result<LeadStatus, Self> {
        crate::domain::lifecycle::transition(from, action).map_err(|refusal| {
            LeadsError::IllegalTransition {
                from,
                to: action.rule().1,
                refusal,
            }
        })
    }
}

impl ServiceError for LeadsError {
    fn code(&self) -> ErrorCode {
        match self {
            LeadsError::Common(common) => common.code(),
            LeadsError::IllegalTransition { .. }
            | LeadsError::Converted { .. }
            | LeadsError::InPool { .. }
            | LeadsError::NotInPool { .. }
            | LeadsError::IdTaken { .. }
            | LeadsError::ConvertedNotMergeable { .. }
            | LeadsError::MergeUndone { .. }
            | LeadsError::TeamFromDirectory { .. }
            | LeadsError::NoEligibleRep
            | LeadsError::ReclaimTooSoon(_)
            | LeadsError::Unreadable { .. } => ErrorCode::FailedPrecondition,
            LeadsError::ClaimRefused(_)
            | LeadsError::AtCapacity { .. }
            | LeadsError::FormRateLimited { .. } => ErrorCode::ResourceExhausted,
            LeadsError::FormKey(_) => ErrorCode::Unauthenticated,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            LeadsError::Common(common) => common.field_violations(),
            _ => &[],
        }
    }

    /// The leads' own refusals as texts for people ([`text_codes`]), sent beside the English
    /// message as a `google.rpc.ErrorInfo`; the English is the `Display` text, unchanged.
    fn text(&self) -> Option<LocalizableText> {
        let text = |code: &str| LocalizableText::new(code, self.to_string());
        Some(match self {
            LeadsError::Common(common) => return common.text(),
            LeadsError::Unreadable { .. } => return None,
            LeadsError::IllegalTransition { from, to, refusal } => {
                let text = match refusal {
                    LifecycleError::ConvertedIsFinal => text(text_codes::CONVERTED_IS_FINAL),
                    LifecycleError::NotAllowed {
                        action,
                        allowed_from,
                        ..
                    } => {
                        let allowed: Vec<&str> = allowed_from.iter().map(|s| s.as_str()).collect();
                        text(text_codes::TRANSITION_NOT_ALLOWED)
                            .param("action", action)
                            .param("allowed_from", allowed.join(","))
                    }
                    LifecycleError::ReasonMissing => text(text_codes::REASON_MISSING),
                    LifecycleError::ReasonTooLong { length } => text(text_codes::REASON_TOO_LONG)
                        .param("length", length)
                        .param("max", MAX_DISQUALIFY_REASON_CHARS),
                    LifecycleError::UnknownStatus { value } => {
                        text(text_codes::UNKNOWN_STATUS).param("value", value)
                    }
                };
                text.param("from", from.as_str()).param("to", to.as_str())
            }
            LeadsError::Converted { id } => text(text_codes::CONVERTED).param("lead_id", id),
            LeadsError::InPool { id, .. } => text(text_codes::IN_POOL).param("lead_id", id),
            LeadsError::NotInPool { id } => text(text_codes::NOT_IN_POOL).param("lead_id", id),
            LeadsError::IdTaken { id } => text(text_codes::ID_TAKEN).param("lead_id", id),
            LeadsError::ConvertedNotMergeable { id } => {
                text(text_codes::CONVERTED_NOT_MERGEABLE).param("lead_id", id)
            }
            LeadsError::MergeUndone { id } => {
                text(text_codes::MERGE_ALREADY_UNDONE).param("merge_id", id)
            }
            LeadsError::TeamFromDirectory { rep_id } => {
                text(text_codes::TEAM_FROM_DIRECTORY).param("rep_id", rep_id)
            }
            LeadsError::NoEligibleRep => text(text_codes::NO_ELIGIBLE_REP),
            LeadsError::ReclaimTooSoon(refusal) => {
                text(text_codes::RECLAIM_TOO_SOON).param("until", refusal.until.format("%Y-%m-%d"))
            }
            LeadsError::ClaimRefused(ClaimRefusal::Inactive) => {
                text(text_codes::INACTIVE_REP_CANNOT_CLAIM)
            }
            LeadsError::ClaimRefused(ClaimRefusal::ClaimCapReached { claimed, cap }) => {
                text(text_codes::CLAIM_CAP_REACHED)
                    .param("claimed", claimed)
                    .param("cap", cap)
            }
            LeadsError::AtCapacity {
                rep_id,
                open,
                capacity,
            } => text(text_codes::REP_AT_CAPACITY)
                .param("rep_id", rep_id)
                .param("open", open)
                .param("capacity", capacity),
            LeadsError::FormRateLimited { per_minute } => {
                text(text_codes::FORM_RATE_LIMITED).param("per_minute", per_minute)
            }
            LeadsError::FormKey(_) => text(text_codes::FORM_KEY_REFUSED),
        })
    }
}

/// The codes of the leads' refusals (the `reason` of their `google.rpc.ErrorInfo`, domain
/// `crm`), each with its parameters; the English is the error's message. Lead, rep and merge
/// ids are UUIDs; statuses are their names (`working`). Never changed in meaning or parameters.
pub mod text_codes {
    /// A converted lead cannot change status. `from`, `to`.
    pub const CONVERTED_IS_FINAL: &str = "leads.lifecycle.converted_is_final";
    /// "cannot {action} a lead that is {from}; only a lead that is {allowed_from} can be".
    /// `action` (`qualify`), `from`, `to`, `allowed_from` (status names joined by commas).
    pub const TRANSITION_NOT_ALLOWED: &str = "leads.lifecycle.transition_not_allowed";
    /// Disqualifying needs a reason. `from`, `to`.
    pub const REASON_MISSING: &str = "leads.lifecycle.reason_missing";
    /// The disqualification reason is too long. `length`, `max`, `from`, `to`.
    pub const REASON_TOO_LONG: &str = "leads.lifecycle.reason_too_long";
    /// A stored status this version does not know. `value`, `from`, `to`.
    pub const UNKNOWN_STATUS: &str = "leads.lifecycle.unknown_status";
    /// A converted lead's fields no longer change. `lead_id`.
    pub const CONVERTED: &str = "leads.lead.converted";
    /// The action needs an owned lead, and this one is in the pool. `lead_id`.
    pub const IN_POOL: &str = "leads.pool.lead_in_pool";
    /// Claiming a lead someone owns. `lead_id`.
    pub const NOT_IN_POOL: &str = "leads.pool.lead_not_in_pool";
    /// A create retried with an id another user's lead has. `lead_id`.
    pub const ID_TAKEN: &str = "leads.lead.id_taken";
    /// A converted lead cannot be merged away. `lead_id`.
    pub const CONVERTED_NOT_MERGEABLE: &str = "leads.merge.converted_not_mergeable";
    /// The merge was undone already. `merge_id`.
    pub const MERGE_ALREADY_UNDONE: &str = "leads.merge.already_undone";
    /// A directory rep's team is changed in the organisation, not on the roster. `rep_id`.
    pub const TEAM_FROM_DIRECTORY: &str = "leads.roster.team_from_directory";
    /// No rep of the rules or the team can take the lead.
    pub const NO_ELIGIBLE_REP: &str = "leads.assignment.no_eligible_rep";
    /// The rep lost this lead recently and may claim it again after a date. `until`
    /// (`2026-11-30`).
    pub const RECLAIM_TOO_SOON: &str = "leads.pool.reclaim_too_soon";
    /// An inactive rep cannot claim leads.
    pub const INACTIVE_REP_CANNOT_CLAIM: &str = "leads.pool.inactive_rep_cannot_claim";
    /// "claim cap reached: {claimed} of {cap} leads claimed". `claimed`, `cap`.
    pub const CLAIM_CAP_REACHED: &str = "leads.pool.claim_cap_reached";
    /// A manager named a rep who is full. `rep_id`, `open`, `capacity`.
    pub const REP_AT_CAPACITY: &str = "leads.assignment.rep_at_capacity";
    /// Too many submissions of one web form. `per_minute`.
    pub const FORM_RATE_LIMITED: &str = "leads.web_form.rate_limited";
    /// A web form's key is missing or unknown.
    pub const FORM_KEY_REFUSED: &str = "leads.web_form.key_refused";
}

crm_platform::service_error_conversions!(LeadsError);

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    fn info(error: LeadsError) -> (String, Vec<(String, String)>, String) {
        let status = tonic::Status::from(error);
        let details = status.get_error_details();
        let info = details.error_info().expect("error info").clone();
        assert_eq!(info.domain, crm_platform::error::ERROR_INFO_DOMAIN);
        let mut params: Vec<_> = info.metadata.into_iter().collect();
        params.sort();
        (info.reason, params, status.message().to_owned())
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// The console and integrators translate by these codes: changing one breaks them.
    #[test]
    fn refusal_codes_are_stable() {
        assert_eq!(
            [
                text_codes::CONVERTED_IS_FINAL,
                text_codes::TRANSITION_NOT_ALLOWED,
                text_codes::REASON_MISSING,
                text_codes::REASON_TOO_LONG,
                text_codes::UNKNOWN_STATUS,
                text_codes::CONVERTED,
                text_codes::IN_POOL,
                text_codes::NOT_IN_POOL,
                text_codes::ID_TAKEN,
                text_codes::CONVERTED_NOT_MERGEABLE,
                text_codes::MERGE_ALREADY_UNDONE,
                text_codes::TEAM_FROM_DIRECTORY,
                text_codes::NO_ELIGIBLE_REP,
                text_codes::RECLAIM_TOO_SOON,
                text_codes::INACTIVE_REP_CANNOT_CLAIM,
                text_codes::CLAIM_CAP_REACHED,
                text_codes::REP_AT_CAPACITY,
                text_codes::FORM_RATE_LIMITED,
                text_codes::FORM_KEY_REFUSED,
            ],
            [
                "leads.lifecycle.converted_is_final",
                "leads.lifecycle.transition_not_allowed",
                "leads.lifecycle.reason_missing",
                "leads.lifecycle.reason_too_long",
                "leads.lifecycle.unknown_status",
                "leads.lead.converted",
                "leads.pool.lead_in_pool",
                "leads.pool.lead_not_in_pool",
                "leads.lead.id_taken",
                "leads.merge.converted_not_mergeable",
                "leads.merge.already_undone",
                "leads.roster.team_from_directory",
                "leads.assignment.no_eligible_rep",
                "leads.pool.reclaim_too_soon",
                "leads.pool.inactive_rep_cannot_claim",
                "leads.pool.claim_cap_reached",
                "leads.assignment.rep_at_capacity",
                "leads.web_form.rate_limited",
                "leads.web_form.key_refused",
            ]
        );
    }

    #[test]
    fn a_claim_over_the_cap_is_refused_with_its_code_and_numbers() {
        let refused =
            LeadsError::ClaimRefused(ClaimRefusal::ClaimCapReached { claimed: 3, cap: 3 });

        assert_eq!(
            info(refused),
            (
                "leads.pool.claim_cap_reached".to_owned(),
                params(&[("cap", "3"), ("claimed", "3")]),
                "claim cap reached: 3 of 3 leads claimed".to_owned()
            )
        );
    }

    #[test]
    fn an_illegal_transition_names_the_statuses_by_their_codes() {
        let refused =
            LeadsError::transition(LeadStatus::New, &LeadTransition::Qualify).unwrap_err();

        let (code, params, message) = info(refused);

        assert_eq!(code, "leads.lifecycle.transition_not_allowed");
        let params: std::collections::HashMap<_, _> = params.into_iter().collect();
        assert_eq!(params["from"], "new");
        assert_eq!(params["to"], "qualified");
        assert!(message.starts_with("cannot "), "{message}");
    }

    #[test]
    fn common_failures_carry_the_common_codes() {
        let status = tonic::Status::from(LeadsError::Common(CommonError::NotFound {
            kind: "lead",
            id: Uuid::nil(),
        }));

        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "common.not_found");
    }
}
