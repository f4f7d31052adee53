//! The gateway's gRPC APIs. AuthService is public; the others need a token.

mod account_view;

pub use account_view::AccountViewApi;

use chrono::NaiveDate;
use crm_platform::{
    auth::caller,
    error::Violations,
    ids::{expected_version, parse_id, parse_optional_id},
    money::{CurrencyCode, parse_exchange_rate},
    time::to_timestamp,
};
use crm_proto::crm::gateway::v1::{
    self as pb, api_key_service_server::ApiKeyService, auth_service_server::AuthService,
    org_service_server::OrgService,
};
use tonic::{Request, Response, Status};

use crate::{
    convert,
    domain::{
        exchange_rate::NewExchangeRate,
        settings::SettingsChanges,
        territory::{NewTerritory, TerritoryChanges, check_codes},
        user::{NewUser, UserChanges, check_display_name},
    },
    error::GatewayError,
    service::{Gateway, TokenPair},
};

#[derive(Clone)]
pub struct GatewayApi {
    gateway: Gateway,
}

impl GatewayApi {
    pub fn new(gateway: Gateway) -> Self {
        Self { gateway }
    }
}

const DATE_MESSAGE: &str = "is not a date like 2026-10-01";

fn date(value: &str) -> Result<NaiveDate, &'static str> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| DATE_MESSAGE)
}

fn tokens(pair: TokenPair) -> pb::TokenPair {
    pb::TokenPair {
        access_token: pair.access_token,
        access_expires_at: Some(to_timestamp(pair.access_expires_at)),
        refresh_token: pair.refresh_token,
        refresh_expires_at: Some(to_timestamp(pair.refresh_expires_at)),
    }
}

#[tonic::async_trait]
impl AuthService for GatewayApi {
    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let request = request.into_inner();
        let (pair, user) = self
            .gateway
            .login(&request.email, &request.password)
            .await?;
        Ok(Response::new(pb::LoginResponse {
            tokens: Some(tokens(pair)),
            user: Some(convert::user(&user)),
        }))
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        let pair = self
            .gateway
            .refresh(&request.get_ref().refresh_token)
            .await?;
        Ok(Response::new(pb::RefreshTokenResponse {
            tokens: Some(tokens(pair)),
        }))
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        self.gateway
            .logout(&request.get_ref().refresh_token)
            .await?;
        Ok(Response::new(pb::LogoutResponse {}))
    }

    async fn exchange_api_key(
        &self,
        request: Request<pb::ExchangeApiKeyRequest>,
    ) -> Result<Response<pb::ExchangeApiKeyResponse>, Status> {
        let (access_token, expires_at, scopes) = self
            .gateway
            .exchange_api_key(&request.get_ref().api_key)
            .await?;
        Ok(Response::new(pb::ExchangeApiKeyResponse {
            access_token,
            expires_at: Some(to_timestamp(expires_at)),
            scopes,
        }))
    }
}

