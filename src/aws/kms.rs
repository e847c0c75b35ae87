//! A CloudFront signing key held in AWS KMS: the private half never enters the process. KMS signs the
//! policy bytes; edgepass checks at start-up that the key can do that, and verifies with the public half.
//!
//! KMS has no SHA-1 signing, so a KMS key always signs with SHA-256: an `ECC_NIST_P256` key with
//! `ECDSA_SHA_256` (whose DER output is what CloudFront expects), an `RSA_2048` key with
//! `RSASSA_PKCS1_V1_5_SHA_256`.

use std::time::{Duration, Instant};

use aws_sdk_kms::Client;
use aws_sdk_kms::config::retry::RetryConfig;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};

use super::{BoxError, sdk_config, unreachable};
use crate::config::{Config, StorageConfig};
use crate::signing::{HashAlgorithm, KeyError, KeyKind, KeyPairId, VerifyingKey};

/// Attempts per KMS call, the first included. KMS throttles past its per-account quota (300 Sign/s for
/// ECC keys and 500/s for RSA by default); a throttled or failed call is tried again with exponential
/// backoff and jitter, then fails as [`KmsError::Throttled`] or [`KmsError::Unavailable`], so a
/// request waits a bounded time and never hangs.
pub const ATTEMPTS: u32 = 4;

/// The first backoff; each retry waits up to twice the one before (with jitter).
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The outcome label of a KMS Sign call: `signed`, `throttled`, `unavailable` or `refused`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SignOutcome {
    /// What became of the call, after the SDK's retries.
    pub outcome: &'static str,
}

/// KMS Sign calls made at request time, by outcome, and how long each took (its retries included).
#[derive(Clone, Debug)]
pub struct KmsMetrics {
    /// Calls by outcome.
    pub calls: Family<SignOutcome, Counter>,
    /// Seconds per call.
    pub latency: Histogram,
}

impl KmsMetrics {
    fn new() -> Self {
        Self {
            calls: Family::default(),
            // 1 ms to about 8 s: a throttled call with its retries takes seconds.
            latency: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
        }
    }

    fn record(&self, outcome: &Result<Vec<u8>, KmsError>, seconds: f64) {
        let outcome = match outcome {
            Ok(_) => "signed",
            Err(KmsError::Throttled { .. }) => "throttled",
            Err(KmsError::Unavailable { .. }) => "unavailable",
            Err(KmsError::Refused { .. } | KmsError::Unsuitable { .. }) => "refused",
        };
        self.calls.get_or_create(&SignOutcome { outcome }).inc();
        self.latency.observe(seconds);
    }
}

/// Where the KMS API is, and how to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsTarget {
    /// The region.
    pub region: String,
    /// An endpoint instead of AWS's (an emulator in tests).
    pub endpoint_url: Option<String>,
    /// Static credentials (access key, secret); `None` uses the AWS default chain.
    pub credentials: Option<(String, String)>,
}

impl KmsTarget {
    /// KMS as the service's configuration describes it: `EDGEPASS_KMS_REGION` (the bucket's region
    /// when unset, `us-east-1` in local mode), `EDGEPASS_KMS_ENDPOINT_URL`, `EDGEPASS_AWS_*`.
    pub fn of(config: &Config) -> Self {
        Self {
            region: config
                .kms_region
                .clone()
                .unwrap_or_else(|| match &config.storage {
                    StorageConfig::S3 { region, .. } => region.clone(),
                    StorageConfig::Embedded => "us-east-1".to_owned(),
                }),
            endpoint_url: config.kms_endpoint_url.clone(),
            credentials: config.static_aws_credentials(),
        }
    }
}

