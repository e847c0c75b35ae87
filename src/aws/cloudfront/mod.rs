//! CloudFront's control plane: invalidating cached copies ([`invalidations`]) and the key groups that
//! say which public keys the distribution trusts ([`key_groups`]).

pub mod invalidations;
pub mod key_groups;

pub use invalidations::{InvalidationError, Invalidations, InvalidationsTarget};
pub use key_groups::{KeyGroupError, KeyGroupStore, KeyGroups, NewPublicKey};

use aws_sdk_cloudfront::Client;

use crate::config::Config;

/// A client of the CloudFront API as the service's configuration describes it
/// (`EDGEPASS_CLOUDFRONT_ENDPOINT_URL`, `EDGEPASS_AWS_*`).
pub async fn configured_client(config: &Config) -> Client {
    let credentials = config.static_aws_credentials();
    let credentials = credentials
        .as_ref()
        .map(|(access_key, secret)| (access_key.as_str(), secret.as_str()));
    api_client(config.cloudfront_endpoint_url.as_deref(), credentials).await
}

/// A client of the CloudFront API at `endpoint_url` (AWS's when `None`), signing with the static
/// `credentials` (access key, secret) or, without them, with the AWS default chain.
pub async fn api_client(endpoint_url: Option<&str>, credentials: Option<(&str, &str)>) -> Client {
    // CloudFront's API lives in us-east-1 whatever the distribution serves.
    let shared = super::sdk_config("us-east-1", credentials).await;
    let mut builder = aws_sdk_cloudfront::config::Builder::from(&shared);
    if let Some(endpoint) = endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}
