//! The browser's rules for a cookie's `Domain` (RFC 6265): which hosts a domain covers, and which
//! domains are public suffixes (the public-suffix list, compiled in by the `psl` crate), for which
//! browsers refuse cookies.

use std::net::IpAddr;

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
