//! Domain types to protobuf messages, and the enum mappings both ways.

use crm_platform::{
    auth::Role, error::FieldViolation, fiscal::FiscalYearNaming, time::to_timestamp,
};
use crm_proto::crm::{common::v1::LifecycleStage, gateway::v1 as pb};

use crate::domain::{
    api_key::{ApiKey, RateLimit},
    exchange_rate::ExchangeRate,
    settings::OrgSettings,
    stage::Stage,
    team::Team,
    territory::Territory,
    user::User,
};

pub fn team(team: &Team) -> pb::Team {
    pb::Team {
        id: team.id.to_string(),
        slug: team.slug.clone(),
        name: team.name.clone(),
        parent_team_id: team
            .parent_team_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        path: team.path.to_string(),
        created_at: Some(to_timestamp(team.created_at)),
    }
}

pub fn org_settings(settings: &OrgSettings) -> pb::OrgSettings {
    pb::OrgSettings {
        default_calling_code: settings.default_calling_code.clone().unwrap_or_default(),
        version: settings.version as u64,
        updated_at: settings.updated_at.map(to_timestamp),
        corporate_currency: settings
            .corporate_currency
            .map(|code| code.to_string())
            .unwrap_or_default(),
        fiscal_year_start_month: settings.fiscal_calendar.start_month(),
        fiscal_year_naming: fiscal_year_naming_to_wire(settings.fiscal_calendar.naming()) as i32,
    }
}

pub fn fiscal_year_naming_to_wire(naming: FiscalYearNaming) -> pb::FiscalYearNaming {
    match naming {
        FiscalYearNaming::StartingYear => pb::FiscalYearNaming::StartingYear,
        FiscalYearNaming::EndingYear => pb::FiscalYearNaming::EndingYear,
    }
}

/// `None` for UNSPECIFIED.
pub fn fiscal_year_naming_from_wire(naming: pb::FiscalYearNaming) -> Option<FiscalYearNaming> {
    match naming {
        pb::FiscalYearNaming::Unspecified => None,
        pb::FiscalYearNaming::StartingYear => Some(FiscalYearNaming::StartingYear),
        pb::FiscalYearNaming::EndingYear => Some(FiscalYearNaming::EndingYear),
    }
}

pub fn exchange_rate(rate: &ExchangeRate) -> pb::ExchangeRate {
    pb::ExchangeRate {
        currency_code: rate.currency.to_string(),
        corporate_currency: rate.corporate_currency.to_string(),
        effective_on: rate.effective_on.to_string(),
        rate: rate.rate.normalize().to_string(),
        set_at: Some(to_timestamp(rate.set_at)),
        set_by: rate.set_by.to_string(),
    }
}

pub fn user(user: &User) -> pb::User {
    pb::User {
        id: user.id.to_string(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: role_to_wire(user.role) as i32,
        team_id: user.team_id.to_string(),
        team_path: user.team_path.to_string(),
        stage: stage_to_wire(Some(user.stage)) as i32,
        stage_override: stage_to_wire(user.stage_override) as i32,
        started_on: user.started_on.to_string(),
        active: user.active,
        version: user.version as u64,
        created_at: Some(to_timestamp(user.created_at)),
        updated_at: Some(to_timestamp(user.updated_at)),
        territories: user.territories.clone(),
    }
}

pub fn territory(territory: &Territory) -> pb::Territory {
    pb::Territory {
        id: territory.id.to_string(),
        code: territory.code.clone(),
        name: territory.name.clone(),
        parent_territory_id: territory
            .parent_territory_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        parent_code: territory.parent_code.clone().unwrap_or_default(),
        team_id: territory
            .team_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        team_path: territory
            .team_path
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        description: territory.description.clone(),
        version: territory.version as u64,
        created_at: Some(to_timestamp(territory.created_at)),
        updated_at: Some(to_timestamp(territory.updated_at)),
    }
}

pub fn api_key(key: &ApiKey) -> pb::ApiKey {
    pb::ApiKey {
        id: key.id.to_string(),
        name: key.name.clone(),
        prefix: key.prefix.clone(),
        scopes: key.scopes.clone(),
        owner_user_id: key.owner_user_id.to_string(),
        created_at: Some(to_timestamp(key.created_at)),
        revoked_at: key.revoked_at.map(to_timestamp),
        last_used_at: key.last_used_at.map(to_timestamp),
        rate_limit: key.rate_limit.map(|limit| pb::RateLimit {
            requests_per_second: limit.per_second.get(),
            burst: limit.burst.get(),
        }),
    }
}

/// A request's rate limit (`None` when unset: the default).
pub fn rate_limit_from_wire(
    field: &str,
    limit: Option<&pb::RateLimit>,
) -> Result<Option<RateLimit>, FieldViolation> {
    limit
        .map(|limit| RateLimit::new(field, limit.requests_per_second, limit.burst))
        .transpose()
}

pub fn role_to_wire(role: Role) -> pb::Role {
    match role {
        Role::Admin => pb::Role::Admin,
        Role::Manager => pb::Role::Manager,
        Role::Rep => pb::Role::Rep,
    }
}

pub fn role_from_wire(value: i32) -> Option<Role> {
    match pb::Role::try_from(value).ok()? {
        pb::Role::Admin => Some(Role::Admin),
        pb::Role::Manager => Some(Role::Manager),
        pb::Role::Rep => Some(Role::Rep),
        pb::Role::Unspecified => None,
    }
}

pub fn stage_to_wire(stage: Option<Stage>) -> LifecycleStage {
    match stage {
        Some(Stage::New) => LifecycleStage::New,
        Some(Stage::Established) => LifecycleStage::Established,
        Some(Stage::Senior) => LifecycleStage::Senior,
        None => LifecycleStage::Unspecified,
    }
}

/// `Err` for a value outside the enum; `Ok(None)` for unspecified.
pub fn stage_from_wire(value: i32) -> Result<Option<Stage>, ()> {
    match LifecycleStage::try_from(value).map_err(|_| ())? {
        LifecycleStage::Unspecified => Ok(None),
        LifecycleStage::New => Ok(Some(Stage::New)),
        LifecycleStage::Established => Ok(Some(Stage::Established)),
        LifecycleStage::Senior => Ok(Some(Stage::Senior)),
    }
}
