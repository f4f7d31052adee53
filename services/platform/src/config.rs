//! Settings from the environment (and an optional file of the same `KEY=value` lines), checked
//! once at start so a bad value fails fast with the name of the variable at fault.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::Path, sync::Arc, time::Duration};

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {variable}: {message}")]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &str, message: impl Into<String>) -> Self {
        Self {
            variable: variable.to_owned(),
            message: message.into(),
        }
    }
}

/// A value that must never be printed (database passwords, signing keys).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything a process hosting one or more services needs to start.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the gRPC server listens (all hosted services share it).
    pub grpc_addr: SocketAddr,
    /// Where `/metrics` is served; `None` when set to `off`.
    pub metrics_addr: Option<SocketAddr>,
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info,crm_platform=debug`.
    pub log_filter: String,
    /// Log lines go to stderr instead of stdout (`CRM_LOG_TARGET=stderr`).
    pub log_to_stderr: bool,
    /// OTLP/gRPC collector; traces are exported only when set.
    pub otlp_endpoint: Option<String>,
    pub nats_url: String,
    /// Server URL without a database; each service uses database `crm_<service>` on it unless
    /// `CRM_<SERVICE>_DATABASE_URL` says otherwise.
    pub postgres_url: Secret,
    database_urls: BTreeMap<String, Secret>,
    pub database_max_connections: u32,
    /// Apply migrations when a service starts (the Kubernetes Job sets this off and runs `migrate`).
    pub migrate_on_start: bool,
    /// Prefix of every subject and stream name: empty in production, unique per test.
    pub event_namespace: Option<String>,
    pub outbox: OutboxSettings,
    pub consumer: ConsumerSettings,
    pub jwt: JwtSettings,
    /// How long graceful shutdown waits for in-flight calls before giving up.
    pub shutdown_grace: Duration,
    /// How long each service keeps the replies of calls sent with an idempotency key
    /// (`CRM_REPLY_RETENTION`; see [`crate::replies`]).
    pub reply_retention: Duration,
    /// Every value read, for the services' own sections ([`Settings::service`]).
    values: RawValues,
}

/// The raw values; printed by name only, since some are secrets.
#[derive(Clone, Default)]
struct RawValues(Arc<BTreeMap<String, String>>);

impl fmt::Debug for RawValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// One service's own settings: the `CRM_<SERVICE>_*` variables, which the service reads and
/// checks itself when it is mounted (so a bad value still stops the process at start, naming
/// the variable). The platform's [`Settings`] keeps only what every service shares.
#[derive(Clone, Debug)]
pub struct ServiceSettings {
    prefix: String,
    values: RawValues,
}

impl ServiceSettings {
    /// `CRM_<SERVICE>_<KEY>`.
    pub fn variable(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn source(&self) -> Source<'_> {
        Source(&self.values.0)
    }

    pub fn optional(&self, key: &str) -> Option<String> {
        self.source().optional(&self.variable(key))
    }

    pub fn string(&self, key: &str, default: &str) -> String {
        self.source().string(&self.variable(key), default)
    }

    pub fn number<T>(
        &self,
        key: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        self.source().number(&self.variable(key), default, range)
    }

    pub fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        self.source().boolean(&self.variable(key), default)
    }

    pub fn duration(&self, key: &str, default: &str) -> Result<Duration, ConfigError> {
        self.source().duration(&self.variable(key), default)
    }

    pub fn addr(&self, key: &str, default: &str) -> Result<SocketAddr, ConfigError> {
        let variable = self.variable(key);
        parse_addr(&variable, &self.source().string(&variable, default))
    }

    /// Every `CRM_<SERVICE>_<KEY><NAME>` as `name` (lower case) → value, for families of
    /// variables such as one URL per upstream service.
    pub fn family(&self, key: &str) -> BTreeMap<String, String> {
        let prefix = self.variable(key);
        self.values
            .0
            .iter()
            .filter_map(|(variable, value)| {
                let name = variable.strip_prefix(&prefix)?;
                Some((name.to_ascii_lowercase(), value.trim().to_owned()))
            })
            .collect()
    }

    /// The value of `key` checked by `check` (which says what is wrong with a bad one); `None`
    /// when unset.
    pub fn checked<E: fmt::Display>(
        &self,
        key: &str,
        check: impl FnOnce(&str) -> Result<(), E>,
    ) -> Result<Option<String>, ConfigError> {
        let Some(value) = self.optional(key) else {
            return Ok(None);
        };
        check(&value).map_err(|error| self.error(key, error.to_string()))?;
        Ok(Some(value))
    }

    /// A problem with one of this section's values, named by its variable.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::new(&self.variable(key), message)
    }
}

#[derive(Clone, Debug)]
pub struct OutboxSettings {
    /// Fallback poll for rows committed by another replica (this replica wakes on its own commits).
    pub poll_interval: Duration,
    pub batch_size: u32,
    /// How long published rows are kept for `crm outbox replay`.
    pub retention: Duration,
    /// JetStream's window for dropping re-published message ids.
    pub duplicate_window: Duration,
    pub publish_timeout: Duration,
    /// After a partial batch, how long the relay lets more commits gather before claiming
    /// again: fewer, fuller batches under load, at most this much added latency.
    pub linger: Duration,
}

#[derive(Clone, Debug)]
pub struct ConsumerSettings {
    /// Deliveries before a failing event goes to the dead-letter subject.
    pub max_deliver: u32,
    pub ack_wait: Duration,
    /// Events handled in one database transaction (fewer commits under load).
    pub batch_size: u32,
    /// Inbox rows are kept at least as long as the outbox keeps events that could be replayed.
    pub inbox_retention: Duration,
}

#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// Verification keys by key id; several at once so keys rotate without downtime.
    pub verification_keys: Vec<(String, Secret)>,
    /// Key id used to sign (gateway, dev tokens); must be one of the verification keys.
    pub signing_key_id: Option<String>,
    pub issuer: String,
    pub audience: String,
    /// Lifetime of access tokens the gateway issues.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens (rotated on every use).
    pub refresh_ttl: Duration,
    /// How long past its expiry (or before its issue time) a token is still accepted, for
    /// clocks that disagree between the gateway and the services (`CRM_JWT_LEEWAY`).
    pub leeway: Duration,
}

/// The longest `CRM_JWT_LEEWAY` accepted: clock skew is seconds, not a second token lifetime.
const MAX_JWT_LEEWAY: Duration = Duration::from_secs(300);

impl Settings {
    /// Reads the process environment, over the file named by `CRM_CONFIG_FILE` if set.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut values = BTreeMap::new();
        if let Ok(path) = std::env::var("CRM_CONFIG_FILE") {
            values.extend(read_env_file(Path::new(&path))?);
        }
        for (key, value) in std::env::vars() {
            if key.starts_with("CRM_") || key.starts_with("OTEL_") || key == "RUST_LOG" {
                values.insert(key, value);
            }
        }
        Self::from_values(&values)
    }

    /// Builds settings from explicit values (tests use this instead of the process environment).
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let source = Source(values);
        let jwt = JwtSettings {
            verification_keys: source.key_list("CRM_JWT_KEYS")?,
            signing_key_id: source.optional("CRM_JWT_SIGNING_KEY_ID"),
            issuer: source.string("CRM_JWT_ISSUER", "crm-gateway"),
            audience: source.string("CRM_JWT_AUDIENCE", "crm"),
            access_ttl: source.duration("CRM_JWT_ACCESS_TTL", "15m")?,
            refresh_ttl: source.duration("CRM_JWT_REFRESH_TTL", "30d")?,
            leeway: source.duration("CRM_JWT_LEEWAY", "30s")?,
        };
        if jwt.leeway > MAX_JWT_LEEWAY {
            return Err(ConfigError::new(
                "CRM_JWT_LEEWAY",
                "must be at most 5m (a longer leeway keeps expired tokens working)",
            ));
        }
        if let Some(kid) = &jwt.signing_key_id
            && !jwt.verification_keys.iter().any(|(id, _)| id == kid)
        {
            return Err(ConfigError::new(
                "CRM_JWT_SIGNING_KEY_ID",
                format!("key id {kid:?} is not among CRM_JWT_KEYS"),
            ));
        }
        let database_urls = values
            .iter()
            .filter_map(|(key, value)| {
                let service = key.strip_prefix("CRM_")?.strip_suffix("_DATABASE_URL")?;
                Some((service.to_ascii_lowercase(), Secret::new(value.clone())))
            })
            .collect();
        let postgres_url = source.string("CRM_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432");
        if !postgres_url.starts_with("postgres://") && !postgres_url.starts_with("postgresql://") {
            return Err(ConfigError::new(
                "CRM_POSTGRES_URL",
                "must be a postgres:// URL",
            ));
        }
        let log_format = match source.string("CRM_LOG_FORMAT", "text").as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    "CRM_LOG_FORMAT",
                    format!("{other:?} is not one of text, json"),
                ));
            }
        };
        let metrics_addr = match source.optional("CRM_METRICS_ADDR").as_deref() {
            Some("off") => None,
            Some(addr) => Some(parse_addr("CRM_METRICS_ADDR", addr)?),
            None => Some(parse_addr("CRM_METRICS_ADDR", "127.0.0.1:9464")?),
        };
        let event_namespace = source.optional("CRM_EVENT_NAMESPACE");
        if let Some(namespace) = &event_namespace
            && (namespace.is_empty()
                || !namespace
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        {
            return Err(ConfigError::new(
                "CRM_EVENT_NAMESPACE",
                "must be lower-case letters and digits",
            ));
        }
        Ok(Self {
            values: RawValues(Arc::new(values.clone())),
            grpc_addr: parse_addr(
                "CRM_GRPC_ADDR",
                &source.string("CRM_GRPC_ADDR", "127.0.0.1:50051"),
            )?,
            metrics_addr,
            log_format,
            log_to_stderr: match source.string("CRM_LOG_TARGET", "stdout").as_str() {
                "stdout" => false,
                "stderr" => true,
                other => {
                    return Err(ConfigError::new(
                        "CRM_LOG_TARGET",
                        format!("{other:?} is not one of stdout, stderr"),
                    ));
                }
            },
            log_filter: source
                .optional("CRM_LOG")
                .or_else(|| source.optional("RUST_LOG"))
                .unwrap_or_else(|| "info,sqlx::postgres::notice=warn".to_owned()),
            otlp_endpoint: source.optional("OTEL_EXPORTER_OTLP_ENDPOINT"),
            nats_url: source.string("CRM_NATS_URL", "nats://127.0.0.1:4222"),
            postgres_url: Secret::new(postgres_url.trim_end_matches('/')),
            database_urls,
            database_max_connections: source.number(
                "CRM_DATABASE_MAX_CONNECTIONS",
                10,
                1..=1000,
            )?,
            migrate_on_start: source.boolean("CRM_MIGRATE_ON_START", true)?,
            event_namespace,
            outbox: OutboxSettings {
                poll_interval: source.duration("CRM_OUTBOX_POLL_INTERVAL", "1s")?,
                batch_size: source.number("CRM_OUTBOX_BATCH_SIZE", 500, 1..=5000)?,
                retention: source.duration("CRM_OUTBOX_RETENTION", "7d")?,
                duplicate_window: source.duration("CRM_EVENTS_DUPLICATE_WINDOW", "2m")?,
                publish_timeout: source.duration("CRM_OUTBOX_PUBLISH_TIMEOUT", "5s")?,
                linger: source.duration("CRM_OUTBOX_LINGER", "1ms")?,
            },
            consumer: ConsumerSettings {
                max_deliver: source.number("CRM_CONSUMER_MAX_DELIVER", 5, 1..=1000)?,
                ack_wait: source.duration("CRM_CONSUMER_ACK_WAIT", "30s")?,
                batch_size: source.number("CRM_CONSUMER_BATCH_SIZE", 100, 1..=1000)?,
                inbox_retention: source.duration("CRM_INBOX_RETENTION", "30d")?,
            },
            jwt,
            shutdown_grace: source.duration("CRM_SHUTDOWN_GRACE", "20s")?,
            reply_retention: source.duration("CRM_REPLY_RETENTION", "24h")?,
        })
    }

    /// Sets one raw value, as the services' own sections read it when they are mounted
    /// (`CRM_GATEWAY_HTTP_ADDR=127.0.0.1:0` for a process on ephemeral ports). The platform's
    /// own fields are parsed already: set those directly.
    pub fn set_value(&mut self, key: &str, value: &str) {
        Arc::make_mut(&mut self.values.0).insert(key.to_owned(), value.to_owned());
    }

    /// The settings of the service `name`: its `CRM_<NAME>_*` variables.
    pub fn service(&self, name: &str) -> ServiceSettings {
        ServiceSettings {
            prefix: format!("CRM_{}_", name.to_ascii_uppercase()),
            values: self.values.clone(),
        }
    }

    /// The database URL of one service.
    pub fn database_url(&self, service: &str) -> Secret {
        match self.database_urls.get(service) {
            Some(url) => url.clone(),
            None => Secret::new(format!("{}/crm_{service}", self.postgres_url.expose())),
        }
    }
}

/// Reads `KEY=value` lines; `#` starts a comment; surrounding quotes are removed.
fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        ConfigError::new("CRM_CONFIG_FILE", format!("{}: {error}", path.display()))
    })?;
    let mut values = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ConfigError::new(
                "CRM_CONFIG_FILE",
                format!("{} line {}: expected KEY=value", path.display(), index + 1),
            ));
        };
        let value = value.trim().trim_matches('"').trim_matches('\'');
        values.insert(key.trim().to_owned(), value.to_owned());
    }
    Ok(values)
}

