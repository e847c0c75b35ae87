//! Expiry windows and the signature memo.
//!
//! Rounding every expiry up to a window boundary makes the same grant produce the same policy bytes
//! for the whole window; the memo then returns the stored signature instead of signing again. Both
//! signature schemes in use are deterministic, so a stored signature equals a fresh one.

use std::hash::{Hash, Hasher};
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use quick_cache::Equivalent;
use quick_cache::sync::Cache;

use super::HashAlgorithm;

/// A window that expiries are rounded up to, e.g. 300 s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpiryWindow(NonZeroU64);

impl ExpiryWindow {
    /// A window of `seconds`; `None` for zero.
    pub fn from_secs(seconds: u64) -> Option<Self> {
        NonZeroU64::new(seconds).map(Self)
    }

    /// The window length in seconds.
    pub fn as_secs(self) -> u64 {
        self.0.get()
    }

    /// The first window boundary at or after `t`.
    pub fn round_up(self, t: u64) -> u64 {
        t.div_ceil(self.0.get()).saturating_mul(self.0.get())
    }

    /// The expiry for a grant of `lifetime` seconds made at `now`: at least `lifetime`, at most
    /// `lifetime` plus one window.
    pub fn expiry(self, now: u64, lifetime: u64) -> u64 {
        self.round_up(now.saturating_add(lifetime))
    }
}

#[derive(Clone, PartialEq, Eq)]
struct MemoKey {
    key_pair_id: Box<str>,
    hash: HashAlgorithm,
    policy: Box<[u8]>,
}

/// A borrowed view of a [`MemoKey`], so a lookup allocates nothing.
struct MemoKeyRef<'a> {
    key_pair_id: &'a str,
    hash: HashAlgorithm,
    policy: &'a [u8],
}

fn hash_parts<H: Hasher>(state: &mut H, key_pair_id: &str, hash: HashAlgorithm, policy: &[u8]) {
    key_pair_id.hash(state);
    hash.hash(state);
    policy.hash(state);
}

impl Hash for MemoKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_parts(state, &self.key_pair_id, self.hash, &self.policy);
    }
}

impl Hash for MemoKeyRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_parts(state, self.key_pair_id, self.hash, self.policy);
    }
}

impl Equivalent<MemoKey> for MemoKeyRef<'_> {
    fn equivalent(&self, key: &MemoKey) -> bool {
        self.key_pair_id == &*key.key_pair_id && self.hash == key.hash && self.policy == &*key.policy
    }
}

/// Counters of a [`SignatureMemo`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// Signatures served from the memo.
    pub hits: u64,
    /// Signatures computed when a request needed them (and then stored).
    pub misses: u64,
    /// Signatures computed ahead of need (see [`SignatureMemo::sign_ahead`]).
    pub ahead: u64,
    /// Of those, how many a request has used since.
    pub ahead_used: u64,
}

/// A stored signature, and whether it was signed ahead and not yet used.
struct Entry {
    signature: Arc<str>,
    unused_ahead: AtomicBool,
}

/// A bounded, thread-safe memo: (key-pair id, hash, policy bytes) → CloudFront-base64 signature.
pub struct SignatureMemo {
    cache: Cache<MemoKey, Arc<Entry>>,
    hits: AtomicU64,
    misses: AtomicU64,
    ahead: AtomicU64,
    ahead_used: AtomicU64,
}

impl std::fmt::Debug for SignatureMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureMemo")
            .field("capacity", &self.cache.capacity())
            .field("stats", &self.stats())
            .finish()
    }
}

