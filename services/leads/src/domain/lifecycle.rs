//! The lead lifecycle (L6): which status changes are allowed and what each needs.
//!
//! The whole table lives in [`LeadTransition::rule`], so the service, the history and the tests
//! agree on one source of truth. An owner change that keeps the status (a manager moving an
//! assigned lead from one rep to another) is not a status change and does not come through here.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest disqualification reason, in characters: a sentence or two, not a report.
pub const MAX_DISQUALIFY_REASON_CHARS: usize = 500;

/// Where a lead stands. `New` leads without an owner wait in the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    Assigned,
    Working,
    Qualified,
    Disqualified,
    Converted,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 6] = [
        LeadStatus::New,
        LeadStatus::Assigned,
        LeadStatus::Working,
        LeadStatus::Qualified,
        LeadStatus::Disqualified,
        LeadStatus::Converted,
    ];

    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Assigned => "assigned",
            LeadStatus::Working => "working",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Disqualified => "disqualified",
            LeadStatus::Converted => "converted",
        }
    }

    /// Reads the stored spelling; surrounding whitespace and case are forgiven.
    pub fn parse(value: &str) -> Result<LeadStatus, LifecycleError> {
        let wanted = value.trim().to_lowercase();
        LeadStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == wanted)
            .ok_or_else(|| LifecycleError::UnknownStatus {
                value: value.to_owned(),
            })
    }

    /// Whether the lead sits on a rep's desk and counts towards their open leads (capacity and
    /// claim caps): assigned, being worked or qualified but not yet converted.
    pub fn is_open_with_owner(self) -> bool {
        matches!(
            self,
            LeadStatus::Assigned | LeadStatus::Working | LeadStatus::Qualified
        )
    }

    /// Whether no action can ever change the status again.
    pub fn is_final(self) -> bool {
        self == LeadStatus::Converted
    }
}

impl fmt::Display for LeadStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What someone (or the system) does to a lead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeadTransition {
    /// A manager or the assignment engine gives a pool lead to a rep.
    Assign,
    /// A rep takes a pool lead themselves.
    Claim,
    /// The owner logs the first activity.
    StartWorking,
    Qualify,
    /// The reason is kept on the lead and shown in reports, so it is required.
    Disqualify {
        reason: String,
    },
    /// Hands the qualified lead over to accounts and opportunities.
    Convert,
    /// The owner releases the lead, or recycling takes it back.
    ReturnToPool,
    /// A disqualified lead deserves another look (new budget, new contact).
    Reopen,
}

impl LeadTransition {
    /// The statuses the action is allowed from, and the status it leads to.
    pub fn rule(&self) -> (&'static [LeadStatus], LeadStatus) {
        use LeadStatus::*;
        match self {
            LeadTransition::Assign | LeadTransition::Claim => (&[New], Assigned),
            LeadTransition::StartWorking => (&[Assigned], Working),
            LeadTransition::Qualify => (&[Assigned, Working], Qualified),
            LeadTransition::Disqualify { .. } => (&[New, Assigned, Working], Disqualified),
            LeadTransition::Convert => (&[Qualified], Converted),
            LeadTransition::ReturnToPool => (&[Assigned, Working], New),
            LeadTransition::Reopen => (&[Disqualified], New),
        }
    }

    /// The action in the words of an error message or a history entry.
    pub fn action_name(&self) -> &'static str {
        match self {
            LeadTransition::Assign => "assign",
            LeadTransition::Claim => "claim",
            LeadTransition::StartWorking => "start working",
            LeadTransition::Qualify => "qualify",
            LeadTransition::Disqualify { .. } => "disqualify",
            LeadTransition::Convert => "convert",
            LeadTransition::ReturnToPool => "return to pool",
            LeadTransition::Reopen => "reopen",
        }
    }
}

