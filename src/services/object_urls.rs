//! The URL a viewer gets for an image: its public URL when it is settled public, a short-lived signed
//! URL for its private key otherwise; one at a time or for a whole page. In CloudFront delivery these
//! are CloudFront URLs; in S3 delivery, S3 presigned GETs (and the bucket's anonymous URL for a public
//! image where the bucket allows it).
//!
//! Only a settled public image gets its public URL; one on its way to private (or not yet public) gets
//! a signed URL for its private key, so making an image private stops new public URLs at once.
//!
//! A page of cold RSA signatures is CPU work measured in milliseconds (~0.2 ms each), so a batch
//! answers memoized URLs at once and signs the rest on the blocking pool, split across the cores:
//! the async workers stay free and the request's latency divides by the cores.

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};

use crate::app::AppState;
use crate::cdn_signer::{CdnSigner, SignedObjectUrl};
use crate::db::entity::image::{self, Location, Visibility};
use crate::images::ImageKey;
use crate::images::lifecycle::ImageKeys;
use crate::presigned_gets::PresignedGets;

use super::error::{ServiceError, ServiceResult};

/// Fewer signatures than this are computed in place: moving them would cost more than it saves.
const SIGN_IN_PLACE_BELOW: usize = 8;

/// Where a viewer loads one image from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectUrl {
    /// The URL.
    pub url: String,
    /// When a signed URL stops working (epoch seconds); `None` for a public URL.
    pub expires_at: Option<u64>,
}

impl From<SignedObjectUrl> for ObjectUrl {
    fn from(signed: SignedObjectUrl) -> Self {
        Self {
            url: signed.url,
            expires_at: Some(signed.expires_at),
        }
    }
}

/// What `image` needs: its public URL, or a signature for its private key.
enum Need {
    Public(ImageKey),
    Signed(ImageKey),
}

fn need(image: &image::Model) -> ServiceResult<Need> {
    let keys = ImageKeys::of(image)?;
    if image.visibility == Visibility::Public && image.location == Location::Public {
        return Ok(Need::Public(keys.public));
    }
    // The private key the object is complete at, or on its way to.
    let private = std::iter::once(image.object_key.as_str())
        .chain(image.moving_to.as_deref())
        .map(ImageKey::from_stored)
        .find(|key| !key.is_public())
        .unwrap_or(keys.private);
    Ok(Need::Signed(private))
}

/// The URL for one ready image at `now`; a signed one is valid for at least `ttl_secs`, rounded up
/// to the expiry window.
pub(crate) async fn image_url(
    state: &AppState,
    image: &image::Model,
    now: u64,
    ttl_secs: u64,
) -> ServiceResult<ObjectUrl> {
    match (need(image)?, &state.presigned_gets) {
        (Need::Public(key), None) => Ok(ObjectUrl {
            url: state.cdn.object_url(&key.cdn_path()),
            expires_at: None,
        }),
        (Need::Signed(key), None) => Ok(state
            .cdn
            .sign_object(&key.cdn_path(), now, ttl_secs)
            .await?
            .into()),
        (Need::Public(key), Some(s3)) => public_in_s3(s3, &key, now).await,
        (Need::Signed(key), Some(s3)) => presigned(s3, &key, now, ttl_secs).await,
    }
}

/// A presigned GET for `key`, in S3 delivery.
pub(crate) async fn presigned(
    s3: &PresignedGets,
    key: &ImageKey,
    now: u64,
    ttl_secs: u64,
) -> ServiceResult<ObjectUrl> {
    let presigned = s3.presign(key, now, ttl_secs).await?;
    Ok(ObjectUrl {
        url: presigned.url,
        expires_at: Some(presigned.expires_at),
    })
}

pub(crate) async fn public_in_s3(s3: &PresignedGets, key: &ImageKey, now: u64) -> ServiceResult<ObjectUrl> {
    let (url, expires_at) = s3.public(key, now).await?;
    Ok(ObjectUrl { url, expires_at })
}

