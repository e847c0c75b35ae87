//! The CloudFront control plane: the API client, and invalidating cached copies of public images.
//!
//! Without a distribution (local mode) an invalidation is a logged no-op: the local edge caches nothing.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};

use crate::storage::http_client;

/// A failed CloudFront call.
#[derive(Debug, thiserror::Error)]
#[error("CloudFront {operation}: {message}")]
pub struct CdnError {
    operation: &'static str,
    message: String,
}

/// Where the distribution is and how to reach the API.
#[derive(Clone, Debug)]
pub struct CdnTarget {
    /// The distribution id.
    pub distribution_id: String,
    /// An API endpoint instead of AWS's (moto in tests).
    pub endpoint_url: Option<String>,
    /// Static credentials; `None` uses the AWS default chain.
    pub credentials: Option<(String, String)>,
}

/// A client of the CloudFront API at `endpoint_url` (AWS's when `None`), signing with the static
/// `credentials` (access key, secret) or, without them, with the AWS default chain.
pub async fn api_client(endpoint_url: Option<&str>, credentials: Option<(&str, &str)>) -> Client {
    // CloudFront's API lives in us-east-1 whatever the distribution serves.
    let region = Region::new("us-east-1");
    let mut builder = match credentials {
        Some((access_key, secret_key)) => aws_sdk_cloudfront::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(Credentials::new(access_key, secret_key, None, None, "edgepass")),
        None => {
            let shared = aws_config::defaults(BehaviorVersion::latest())
                .http_client(http_client())
                .region(region.clone())
                .load()
                .await;
            aws_sdk_cloudfront::config::Builder::from(&shared)
        }
    };
    builder = builder.region(region).http_client(http_client());
    if let Some(endpoint) = endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// Invalidates paths on the distribution, if there is one.
#[derive(Clone, Debug)]
pub struct Cdn {
    remote: Option<(Client, String)>,
}

impl Cdn {
    /// Local mode: invalidations are logged and skipped.
    pub fn local() -> Self {
        Self { remote: None }
    }

    /// A real (or emulated) distribution.
    pub async fn connect(target: &CdnTarget) -> Self {
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
    ) -> Result<Option<String>, CdnError> {
        let Some((client, distribution_id)) = &self.remote else {
            tracing::info!(?paths, "local mode: no distribution to invalidate");
            return Ok(None);
        };
        let error = |message: String| CdnError {
            operation: "CreateInvalidation",
            message,
        };
        let batch = InvalidationBatch::builder()
            .caller_reference(caller_reference)
            .paths(
                Paths::builder()
                    .quantity(i32::try_from(paths.len()).unwrap_or(i32::MAX))
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(|e| error(e.to_string()))?,
            )
            .build()
            .map_err(|e| error(e.to_string()))?;
        let output = client
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| error(crate::error_chain::error_chain(&e)))?;
        Ok(output.invalidation().map(|i| i.id().to_owned()))
    }
}
