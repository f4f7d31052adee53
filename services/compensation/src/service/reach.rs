//! Who may read and write what (docs/api.md, "Compensation"): a rep their own statements and
//! plans, a manager their team subtree's, an admin everything; only an admin writes plans and
//! assignments, closes periods and adjusts statements.

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    org::OrgDirectory,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Result;
use crate::error::CompensationError;

pub(super) const ADMIN_ONLY: &str =
    "only an admin writes plans and assignments, closes periods and adjusts statements";
pub(super) const OUT_OF_REACH: &str =
    "a rep reads their own pay; a manager their team subtree's reps'; an admin everyone's";

pub(super) fn admin(caller: &Caller) -> Result<()> {
    if caller.role == Role::Admin {
        Ok(())
    } else {
        Err(CompensationError::permission_denied(ADMIN_ONLY))
    }
}

/// The rep `user_id` (the caller when `None`), if the caller reads their pay: NOT_FOUND for a
/// user the directory does not know, PERMISSION_DENIED out of reach.
pub(super) async fn rep(
    connection: &mut PgConnection,
    caller: &Caller,
    user_id: Option<Uuid>,
) -> Result<Uuid> {
    let user_id = user_id.unwrap_or(caller.user_id);
    if user_id == caller.user_id {
        return Ok(user_id);
    }
    let team = OrgDirectory::team_of(connection, user_id)
        .await?
        .ok_or_else(|| CompensationError::not_found("user", user_id))?;
    if caller.can_access(user_id, &team) {
        Ok(user_id)
    } else {
        Err(CompensationError::permission_denied(OUT_OF_REACH))
    }
}

/// The team `team_path` (the caller's when `None`), if the caller reads its reps' pay.
pub(super) fn team(caller: &Caller, team_path: Option<TeamPath>) -> Result<TeamPath> {
    let team = team_path.unwrap_or_else(|| caller.team_path.clone());
    let readable = match caller.role {
        Role::Admin => true,
        Role::Manager => team.is_within(&caller.team_path),
        Role::Rep => false,
    };
    if readable {
        Ok(team)
    } else {
        Err(CompensationError::permission_denied(OUT_OF_REACH))
    }
}
