//! Teams and users. Admins act everywhere; managers on reps within their team subtree.
//! Territories are in `territories.rs`, API keys in `api_keys.rs`.

use crm_platform::{
    auth::{Caller, Role, TeamPath},
    error::{FieldViolation, check_version},
};
use crm_proto::crm::gateway::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Gateway, Result, require_admin};
use crate::{
    convert,
    domain::{
        credentials::{PasswordRefusal, check_password, hash_password},
        stage::effective_stage,
        team::Team,
        user::{NewUser, User, UserChanges, may_manage, may_see},
    },
    error::{GatewayError, Taken, reasons},
    store,
};

/// The teams a caller's listings cover: their subtree, or everything for admins.
fn reach(caller: &Caller) -> Option<&TeamPath> {
    (caller.role != Role::Admin).then_some(&caller.team_path)
}

/// A password refused: too long is the request's form (INVALID_ARGUMENT), guessable a refusal
/// by the password rules (FAILED_PRECONDITION `WEAK_PASSWORD`), which no schema states.
fn password_refused(refusal: PasswordRefusal) -> GatewayError {
    match refusal {
        PasswordRefusal::TooLong(message) => GatewayError::invalid("password", message),
        PasswordRefusal::Weak(message) => GatewayError::WeakPassword([FieldViolation::refusal(
            reasons::WEAK_PASSWORD,
            "password",
            message,
        )]),
    }
}

fn password_hash(password: &str, email: &str) -> Result<String> {
    check_password(password, email).map_err(password_refused)?;
    hash_password(password).map_err(GatewayError::Credentials)
}

impl Gateway {
    pub async fn create_team(
        &self,
        caller: &Caller,
        slug: &str,
        name: &str,
        parent: Option<Uuid>,
    ) -> Result<Team> {
        require_admin(caller)?;
        let mut transaction = self.pool.begin().await?;
        let team = self
            .insert_team(&mut transaction, slug, name, parent)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(team)
    }

    async fn insert_team(
        &self,
        connection: &mut PgConnection,
        slug: &str,
        name: &str,
        parent: Option<Uuid>,
    ) -> Result<Team> {
        let parent = match parent {
            Some(parent_id) => match store::get_team(connection, parent_id).await? {
                Some(parent) => Some(parent),
                None => {
                    return Err(GatewayError::unusable_reference(
                        "parent_team_id",
                        "is not a team",
                    ));
                }
            },
            None => None,
        };
        let team = Team::new(slug, name, parent.as_ref(), crm_platform::time::now())?;
        store::insert_team(connection, &team)
            .await
            .map_err(|error| match store::is_unique_violation(&error) {
                true => GatewayError::AlreadyExists(Taken::TeamPath(team.path.to_string())),
                false => error.into(),
            })?;
        let event = pb::TeamCreated {
            team: Some(convert::team(&team)),
        };
        self.outbox
            .enqueue_for(connection, "team", team.id, 1, &event)
            .await?;
        Ok(team)
    }

