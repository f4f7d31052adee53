//! Sales territories: a hierarchy (APAC → China → East China), each covered by a team, and the
//! territories each rep or manager works. Everyone reads them; admins change any; managers
//! those covered by a team of their subtree. Changes are announced as `TerritoryUpserted`.

use std::collections::HashMap;

use crm_platform::{
    auth::{Caller, Role},
    error::{Violations, check_version},
};
use crm_proto::crm::gateway::v1 as pb;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Gateway, Result};
use crate::{
    convert,
    domain::territory::{
        NewTerritory, Territory, TerritoryChanges, cycle_if_moved, may_manage_territory,
    },
    error::{GatewayError, Taken},
    store,
};

fn read_only(caller: &Caller) -> Result<()> {
    if caller.role == Role::Rep {
        return Err(GatewayError::permission_denied(
            "reps read territories; managers and admins change them",
        ));
    }
    Ok(())
}

impl Gateway {
    pub async fn create_territory(&self, caller: &Caller, new: NewTerritory) -> Result<Territory> {
        read_only(caller)?;
        let mut new = new;
        let mut violations = Violations::new();
        new.check(&mut violations);
        violations.into_result()?;
        if caller.role == Role::Manager && new.team.is_none() {
            return Err(GatewayError::permission_denied(
                "managers create territories covered by a team of their subtree: name the team",
            ));
        }
        let mut transaction = self.pool.begin().await?;
        let mut violations = Violations::new();
        let parent = match new.parent {
            Some(id) => {
                let parent = store::get_territory(&mut transaction, id).await?;
                if parent.is_none() {
                    violations.add("parent_territory_id", "is not a territory");
                }
                parent
            }
            None => None,
        };
        let team = match new.team {
            Some(id) => {
                let team = store::get_team(&mut transaction, id).await?;
                if team.is_none() {
                    violations.add("team_id", "is not a team");
                }
                team
            }
            None => None,
        };
        violations.into_references()?;
        let team_path = team.map(|team| team.path);
        if !may_manage_territory(caller, team_path.as_ref()) {
            return Err(GatewayError::permission_denied(
                "managers create territories covered by a team of their subtree",
            ));
        }
        let now = crm_platform::time::now();
        let territory = Territory {
            id: Uuid::now_v7(),
            code: new.code,
            name: new.name,
            parent_territory_id: new.parent,
            parent_code: parent.map(|parent| parent.code),
            team_id: new.team,
            team_path,
            description: new.description,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store::insert_territory(&mut transaction, &territory)
            .await
            .map_err(|error| match store::is_unique_violation(&error) {
                true => GatewayError::AlreadyExists(Taken::TerritoryCode(territory.code.clone())),
                false => error.into(),
            })?;
        self.publish_territory(&mut transaction, &territory, Vec::new())
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(territory)
    }

    pub async fn update_territory(
        &self,
        caller: &Caller,
        id: Uuid,
        mut changes: TerritoryChanges,
        expected_version: Option<i64>,
    ) -> Result<Territory> {
        read_only(caller)?;
        let mut violations = Violations::new();
        changes.check(&mut violations);
        violations.into_result()?;
        let (name, description) = (changes.name, changes.description);
        let mut transaction = self.pool.begin().await?;
        if changes.parent.is_some() {
            // Moves one at a time: two concurrent moves, each fine alone, could close a loop.
            store::advisory_lock(&mut transaction, "crm-territory-tree").await?;
        }
        let Some(current) = store::lock_territory(&mut transaction, id).await? else {
            return Err(GatewayError::not_found("territory", id));
        };
        if !may_manage_territory(caller, current.team_path.as_ref()) {
            return Err(GatewayError::permission_denied(format!(
                "territory {} is not covered by a team of your subtree",
                current.code
            )));
        }
        check_version("territory", id, expected_version, current.version)?;
        let mut territory = current.clone();
        let mut changed = Vec::new();
        if let Some(name) = name.filter(|name| *name != territory.name) {
            territory.name = name;
            changed.push("name");
        }
        if let Some(description) = description.filter(|text| *text != territory.description) {
            territory.description = description;
            changed.push("description");
        }
        let mut violations = Violations::new();
        if let Some(parent) = changes
            .parent
            .filter(|parent| *parent != territory.parent_territory_id)
        {
            match parent {
                None => territory.parent_code = None,
                Some(parent_id) => {
                    let ancestors = store::territory_ancestors(&mut transaction, parent_id).await?;
                    if ancestors.is_empty() {
                        violations.add("parent_territory_id", "is not a territory");
                    }
                    let codes: HashMap<Uuid, String> = ancestors
                        .iter()
                        .map(|(id, _, code)| (*id, code.clone()))
                        .collect();
                    let parents: HashMap<Uuid, Option<Uuid>> = ancestors
                        .iter()
                        .map(|(id, parent, _)| (*id, *parent))
                        .collect();
                    if let Some(chain) = cycle_if_moved(&parents, id, Some(parent_id)) {
                        let chain: Vec<&str> = chain
                            .iter()
                            .map(|id| {
                                codes
                                    .get(id)
                                    .map_or(territory.code.as_str(), String::as_str)
                            })
                            .collect();
                        violations.add(
                            "parent_territory_id",
                            format!(
                                "would put {} under itself ({}): a territory cannot move under itself or one of its own territories",
                                territory.code,
                                chain.join(" → ")
                            ),
                        );
                    }
                    territory.parent_code = codes.get(&parent_id).cloned();
                }
            }
            territory.parent_territory_id = parent;
            changed.push("parent");
        }
        if let Some(team) = changes.team.filter(|team| *team != territory.team_id) {
            territory.team_path = match team {
                None => None,
                Some(team_id) => match store::get_team(&mut transaction, team_id).await? {
                    Some(team) => Some(team.path),
                    None => {
                        violations.add("team_id", "is not a team");
                        None
                    }
                },
            };
            territory.team_id = team;
            changed.push("team");
        }
        violations.into_references()?;
        if changed.contains(&"team") && !may_manage_territory(caller, territory.team_path.as_ref())
        {
            return Err(GatewayError::permission_denied(
                "managers hand territories only to teams of their subtree, and leave none uncovered",
            ));
        }
        if changed.is_empty() {
            return Ok(current);
        }
        territory.version += 1;
        territory.updated_at = crm_platform::time::now();
        store::update_territory(&mut transaction, &territory).await?;
        self.publish_territory(&mut transaction, &territory, changed)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(territory)
    }

    pub async fn territory(&self, _caller: &Caller, id: Uuid) -> Result<Territory> {
        let mut connection = self.pool.acquire().await?;
        store::get_territory(&mut connection, id)
            .await?
            .ok_or_else(|| GatewayError::not_found("territory", id))
    }

    /// Every role reads every territory; the filters narrow the list.
    pub async fn territories(
        &self,
        _caller: &Caller,
        team_id: Option<Uuid>,
        parent: Option<Uuid>,
        codes: &[String],
    ) -> Result<Vec<Territory>> {
        let mut connection = self.pool.acquire().await?;
        let mut violations = Violations::new();
        let team_path = match team_id {
            Some(team_id) => match store::get_team(&mut connection, team_id).await? {
                Some(team) => Some(team.path),
                None => {
                    violations.add("team_id", "is not a team");
                    None
                }
            },
            None => None,
        };
        if let Some(parent) = parent
            && store::get_territory(&mut connection, parent)
                .await?
                .is_none()
        {
            violations.add("parent_territory_id", "is not a territory");
        }
        violations.into_references()?;
        Ok(store::list_territories(&mut connection, team_path.as_ref(), parent, codes).await?)
    }

    /// The territories `codes` name, for a user of `role` who holds `held` now: admins hold
    /// none; every code must exist (an unknown one is reported as `field[index]`); a manager
    /// may add only territories covered by a team of their subtree. `caller` is `None` for the
    /// first admin, created from the command line.
    pub(super) async fn territories_for_user(
        &self,
        connection: &mut PgConnection,
        caller: Option<&Caller>,
        role: Role,
        codes: &[String],
        field: &str,
        held: &[String],
    ) -> Result<Vec<Territory>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        if role == Role::Admin {
            return Err(GatewayError::invalid(
                field,
                "admins hold no territories; only reps and managers do",
            ));
        }
        let found = store::list_territories(connection, None, None, codes).await?;
        let mut violations = Violations::new();
        for (index, code) in codes.iter().enumerate() {
            if !found.iter().any(|territory| territory.code == *code) {
                violations.add(
                    format!("{field}[{index}]"),
                    format!("no territory has the code {code:?}"),
                );
            }
        }
        violations.into_references()?;
        if let Some(caller) = caller
            && let Some(outside) = found.iter().find(|territory| {
                !held.contains(&territory.code)
                    && !may_manage_territory(caller, territory.team_path.as_ref())
            })
        {
            return Err(GatewayError::permission_denied(format!(
                "territory {} is not covered by a team of your subtree",
                outside.code
            )));
        }
        Ok(found)
    }

    async fn publish_territory(
        &self,
        connection: &mut PgConnection,
        territory: &Territory,
        changed: Vec<&str>,
    ) -> Result<()> {
        let event = pb::TerritoryUpserted {
            territory: Some(convert::territory(territory)),
            changed_fields: changed.iter().map(|field| field.to_string()).collect(),
        };
        self.outbox
            .enqueue_for(
                connection,
                "territory",
                territory.id,
                territory.version,
                &event,
            )
            .await?;
        Ok(())
    }
}
