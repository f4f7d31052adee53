//! Who decides on what a rep asks a manager for — a quote's discount, an expense — and what
//! they decide: one rule, shared, so the two can never drift apart.

use crm_platform::auth::{Caller, Role, TeamPath};
use uuid::Uuid;

/// A manager's (or admin's) decision on a request: a discount above the threshold, a submitted
/// expense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approved,
    Rejected,
}

/// Why someone may not approve or reject a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The owner never approves their own request (their quote's discount).
    OwnRecord,
    /// Only a manager above the owner in the team tree (or an admin) decides.
    NotAboveOwner,
}

/// Whether `approver` may decide on a request of `owner_id` in `owner_team`: an admin, or a
/// manager whose team subtree holds the owner's team — never the owner themself, whatever
/// their role.
pub fn check_approver(
    approver: &Caller,
    owner_id: Uuid,
    owner_team: &TeamPath,
) -> Result<(), ApprovalRefusal> {
    if approver.user_id == owner_id {
        return Err(ApprovalRefusal::OwnRecord);
    }
    match approver.role {
        Role::Admin => Ok(()),
        Role::Manager if owner_team.is_within(&approver.team_path) => Ok(()),
        _ => Err(ApprovalRefusal::NotAboveOwner),
    }
}
