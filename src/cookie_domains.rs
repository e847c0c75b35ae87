//! The browser's rules for a cookie's `Domain` (RFC 6265): the parts of a URL they look at, which hosts
//! a domain covers, and which domains are public suffixes (the public-suffix list, compiled in by the
//! `psl` crate), for which browsers refuse cookies.

use std::net::IpAddr;

/// The parts of a URL cookies care about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlParts {
    /// `http` or `https`, lower case.
    pub scheme: String,
    /// The host, lower case, without brackets or port.
    pub host: String,
    /// The port, the scheme's default when the URL names none.
    pub port: Option<u16>,
    /// The path, `/` when empty, without the query or fragment.
    pub path: String,
}

impl UrlParts {
    /// Splits an absolute `http(s)` URL; `None` for anything else.
    pub fn parse(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, rest) = rest.split_at(end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, rest) = bracketed.split_once(']')?;
            (host, rest.strip_prefix(':'))
        } else {
            match authority.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        let port = match port.filter(|p| !p.is_empty()) {
            Some(port) => port.parse().ok(),
            None if scheme == "https" => Some(443),
            None => Some(80),
        };
        if host.is_empty() {
            return None;
        }
        let path_end = rest.find(['?', '#']).unwrap_or(rest.len());
        let path = match &rest[..path_end] {
            "" => "/",
            path => path,
        };
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path: path.to_owned(),
        })
    }

    /// Whether `other` has the same scheme, host and port.
    pub fn same_origin(&self, other: &Self) -> bool {
        (&self.scheme, &self.host, self.port) == (&other.scheme, &other.host, other.port)
    }
}

/// RFC 6265 5.1.3: whether `host` domain-matches `domain` (both lower case).
pub fn domain_matches(host: &str, domain: &str) -> bool {
    if host == domain {
        return true;
    }
    // Only host names have parent domains: 10.0.0.1 is not inside 0.0.1.
    host.strip_suffix(domain).is_some_and(|head| head.ends_with('.')) && host.parse::<IpAddr>().is_err()
}

/// Whether `name` is itself a public suffix (`com`, `co.uk`, `cloudfront.net`), by the list's ICANN and
/// private sections. A top-level name the list does not know (`example`, `internal`) is not one, as for
/// browsers, which check cookie domains against known registries only.
pub fn is_public_suffix(name: &str) -> bool {
    name.parse::<IpAddr>().is_err()
        && psl::suffix(name.as_bytes())
            .is_some_and(|suffix| suffix.is_known() && suffix.as_bytes() == name.as_bytes())
}

/// Whether `host` is a name handed out under a suffix in the list's private section
/// (`d111.cloudfront.net`), which no cookie of another host can reach.
pub fn is_under_private_suffix(host: &str) -> bool {
    host.parse::<IpAddr>().is_err()
        && psl::suffix(host.as_bytes()).is_some_and(|suffix| suffix.typ() == Some(psl::Type::Private))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_match_as_rfc_6265_says() {
        assert!(domain_matches("cdn.example.com", "example.com"));
        assert!(domain_matches("example.com", "example.com"));
        assert!(!domain_matches("badexample.com", "example.com"));
        assert!(!domain_matches("example.com", "cdn.example.com"));
        assert!(!domain_matches("10.0.0.1", "0.0.1"));
    }

    #[test]
    fn public_suffixes_come_from_the_list() {
        assert!(is_public_suffix("cloudfront.net"));
        assert!(is_public_suffix("co.uk"));
        assert!(is_public_suffix("com"));
        assert!(!is_public_suffix("example.com"));
        assert!(!is_public_suffix("127.0.0.1"));
        assert!(!is_public_suffix("example"));
        assert!(is_under_private_suffix("d111111abcdef8.cloudfront.net"));
        assert!(!is_under_private_suffix("cdn.example.com"));
    }
}
