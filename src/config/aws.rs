//! Reaching AWS: static credentials for S3 and CloudFront (`EDGEPASS_AWS_*`), and the CloudFront API
//! (`EDGEPASS_CDN_DISTRIBUTION_ID`, `EDGEPASS_CLOUDFRONT_ENDPOINT_URL`), and KMS
//! (`EDGEPASS_KMS_ENDPOINT_URL`).

use super::settings::{ConfigError, Secret, Settings, error};

/// What the AWS part of the configuration says.
pub(super) struct Aws {
    pub(super) credentials: Option<(String, Secret)>,
    pub(super) distribution_id: Option<String>,
    pub(super) cloudfront_endpoint_url: Option<String>,
    pub(super) kms_endpoint_url: Option<String>,
    pub(super) kms_region: Option<String>,
}

impl Aws {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let credentials = match (
            s.text("EDGEPASS_AWS_ACCESS_KEY_ID"),
            s.text("EDGEPASS_AWS_SECRET_ACCESS_KEY"),
        ) {
            (None, None) => None,
            (Some(id), Some(secret)) => Some((id.trim().to_owned(), Secret::new(secret.trim().to_owned()))),
            (Some(_), None) => {
                return Err(error(
                    "EDGEPASS_AWS_SECRET_ACCESS_KEY",
                    "is required with EDGEPASS_AWS_ACCESS_KEY_ID",
                ));
            }
            (None, Some(_)) => {
                return Err(error(
                    "EDGEPASS_AWS_ACCESS_KEY_ID",
                    "is required with EDGEPASS_AWS_SECRET_ACCESS_KEY",
                ));
            }
        };
        Ok(Self {
            credentials,
            distribution_id: s
                .text("EDGEPASS_CDN_DISTRIBUTION_ID")
                .map(|d| d.trim().to_owned()),
            cloudfront_endpoint_url: s.origin("EDGEPASS_CLOUDFRONT_ENDPOINT_URL")?,
            kms_endpoint_url: s.origin("EDGEPASS_KMS_ENDPOINT_URL")?,
            kms_region: s.text("EDGEPASS_KMS_REGION").map(|r| r.trim().to_owned()),
        })
    }
}