fn parse_addr(variable: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.parse().map_err(|_| {
        ConfigError::new(
            variable,
            format!("{value:?} is not an address like 127.0.0.1:50051"),
        )
    })
}

/// Parses `250ms`, `5s`, `10m`, `2h`, `7d`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{value:?} has no unit (ms, s, m, h, d)"))?;
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{value:?} does not start with a whole number"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(number)),
        "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86_400,
        _ => return Err(format!("{value:?} has an unknown unit (ms, s, m, h, d)")),
    };
    Ok(Duration::from_secs(seconds))
}

struct Source<'a>(&'a BTreeMap<String, String>);

impl Source<'_> {
    fn optional(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn string(&self, key: &str, default: &str) -> String {
        self.optional(key).unwrap_or_else(|| default.to_owned())
    }

    fn number<T>(
        &self,
        key: &str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        let Some(raw) = self.optional(key) else {
            return Ok(default);
        };
        let value: T = raw
            .parse()
            .map_err(|_| ConfigError::new(key, format!("{raw:?} is not a number")))?;
        if !range.contains(&value) {
            return Err(ConfigError::new(
                key,
                format!("{value} is outside {}..={}", range.start(), range.end()),
            ));
        }
        Ok(value)
    }

    fn boolean(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.optional(key).as_deref() {
            None => Ok(default),
            Some("true" | "1" | "yes" | "on") => Ok(true),
            Some("false" | "0" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError::new(
                key,
                format!("{other:?} is not true or false"),
            )),
        }
    }

    fn duration(&self, key: &str, default: &str) -> Result<Duration, ConfigError> {
        parse_duration(&self.string(key, default)).map_err(|message| ConfigError::new(key, message))
    }

    /// `kid=secret,kid2=secret2`
    fn key_list(&self, key: &str) -> Result<Vec<(String, Secret)>, ConfigError> {
        let Some(raw) = self.optional(key) else {
            return Ok(Vec::new());
        };
        raw.split(',')
            .map(|entry| {
                let (kid, secret) = entry.trim().split_once('=').ok_or_else(|| {
                    ConfigError::new(key, "expected comma-separated key_id=secret pairs")
                })?;
                if kid.is_empty() {
                    return Err(ConfigError::new(key, "a key id is empty"));
                }
                if secret.len() < 32 {
                    return Err(ConfigError::new(
                        key,
                        format!("the secret of key {kid:?} is shorter than 32 characters"),
                    ));
                }
                Ok((kid.to_owned(), Secret::new(secret)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_service_reads_its_own_section_and_errors_name_the_variable() {
        let settings = Settings::from_values(&values(&[
            ("CRM_LEADS_RECYCLE_EVERY", "5m"),
            ("CRM_LEADS_LIMIT", "lots"),
            ("CRM_GATEWAY_UPSTREAM_LEADS", " http://leads:50051 "),
            ("CRM_JWT_KEYS", "k1=0123456789abcdef0123456789abcdef"),
        ]))
        .unwrap();
        let leads = settings.service("leads");
        assert_eq!(
            leads.duration("RECYCLE_EVERY", "1m").unwrap(),
            Duration::from_secs(300)
        );
        let error = leads.number("LIMIT", 5u32, 1..=10).unwrap_err();
        assert_eq!(error.variable, "CRM_LEADS_LIMIT");
        assert_eq!(leads.string("MISSING", "x"), "x");
        let upstreams = settings.service("gateway").family("UPSTREAM_");
        assert_eq!(upstreams["leads"], "http://leads:50051");
        let mut settings = settings;
        settings.set_value("CRM_GATEWAY_HTTP_ADDR", "127.0.0.1:0");
        let gateway = settings.service("gateway");
        assert_eq!(
            gateway.addr("HTTP_ADDR", "127.0.0.1:8080").unwrap().port(),
            0
        );
        assert!(!format!("{settings:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn defaults_are_usable_locally() {
        let settings = Settings::from_values(&BTreeMap::new()).unwrap();
        assert_eq!(settings.grpc_addr.port(), 50051);
        assert_eq!(
            settings.database_url("accounts").expose(),
            "postgres://postgres@127.0.0.1:5432/crm_accounts"
        );
        assert_eq!(settings.outbox.retention, Duration::from_secs(7 * 86_400));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let error =
            Settings::from_values(&values(&[("CRM_OUTBOX_BATCH_SIZE", "lots")])).unwrap_err();
        assert_eq!(error.variable, "CRM_OUTBOX_BATCH_SIZE");
        let error = Settings::from_values(&values(&[("CRM_GRPC_ADDR", "nowhere")])).unwrap_err();
        assert_eq!(error.variable, "CRM_GRPC_ADDR");
        let error =
            Settings::from_values(&values(&[("CRM_OUTBOX_RETENTION", "7 weeks")])).unwrap_err();
        assert_eq!(error.variable, "CRM_OUTBOX_RETENTION");
        let error = Settings::from_values(&values(&[("CRM_JWT_KEYS", "k1=short")])).unwrap_err();
        assert_eq!(error.variable, "CRM_JWT_KEYS");
    }

    #[test]
    fn the_jwt_leeway_is_a_setting_of_seconds_to_minutes() {
        let default = Settings::from_values(&BTreeMap::new()).unwrap();
        assert_eq!(default.jwt.leeway, Duration::from_secs(30));
        let tight = Settings::from_values(&values(&[("CRM_JWT_LEEWAY", "2s")])).unwrap();
        assert_eq!(tight.jwt.leeway, Duration::from_secs(2));
        for bad in ["1h", "soon"] {
            let error = Settings::from_values(&values(&[("CRM_JWT_LEEWAY", bad)])).unwrap_err();
            assert_eq!(error.variable, "CRM_JWT_LEEWAY", "{bad}");
        }
    }

    #[test]
    fn signing_key_must_be_a_verification_key() {
        let error = Settings::from_values(&values(&[
            ("CRM_JWT_KEYS", "k1=0123456789abcdef0123456789abcdef"),
            ("CRM_JWT_SIGNING_KEY_ID", "k2"),
        ]))
        .unwrap_err();
        assert_eq!(error.variable, "CRM_JWT_SIGNING_KEY_ID");
    }

    #[test]
    fn per_service_database_url_overrides_the_default() {
        let settings = Settings::from_values(&values(&[(
            "CRM_ACCOUNTS_DATABASE_URL",
            "postgres://u@db:5432/acc",
        )]))
        .unwrap();
        assert_eq!(
            settings.database_url("accounts").expose(),
            "postgres://u@db:5432/acc"
        );
        assert!(
            settings
                .database_url("leads")
                .expose()
                .ends_with("/crm_leads")
        );
    }

    #[test]
    fn secrets_do_not_print() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(****)");
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("2").is_err());
        assert!(parse_duration("2w").is_err());
    }
}