    /// Teams the caller may see: their own subtree (admins: all).
    pub async fn teams(&self, caller: &Caller) -> Result<Vec<Team>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::teams_under(&mut connection, reach(caller)).await?)
    }

    pub async fn create_user(&self, caller: &Caller, new: NewUser) -> Result<User> {
        let mut transaction = self.pool.begin().await?;
        let user = self
            .insert_user(&mut transaction, Some(caller), new)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(user)
    }

    /// `caller` is `None` only for the first admin, created from the command line.
    async fn insert_user(
        &self,
        connection: &mut PgConnection,
        caller: Option<&Caller>,
        new: NewUser,
    ) -> Result<User> {
        let Some(team) = store::get_team(connection, new.team_id).await? else {
            return Err(GatewayError::unusable_reference("team_id", "is not a team"));
        };
        if let Some(caller) = caller
            && !may_manage(caller, new.role, &team.path)
        {
            return Err(GatewayError::permission_denied(
                "admins create anyone; managers create reps within their team",
            ));
        }
        // A retry of a create with a chosen id: the user as it is, no second event — to a
        // caller who could have created them.
        if let Some(id) = new.id
            && let Some(existing) = store::get_user(connection, id).await?
        {
            let theirs =
                caller.is_none_or(|caller| may_manage(caller, existing.role, &existing.team_path));
            return match existing.email == new.email && theirs {
                true => Ok(existing),
                false => Err(GatewayError::AlreadyExists(Taken::UserId(id))),
            };
        }
        check_password(&new.password, &new.email).map_err(password_refused)?;
        let territories = self
            .territories_for_user(
                connection,
                caller,
                new.role,
                &new.territories,
                "territories",
                &[],
            )
            .await?;
        let now = crm_platform::time::now();
        let user = User {
            id: new.id.unwrap_or_else(Uuid::now_v7),
            // Checked above, before the territories were looked up.
            password_hash: hash_password(&new.password).map_err(GatewayError::Credentials)?,
            email: new.email,
            display_name: new.display_name,
            role: new.role,
            team_id: team.id,
            team_path: team.path,
            stage: effective_stage(
                new.started_on,
                now.date_naive(),
                new.stage_override,
                self.thresholds,
            ),
            stage_override: new.stage_override,
            started_on: new.started_on,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
            territories: territories.iter().map(|t| t.code.clone()).collect(),
        };
        store::insert_user(connection, &user)
            .await
            .map_err(|error| match store::is_unique_violation(&error) {
                true => GatewayError::AlreadyExists(Taken::Email(user.email.clone())),
                false => error.into(),
            })?;
        if !territories.is_empty() {
            let ids: Vec<Uuid> = territories.iter().map(|territory| territory.id).collect();
            store::set_user_territories(connection, user.id, &ids).await?;
        }
        let event = pb::UserCreated {
            user: Some(convert::user(&user)),
        };
        self.outbox
            .enqueue_for(connection, "user", user.id, user.version, &event)
            .await?;
        Ok(user)
    }

    pub async fn update_user(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: UserChanges,
        expected_version: Option<i64>,
    ) -> Result<User> {
        let mut transaction = self.pool.begin().await?;
        let current = match store::lock_user(&mut transaction, id).await? {
            Some(user) if may_see(caller, &user) => user,
            _ => return Err(GatewayError::not_found("user", id)),
        };
        if !may_manage(caller, current.role, &current.team_path) {
            return Err(GatewayError::permission_denied(
                "you may not change this user",
            ));
        }
        check_version("user", id, expected_version, current.version)?;
        let mut user = current.clone();
        let mut changed = Vec::new();
        if let Some(name) = changes
            .display_name
            .filter(|name| *name != user.display_name)
        {
            user.display_name = name;
            changed.push("display_name");
        }
        if let Some(role) = changes.role.filter(|role| *role != user.role) {
            if !may_manage(caller, role, &user.team_path) {
                return Err(GatewayError::permission_denied(
                    "managers cannot give a role above rep",
                ));
            }
            user.role = role;
            changed.push("role");
        }
        if let Some(team_id) = changes.team_id.filter(|team| *team != user.team_id) {
            let Some(team) = store::get_team(&mut transaction, team_id).await? else {
                return Err(GatewayError::unusable_reference("team_id", "is not a team"));
            };
            if !may_manage(caller, user.role, &team.path) {
                return Err(GatewayError::permission_denied(
                    "the new team is outside your team",
                ));
            }
            user.team_id = team.id;
            user.team_path = team.path;
            changed.push("team");
        }
        if let Some(password) = changes.password {
            user.password_hash = password_hash(&password, &user.email)?;
            changed.push("password");
        }
        if let Some(active) = changes.active.filter(|active| *active != user.active) {
            user.active = active;
            changed.push("active");
        }
        if let Some(started_on) = changes.started_on.filter(|day| *day != user.started_on) {
            user.started_on = started_on;
            changed.push("started_on");
        }
        if let Some(stage_override) = changes
            .stage_override
            .filter(|stage| *stage != user.stage_override)
        {
            user.stage_override = stage_override;
            changed.push("stage_override");
        }
        if user.restage(crm_platform::time::now().date_naive(), self.thresholds) {
            changed.push("stage");
        }
        let mut new_territories = None;
        if let Some(codes) = changes.territories {
            let territories = self
                .territories_for_user(
                    &mut transaction,
                    Some(caller),
                    user.role,
                    &codes,
                    "territories.codes",
                    &current.territories,
                )
                .await?;
            // Code order, as the store reads them back.
            let mut codes: Vec<String> = territories.iter().map(|t| t.code.clone()).collect();
            codes.sort();
            if codes != user.territories {
                user.territories = codes;
                changed.push("territories");
                new_territories = Some(territories.iter().map(|t| t.id).collect::<Vec<_>>());
            }
        } else if user.role == Role::Admin && !user.territories.is_empty() {
            return Err(GatewayError::invalid(
                "territories",
                "admins hold no territories: clear them (an empty list) when making this user an admin",
            ));
        }
        if changed.is_empty() {
            return Ok(current);
        }
        // A new password or a disabled account ends every session.
        if changed.contains(&"password") || !user.active {
            store::revoke_user_tokens(&mut transaction, user.id).await?;
        }
        user.version += 1;
        user.updated_at = crm_platform::time::now();
        store::update_user(&mut transaction, &user).await?;
        if let Some(ids) = &new_territories {
            store::set_user_territories(&mut transaction, user.id, ids).await?;
        }
        let event = pb::UserUpdated {
            user: Some(convert::user(&user)),
            // Password changes are announced without anything about the password.
            changed_fields: changed.iter().map(|field| field.to_string()).collect(),
            previous_team_path: if changed.contains(&"team") {
                current.team_path.to_string()
            } else {
                String::new()
            },
        };
        self.outbox
            .enqueue_for(&mut transaction, "user", user.id, user.version, &event)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(user)
    }

    pub async fn user(&self, caller: &Caller, id: Uuid) -> Result<User> {
        let mut connection = self.pool.acquire().await?;
        match store::get_user(&mut connection, id).await? {
            Some(user) if may_see(caller, &user) => Ok(user),
            _ => Err(GatewayError::not_found("user", id)),
        }
    }

    pub async fn users(
        &self,
        caller: &Caller,
        team_id: Option<Uuid>,
        include_inactive: bool,
    ) -> Result<Vec<User>> {
        let mut connection = self.pool.acquire().await?;
        let team_path = match team_id {
            Some(team_id) => match store::get_team(&mut connection, team_id).await? {
                Some(team) => Some(team.path),
                None => return Err(GatewayError::unusable_reference("team_id", "is not a team")),
            },
            None => reach(caller).cloned(),
        };
        let users =
            store::users_under(&mut connection, team_path.as_ref(), include_inactive).await?;
        Ok(users
            .into_iter()
            .filter(|user| may_see(caller, user))
            .collect())
    }

    /// Creates the first admin (and the company team if it does not exist). Refuses once any
    /// admin exists: further admins are created by admins.
    pub async fn create_first_admin(
        &self,
        company_slug: &str,
        company_name: &str,
        new: NewUser,
    ) -> Result<User> {
        let mut transaction = self.pool.begin().await?;
        store::advisory_lock(&mut transaction, "first-admin").await?;
        if store::any_admin(&mut transaction).await? {
            return Err(GatewayError::AdminExists);
        }
        let path =
            TeamPath::parse(company_slug).map_err(|e| GatewayError::invalid("company", e))?;
        let team = match store::team_by_path(&mut transaction, &path).await? {
            Some(team) => team,
            None => {
                self.insert_team(&mut transaction, company_slug, company_name, None)
                    .await?
            }
        };
        let user = self
            .insert_user(
                &mut transaction,
                None,
                NewUser {
                    role: Role::Admin,
                    team_id: team.id,
                    ..new
                },
            )
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(user)
    }
}
