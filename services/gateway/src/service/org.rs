//! Teams, users and API keys. Admins act everywhere; managers on reps within their team
//! subtree; everyone on their own API keys. Territories are in `territories.rs`.

use chrono::NaiveDate;
use crm_platform::auth::{Caller, Role, Scope, TeamPath};
use crm_proto::crm::gateway::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Gateway, Result, caller_of, role_of};
use crate::{
    convert,
    domain::{
        credentials::{check_password, hash_password, random_secret, secret_hash},
        stage::{Stage, effective_stage},
    },
    error::GatewayError,
    store::{self, ApiKeyRow, TeamRow, UserRow},
};

/// A user to create (validated by the API layer except what needs the database).
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub team_id: Uuid,
    pub password: String,
    pub started_on: NaiveDate,
    pub stage_override: Option<Stage>,
    /// Territory codes, normalised (reps and managers only).
    pub territories: Vec<String>,
}

/// A partial update; `stage_override: Some(None)` clears the override.
#[derive(Clone, Debug, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub team_id: Option<Uuid>,
    pub active: Option<bool>,
    pub password: Option<String>,
    pub stage_override: Option<Option<Stage>>,
    pub started_on: Option<NaiveDate>,
    /// The whole new list of territory codes, normalised; `Some(vec![])` clears them.
    pub territories: Option<Vec<String>>,
}

/// API keys are managed in a user's session: a key's token that could mint keys would outlive
/// its own revocation and could widen its scopes.
fn require_session(caller: &Caller) -> Result<()> {
    if caller.is_api_key() {
        return Err(GatewayError::PermissionDenied(
            "API keys are managed from a signed-in session, not with an API key's token".to_owned(),
        ));
    }
    Ok(())
}

fn require_admin(caller: &Caller) -> Result<()> {
    if caller.role != Role::Admin {
        return Err(GatewayError::PermissionDenied(
            "only admins may do this".to_owned(),
        ));
    }
    Ok(())
}

/// Managers manage reps in their subtree; admins manage everyone.
fn may_manage(caller: &Caller, role: Role, team_path: &str) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Manager => role == Role::Rep && team_path.starts_with(caller.team_path.as_str()),
        Role::Rep => false,
    }
}

/// Admins see everyone; managers their subtree; reps their own team.
fn may_see(caller: &Caller, user: &UserRow) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Manager => user.team_path.starts_with(caller.team_path.as_str()),
        Role::Rep => user.team_path == caller.team_path.as_str() || user.id == caller.user_id,
    }
}

