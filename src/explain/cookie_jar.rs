//! The browser's side of cookies (RFC 6265, sections 5.1.3, 5.1.4, 5.3 and 5.4): which `Set-Cookie`
//! made which stored cookie, at which Domain and Path, and whether a request URL gets it.
//!
//! A `Cookie` header carries names and values only; the jar is how an explanation knows the Path a
//! sent value was set at, and which held cookies a request did not get.

use cookie::Cookie;

use crate::cookie_domains::{domain_matches, is_public_suffix};

pub use crate::cookie_domains::UrlParts;

/// A cookie the browser holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCookie {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
    /// The Domain attribute, or the setting host for a host-only cookie (lower case, no leading dot).
    pub domain: String,
    /// Whether no Domain attribute was given: sent to that very host only.
    pub host_only: bool,
    /// The Path it was stored under.
    pub path: String,
    /// Sent over HTTPS only.
    pub secure: bool,
    /// When it expires, epoch seconds; `None` for a session cookie.
    pub expires: Option<u64>,
    /// The HAR entry whose response set it.
    pub set_by: usize,
}

/// Why a held cookie is not sent with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotSent {
    /// Its Domain does not cover the request's host.
    Domain {
        /// The cookie's domain (host-only cookies: the host that set it).
        cookie_domain: String,
        /// Whether it is host-only.
        host_only: bool,
        /// The request's host.
        host: String,
    },
    /// Its Path does not cover the request's path.
    Path {
        /// The cookie's Path.
        cookie_path: String,
        /// The request's path.
        request_path: String,
    },
    /// A Secure cookie, and the request is not HTTPS.
    Secure,
}

impl std::fmt::Display for NotSent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Domain {
                cookie_domain,
                host_only: true,
                host,
            } => write!(f, "host-only cookie of {cookie_domain}, request to {host}"),
            Self::Domain {
                cookie_domain, host, ..
            } => write!(f, "Domain={cookie_domain} does not cover {host}"),
            Self::Path {
                cookie_path,
                request_path,
            } => write!(f, "Path={cookie_path} does not cover {request_path}"),
            Self::Secure => f.write_str("Secure cookie, request not over HTTPS"),
        }
    }
}

/// RFC 6265 5.1.4: whether `request_path` path-matches `cookie_path`.
pub fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    request_path == cookie_path
        || request_path
            .strip_prefix(cookie_path)
            .is_some_and(|rest| cookie_path.ends_with('/') || rest.starts_with('/'))
}

/// RFC 6265 5.1.4: the Path of a cookie set without one (or with one not starting with `/`).
pub fn default_path(request_path: &str) -> String {
    match request_path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(last) => request_path[..last].to_owned(),
    }
}

/// The cookies a browser holds, as the `Set-Cookie` headers of a HAR's responses left them.
#[derive(Clone, Debug, Default)]
pub struct CookieJar {
    cookies: Vec<StoredCookie>,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores (or, when already expired, removes) what the `Set-Cookie` value `header` of the
    /// response to `request_url` sets at time `now`; `set_by` names the HAR entry.
    pub fn set(&mut self, request_url: &str, header: &str, now: u64, set_by: usize) {
        let (Some(url), Ok(cookie)) = (UrlParts::parse(request_url), Cookie::parse(header)) else {
            return;
        };
        let expires = match cookie.max_age() {
            Some(max_age) if max_age.is_positive() => {
                Some(now.saturating_add(max_age.whole_seconds().unsigned_abs()))
            }
            // RFC 6265 5.2.2: zero or less means the earliest time, which deletes the cookie.
            Some(_) => Some(0),
            None => cookie
                .expires_datetime()
                .map(|at| u64::try_from(at.unix_timestamp()).unwrap_or(0)),
        };
        self.store(
            &url,
            Attributes {
                name: cookie.name(),
                value: cookie.value(),
                domain: cookie.domain(),
                path: cookie.path(),
                secure: cookie.secure().unwrap_or(false),
                expires,
            },
            now,
            set_by,
        );
    }

    /// Stores a cookie a HAR lists in `response.cookies` (for HARs without `Set-Cookie` headers).
    pub fn set_listed(&mut self, request_url: &str, cookie: &super::har::HarCookie, now: u64, set_by: usize) {
        let Some(url) = UrlParts::parse(request_url) else {
            return;
        };
        self.store(
            &url,
            Attributes {
                name: &cookie.name,
                value: &cookie.value,
                domain: cookie.domain.as_deref(),
                path: cookie.path.as_deref(),
                secure: false,
                expires: None,
            },
            now,
            set_by,
        );
    }

