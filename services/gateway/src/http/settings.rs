//! The front door's settings: the gateway's own `CRM_GATEWAY_*` section, read and checked when
//! the gateway is mounted, so a bad value stops the process at start naming the variable.

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use crm_platform::config::{ConfigError, ServiceSettings, Settings};

/// The gateway's HTTP/JSON front door.
#[derive(Clone, Debug)]
pub struct FrontDoorSettings {
    /// Where HTTP is served (`CRM_GATEWAY_HTTP_ADDR`).
    pub http_addr: SocketAddr,
    /// gRPC URL per service (`CRM_GATEWAY_UPSTREAM_LEADS=http://leads:50051`); a service
    /// without one is called in this process (the all-in-one case; see `host::LocalGrpc`).
    pub upstreams: BTreeMap<String, String>,
    /// Largest JSON body accepted (413 above it).
    pub max_body_bytes: usize,
    /// Largest CSV upload accepted.
    pub max_upload_bytes: usize,
    /// Per-caller limit: sustained requests per second (0: no limit) and burst.
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    /// How long a create's result is kept for replay under its `Idempotency-Key`.
    pub idempotency_retention: Duration,
}

impl FrontDoorSettings {
    /// The gateway's section of `settings`.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        Self::read(&settings.service(crate::NAME))
    }

    pub fn read(section: &ServiceSettings) -> Result<Self, ConfigError> {
        let upstreams = section.family("UPSTREAM_");
        if let Some((service, url)) = upstreams
            .iter()
            .find(|(_, url)| !url.starts_with("http://") && !url.starts_with("https://"))
        {
            return Err(section.error(
                &format!("UPSTREAM_{}", service.to_ascii_uppercase()),
                format!("{url:?} is not an http:// or https:// URL"),
            ));
        }
        Ok(Self {
            http_addr: section.addr("HTTP_ADDR", "127.0.0.1:8080")?,
            upstreams,
            max_body_bytes: section.number("MAX_BODY_BYTES", 1 << 20, 1024..=(64 << 20))?,
            max_upload_bytes: section.number("MAX_UPLOAD_BYTES", 256 << 20, 1024..=(4 << 30))?,
            rate_limit_per_second: section.number("RATE_LIMIT_PER_SECOND", 50, 0..=1_000_000)?,
            rate_limit_burst: section.number("RATE_LIMIT_BURST", 100, 1..=1_000_000)?,
            idempotency_retention: section.duration("IDEMPOTENCY_RETENTION", "24h")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<FrontDoorSettings, ConfigError> {
        let values = pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        FrontDoorSettings::from_settings(&Settings::from_values(&values).unwrap())
    }

    #[test]
    fn defaults_serve_locally() {
        let front_door = settings(&[]).unwrap();
        assert_eq!(front_door.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(front_door.max_body_bytes, 1 << 20);
        assert_eq!(front_door.max_upload_bytes, 256 << 20);
        assert_eq!(
            (
                front_door.rate_limit_per_second,
                front_door.rate_limit_burst
            ),
            (50, 100)
        );
        assert_eq!(
            front_door.idempotency_retention,
            Duration::from_secs(86_400)
        );
        assert!(front_door.upstreams.is_empty());
    }

    #[test]
    fn the_gateway_section_is_read_and_bad_values_name_their_variable() {
        let front_door = settings(&[
            ("CRM_GATEWAY_HTTP_ADDR", "0.0.0.0:8081"),
            ("CRM_GATEWAY_UPSTREAM_LEADS", "http://leads:50051"),
            ("CRM_GATEWAY_RATE_LIMIT_PER_SECOND", "0"),
        ])
        .unwrap();
        assert_eq!(front_door.http_addr.port(), 8081);
        assert_eq!(front_door.upstreams["leads"], "http://leads:50051");
        assert_eq!(front_door.rate_limit_per_second, 0);
        for (variable, value) in [
            ("CRM_GATEWAY_UPSTREAM_LEADS", "leads:50051"),
            ("CRM_GATEWAY_HTTP_ADDR", "anywhere"),
            ("CRM_GATEWAY_MAX_BODY_BYTES", "12"),
            ("CRM_GATEWAY_RATE_LIMIT_BURST", "0"),
            ("CRM_GATEWAY_IDEMPOTENCY_RETENTION", "a day"),
        ] {
            let error = settings(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable);
        }
    }
}