/// The URLs for `images`, in order; see [`image_url`].
pub(crate) async fn image_urls(
    state: &AppState,
    images: &[image::Model],
    now: u64,
    ttl_secs: u64,
) -> ServiceResult<Vec<ObjectUrl>> {
    if state.presigned_gets.is_some() {
        // A presigned GET is an HMAC chain, microseconds each: no need to spread them over the cores.
        let mut urls = Vec::with_capacity(images.len());
        for image in images {
            urls.push(image_url(state, image, now, ttl_secs).await?);
        }
        return Ok(urls);
    }
    // Placeholders where a signature is still to come; each is overwritten below.
    let mut urls = Vec::with_capacity(images.len());
    let mut to_sign: Vec<(usize, String)> = Vec::new();
    for (index, image) in images.iter().enumerate() {
        let url = match need(image)? {
            Need::Public(key) => ObjectUrl {
                url: state.cdn.object_url(&key.cdn_path()),
                expires_at: None,
            },
            Need::Signed(key) => match state
                .cdn
                .memoized_object(&key.cdn_path(), now, ttl_secs)
                .map_err(ServiceError::internal)?
            {
                Some(signed) => signed.into(),
                None => {
                    to_sign.push((index, key.cdn_path()));
                    ObjectUrl {
                        url: String::new(),
                        expires_at: None,
                    }
                }
            },
        };
        urls.push(url);
    }
    let signed = if state.cdn.signs_remotely() {
        sign_through_kms(state, to_sign, now, ttl_secs).await?
    } else {
        sign_all(&state.cdn, to_sign, now, ttl_secs).await?
    };
    for (index, signed) in signed {
        urls[index] = signed.into();
    }
    Ok(urls)
}

/// Signs every `(index, path)` through the KMS key, at most `EDGEPASS_KMS_CONCURRENCY` calls at once.
async fn sign_through_kms(
    state: &AppState,
    paths: Vec<(usize, String)>,
    now: u64,
    ttl_secs: u64,
) -> ServiceResult<Vec<(usize, SignedObjectUrl)>> {
    let concurrency = usize::try_from(state.config.cdn.kms_concurrency).unwrap_or(1);
    let cdn = &state.cdn;
    futures::stream::iter(paths)
        .map(|(index, path)| async move {
            let signed = cdn.sign_object(&path, now, ttl_secs).await?;
            Ok::<_, ServiceError>((index, signed))
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await
}

/// Signs every `(index, path)` with the in-process key, in place when there are few, otherwise in one
/// blocking task per core.
async fn sign_all(
    cdn: &Arc<CdnSigner>,
    paths: Vec<(usize, String)>,
    now: u64,
    ttl_secs: u64,
) -> ServiceResult<Vec<(usize, SignedObjectUrl)>> {
    let sign_chunk = move |cdn: &CdnSigner, chunk: Vec<(usize, String)>| {
        chunk
            .into_iter()
            .map(|(index, path)| match cdn.sign_object_here(&path, now, ttl_secs) {
                Some(signed) => signed
                    .map(|signed| (index, signed))
                    .map_err(ServiceError::internal),
                None => Err(ServiceError::internal(std::io::Error::other(
                    "no signing key in the process",
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
    };
    if paths.len() < SIGN_IN_PLACE_BELOW {
        return sign_chunk(cdn, paths);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_task = paths.len().div_ceil(cores);
    let mut tasks = Vec::with_capacity(cores);
    let mut rest = paths;
    while !rest.is_empty() {
        let chunk: Vec<_> = rest.drain(..per_task.min(rest.len())).collect();
        let cdn = Arc::clone(cdn);
        tasks.push(tokio::task::spawn_blocking(move || sign_chunk(&cdn, chunk)));
    }
    let mut signed = Vec::new();
    for task in tasks {
        let chunk = task.await.map_err(ServiceError::internal)??;
        signed.extend(chunk);
    }
    Ok(signed)
}
