//! Minting the CloudFront cookies that open a user's own prefix, `{cdn}/users/{id}/*`, or one album of
//! theirs, `{cdn}/users/{id}/albums/{album}/*`; and signed URLs for single objects.
//!
//! The signatures come from the key ring's active key in the process, or from a key held in AWS KMS
//! (`EDGEPASS_CDN_KMS_KEY_ID`), whose private half never enters the process. Either way the memo and
//! the expiry windows keep signing to one signature per distinct policy per window.

use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use quick_cache::Equivalent;
use quick_cache::sync::Cache;

use crate::aws::kms::{KmsError, KmsKey, KmsMetrics};
use crate::config::{CdnAlgorithm, CdnConfig, Config};
use crate::domain::UserId;
use crate::images::{AlbumId, ObjectPrefix};
use crate::signing::{
    CookieAttributes, ExpiryWindow, HashAlgorithm, KeyError, KeyKind, KeyLookup, KeyPairId, KeyRing,
    MemoStats, Policy, RemoteSigner, SameSite, SignError, SignatureMemo, SignedCookies, Signer, SigningKey,
    SourceIp, VerifyingKey,
};

/// How many signatures the memo keeps: one per (user, window) for cookies and one per (shared object,
/// window) for signed URLs, so this covers many active users and their galleries.
const MEMO_CAPACITY: usize = 100_000;

/// The configured algorithm does not fit the key.
#[derive(Debug, thiserror::Error)]
#[error("EDGEPASS_CDN_ALGORITHM {algorithm:?} needs an {needs} key, but the configured key is {found}")]
pub struct AlgorithmMismatch {
    algorithm: CdnAlgorithm,
    needs: KeyKind,
    found: KeyKind,
}

/// Why a cookie set or URL could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum CdnSignError {
    /// The policy or URL was refused, or the in-process key failed.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// The KMS key did not sign (throttled past its retries, unreachable, refused).
    #[error(transparent)]
    Kms(#[from] KmsError),
}

/// A key held in KMS, and the public keys the local edge trusts.
#[derive(Debug)]
pub struct KmsSigning {
    /// The key.
    pub key: Arc<KmsKey>,
    /// Its public half ([`KmsKey::verifying_key`]), then any verify-only keys
    /// (`EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS`), such as a key being rotated out.
    pub verifying: Vec<VerifyingKey>,
}

/// What signs: the key ring's active key, or a KMS key.
#[derive(Debug)]
enum Source {
    Local(KeyRing),
    Kms {
        key: Arc<KmsKey>,
        /// The KMS key's public half first, then the trusted keys.
        verifying: Vec<VerifyingKey>,
    },
}

/// The longest a cookie set or signed URL minted under `config` stays valid after it was minted: the
/// longest of the cookie, album cookie, shared-URL and share-link URL lifetimes, plus one expiry window (expiries are
/// rounded up to the window, so a grant can outlive its lifetime by up to one window).
pub fn longest_signature_life(config: &Config) -> u64 {
    let longest = config
        .cdn
        .cookie_ttl_secs
        .max(config.cdn.album_cookie_ttl_secs)
        .max(config.sharing.url_ttl_secs)
        .max(config.sharing.link_url_ttl_secs);
    longest.saturating_add(config.cdn.expiry_window_secs)
}

/// A freshly minted cookie set.
#[derive(Clone, Debug)]
pub struct Minted {
    /// `Set-Cookie` header values.
    pub set_cookies: Vec<String>,
    /// When the grant ends (epoch seconds).
    pub expires_at: u64,
    /// The resource it grants.
    pub resource: String,
    /// The cookie path it is scoped to.
    pub path: String,
}

/// What one pass of [`CdnSigner::sign_ahead`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AheadPass {
    /// Signatures made.
    pub signed: usize,
    /// Whether it stopped at its budget with more to sign.
    pub more: bool,
}

impl AheadPass {
    /// Signs `policy` ahead unless the budget is spent; false once it is (the pass stops there).
    fn take(&mut self, signer: &Signer<'_>, policy: &Policy, budget: usize) -> Result<bool, SignError> {
        if self.signed >= budget {
            self.more = true;
            return Ok(false);
        }
        if signer.sign_ahead(policy)? {
            self.signed += 1;
        }
        Ok(true)
    }
}

/// An object URL grant: the object's CDN path and the URL lifetime asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ObjectGrant {
    path: Box<str>,
    ttl_secs: u64,
}

/// A borrowed [`ObjectGrant`], so that noting a grant already noted allocates nothing.
struct ObjectGrantRef<'a> {
    path: &'a str,
    ttl_secs: u64,
}

