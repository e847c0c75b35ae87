//! Everything edgepass asks of AWS: the object store ([`s3`]), CloudFront's API ([`cloudfront`]) and
//! signing keys held in KMS ([`kms`]), through one client builder.
//!
//! Each wrapper has its own error type. The SDK's error is kept whole as the `source` of it, so the log
//! shows the full chain, and callers can tell an unreachable service (worth a 503) from an answered
//! error.

pub mod cloudfront;
pub mod kms;
pub mod s3;

use aws_config::SdkConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider, SharedHttpClient};
use aws_sdk_s3::error::SdkError;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// The cause of a failed AWS call, as the SDK reported it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The HTTP client of every AWS call: rustls with ring, plain HTTP allowed for local endpoints.
pub fn http_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The settings every AWS client starts from: `region`, [`http_client`], and the static `credentials`
/// (access key, secret) or, without them, the AWS default chain (environment, profile, instance role).
///
/// The endpoint is left to each service's own builder, where an explicit one wins over any
/// `AWS_ENDPOINT_URL_*` variable.
pub async fn sdk_config(region: &str, credentials: Option<(&str, &str)>) -> SdkConfig {
    let region = Region::new(region.to_owned());
    match credentials {
        // Static credentials load nothing from the environment or profile files.
        Some((access_key, secret_key)) => SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                access_key, secret_key, None, None, "edgepass",
            )))
            .region(region)
            .http_client(http_client())
            .build(),
        None => {
            aws_config::defaults(BehaviorVersion::latest())
                .http_client(http_client())
                .region(region)
                .load()
                .await
        }
    }
}

/// Whether a call failed before any answer came (connection refused, timeout), as opposed to the
/// service answering with an error.
pub(crate) fn unreachable<E, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_))
}