/// Why a KMS key cannot sign CloudFront policies, or a call failed.
#[derive(Debug, thiserror::Error)]
pub enum KmsError {
    /// KMS could not be reached.
    #[error("KMS {operation}: unreachable")]
    Unavailable {
        /// The call.
        operation: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// KMS throttled the call.
    #[error("KMS {operation}: throttled")]
    Throttled {
        /// The call.
        operation: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// KMS answered with an error (no such key, access denied, a disabled key, …).
    #[error("KMS {operation}: {code}: {message}")]
    Refused {
        /// The call.
        operation: &'static str,
        /// KMS's error code.
        code: String,
        /// KMS's message.
        message: String,
    },
    /// The key is not one CloudFront can use through KMS.
    #[error("KMS key {key_id}: {reason}")]
    Unsuitable {
        /// The key as configured.
        key_id: String,
        /// Why.
        reason: String,
    },
}

impl KmsError {
    fn from_sdk<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        if unreachable(&error) {
            return Self::Unavailable {
                operation,
                source: Box::new(error),
            };
        }
        let code = error.code().unwrap_or("unknown").to_owned();
        if code == "ThrottlingException" {
            return Self::Throttled {
                operation,
                source: Box::new(error),
            };
        }
        let message = error.message().unwrap_or("no message").to_owned();
        Self::Refused {
            operation,
            code,
            message,
        }
    }
}

/// The key's spec (`ECC_NIST_P256`, …). `KeySpec` replaced `CustomerMasterKeySpec`, with the same
/// names; some KMS implementations (moto's among them) still answer only the older field.
#[allow(deprecated)]
fn spec_name(described: &aws_sdk_kms::operation::get_public_key::GetPublicKeyOutput) -> &str {
    described
        .key_spec()
        .map(KeySpec::as_str)
        .or_else(|| described.customer_master_key_spec().map(|spec| spec.as_str()))
        .unwrap_or("unknown")
}

/// What `GetPublicKey` says of a key that can sign CloudFront policies.
struct Described {
    algorithm: SigningAlgorithmSpec,
    public: VerifyingKey,
    der: Vec<u8>,
}

/// A KMS client for `target`, with bounded retries.
async fn kms_client(target: &KmsTarget) -> Client {
    let credentials = target.credentials.as_ref().map(|(a, s)| (a.as_str(), s.as_str()));
    let shared = sdk_config(&target.region, credentials).await;
    let retries = RetryConfig::standard()
        .with_max_attempts(ATTEMPTS)
        .with_initial_backoff(FIRST_BACKOFF)
        .with_max_backoff(Duration::from_secs(2));
    let mut config = aws_sdk_kms::config::Builder::from(&shared).retry_config(retries);
    if let Some(endpoint) = &target.endpoint_url {
        config = config.endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

/// Fetches the public half of `key_id` and checks that it is an `ECC_NIST_P256` or `RSA_2048` key for
/// signing with the algorithm CloudFront's hash needs.
async fn describe(client: &Client, key_id: &str, key_pair_id: KeyPairId) -> Result<Described, KmsError> {
    let unsuitable = |reason: String| KmsError::Unsuitable {
        key_id: key_id.to_owned(),
        reason,
    };
    let described = client
        .get_public_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|e| KmsError::from_sdk("GetPublicKey", e))?;
    if described.key_usage() != Some(&KeyUsageType::SignVerify) {
        return Err(unsuitable(format!(
            "its usage is {:?}; CloudFront signing needs a SIGN_VERIFY key",
            described
                .key_usage()
                .map(KeyUsageType::as_str)
                .unwrap_or("unknown")
        )));
    }
    let spec = spec_name(&described);
    let (kind, algorithm) = match spec {
        "ECC_NIST_P256" => (KeyKind::EcdsaP256, SigningAlgorithmSpec::EcdsaSha256),
        "RSA_2048" => (KeyKind::Rsa2048, SigningAlgorithmSpec::RsassaPkcs1V15Sha256),
        other => {
            return Err(unsuitable(format!(
                "its spec is {other}; CloudFront accepts ECC_NIST_P256 or RSA_2048 keys"
            )));
        }
    };
    if !described.signing_algorithms().contains(&algorithm) {
        return Err(unsuitable(format!("it cannot sign with {}", algorithm.as_str())));
    }
    let der = described
        .public_key()
        .ok_or_else(|| unsuitable("KMS returned no public key".to_owned()))?;
    let public = VerifyingKey::from_spki_der(key_pair_id, der.as_ref())
        .map_err(|e| unsuitable(format!("its public key is not usable: {e}")))?;
    if public.kind() != kind {
        return Err(unsuitable("its public key does not match its spec".to_owned()));
    }
    Ok(Described {
        algorithm,
        public,
        der: der.as_ref().to_vec(),
    })
}

/// The public half of the KMS key `key_id`, checked as [`KmsKey::connect`] checks it but without a test
/// signature: for tools that only verify what the service signed (`edgepass explain`).
pub async fn public_key_of(
    target: &KmsTarget,
    key_id: &str,
    key_pair_id: KeyPairId,
) -> Result<VerifyingKey, KmsError> {
    let client = kms_client(target).await;
    Ok(describe(&client, key_id, key_pair_id).await?.public)
}

/// A KMS key that signs CloudFront policies, with its public half.
#[derive(Debug)]
pub struct KmsKey {
    client: Client,
    key_id: String,
    algorithm: SigningAlgorithmSpec,
    public: VerifyingKey,
    public_der: Vec<u8>,
    metrics: KmsMetrics,
}

impl KmsKey {
    /// Fetches the public half of `key_id` (a key id, ARN or alias), checks that it is an
    /// `ECC_NIST_P256` or `RSA_2048` key for signing, then signs a test message and verifies it
    /// locally: a key that passes can sign, and its signatures verify with the public key the edge and
    /// CloudFront hold. `key_pair_id` is the CloudFront id its public half is registered under.
    pub async fn connect(target: &KmsTarget, key_id: &str, key_pair_id: KeyPairId) -> Result<Self, KmsError> {
        let client = kms_client(target).await;
        let Described {
            algorithm,
            public,
            der,
        } = describe(&client, key_id, key_pair_id).await?;
        let unsuitable = |reason: String| KmsError::Unsuitable {
            key_id: key_id.to_owned(),
            reason,
        };
        let key = Self {
            client,
            key_id: key_id.to_owned(),
            algorithm,
            public,
            public_der: der,
            metrics: KmsMetrics::new(),
        };
        let probe = b"edgepass: a test policy signed at start-up";
        let signature = key.call_sign(probe).await?;
        if !key.public.verify(HashAlgorithm::Sha256, probe, &signature) {
            return Err(unsuitable(
                "a test signature does not verify with its public key".to_owned(),
            ));
        }
        Ok(key)
    }

    /// Signs `message` (the policy bytes) with SHA-256: DER ECDSA or PKCS#1 v1.5 RSA; counted in
    /// [`KmsKey::metrics`].
    pub async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KmsError> {
        let started = Instant::now();
        let signed = self.call_sign(message).await;
        self.metrics.record(&signed, started.elapsed().as_secs_f64());
        signed
    }

    /// The Sign calls made since start-up (the start-up check not counted).
    pub fn metrics(&self) -> &KmsMetrics {
        &self.metrics
    }

    async fn call_sign(&self, message: &[u8]) -> Result<Vec<u8>, KmsError> {
        let signed = self
            .client
            .sign()
            .key_id(&self.key_id)
            .message(Blob::new(message))
            .message_type(MessageType::Raw)
            .signing_algorithm(self.algorithm.clone())
            .send()
            .await
            .map_err(|e| KmsError::from_sdk("Sign", e))?;
        signed
            .signature()
            .map(|blob| blob.as_ref().to_vec())
            .ok_or_else(|| KmsError::Unsuitable {
                key_id: self.key_id.clone(),
                reason: "KMS returned no signature".to_owned(),
            })
    }

    /// The public half, which the local edge trusts and CloudFront holds.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// Another copy of the public half, for a key ring or lookup of its own.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        VerifyingKey::from_spki_der(self.public.key_pair_id().clone(), &self.public_der)
    }

    /// The public half as DER `SubjectPublicKeyInfo`, as KMS gave it.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// The public half as a `-----BEGIN PUBLIC KEY-----` PEM, the form CloudFront's CreatePublicKey
    /// takes.
    pub fn public_pem(&self) -> String {
        crate::keys::files::pem("PUBLIC KEY", &self.public_der)
    }

    /// The hash every signature uses: SHA-256 (KMS has no SHA-1 signing).
    pub fn hash(&self) -> HashAlgorithm {
        HashAlgorithm::Sha256
    }
}
