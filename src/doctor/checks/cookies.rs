//! `cookies`: whether the CloudFront cookies the API sets reach the CDN host. A browser keeps a cookie
//! only if its `Domain` covers the host of the response that set it and is not a public suffix; it sends
//! it only to hosts the `Domain` covers (or, host-only, to the very host that set it).

use crate::cookie_domains::{domain_matches, is_public_suffix, is_under_private_suffix};
use crate::doctor::expected::Expected;
use crate::doctor::report::Finding;

const CHECK: &str = "cookies";

/// The `cookies` finding for the configuration `expected` describes.
pub(crate) fn check(expected: &Expected) -> Finding {
    let cdn = expected.cdn_host.as_str();
    let Some(domain) = expected.cookie_domain.as_deref() else {
        return host_only(expected);
    };
    if is_public_suffix(domain) {
        return Finding::fail(
            CHECK,
            format!(
                "EDGEPASS_CDN_COOKIE_DOMAIN={domain} is a public suffix (public-suffix list): browsers refuse \
                 cookies for it, so no CloudFront cookie reaches {cdn}"
            ),
            alias_fix(cdn),
        );
    }
    if !domain_matches(cdn, domain) {
        return Finding::fail(
            CHECK,
            format!(
                "Domain={domain} does not cover the CDN host {cdn}: browsers never send the cookies there"
            ),
            format!("set EDGEPASS_CDN_COOKIE_DOMAIN to a domain both {cdn} and the app's host are under"),
        );
    }
    if let Some(app) = expected.app_host.as_deref()
        && !domain_matches(app, domain)
    {
        return Finding::fail(
            CHECK,
            format!(
                "Domain={domain} does not cover {app}, the host of EDGEPASS_PUBLIC_URL that sets the cookies: \
                 browsers refuse them"
            ),
            format!("set EDGEPASS_CDN_COOKIE_DOMAIN to a domain both {cdn} and {app} are under"),
        );
    }
    let app = expected
        .app_host
        .as_deref()
        .map_or(String::new(), |app| format!(" and {app}"));
    Finding::ok(
        CHECK,
        format!("Domain={domain} covers {cdn}{app}, and is not a public suffix"),
    )
}

fn host_only(expected: &Expected) -> Finding {
    let cdn = expected.cdn_host.as_str();
    match expected.app_host.as_deref() {
        Some(app) if app == cdn => Finding::ok(
            CHECK,
            format!("host-only cookies: the API and the CDN share the host {cdn}"),
        ),
        Some(app) => Finding::fail(
            CHECK,
            format!(
                "the cookies are host-only (no EDGEPASS_CDN_COOKIE_DOMAIN): set by {app}, they are never sent \
                 to {cdn}"
            ),
            alias_fix(cdn),
        ),
        None => Finding::warn(
            CHECK,
            format!(
                "the cookies are host-only and EDGEPASS_PUBLIC_URL is not set: they reach {cdn} only if the \
                 API is served from that host"
            ),
            "set EDGEPASS_PUBLIC_URL to the app's origin, so that the cookie domain can be checked",
        ),
    }
}

/// How to make cookies reach `cdn`: under a shared suffix such as `cloudfront.net` only an alias of
/// one's own can; otherwise a cookie domain both hosts are under.
fn alias_fix(cdn: &str) -> String {
    match psl::suffix_str(cdn) {
        Some(suffix) if suffix != cdn && is_under_private_suffix(cdn) => format!(
            "{suffix} is a public suffix, so no cookie can cover {cdn} and the app: give the distribution an \
             alias under your own domain (e.g. cdn.example.com), use it in EDGEPASS_CDN_BASE_URL, and set \
             EDGEPASS_CDN_COOKIE_DOMAIN=example.com; or serve the API through the distribution itself"
        ),
        _ => {
            "set EDGEPASS_CDN_COOKIE_DOMAIN to your own registrable domain (e.g. example.com), which covers \
              both the app and the CDN host"
                .to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(cdn: &str, app: Option<&str>, domain: Option<&str>) -> Expected {
        Expected {
            distribution_id: "E1".to_owned(),
            cdn_base_url: format!("https://{cdn}"),
            cdn_host: cdn.to_owned(),
            cdn_base_path: String::new(),
            cookie_domain: domain.map(str::to_owned),
            cookie_secure: true,
            app_host: app.map(str::to_owned),
            app_origins: app.iter().map(|a| format!("https://{a}")).collect(),
            key_pair_id: "K1".to_owned(),
            bind_viewer_ip: false,
            bucket: "images".to_owned(),
        }
    }

    #[test]
    fn a_shared_parent_domain_covers_both_hosts() {
        let finding = check(&expected(
            "cdn.example.com",
            Some("app.example.com"),
            Some("example.com"),
        ));
        assert_eq!(finding.status, crate::doctor::Status::Ok, "{finding:?}");
    }

    #[test]
    fn cloudfront_net_is_a_public_suffix_by_the_list() {
        let finding = check(&expected(
            "d111111abcdef8.cloudfront.net",
            Some("app.example.com"),
            Some("cloudfront.net"),
        ));
        assert_eq!(finding.status, crate::doctor::Status::Fail);
        assert!(finding.message.contains("public suffix"), "{finding:?}");
        assert!(
            finding.fix.as_deref().is_some_and(|fix| fix.contains("alias")),
            "{finding:?}"
        );
    }

    #[test]
    fn host_only_cookies_reach_only_their_own_host() {
        let same = check(&expected("images.example.com", Some("images.example.com"), None));
        assert_eq!(same.status, crate::doctor::Status::Ok);
        let apart = check(&expected(
            "d111111abcdef8.cloudfront.net",
            Some("app.example.com"),
            None,
        ));
        assert_eq!(apart.status, crate::doctor::Status::Fail);
        assert!(
            apart
                .fix
                .as_deref()
                .is_some_and(|fix| fix.contains("cloudfront.net is a public suffix")),
            "{apart:?}"
        );
    }

    #[test]
    fn a_domain_must_cover_the_cdn_and_the_app() {
        let narrow = check(&expected(
            "cdn.example.com",
            Some("app.example.com"),
            Some("app.example.com"),
        ));
        assert_eq!(narrow.status, crate::doctor::Status::Fail);
        assert!(
            narrow.message.contains("does not cover the CDN host"),
            "{narrow:?}"
        );
        let elsewhere = check(&expected(
            "cdn.example.com",
            Some("app.other.org"),
            Some("example.com"),
        ));
        assert_eq!(elsewhere.status, crate::doctor::Status::Fail);
        assert!(elsewhere.message.contains("app.other.org"), "{elsewhere:?}");
    }
}
