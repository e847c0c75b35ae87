//! Where images are stored: `EDGEPASS_S3_*`, or local mode's embedded store.

use super::settings::{ConfigError, Settings};

/// Where images are stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageConfig {
    /// Local mode: the embedded S3-compatible store under the data folder.
    Embedded,
    /// S3 or an S3-compatible service.
    S3 {
        /// The bucket.
        bucket: String,
        /// Its region.
        region: String,
        /// A non-AWS endpoint.
        endpoint_url: Option<String>,
        /// Path-style addressing.
        force_path_style: bool,
    },
}

impl StorageConfig {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let Some(bucket) = s.text("EDGEPASS_S3_BUCKET") else {
            return Ok(Self::Embedded);
        };
        Ok(Self::S3 {
            bucket: bucket.trim().to_owned(),
            region: s
                .text("EDGEPASS_S3_REGION")
                .unwrap_or("us-east-1")
                .trim()
                .to_owned(),
            endpoint_url: s.origin("EDGEPASS_S3_ENDPOINT_URL")?,
            force_path_style: s.bool("EDGEPASS_S3_FORCE_PATH_STYLE")?.unwrap_or(false),
        })
    }
}
