//! Minting the CloudFront cookies that open a user's own prefix, `{cdn}/users/{id}/*`.

use std::net::IpAddr;

use crate::config::{CdnAlgorithm, CdnConfig, Config};
use crate::domain::UserId;
use crate::signing::{
    CookieAttributes, ExpiryWindow, HashAlgorithm, KeyKind, KeyRing, MemoStats, Policy, SameSite, SignError,
    SignatureMemo, Signer, SourceIp,
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

/// The longest a cookie set or signed URL minted under `config` stays valid after it was minted: the
/// longest of the cookie, shared-URL and share-link URL lifetimes, plus one expiry window (expiries are
/// rounded up to the window, so a grant can outlive its lifetime by up to one window).
pub fn longest_signature_life(config: &Config) -> u64 {
    let longest = config
        .cdn
        .cookie_ttl_secs
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
    keys: KeyRing,
    hash: HashAlgorithm,
    memo: SignatureMemo,
    window: ExpiryWindow,
    ttl_secs: u64,
    base_url: String,
    base_path: String,
    attributes: CookieAttributes,
    bind_viewer_ip: bool,
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
        let hash = match (config.algorithm, kind) {
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
            keys,
            hash,
            memo: SignatureMemo::new(MEMO_CAPACITY),
            window: ExpiryWindow::from_secs(config.expiry_window_secs)
                .unwrap_or(ExpiryWindow::from_secs(1).expect("1 > 0")),
            ttl_secs: config.cookie_ttl_secs,
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
        })
    }

    /// The pattern a user's cookies grant.
    pub fn resource_for(&self, user: UserId) -> String {
        format!("{}/users/{user}/*", self.base_url)
    }

    /// The cookie `Path` of a user's prefix.
    pub fn path_for(&self, user: UserId) -> String {
        format!("{}/users/{user}/", self.base_path)
    }

    fn attributes_for(&self, user: UserId) -> CookieAttributes {
        CookieAttributes {
            path: self.path_for(user),
            ..self.attributes.clone()
        }
    }

    /// Mints the custom-policy cookie set for `user`'s prefix at `now`.
    ///
    /// With viewer binding on, an IPv4 viewer's address becomes an `IpAddress` condition; CloudFront cannot
    /// bind IPv6 viewers, so they get unbound cookies.
    pub fn mint(&self, user: UserId, now: u64, viewer: Option<IpAddr>) -> Result<Minted, SignError> {
        let expires_at = self.window.expiry(now, self.ttl_secs);
        let resource = self.resource_for(user);
        let mut policy = Policy::new(&resource, expires_at)?;
        let ipv4 = viewer.and_then(|ip| match ip {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(v6) => v6.to_ipv4_mapped(),
        });
        if self.bind_viewer_ip
            && let Some(v4) = ipv4
        {
            policy = policy.source_ip(SourceIp::parse(&v4.to_string())?);
        }
        let cookies = Signer::new(self.keys.active(), self.hash)
            .with_memo(&self.memo)
            .sign_cookies(&policy)?;
        let attributes = self.attributes_for(user);
        Ok(Minted {
            set_cookies: cookies.set_cookie_headers(&attributes),
            expires_at,
            resource,
            path: attributes.path,
        })
    }

    /// Signs a canned-policy URL for the object at `cdn_path` (`/users/42/….png`) valid for at least
    /// `ttl_secs` from `now`.
    ///
    /// The expiry is rounded up to the expiry window, so every request within one window gets the same
    /// URL (and the memo's signature): browsers cache the image, and a revoked grant's URLs all die
    /// within `ttl_secs` plus one window.
    pub fn sign_object(&self, cdn_path: &str, now: u64, ttl_secs: u64) -> Result<SignedObjectUrl, SignError> {
        let expires_at = self.window.expiry(now, ttl_secs);
        let url = self.object_url(cdn_path);
        let policy = Policy::new(&url, expires_at)?;
        let url = Signer::new(self.keys.active(), self.hash)
            .with_memo(&self.memo)
            .sign_url(&url, &policy)?;
        Ok(SignedObjectUrl { url, expires_at })
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
        let url = self.object_url(cdn_path);
        let policy = Policy::new(&url, expires_at)?;
        Ok(Signer::new(self.keys.active(), self.hash)
            .with_memo(&self.memo)
            .memoized_url(&url, &policy)?
            .map(|url| SignedObjectUrl { url, expires_at }))
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
        CookieAttributes {
            max_age: None,
            ..self.attributes_for(user)
        }
        .expire_all()
    }

    /// The trusted keys (for the local edge and for tests).
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The hash in use.
    pub fn hash(&self) -> HashAlgorithm {
        self.hash
    }

    /// Signatures computed and served from the memo.
    pub fn memo_stats(&self) -> MemoStats {
        self.memo.stats()
    }
}
