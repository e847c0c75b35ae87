//! Invalidating cached copies of public images.
//!
//! Without a distribution (local mode) an invalidation is a logged no-op: the local edge caches nothing.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};

use super::api_client;
use crate::aws::BoxError;

/// A failed invalidation: the CloudFront operation, and the SDK's error (or what was wrong) as its source.
#[derive(Debug, thiserror::Error)]
#[error("CloudFront {operation}")]
pub struct InvalidationError {
    operation: &'static str,
    #[source]
    source: BoxError,
}

/// Where the distribution is and how to reach the API.
#[derive(Clone, Debug)]
pub struct InvalidationsTarget {
    /// The distribution id.
    pub distribution_id: String,
    /// An API endpoint instead of AWS's (moto in tests).
    pub endpoint_url: Option<String>,
    /// Static credentials; `None` uses the AWS default chain.
    pub credentials: Option<(String, String)>,
}

/// Invalidates paths on the distribution, if there is one.
#[derive(Clone, Debug)]
pub struct Invalidations {
    remote: Option<(Client, String)>,
}

impl Invalidations {
    /// Local mode: invalidations are logged and skipped.
    pub fn local() -> Self {
        Self { remote: None }
    }

    /// A real (or emulated) distribution.
    pub async fn connect(target: &InvalidationsTarget) -> Self {
        let credentials = target
            .credentials
            .as_ref()
            .map(|(access_key, secret_key)| (access_key.as_str(), secret_key.as_str()));
        let client = api_client(target.endpoint_url.as_deref(), credentials).await;
        Self {
            remote: Some((client, target.distribution_id.clone())),
        }
    }

    /// Asks the distribution to drop cached copies of `paths` (each starting with `/`) and returns the
    /// invalidation id. `caller_reference` identifies the change: CloudFront treats a retry with the same
    /// reference and paths as the same invalidation, so retrying after a timeout is safe.
    pub async fn invalidate(
        &self,
        paths: &[String],
        caller_reference: &str,
    ) -> Result<Option<String>, InvalidationError> {
        let Some((client, distribution_id)) = &self.remote else {
            tracing::info!(?paths, "local mode: no distribution to invalidate");
            return Ok(None);
        };
        let error = |source: BoxError| InvalidationError {
            operation: "CreateInvalidation",
            source,
        };
        let batch = InvalidationBatch::builder()
            .caller_reference(caller_reference)
            .paths(
                Paths::builder()
                    .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(|e| error(Box::new(e)))?,
            )
            .build()
            .map_err(|e| error(Box::new(e)))?;
        let output = client
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| error(Box::new(e)))?;
        Ok(output.invalidation().map(|i| i.id().to_owned()))
    }
}
