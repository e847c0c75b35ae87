//! Property tests: whatever edgepass signs, its verifier allows; any change to resource, time or IP is denied.

use edgepass::signing::{
    Denial, ExpiryWindow, HashAlgorithm, Policy, SignatureMemo, Signer, SigningKey, SourceIp, ViewerRequest,
    verify,
};
use proptest::prelude::*;

use super::support::{ecdsa_key, rsa_key, trusted_keys};

const HOST: &str = "https://d111111abcdef8.cloudfront.net";

/// Path segments drawn from what real object keys and URLs contain, percent-encoding included.
fn segment() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "[A-Za-z0-9]{1,6}",
            Just("~".to_owned()),
            Just("-".to_owned()),
            Just("_".to_owned()),
            Just(".".to_owned()),
            "%[0-9A-F]{2}",
        ],
        1..5,
    )
    .prop_map(|parts| parts.concat())
}

fn query() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        proptest::collection::vec(("[a-z]{1,5}", "[A-Za-z0-9%~._-]{0,8}"), 1..3).prop_map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        }),
    )
}

#[derive(Debug, Clone)]
struct Case {
    user: String,
    segments: Vec<String>,
    query: Option<String>,
    expires: u64,
    not_before: Option<u64>,
    ip: Option<(u8, u8, u8)>,
    algorithm: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (
        "[a-z0-9]{1,8}",
        proptest::collection::vec(segment(), 1..4),
        query(),
        1_700_000_000u64..2_000_000_000,
        proptest::option::of(1u64..100_000),
        proptest::option::of((any::<u8>(), any::<u8>(), any::<u8>())),
        0usize..4,
    )
        .prop_map(
            |(user, segments, query, expires, start_offset, ip, algorithm)| Case {
                user,
                segments,
                query,
                expires,
                not_before: start_offset.map(|o| expires - o),
                ip,
                algorithm,
            },
        )
}

fn key_and_hash(algorithm: usize) -> (SigningKey, HashAlgorithm) {
    match algorithm {
        0 => (rsa_key(), HashAlgorithm::Sha1),
        1 => (rsa_key(), HashAlgorithm::Sha256),
        2 => (ecdsa_key(), HashAlgorithm::Sha256),
        _ => (ecdsa_key(), HashAlgorithm::Sha1),
    }
}

impl Case {
    fn url(&self) -> String {
        let path = self.segments.join("/");
        match &self.query {
            Some(q) => format!("{HOST}/users/{}/{path}?{q}", self.user),
            None => format!("{HOST}/users/{}/{path}", self.user),
        }
    }

    fn policy(&self, resource: &str) -> Policy {
        let mut policy = Policy::new(resource, self.expires).expect("policy");
        if let Some(start) = self.not_before {
            policy = policy.not_before(start).expect("start");
        }
        if let Some((a, b, c)) = self.ip {
            policy = policy.source_ip(SourceIp::parse(&format!("{a}.{b}.{c}.0/24")).expect("ip"));
        }
        policy
    }

    /// A moment inside the policy's window.
    fn valid_now(&self) -> u64 {
        self.not_before
            .map_or(self.expires - 1, |start| start + (self.expires - start) / 2)
    }

    fn viewer(&self) -> std::net::IpAddr {
        let (a, b, c) = self.ip.unwrap_or((203, 0, 113));
        std::net::IpAddr::from([a, b, c, 77])
    }

    fn request<'a>(&self, url: &'a str, cookies: &'a [(&'a str, &'a str)], now: u64) -> ViewerRequest<'a> {
        ViewerRequest {
            url,
            cookies,
            viewer_ip: Some(self.viewer()),
            now,
        }
    }
}

