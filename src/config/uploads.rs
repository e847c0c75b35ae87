//! Upload rules: `EDGEPASS_UPLOAD_URL_TTL_SECS`, `EDGEPASS_MAX_IMAGE_BYTES` and the quotas.

use super::settings::{ConfigError, Settings};

/// Upload rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadConfig {
    /// How long a presigned upload URL is valid.
    pub url_ttl_secs: u64,
    /// The largest image accepted.
    pub max_image_bytes: u64,
    /// Most images a user may keep (pending uploads included).
    pub quota_images: u64,
    /// Most bytes a user may keep (pending uploads included).
    pub quota_bytes: u64,
}

impl UploadConfig {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        Ok(Self {
            url_ttl_secs: s.positive("EDGEPASS_UPLOAD_URL_TTL_SECS", 300)?,
            max_image_bytes: s.positive("EDGEPASS_MAX_IMAGE_BYTES", 20 * 1024 * 1024)?,
            quota_images: s.positive("EDGEPASS_QUOTA_IMAGES", 1000)?,
            quota_bytes: s.positive("EDGEPASS_QUOTA_BYTES", 1024 * 1024 * 1024)?,
        })
    }
}