#[tonic::async_trait]
impl OrgService for GatewayApi {
    async fn create_team(
        &self,
        request: Request<pb::CreateTeamRequest>,
    ) -> Result<Response<pb::CreateTeamResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let parent = parse_optional_id("parent_team_id", &request.parent_team_id)
            .map_err(GatewayError::from)?;
        let team = self
            .gateway
            .create_team(&caller, &request.slug, &request.name, parent)
            .await?;
        Ok(Response::new(pb::CreateTeamResponse {
            team: Some(convert::team(&team)),
        }))
    }

    async fn list_teams(
        &self,
        request: Request<pb::ListTeamsRequest>,
    ) -> Result<Response<pb::ListTeamsResponse>, Status> {
        let caller = caller(&request)?;
        let teams = self.gateway.teams(&caller).await?;
        Ok(Response::new(pb::ListTeamsResponse {
            teams: teams.iter().map(convert::team).collect(),
        }))
    }

    async fn create_user(
        &self,
        request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::CreateUserResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let new = new_user(request)?;
        let user = self.gateway.create_user(&caller, new).await?;
        Ok(Response::new(pb::CreateUserResponse {
            user: Some(convert::user(&user)),
        }))
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let user_id = parse_id("user_id", &request.user_id).map_err(GatewayError::from)?;
        let changes = user_changes(&request)?;
        let expected = expected_version("expected_version", request.expected_version)
            .map_err(GatewayError::from)?;
        let user = self
            .gateway
            .update_user(&caller, user_id, changes, expected)
            .await?;
        Ok(Response::new(pb::UpdateUserResponse {
            user: Some(convert::user(&user)),
        }))
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::GetUserResponse>, Status> {
        let caller = caller(&request)?;
        let user = self
            .gateway
            .user(
                &caller,
                parse_id("user_id", &request.get_ref().user_id).map_err(GatewayError::from)?,
            )
            .await?;
        Ok(Response::new(pb::GetUserResponse {
            user: Some(convert::user(&user)),
        }))
    }

    async fn list_users(
        &self,
        request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let users = self
            .gateway
            .users(
                &caller,
                parse_optional_id("team_id", &request.team_id).map_err(GatewayError::from)?,
                request.include_inactive,
            )
            .await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: users.iter().map(convert::user).collect(),
        }))
    }

    async fn get_me(
        &self,
        request: Request<pb::GetMeRequest>,
    ) -> Result<Response<pb::GetMeResponse>, Status> {
        let caller = caller(&request)?;
        let user = self.gateway.user(&caller, caller.user_id).await?;
        Ok(Response::new(pb::GetMeResponse {
            user: Some(convert::user(&user)),
        }))
    }

    async fn create_territory(
        &self,
        request: Request<pb::CreateTerritoryRequest>,
    ) -> Result<Response<pb::CreateTerritoryResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let parent = violations.optional_id("parent_territory_id", &request.parent_territory_id);
        let team = violations.optional_id("team_id", &request.team_id);
        let mut new = NewTerritory {
            code: request.code,
            name: request.name,
            parent,
            team,
            description: request.description,
        };
        new.check(&mut violations);
        violations.into_result().map_err(GatewayError::from)?;
        let territory = self.gateway.create_territory(&caller, new).await?;
        Ok(Response::new(pb::CreateTerritoryResponse {
            territory: Some(convert::territory(&territory)),
        }))
    }

    async fn update_territory(
        &self,
        request: Request<pb::UpdateTerritoryRequest>,
    ) -> Result<Response<pb::UpdateTerritoryResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let territory_id = violations.id("territory_id", &request.territory_id);
        let parent = request
            .parent_territory_id
            .as_deref()
            .and_then(|parent| violations.take(parse_optional_id("parent_territory_id", parent)));
        let team = request
            .team_id
            .as_deref()
            .and_then(|team| violations.take(parse_optional_id("team_id", team)));
        let expected = violations.take(expected_version(
            "expected_version",
            request.expected_version,
        ));
        violations.into_result().map_err(GatewayError::from)?;
        let (Some(territory_id), Some(expected)) = (territory_id, expected) else {
            unreachable!("both parsed when there are no violations");
        };
        let changes = TerritoryChanges {
            name: request.name,
            parent,
            team,
            description: request.description,
        };
        let territory = self
            .gateway
            .update_territory(&caller, territory_id, changes, expected)
            .await?;
        Ok(Response::new(pb::UpdateTerritoryResponse {
            territory: Some(convert::territory(&territory)),
        }))
    }

    async fn get_territory(
        &self,
        request: Request<pb::GetTerritoryRequest>,
    ) -> Result<Response<pb::GetTerritoryResponse>, Status> {
        let caller = caller(&request)?;
        let territory = self
            .gateway
            .territory(
                &caller,
                parse_id("territory_id", &request.get_ref().territory_id)
                    .map_err(GatewayError::from)?,
            )
            .await?;
        Ok(Response::new(pb::GetTerritoryResponse {
            territory: Some(convert::territory(&territory)),
        }))
    }

    async fn list_territories(
        &self,
        request: Request<pb::ListTerritoriesRequest>,
    ) -> Result<Response<pb::ListTerritoriesResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let mut violations = Violations::new();
        let team = violations.optional_id("team_id", &request.team_id);
        let parent = violations.optional_id("parent_territory_id", &request.parent_territory_id);
        let codes = check_codes(&mut violations, "codes", &request.codes);
        violations.into_result().map_err(GatewayError::from)?;
        let territories = self
            .gateway
            .territories(&caller, team, parent, &codes)
            .await?;
        Ok(Response::new(pb::ListTerritoriesResponse {
            territories: territories.iter().map(convert::territory).collect(),
        }))
    }

    async fn get_org_settings(
        &self,
        request: Request<pb::GetOrgSettingsRequest>,
    ) -> Result<Response<pb::GetOrgSettingsResponse>, Status> {
        let caller = caller(&request)?;
        let settings = self.gateway.org_settings(&caller).await?;
        Ok(Response::new(pb::GetOrgSettingsResponse {
            settings: Some(convert::org_settings(&settings)),
        }))
    }

    async fn update_org_settings(
        &self,
        request: Request<pb::UpdateOrgSettingsRequest>,
    ) -> Result<Response<pb::UpdateOrgSettingsResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let changes = settings_changes(&request)?;
        let settings = self
            .gateway
            .update_org_settings(
                &caller,
                changes,
                expected_version("expected_version", request.expected_version)
                    .map_err(GatewayError::from)?,
            )
            .await?;
        Ok(Response::new(pb::UpdateOrgSettingsResponse {
            settings: Some(convert::org_settings(&settings)),
        }))
    }

    async fn set_exchange_rate(
        &self,
        request: Request<pb::SetExchangeRateRequest>,
    ) -> Result<Response<pb::SetExchangeRateResponse>, Status> {
        let caller = caller(&request)?;
        let new = new_exchange_rate(&request.into_inner())?;
        let rate = self.gateway.set_exchange_rate(&caller, new).await?;
        Ok(Response::new(pb::SetExchangeRateResponse {
            rate: Some(convert::exchange_rate(&rate)),
        }))
    }

    async fn list_exchange_rates(
        &self,
        request: Request<pb::ListExchangeRatesRequest>,
    ) -> Result<Response<pb::ListExchangeRatesResponse>, Status> {
        let caller = caller(&request)?;
        let currency = match request.get_ref().currency_code.trim() {
            "" => None,
            code => Some(
                code.parse::<CurrencyCode>()
                    .map_err(|error| GatewayError::invalid("currency_code", error))?,
            ),
        };
        let rates = self.gateway.exchange_rates(&caller, currency).await?;
        Ok(Response::new(pb::ListExchangeRatesResponse {
            rates: rates.iter().map(convert::exchange_rate).collect(),
        }))
    }
}

