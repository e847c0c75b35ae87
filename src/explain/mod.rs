//! Why did this request get a 403? The decision of every request to the CDN in a HAR file (or of
//! one URL and its cookies), with the reason in terms a browser's developer tools show: which
//! `CloudFront-*` cookie sets were sent and from which Path, which one CloudFront reads, the decoded
//! policy, and for a denial what did not hold, judged at the request's own time.
//!
//! The decision itself is [`crate::signing::verify`]'s; this module only adds what a person needs to
//! act on it.

pub mod cookie_jar;
pub mod har;
mod reason;
pub mod report;

pub use reason::Reason;
use reason::{policy_field, reason_for};

use std::fmt;
use std::net::IpAddr;

use crate::signing::{
    Denial, Grant, Presented, SignatureSource, VerifyingKey, ViewerRequest, presented, verify,
};
use cookie_jar::{CookieJar, NotSent, UrlParts};
use har::Entry;

/// The prefix of every cookie CloudFront reads.
const CLOUDFRONT_PREFIX: &str = "CloudFront-";

/// Which requests of a HAR file go to the CDN.
#[derive(Clone, Debug)]
pub enum CdnScope {
    /// Those to this origin (scheme, host and port of the URL).
    Origin(String),
    /// Those that carry `CloudFront-*` cookies or signed-URL parameters, or ask for a `/users/` path
    /// (where edgepass keeps private images).
    Guess,
}

impl CdnScope {
    /// Whether `entry` is a request to the CDN.
    pub fn covers(&self, entry: &Entry) -> bool {
        match self {
            Self::Origin(origin) => match (UrlParts::parse(origin), UrlParts::parse(&entry.url)) {
                (Some(cdn), Some(url)) => cdn.same_origin(&url),
                _ => false,
            },
            Self::Guess => {
                let signed = entry.url.split_once('?').is_some_and(|(_, query)| {
                    query.split('&').any(|pair| {
                        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
                        crate::signing::RESERVED_QUERY_PARAMETERS.contains(&name)
                    })
                });
                signed
                    || entry
                        .sent_cookies()
                        .iter()
                        .any(|(name, _)| name.starts_with(CLOUDFRONT_PREFIX))
                    || UrlParts::parse(&entry.url).is_some_and(|url| url.path.starts_with("/users/"))
            }
        }
    }
}

/// Whose clock a request was judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The response's `Date` header: the CDN's own clock, the one that decided.
    ResponseDate,
    /// The HAR entry's `startedDateTime`: the browser's clock.
    Started,
    /// The time given on the command line (`--now`), or the current time when the HAR has none.
    Given,
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ResponseDate => "the response's Date",
            Self::Started => "the HAR's startedDateTime",
            Self::Given => "the given time",
        })
    }
}

/// `CloudFront-*` cookies sharing one Domain and Path: what one response set together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieSet {
    /// The Path they were set at; `None` when no response of the HAR set the values sent.
    pub path: Option<String>,
    /// Their Domain (for host-only cookies, the host that set them).
    pub domain: Option<String>,
    /// Whether they are host-only.
    pub host_only: bool,
    /// The HAR entry whose response set them.
    pub set_by: Option<usize>,
    /// Their names (and values, which the report shortens or leaves out).
    pub cookies: Vec<(String, String)>,
}

impl CookieSet {
    /// `Path=/users/1/` or `Path unknown`, for reports.
    pub fn path_label(&self) -> String {
        match &self.path {
            Some(path) => format!("Path={path}"),
            None => "Path unknown (not set by a response in the HAR)".to_owned(),
        }
    }
}

/// Which cookies CloudFront reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Used {
    /// The signed URL's parameters; cookies are not looked at.
    Url,
    /// No signing value at all.
    Nothing,
    /// The cookie set at this position of [`Explanation::sent`].
    Set(usize),
    /// The first of each name, from different sets: (name, position in [`Explanation::sent`]).
    Mixed(Vec<(String, usize)>),
}

