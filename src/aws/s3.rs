//! The object store: a small wrapper over aws-sdk-s3 with its own error type.
//!
//! The same code talks to AWS S3, to any S3-compatible service, and to local mode's embedded store.

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::MetadataDirective;
use tokio::io::AsyncRead;

use super::BoxError;
use crate::config::{Config, StorageConfig};
use crate::images::{ContentType, ImageKey};
use crate::signing::ExpiryWindow;

/// A failed storage call: the operation, and the SDK's error (or what was wrong) as its source.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The store could not be reached (connection refused, timeout): worth a 503.
    #[error("object store unreachable: {operation}")]
    Unavailable {
        /// The S3 operation.
        operation: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// The store answered with an error.
    #[error("object store error: {operation}")]
    Failed {
        /// The S3 operation.
        operation: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl StorageError {
    /// A failure of `operation` that is not the transport's: `source` says what went wrong.
    pub fn failed(operation: &'static str, source: impl Into<BoxError>) -> Self {
        Self::Failed {
            operation,
            source: source.into(),
        }
    }

    fn from_sdk<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        if super::unreachable(&error) {
            Self::Unavailable {
                operation,
                source: Box::new(error),
            }
        } else {
            Self::failed(operation, error)
        }
    }
}

/// Where and how to reach the store.
#[derive(Clone, Debug)]
pub struct StorageTarget {
    /// The bucket.
    pub bucket: String,
    /// The region.
    pub region: String,
    /// An S3-compatible endpoint instead of AWS's (local store, MinIO, moto…).
    pub endpoint_url: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible services need.
    pub force_path_style: bool,
    /// Static credentials; `None` uses the AWS default chain (environment, profile, instance role).
    pub credentials: Option<(String, String)>,
}

/// A presigned upload.
#[derive(Clone, Debug)]
pub struct PresignedPut {
    /// The URL to PUT to.
    pub url: String,
    /// Headers the PUT must carry exactly (they are part of the signature).
    pub headers: Vec<(String, String)>,
    /// When the URL stops working (epoch seconds).
    pub expires_at: u64,
}

/// A presigned download of one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedGet {
    /// The URL to GET.
    pub url: String,
    /// When it stops working (epoch seconds).
    pub expires_at: u64,
}

/// When a presigned GET made at `now` for at least `ttl_secs` is signed and when it ends: signed at the
/// start of `now`'s window, ending at the window boundary at or after `now + ttl_secs`. Between two
/// boundaries every request gets the same signing time and expiry, so the same URL, and a browser's
/// cached copy stays valid (the idea of the CloudFront signature memo).
pub fn get_signing_span(now: u64, ttl_secs: u64, window: ExpiryWindow) -> (u64, u64) {
    let start = now - now % window.as_secs();
    (start, window.expiry(now, ttl_secs))
}

/// What HEAD tells about a stored object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Size in bytes.
    pub size: u64,
    /// The stored `Content-Type`.
    pub content_type: Option<String>,
}

/// Everything HEAD tells the edge about a stored object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Size in bytes.
    pub size: u64,
    /// The stored `Content-Type`.
    pub content_type: Option<String>,
    /// The entity tag, quoted as S3 sends it (`"…"`).
    pub etag: Option<String>,
    /// When the object was last written.
    pub last_modified: Option<SystemTime>,
    /// The stored `Cache-Control`.
    pub cache_control: Option<String>,
    /// The stored `Content-Disposition` (S3 and CloudFront send it with the object).
    pub content_disposition: Option<String>,
}

/// The response headers edgepass stores with an object it writes. A copy replaces whatever the source
/// carried, so nothing an uploader sent along with the bytes is ever served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectHeaders<'a> {
    /// `Content-Type`.
    pub content_type: &'a str,
    /// `Cache-Control`.
    pub cache_control: &'a str,
}

/// How a conditional copy ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Copied {
    /// The destination holds the source's bytes.
    Done,
    /// The source is gone, or no longer the version the condition named: nothing was written.
    SourceChanged,
}

