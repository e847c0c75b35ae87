//! Reading the real deployment: the distribution, the key groups its behaviors trust, the registered
//! public key and the origin access controls from CloudFront's API; the bucket's public-access block,
//! policy, CORS rules, lifecycle rules and the store's clock from S3; and a test URL signed by the
//! service's own signer (in-process key or KMS).
//!
//! Every fact is read on its own: one that cannot be read carries why, and only the checks that need
//! it say so.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudfront::types::{Distribution, OriginAccessControlConfig};
use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::{CorsRule, LifecycleRule, PublicAccessBlockConfiguration};

use super::expected::Expected;
use crate::aws::BoxError;
use crate::aws::cloudfront::configured_client;
use crate::aws::s3::{self, StorageTarget};
use crate::clock::Clock;
use crate::config::Config;
use crate::signing::first_pem_block;
use crate::telemetry::Causes;

/// A fact read from the deployment, or why it could not be read.
pub type Fact<T> = Result<T, String>;

/// What the service itself signs with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSigning {
    /// The signing key's public half, DER `SubjectPublicKeyInfo`.
    pub public_key_der: Vec<u8>,
    /// A URL of a test object under `users/`, signed as the service signs its URLs.
    pub test_url: String,
    /// When it was signed (epoch seconds).
    pub signed_at: u64,
}

/// Everything the checks compare with the configuration.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// `GetDistribution` of `EDGEPASS_CDN_DISTRIBUTION_ID`.
    pub distribution: Fact<Distribution>,
    /// The key ids of each key group a behavior trusts, by group id.
    pub key_groups: BTreeMap<String, Fact<Vec<String>>>,
    /// The public key CloudFront holds under `EDGEPASS_CDN_KEY_PAIR_ID` (DER), `None` when it holds none.
    pub registered_key: Fact<Option<Vec<u8>>>,
    /// Each origin access control an origin names, by id.
    pub access_controls: BTreeMap<String, Fact<OriginAccessControlConfig>>,
    /// The bucket's public-access block; `None` when it has none.
    pub public_access_block: Fact<Option<PublicAccessBlockConfiguration>>,
    /// The bucket policy document; `None` when it has none.
    pub bucket_policy: Fact<Option<String>>,
    /// The bucket's CORS rules (none when it has no CORS configuration).
    pub cors_rules: Fact<Vec<CorsRule>>,
    /// The bucket's lifecycle rules (none when it has no lifecycle configuration).
    pub lifecycle_rules: Fact<Vec<LifecycleRule>>,
    /// The store's clock: the `Date` of an S3 answer, with the local clock read as it arrived.
    pub store_clock: Fact<StoreClock>,
    /// The service's own signing.
    pub service: Fact<ServiceSigning>,
}

/// The store's time against the local one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreClock {
    /// The `Date` of the store's answer (epoch seconds).
    pub store: u64,
    /// The local clock when the answer arrived.
    pub local: u64,
}

/// The test object the whole chain signs: under `users/`, of no user (ids start at 1).
pub const TEST_OBJECT: &str = "/users/0/edgepass-doctor-check.png";

/// Reads the deployment `expected` names, through the endpoints and credentials of `config`.
pub async fn gather(expected: &Expected, config: &Config, clock: &dyn Clock) -> Deployment {
    let cloudfront = configured_client(config).await;
    let distribution = read_distribution(&cloudfront, &expected.distribution_id).await;
    let mut key_groups = BTreeMap::new();
    let mut access_controls = BTreeMap::new();
    if let Ok(distribution) = &distribution {
        for group in trusted_key_groups(distribution) {
            let keys = read_key_group(&cloudfront, &group).await;
            key_groups.insert(group, keys);
        }
        for id in access_control_ids(distribution) {
            let control = read_access_control(&cloudfront, &id).await;
            access_controls.insert(id, control);
        }
    }
    let registered_key = read_public_key(&cloudfront, &expected.key_pair_id).await;

    let (public_access_block, bucket_policy, cors_rules, lifecycle_rules, store_clock) =
        match StorageTarget::configured(config) {
            Some(target) => {
                let s3 = s3::client(&target).await;
                let bucket = target.bucket.as_str();
                (
                    read_public_access_block(&s3, bucket).await,
                    read_bucket_policy(&s3, bucket).await,
                    read_cors(&s3, bucket).await,
                    read_lifecycle(&s3, bucket).await,
                    read_store_clock(&s3, bucket, clock).await,
                )
            }
            None => {
                let none = "no S3 bucket is configured";
                (
                    Err(none.to_owned()),
                    Err(none.to_owned()),
                    Err(none.to_owned()),
                    Err(none.to_owned()),
                    Err(none.to_owned()),
                )
            }
        };
    Deployment {
        distribution,
        key_groups,
        registered_key,
        access_controls,
        public_access_block,
        bucket_policy,
        cors_rules,
        lifecycle_rules,
        store_clock,
        service: service_signing(config, expected, clock).await,
    }
}