impl Hash for ObjectGrant {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (&*self.path, self.ttl_secs).hash(state);
    }
}

impl Hash for ObjectGrantRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.path, self.ttl_secs).hash(state);
    }
}

impl Equivalent<ObjectGrant> for ObjectGrantRef<'_> {
    fn equivalent(&self, key: &ObjectGrant) -> bool {
        self.path == &*key.path && self.ttl_secs == key.ttl_secs
    }
}

/// The grants signed lately, with when each was last asked for: what [`CdnSigner::sign_ahead`] signs
/// again for the next window.
struct RecentGrants {
    objects: Cache<ObjectGrant, u64>,
    /// The URL lifetimes among `objects`, so a pass with nothing due need not look at every grant.
    lifetimes: std::sync::Mutex<Vec<u64>>,
    /// A user's cookie set, with the viewer address it is bound to, if any.
    cookies: Cache<(UserId, Option<Ipv4Addr>), u64>,
}

impl std::fmt::Debug for RecentGrants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentGrants")
            .field("objects", &self.objects.len())
            .field("cookies", &self.cookies.len())
            .finish()
    }
}

/// A signed URL for one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedObjectUrl {
    /// The URL, with `Expires`, `Signature` and `Key-Pair-Id`.
    pub url: String,
    /// When it stops working (epoch seconds).
    pub expires_at: u64,
}

/// Mints signed cookies for users' prefixes, and signed URLs for single objects, through one key ring,
/// hash and memo.
#[derive(Debug)]
pub struct CdnSigner {
    source: Source,
    hash: HashAlgorithm,
    memo: SignatureMemo,
    window: ExpiryWindow,
    ttl_secs: u64,
    album_ttl_secs: u64,
    base_url: String,
    base_path: String,
    attributes: CookieAttributes,
    bind_viewer_ip: bool,
    recent: Option<RecentGrants>,
}

impl CdnSigner {
    /// Builds the signer from configuration, the CDN origin `base_url` (see
    /// [`BoundAddresses::cdn_base_url`](crate::config::BoundAddresses::cdn_base_url)) and the key ring;
    /// `secure` is the `Secure` attribute.
    pub fn new(
        config: &CdnConfig,
        base_url: &str,
        keys: KeyRing,
        secure: bool,
    ) -> Result<Self, AlgorithmMismatch> {
        let kind = keys.active().kind();
        Self::build(config, base_url, Source::Local(keys), kind, secure)
    }

    /// Builds the signer for a key held in KMS; the hash is SHA-256 whatever the key (KMS has no
    /// SHA-1 signing), and `algorithm` must fit the key's kind.
    pub fn with_kms(
        config: &CdnConfig,
        base_url: &str,
        kms: KmsSigning,
        secure: bool,
    ) -> Result<Self, AlgorithmMismatch> {
        let kind = kms.key.public_key().kind();
        Self::build(
            config,
            base_url,
            Source::Kms {
                key: kms.key,
                verifying: kms.verifying,
            },
            kind,
            secure,
        )
    }

    fn build(
        config: &CdnConfig,
        base_url: &str,
        source: Source,
        kind: KeyKind,
        secure: bool,
    ) -> Result<Self, AlgorithmMismatch> {
        let remote = matches!(source, Source::Kms { .. });
        let hash = match (config.algorithm, kind) {
            (None, _) if remote => HashAlgorithm::Sha256,
            (None, KeyKind::Rsa2048) => HashAlgorithm::Sha1,
            (None, KeyKind::EcdsaP256) => HashAlgorithm::Sha256,
            (Some(CdnAlgorithm::RsaSha1), KeyKind::Rsa2048) => HashAlgorithm::Sha1,
            (Some(CdnAlgorithm::RsaSha256), KeyKind::Rsa2048) => HashAlgorithm::Sha256,
            (Some(CdnAlgorithm::EcdsaSha256), KeyKind::EcdsaP256) => HashAlgorithm::Sha256,
            (Some(algorithm), found) => {
                let needs = if algorithm == CdnAlgorithm::EcdsaSha256 {
                    KeyKind::EcdsaP256
                } else {
                    KeyKind::Rsa2048
                };
                return Err(AlgorithmMismatch {
                    algorithm,
                    needs,
                    found,
                });
            }
        };
        // The cookie path is the CDN path of the prefix: a base URL with a path adds it in front.
        let after_scheme = base_url.split_once("://").map_or("", |(_, rest)| rest);
        let base_path = after_scheme
            .find('/')
            .map_or("", |i| &after_scheme[i..])
            .to_owned();
        Ok(Self {
            source,
            hash,
            memo: SignatureMemo::new(MEMO_CAPACITY),
            window: ExpiryWindow::from_secs(config.expiry_window_secs)
                .unwrap_or(ExpiryWindow::from_secs(1).expect("1 > 0")),
            ttl_secs: config.cookie_ttl_secs,
            album_ttl_secs: config.album_cookie_ttl_secs,
            base_url: base_url.to_owned(),
            base_path,
            attributes: CookieAttributes {
                domain: config.cookie_domain.clone(),
                path: String::new(),
                secure,
                http_only: true,
                same_site: SameSite::Lax,
                max_age: config.cookie_max_age_secs,
            },
            bind_viewer_ip: config.bind_viewer_ip,
            recent: usize::try_from(config.sign_ahead_grants)
                .ok()
                .filter(|&grants| grants > 0)
                .map(|grants| RecentGrants {
                    objects: Cache::new(grants),
                    lifetimes: std::sync::Mutex::new(Vec::new()),
                    cookies: Cache::new(grants),
                }),
        })
    }

