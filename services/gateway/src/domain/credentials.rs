//! Passwords (argon2id), and the random secrets behind refresh tokens and API keys, which are
//! stored only as SHA-256 hashes.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Why a password is refused; the message is shown to the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordRefusal {
    /// Longer than the request's form allows (its schema states the most).
    TooLong(String),
    /// Guessable: too short, too few different characters, or the email in it.
    Weak(String),
}

/// A password a user may choose.
pub fn check_password(password: &str, email: &str) -> Result<(), PasswordRefusal> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordRefusal::Weak(format!(
            "must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordRefusal::TooLong(format!(
            "must be at most {MAX_PASSWORD_CHARS} characters"
        )));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 5 {
        return Err(PasswordRefusal::Weak(
            "must use at least 5 different characters".to_owned(),
        ));
    }
    let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
    if !local_part.is_empty() && password.to_lowercase().contains(&local_part) {
        return Err(PasswordRefusal::Weak(
            "must not contain the email address".to_owned(),
        ));
    }
    Ok(())
}

/// The PHC string of an argon2id hash with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| format!("hashing failed: {error}"))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A hash of a fixed password, verified against when the email is unknown, so that an
/// unknown email costs as much time as a wrong password and does not reveal who has an account.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-never-valid").expect("hashing a constant"))
}

/// A random secret: `prefix` then 64 hex digits (256 bits).
pub fn random_secret(prefix: &str) -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| format!("no randomness: {error}"))?;
    Ok(format!("{prefix}{}", hex(&bytes)))
}

/// How a secret is stored: SHA-256, hex. Secrets are long and random, so no salt is needed.
pub fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A refresh token as stored: one of a family that rotation continues.
#[derive(Clone, Debug, PartialEq)]
pub struct RefreshToken {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a presented refresh token allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshState {
    Usable,
    Revoked,
    /// Rotated already: someone is replaying it, so the whole family is revoked.
    Reused,
    Expired,
}

impl RefreshToken {
    pub fn state(&self, now: DateTime<Utc>) -> RefreshState {
        if self.revoked_at.is_some() {
            RefreshState::Revoked
        } else if self.rotated_at.is_some() {
            RefreshState::Reused
        } else if self.expires_at <= now {
            RefreshState::Expired
        } else {
            RefreshState::Usable
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        let email = "ada@northwind.example";
        assert_eq!(
            check_password("short", email),
            Err(PasswordRefusal::Weak(
                "must be at least 12 characters".into()
            ))
        );
        assert!(matches!(
            check_password(&"x".repeat(129), email),
            Err(PasswordRefusal::TooLong(_))
        ));
        assert_eq!(
            check_password("aaaaaaaaaaaaaaaa", email),
            Err(PasswordRefusal::Weak(
                "must use at least 5 different characters".into()
            ))
        );
        assert_eq!(
            check_password("ada-is-the-best-2026", email),
            Err(PasswordRefusal::Weak(
                "must not contain the email address".into()
            ))
        );
        assert!(check_password("correct horse battery", email).is_ok());
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse battery!", &hash));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn a_refresh_token_is_revoked_reused_expired_or_usable_in_that_order() {
        let now = crm_platform::time::now();
        let mut token = RefreshToken {
            id: Uuid::now_v7(),
            family_id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            expires_at: now + chrono::Duration::days(1),
            rotated_at: None,
            revoked_at: None,
        };
        assert_eq!(token.state(now), RefreshState::Usable);
        assert_eq!(token.state(token.expires_at), RefreshState::Expired);
        token.rotated_at = Some(now);
        assert_eq!(token.state(now), RefreshState::Reused);
        token.revoked_at = Some(now);
        assert_eq!(token.state(now), RefreshState::Revoked);
    }

    #[test]
    fn secrets_are_random_and_stored_as_hashes() {
        let first = random_secret("crm_").unwrap();
        let second = random_secret("crm_").unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), 4 + 64);
        assert_eq!(secret_hash(&first).len(), 64);
        assert_ne!(secret_hash(&first), secret_hash(&second));
    }
}