/// A rate from the wire; every field problem reported at once.
fn new_exchange_rate(
    request: &pb::SetExchangeRateRequest,
) -> Result<NewExchangeRate, GatewayError> {
    let mut violations = Violations::new();
    let currency = violations.check(
        "currency_code",
        request.currency_code.trim().parse::<CurrencyCode>(),
    );
    let effective_on = violations.check("effective_on", date(&request.effective_on));
    // A rate of 0 or less is a decimal the schema takes: refused for its value (422).
    let rate = match crm_platform::money::plain_decimal(&request.rate) {
        Ok(value) if value <= rust_decimal::Decimal::ZERO => {
            violations.push(crm_platform::error::FieldViolation::refusal(
                crm_platform::error::reasons::INCONSISTENT_FIELDS,
                "rate",
                "must be more than 0",
            ));
            None
        }
        _ => violations.check("rate", parse_exchange_rate(&request.rate)),
    };
    violations.into_result()?;
    let (Some(currency), Some(effective_on), Some(rate)) = (currency, effective_on, rate) else {
        unreachable!("every field parsed when there are no violations");
    };
    Ok(NewExchangeRate {
        currency,
        effective_on,
        rate,
    })
}

/// The settings an update names, checked, every field problem at once: an empty calling code
/// clears it; the corporate currency is never unset once set (the deals' corporate amounts
/// need one).
fn settings_changes(
    request: &pb::UpdateOrgSettingsRequest,
) -> Result<SettingsChanges, GatewayError> {
    let mut violations = Violations::new();
    let default_calling_code = match request.default_calling_code.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(None),
        Some(code) => violations
            .check(
                "default_calling_code",
                crm_contact_data::normalize_calling_code(code),
            )
            .map(Some),
    };
    let corporate_currency = match request.corporate_currency.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            // Empty is the schema's "no value": refused for what the settings need (422).
            violations.push(crm_platform::error::FieldViolation::refusal(
                crm_platform::error::reasons::INCONSISTENT_FIELDS,
                "corporate_currency",
                "must be an active ISO 4217 currency code: once set it changes but is not unset",
            ));
            None
        }
        Some(code) => violations.check("corporate_currency", code.parse::<CurrencyCode>()),
    };
    let fiscal_year_start_month = match request.fiscal_year_start_month {
        Some(0) => {
            // The schema says at most 12; "at least 1" is the settings' own rule (422).
            violations.push(crm_platform::error::FieldViolation::refusal(
                crm_platform::error::reasons::INCONSISTENT_FIELDS,
                "fiscal_year_start_month",
                "must be a month, 1 to 12",
            ));
            None
        }
        Some(month) if month > 12 => {
            violations.add("fiscal_year_start_month", "must be a month, 1 to 12");
            None
        }
        month => month,
    };
    let fiscal_year_naming = match pb::FiscalYearNaming::try_from(request.fiscal_year_naming) {
        Ok(pb::FiscalYearNaming::Unspecified) => None,
        Ok(naming) => convert::fiscal_year_naming_from_wire(naming),
        Err(_) => {
            violations.add("fiscal_year_naming", "is not a fiscal year naming");
            None
        }
    };
    violations.into_result()?;
    Ok(SettingsChanges {
        default_calling_code,
        corporate_currency,
        fiscal_year_start_month,
        fiscal_year_naming,
    })
}