    fn store(&mut self, url: &UrlParts, attributes: Attributes<'_>, now: u64, set_by: usize) {
        let domain = attributes
            .domain
            .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty());
        let (domain, host_only) = match domain {
            // RFC 6265 5.3 step 5: a public suffix as Domain makes a host-only cookie of that very host,
            // and drops the cookie anywhere else.
            Some(domain) if is_public_suffix(&domain) && domain == url.host => (domain, true),
            Some(domain) if is_public_suffix(&domain) => return,
            // RFC 6265 5.3 step 6: a Domain that does not cover the setting host drops the cookie.
            Some(domain) if !domain_matches(&url.host, &domain) => return,
            Some(domain) => (domain, false),
            None => (url.host.clone(), true),
        };
        let path = match attributes.path {
            Some(path) if path.starts_with('/') => path.to_owned(),
            _ => default_path(&url.path),
        };
        let cookie = StoredCookie {
            name: attributes.name.to_owned(),
            value: attributes.value.to_owned(),
            domain,
            host_only,
            path,
            secure: attributes.secure,
            expires: attributes.expires,
            set_by,
        };
        self.cookies.retain(|held| {
            !(held.name == cookie.name && held.domain == cookie.domain && held.path == cookie.path)
        });
        if cookie.expires.is_none_or(|at| at > now) {
            self.cookies.push(cookie);
        }
    }

    /// The cookies held at `now` (not expired), in the order they were set.
    pub fn held(&self, now: u64) -> impl Iterator<Item = &StoredCookie> {
        self.cookies
            .iter()
            .filter(move |cookie| cookie.expires.is_none_or(|at| at > now))
    }

    /// Why `cookie` is not sent to `url`; `None` when it is.
    pub fn not_sent(cookie: &StoredCookie, url: &UrlParts) -> Option<NotSent> {
        let domain_ok = if cookie.host_only {
            url.host == cookie.domain
        } else {
            domain_matches(&url.host, &cookie.domain)
        };
        if !domain_ok {
            return Some(NotSent::Domain {
                cookie_domain: cookie.domain.clone(),
                host_only: cookie.host_only,
                host: url.host.clone(),
            });
        }
        if !path_matches(&url.path, &cookie.path) {
            return Some(NotSent::Path {
                cookie_path: cookie.path.clone(),
                request_path: url.path.clone(),
            });
        }
        if cookie.secure && url.scheme != "https" {
            return Some(NotSent::Secure);
        }
        None
    }
}

