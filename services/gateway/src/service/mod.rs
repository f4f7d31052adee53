//! The gateway's use cases: authentication, teams and users, API keys, territories, the
//! organisation's settings and its exchange rates. Each is one transaction, its events enqueued in it, ending in the
//! outbox commit. And the views the gateway assembles from the other services, which write
//! nothing ([`AccountViews`]).

mod account_view;
mod api_keys;
mod auth;
mod exchange_rates;
mod org;
mod settings;
mod territories;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use crm_platform::{
    auth::{Caller, JwtSigner, Role},
    config::JwtSettings,
    outbox::Outbox,
};
use sqlx::PgPool;

use crate::{domain::stage::StageThresholds, error::GatewayError};

pub use account_view::AccountViews;

pub type Result<T> = std::result::Result<T, GatewayError>;

/// Tokens issued at login or refresh.
#[derive(Clone, Debug)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: DateTime<Utc>,
}

/// The gateway's use cases on its database.
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
}

fn require_admin(caller: &Caller) -> Result<()> {
    if caller.role != Role::Admin {
        return Err(GatewayError::permission_denied("only admins may do this"));
    }
    Ok(())
}