/// A new user from the wire; every field problem reported at once.
pub fn new_user(request: pb::CreateUserRequest) -> Result<NewUser, GatewayError> {
    let mut violations = Violations::new();
    let email = violations.check("email", crm_contact_data::normalize_email(&request.email));
    let display_name = violations.check("display_name", check_display_name(&request.display_name));
    let role = convert::role_from_wire(request.role);
    if role.is_none() {
        violations.add("role", "must be admin, manager or rep");
    }
    let team_id = violations.id("team_id", &request.team_id);
    let started_on = match request.started_on.trim() {
        "" => Some(crm_platform::time::now().date_naive()),
        day => violations.check("started_on", date(day)),
    };
    let stage_override = violations.check(
        "stage_override",
        convert::stage_from_wire(request.stage_override).map_err(|()| "is not a stage"),
    );
    let territories = check_codes(&mut violations, "territories", &request.territories);
    let id = match request.user_id.trim() {
        "" => Some(None),
        _ => violations.id("user_id", &request.user_id).map(Some),
    };
    violations.into_result()?;
    let (Some(id), Some(email), Some(display_name), Some(role), Some(team_id), Some(started_on)) =
        (id, email, display_name, role, team_id, started_on)
    else {
        unreachable!("every field parsed when there are no violations");
    };
    Ok(NewUser {
        id,
        email,
        display_name,
        role,
        team_id,
        password: request.password,
        started_on,
        stage_override: stage_override.flatten(),
        territories,
    })
}

/// The changes an update asks for; every field problem reported at once.
fn user_changes(request: &pb::UpdateUserRequest) -> Result<UserChanges, GatewayError> {
    let mut violations = Violations::new();
    let changes = UserChanges {
        display_name: request
            .display_name
            .as_deref()
            .and_then(|name| violations.check("display_name", check_display_name(name))),
        role: request.role.and_then(|role| {
            violations.check("role", convert::role_from_wire(role).ok_or("is not a role"))
        }),
        team_id: request
            .team_id
            .as_deref()
            .and_then(|team| violations.id("team_id", team)),
        active: request.active,
        password: request.password.clone(),
        stage_override: request.stage_override.and_then(|stage| {
            violations.check(
                "stage_override",
                convert::stage_from_wire(stage).map_err(|()| "is not a stage"),
            )
        }),
        started_on: request
            .started_on
            .as_deref()
            .and_then(|day| violations.check("started_on", date(day))),
        territories: request
            .territories
            .as_ref()
            .map(|list| check_codes(&mut violations, "territories.codes", &list.codes)),
    };
    violations.into_result()?;
    Ok(changes)
}

#[tonic::async_trait]
impl ApiKeyService for GatewayApi {
    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> Result<Response<pb::CreateApiKeyResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let rate_limit = convert::rate_limit_from_wire("rate_limit", request.rate_limit.as_ref())
            .map_err(GatewayError::from)?;
        let (key, secret) = self
            .gateway
            .create_api_key(&caller, &request.name, request.scopes, rate_limit)
            .await?;
        Ok(Response::new(pb::CreateApiKeyResponse {
            key: Some(convert::api_key(&key)),
            api_key: secret,
        }))
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> Result<Response<pb::ListApiKeysResponse>, Status> {
        let caller = caller(&request)?;
        let keys = self.gateway.api_keys(&caller).await?;
        Ok(Response::new(pb::ListApiKeysResponse {
            keys: keys.iter().map(convert::api_key).collect(),
        }))
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
        let caller = caller(&request)?;
        let key = self
            .gateway
            .revoke_api_key(
                &caller,
                parse_id("api_key_id", &request.get_ref().api_key_id)
                    .map_err(GatewayError::from)?,
            )
            .await?;
        Ok(Response::new(pb::RevokeApiKeyResponse {
            key: Some(convert::api_key(&key)),
        }))
    }

    async fn set_api_key_rate_limit(
        &self,
        request: Request<pb::SetApiKeyRateLimitRequest>,
    ) -> Result<Response<pb::SetApiKeyRateLimitResponse>, Status> {
        let caller = caller(&request)?;
        let request = request.into_inner();
        let id = parse_id("api_key_id", &request.api_key_id).map_err(GatewayError::from)?;
        let rate_limit = convert::rate_limit_from_wire("rate_limit", request.rate_limit.as_ref())
            .map_err(GatewayError::from)?;
        let key = self
            .gateway
            .set_api_key_rate_limit(&caller, id, rate_limit)
            .await?;
        Ok(Response::new(pb::SetApiKeyRateLimitResponse {
            key: Some(convert::api_key(&key)),
        }))
    }
}