impl Gateway {
    pub async fn create_team(
        &self,
        caller: &Caller,
        slug: &str,
        name: &str,
        parent: Option<Uuid>,
    ) -> Result<TeamRow> {
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
    ) -> Result<TeamRow> {
        let slug = slug.trim().to_lowercase();
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(GatewayError::invalid("name", "must be 1 to 200 characters"));
        }
        let parent_path = match parent {
            Some(parent_id) => match store::get_team(connection, parent_id).await? {
                Some(parent) => parent.path,
                None => return Err(GatewayError::invalid("parent_team_id", "is not a team")),
            },
            None => "/".to_owned(),
        };
        let path = TeamPath::parse(&format!("{parent_path}{slug}"))
            .map_err(|e| GatewayError::invalid("slug", e))?;
        let team = TeamRow {
            id: Uuid::now_v7(),
            slug,
            name: name.to_owned(),
            parent_team_id: parent,
            path: path.to_string(),
            created_at: crm_platform::time::now(),
        };
        store::insert_team(connection, &team)
            .await
            .map_err(|error| match error {
                sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                    GatewayError::AlreadyExists(format!("team {} already exists", team.path))
                }
                other => other.into(),
            })?;
        let event = pb::TeamCreated {
            team: Some(convert::team(&team)),
        };
        self.publish(connection, "team", team.id, 1, event).await?;
        Ok(team)
    }

    /// Teams the caller may see: their own subtree (admins: all).
    pub async fn teams(&self, caller: &Caller) -> Result<Vec<TeamRow>> {
        let mut connection = self.pool.acquire().await?;
        let prefix = if caller.role == Role::Admin {
            "/"
        } else {
            caller.team_path.as_str()
        };
        Ok(store::teams_under(&mut connection, prefix).await?)
    }

    pub async fn create_user(&self, caller: &Caller, new: NewUser) -> Result<UserRow> {
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
    ) -> Result<UserRow> {
        let Some(team) = store::get_team(connection, new.team_id).await? else {
            return Err(GatewayError::invalid("team_id", "is not a team"));
        };
        if let Some(caller) = caller
            && !may_manage(caller, new.role, &team.path)
        {
            return Err(GatewayError::PermissionDenied(
                "admins create anyone; managers create reps within their team".to_owned(),
            ));
        }
        check_password(&new.password, &new.email)
            .map_err(|e| GatewayError::invalid("password", e))?;
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
        let stage = effective_stage(
            new.started_on,
            now.date_naive(),
            new.stage_override,
            self.thresholds,
        );
        let user = UserRow {
            id: Uuid::now_v7(),
            email: new.email.clone(),
            display_name: new.display_name,
            role: new.role.to_string(),
            team_id: team.id,
            team_path: team.path,
            password_hash: hash_password(&new.password)
                .map_err(GatewayError::FailedPrecondition)?,
            stage: stage.as_str().to_owned(),
            stage_override: new.stage_override.map(|stage| stage.as_str().to_owned()),
            started_on: new.started_on,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
            territories: territories
                .iter()
                .map(|territory| territory.code.clone())
                .collect(),
        };
        store::insert_user(connection, &user)
            .await
            .map_err(|error| match error {
                sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                    GatewayError::AlreadyExists(format!(
                        "a user with email {} already exists",
                        new.email
                    ))
                }
                other => other.into(),
            })?;
        if !territories.is_empty() {
            let ids: Vec<Uuid> = territories.iter().map(|territory| territory.id).collect();
            store::set_user_territories(connection, user.id, &ids).await?;
        }
        let event = pb::UserCreated {
            user: Some(convert::user(&user)),
        };
        self.publish(connection, "user", user.id, user.version, event)
            .await?;
        Ok(user)
    }

    pub async fn update_user(
        &self,
        caller: &Caller,
        id: Uuid,
        changes: UserChanges,
        expected_version: Option<i64>,
    ) -> Result<UserRow> {
        let mut transaction = self.pool.begin().await?;
        let current = match store::lock_user(&mut transaction, id).await? {
            Some(user) if may_see(caller, &user) => user,
            _ => return Err(GatewayError::NotFound { kind: "user", id }),
        };
        if !may_manage(caller, role_of(&current), &current.team_path) {
            return Err(GatewayError::PermissionDenied(
                "you may not change this user".to_owned(),
            ));
        }
        if let Some(expected) = expected_version
            && expected != current.version
        {
            return Err(GatewayError::VersionConflict {
                kind: "user",
                id,
                expected,
                actual: current.version,
            });
        }
        let mut user = current.clone();
        let mut changed = Vec::new();
        if let Some(name) = changes
            .display_name
            .filter(|name| *name != user.display_name)
        {
            user.display_name = name;
            changed.push("display_name");
        }
        if let Some(role) = changes.role.filter(|role| *role != role_of(&user)) {
            if !may_manage(caller, role, &user.team_path) {
                return Err(GatewayError::PermissionDenied(
                    "managers cannot give a role above rep".to_owned(),
                ));
            }
            user.role = role.to_string();
            changed.push("role");
        }
        if let Some(team_id) = changes.team_id.filter(|team| *team != user.team_id) {
            let Some(team) = store::get_team(&mut transaction, team_id).await? else {
                return Err(GatewayError::invalid("team_id", "is not a team"));
            };
            if !may_manage(caller, role_of(&user), &team.path) {
                return Err(GatewayError::PermissionDenied(
                    "the new team is outside your team".to_owned(),
                ));
            }
            user.team_id = team.id;
            user.team_path = team.path;
            changed.push("team");
        }
        if let Some(password) = changes.password {
            check_password(&password, &user.email)
                .map_err(|e| GatewayError::invalid("password", e))?;
            user.password_hash =
                hash_password(&password).map_err(GatewayError::FailedPrecondition)?;
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
        if let Some(stage_override) = changes.stage_override {
            let value = stage_override.map(|stage| stage.as_str().to_owned());
            if value != user.stage_override {
                user.stage_override = value;
                changed.push("stage_override");
            }
        }
        let stage = effective_stage(
            user.started_on,
            crm_platform::time::now().date_naive(),
            user.stage_override.as_deref().and_then(Stage::parse),
            self.thresholds,
        );
        if stage.as_str() != user.stage {
            user.stage = stage.as_str().to_owned();
            changed.push("stage");
        }
        let mut new_territories = None;
        if let Some(codes) = changes.territories {
            let territories = self
                .territories_for_user(
                    &mut transaction,
                    Some(caller),
                    role_of(&user),
                    &codes,
                    "territories.codes",
                    &current.territories,
                )
                .await?;
            // Code order, as the store reads them back.
            let mut codes: Vec<String> = territories
                .iter()
                .map(|territory| territory.code.clone())
                .collect();
            codes.sort();
            if codes != user.territories {
                user.territories = codes;
                changed.push("territories");
                new_territories = Some(territories.iter().map(|t| t.id).collect::<Vec<_>>());
            }
        } else if role_of(&user) == Role::Admin && !user.territories.is_empty() {
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
                current.team_path.clone()
            } else {
                String::new()
            },
        };
        self.publish(&mut transaction, "user", user.id, user.version, event)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(user)
    }

    pub async fn user(&self, caller: &Caller, id: Uuid) -> Result<UserRow> {
        let mut connection = self.pool.acquire().await?;
        match store::get_user(&mut connection, id).await? {
            Some(user) if may_see(caller, &user) => Ok(user),
            _ => Err(GatewayError::NotFound { kind: "user", id }),
        }
    }

    pub async fn users(
        &self,
        caller: &Caller,
        team_id: Option<Uuid>,
        include_inactive: bool,
    ) -> Result<Vec<UserRow>> {
        let mut connection = self.pool.acquire().await?;
        let prefix = match team_id {
            Some(team_id) => match store::get_team(&mut connection, team_id).await? {
                Some(team) => team.path,
                None => return Err(GatewayError::invalid("team_id", "is not a team")),
            },
            None if caller.role == Role::Admin => "/".to_owned(),
            None => caller.team_path.to_string(),
        };
        let users = store::users_under(&mut connection, &prefix, include_inactive).await?;
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
    ) -> Result<UserRow> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('first-admin'))")
            .execute(&mut *transaction)
            .await?;
        if store::any_admin(&mut transaction).await? {
            return Err(GatewayError::FailedPrecondition(
                "an admin exists already; admins create further admins".to_owned(),
            ));
        }
        let path =
            TeamPath::parse(company_slug).map_err(|e| GatewayError::invalid("company", e))?;
        let team = match store::teams_under(&mut transaction, path.as_str())
            .await?
            .into_iter()
            .find(|team| team.path == path.as_str())
        {
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

    pub async fn create_api_key(
        &self,
        caller: &Caller,
        name: &str,
        scopes: Vec<String>,
    ) -> Result<(ApiKeyRow, String)> {
        require_session(caller)?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(GatewayError::invalid("name", "must be 1 to 100 characters"));
        }
        let mut scopes: Vec<String> = scopes
            .into_iter()
            .map(|scope| scope.trim().to_lowercase())
            .collect();
        if scopes.is_empty() {
            scopes.push("read".to_owned());
        }
        if let Some(error) = scopes.iter().find_map(|scope| scope.parse::<Scope>().err()) {
            return Err(GatewayError::invalid("scopes", error));
        }
        scopes.sort();
        scopes.dedup();
        let mut connection = self.pool.acquire().await?;
        let Some(owner) = store::get_user(&mut connection, caller.user_id).await? else {
            return Err(GatewayError::FailedPrecondition(
                "your user is not in the directory".to_owned(),
            ));
        };
        caller_of(&owner)?;
        let secret = random_secret("crm_").map_err(GatewayError::FailedPrecondition)?;
        let key = ApiKeyRow {
            id: Uuid::now_v7(),
            owner_user_id: owner.id,
            name: name.to_owned(),
            prefix: secret[..12].to_owned(),
            scopes,
            created_at: crm_platform::time::now(),
            revoked_at: None,
            last_used_at: None,
        };
        store::insert_api_key(&mut connection, &key, &secret_hash(&secret)).await?;
        Ok((key, secret))
    }

    pub async fn api_keys(&self, caller: &Caller) -> Result<Vec<ApiKeyRow>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::api_keys_of(&mut connection, caller.user_id).await?)
    }

    /// The owner revokes their key; admins revoke anyone's.
    pub async fn revoke_api_key(&self, caller: &Caller, id: Uuid) -> Result<ApiKeyRow> {
        require_session(caller)?;
        let mut transaction = self.pool.begin().await?;
        let owned = store::api_keys_of(&mut transaction, caller.user_id)
            .await?
            .iter()
            .any(|key| key.id == id);
        if !owned && caller.role != Role::Admin {
            return Err(GatewayError::NotFound {
                kind: "api key",
                id,
            });
        }
        let Some(key) = store::revoke_api_key(&mut transaction, id).await? else {
            return Err(GatewayError::NotFound {
                kind: "api key",
                id,
            });
        };
        transaction.commit().await?;
        Ok(key)
    }
}
