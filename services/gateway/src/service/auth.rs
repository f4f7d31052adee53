//! Login, refresh-token rotation with reuse detection, logout, API-key exchange.

use chrono::Duration;
use crm_platform::auth::{Caller, Scopes};
use uuid::Uuid;

use super::{Gateway, Result, TokenPair, caller_of};
use crate::{
    domain::credentials::{decoy_hash, random_secret, secret_hash, verify_password},
    error::GatewayError,
    store::{self, UserRow},
};

const BAD_LOGIN: &str = "invalid email or password";

impl Gateway {
    pub async fn login(&self, email: &str, password: &str) -> Result<(TokenPair, UserRow)> {
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
                return Err(GatewayError::Unauthenticated(BAD_LOGIN.to_owned()));
            }
        };
        let tokens = self
            .issue_tokens(&mut transaction, &user, Uuid::now_v7())
            .await?;
        transaction.commit().await?;
        Ok((tokens, user))
    }

    /// Rotates a refresh token. A token that was already rotated is being replayed: the whole
    /// family is revoked, so whoever stole it and whoever had it must both sign in again.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair> {
        let mut transaction = self.pool.begin().await?;
        let Some(row) =
            store::lock_refresh_token(&mut transaction, &secret_hash(refresh_token)).await?
        else {
            return Err(GatewayError::Unauthenticated(
                "unknown refresh token".to_owned(),
            ));
        };
        if row.revoked_at.is_some() {
            return Err(GatewayError::Unauthenticated(
                "refresh token revoked; sign in again".to_owned(),
            ));
        }
        if row.rotated_at.is_some() {
            store::revoke_family(&mut transaction, row.family_id).await?;
            transaction.commit().await?;
            tracing::warn!(user_id = %row.user_id, "refresh token reuse: family revoked");
            return Err(GatewayError::Unauthenticated(
                "refresh token already used; sign in again".to_owned(),
            ));
        }
        if row.expires_at <= crm_platform::time::now() {
            return Err(GatewayError::Unauthenticated(
                "refresh token expired; sign in again".to_owned(),
            ));
        }
        let user = match store::get_user(&mut transaction, row.user_id).await? {
            Some(user) if user.active => user,
            _ => {
                store::revoke_family(&mut transaction, row.family_id).await?;
                transaction.commit().await?;
                return Err(GatewayError::Unauthenticated(
                    "the account is disabled".to_owned(),
                ));
            }
        };
        store::mark_rotated(&mut transaction, row.id).await?;
        let tokens = self
            .issue_tokens(&mut transaction, &user, row.family_id)
            .await?;
        transaction.commit().await?;
        Ok(tokens)
    }

    /// Ends the session the refresh token belongs to. Unknown tokens are ignored.
    pub async fn logout(&self, refresh_token: &str) -> Result<()> {
        let mut transaction = self.pool.begin().await?;
        if let Some(row) =
            store::lock_refresh_token(&mut transaction, &secret_hash(refresh_token)).await?
        {
            store::revoke_family(&mut transaction, row.family_id).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// An access token acting as the key's owner with the key's scopes, for integrations.
    pub async fn exchange_api_key(
        &self,
        api_key: &str,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>, Vec<String>)> {
        let mut connection = self.pool.acquire().await?;
        let Some(key) = store::use_api_key(&mut connection, &secret_hash(api_key.trim())).await?
        else {
            return Err(GatewayError::Unauthenticated(
                "unknown or revoked API key".to_owned(),
            ));
        };
        let owner = match store::get_user(&mut connection, key.owner_user_id).await? {
            Some(owner) if owner.active => owner,
            _ => {
                return Err(GatewayError::Unauthenticated(
                    "the key's owner is disabled".to_owned(),
                ));
            }
        };
        let expires_at = crm_platform::time::now()
            + Duration::from_std(self.jwt.access_ttl).unwrap_or(Duration::minutes(15));
        // The token acts as the owner, limited to the key's scopes (every service checks them).
        let caller = Caller {
            scopes: Some(Scopes::from_names(&key.scopes)),
            ..caller_of(&owner)?
        };
        let token = self.signer.sign(&caller, self.jwt.access_ttl);
        Ok((token, expires_at, key.scopes))
    }

    async fn issue_tokens(
        &self,
        connection: &mut sqlx::PgConnection,
        user: &UserRow,
        family_id: Uuid,
    ) -> Result<TokenPair> {
        let now = crm_platform::time::now();
        let access_token = self.signer.sign(&caller_of(user)?, self.jwt.access_ttl);
        let refresh_token = random_secret("crt_").map_err(GatewayError::FailedPrecondition)?;
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
            access_expires_at: now
                + Duration::from_std(self.jwt.access_ttl).unwrap_or(Duration::minutes(15)),
            refresh_token,
            refresh_expires_at,
        })
    }
}
