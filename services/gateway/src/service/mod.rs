//! The gateway's use cases: authentication and the organisation (teams, users, territories).

mod auth;
mod org;
mod territories;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::{Caller, JwtSigner, Role, TeamPath},
    config::JwtSettings,
    events::DomainEvent,
    outbox::{Aggregate, Outbox},
};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

pub use org::{NewUser, UserChanges};
pub(crate) use territories::check_codes;
pub use territories::{NewTerritory, TerritoryChanges};

use crate::{domain::stage::StageThresholds, error::GatewayError, store::UserRow};

pub type Result<T> = std::result::Result<T, GatewayError>;

/// Tokens issued at login or refresh.
#[derive(Clone, Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Gateway {
    pool: PgPool,
    outbox: Outbox,
    signer: Arc<JwtSigner>,
    jwt: JwtSettings,
    thresholds: StageThresholds,
}

impl Gateway {
    pub fn new(pool: PgPool, outbox: Outbox, jwt: JwtSettings) -> anyhow::Result<Self> {
        let signer = JwtSigner::new(&jwt).ok_or_else(|| {
            anyhow::anyhow!(
                "the gateway signs tokens: set CRM_JWT_SIGNING_KEY_ID to one of CRM_JWT_KEYS"
            )
        })?;
        Ok(Self {
            pool,
            outbox,
            signer: Arc::new(signer),
            jwt,
            thresholds: StageThresholds::default(),
        })
    }

    async fn publish<E: DomainEvent>(
        &self,
        connection: &mut PgConnection,
        kind: &'static str,
        id: Uuid,
        version: i64,
        event: E,
    ) -> Result<()> {
        let id = id.to_string();
        self.outbox
            .enqueue(
                connection,
                Aggregate {
                    kind,
                    id: &id,
                    version,
                },
                &event,
            )
            .await?;
        Ok(())
    }
}

pub(crate) fn role_of(user: &UserRow) -> Role {
    user.role.parse().unwrap_or(Role::Rep)
}

/// The caller a user's token describes.
pub(crate) fn caller_of(user: &UserRow) -> Result<Caller> {
    Ok(Caller {
        user_id: user.id,
        role: role_of(user),
        team_path: TeamPath::parse(&user.team_path).map_err(|e| {
            GatewayError::FailedPrecondition(format!("user {} has a bad team path: {e}", user.id))
        })?,
        scopes: None,
    })
}
