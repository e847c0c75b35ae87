//! Sessions: `EDGEPASS_SESSION_TTL_SECS` and `EDGEPASS_COOKIE_SECURE`.

use super::settings::{ConfigError, Settings, error};

/// Session settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Idle lifetime; every use pushes the expiry this far ahead.
    pub ttl_secs: u64,
    /// `Secure` on the session and CloudFront cookies; only plain-HTTP local mode turns it off.
    pub cookie_secure: bool,
    /// How many signed-in sessions each instance remembers (0: read every request's session from the
    /// database).
    pub cache_entries: u64,
}

impl SessionConfig {
    /// `plain_http`: whether the service's public URL is `http://` (configured so, or following the
    /// listen address).
    pub(super) fn from_settings(s: &Settings, plain_http: bool) -> Result<Self, ConfigError> {
        let cookie_secure = s.bool("EDGEPASS_COOKIE_SECURE")?.unwrap_or(!plain_http);
        if !cookie_secure && !plain_http {
            return Err(error(
                "EDGEPASS_COOKIE_SECURE",
                "may be false only when EDGEPASS_PUBLIC_URL is plain http:// (local development)",
            ));
        }
        Ok(Self {
            ttl_secs: s.positive("EDGEPASS_SESSION_TTL_SECS", 7 * 24 * 3600)?,
            cookie_secure,
            cache_entries: s
                .parsed::<u64>("EDGEPASS_SESSION_CACHE_ENTRIES", "a whole number")?
                .unwrap_or(100_000),
        })
    }
}