/// The key groups any behavior of `distribution` trusts.
fn trusted_key_groups(distribution: &Distribution) -> BTreeSet<String> {
    let Some(config) = distribution.distribution_config() else {
        return BTreeSet::new();
    };
    let default = config
        .default_cache_behavior()
        .and_then(|behavior| behavior.trusted_key_groups());
    let others = config
        .cache_behaviors()
        .map(|behaviors| behaviors.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|behavior| behavior.trusted_key_groups());
    default
        .into_iter()
        .chain(others)
        .filter(|groups| groups.enabled())
        .flat_map(|groups| groups.items().iter().cloned())
        .collect()
}

fn access_control_ids(distribution: &Distribution) -> BTreeSet<String> {
    distribution
        .distribution_config()
        .and_then(|config| config.origins())
        .map(|origins| origins.items())
        .unwrap_or_default()
        .iter()
        .filter_map(|origin| origin.origin_access_control_id())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An API error on one line: the service's code and message, or the transport's failure.
fn api_error<E, R>(operation: &str, error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{operation}: {code}: {message}"),
        (Some(code), None) => format!("{operation}: {code}"),
        _ => format!("{operation}: {}", Causes(error)),
    }
}

async fn read_distribution(client: &aws_sdk_cloudfront::Client, id: &str) -> Fact<Distribution> {
    let output = client
        .get_distribution()
        .id(id)
        .send()
        .await
        .map_err(|e| api_error("GetDistribution", &e))?;
    output
        .distribution
        .ok_or_else(|| "GetDistribution: no distribution in the answer".to_owned())
}

async fn read_key_group(client: &aws_sdk_cloudfront::Client, id: &str) -> Fact<Vec<String>> {
    let output = client
        .get_key_group()
        .id(id)
        .send()
        .await
        .map_err(|e| api_error("GetKeyGroup", &e))?;
    Ok(output
        .key_group()
        .and_then(|group| group.key_group_config())
        .map(|config| config.items().to_vec())
        .unwrap_or_default())
}

async fn read_access_control(
    client: &aws_sdk_cloudfront::Client,
    id: &str,
) -> Fact<OriginAccessControlConfig> {
    let output = client
        .get_origin_access_control()
        .id(id)
        .send()
        .await
        .map_err(|e| api_error("GetOriginAccessControl", &e))?;
    output
        .origin_access_control
        .and_then(|control| control.origin_access_control_config)
        .ok_or_else(|| "GetOriginAccessControl: no configuration in the answer".to_owned())
}

async fn read_public_key(client: &aws_sdk_cloudfront::Client, key_pair_id: &str) -> Fact<Option<Vec<u8>>> {
    let output = match client.get_public_key().id(key_pair_id).send().await {
        Ok(output) => output,
        Err(error) if error.code() == Some("NoSuchPublicKey") => return Ok(None),
        Err(error) => return Err(api_error("GetPublicKey", &error)),
    };
    let pem = output
        .public_key()
        .and_then(|key| key.public_key_config())
        .map(|config| config.encoded_key())
        .ok_or_else(|| "GetPublicKey: no key in the answer".to_owned())?;
    let block = first_pem_block(pem).map_err(|e| format!("the registered key does not read: {e}"))?;
    Ok(Some(block.der))
}