/// A cookie set the browser held but did not send with the request.
#[derive(Clone, Debug)]
pub struct HeldNotSent {
    /// The set.
    pub set: CookieSet,
    /// Why the browser kept it back.
    pub why: NotSent,
    /// What CloudFront would have decided had it been sent.
    pub if_sent: Result<Grant, Denial>,
    /// Its policy's Resource, when it has one.
    pub resource: Option<String>,
}

/// The explanation of one request.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The HAR entry, when from a HAR.
    pub entry: Option<usize>,
    /// The request method.
    pub method: String,
    /// The request URL.
    pub url: String,
    /// The response status the HAR recorded (0 when none).
    pub status: u16,
    /// The time judged at, epoch seconds.
    pub at: u64,
    /// Whose clock `at` is.
    pub clock: Clock,
    /// The `CloudFront-*` cookie sets sent, in the order of the `Cookie` header.
    pub sent: Vec<CookieSet>,
    /// Which of them CloudFront reads.
    pub used: Used,
    /// The signing values read, when the URL is not refused outright.
    pub presented: Option<Presented>,
    /// The policy the signature must cover, decoded.
    pub policy: Option<String>,
    /// Sets the browser held but did not send.
    pub held_not_sent: Vec<HeldNotSent>,
    /// The verifier's decision.
    pub decision: Result<Grant, Denial>,
    /// For a denial, what it comes down to.
    pub reason: Option<Reason>,
}

impl Explanation {
    /// Whether the request is allowed.
    pub fn allowed(&self) -> bool {
        self.decision.is_ok()
    }
}

/// The keys and viewer a request is judged with.
#[derive(Clone, Copy, Debug)]
pub struct Judge<'a> {
    /// The trusted keys.
    pub keys: &'a [VerifyingKey],
    /// The viewer's address, for policies bound to one.
    pub viewer_ip: Option<IpAddr>,
}

/// One request to explain.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The URL as requested.
    pub url: &'a str,
    /// The cookies sent, in order.
    pub cookies: &'a [(String, String)],
    /// The time to judge at.
    pub at: u64,
}

/// Explains every request of `entries` that `scope` covers, keeping the browser's cookie jar from
/// the responses' `Set-Cookie` headers; `given_time` (`--now`) replaces each request's own time.
pub fn explain_har(
    entries: &[Entry],
    scope: &CdnScope,
    judge: Judge<'_>,
    given_time: Option<u64>,
    fallback_time: u64,
) -> Vec<Explanation> {
    let mut jar = CookieJar::new();
    let mut explanations = Vec::new();
    for entry in entries {
        let (at, clock) = match (given_time, entry.response_date(), entry.started) {
            (Some(at), _, _) => (at, Clock::Given),
            (None, Some(at), _) => (at, Clock::ResponseDate),
            (None, None, Some(at)) => (at, Clock::Started),
            (None, None, None) => (fallback_time, Clock::Given),
        };
        if scope.covers(entry) {
            let cookies = entry.sent_cookies();
            let request = Request {
                url: &entry.url,
                cookies: &cookies,
                at,
            };
            let mut explanation = explain(&request, Some(&jar), judge);
            explanation.entry = Some(entry.index);
            explanation.method.clone_from(&entry.method);
            explanation.status = entry.status;
            explanation.clock = clock;
            explanations.push(explanation);
        }
        // The response's cookies count from the next request on.
        let set_cookies = entry.set_cookies();
        if set_cookies.is_empty() {
            for cookie in &entry.response_cookies {
                jar.set_listed(&entry.url, cookie, at, entry.index);
            }
        } else {
            for header in set_cookies {
                jar.set(&entry.url, header, at, entry.index);
            }
        }
    }
    explanations
}

/// The (name, value) pairs the verifier takes.
fn borrowed(cookies: &[(String, String)]) -> Vec<(&str, &str)> {
    cookies.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// `request` as the verifier sees it, sending `cookies`.
fn viewer_request<'a>(
    request: &'a Request<'_>,
    cookies: &'a [(&'a str, &'a str)],
    judge: Judge<'_>,
) -> ViewerRequest<'a> {
    ViewerRequest {
        url: request.url,
        cookies,
        viewer_ip: judge.viewer_ip,
        now: request.at,
    }
}

