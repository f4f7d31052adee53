//! API keys: long-lived credentials for integrations, each limited to scopes. Only a hash of
//! the secret is stored; the key is shown once, at creation.

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
        let key = ApiKey::new(owner, " CI ", vec![], "crm_0123456789abcdef", now).unwrap();
        assert_eq!(
            (key.name.as_str(), key.prefix.as_str()),
            ("CI", "crm_01234567")
        );
        assert_eq!(key.scopes, ["read"]);
        let key = ApiKey::new(owner, "x", vec![" Read".into(), "read".into()], "s", now).unwrap();
        assert_eq!(key.scopes, ["read"]);
        assert_eq!(
            ApiKey::new(owner, "x", vec!["root".into()], "s", now)
                .unwrap_err()
                .field,
            "scopes"
        );
        assert_eq!(
            ApiKey::new(owner, "", vec![], "s", now).unwrap_err().field,
            "name"
        );
    }
}