fn check_denials(
    case: &Case,
    url: &str,
    cookies: &[(&str, &str)],
    other_url: &str,
) -> Result<(), TestCaseError> {
    let keys = trusted_keys();
    let allowed = verify(&keys, &case.request(url, cookies, case.valid_now()));
    prop_assert!(allowed.is_ok(), "allowed: {:?}", allowed);

    let expired = verify(&keys, &case.request(url, cookies, case.expires));
    prop_assert_eq!(expired, Err(Denial::Expired { at: case.expires }));

    if let Some(start) = case.not_before {
        let early = verify(&keys, &case.request(url, cookies, start));
        prop_assert_eq!(early, Err(Denial::NotYetValid { after: start }));
    }
    if case.ip.is_some() {
        let mut request = case.request(url, cookies, case.valid_now());
        let std::net::IpAddr::V4(v4) = case.viewer() else {
            unreachable!()
        };
        let [a, b, c, _] = v4.octets();
        request.viewer_ip = Some(std::net::IpAddr::from([a, b, c.wrapping_add(1), 1]));
        prop_assert_eq!(verify(&keys, &request), Err(Denial::IpNotAllowed));
        request.viewer_ip = Some("2001:db8::1".parse().expect("ipv6"));
        prop_assert_eq!(verify(&keys, &request), Err(Denial::IpNotAllowed));
    }
    let moved = verify(&keys, &case.request(other_url, cookies, case.valid_now()));
    prop_assert!(
        matches!(moved, Err(Denial::ResourceMismatch | Denial::BadSignature)),
        "another resource: {:?}",
        moved
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn signed_urls_verify_and_any_change_is_denied(case in case()) {
        let (key, hash) = key_and_hash(case.algorithm);
        let url = case.url();
        let signed = Signer::new(&key, hash).sign_url(&url, &case.policy(&url)).expect("sign");
        // Signing parameters are CloudFront base64, which has no '/', so only the path moves.
        let other = signed.replacen(&format!("/users/{}/", case.user), &format!("/users/{}x/", case.user), 1);
        check_denials(&case, &signed, &[], &other)?;
    }

    #[test]
    fn prefix_cookies_verify_for_the_prefix_only(case in case()) {
        let (key, hash) = key_and_hash(case.algorithm);
        let resource = format!("{HOST}/users/{}/*", case.user);
        let cookies = Signer::new(&key, hash).sign_cookies(&case.policy(&resource)).expect("sign");
        let pairs = cookies.pairs();
        let cookies: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let other = format!("{HOST}/users/{}x/{}", case.user, case.segments.join("/"));
        check_denials(&case, &case.url(), &cookies, &other)?;
    }

    #[test]
    fn a_memo_hit_equals_a_fresh_signature(case in case(), window in 1u64..3_600) {
        let (key, hash) = key_and_hash(case.algorithm);
        let window = ExpiryWindow::from_secs(window).expect("window");
        let resource = format!("{HOST}/users/{}/*", case.user);
        let policy = Policy::new(&resource, window.expiry(case.expires - 10_000, 3_600)).expect("policy");
        let memo = SignatureMemo::new(8);
        let fresh = Signer::new(&key, hash).sign_cookies(&policy).expect("fresh");
        let first = Signer::new(&key, hash).with_memo(&memo).sign_cookies(&policy).expect("first");
        let hit = Signer::new(&key, hash).with_memo(&memo).sign_cookies(&policy).expect("hit");
        prop_assert_eq!(&fresh, &first);
        prop_assert_eq!(&fresh, &hit);
        prop_assert_eq!(memo.stats().hits, 1);
    }

    #[test]
    fn a_memoized_url_equals_the_signed_url_and_needs_it_first(case in case()) {
        let (key, hash) = key_and_hash(case.algorithm);
        let url = case.url();
        let policy = case.policy(&url);
        let memo = SignatureMemo::new(8);
        let signer = Signer::new(&key, hash).with_memo(&memo);
        prop_assert_eq!(signer.memoized_url(&url, &policy).expect("lookup"), None);
        let signed = signer.sign_url(&url, &policy).expect("sign");
        prop_assert_eq!(signer.memoized_url(&url, &policy).expect("lookup"), Some(signed.clone()));
        prop_assert_eq!(Signer::new(&key, hash).memoized_url(&url, &policy).expect("no memo"), None);
        prop_assert_eq!(memo.stats().misses, 1);
    }
}
