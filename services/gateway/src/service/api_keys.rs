//! API keys: everyone manages their own (admins revoke anyone's), from a signed-in session;
//! only admins give a key a rate limit of its own.

use crm_platform::auth::{Caller, Role};
use uuid::Uuid;

use super::{Gateway, Result};
use crate::{
    domain::{
        api_key::{ApiKey, RateLimit},
        credentials::{random_secret, secret_hash},
    },
    error::GatewayError,
    store,
};

/// API keys are managed in a user's session: a key's token that could mint keys would outlive
/// its own revocation and could widen its scopes.
fn require_session(caller: &Caller) -> Result<()> {
    if caller.is_api_key() {
        return Err(GatewayError::permission_denied(
            "API keys are managed from a signed-in session, not with an API key's token",
        ));
    }
    Ok(())
}

/// A key's own rate limit raises (or lowers) what one integration may send past everyone's
/// default, so it is an admin's decision.
fn require_admin_for_rate_limit(caller: &Caller) -> Result<()> {
    if caller.role != Role::Admin {
        return Err(GatewayError::permission_denied(
            "only an admin gives an API key a rate limit of its own",
        ));
    }
    Ok(())
}

impl Gateway {
    /// A new key and its secret, which is shown this once.
    pub async fn create_api_key(
        &self,
        caller: &Caller,
        name: &str,
        scopes: Vec<String>,
        rate_limit: Option<RateLimit>,
    ) -> Result<(ApiKey, String)> {
        require_session(caller)?;
        if rate_limit.is_some() {
            require_admin_for_rate_limit(caller)?;
        }
        let secret = random_secret("crm_").map_err(GatewayError::Credentials)?;
        let key = ApiKey::new(
            caller.user_id,
            name,
            scopes,
            rate_limit,
            &secret,
            crm_platform::time::now(),
        )?;
        // Every write commits through the kit, so a keyed call keeps its reply with it.
        let mut transaction = self.pool.begin().await?;
        if store::get_user(&mut transaction, caller.user_id)
            .await?
            .is_none()
        {
            return Err(GatewayError::CallerUnknown);
        }
        store::insert_api_key(&mut transaction, &key, &secret_hash(&secret)).await?;
        self.outbox.commit(transaction).await?;
        Ok((key, secret))
    }

    pub async fn api_keys(&self, caller: &Caller) -> Result<Vec<ApiKey>> {
        let mut connection = self.pool.acquire().await?;
        Ok(store::api_keys_of(&mut connection, caller.user_id).await?)
    }

    /// The owner revokes their key; admins revoke anyone's.
    pub async fn revoke_api_key(&self, caller: &Caller, id: Uuid) -> Result<ApiKey> {
        require_session(caller)?;
        let mut transaction = self.pool.begin().await?;
        let owned = store::api_keys_of(&mut transaction, caller.user_id)
            .await?
            .iter()
            .any(|key| key.id == id);
        if !owned && caller.role != Role::Admin {
            return Err(GatewayError::not_found("api key", id));
        }
        let Some(key) = store::revoke_api_key(&mut transaction, id).await? else {
            return Err(GatewayError::not_found("api key", id));
        };
        self.outbox.commit(transaction).await?;
        Ok(key)
    }

    /// An admin sets (or, `None`, clears) any key's own rate limit; the front door applies it
    /// within seconds.
    pub async fn set_api_key_rate_limit(
        &self,
        caller: &Caller,
        id: Uuid,
        rate_limit: Option<RateLimit>,
    ) -> Result<ApiKey> {
        require_session(caller)?;
        require_admin_for_rate_limit(caller)?;
        let mut transaction = self.pool.begin().await?;
        let Some(key) = store::set_api_key_rate_limit(&mut transaction, id, rate_limit).await?
        else {
            return Err(GatewayError::not_found("api key", id));
        };
        self.outbox.commit(transaction).await?;
        Ok(key)
    }
}