struct Attributes<'a> {
    name: &'a str,
    value: &'a str,
    domain: Option<&'a str>,
    path: Option<&'a str>,
    secure: bool,
    expires: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn url(text: &str) -> UrlParts {
        UrlParts::parse(text).expect("a URL")
    }

    #[test]
    fn paths_match_as_rfc_6265_says() {
        assert!(path_matches("/users/1/a.png", "/users/1/"));
        assert!(path_matches("/users/1/a.png", "/users/1"));
        assert!(path_matches("/users/1", "/users/1"));
        assert!(path_matches("/anything", "/"));
        // A prefix that stops inside a segment is no match.
        assert!(!path_matches("/users/10/a.png", "/users/1"));
        assert!(!path_matches("/users/10/a.png", "/users/1/"));
        assert!(!path_matches("/users/1", "/users/1/"));
        assert!(!path_matches("/Users/1/a.png", "/users/1/"));
    }

    #[test]
    fn a_public_suffix_as_domain_is_refused_as_browsers_refuse_it() {
        let mut jar = CookieJar::new();
        jar.set(
            "https://d111111abcdef8.cloudfront.net/",
            "CloudFront-Policy=p; Domain=cloudfront.net",
            NOW,
            0,
        );
        jar.set(
            "https://app.example.co.uk/",
            "CloudFront-Signature=s; Domain=co.uk",
            NOW,
            1,
        );
        assert_eq!(jar.held(NOW).count(), 0);
        // Set by the suffix's own host, it is a host-only cookie of that host.
        jar.set(
            "https://cloudfront.net/",
            "CloudFront-Policy=p; Domain=cloudfront.net",
            NOW,
            2,
        );
        let held: Vec<_> = jar.held(NOW).collect();
        assert_eq!(held.len(), 1);
        assert!(held[0].host_only);
    }

    #[test]
    fn the_default_path_is_the_directory_of_the_request() {
        assert_eq!(default_path("/api/auth/login"), "/api/auth");
        assert_eq!(default_path("/login"), "/");
        assert_eq!(default_path("/"), "/");
        assert_eq!(default_path(""), "/");
    }

    #[test]
    fn urls_give_scheme_host_and_path() {
        assert_eq!(
            url("HTTP://User@CDN.Example:8080/users/1/a.png?x=1#f"),
            UrlParts {
                scheme: "http".to_owned(),
                host: "cdn.example".to_owned(),
                port: Some(8080),
                path: "/users/1/a.png".to_owned()
            }
        );
        assert_eq!(url("https://[::1]:9/").host, "::1");
        assert_eq!(url("https://[::1]:9/").port, Some(9));
        assert!(url("https://a.test/x").same_origin(&url("https://A.test:443/y")));
        assert!(!url("https://a.test/x").same_origin(&url("http://a.test/x")));
        assert_eq!(url("https://a.test?q").path, "/");
        assert_eq!(UrlParts::parse("ftp://a/"), None);
        assert_eq!(UrlParts::parse("/relative"), None);
    }

    #[test]
    fn a_set_cookie_is_stored_replaced_and_deleted() {
        let mut jar = CookieJar::new();
        let login = "http://app.test/api/auth/login";
        jar.set(login, "CloudFront-Policy=one; Path=/users/1/; HttpOnly", NOW, 3);
        jar.set(login, "edgepass_session=s; Path=/", NOW, 3);
        jar.set(login, "later=x", NOW, 3);
        let held: Vec<_> = jar.held(NOW).collect();
        assert_eq!(held.len(), 3);
        assert_eq!(held[0].path, "/users/1/");
        assert!(held[0].host_only);
        assert_eq!(held[0].domain, "app.test");
        assert_eq!(held[2].path, "/api/auth", "the default path");
        jar.set(login, "CloudFront-Policy=two; Path=/users/1/", NOW, 7);
        let policy: Vec<_> = jar.held(NOW).filter(|c| c.name == "CloudFront-Policy").collect();
        assert_eq!(
            (policy.len(), policy[0].value.as_str(), policy[0].set_by),
            (1, "two", 7)
        );
        jar.set(login, "CloudFront-Policy=; Path=/users/1/; Max-Age=0", NOW, 8);
        assert_eq!(jar.held(NOW).filter(|c| c.name == "CloudFront-Policy").count(), 0);
    }

    #[test]
    fn max_age_and_expires_end_a_cookie() {
        let mut jar = CookieJar::new();
        jar.set("http://a.test/", "short=1; Max-Age=10", NOW, 0);
        jar.set(
            "http://a.test/",
            "dated=1; Expires=Wed, 01 Jan 2020 00:00:00 GMT",
            NOW,
            0,
        );
        jar.set("http://a.test/", "negative=1; Max-Age=-5", NOW, 0);
        let names: Vec<_> = jar.held(NOW).map(|c| c.name.clone()).collect();
        assert_eq!(names, ["short"]);
        assert_eq!(jar.held(NOW + 10).count(), 0);
    }

    #[test]
    fn a_domain_that_does_not_cover_the_setting_host_is_ignored() {
        let mut jar = CookieJar::new();
        jar.set("http://app.example.com/", "a=1; Domain=other.com", NOW, 0);
        jar.set("http://app.example.com/", "b=1; Domain=.Example.com", NOW, 0);
        let held: Vec<_> = jar.held(NOW).collect();
        assert_eq!(held.len(), 1);
        assert_eq!(
            (held[0].domain.as_str(), held[0].host_only),
            ("example.com", false)
        );
        assert_eq!(
            CookieJar::not_sent(held[0], &url("http://cdn.example.com/x")),
            None
        );
    }

    #[test]
    fn a_held_cookie_not_sent_says_why() {
        let mut jar = CookieJar::new();
        jar.set("http://app.test/login", "p=1; Path=/api/users/1/", NOW, 0);
        jar.set("http://app.test/login", "s=1; Path=/; Secure", NOW, 0);
        let held: Vec<_> = jar.held(NOW).cloned().collect();
        let image = url("http://app.test/users/1/a.png");
        assert_eq!(
            CookieJar::not_sent(&held[0], &image),
            Some(NotSent::Path {
                cookie_path: "/api/users/1/".to_owned(),
                request_path: "/users/1/a.png".to_owned()
            })
        );
        assert_eq!(CookieJar::not_sent(&held[1], &image), Some(NotSent::Secure));
        assert_eq!(CookieJar::not_sent(&held[1], &url("https://app.test/x")), None);
        let elsewhere = CookieJar::not_sent(&held[0], &url("http://cdn.test/api/users/1/a"));
        assert_eq!(
            elsewhere.map(|why| why.to_string()).as_deref(),
            Some("host-only cookie of app.test, request to cdn.test")
        );
    }
}