/// Explains one request; `jar` (the browser's cookies, when known) tells where sent cookies came
/// from and which held sets were not sent.
pub fn explain(request: &Request<'_>, jar: Option<&CookieJar>, judge: Judge<'_>) -> Explanation {
    let url = UrlParts::parse(request.url);
    let cookie_pairs = borrowed(request.cookies);
    let viewer = viewer_request(request, &cookie_pairs, judge);
    let decision = verify(judge.keys, &viewer);
    let presented = presented(&viewer).ok();
    let policy = presented.as_ref().and_then(Presented::policy_json);
    let (sent, first_of_name) = sent_sets(request, jar, url.as_ref());
    let used = match &presented {
        Some(p) if p.source == SignatureSource::Url => Used::Url,
        Some(p) if p.is_empty() => Used::Nothing,
        _ => {
            let mut sets: Vec<usize> = first_of_name.iter().map(|(_, set)| *set).collect();
            sets.dedup();
            match sets.as_slice() {
                [] => Used::Nothing,
                [one] => Used::Set(*one),
                _ => Used::Mixed(first_of_name),
            }
        }
    };
    let held_not_sent = match (jar, &url) {
        (Some(jar), Some(url)) => held_not_sent(jar, url, request, judge),
        _ => Vec::new(),
    };
    let reason = decision
        .as_ref()
        .err()
        .map(|denial| reason_for(denial, &viewer, presented.as_ref(), policy.as_deref(), judge));
    Explanation {
        entry: None,
        method: "GET".to_owned(),
        url: request.url.to_owned(),
        status: 0,
        at: request.at,
        clock: Clock::Given,
        sent,
        used,
        presented,
        policy,
        held_not_sent,
        decision,
        reason,
    }
}

/// The `CloudFront-*` sets sent, each matched to the held cookie that has its value (the longest
/// Path first, as browsers order them), and for each name the set its first copy came from.
fn sent_sets(
    request: &Request<'_>,
    jar: Option<&CookieJar>,
    url: Option<&UrlParts>,
) -> (Vec<CookieSet>, Vec<(String, usize)>) {
    let mut sets: Vec<CookieSet> = Vec::new();
    let mut first_of_name: Vec<(String, usize)> = Vec::new();
    for (name, value) in request.cookies {
        if !name.starts_with(CLOUDFRONT_PREFIX) {
            continue;
        }
        // Identical values (the key-pair id, the hash) are held at several Paths: browsers send the
        // longest Path first, so each copy of a name is the longest held one not yet accounted for.
        let already_placed = |held: &&cookie_jar::StoredCookie| {
            sets.iter().any(|set| {
                set.path.as_ref() == Some(&held.path)
                    && set.domain.as_ref() == Some(&held.domain)
                    && set.cookies.iter().any(|(n, _)| n == name)
            })
        };
        // A copy that fits the set being read (the previous cookie's) belongs to it.
        let fills_last = |held: &&cookie_jar::StoredCookie| {
            sets.last().is_some_and(|set| {
                set.path.as_ref() == Some(&held.path) && set.domain.as_ref() == Some(&held.domain)
            })
        };
        let origin = jar.zip(url).and_then(|(jar, url)| {
            jar.held(request.at)
                .filter(|held| &held.name == name && &held.value == value)
                .filter(|held| CookieJar::not_sent(held, url).is_none())
                .filter(|held| !already_placed(held))
                .max_by_key(|held| (fills_last(held), held.path.len()))
        });
        let key = origin.map(|held| (held.path.clone(), held.domain.clone(), held.host_only));
        let position = sets.iter().position(|set| match &key {
            Some((path, domain, host_only)) => {
                set.path.as_ref() == Some(path)
                    && set.domain.as_ref() == Some(domain)
                    && set.host_only == *host_only
                    // A second copy of a name at the same place is another set (an older one).
                    && !set.cookies.iter().any(|(n, _)| n == name)
            }
            None => set.path.is_none() && !set.cookies.iter().any(|(n, _)| n == name),
        });
        let position = position.unwrap_or_else(|| {
            sets.push(CookieSet {
                path: key.as_ref().map(|(path, _, _)| path.clone()),
                domain: key.as_ref().map(|(_, domain, _)| domain.clone()),
                host_only: key.as_ref().is_some_and(|(_, _, host_only)| *host_only),
                set_by: origin.map(|held| held.set_by),
                cookies: Vec::new(),
            });
            sets.len() - 1
        });
        sets[position].cookies.push((name.clone(), value.clone()));
        if !first_of_name.iter().any(|(n, _)| n == name) {
            first_of_name.push((name.clone(), position));
        }
    }
    (sets, first_of_name)
}

