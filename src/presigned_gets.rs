//! The image URLs of S3 delivery (`EDGEPASS_DELIVERY=s3`): a presigned GET for one object, or for a
//! public image its anonymous URL when the bucket allows that.
//!
//! A presigned GET is signed at the start of its expiry window and ends at a window boundary (see
//! [`get_signing_span`](crate::aws::s3::get_signing_span)), so every request within one window gets
//! the same URL and the browser's cached copy stays valid. The memo keeps those URLs: a hit answers
//! without calling the SDK's presigner.

use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::Cache;

use crate::aws::s3::{PresignedGet, Storage, StorageError, get_signing_span};
use crate::config::PublicImages;
use crate::images::ImageKey;
use crate::signing::ExpiryWindow;

/// How many presigned URLs the memo keeps: one per (object, lifetime, window).
const MEMO_CAPACITY: usize = 100_000;

/// How often the memo answered, since start-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PresignStats {
    /// URLs served from the memo.
    pub hits: u64,
    /// URLs presigned because the memo did not have them.
    pub misses: u64,
}

/// Presigns GETs for S3 delivery through one store, window and memo.
pub struct PresignedGets {
    storage: Storage,
    window: ExpiryWindow,
    public: PublicImages,
    /// (object key, signed at, expires at) → URL.
    memo: Cache<(String, u64, u64), String>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for PresignedGets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresignedGets")
            .field("window", &self.window)
            .field("public", &self.public)
            .field("memo", &self.memo.len())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl PresignedGets {
    /// Presigns through `storage`, with expiries rounded up to `window`; public images load as
    /// `public` says.
    pub fn new(storage: Storage, window: ExpiryWindow, public: PublicImages) -> Self {
        Self {
            storage,
            window,
            public,
            memo: Cache::new(MEMO_CAPACITY),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A presigned GET for `key` valid for at least `ttl_secs` from `now`: the memo's when this window
    /// already asked for it.
    pub async fn presign(
        &self,
        key: &ImageKey,
        now: u64,
        ttl_secs: u64,
    ) -> Result<PresignedGet, StorageError> {
        let (signed_at, expires_at) = get_signing_span(now, ttl_secs, self.window);
        let memo_key = (key.as_str().to_owned(), signed_at, expires_at);
        if let Some(url) = self.memo.get(&memo_key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(PresignedGet { url, expires_at });
        }
        let presigned = self.storage.presign_get(key, now, ttl_secs, self.window).await?;
        self.misses.fetch_add(1, Ordering::Relaxed);
        self.memo.insert(memo_key, presigned.url.clone());
        Ok(presigned)
    }

    /// Where a settled public image at `key` loads from: its anonymous URL when the bucket allows
    /// anonymous reads of `public/*`, otherwise a presigned GET of the configured public lifetime.
    /// Either stops working once the object leaves `public/` (made private or deleted).
    pub async fn public(&self, key: &ImageKey, now: u64) -> Result<(String, Option<u64>), StorageError> {
        match &self.public {
            PublicImages::Anonymous { base_url } => Ok((format!("{base_url}/{}", key.as_str()), None)),
            PublicImages::Presigned { ttl_secs } => {
                let presigned = self.presign(key, now, *ttl_secs).await?;
                Ok((presigned.url, Some(presigned.expires_at)))
            }
        }
    }

    /// The memo's counters.
    pub fn stats(&self) -> PresignStats {
        PresignStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }
}
