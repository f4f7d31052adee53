//! Login, refresh-token rotation with reuse detection, logout, API-key exchange.

use chrono::{DateTime, Duration, Utc};
use crm_platform::auth::{Caller, Scopes};
use uuid::Uuid;

use super::{Gateway, Result, TokenPair};
use crate::{
    domain::{
        credentials::{RefreshState, decoy_hash, random_secret, secret_hash, verify_password},
        user::User,
    },
    error::{GatewayError, Refusal},
    store,
};

fn refused(refusal: Refusal) -> GatewayError {
    GatewayError::Unauthenticated(refusal)
}

impl Gateway {
    pub async fn login(&self, email: &str, password: &str) -> Result<(TokenPair, User)> {
        let email = crm_contact_data::normalize_email(email).unwrap_or_default();
        let mut transaction = self.pool.begin().await?;
        let user = store::user_by_email(&mut transaction, &email).await?;
        // The hash is checked even for an unknown email, so timing does not tell who exists.
        let hash = user
            .as_ref()
            .map_or(decoy_hash(), |user| user.password_hash.as_str());
        let password_ok = verify_password(password, hash);
        let user = match user {
            Some(user) if password_ok && user.active => user,
            _ => {
                tracing::info!("login refused");
                return Err(refused(Refusal::BadLogin));
            }
        };
        let tokens = self
            .issue_tokens(&mut transaction, &user, Uuid::now_v7())
            .await?;
        self.outbox.commit(transaction).await?;
        Ok((tokens, user))
    }

    /// Rotates a refresh token. A token that was already rotated is being replayed: the whole
    /// family is revoked, so whoever stole it and whoever had it must both sign in again.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        let mut transaction = self.pool.begin().await?;
        let Some(token) =
            store::lock_refresh_token(&mut transaction, &secret_hash(refresh_token)).await?
        else {
            return Err(refused(Refusal::UnknownRefreshToken));
        };
        match token.state(crm_platform::time::now()) {
            RefreshState::Usable => {}
            RefreshState::Revoked => return Err(refused(Refusal::RefreshRevoked)),
            RefreshState::Expired => return Err(refused(Refusal::RefreshExpired)),
            RefreshState::Reused => {
                store::revoke_family(&mut transaction, token.family_id).await?;
                self.outbox.commit(transaction).await?;
                tracing::warn!(user_id = %token.user_id, "refresh token reuse: family revoked");
                return Err(refused(Refusal::RefreshReused));
            }
        }
        let user = match store::get_user(&mut transaction, token.user_id).await? {
            Some(user) if user.active => user,
            _ => {
                store::revoke_family(&mut transaction, token.family_id).await?;
                self.outbox.commit(transaction).await?;
                return Err(refused(Refusal::AccountDisabled));
            }
        };
        store::mark_rotated(&mut transaction, token.id).await?;
        let tokens = self
            .issue_tokens(&mut transaction, &user, token.family_id)
            .await?;
        self.outbox.commit(transaction).await?;
        Ok(tokens)
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are ignored.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let mut transaction = self.pool.begin().await?;
        if let Some(token) =
            store::lock_refresh_token(&mut transaction, &secret_hash(refresh_token)).await?
        {
            store::revoke_family(&mut transaction, token.family_id).await?;
        }
        self.outbox.commit(transaction).await?;
        Ok(())
    }

    /// An access token acting as the key's owner with the key's scopes, for integrations.
    pub async fn exchange_api_key(
        &self,
        api_key: &str,
    ) -> Result<(String, DateTime<Utc>, Vec<String>)> {
        let mut connection = self.pool.acquire().await?;
        let Some(key) = store::use_api_key(&mut connection, &secret_hash(api_key.trim())).await?
        else {
            return Err(refused(Refusal::UnknownApiKey));
        };
        let owner = match store::get_user(&mut connection, key.owner_user_id).await? {
            Some(owner) if owner.active => owner,
            _ => return Err(refused(Refusal::KeyOwnerDisabled)),
        };
        let expires_at = crm_platform::time::now() + self.access_ttl();
        // The token acts as the owner, limited to the key's scopes (every service checks them).
        let caller = Caller {
            scopes: Some(Scopes::from_names(&key.scopes)),
            ..owner.caller()
        };
        // The token names its key, so the front door applies the key's own rate limit.
        let token = self
            .signer
            .sign_for_client(&caller, key.id, self.jwt.access_ttl);
        Ok((token, expires_at, key.scopes))
    }

    fn access_ttl(&self) -> Duration {
        Duration::from_std(self.jwt.access_ttl).unwrap_or(Duration::minutes(15))
    }

    async fn issue_tokens(
        &self,
        connection: &mut sqlx::PgConnection,
        user: &User,
        family_id: Uuid,
    ) -> Result<TokenPair> {
        let now = crm_platform::time::now();
        let access_token = self.signer.sign(&user.caller(), self.jwt.access_ttl);
        let refresh_token = random_secret("crt_").map_err(GatewayError::Credentials)?;
        let refresh_expires_at =
            now + Duration::from_std(self.jwt.refresh_ttl).unwrap_or(Duration::days(30));
        store::insert_refresh_token(
            connection,
            family_id,
            user.id,
            &secret_hash(&refresh_token),
            refresh_expires_at,
        )
        .await?;
        Ok(TokenPair {
            access_token,
            access_expires_at: now + self.access_ttl(),
            refresh_token,
            refresh_expires_at,
        })
    }
}
