//! The organisation's entities and rules, without SQL: teams, users, territories and API keys
//! with typed fields (`Role`, `TeamPath`, `Stage`), their validation and their access rules;
//! passwords and tokens; lifecycle stages; the territory hierarchy; the organisation's
//! settings and its exchange rates; and the rules of the views the gateway assembles from the
//! other services (the account 360).

pub mod account_view;
pub mod api_key;
pub mod credentials;
pub mod exchange_rate;
pub mod settings;
pub mod stage;
pub mod team;
pub mod territory;
pub mod user;

/// A name shown to people: trimmed, 1 to `max` characters.
pub fn check_name(name: &str, max: usize) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > max {
        return Err(format!("must be 1 to {max} characters"));
    }
    Ok(name.to_owned())
}
