//! Request and abuse limits: body size, and login and registration throttling.

use super::settings::{ConfigError, Settings};

/// Request and abuse limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Failed logins per account within the window before logins are refused.
    pub login_failures_per_account: u64,
    /// Failed logins per client address within the window before logins are refused.
    pub login_failures_per_client: u64,
    /// The throttling window.
    pub login_window_secs: u64,
    /// Registration attempts per client address within the registration window before registrations
    /// are refused.
    pub registrations_per_client: u64,
    /// The registration throttling window.
    pub registration_window_secs: u64,
}

impl Limits {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Self {
            max_body_bytes: usize::try_from(s.positive("EDGEPASS_MAX_BODY_BYTES", 16 * 1024)?)
                .unwrap_or(usize::MAX),
            login_failures_per_account: s.positive("EDGEPASS_LOGIN_FAILURES_PER_ACCOUNT", 5)?,
            login_failures_per_client: s.positive("EDGEPASS_LOGIN_FAILURES_PER_CLIENT", 20)?,
            login_window_secs: s.positive("EDGEPASS_LOGIN_WINDOW_SECS", 900)?,
            registrations_per_client: s.positive("EDGEPASS_REGISTRATIONS_PER_CLIENT", 10)?,
            registration_window_secs: s.positive("EDGEPASS_REGISTRATION_WINDOW_SECS", 3600)?,
        })
    }
}
