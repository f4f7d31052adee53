//! Everything that can go wrong in the leads service, mapped once to the wire: the kit's
//! common failures, and the leads' own typed ones.

use std::time::Duration;

use crm_platform::error::{CommonError, ErrorCode, FieldViolation, Reason, ServiceError};
use uuid::Uuid;

use crate::domain::{
    assignment::ClaimRefusal,
    lifecycle::{LeadStatus, LeadTransition, LifecycleError},
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
    /// A change would leave the lead with no email, phone, company or last name: each field
    /// of the patch is valid, what the lead holds rules the change out.
    #[error("the change would leave lead {id} without an email, a phone, a company or a last name")]
    NoContactPoint { id: Uuid },
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
    /// Throttling: the form's window is full until `retry_after` has passed.
    #[error("this form accepts at most {per_minute} submissions a minute; try again shortly")]
    FormRateLimited {
        per_minute: u32,
        retry_after: Duration,
    },
    /// A web form's key is missing or unknown.
    #[error("{0}")]
    FormKey(&'static str),
    /// Stored data this version cannot read (policies, a rule, a merge snapshot): a fault of
    /// the service, answered as INTERNAL.
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

    /// The status `action` leads to from `from`, or the typed refusal: a status that does not
    /// allow the action is an illegal transition (FAILED_PRECONDITION); a missing or too long
    /// disqualification reason is invalid input on the field `reason`.
    pub fn transition(from: LeadStatus, action: &LeadTransition) -> Result<LeadStatus, Self> {
        crate::domain::lifecycle::transition(from, action).map_err(|refusal| match refusal {
            LifecycleError::ReasonMissing | LifecycleError::ReasonTooLong { .. } => {
                LeadsError::invalid("reason", refusal.to_string())
            }
            LifecycleError::UnknownStatus { value } => {
                LeadsError::unreadable("lead status", format!("'{value}'"))
            }
            LifecycleError::ConvertedIsFinal | LifecycleError::NotAllowed { .. } => {
                LeadsError::IllegalTransition {
                    from,
                    to: action.rule().1,
                    refusal,
                }
            }
        })
    }
}

impl ServiceError for LeadsError {
    /// Business rules and illegal state changes are FAILED_PRECONDITION (HTTP 422); a taken id
    /// is a conflict; only the web form's rate limit is throttling (RESOURCE_EXHAUSTED, 429).
    fn code(&self) -> ErrorCode {
        match self {
            LeadsError::Common(common) => common.code(),
            LeadsError::IllegalTransition { .. }
            | LeadsError::Converted { .. }
            | LeadsError::NoContactPoint { .. }
            | LeadsError::InPool { .. }
            | LeadsError::NotInPool { .. }
            | LeadsError::ConvertedNotMergeable { .. }
            | LeadsError::MergeUndone { .. }
            | LeadsError::TeamFromDirectory { .. }
            | LeadsError::NoEligibleRep
            | LeadsError::ReclaimTooSoon(_)
            | LeadsError::ClaimRefused(_)
            | LeadsError::AtCapacity { .. } => ErrorCode::FailedPrecondition,
            LeadsError::IdTaken { .. } => ErrorCode::AlreadyExists,
            LeadsError::FormRateLimited { .. } => ErrorCode::ResourceExhausted,
            LeadsError::FormKey(_) => ErrorCode::Unauthenticated,
            LeadsError::Unreadable { .. } => ErrorCode::Internal,
        }
    }

    fn field_violations(&self) -> &[FieldViolation] {
        match self {
            LeadsError::Common(common) => common.field_violations(),
            _ => &[],
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            LeadsError::Common(common) => common.retry_after(),
            LeadsError::FormRateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The leads' own refusals: a reason for programs ([`reasons`]) and a text for people
    /// ([`text_codes`]), sent beside the English message as a `google.rpc.ErrorInfo`; the
    /// English is the `Display` text, unchanged.
    fn reason(&self) -> Option<Reason> {
        let reason = |reason: &'static str, code: &str| Reason::new(reason, code, self.to_string());
        Some(match self {
            LeadsError::Common(common) => return common.reason(),
            LeadsError::Unreadable { .. } => return None,
            LeadsError::IllegalTransition { from, to, refusal } => {
                let refused = match refusal {
                    LifecycleError::ConvertedIsFinal => {
                        reason(reasons::LEAD_CONVERTED, text_codes::CONVERTED_IS_FINAL)
                    }
                    LifecycleError::NotAllowed {
                        action,
                        allowed_from,
                        ..
                    } => {
                        let allowed: Vec<&str> = allowed_from.iter().map(|s| s.as_str()).collect();
                        reason(
                            reasons::LEAD_TRANSITION_NOT_ALLOWED,
                            text_codes::TRANSITION_NOT_ALLOWED,
                        )
                        .param("action", action)
                        .param("allowed_from", allowed.join(","))
                    }
                    // Made invalid input or an internal failure by `LeadsError::transition`.
                    LifecycleError::ReasonMissing
                    | LifecycleError::ReasonTooLong { .. }
                    | LifecycleError::UnknownStatus { .. } => reason(
                        reasons::LEAD_TRANSITION_NOT_ALLOWED,
                        text_codes::TRANSITION_NOT_ALLOWED,
                    ),
                };
                refused
                    .param("from", from.as_str())
                    .param("to", to.as_str())
            }
            LeadsError::Converted { id } => {
                reason(reasons::LEAD_CONVERTED, text_codes::CONVERTED).param("lead_id", id)
            }
            LeadsError::NoContactPoint { id } => reason(
                reasons::LEAD_NEEDS_CONTACT_POINT,
                text_codes::NEEDS_CONTACT_POINT,
            )
            .param("lead_id", id),
            LeadsError::InPool { id, .. } => {
                reason(reasons::LEAD_IN_POOL, text_codes::IN_POOL).param("lead_id", id)
            }
            LeadsError::NotInPool { id } => {
                reason(reasons::LEAD_NOT_IN_POOL, text_codes::NOT_IN_POOL).param("lead_id", id)
            }
            LeadsError::IdTaken { id } => {
                reason(reasons::ID_TAKEN, text_codes::ID_TAKEN).param("lead_id", id)
            }
            LeadsError::ConvertedNotMergeable { id } => reason(
                reasons::CONVERTED_LEAD_NOT_MERGEABLE,
                text_codes::CONVERTED_NOT_MERGEABLE,
            )
            .param("lead_id", id),
            LeadsError::MergeUndone { id } => reason(
                reasons::MERGE_ALREADY_UNDONE,
                text_codes::MERGE_ALREADY_UNDONE,
            )
            .param("merge_id", id),
            LeadsError::TeamFromDirectory { rep_id } => reason(
                reasons::TEAM_FROM_DIRECTORY,
                text_codes::TEAM_FROM_DIRECTORY,
            )
            .param("rep_id", rep_id),
            LeadsError::NoEligibleRep => {
                reason(reasons::NO_ELIGIBLE_REP, text_codes::NO_ELIGIBLE_REP)
            }
            LeadsError::ReclaimTooSoon(refusal) => {
                reason(reasons::RECLAIM_TOO_SOON, text_codes::RECLAIM_TOO_SOON)
                    .param("until", refusal.until.format("%Y-%m-%d"))
            }
            LeadsError::ClaimRefused(ClaimRefusal::Inactive) => {
                reason(reasons::REP_INACTIVE, text_codes::INACTIVE_REP_CANNOT_CLAIM)
            }
            LeadsError::ClaimRefused(ClaimRefusal::ClaimCapReached { claimed, cap }) => {
                reason(reasons::CLAIM_CAP_REACHED, text_codes::CLAIM_CAP_REACHED)
                    .param("claimed", claimed)
                    .param("cap", cap)
            }
            LeadsError::AtCapacity {
                rep_id,
                open,
                capacity,
            } => reason(reasons::REP_AT_CAPACITY, text_codes::REP_AT_CAPACITY)
                .param("rep_id", rep_id)
                .param("open", open)
                .param("capacity", capacity),
            LeadsError::FormRateLimited { per_minute, .. } => {
                reason(reasons::FORM_RATE_LIMITED, text_codes::FORM_RATE_LIMITED)
                    .param("per_minute", per_minute)
            }
            LeadsError::FormKey(_) => {
                reason(reasons::FORM_KEY_REFUSED, text_codes::FORM_KEY_REFUSED)
            }
        })
    }
}

/// The reasons of the leads' refusals (the `reason` of their `google.rpc.ErrorInfo`, domain
/// `crm`), for programs; the metadata are the parameters of the matching text code (and the
/// code itself under `text_code`). Never changed in meaning or metadata.
pub mod reasons {
    /// FAILED_PRECONDITION: the lead's status does not allow the action (qualifying a new lead,
    /// disqualifying a qualified one). `action`, `from`, `to`, `allowed_from`.
    pub const LEAD_TRANSITION_NOT_ALLOWED: &str = "LEAD_TRANSITION_NOT_ALLOWED";
    /// FAILED_PRECONDITION: the lead is converted and no longer changes. `from` and `to` (a
    /// status change) or `lead_id` (an edit).
    pub const LEAD_CONVERTED: &str = "LEAD_CONVERTED";
    /// FAILED_PRECONDITION: the action needs an owned lead and this one is in the pool. `lead_id`.
    pub const LEAD_IN_POOL: &str = "LEAD_IN_POOL";
    /// FAILED_PRECONDITION: a claim of a lead someone owns. `lead_id`.
    pub const LEAD_NOT_IN_POOL: &str = "LEAD_NOT_IN_POOL";
    /// ALREADY_EXISTS: a create retried with an id another user's lead has. `lead_id`.
    pub const ID_TAKEN: &str = "ID_TAKEN";
    /// FAILED_PRECONDITION: a converted lead cannot be merged away. `lead_id`.
    pub const CONVERTED_LEAD_NOT_MERGEABLE: &str = "CONVERTED_LEAD_NOT_MERGEABLE";
    /// FAILED_PRECONDITION: the merge was undone already. `merge_id`.
    pub const MERGE_ALREADY_UNDONE: &str = "MERGE_ALREADY_UNDONE";
    /// FAILED_PRECONDITION: a directory rep's team is changed in the organisation. `rep_id`.
    pub const TEAM_FROM_DIRECTORY: &str = "TEAM_FROM_DIRECTORY";
    /// FAILED_PRECONDITION: no rep of the rules or the team can take the lead.
    pub const NO_ELIGIBLE_REP: &str = "NO_ELIGIBLE_REP";
    /// FAILED_PRECONDITION: the rep lost this lead recently. `until`.
    pub const RECLAIM_TOO_SOON: &str = "RECLAIM_TOO_SOON";
    /// FAILED_PRECONDITION: an inactive rep cannot claim leads.
    pub const REP_INACTIVE: &str = "REP_INACTIVE";
    /// FAILED_PRECONDITION: the rep holds as many claimed leads as the cap allows. `claimed`, `cap`.
    pub const CLAIM_CAP_REACHED: &str = "CLAIM_CAP_REACHED";
    /// FAILED_PRECONDITION: the rep a manager named is full. `rep_id`, `open`, `capacity`.
    pub const REP_AT_CAPACITY: &str = "REP_AT_CAPACITY";
    /// RESOURCE_EXHAUSTED (with a retry delay): too many submissions of one web form. `per_minute`.
    pub const FORM_RATE_LIMITED: &str = "FORM_RATE_LIMITED";
    /// UNAUTHENTICATED: a web form's key is missing or unknown.
    pub const FORM_KEY_REFUSED: &str = "FORM_KEY_REFUSED";
    /// FAILED_PRECONDITION: an update would leave the lead without an email, a phone, a
    /// company or a last name. `lead_id`.
    pub const LEAD_NEEDS_CONTACT_POINT: &str = "LEAD_NEEDS_CONTACT_POINT";
}

/// The codes of the leads' refusals as texts for people, each with its parameters; the English
/// is the error's message. Lead, rep and merge ids are UUIDs; statuses are their names
/// (`working`). Never changed in meaning or parameters.
pub mod text_codes {
    /// A converted lead cannot change status. `from`, `to`.
    pub const CONVERTED_IS_FINAL: &str = "leads.lifecycle.converted_is_final";
    /// "cannot {action} a lead that is {from}; only a lead that is {allowed_from} can be".
    /// `action` (`qualify`), `from`, `to`, `allowed_from` (status names joined by commas).
    pub const TRANSITION_NOT_ALLOWED: &str = "leads.lifecycle.transition_not_allowed";
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
    /// An update would leave the lead without a way to reach or find it. `lead_id`.
    pub const NEEDS_CONTACT_POINT: &str = "leads.lead.needs_contact_point";
}

crm_platform::service_error_conversions!(LeadsError);

#[cfg(test)]
mod tests {
    use tonic::Code;
    use tonic_types::StatusExt;

    use super::*;

    /// (code, reason, metadata without the text code, text code, message) of a refusal.
    fn wire(error: LeadsError) -> (Code, String, Vec<(String, String)>, String, String) {
        let status = tonic::Status::from(error);
        let details = status.get_error_details();
        let info = details.error_info().expect("error info").clone();
        assert_eq!(info.domain, crm_platform::error::ERROR_INFO_DOMAIN);
        let mut metadata: Vec<_> = info.metadata.into_iter().collect();
        metadata.sort();
        let text_code = metadata
            .iter()
            .position(|(name, _)| name == crm_platform::error::TEXT_CODE_KEY)
            .map(|at| metadata.remove(at).1)
            .expect("a text code");
        (
            status.code(),
            info.reason,
            metadata,
            text_code,
            status.message().to_owned(),
        )
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// Programs branch on the reasons and consoles translate by the codes: changing one
    /// breaks them.
    #[test]
    fn refusal_reasons_and_codes_are_stable() {
        assert_eq!(
            [
                reasons::LEAD_TRANSITION_NOT_ALLOWED,
                reasons::LEAD_CONVERTED,
                reasons::LEAD_IN_POOL,
                reasons::LEAD_NOT_IN_POOL,
                reasons::ID_TAKEN,
                reasons::CONVERTED_LEAD_NOT_MERGEABLE,
                reasons::MERGE_ALREADY_UNDONE,
                reasons::TEAM_FROM_DIRECTORY,
                reasons::NO_ELIGIBLE_REP,
                reasons::RECLAIM_TOO_SOON,
                reasons::REP_INACTIVE,
                reasons::CLAIM_CAP_REACHED,
                reasons::REP_AT_CAPACITY,
                reasons::FORM_RATE_LIMITED,
                reasons::FORM_KEY_REFUSED,
            ],
            [
                "LEAD_TRANSITION_NOT_ALLOWED",
                "LEAD_CONVERTED",
                "LEAD_IN_POOL",
                "LEAD_NOT_IN_POOL",
                "ID_TAKEN",
                "CONVERTED_LEAD_NOT_MERGEABLE",
                "MERGE_ALREADY_UNDONE",
                "TEAM_FROM_DIRECTORY",
                "NO_ELIGIBLE_REP",
                "RECLAIM_TOO_SOON",
                "REP_INACTIVE",
                "CLAIM_CAP_REACHED",
                "REP_AT_CAPACITY",
                "FORM_RATE_LIMITED",
                "FORM_KEY_REFUSED",
            ]
        );
        assert_eq!(
            [
                text_codes::CONVERTED_IS_FINAL,
                text_codes::TRANSITION_NOT_ALLOWED,
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

    /// A valid patch that would leave a lead with no way to reach or find it is refused for
    /// what the lead holds (422), not as invalid input: the document cannot know the lead.
    #[test]
    fn a_patch_leaving_no_contact_point_is_a_failed_precondition() {
        let id = Uuid::nil();
        let (code, reason, metadata, text_code, _) = wire(LeadsError::NoContactPoint { id });
        assert_eq!(code, Code::FailedPrecondition);
        assert_eq!(reason, "LEAD_NEEDS_CONTACT_POINT");
        assert_eq!(metadata, params(&[("lead_id", &id.to_string())]));
        assert_eq!(text_code, "leads.lead.needs_contact_point");
    }

    /// A cap is a business rule, not throttling: retrying does not help, so no 429.
    #[test]
    fn a_claim_over_the_cap_is_a_failed_precondition_with_its_reason_and_numbers() {
        let refused =
            LeadsError::ClaimRefused(ClaimRefusal::ClaimCapReached { claimed: 3, cap: 3 });

        assert_eq!(
            wire(refused),
            (
                Code::FailedPrecondition,
                "CLAIM_CAP_REACHED".to_owned(),
                params(&[("cap", "3"), ("claimed", "3")]),
                "leads.pool.claim_cap_reached".to_owned(),
                "claim cap reached: 3 of 3 leads claimed".to_owned()
            )
        );
        let inactive = wire(LeadsError::ClaimRefused(ClaimRefusal::Inactive));
        assert_eq!(
            (inactive.0, inactive.1.as_str()),
            (Code::FailedPrecondition, "REP_INACTIVE")
        );
    }

    #[test]
    fn an_illegal_transition_names_the_action_and_the_statuses() {
        let refused =
            LeadsError::transition(LeadStatus::New, &LeadTransition::Qualify).unwrap_err();

        let (code, reason, params, text_code, message) = wire(refused);

        assert_eq!(code, Code::FailedPrecondition);
        assert_eq!(reason, "LEAD_TRANSITION_NOT_ALLOWED");
        assert_eq!(text_code, "leads.lifecycle.transition_not_allowed");
        let params: std::collections::HashMap<_, _> = params.into_iter().collect();
        assert_eq!(params["action"], "qualify");
        assert_eq!(params["from"], "new");
        assert_eq!(params["to"], "qualified");
        assert!(message.starts_with("cannot "), "{message}");
    }

    /// The status is checked first: disqualifying a qualified lead is an illegal transition
    /// whatever the reason says; a bad reason for a lead that may be disqualified is invalid
    /// input on `reason`.
    #[test]
    fn disqualifying_is_refused_for_the_status_first_and_for_the_reason_second() {
        let disqualify = |reason: &str| LeadTransition::Disqualify {
            reason: reason.into(),
        };
        for reason in ["no budget", "", &"x".repeat(501)] {
            let refused =
                LeadsError::transition(LeadStatus::Qualified, &disqualify(reason)).unwrap_err();
            let (code, reason, ..) = wire(refused);
            assert_eq!(
                (code, reason.as_str()),
                (Code::FailedPrecondition, "LEAD_TRANSITION_NOT_ALLOWED")
            );
        }
        for reason in ["", "  ", &"x".repeat(501)] {
            let refused =
                LeadsError::transition(LeadStatus::Working, &disqualify(reason)).unwrap_err();
            assert_eq!(refused.code(), ErrorCode::InvalidArgument);
            assert_eq!(refused.field_violations()[0].field, "reason");
        }
        let converted =
            LeadsError::transition(LeadStatus::Converted, &disqualify("no budget")).unwrap_err();
        assert_eq!(wire(converted).1, "LEAD_CONVERTED");
    }

    #[test]
    fn the_form_rate_limit_is_throttling_with_a_retry_delay() {
        let status = tonic::Status::from(LeadsError::FormRateLimited {
            per_minute: 2,
            retry_after: Duration::from_secs(42),
        });

        assert_eq!(status.code(), Code::ResourceExhausted);
        let details = status.get_error_details();
        assert_eq!(
            details.retry_info().and_then(|info| info.retry_delay),
            Some(Duration::from_secs(42))
        );
        assert_eq!(details.error_info().unwrap().reason, "FORM_RATE_LIMITED");
    }

    #[test]
    fn a_taken_id_is_a_conflict_and_unreadable_data_is_internal() {
        assert_eq!(
            tonic::Status::from(LeadsError::IdTaken { id: Uuid::nil() }).code(),
            Code::AlreadyExists
        );
        let status = tonic::Status::from(LeadsError::unreadable("lead policies", "bad JSON"));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn common_failures_carry_the_common_reasons() {
        let status = tonic::Status::from(LeadsError::Common(CommonError::NotFound {
            kind: "lead",
            id: Uuid::nil(),
        }));

        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "NOT_FOUND");
        assert_eq!(
            details.error_info().unwrap().metadata["text_code"],
            "common.not_found"
        );
    }
}
