//! What a denial comes down to: the verifier's [`Denial`] turned into the reason a person acts on, with
//! the values that show it (both sides of a resource mismatch, how long before the request a policy
//! ended, the hash a signature was really made over).

use std::fmt;
use std::net::IpAddr;

use serde_json::Value;

use super::{Judge, timestamp};
use crate::signing::{Denial, HashAlgorithm, Presented, ViewerRequest, verify_assuming_hash};

/// What a denial comes down to, with the values that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// No signature was sent at all.
    NothingSent,
    /// The policy's Resource does not cover the URL.
    ResourceMismatch {
        /// The policy's Resource.
        resource: String,
        /// The URL it was checked against (without signing parameters).
        url: String,
    },
    /// The request came at or after `DateLessThan`.
    Expired {
        /// `DateLessThan`.
        at: u64,
        /// How long before the request it ended.
        seconds_before: u64,
    },
    /// The request came at or before `DateGreaterThan`.
    NotYetValid {
        /// `DateGreaterThan`.
        after: u64,
        /// How long after the request it starts.
        seconds_early: u64,
    },
    /// The viewer address is outside the policy's `IpAddress`.
    Ip {
        /// The policy's `AWS:SourceIp`.
        allowed: Option<String>,
        /// The viewer address judged (`--ip`), if any.
        viewer: Option<IpAddr>,
    },
    /// The key-pair id is not trusted.
    UnknownKey {
        /// The id sent.
        id: String,
        /// The ids trusted.
        trusted: Vec<String>,
    },
    /// The signature verifies over the other hash than the one announced.
    HashMismatch {
        /// What `Hash-Algorithm` says (SHA1 when absent).
        announced: HashAlgorithm,
        /// The hash the signature was made over.
        signed_with: HashAlgorithm,
    },
    /// The signature does not verify over either hash.
    BadSignature {
        /// Whether the policy is canned (the signature then covers the exact URL).
        canned: bool,
    },
    /// Any other denial; the verifier's own words say it.
    Other(Denial),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NothingSent => f.write_str("no CloudFront cookie set or signed-URL parameters sent"),
            Self::ResourceMismatch { resource, url } => write!(
                f,
                "resource mismatch: the policy's Resource {resource} does not cover {url}"
            ),
            Self::Expired { at, seconds_before } => write!(
                f,
                "expired {seconds_before} s before the request (DateLessThan {})",
                timestamp(*at)
            ),
            Self::NotYetValid {
                after,
                seconds_early,
            } => write!(
                f,
                "not yet valid: starts {seconds_early} s after the request (DateGreaterThan {})",
                timestamp(*after)
            ),
            Self::Ip { allowed, viewer } => {
                let allowed = allowed.as_deref().unwrap_or("(unreadable)");
                match viewer {
                    Some(ip) => write!(f, "viewer IP {ip} is outside the policy's IpAddress {allowed}"),
                    None => write!(
                        f,
                        "the policy requires a viewer IP in {allowed} (a HAR does not record the viewer's address: give --ip)"
                    ),
                }
            }
            Self::UnknownKey { id, trusted } => write!(
                f,
                "unknown key id {id} (trusted: {})",
                if trusted.is_empty() {
                    "none".to_owned()
                } else {
                    trusted.join(", ")
                }
            ),
            Self::HashMismatch {
                announced,
                signed_with,
            } => write!(
                f,
                "hash algorithm mismatch: the signature is over {signed_with}, but the request says {announced}"
            ),
            Self::BadSignature { canned: true } => f.write_str(
                "bad signature (a canned policy's signature covers the exact URL signed: a changed URL gives this too)",
            ),
            Self::BadSignature { canned: false } => {
                f.write_str("bad signature (not made by this key over this policy)")
            }
            Self::Other(denial) => write!(f, "{denial}"),
        }
    }
}

pub(super) fn reason_for(
    denial: &Denial,
    request: &ViewerRequest<'_>,
    presented: Option<&Presented>,
    policy: Option<&str>,
    judge: Judge<'_>,
) -> Reason {
    match denial {
        Denial::MissingKeyPairId if presented.is_none_or(Presented::is_empty) => Reason::NothingSent,
        Denial::ResourceMismatch => Reason::ResourceMismatch {
            resource: policy
                .and_then(|json| policy_field(json, "Resource"))
                .unwrap_or_default(),
            url: presented.map_or_else(|| request.url.to_owned(), |p| p.resource_url.clone()),
        },
        Denial::Expired { at } => Reason::Expired {
            at: *at,
            seconds_before: request.now.saturating_sub(*at),
        },
        Denial::NotYetValid { after } => Reason::NotYetValid {
            after: *after,
            // Valid only strictly after `after`: the first second that counts is after + 1.
            seconds_early: after.saturating_add(1).saturating_sub(request.now),
        },
        Denial::IpNotAllowed => Reason::Ip {
            allowed: policy.and_then(|json| policy_condition(json, "IpAddress", "AWS:SourceIp")),
            viewer: request.viewer_ip,
        },
        Denial::UnknownKey(id) => Reason::UnknownKey {
            id: id.clone(),
            trusted: judge
                .keys
                .iter()
                .map(|key| key.key_pair_id().as_str().to_owned())
                .collect(),
        },
        Denial::BadSignature => {
            let announced = presented
                .and_then(|p| p.hash.as_deref())
                .and_then(|h| h.parse().ok())
                .unwrap_or(HashAlgorithm::Sha1);
            let other = match announced {
                HashAlgorithm::Sha1 => HashAlgorithm::Sha256,
                HashAlgorithm::Sha256 => HashAlgorithm::Sha1,
            };
            match verify_assuming_hash(judge.keys, request, other) {
                Err(Denial::BadSignature) => Reason::BadSignature {
                    canned: presented.is_some_and(|p| p.policy.is_none()),
                },
                _ => Reason::HashMismatch {
                    announced,
                    signed_with: other,
                },
            }
        }
        other => Reason::Other(other.clone()),
    }
}

/// A string field of the policy's statement (`Resource`).
pub(super) fn policy_field(json: &str, field: &str) -> Option<String> {
    let document: Value = serde_json::from_str(json).ok()?;
    document
        .get("Statement")?
        .get(0)?
        .get(field)?
        .as_str()
        .map(str::to_owned)
}

/// A string value inside one of the policy's conditions (`IpAddress` / `AWS:SourceIp`).
fn policy_condition(json: &str, condition: &str, key: &str) -> Option<String> {
    let document: Value = serde_json::from_str(json).ok()?;
    document
        .get("Statement")?
        .get(0)?
        .get("Condition")?
        .get(condition)?
        .get(key)?
        .as_str()
        .map(str::to_owned)
}
