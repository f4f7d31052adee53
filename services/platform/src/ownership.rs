//! Who will own a record: the caller, or — for managers and admins — a user in their reach.
//! One rule for every service that files records by owner (accounts, contacts, deals).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    auth::{Caller, Role, TeamPath},
    error::CommonError,
    org::OrgDirectory,
};

/// The owner and team of a record the caller creates or hands over: `requested` (the field
/// `field`), or the caller (filed under their directory team) when it is empty or themselves.
/// Reps give records only to themselves; managers to users within their subtree; admins to
/// anyone this service knows. Run after [`OrgDirectory::remember`] for the caller.
pub async fn resolve_owner(
    directory: &OrgDirectory,
    connection: &mut PgConnection,
    caller: &Caller,
    requested: Option<Uuid>,
    field: &str,
) -> Result<(Uuid, TeamPath), CommonError> {
    let Some(owner_id) = requested.filter(|owner| *owner != caller.user_id) else {
        return Ok((
            caller.user_id,
            directory.filing_team(connection, caller).await?,
        ));
    };
    if caller.role == Role::Rep {
        return Err(CommonError::PermissionDenied(
            "only managers and admins may give records to someone else".to_owned(),
        ));
    }
    let Some(team_path) = OrgDirectory::team_of(connection, owner_id).await? else {
        return Err(CommonError::unusable_reference(
            field,
            "is not a user known to this service",
        ));
    };
    if !caller.can_access(owner_id, &team_path) {
        return Err(CommonError::PermissionDenied(format!(
            "user {owner_id} is outside your team"
        )));
    }
    Ok((owner_id, team_path))
}