/// An object's bytes (or a range of them) as they arrive from the store.
pub struct ObjectBody {
    /// The entity tag of what is being read.
    pub etag: Option<String>,
    /// How many bytes the body holds.
    pub length: u64,
    /// The bytes, streamed.
    pub reader: Pin<Box<dyn AsyncRead + Send>>,
}

impl std::fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectBody")
            .field("etag", &self.etag)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// The bucket edgepass keeps images in.
#[derive(Clone, Debug)]
pub struct Storage {
    client: Client,
    bucket: String,
}

impl StorageTarget {
    /// The store `config` names (`EDGEPASS_S3_*`, `EDGEPASS_AWS_*`); `None` in local mode, whose
    /// embedded store is started by the service.
    pub fn configured(config: &Config) -> Option<Self> {
        let StorageConfig::S3 {
            bucket,
            region,
            endpoint_url,
            force_path_style,
        } = &config.storage
        else {
            return None;
        };
        Some(Self {
            bucket: bucket.clone(),
            region: region.clone(),
            endpoint_url: endpoint_url.clone(),
            force_path_style: *force_path_style,
            credentials: config.static_aws_credentials(),
        })
    }
}

/// An S3 client for `target`, with short timeouts. Nothing is sent until the first call.
pub async fn client(target: &StorageTarget) -> Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_timeout(Duration::from_secs(30))
        .build();
    let credentials = target
        .credentials
        .as_ref()
        .map(|(access_key, secret_key)| (access_key.as_str(), secret_key.as_str()));
    let shared = super::sdk_config(&target.region, credentials).await;
    let mut builder = aws_sdk_s3::config::Builder::from(&shared)
        .timeout_config(timeouts)
        .force_path_style(target.force_path_style);
    if let Some(endpoint) = &target.endpoint_url {
        builder = builder.endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

impl Storage {
    /// Connects to `target`. Nothing is sent until the first call.
    pub async fn connect(target: &StorageTarget) -> Self {
        Self {
            client: client(target).await,
            bucket: target.bucket.clone(),
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Creates the bucket unless it exists (local mode; production buckets come from `infra/`).
    pub async fn ensure_bucket(&self) -> Result<(), StorageError> {
        if self
            .client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .is_ok()
        {
            return Ok(());
        }
        match self.client.create_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(error)
                if matches!(
                    error.code(),
                    Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(StorageError::from_sdk("CreateBucket", error)),
        }
    }

    /// Whether the bucket answers (readiness).
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| StorageError::from_sdk("HeadBucket", e))
    }

    /// A presigned PUT for `key` that pins the content type and the exact length, valid for `ttl` from
    /// `now`. No request is sent.
    pub async fn presign_put(
        &self,
        key: &ImageKey,
        content_type: ContentType,
        size: u64,
        ttl: Duration,
        now: SystemTime,
    ) -> Result<PresignedPut, StorageError> {
        let config = PresigningConfig::builder()
            .start_time(now)
            .expires_in(ttl)
            .build()
            .map_err(|e| StorageError::failed("presigning", e))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type.mime())
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .presigned(config)
            .await
            .map_err(|e| StorageError::from_sdk("presign PutObject", e))?;
        let expires_at = now
            .checked_add(ttl)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        Ok(PresignedPut {
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            expires_at,
        })
    }

    /// A presigned GET for `key`, valid from the start of `now`'s window until the window boundary at
    /// or after `now + ttl_secs` (see [`get_signing_span`]). No request is sent; SigV4 query signing is
    /// the SDK's.
    pub async fn presign_get(
        &self,
        key: &ImageKey,
        now: u64,
        ttl_secs: u64,
        window: ExpiryWindow,
    ) -> Result<PresignedGet, StorageError> {
        let (start, expires_at) = get_signing_span(now, ttl_secs, window);
        let config = PresigningConfig::builder()
            .start_time(SystemTime::UNIX_EPOCH + Duration::from_secs(start))
            .expires_in(Duration::from_secs(expires_at - start))
            .build()
            .map_err(|e| StorageError::failed("presigning", e))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .presigned(config)
            .await
            .map_err(|e| StorageError::from_sdk("presign GetObject", e))?;
        Ok(PresignedGet {
            url: request.uri().to_owned(),
            expires_at,
        })
    }

    /// The origin (`scheme://host[:port]`) that presigned uploads go to, as browsers see it: the page
    /// must allow it in its Content-Security-Policy. Found by presigning a PUT (nothing is sent), so
    /// path-style and virtual-hosted addressing and custom endpoints all come out as the SDK builds them.
    pub async fn upload_origin(&self) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(Duration::from_secs(60))
            .map_err(|e| StorageError::failed("presigning", e))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key("origin-probe")
            .presigned(config)
            .await
            .map_err(|e| StorageError::from_sdk("presign PutObject", e))?;
        origin_of(request.uri()).map(str::to_owned).ok_or_else(|| {
            StorageError::failed(
                "presign PutObject",
                format!("presigned URL without an origin: {}", request.uri()),
            )
        })
    }

    /// Size and type of the object at `key`; `None` when there is none.
    pub async fn head(&self, key: &ImageKey) -> Result<Option<ObjectInfo>, StorageError> {
        Ok(self.describe(key.as_str()).await?.map(|meta| ObjectInfo {
            size: meta.size,
            content_type: meta.content_type,
        }))
    }

    /// HEAD of any key in the bucket (the local edge serves whatever is there); `None` when there is
    /// no such object.
    pub async fn describe(&self, key: &str) -> Result<Option<ObjectMeta>, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(ObjectMeta {
                size: head
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: head.content_type().map(str::to_owned),
                etag: head.e_tag().map(str::to_owned),
                last_modified: head.last_modified().and_then(|t| SystemTime::try_from(*t).ok()),
                cache_control: head.cache_control().map(str::to_owned),
                content_disposition: head.content_disposition().map(str::to_owned),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(StorageError::from_sdk("HeadObject", error)),
        }
    }

    /// Streams the object at `key`, or the inclusive byte range `range` of it, provided it is still
    /// the version whose entity tag is `etag`. `None` when the object is gone or has changed since
    /// (the caller looks again).
    ///
    /// S3 enforces `If-Match` itself; stores that ignore it (s3s-fs) are caught by comparing the entity
    /// tag they answer with.
    pub async fn read(
        &self,
        key: &str,
        range: Option<(u64, u64)>,
        etag: Option<&str>,
    ) -> Result<Option<ObjectBody>, StorageError> {
        let mut request = self.client.get_object().bucket(&self.bucket).key(key);
        if let Some((first, last)) = range {
            request = request.range(format!("bytes={first}-{last}"));
        }
        if let Some(etag) = etag {
            request = request.if_match(etag);
        }
        let output = match request.send().await {
            Ok(output) => output,
            Err(error)
                if error.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || matches!(error.code(), Some("PreconditionFailed" | "NotFound")) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(StorageError::from_sdk("GetObject", error)),
        };
        if etag.is_some() && output.e_tag() != etag {
            return Ok(None);
        }
        Ok(Some(ObjectBody {
            etag: output.e_tag().map(str::to_owned),
            length: output
                .content_length()
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(0),
            reader: Box::pin(output.body.into_async_read()),
        }))
    }

    /// The first `len` bytes of the object at `key` (fewer if it is shorter).
    pub async fn read_prefix(&self, key: &ImageKey, len: usize) -> Result<Vec<u8>, StorageError> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .range(format!("bytes=0-{}", len.saturating_sub(1)))
            .send()
            .await
            .map_err(|e| StorageError::from_sdk("GetObject", e))?;
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| StorageError::failed("GetObject body", e))?
            .into_bytes();
        Ok(bytes.iter().take(len).copied().collect())
    }

    /// Copies `from` to `to` within the bucket with `headers` instead of the source's own (idempotent:
    /// copying again gives the same object).
    pub async fn copy(
        &self,
        from: &ImageKey,
        to: &ImageKey,
        headers: ObjectHeaders<'_>,
    ) -> Result<(), StorageError> {
        match self.copy_object(from, to, headers, None).await? {
            Copied::Done => Ok(()),
            Copied::SourceChanged => Err(StorageError::failed(
                "CopyObject",
                format!("{from} vanished during the copy"),
            )),
        }
    }

    /// Copies `from` to `to` with `headers`, provided `from` is still the version whose entity tag is
    /// `etag` (`x-amz-copy-source-if-match`): bytes written after they were checked are never copied.
    pub async fn copy_if_unchanged(
        &self,
        from: &ImageKey,
        to: &ImageKey,
        headers: ObjectHeaders<'_>,
        etag: &str,
    ) -> Result<Copied, StorageError> {
        self.copy_object(from, to, headers, Some(etag)).await
    }

    async fn copy_object(
        &self,
        from: &ImageKey,
        to: &ImageKey,
        headers: ObjectHeaders<'_>,
        etag: Option<&str>,
    ) -> Result<Copied, StorageError> {
        let mut request = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{}", self.bucket, from.as_str()))
            .key(to.as_str())
            .metadata_directive(MetadataDirective::Replace)
            .content_type(headers.content_type)
            .cache_control(headers.cache_control);
        if let Some(etag) = etag {
            request = request.copy_source_if_match(etag);
        }
        match request.send().await {
            Ok(_) => {}
            Err(error) if matches!(error.code(), Some("PreconditionFailed" | "NoSuchKey")) => {
                return Ok(Copied::SourceChanged);
            }
            Err(error) => return Err(StorageError::from_sdk("CopyObject", error)),
        }
        // S3 enforces the condition itself. A store that ignores it (moto) is caught by asking for the
        // source's entity tag again: if it is still the checked one, no write came between the check
        // and now, so the copy holds the checked bytes. Comparing the copy's own tag instead would
        // refuse every copy in a bucket whose encryption (SSE-KMS) gives each object a tag of its own.
        // A write that raced the copy removes the copy before anything records it.
        if let Some(expected) = etag {
            let source = self.describe(from.as_str()).await?;
            if source.and_then(|meta| meta.etag).as_deref() != Some(expected) {
                self.delete(to).await?;
                return Ok(Copied::SourceChanged);
            }
        }
        Ok(Copied::Done)
    }

    /// Deletes the object at `key`; deleting what is not there succeeds.
    pub async fn delete(&self, key: &ImageKey) -> Result<(), StorageError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if matches!(error.code(), Some("NoSuchKey" | "NotFound")) => Ok(()),
            Err(error) => Err(StorageError::from_sdk("DeleteObject", error)),
        }
    }
}

/// The `scheme://authority` part of an absolute URL.
fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.find(['/', '?', '#']).map_or(rest, |end| &rest[..end]);
    (!scheme.is_empty() && !authority.is_empty()).then(|| &url[..scheme.len() + 3 + authority.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_get_is_the_same_between_two_boundaries_and_lasts_at_least_its_lifetime() {
        let window = ExpiryWindow::from_secs(300).expect("window");
        let t0 = 1_800_000_000; // on a boundary
        assert_eq!(get_signing_span(t0, 300, window), (t0, t0 + 300));
        assert_eq!(get_signing_span(t0 + 1, 300, window), (t0, t0 + 600));
        assert_eq!(get_signing_span(t0 + 299, 300, window), (t0, t0 + 600));
        assert_eq!(get_signing_span(t0 + 300, 300, window), (t0 + 300, t0 + 600));
        for now in t0..t0 + 900 {
            let (start, end) = get_signing_span(now, 300, window);
            assert!(start <= now && end >= now + 300 && end <= now + 600, "{now}");
        }
    }
}
