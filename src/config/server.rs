//! The service's listeners and its own origin: `EDGEPASS_LISTEN`, `EDGEPASS_PUBLIC_URL`,
//! `EDGEPASS_ALLOWED_ORIGINS`, `EDGEPASS_EDGE_LISTEN`, `EDGEPASS_METRICS_LISTEN`, and how it logs and
//! finds the client's address.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use super::settings::{ConfigError, Settings, error, origin_of};

/// Where the API listens unless told otherwise.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));

/// Where the local edge listens unless told otherwise.
pub const DEFAULT_EDGE_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8081));

/// Where `/metrics` is served unless told otherwise: loopback, next to the API's and the edge's ports.
pub const DEFAULT_METRICS_LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8082));

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines, for a terminal.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// What the service part of the configuration says.
pub(super) struct Server {
    pub(super) listen: SocketAddr,
    pub(super) public_url: Option<String>,
    pub(super) extra_origins: Vec<String>,
    pub(super) metrics_listen: Option<SocketAddr>,
    pub(super) log_format: LogFormat,
    pub(super) trust_forwarded_for: bool,
}

impl Server {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let listen = s
            .parsed("EDGEPASS_LISTEN", "an address such as 127.0.0.1:8080")?
            .unwrap_or(DEFAULT_LISTEN);
        let public_url = s.origin("EDGEPASS_PUBLIC_URL")?;
        let mut extra_origins = Vec::new();
        if let Some(list) = s.text("EDGEPASS_ALLOWED_ORIGINS") {
            for origin in list.split(',').filter(|o| !o.trim().is_empty()) {
                extra_origins.push(origin_of(origin, "EDGEPASS_ALLOWED_ORIGINS")?);
            }
        }
        Ok(Self {
            listen,
            public_url,
            extra_origins,
            metrics_listen: metrics_listen(s)?,
            log_format: log_format(s)?,
            trust_forwarded_for: s.bool("EDGEPASS_TRUST_FORWARDED_FOR")?.unwrap_or(false),
        })
    }
}

fn log_format(s: &Settings) -> Result<LogFormat, ConfigError> {
    match s
        .text("EDGEPASS_LOG_FORMAT")
        .map(|f| f.trim().to_ascii_lowercase())
    {
        None => Ok(LogFormat::Human),
        Some(f) if f == "human" => Ok(LogFormat::Human),
        Some(f) if f == "json" => Ok(LogFormat::Json),
        Some(other) => Err(error(
            "EDGEPASS_LOG_FORMAT",
            format!("{other:?} is not human or json"),
        )),
    }
}

/// The local edge's address: `EDGEPASS_EDGE_LISTEN` if set (`off` runs none), else the default address
/// with the embedded store and no edge with a real bucket, where CloudFront serves the images.
pub(super) fn edge_listen(s: &Settings, embedded_store: bool) -> Result<Option<SocketAddr>, ConfigError> {
    match s.text("EDGEPASS_EDGE_LISTEN").map(str::trim) {
        Some(off) if off.eq_ignore_ascii_case("off") => Ok(None),
        Some(_) => s.parsed(
            "EDGEPASS_EDGE_LISTEN",
            "an address such as 127.0.0.1:8081, or off",
        ),
        None => Ok(embedded_store.then_some(DEFAULT_EDGE_LISTEN)),
    }
}

/// The metrics listener's address: `EDGEPASS_METRICS_LISTEN` if set (`off` serves no metrics), else the
/// default loopback address.
fn metrics_listen(s: &Settings) -> Result<Option<SocketAddr>, ConfigError> {
    match s.text("EDGEPASS_METRICS_LISTEN").map(str::trim) {
        Some(off) if off.eq_ignore_ascii_case("off") => Ok(None),
        Some(_) => s.parsed(
            "EDGEPASS_METRICS_LISTEN",
            "an address such as 127.0.0.1:8082, or off",
        ),
        None => Ok(Some(DEFAULT_METRICS_LISTEN)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::Config;
    use crate::config::tests::env;

    #[test]
    fn metrics_are_served_on_loopback_by_default_elsewhere_when_told_and_not_at_all_when_off() {
        let local = Config::from_env(&BTreeMap::new()).expect("config");
        assert_eq!(local.metrics_listen, Some(DEFAULT_METRICS_LISTEN));
        assert!(DEFAULT_METRICS_LISTEN.ip().is_loopback());

        let moved =
            Config::from_env(&env(&[("EDGEPASS_METRICS_LISTEN", " 10.0.0.5:9464 ")])).expect("config");
        assert_eq!(moved.metrics_listen, Some("10.0.0.5:9464".parse().expect("addr")));

        let off = Config::from_env(&env(&[("EDGEPASS_METRICS_LISTEN", "Off")])).expect("config");
        assert_eq!(off.metrics_listen, None);

        let bad = Config::from_env(&env(&[("EDGEPASS_METRICS_LISTEN", "metrics.local")]))
            .expect_err("not an address");
        assert_eq!(bad.variable, "EDGEPASS_METRICS_LISTEN");
    }
}