/// Runs an S3 read whose "not configured" answer (`absent`, e.g. `NoSuchCORSConfiguration`) means none.
macro_rules! bucket_setting {
    ($call:expr, $operation:literal, $absent:literal) => {
        match $call.await {
            Ok(output) => Ok(Some(output)),
            Err(error) if error.code() == Some($absent) => Ok(None),
            Err(error) => Err(api_error($operation, &error)),
        }
    };
}

async fn read_public_access_block(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Fact<Option<PublicAccessBlockConfiguration>> {
    let output = bucket_setting!(
        s3.get_public_access_block().bucket(bucket).send(),
        "GetPublicAccessBlock",
        "NoSuchPublicAccessBlockConfiguration"
    )?;
    Ok(output.and_then(|o| o.public_access_block_configuration))
}

async fn read_bucket_policy(s3: &aws_sdk_s3::Client, bucket: &str) -> Fact<Option<String>> {
    let output = bucket_setting!(
        s3.get_bucket_policy().bucket(bucket).send(),
        "GetBucketPolicy",
        "NoSuchBucketPolicy"
    )?;
    Ok(output.and_then(|o| o.policy))
}

async fn read_cors(s3: &aws_sdk_s3::Client, bucket: &str) -> Fact<Vec<CorsRule>> {
    let output = bucket_setting!(
        s3.get_bucket_cors().bucket(bucket).send(),
        "GetBucketCors",
        "NoSuchCORSConfiguration"
    )?;
    Ok(output
        .map(|o| o.cors_rules.unwrap_or_default())
        .unwrap_or_default())
}

async fn read_lifecycle(s3: &aws_sdk_s3::Client, bucket: &str) -> Fact<Vec<LifecycleRule>> {
    let output = bucket_setting!(
        s3.get_bucket_lifecycle_configuration().bucket(bucket).send(),
        "GetBucketLifecycleConfiguration",
        "NoSuchLifecycleConfiguration"
    )?;
    Ok(output.map(|o| o.rules.unwrap_or_default()).unwrap_or_default())
}

/// Keeps the `Date` header of the answer it sees, whatever the answer.
#[derive(Clone, Debug, Default)]
struct AnswerDate(Arc<Mutex<Option<String>>>);

impl Intercept for AnswerDate {
    fn name(&self) -> &'static str {
        "AnswerDate"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _config: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date")
            && let Ok(mut kept) = self.0.lock()
        {
            *kept = Some(date.to_owned());
        }
        Ok(())
    }
}

/// The store's clock from the `Date` of a `HeadBucket` answer, which every answer carries (a 403 or
/// 404 included): only the time is wanted here.
async fn read_store_clock(s3: &aws_sdk_s3::Client, bucket: &str, clock: &dyn Clock) -> Fact<StoreClock> {
    let date = AnswerDate::default();
    let answer = s3
        .head_bucket()
        .bucket(bucket)
        .customize()
        .interceptor(date.clone())
        .send()
        .await;
    let local = clock.now();
    let header = date.0.lock().ok().and_then(|kept| kept.clone());
    let Some(header) = header else {
        return Err(match answer {
            Err(error) => api_error("HeadBucket", &error),
            Ok(_) => "HeadBucket: the answer has no Date header".to_owned(),
        });
    };
    let store = httpdate::parse_http_date(&header)
        .ok()
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .ok_or_else(|| format!("HeadBucket: the Date header {header:?} is not an HTTP date"))?;
    Ok(StoreClock {
        store: store.as_secs(),
        local,
    })
}

/// The service's signer, built as the service builds it (and for KMS, checked with a test signature),
/// and a test URL it signs.
async fn service_signing(config: &Config, expected: &Expected, clock: &dyn Clock) -> Fact<ServiceSigning> {
    let signer = crate::app::cdn_signer(config, &expected.cdn_base_url)
        .await
        .map_err(|e| format!("the service's signing key: {}", Causes(&e)))?;
    let public_key_der = signer
        .public_key_der()
        .map_err(|e| format!("the service's signing key: {e}"))?;
    let signed_at = clock.now();
    let path = format!("{}{TEST_OBJECT}", expected.cdn_base_path);
    let signed = signer
        .sign_object(&path, signed_at, 300)
        .await
        .map_err(|e| format!("signing a test URL: {}", Causes(&e)))?;
    Ok(ServiceSigning {
        public_key_der,
        test_url: signed.url,
        signed_at,
    })
}
