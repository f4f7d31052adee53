//! A user of the organisation: their role, team and lifecycle stage, the territories they
//! work, and who may see and change them.

use chrono::{DateTime, NaiveDate, Utc};
use crm_platform::auth::{Caller, Role, TeamPath};
use uuid::Uuid;

use super::{
    check_name,
    stage::{Stage, StageThresholds, effective_stage},
};

/// The longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub team_id: Uuid,
    pub team_path: TeamPath,
    pub password_hash: String,
    /// The effective stage (the override when set, else by tenure), kept for reads.
    pub stage: Stage,
    pub stage_override: Option<Stage>,
    pub started_on: NaiveDate,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Codes of the user's territories, in code order.
    pub territories: Vec<String>,
}

/// A user to create, validated (see `grpc::new_user`) except for what needs the database.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The id the caller chose (an idempotent create); `None`: a new one.
    pub id: Option<Uuid>,
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

/// A display name: trimmed, 1 to 200 characters.
pub fn check_display_name(name: &str) -> Result<String, String> {
    check_name(name, MAX_DISPLAY_NAME_CHARS)
}

impl User {
    /// The caller this user's session token describes.
    pub fn caller(&self) -> Caller {
        Caller::user(self.id, self.role, self.team_path.clone())
    }

    /// Recomputes the effective stage on `today`; true when it changed.
    pub fn restage(&mut self, today: NaiveDate, thresholds: StageThresholds) -> bool {
        let stage = effective_stage(self.started_on, today, self.stage_override, thresholds);
        let changed = stage != self.stage;
        self.stage = stage;
        changed
    }
}

/// Managers manage reps in their subtree; admins manage everyone; reps no one.
pub fn may_manage(caller: &Caller, role: Role, team_path: &TeamPath) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Manager => role == Role::Rep && team_path.is_within(&caller.team_path),
        Role::Rep => false,
    }
}

/// Admins see everyone; managers their subtree; reps their own team (and themselves).
pub fn may_see(caller: &Caller, user: &User) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::Manager => user.team_path.is_within(&caller.team_path),
        Role::Rep => user.team_path == caller.team_path || user.id == caller.user_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> TeamPath {
        TeamPath::parse(text).unwrap()
    }

    fn user_in(team_path: &str, role: Role) -> User {
        let now = crm_platform::time::now();
        User {
            id: Uuid::now_v7(),
            email: "ravi@northwind.example".into(),
            display_name: "Ravi".into(),
            role,
            team_id: Uuid::now_v7(),
            team_path: path(team_path),
            password_hash: String::new(),
            stage: Stage::New,
            stage_override: None,
            started_on: now.date_naive(),
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
            territories: Vec::new(),
        }
    }

    #[test]
    fn a_manager_manages_reps_of_the_subtree_by_whole_segments() {
        let manager = Caller::user(Uuid::now_v7(), Role::Manager, path("/northwind/east/"));
        assert!(may_manage(&manager, Role::Rep, &path("/northwind/east/")));
        assert!(may_manage(
            &manager,
            Role::Rep,
            &path("/northwind/east/east-1/")
        ));
        assert!(!may_manage(
            &manager,
            Role::Rep,
            &path("/northwind/east-1/")
        ));
        assert!(!may_manage(
            &manager,
            Role::Manager,
            &path("/northwind/east/")
        ));
        assert!(!may_see(
            &manager,
            &user_in("/northwind/east-1/", Role::Rep)
        ));
        assert!(!may_see(&manager, &user_in("/northwind/", Role::Rep)));
        assert!(may_see(
            &manager,
            &user_in("/northwind/east/east-1/", Role::Rep)
        ));
    }

    /// Team paths are compared as paths, not as the text a row happens to hold: a path stored
    /// without its trailing slash (`/northwind/east`, as a hand-written row or an older tool
    /// may leave it) is the team `/northwind/east/`. A prefix test on the stored text
    /// (`"/northwind/east".starts_with("/northwind/east/")`) refused the team's own manager.
    #[test]
    fn an_unnormalised_stored_path_is_the_same_team() {
        let manager = Caller::user(Uuid::now_v7(), Role::Manager, path("/northwind/east/"));
        let ravi = user_in("/northwind/east", Role::Rep);
        assert!(may_see(&manager, &ravi));
        assert!(may_manage(&manager, ravi.role, &ravi.team_path));
        let rep = Caller::user(Uuid::now_v7(), Role::Rep, path("/northwind/east/"));
        assert!(may_see(&rep, &ravi), "a rep sees their own team");
    }

    #[test]
    fn admins_see_and_manage_all_and_reps_only_their_team() {
        let admin = Caller::user(Uuid::now_v7(), Role::Admin, path("/northwind/"));
        let rep = Caller::user(Uuid::now_v7(), Role::Rep, path("/northwind/east/"));
        let other = user_in("/northwind/west/", Role::Rep);
        assert!(may_see(&admin, &other) && may_manage(&admin, Role::Admin, &other.team_path));
        assert!(!may_see(&rep, &other));
        assert!(!may_manage(&rep, Role::Rep, &path("/northwind/east/")));
        let mut own = other.clone();
        own.id = rep.user_id;
        assert!(
            may_see(&rep, &own),
            "a rep sees themselves wherever they are filed"
        );
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(check_display_name("  Ada ").unwrap(), "Ada");
        assert!(check_display_name(" ").is_err());
        assert!(check_display_name(&"a".repeat(201)).is_err());
    }
}
