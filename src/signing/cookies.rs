//! Signed cookies: the `CloudFront-*` values and their `Set-Cookie` renderings.

use std::sync::Arc;

use cookie::Cookie;
pub use cookie::SameSite;

use super::HashAlgorithm;

/// Cookie names CloudFront reads.
pub(crate) mod names {
    /// Canned policy: the expiry.
    pub(crate) const EXPIRES: &str = "CloudFront-Expires";
    /// Custom policy: the CloudFront-base64 policy JSON.
    pub(crate) const POLICY: &str = "CloudFront-Policy";
    /// The CloudFront-base64 signature.
    pub(crate) const SIGNATURE: &str = "CloudFront-Signature";
    /// The public key's id.
    pub(crate) const KEY_PAIR_ID: &str = "CloudFront-Key-Pair-Id";
    /// `SHA1` or `SHA256`.
    pub(crate) const HASH_ALGORITHM: &str = "CloudFront-Hash-Algorithm";
    /// Every name a cookie set may use, for expiring a set.
    pub(crate) const ALL: [&str; 5] = [EXPIRES, POLICY, SIGNATURE, KEY_PAIR_ID, HASH_ALGORITHM];
}

/// Attributes shared by every cookie of a set; all cookies of a set must carry the same ones, or a
/// browser may hold a mix of old and new values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieAttributes {
    /// `Domain`; `None` makes host-only cookies, the narrowest scope.
    pub domain: Option<String>,
    /// `Path`, a literal prefix such as `/users/42/` (cookie paths have no wildcards).
    pub path: String,
    /// `Secure`; only plain-HTTP local development turns it off.
    pub secure: bool,
    /// `HttpOnly`, keeping the values away from scripts.
    pub http_only: bool,
    /// `SameSite`.
    pub same_site: SameSite,
    /// `Max-Age` in seconds; `None` makes session cookies, AWS's advice.
    pub max_age: Option<i64>,
}

impl CookieAttributes {
    /// Secure, HttpOnly, SameSite=Lax, host-only session cookies scoped to `path`.
    pub fn for_path(path: &str) -> Self {
        Self {
            domain: None,
            path: path.to_owned(),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            max_age: None,
        }
    }

    fn render(&self, name: &str, value: &str, max_age: Option<i64>) -> String {
        let mut cookie = Cookie::build((name, value))
            .path(self.path.as_str())
            .secure(self.secure)
            .http_only(self.http_only)
            .same_site(self.same_site);
        if let Some(domain) = &self.domain {
            cookie = cookie.domain(domain.as_str());
        }
        if let Some(seconds) = max_age {
            cookie = cookie.max_age(cookie::time::Duration::seconds(seconds));
        }
        cookie.build().to_string()
    }

    /// `Set-Cookie` values that delete every `CloudFront-*` cookie under these attributes (logout).
    pub fn expire_all(&self) -> Vec<String> {
        names::ALL
            .iter()
            .map(|name| self.render(name, "", Some(0)))
            .collect()
    }
}

/// How the policy travels in a cookie set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PolicyCookie {
    /// Canned: only the expiry.
    Expires(u64),
    /// Custom: the CloudFront-base64 policy.
    Policy(String),
}

/// A complete signed-cookie set.
///
/// It always includes `CloudFront-Hash-Algorithm`, even for SHA-1, so that a hash cookie left over
/// from an earlier set can never make this one fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCookies {
    pub(crate) policy: PolicyCookie,
    pub(crate) signature: Arc<str>,
    pub(crate) key_pair_id: String,
    pub(crate) hash: HashAlgorithm,
}

impl SignedCookies {
    /// The cookies as (name, value) pairs, policy or expiry first.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let first = match &self.policy {
            PolicyCookie::Expires(expires) => (names::EXPIRES, expires.to_string()),
            PolicyCookie::Policy(policy) => (names::POLICY, policy.clone()),
        };
        vec![
            first,
            (names::SIGNATURE, self.signature.to_string()),
            (names::KEY_PAIR_ID, self.key_pair_id.clone()),
            (names::HASH_ALGORITHM, self.hash.as_str().to_owned()),
        ]
    }

    /// The `CloudFront-Signature` value.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// One `Set-Cookie` header value per cookie, all with the same attributes.
    ///
    /// The cookie of the other policy kind is expired in the same response, so a browser never holds
    /// both a `CloudFront-Policy` and a `CloudFront-Expires` for the same path.
    pub fn set_cookie_headers(&self, attributes: &CookieAttributes) -> Vec<String> {
        let mut headers: Vec<String> = self
            .pairs()
            .iter()
            .map(|(name, value)| attributes.render(name, value, attributes.max_age))
            .collect();
        let other = match self.policy {
            PolicyCookie::Expires(_) => names::POLICY,
            PolicyCookie::Policy(_) => names::EXPIRES,
        };
        headers.push(attributes.render(other, "", Some(0)));
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom_set() -> SignedCookies {
        SignedCookies {
            policy: PolicyCookie::Policy("eyJ~_-".to_owned()),
            signature: Arc::from("c2ln~_-"),
            key_pair_id: "K2JCJMDEHXQW5F".to_owned(),
            hash: HashAlgorithm::Sha1,
        }
    }

    #[test]
    fn renders_every_cookie_with_the_same_attributes() {
        let headers = custom_set().set_cookie_headers(&CookieAttributes::for_path("/users/42/"));
        assert_eq!(
            headers,
            vec![
                "CloudFront-Policy=eyJ~_-; HttpOnly; SameSite=Lax; Secure; Path=/users/42/",
                "CloudFront-Signature=c2ln~_-; HttpOnly; SameSite=Lax; Secure; Path=/users/42/",
                "CloudFront-Key-Pair-Id=K2JCJMDEHXQW5F; HttpOnly; SameSite=Lax; Secure; Path=/users/42/",
                "CloudFront-Hash-Algorithm=SHA1; HttpOnly; SameSite=Lax; Secure; Path=/users/42/",
                "CloudFront-Expires=; HttpOnly; SameSite=Lax; Secure; Path=/users/42/; Max-Age=0",
            ]
        );
    }

    #[test]
    fn domain_and_max_age_are_rendered_when_configured() {
        let attributes = CookieAttributes {
            domain: Some("example.com".to_owned()),
            max_age: Some(3600),
            same_site: SameSite::Strict,
            ..CookieAttributes::for_path("/users/7/")
        };
        let headers = custom_set().set_cookie_headers(&attributes);
        assert_eq!(
            headers[1],
            "CloudFront-Signature=c2ln~_-; HttpOnly; SameSite=Strict; Secure; Path=/users/7/; Domain=example.com; Max-Age=3600"
        );
    }

    #[test]
    fn expire_all_clears_every_cloudfront_cookie() {
        let headers = CookieAttributes::for_path("/users/42/").expire_all();
        assert_eq!(headers.len(), 5);
        assert!(
            headers
                .iter()
                .all(|h| h.contains("Max-Age=0") && h.contains("Path=/users/42/"))
        );
    }
}