    /// The pattern a user's cookies grant.
    pub fn resource_for(&self, user: UserId) -> String {
        self.resource_of(&ObjectPrefix::user(user))
    }

    /// The pattern a cookie set for `prefix` grants: `{cdn}/{prefix}*`.
    fn resource_of(&self, prefix: &ObjectPrefix) -> String {
        format!("{}/{}*", self.base_url, prefix.as_str())
    }

    /// The cookie `Path` of a user's prefix.
    pub fn path_for(&self, user: UserId) -> String {
        self.path_of(&ObjectPrefix::user(user))
    }

    /// The cookie `Path` of `prefix`: its CDN path, behind the base URL's own path if it has one.
    pub fn path_of(&self, prefix: &ObjectPrefix) -> String {
        format!("{}{}", self.base_path, prefix.cdn_path())
    }

    fn attributes_of(&self, prefix: &ObjectPrefix) -> CookieAttributes {
        CookieAttributes {
            path: self.path_of(prefix),
            ..self.attributes.clone()
        }
    }

    /// The viewer address a cookie set is bound to: an IPv4 viewer's, with viewer binding on.
    /// CloudFront cannot bind IPv6 viewers, so they get unbound cookies.
    fn bound_to(&self, viewer: Option<IpAddr>) -> Option<Ipv4Addr> {
        viewer
            .and_then(|ip| match ip {
                IpAddr::V4(v4) => Some(v4),
                IpAddr::V6(v6) => v6.to_ipv4_mapped(),
            })
            .filter(|_| self.bind_viewer_ip)
    }

    /// Mints the custom-policy cookie set for `user`'s prefix at `now`, bound to the viewer's IPv4
    /// address when viewer binding is on.
    pub async fn mint(&self, user: UserId, now: u64, viewer: Option<IpAddr>) -> Result<Minted, CdnSignError> {
        let bound_to = self.bound_to(viewer);
        self.note_cookies(user, bound_to, now);
        self.mint_for(&ObjectPrefix::user(user), self.ttl_secs, now, bound_to)
            .await
    }

    /// Mints the cookie set for one album, `users/{owner}/albums/{album}/`, at `now`: the same
    /// algorithm, window and attributes as a user's own set, with the album set's lifetime and the
    /// album's Path, so the browser sends it for that album's objects only.
    pub async fn mint_album(
        &self,
        owner: UserId,
        album: &AlbumId,
        now: u64,
        viewer: Option<IpAddr>,
    ) -> Result<Minted, CdnSignError> {
        let bound_to = self.bound_to(viewer);
        self.mint_for(
            &ObjectPrefix::album(owner, album),
            self.album_ttl_secs,
            now,
            bound_to,
        )
        .await
    }

    async fn mint_for(
        &self,
        prefix: &ObjectPrefix,
        ttl_secs: u64,
        now: u64,
        bound_to: Option<Ipv4Addr>,
    ) -> Result<Minted, CdnSignError> {
        let expires_at = self.window.expiry(now, ttl_secs);
        let policy = self.prefix_policy(prefix, expires_at, bound_to)?;
        let cookies = self.sign_cookies(&policy).await?;
        let attributes = self.attributes_of(prefix);
        Ok(Minted {
            set_cookies: cookies.set_cookie_headers(&attributes),
            expires_at,
            resource: policy.resource().to_owned(),
            path: attributes.path,
        })
    }

    /// The policy of `user`'s cookie set expiring at `expires_at`, bound to `viewer` if given.
    fn cookie_policy(
        &self,
        user: UserId,
        expires_at: u64,
        viewer: Option<Ipv4Addr>,
    ) -> Result<Policy, SignError> {
        self.prefix_policy(&ObjectPrefix::user(user), expires_at, viewer)
    }

