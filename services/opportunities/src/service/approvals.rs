//! The approver rule (`domain::approval`) as the use cases answer it: a refusal is
//! PERMISSION_DENIED — the request is no secret to whoever reads it — saying what is decided on
//! and whose it is.

use crm_platform::auth::{Caller, TeamPath};
use uuid::Uuid;

use super::Result;
use crate::{
    domain::approval::{self, ApprovalRefusal},
    error::OpportunitiesError,
};

/// What is decided on, for the refusal's words.
pub(super) struct Request {
    /// "quote's discount", "expense".
    pub what: &'static str,
    /// Whose request it is: "deal owner", "expense owner".
    pub owner: &'static str,
}

/// Whether `caller` may approve or reject `request` of `owner_id` in `owner_team`: an admin, or
/// a manager whose subtree holds the owner's team, never the owner.
pub(super) fn check_approver(
    caller: &Caller,
    owner_id: Uuid,
    owner_team: &TeamPath,
    request: Request,
) -> Result<()> {
    approval::check_approver(caller, owner_id, owner_team).map_err(|refusal| {
        let Request { what, owner } = request;
        OpportunitiesError::permission_denied(match refusal {
            ApprovalRefusal::OwnRecord => format!(
                "nobody decides on their own {what}: a manager above them or an admin does"
            ),
            ApprovalRefusal::NotAboveOwner => format!(
                "only a manager whose team holds the {owner}'s team, or an admin, decides on this {what}"
            ),
        })
    })
}