/// Why a status change was refused. The `Display` text is shown to API callers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LifecycleError {
    /// Conversion created records in other services; undoing it here would orphan them.
    ConvertedIsFinal,
    NotAllowed {
        from: LeadStatus,
        action: &'static str,
        allowed_from: &'static [LeadStatus],
    },
    ReasonMissing,
    ReasonTooLong {
        length: usize,
    },
    UnknownStatus {
        value: String,
    },
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LifecycleError::ConvertedIsFinal => {
                f.write_str("a converted lead cannot change status")
            }
            LifecycleError::NotAllowed {
                from,
                action,
                allowed_from,
            } => {
                let allowed: Vec<&str> = allowed_from.iter().map(|s| s.as_str()).collect();
                write!(
                    f,
                    "cannot {action} a lead that is {from}; only a lead that is {} can be",
                    allowed.join(" or ")
                )
            }
            LifecycleError::ReasonMissing => f.write_str("disqualifying needs a reason"),
            LifecycleError::ReasonTooLong { length } => write!(
                f,
                "the disqualification reason is {length} characters long; \
                 the maximum is {MAX_DISQUALIFY_REASON_CHARS}"
            ),
            LifecycleError::UnknownStatus { value } => {
                let known: Vec<&str> = LeadStatus::ALL.iter().map(|s| s.as_str()).collect();
                write!(
                    f,
                    "'{value}' is not a lead status; expected one of {}",
                    known.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for LifecycleError {}

/// The status after `action`, or why the action is refused. Checks the status before the
/// reason, so a caller learns first whether the action makes sense at all.
pub fn transition(from: LeadStatus, action: &LeadTransition) -> Result<LeadStatus, LifecycleError> {
    if from.is_final() {
        return Err(LifecycleError::ConvertedIsFinal);
    }
    let (allowed_from, to) = action.rule();
    if !allowed_from.contains(&from) {
        return Err(LifecycleError::NotAllowed {
            from,
            action: action.action_name(),
            allowed_from,
        });
    }
    if let LeadTransition::Disqualify { reason } = action {
        disqualification_reason(reason)?;
    }
    Ok(to)
}

/// The trimmed reason as it should be stored, or why it is not acceptable.
pub fn disqualification_reason(raw: &str) -> Result<&str, LifecycleError> {
    let reason = raw.trim();
    if reason.is_empty() {
        return Err(LifecycleError::ReasonMissing);
    }
    let length = reason.chars().count();
    if length > MAX_DISQUALIFY_REASON_CHARS {
        return Err(LifecycleError::ReasonTooLong { length });
    }
    Ok(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LeadStatus::*;
    use proptest::prelude::*;

    /// The lifecycle table of capability L6, written out independently of [`LeadTransition::rule`].
    const DOCUMENTED_CHANGES: &[(LeadStatus, LeadStatus)] = &[
        (New, Assigned),
        (Assigned, Working),
        (Assigned, Qualified),
        (Working, Qualified),
        (New, Disqualified),
        (Assigned, Disqualified),
        (Working, Disqualified),
        (Qualified, Converted),
        (Assigned, New),
        (Working, New),
        (Disqualified, New),
    ];

    fn disqualify(reason: &str) -> LeadTransition {
        LeadTransition::Disqualify {
            reason: reason.into(),
        }
    }

    #[test]
    fn the_happy_path_runs_from_new_to_converted() {
        let mut status = New;
        for action in [
            LeadTransition::Claim,
            LeadTransition::StartWorking,
            LeadTransition::Qualify,
            LeadTransition::Convert,
        ] {
            status = transition(status, &action).unwrap();
        }
        assert_eq!(status, Converted);
    }

    #[test]
    fn a_converted_lead_cannot_change_status() {
        let error = transition(Converted, &LeadTransition::Reopen).unwrap_err();
        assert_eq!(error.to_string(), "a converted lead cannot change status");
    }

    #[test]
    fn disqualifying_needs_a_short_reason() {
        let error = transition(Working, &disqualify("  ")).unwrap_err();
        assert_eq!(error.to_string(), "disqualifying needs a reason");
        let error = transition(Working, &disqualify(&"x".repeat(501))).unwrap_err();
        assert_eq!(error, LifecycleError::ReasonTooLong { length: 501 });
        assert_eq!(
            transition(Working, &disqualify(&"x".repeat(500))),
            Ok(Disqualified)
        );
        assert_eq!(disqualification_reason("  no budget "), Ok("no budget"));
    }

    #[test]
    fn a_refusal_names_the_statuses_that_would_work() {
        let error = transition(New, &LeadTransition::Qualify).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot qualify a lead that is new; only a lead that is assigned or working can be"
        );
    }

    #[test]
    fn returning_to_the_pool_and_reopening_make_the_lead_new() {
        assert_eq!(transition(Working, &LeadTransition::ReturnToPool), Ok(New));
        assert_eq!(transition(Disqualified, &LeadTransition::Reopen), Ok(New));
        assert!(transition(Qualified, &LeadTransition::ReturnToPool).is_err());
    }

    #[test]
    fn statuses_round_trip_through_their_spelling() {
        for status in LeadStatus::ALL {
            assert_eq!(LeadStatus::parse(status.as_str()), Ok(status));
        }
        assert_eq!(LeadStatus::parse(" Working "), Ok(Working));
        assert_eq!(
            LeadStatus::parse("won").unwrap_err().to_string(),
            "'won' is not a lead status; expected one of new, assigned, working, qualified, \
             disqualified, converted"
        );
        assert_eq!(
            serde_json::to_string(&Disqualified).unwrap(),
            "\"disqualified\""
        );
    }

    #[test]
    fn every_documented_change_is_reachable_by_some_action() {
        let actions = [
            LeadTransition::Assign,
            LeadTransition::StartWorking,
            LeadTransition::Qualify,
            disqualify("no budget"),
            LeadTransition::Convert,
            LeadTransition::ReturnToPool,
            LeadTransition::Reopen,
        ];
        for &(from, to) in DOCUMENTED_CHANGES {
            assert!(
                actions
                    .iter()
                    .any(|action| transition(from, action) == Ok(to)),
                "{from} -> {to}"
            );
        }
    }

    fn any_action() -> impl Strategy<Value = LeadTransition> {
        prop_oneof![
            Just(LeadTransition::Assign),
            Just(LeadTransition::Claim),
            Just(LeadTransition::StartWorking),
            Just(LeadTransition::Qualify),
            prop_oneof![Just(""), Just("no budget"), Just("  ")].prop_map(disqualify),
            Just(LeadTransition::Convert),
            Just(LeadTransition::ReturnToPool),
            Just(LeadTransition::Reopen),
        ]
    }

    proptest! {
        #[test]
        fn every_change_is_documented_and_converted_is_never_left(
            start in proptest::sample::select(LeadStatus::ALL.to_vec()),
            actions in proptest::collection::vec(any_action(), 0..40),
        ) {
            let mut status = start;
            for action in &actions {
                let was_converted = status == Converted;
                if let Ok(next) = transition(status, action) {
                    prop_assert!(!was_converted);
                    let documented = DOCUMENTED_CHANGES.contains(&(status, next));
                    prop_assert!(documented, "{status} -> {next}");
                    status = next;
                }
                if was_converted {
                    prop_assert_eq!(status, Converted);
                }
            }
        }
    }
}