/// The `CloudFront-*` sets held at the request's time that its URL does not get, and what each would
/// have been decided had it been sent.
fn held_not_sent(
    jar: &CookieJar,
    url: &UrlParts,
    request: &Request<'_>,
    judge: Judge<'_>,
) -> Vec<HeldNotSent> {
    let mut sets: Vec<(CookieSet, NotSent)> = Vec::new();
    for held in jar.held(request.at) {
        if !held.name.starts_with(CLOUDFRONT_PREFIX) {
            continue;
        }
        let Some(why) = CookieJar::not_sent(held, url) else {
            continue;
        };
        let same_place = |set: &CookieSet| {
            set.path.as_ref() == Some(&held.path)
                && set.domain.as_ref() == Some(&held.domain)
                && set.host_only == held.host_only
        };
        match sets.iter_mut().find(|(set, _)| same_place(set)) {
            Some((set, _)) => set.cookies.push((held.name.clone(), held.value.clone())),
            None => sets.push((
                CookieSet {
                    path: Some(held.path.clone()),
                    domain: Some(held.domain.clone()),
                    host_only: held.host_only,
                    set_by: Some(held.set_by),
                    cookies: vec![(held.name.clone(), held.value.clone())],
                },
                why,
            )),
        }
    }
    sets.into_iter()
        .map(|(set, why)| {
            let pairs = borrowed(&set.cookies);
            let viewer = viewer_request(request, &pairs, judge);
            let if_sent = verify(judge.keys, &viewer);
            let resource = presented(&viewer)
                .ok()
                .and_then(|p| p.policy_json())
                .and_then(|json| policy_field(&json, "Resource"));
            HeldNotSent {
                set,
                why,
                if_sent,
                resource,
            }
        })
        .collect()
}