    /// The policy of a cookie set for `prefix` expiring at `expires_at`, bound to `viewer` if given.
    fn prefix_policy(
        &self,
        prefix: &ObjectPrefix,
        expires_at: u64,
        viewer: Option<Ipv4Addr>,
    ) -> Result<Policy, SignError> {
        let policy = Policy::new(&self.resource_of(prefix), expires_at)?;
        match viewer {
            Some(v4) => Ok(policy.source_ip(SourceIp::parse(&v4.to_string())?)),
            None => Ok(policy),
        }
    }

    /// The policy of a canned URL for the object at `cdn_path` expiring at `expires_at`.
    fn object_policy(&self, cdn_path: &str, expires_at: u64) -> Result<Policy, SignError> {
        Policy::new(&self.object_url(cdn_path), expires_at)
    }

    /// The signer of the ring's active key, through the memo.
    fn local<'a>(&'a self, keys: &'a KeyRing) -> Signer<'a> {
        Signer::new(keys.active(), self.hash).with_memo(&self.memo)
    }

    /// The in-process signer; `None` when a KMS key signs.
    fn local_signer(&self) -> Option<Signer<'_>> {
        match &self.source {
            Source::Local(keys) => Some(self.local(keys)),
            Source::Kms { .. } => None,
        }
    }

    /// The memo and assembly of `key`'s signatures.
    fn remote<'a>(&'a self, key: &'a KmsKey) -> RemoteSigner<'a> {
        RemoteSigner::new(key.public_key().key_pair_id(), self.hash, &self.memo)
    }

    /// The memo's signature of `json`, or one KMS makes now.
    async fn kms_signature(
        remote: &RemoteSigner<'_>,
        key: &KmsKey,
        json: &str,
    ) -> Result<Arc<str>, KmsError> {
        if let Some(signature) = remote.memoized(json) {
            return Ok(signature);
        }
        let raw = key.sign(json.as_bytes()).await?;
        Ok(remote.store(json, &raw))
    }

    async fn sign_cookies(&self, policy: &Policy) -> Result<SignedCookies, CdnSignError> {
        match &self.source {
            Source::Local(keys) => Ok(self.local(keys).sign_cookies(policy)?),
            Source::Kms { key, .. } => {
                let remote = self.remote(key);
                let json = policy.to_json();
                let signature = Self::kms_signature(&remote, key, &json).await?;
                Ok(remote.cookies(policy, &json, signature))
            }
        }
    }

    async fn sign_url(&self, policy: &Policy) -> Result<String, CdnSignError> {
        match &self.source {
            Source::Local(keys) => Ok(self.local(keys).sign_url(policy.resource(), policy)?),
            Source::Kms { key, .. } => {
                let remote = self.remote(key);
                let json = policy.to_json();
                let signature = Self::kms_signature(&remote, key, &json).await?;
                Ok(remote.url(policy.resource(), policy, &json, &signature)?)
            }
        }
    }

    /// The KMS key's call metrics, when a KMS key signs.
    pub fn kms_metrics(&self) -> Option<&KmsMetrics> {
        match &self.source {
            Source::Local(_) => None,
            Source::Kms { key, .. } => Some(key.metrics()),
        }
    }

    /// Whether signatures come from KMS (a call each) rather than from the process (CPU).
    pub fn signs_remotely(&self) -> bool {
        matches!(self.source, Source::Kms { .. })
    }

    /// Signs a canned-policy URL for the object at `cdn_path` (`/users/42/….png`) valid for at least
    /// `ttl_secs` from `now`.
    ///
    /// The expiry is rounded up to the expiry window, so every request within one window gets the same
    /// URL (and the memo's signature): browsers cache the image, and a revoked grant's URLs all die
    /// within `ttl_secs` plus one window.
    pub async fn sign_object(
        &self,
        cdn_path: &str,
        now: u64,
        ttl_secs: u64,
    ) -> Result<SignedObjectUrl, CdnSignError> {
        let expires_at = self.window.expiry(now, ttl_secs);
        let policy = self.object_policy(cdn_path, expires_at)?;
        self.note_object(cdn_path, ttl_secs, now);
        let url = self.sign_url(&policy).await?;
        Ok(SignedObjectUrl { url, expires_at })
    }

    /// [`CdnSigner::sign_object`] for an in-process key, on the calling thread (for the blocking pool);
    /// `None` when a KMS key signs.
    pub fn sign_object_here(
        &self,
        cdn_path: &str,
        now: u64,
        ttl_secs: u64,
    ) -> Option<Result<SignedObjectUrl, SignError>> {
        let signer = self.local_signer()?;
        let expires_at = self.window.expiry(now, ttl_secs);
        Some(self.object_policy(cdn_path, expires_at).and_then(|policy| {
            self.note_object(cdn_path, ttl_secs, now);
            let url = signer.sign_url(policy.resource(), &policy)?;
            Ok(SignedObjectUrl { url, expires_at })
        }))
    }

    /// The URL [`CdnSigner::sign_object`] would return, if its signature is already in the memo;
    /// `None` when it would have to be signed.
    pub fn memoized_object(
        &self,
        cdn_path: &str,
        now: u64,
        ttl_secs: u64,
    ) -> Result<Option<SignedObjectUrl>, SignError> {
        let expires_at = self.window.expiry(now, ttl_secs);
        let policy = self.object_policy(cdn_path, expires_at)?;
        self.note_object(cdn_path, ttl_secs, now);
        let url = match &self.source {
            Source::Local(keys) => self.local(keys).memoized_url(policy.resource(), &policy)?,
            Source::Kms { key, .. } => {
                let remote = self.remote(key);
                let json = policy.to_json();
                remote
                    .memoized(&json)
                    .map(|signature| remote.url(policy.resource(), &policy, &json, &signature))
                    .transpose()?
            }
        };
        Ok(url.map(|url| SignedObjectUrl { url, expires_at }))
    }

    /// Remembers that the object URL grant was asked for at `now`. A grant noted within the last half
    /// window is left alone, so a busy gallery writes nothing here.
    fn note_object(&self, cdn_path: &str, ttl_secs: u64, now: u64) {
        let Some(recent) = &self.recent else { return };
        let lookup = ObjectGrantRef {
            path: cdn_path,
            ttl_secs,
        };
        if self.noted_lately(recent.objects.peek(&lookup), now) {
            return;
        }
        let grant = ObjectGrant {
            path: cdn_path.into(),
            ttl_secs,
        };
        recent.objects.insert(grant, now);
        let mut lifetimes = recent
            .lifetimes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !lifetimes.contains(&ttl_secs) {
            lifetimes.push(ttl_secs);
        }
    }

    /// Remembers that `user`'s cookie set (bound to `viewer`) was asked for at `now`, as
    /// [`CdnSigner::note_object`] does.
    fn note_cookies(&self, user: UserId, viewer: Option<Ipv4Addr>, now: u64) {
        let Some(recent) = &self.recent else { return };
        let grant = (user, viewer);
        if !self.noted_lately(recent.cookies.peek(&grant), now) {
            recent.cookies.insert(grant, now);
        }
    }

    /// Whether a grant last noted at `noted_at` was noted within the last half window: it is due for
    /// signing ahead all the same, so noting it again would only write.
    fn noted_lately(&self, noted_at: Option<u64>, now: u64) -> bool {
        noted_at.is_some_and(|at| now.saturating_sub(at) < self.window.as_secs() / 2)
    }

    /// Signs, ahead of need, what the grants asked for within the last two windows will need once
    /// their expiry moves to the next window, when that is less than a quarter window away; at most
    /// `budget` signatures, the rest at the next call. Requests across a window change then find their
    /// signatures in the memo instead of waiting for them.
    pub fn sign_ahead(&self, now: u64, budget: usize) -> Result<AheadPass, SignError> {
        // A KMS key signs per call, not per CPU share: nothing is signed ahead for it.
        let (Some(recent), Some(signer)) = (&self.recent, self.local_signer()) else {
            return Ok(AheadPass::default());
        };
        let window = self.window.as_secs();
        let lead = (window / 4).max(1);
        let used_since = now.saturating_sub(window.saturating_mul(2));
        // Every grant of one lifetime moves to the next window at the same moment.
        let moves_at = |ttl: u64| {
            let at = self.window.expiry(now, ttl).saturating_sub(ttl).saturating_add(1);
            (at.saturating_sub(now) <= lead).then_some(at)
        };
        let mut pass = AheadPass::default();
        let objects_due = recent
            .lifetimes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .any(|&ttl| moves_at(ttl).is_some());
        let grants = objects_due.then(|| recent.objects.iter()).into_iter().flatten();
        for (grant, last_used) in grants {
            if last_used < used_since {
                continue;
            }
            if let Some(at) = moves_at(grant.ttl_secs) {
                let policy = self.object_policy(&grant.path, self.window.expiry(at, grant.ttl_secs))?;
                if !pass.take(&signer, &policy, budget)? {
                    return Ok(pass);
                }
            }
        }
        if let Some(at) = moves_at(self.ttl_secs) {
            let expires_at = self.window.expiry(at, self.ttl_secs);
            for ((user, viewer), last_used) in recent.cookies.iter() {
                if last_used >= used_since
                    && !pass.take(&signer, &self.cookie_policy(user, expires_at, viewer)?, budget)?
                {
                    return Ok(pass);
                }
            }
        }
        Ok(pass)
    }

    /// The unsigned CDN URL of the object at `cdn_path`.
    pub fn object_url(&self, cdn_path: &str) -> String {
        format!("{}{cdn_path}", self.base_url)
    }

    /// The CDN's origin (`scheme://host[:port]`, the base URL without its path), which pages that show
    /// its images allow in their Content-Security-Policy.
    pub fn origin(&self) -> &str {
        // base_path is the tail of base_url after the authority.
        &self.base_url[..self.base_url.len() - self.base_path.len()]
    }

    /// The longest a signed object URL minted with `ttl_secs` stays valid: the lifetime plus one window.
    pub fn longest_object_url_life(&self, ttl_secs: u64) -> u64 {
        ttl_secs.saturating_add(self.window.as_secs())
    }

    /// `Set-Cookie` values that remove `user`'s CloudFront cookies.
    pub fn expire(&self, user: UserId) -> Vec<String> {
        self.expire_prefix(&ObjectPrefix::user(user))
    }

    /// `Set-Cookie` values that remove the CloudFront cookie set at `prefix`'s Path (`Max-Age=0`).
    pub fn expire_prefix(&self, prefix: &ObjectPrefix) -> Vec<String> {
        CookieAttributes {
            max_age: None,
            ..self.attributes_of(prefix)
        }
        .expire_all()
    }

    /// The trusted keys (for the local edge and for tests).
    pub fn keys(&self) -> &dyn KeyLookup {
        match &self.source {
            Source::Local(keys) => keys,
            Source::Kms { verifying, .. } => verifying,
        }
    }

    /// The signing key, when it is in the process (`None` when a KMS key signs).
    pub fn local_key(&self) -> Option<&SigningKey> {
        match &self.source {
            Source::Local(keys) => Some(keys.active()),
            Source::Kms { .. } => None,
        }
    }

    /// The public half of the signing key as DER `SubjectPublicKeyInfo`: what CloudFront must hold
    /// under [`CdnSigner::key_pair_id`].
    pub fn public_key_der(&self) -> Result<Vec<u8>, KeyError> {
        match &self.source {
            Source::Local(keys) => keys.active().public_key_der(),
            Source::Kms { key, .. } => Ok(key.public_key_der().to_vec()),
        }
    }

    /// The id CloudFront knows the signing key by.
    pub fn key_pair_id(&self) -> &KeyPairId {
        match &self.source {
            Source::Local(keys) => keys.active().key_pair_id(),
            Source::Kms { key, .. } => key.public_key().key_pair_id(),
        }
    }

    /// The hash in use.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// The window expiries are rounded up to.
    pub fn window(&self) -> ExpiryWindow {
        self.window
    }

    /// Signatures computed and served from the memo.
    pub fn memo_stats(&self) -> MemoStats {
        self.memo.stats()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::signing::{KeyPairId, SigningKey};

    const WINDOW: u64 = 300;
    const URL_TTL: u64 = 600;
    /// On a window boundary.
    const T0: u64 = 1_800_000_000;

    fn signer(grants: &str) -> CdnSigner {
        let env = BTreeMap::from([("EDGEPASS_CDN_SIGN_AHEAD_GRANTS".to_owned(), grants.to_owned())]);
        let config = Config::from_env(&env).expect("config");
        let pem = include_str!("../tests/fixtures/vectors/rsa2048_private_pkcs1.pem");
        let id = KeyPairId::parse("K2JCJMDEHXQW5F").expect("id");
        let key = SigningKey::from_pem(id, pem).expect("key");
        CdnSigner::new(
            &config.cdn,
            "https://cdn.example.com",
            KeyRing::new(key).expect("ring"),
            true,
        )
        .expect("signer")
    }

    /// The outcome of signing with the in-process key, which never waits.
    fn now<F: Future>(signing: F) -> F::Output {
        futures::executor::block_on(signing)
    }

    /// When the URLs signed at `t` for `ttl` move to the next window's expiry.
    fn moves_at(t: u64, ttl: u64) -> u64 {
        ExpiryWindow::from_secs(WINDOW).expect("window").expiry(t, ttl) - ttl + 1
    }

    #[test]
    fn grants_used_lately_are_signed_ahead_once_their_window_change_is_a_quarter_window_away() {
        let cdn = signer("100");
        now(cdn.sign_object("/users/1/a.png", T0 + 1, URL_TTL)).expect("url");
        now(cdn.mint(UserId(1), T0 + 1, None)).expect("cookies");
        let change = moves_at(T0 + 1, URL_TTL);
        assert_eq!(
            change,
            moves_at(T0 + 1, 3600),
            "both move at the same moment here"
        );

        let early = cdn.sign_ahead(change - WINDOW / 4 - 1, 100).expect("pass");
        let due = cdn.sign_ahead(change - WINDOW / 4, 100).expect("pass");
        let again = cdn.sign_ahead(change - 1, 100).expect("pass");

        assert_eq!(early, AheadPass::default(), "not yet");
        assert_eq!(
            due,
            AheadPass {
                signed: 2,
                more: false
            }
        );
        assert_eq!(again.signed, 0, "signed once");
        let before = cdn.memo_stats();
        assert!(
            cdn.memoized_object("/users/1/a.png", change, URL_TTL)
                .expect("lookup")
                .is_some()
        );
        now(cdn.mint(UserId(1), change, None)).expect("cookies");
        let after = cdn.memo_stats();
        assert_eq!((after.misses - before.misses, after.ahead_used), (0, 2));
        assert_eq!(
            now(cdn.sign_object("/users/1/a.png", change, URL_TTL)).expect("url"),
            now(signer("0").sign_object("/users/1/a.png", change, URL_TTL)).expect("url"),
            "what was signed ahead is what would have been signed"
        );
    }

    #[test]
    fn a_pass_stops_at_its_budget_and_the_next_one_goes_on() {
        let cdn = signer("100");
        for n in 0..5 {
            now(cdn.sign_object(&format!("/users/1/{n}.png"), T0 + 1, URL_TTL)).expect("url");
        }
        let at = moves_at(T0 + 1, URL_TTL) - 1;

        let first = cdn.sign_ahead(at, 3).expect("pass");
        let second = cdn.sign_ahead(at, 3).expect("pass");

        assert_eq!(
            first,
            AheadPass {
                signed: 3,
                more: true
            }
        );
        assert_eq!(
            second,
            AheadPass {
                signed: 2,
                more: false
            }
        );
    }

    #[test]
    fn grants_unused_for_two_windows_and_a_disabled_signer_sign_nothing_ahead() {
        let cdn = signer("100");
        now(cdn.sign_object("/users/1/a.png", T0 + 1, 60)).expect("url");
        let stale = moves_at(T0 + 1 + 2 * WINDOW + 1, 60) - 1;
        assert_eq!(cdn.sign_ahead(stale, 100).expect("pass").signed, 0);

        let off = signer("0");
        now(off.sign_object("/users/1/a.png", T0 + 1, URL_TTL)).expect("url");
        let at = moves_at(T0 + 1, URL_TTL) - 1;
        assert_eq!(off.sign_ahead(at, 100).expect("pass"), AheadPass::default());
    }

    #[test]
    fn cookies_bound_to_a_viewer_are_signed_ahead_for_that_viewer() {
        let env = BTreeMap::from([("EDGEPASS_CDN_BIND_VIEWER_IP".to_owned(), "true".to_owned())]);
        let config = Config::from_env(&env).expect("config");
        let pem = include_str!("../tests/fixtures/vectors/rsa2048_private_pkcs1.pem");
        let key = SigningKey::from_pem(KeyPairId::parse("K2JCJMDEHXQW5F").expect("id"), pem).expect("key");
        let cdn = CdnSigner::new(
            &config.cdn,
            "https://cdn.example.com",
            KeyRing::new(key).expect("ring"),
            true,
        )
        .expect("signer");
        let viewer: IpAddr = "192.0.2.7".parse().expect("ip");
        now(cdn.mint(UserId(1), T0 + 1, Some(viewer))).expect("cookies");
        let change = moves_at(T0 + 1, config.cdn.cookie_ttl_secs);

        assert_eq!(cdn.sign_ahead(change - 1, 100).expect("pass").signed, 1);
        let before = cdn.memo_stats().misses;
        now(cdn.mint(UserId(1), change, Some(viewer))).expect("cookies");
        assert_eq!(cdn.memo_stats().misses, before, "the bound set was signed ahead");
        now(cdn.mint(UserId(1), change, Some("192.0.2.8".parse().expect("ip")))).expect("cookies");
        assert_eq!(cdn.memo_stats().misses, before + 1, "another viewer's was not");
    }

    /// The album set `cdn` mints for `owner`'s `album`, as the (name, value) pairs a browser sends.
    fn album_cookies(cdn: &CdnSigner, owner: u64, album: &AlbumId) -> Vec<(String, String)> {
        let minted = now(cdn.mint_album(UserId(owner as i64), album, T0 + 1, None)).expect("cookies");
        minted
            .set_cookies
            .iter()
            .map(|header| {
                let pair = header.split(';').next().expect("pair");
                let (name, value) = pair.split_once('=').expect("name=value");
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// What the verifier (the local edge's decision) says about `url` with `cookies`.
    fn decide(
        cdn: &CdnSigner,
        url: &str,
        cookies: &[(String, String)],
    ) -> Result<(), crate::signing::Denial> {
        let pairs: Vec<(&str, &str)> = cookies.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        crate::signing::verify(
            cdn.keys(),
            &crate::signing::ViewerRequest {
                url,
                cookies: &pairs,
                viewer_ip: None,
                now: T0 + 2,
            },
        )
        .map(|_| ())
    }

    const ALBUM: &str = "abcdefghijklmnopqrstuvwxyz";

    #[test]
    fn an_album_set_is_scoped_to_its_album_by_resource_and_path() {
        let cdn = signer("0");
        let album = AlbumId::parse(ALBUM).expect("album");
        let minted = now(cdn.mint_album(UserId(42), &album, T0 + 1, None)).expect("cookies");
        assert_eq!(
            minted.resource,
            format!("https://cdn.example.com/users/42/albums/{ALBUM}/*")
        );
        assert_eq!(minted.path, format!("/users/42/albums/{ALBUM}/"));
        assert_eq!(
            minted.set_cookies.len(),
            5,
            "four cookies, and the canned-policy one cleared"
        );
        assert!(
            minted
                .set_cookies
                .iter()
                .all(|c| c.contains(&format!("Path=/users/42/albums/{ALBUM}/")))
        );
        let own = now(cdn.mint(UserId(42), T0 + 1, None)).expect("own");
        assert!(
            own.expires_at > minted.expires_at,
            "the album set is the shorter-lived"
        );
        let expired = cdn.expire_prefix(&ObjectPrefix::album(UserId(42), &album));
        assert!(
            expired
                .iter()
                .all(|c| c.contains("Max-Age=0") && c.contains(&format!("Path=/users/42/albums/{ALBUM}/")))
        );
    }

    #[test]
    fn an_album_set_opens_its_album_and_nothing_beside_it() {
        let cdn = signer("0");
        let album = AlbumId::parse(ALBUM).expect("album");
        let cookies = album_cookies(&cdn, 42, &album);
        let inside =
            format!("https://cdn.example.com/users/42/albums/{ALBUM}/bbbbbbbbbbbbbbbbbbbbbbbbbb.png");
        assert_eq!(decide(&cdn, &inside, &cookies), Ok(()));
        let other_album = "cccccccccccccccccccccccccc";
        for outside in [
            format!("https://cdn.example.com/users/42/albums/{ALBUM}0/x.png"),
            format!("https://cdn.example.com/users/42/albums/{ALBUM}"),
            format!("https://cdn.example.com/users/42/albums/{other_album}/x.png"),
            "https://cdn.example.com/users/42/x.png".to_owned(),
            format!("https://cdn.example.com/users/43/albums/{ALBUM}/x.png"),
            format!("https://cdn.example.com/users/4/albums/{ALBUM}/x.png"),
            "https://cdn.example.com/public/x.png".to_owned(),
        ] {
            let denied = decide(&cdn, &outside, &cookies);
            assert!(
                matches!(denied, Err(crate::signing::Denial::ResourceMismatch)),
                "{outside}: {denied:?}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever path a viewer asks for, an album set opens it exactly when the path is inside
        /// the album's prefix.
        #[test]
        fn an_album_set_opens_a_path_exactly_when_it_is_inside_the_album(
            owner in 1u64..60,
            path in "/users/[0-9]{1,2}(/albums/(abcdefghijklmnopqrstuvwxyz|abcdefghijklmnopqrstuvwxy[a-z0-9])?)?(/[a-z0-9.]{0,6}){0,3}",
        ) {
            let cdn = signer("0");
            let album = AlbumId::parse(ALBUM).expect("album");
            let cookies = album_cookies(&cdn, owner, &album);
            let url = format!("https://cdn.example.com{path}");
            let prefix = format!("/users/{owner}/albums/{ALBUM}/");
            proptest::prop_assert_eq!(decide(&cdn, &url, &cookies).is_ok(), path.starts_with(&prefix), "{}", path);
        }
    }
}
