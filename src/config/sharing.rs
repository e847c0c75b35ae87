//! Sharing rules: the lifetimes of shared URLs and share links, and the batch size.

use super::settings::{ConfigError, Settings};

/// Sharing rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharingConfig {
    /// How long a signed URL for one shared object is valid, before rounding up to the expiry window.
    pub url_ttl_secs: u64,
    /// Most image ids one `POST /api/urls` may ask for.
    pub max_batch_urls: u64,
    /// The longest `expires_in` a share link may be given.
    pub link_max_ttl_secs: u64,
    /// How long the signed URL a share link redirects to is valid, before rounding up to the window.
    pub link_url_ttl_secs: u64,
}

impl SharingConfig {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Self {
            url_ttl_secs: s.positive("EDGEPASS_SHARED_URL_TTL_SECS", 300)?,
            max_batch_urls: s.positive("EDGEPASS_URL_BATCH_MAX", 500)?,
            link_max_ttl_secs: s.positive("EDGEPASS_SHARE_LINK_MAX_TTL_SECS", 7 * 24 * 3600)?,
            link_url_ttl_secs: s.positive("EDGEPASS_SHARE_LINK_URL_TTL_SECS", 300)?,
        })
    }
}