/// An epoch time as RFC 3339 (UTC), or the number when out of range.
pub fn timestamp(epoch: u64) -> String {
    i64::try_from(epoch)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| epoch.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{HashAlgorithm, KeyPairId, Policy, Signer, SigningKey, SourceIp};

    const NOW: u64 = 1_800_000_000;
    const PHOTO: &str = "https://cdn.example/users/1/albums/a/photo.png";

    fn key() -> SigningKey {
        let pem = include_str!("../../tests/fixtures/vectors/ecdsa_p256_private_pkcs8.pem");
        SigningKey::from_pem(KeyPairId::parse("K2JCJMDEHXQW5F").expect("id"), pem).expect("key")
    }

    fn cookies(key: &SigningKey, policy: &Policy) -> Vec<(String, String)> {
        Signer::new(key, HashAlgorithm::Sha256)
            .sign_cookies(policy)
            .expect("signed")
            .pairs()
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v))
            .collect()
    }

    fn explained(key: &SigningKey, cookies: &[(String, String)], jar: Option<&CookieJar>) -> Explanation {
        let keys = [key.verifying_key().expect("public half")];
        let request = Request {
            url: PHOTO,
            cookies,
            at: NOW,
        };
        explain(
            &request,
            jar,
            Judge {
                keys: &keys,
                viewer_ip: Some("192.0.2.7".parse().expect("ip")),
            },
        )
    }

    #[test]
    fn of_two_sets_sent_cloudfront_reads_the_first_and_the_jar_names_their_paths() {
        let key = key();
        let album = cookies(
            &key,
            &Policy::new("https://cdn.example/users/1/albums/a/*", NOW + 60).expect("policy"),
        );
        let own = cookies(
            &key,
            &Policy::new("https://cdn.example/users/1/*", NOW - 5).expect("policy"),
        );
        let mut jar = CookieJar::new();
        for (set, path) in [(&own, "/users/1/"), (&album, "/users/1/albums/a/")] {
            for (name, value) in set.iter() {
                jar.set(
                    "https://app.example/api/x",
                    &format!("{name}={value}; Domain=example; Path={path}"),
                    NOW - 100,
                    4,
                );
            }
        }
        // The longest Path first, as browsers send them.
        let sent: Vec<(String, String)> = album.iter().chain(own.iter()).cloned().collect();
        let explanation = explained(&key, &sent, Some(&jar));
        assert!(explanation.allowed(), "{explanation:?}");
        assert_eq!(explanation.sent.len(), 2);
        assert_eq!(explanation.sent[0].path.as_deref(), Some("/users/1/albums/a/"));
        assert_eq!(explanation.sent[1].path.as_deref(), Some("/users/1/"));
        assert_eq!(explanation.used, Used::Set(0));
        // The other order: the expired set is read, and the report says so.
        let sent: Vec<(String, String)> = own.iter().chain(album.iter()).cloned().collect();
        let explanation = explained(&key, &sent, Some(&jar));
        assert_eq!(explanation.used, Used::Set(0));
        assert_eq!(explanation.sent[0].path.as_deref(), Some("/users/1/"));
        assert_eq!(
            explanation.reason,
            Some(Reason::Expired {
                at: NOW - 5,
                seconds_before: 5
            })
        );
    }

    #[test]
    fn cookies_of_different_sets_read_together_are_a_mix() {
        let key = key();
        let first = cookies(
            &key,
            &Policy::new("https://cdn.example/users/1/*", NOW + 60).expect("policy"),
        );
        let second = cookies(
            &key,
            &Policy::new("https://cdn.example/users/1/albums/*", NOW + 90).expect("policy"),
        );
        let mut jar = CookieJar::new();
        for (set, path) in [(&first, "/users/1/"), (&second, "/users/1/albums/")] {
            for (name, value) in set.iter() {
                jar.set(
                    "https://cdn.example/",
                    &format!("{name}={value}; Path={path}"),
                    NOW - 100,
                    2,
                );
            }
        }
        // The policy of one set, the signature of the other: what a set missing a cookie looks like.
        let sent = vec![
            second[0].clone(),
            first[1].clone(),
            first[2].clone(),
            first[3].clone(),
            first[0].clone(),
        ];
        let explanation = explained(&key, &sent, Some(&jar));
        assert!(matches!(explanation.used, Used::Mixed(_)), "{explanation:?}");
        assert_eq!(explanation.reason, Some(Reason::BadSignature { canned: false }));
    }

    #[test]
    fn a_start_in_the_future_and_an_ip_block_are_explained_with_their_values() {
        let key = key();
        let early = Policy::new("https://cdn.example/users/1/*", NOW + 60)
            .expect("policy")
            .not_before(NOW + 9)
            .expect("start");
        let explanation = explained(&key, &cookies(&key, &early), None);
        assert_eq!(
            explanation.reason,
            Some(Reason::NotYetValid {
                after: NOW + 9,
                seconds_early: 10
            })
        );
        let bound = Policy::new("https://cdn.example/users/1/*", NOW + 60)
            .expect("policy")
            .source_ip(SourceIp::parse("198.51.100.0/24").expect("block"));
        let explanation = explained(&key, &cookies(&key, &bound), None);
        assert_eq!(
            explanation.reason.map(|r| r.to_string()).as_deref(),
            Some("viewer IP 192.0.2.7 is outside the policy's IpAddress 198.51.100.0/24")
        );
    }
}
