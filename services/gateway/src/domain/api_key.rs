//! API keys: long-lived credentials for integrations, each limited to scopes and, if an admin
//! gave it one, to a rate limit of its own. Only a hash of the secret is stored; the key is
//! shown once, at creation.

use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use crm_platform::{auth::Scope, error::FieldViolation};
use uuid::Uuid;

use super::check_name;

#[derive(Clone, Debug, PartialEq)]
pub struct ApiKey {
    pub id: Uuid,
    pub owner_user_id: Uuid,
    pub name: String,
    /// The secret's first characters, to tell keys apart.
    pub prefix: String,
    /// Scope names, sorted and distinct.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `None`: the front door's default limit.
    pub rate_limit: Option<RateLimit>,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

/// The largest rate and burst a key may be given.
pub const MAX_RATE_LIMIT: u32 = 1_000_000;

impl RateLimit {
    /// A limit as the API states it (`burst` 0: the rate); a violation names `field.<part>`.
    pub fn new(field: &str, per_second: u32, burst: u32) -> Result<RateLimit, FieldViolation> {
        let within = |part: &str, value: u32| {
            NonZeroU32::new(value)
                .filter(|value| value.get() <= MAX_RATE_LIMIT)
                .ok_or_else(|| {
                    FieldViolation::new(
                        format!("{field}.{part}"),
                        format!("must be 1 to {MAX_RATE_LIMIT}"),
                    )
                })
        };
        let per_second = within("requests_per_second", per_second)?;
        let burst = match burst {
            0 => per_second,
            burst => within("burst", burst)?,
        };
        Ok(RateLimit { per_second, burst })
    }
}

/// How many characters of the secret are kept as its prefix.
pub const PREFIX_CHARS: usize = 12;

impl ApiKey {
    /// A new key of `owner` for `secret`, with the name and scopes checked: scopes are
    /// trimmed, lowered, sorted and deduplicated; none means `read`.
    pub fn new(
        owner_user_id: Uuid,
        name: &str,
        scopes: Vec<String>,
        rate_limit: Option<RateLimit>,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<ApiKey, FieldViolation> {
        let name = check_name(name, 100).map_err(|message| FieldViolation::new("name", message))?;
        Ok(ApiKey {
            id: Uuid::now_v7(),
            owner_user_id,
            name,
            prefix: secret.chars().take(PREFIX_CHARS).collect(),
            scopes: normalize_scopes(scopes)?,
            created_at: now,
            revoked_at: None,
            last_used_at: None,
            rate_limit,
        })
    }
}

fn normalize_scopes(scopes: Vec<String>) -> Result<Vec<String>, FieldViolation> {
    let mut scopes: Vec<String> = scopes
        .into_iter()
        .map(|scope| scope.trim().to_lowercase())
        .collect();
    if scopes.is_empty() {
        scopes.push("read".to_owned());
    }
    if let Some(error) = scopes.iter().find_map(|scope| scope.parse::<Scope>().err()) {
        return Err(FieldViolation::new("scopes", error));
    }
    scopes.sort();
    scopes.dedup();
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_has_a_name_and_known_scopes_read_by_default() {
        let owner = Uuid::now_v7();
        let now = crm_platform::time::now();
        let key = ApiKey::new(owner, " CI ", vec![], None, "crm_0123456789abcdef", now).unwrap();
        assert_eq!(
            (key.name.as_str(), key.prefix.as_str()),
            ("CI", "crm_01234567")
        );
        assert_eq!(key.scopes, ["read"]);
        let key = ApiKey::new(
            owner,
            "x",
            vec![" Read".into(), "read".into()],
            None,
            "s",
            now,
        )
        .unwrap();
        assert_eq!(key.scopes, ["read"]);
        assert_eq!(
            ApiKey::new(owner, "x", vec!["root".into()], None, "s", now)
                .unwrap_err()
                .field,
            "scopes"
        );
        assert_eq!(
            ApiKey::new(owner, "", vec![], None, "s", now)
                .unwrap_err()
                .field,
            "name"
        );
    }

    #[test]
    fn a_rate_limit_is_positive_bounded_and_bursts_at_its_rate_by_default() {
        let limit = RateLimit::new("rate_limit", 20, 0).unwrap();
        assert_eq!((limit.per_second.get(), limit.burst.get()), (20, 20));
        let limit = RateLimit::new("rate_limit", 1, 5).unwrap();
        assert_eq!((limit.per_second.get(), limit.burst.get()), (1, 5));
        for (rate, burst, field) in [
            (0, 5, "rate_limit.requests_per_second"),
            (MAX_RATE_LIMIT + 1, 5, "rate_limit.requests_per_second"),
            (5, MAX_RATE_LIMIT + 1, "rate_limit.burst"),
        ] {
            assert_eq!(
                RateLimit::new("rate_limit", rate, burst).unwrap_err().field,
                field
            );
        }
    }
}