impl SignatureMemo {
    /// A memo holding at most `capacity` signatures; the least useful are evicted first.
    pub fn new(capacity: usize) -> Self {
        Self {
            cache: Cache::new(capacity.max(1)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            ahead: AtomicU64::new(0),
            ahead_used: AtomicU64::new(0),
        }
    }

    /// The stored signature, if any; a hit is counted, an absence is not (the caller signs next, and
    /// [`SignatureMemo::get_or_sign`] counts that miss).
    pub(crate) fn get(&self, key_pair_id: &str, hash: HashAlgorithm, policy: &[u8]) -> Option<Arc<str>> {
        let lookup = MemoKeyRef {
            key_pair_id,
            hash,
            policy,
        };
        let found = self.cache.get(&lookup)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        if found.unused_ahead.swap(false, Ordering::Relaxed) {
            self.ahead_used.fetch_add(1, Ordering::Relaxed);
        }
        Some(Arc::clone(&found.signature))
    }

    /// Returns the stored signature, or computes it with `sign` and stores it.
    pub(crate) fn get_or_sign<E>(
        &self,
        key_pair_id: &str,
        hash: HashAlgorithm,
        policy: &[u8],
        sign: impl FnOnce() -> Result<Arc<str>, E>,
    ) -> Result<Arc<str>, E> {
        if let Some(signature) = self.get(key_pair_id, hash, policy) {
            return Ok(signature);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let signature = sign()?;
        self.store(key_pair_id, hash, policy, &signature, false);
        Ok(signature)
    }

    /// Stores the signature of a policy that requests are expected to ask for soon, unless it is
    /// stored already; returns whether it signed. Counted as signed ahead, not as a miss, and as used
    /// when a request first finds it.
    pub(crate) fn sign_ahead<E>(
        &self,
        key_pair_id: &str,
        hash: HashAlgorithm,
        policy: &[u8],
        sign: impl FnOnce() -> Result<Arc<str>, E>,
    ) -> Result<bool, E> {
        let lookup = MemoKeyRef {
            key_pair_id,
            hash,
            policy,
        };
        if self.cache.peek(&lookup).is_some() {
            return Ok(false);
        }
        let signature = sign()?;
        self.ahead.fetch_add(1, Ordering::Relaxed);
        self.store(key_pair_id, hash, policy, &signature, true);
        Ok(true)
    }

    fn store(
        &self,
        key_pair_id: &str,
        hash: HashAlgorithm,
        policy: &[u8],
        signature: &Arc<str>,
        ahead: bool,
    ) {
        let key = MemoKey {
            key_pair_id: key_pair_id.into(),
            hash,
            policy: policy.into(),
        };
        let entry = Entry {
            signature: Arc::clone(signature),
            unused_ahead: AtomicBool::new(ahead),
        };
        self.cache.insert(key, Arc::new(entry));
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> MemoStats {
        MemoStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            ahead: self.ahead.load(Ordering::Relaxed),
            ahead_used: self.ahead_used.load(Ordering::Relaxed),
        }
    }

    /// How many signatures are stored.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_round_up_to_the_window() {
        let window = ExpiryWindow::from_secs(300).expect("window");
        assert_eq!(window.round_up(0), 0);
        assert_eq!(window.round_up(1), 300);
        assert_eq!(window.round_up(300), 300);
        assert_eq!(window.round_up(301), 600);
        assert_eq!(window.expiry(1_000, 3_600), 4_800);
        assert_eq!(
            window.round_up(u64::MAX),
            u64::MAX,
            "saturates instead of wrapping"
        );
        assert!(ExpiryWindow::from_secs(0).is_none());
    }

    #[test]
    fn a_second_lookup_is_a_hit_and_does_not_sign() {
        let memo = SignatureMemo::new(16);
        let first = memo.get_or_sign::<()>("K1", HashAlgorithm::Sha1, b"p", || Ok(Arc::from("sig")));
        let second = memo.get_or_sign::<()>("K1", HashAlgorithm::Sha1, b"p", || panic!("signed twice"));
        assert_eq!(first, second);
        assert_eq!(
            memo.stats(),
            MemoStats {
                hits: 1,
                misses: 1,
                ..MemoStats::default()
            }
        );
    }

    #[test]
    fn a_signature_made_ahead_is_counted_apart_and_as_used_once_found() {
        let memo = SignatureMemo::new(16);
        let signed = memo.sign_ahead::<()>("K1", HashAlgorithm::Sha1, b"p", || Ok(Arc::from("sig")));
        let again = memo.sign_ahead::<()>("K1", HashAlgorithm::Sha1, b"p", || panic!("signed twice"));
        assert_eq!((signed, again), (Ok(true), Ok(false)));
        assert_eq!(memo.stats().ahead_used, 0);

        for _ in 0..2 {
            let found = memo.get_or_sign::<()>("K1", HashAlgorithm::Sha1, b"p", || panic!("not a miss"));
            assert_eq!(found.as_deref(), Ok("sig"));
        }

        assert_eq!(
            memo.stats(),
            MemoStats {
                hits: 2,
                misses: 0,
                ahead: 1,
                ahead_used: 1,
            }
        );
        let known = memo.get_or_sign::<()>("K1", HashAlgorithm::Sha1, b"q", || Ok(Arc::from("q")));
        assert!(known.is_ok());
        assert_eq!(
            memo.sign_ahead::<()>("K1", HashAlgorithm::Sha1, b"q", || panic!("stored already")),
            Ok(false)
        );
        assert_eq!(memo.stats().ahead, 1);
    }

    #[test]
    fn a_lookup_finds_only_what_was_signed_and_counts_only_hits() {
        let memo = SignatureMemo::new(16);
        assert_eq!(memo.get("K1", HashAlgorithm::Sha1, b"p"), None);
        memo.get_or_sign::<()>("K1", HashAlgorithm::Sha1, b"p", || Ok(Arc::from("sig")))
            .expect("signed");
        assert_eq!(memo.get("K1", HashAlgorithm::Sha1, b"p").as_deref(), Some("sig"));
        assert_eq!(memo.get("K1", HashAlgorithm::Sha256, b"p"), None);
        assert_eq!(
            memo.stats(),
            MemoStats {
                hits: 1,
                misses: 1,
                ..MemoStats::default()
            }
        );
    }

    #[test]
    fn key_hash_and_policy_each_separate_entries() {
        let memo = SignatureMemo::new(16);
        for (key, hash, policy) in [
            ("K1", HashAlgorithm::Sha1, &b"p"[..]),
            ("K2", HashAlgorithm::Sha1, b"p"),
            ("K1", HashAlgorithm::Sha256, b"p"),
            ("K1", HashAlgorithm::Sha1, b"q"),
        ] {
            let out = memo.get_or_sign::<()>(key, hash, policy, || {
                Ok(Arc::from(format!("{key}{hash}{policy:?}")))
            });
            assert_eq!(&*out.expect("sig"), format!("{key}{hash}{policy:?}"));
        }
        assert_eq!(memo.stats().misses, 4);
        assert_eq!(memo.len(), 4);
    }

    #[test]
    fn errors_are_not_stored() {
        let memo = SignatureMemo::new(4);
        assert_eq!(
            memo.get_or_sign("K", HashAlgorithm::Sha1, b"p", || Err("boom")),
            Err("boom")
        );
        assert!(memo.is_empty());
    }
}
