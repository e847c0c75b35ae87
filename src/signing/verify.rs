//! The verifier: decides a viewer request as CloudFront does, and says why it denies.
//!
//! Signed-URL parameters take precedence: when the query holds any reserved parameter the cookies are
//! not looked at. A canned policy is rebuilt from the request URL; a custom policy's conditions are
//! checked after its signature.

use std::fmt;
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::cookies::names;
use super::keyring::KeyLookup;
use super::policy::{SourceIp, canned_json};
use super::url::RESERVED_QUERY_PARAMETERS;
use super::wildcard::resource_matches;
use super::{HashAlgorithm, encoding};

/// A request as the edge sees it.
#[derive(Clone, Copy, Debug)]
pub struct ViewerRequest<'a> {
    /// The full URL as requested: scheme, host, path and query exactly as sent.
    pub url: &'a str,
    /// Cookies sent with the request, as (name, value); the first of duplicate names counts.
    pub cookies: &'a [(&'a str, &'a str)],
    /// The address of the viewer, if known.
    pub viewer_ip: Option<IpAddr>,
    /// The current time, epoch seconds.
    pub now: u64,
}

/// Where the signature came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureSource {
    /// Query parameters of a signed URL.
    Url,
    /// `CloudFront-*` cookies.
    Cookies,
}

/// What an accepted request was allowed by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The key that signed.
    pub key_pair_id: String,
    /// The hash it signed over.
    pub hash: HashAlgorithm,
    /// Signed URL or cookies.
    pub source: SignatureSource,
    /// When the grant ends (`DateLessThan`).
    pub expires: u64,
}

/// Why a request is denied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Denial {
    /// No `Key-Pair-Id` / `CloudFront-Key-Pair-Id` (for instance an unsigned request).
    MissingKeyPairId,
    /// The key-pair id is not among the trusted keys.
    UnknownKey(String),
    /// A key-pair id but no signature.
    MissingSignature,
    /// The signature is not CloudFront base64.
    MalformedSignature,
    /// Neither `Expires` nor `Policy` was sent.
    MissingPolicy,
    /// The policy (or `Expires`) does not decode or parse; the text says what is wrong.
    MalformedPolicy(String),
    /// `Hash-Algorithm` is neither `SHA1` nor `SHA256`.
    UnsupportedHashAlgorithm(String),
    /// The signature does not verify (wrong key, changed bytes, wrong hash, or for a canned policy a
    /// URL other than the one signed).
    BadSignature,
    /// The request came at or after `DateLessThan`.
    Expired {
        /// The policy's `DateLessThan`.
        at: u64,
    },
    /// The request came at or before `DateGreaterThan`.
    NotYetValid {
        /// The policy's `DateGreaterThan`.
        after: u64,
    },
    /// The viewer address is outside the policy's `IpAddress` block (or unknown, or IPv6).
    IpNotAllowed,
    /// The request URL is not covered by the policy's `Resource`.
    ResourceMismatch,
}

impl Denial {
    /// The error code CloudFront puts in its 403 body for this case.
    pub fn cloudfront_code(&self) -> &'static str {
        match self {
            Self::MissingKeyPairId => "MissingKey",
            Self::UnknownKey(_) => "InvalidKey",
            Self::MalformedSignature => "MalformedSignature",
            Self::MalformedPolicy(_) => "MalformedPolicy",
            _ => "AccessDenied",
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingKeyPairId => f.write_str("missing key-pair id (no Key-Pair-Id parameter or cookie)"),
            Self::UnknownKey(id) => write!(f, "unknown key {id:?}"),
            Self::MissingSignature => f.write_str("missing signature"),
            Self::MalformedSignature => f.write_str("malformed signature (not CloudFront base64)"),
            Self::MissingPolicy => f.write_str("missing policy (neither Expires nor Policy was sent)"),
            Self::MalformedPolicy(why) => write!(f, "malformed policy: {why}"),
            Self::UnsupportedHashAlgorithm(h) => write!(f, "unsupported hash algorithm {h:?}"),
            Self::BadSignature => f.write_str("bad signature"),
            Self::Expired { at } => write!(f, "expired at {at}"),
            Self::NotYetValid { after } => write!(f, "not yet valid (valid after {after})"),
            Self::IpNotAllowed => f.write_str("viewer IP not allowed"),
            Self::ResourceMismatch => f.write_str("resource mismatch (the policy does not cover this URL)"),
        }
    }
}

impl std::error::Error for Denial {}

/// The five signing values, from the query or from cookies.
#[derive(Default)]
struct SigningValues<'a> {
    expires: Option<&'a str>,
    policy: Option<&'a str>,
    signature: Option<&'a str>,
    key_pair_id: Option<&'a str>,
    hash: Option<&'a str>,
}

/// Splits a URL into the signing parameters and the URL without them.
fn split_signed_url(url: &str) -> (SigningValues<'_>, String, bool) {
    let Some((base, query)) = url.split_once('?') else {
        return (SigningValues::default(), url.to_owned(), false);
    };
    let mut values = SigningValues::default();
    let mut kept: Vec<&str> = Vec::new();
    let mut found = false;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match name {
            "Expires" => &mut values.expires,
            "Policy" => &mut values.policy,
            "Signature" => &mut values.signature,
            "Key-Pair-Id" => &mut values.key_pair_id,
            "Hash-Algorithm" => &mut values.hash,
            _ => {
                kept.push(pair);
                continue;
            }
        };
        debug_assert!(RESERVED_QUERY_PARAMETERS.contains(&name));
        found = true;
        slot.get_or_insert(value);
    }
    let stripped = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    (values, stripped, found)
}

fn cookie_values<'a>(cookies: &[(&'a str, &'a str)]) -> SigningValues<'a> {
    let find = |name: &str| cookies.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    SigningValues {
        expires: find(names::EXPIRES),
        policy: find(names::POLICY),
        signature: find(names::SIGNATURE),
        key_pair_id: find(names::KEY_PAIR_ID),
        hash: find(names::HASH_ALGORITHM),
    }
}

/// Decides `request` against the trusted `keys`.
pub fn verify<K: KeyLookup + ?Sized>(keys: &K, request: &ViewerRequest<'_>) -> Result<Grant, Denial> {
    let (url_values, stripped_url, signed_url) = split_signed_url(request.url);
    let (values, source, resource_url) = if signed_url {
        (url_values, SignatureSource::Url, stripped_url)
    } else {
        (
            cookie_values(request.cookies),
            SignatureSource::Cookies,
            request.url.to_owned(),
        )
    };

    let key_pair_id = values
        .key_pair_id
        .filter(|id| !id.is_empty())
        .ok_or(Denial::MissingKeyPairId)?;
    let key = keys
        .verifying_key(key_pair_id)
        .ok_or_else(|| Denial::UnknownKey(key_pair_id.to_owned()))?;
    let hash = match values.hash {
        None => HashAlgorithm::Sha1,
        Some(text) => text
            .parse()
            .map_err(|_| Denial::UnsupportedHashAlgorithm(text.to_owned()))?,
    };
    let signature = values
        .signature
        .filter(|s| !s.is_empty())
        .ok_or(Denial::MissingSignature)?;
    let signature = encoding::decode(signature).ok_or(Denial::MalformedSignature)?;

    let grant = |expires| Grant {
        key_pair_id: key_pair_id.to_owned(),
        hash,
        source,
        expires,
    };

    if let Some(policy) = values.policy {
        let policy_bytes = encoding::decode(policy)
            .ok_or_else(|| Denial::MalformedPolicy("not CloudFront base64".to_owned()))?;
        if !key.verify(hash, &policy_bytes, &signature) {
            return Err(Denial::BadSignature);
        }
        let conditions = CustomConditions::parse(&policy_bytes)?;
        conditions.check(&resource_url, request)?;
        return Ok(grant(conditions.date_less_than));
    }

    let expires = values.expires.ok_or(Denial::MissingPolicy)?;
    let expires: u64 = expires
        .parse()
        .ok()
        .filter(|_| expires.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Denial::MalformedPolicy("Expires is not a whole number of seconds".to_owned()))?;
    let canned = canned_json(&resource_url, expires);
    if !key.verify(hash, canned.as_bytes(), &signature) {
        return Err(Denial::BadSignature);
    }
    if request.now >= expires {
        return Err(Denial::Expired { at: expires });
    }
    Ok(grant(expires))
}

/// The statement of a custom policy, read strictly: unknown fields are malformed.
struct CustomConditions {
    resource: Option<String>,
    date_less_than: u64,
    date_greater_than: Option<u64>,
    source_ip: Option<SourceIp>,
}

fn malformed(why: impl Into<String>) -> Denial {
    Denial::MalformedPolicy(why.into())
}

fn epoch_of(value: &Value, field: &str) -> Result<u64, Denial> {
    let object = value
        .as_object()
        .ok_or_else(|| malformed(format!("{field} is not an object")))?;
    match (object.len(), object.get("AWS:EpochTime").and_then(Value::as_u64)) {
        (1, Some(t)) if t <= i64::MAX as u64 => Ok(t),
        _ => Err(malformed(format!(
            "{field} needs exactly one integer AWS:EpochTime"
        ))),
    }
}

impl CustomConditions {
    fn parse(bytes: &[u8]) -> Result<Self, Denial> {
        let document: Value = serde_json::from_slice(bytes).map_err(|_| malformed("not JSON"))?;
        let statements = document
            .get("Statement")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("no Statement array"))?;
        let [statement] = statements.as_slice() else {
            return Err(malformed("Statement must hold exactly one statement"));
        };
        let statement: &Map<String, Value> = statement
            .as_object()
            .ok_or_else(|| malformed("statement is not an object"))?;
        if let Some(unknown) = statement.keys().find(|k| *k != "Resource" && *k != "Condition") {
            return Err(malformed(format!("unknown statement field {unknown:?}")));
        }
        let resource = match statement.get("Resource") {
            None => None,
            Some(Value::String(resource)) => Some(resource.clone()),
            Some(_) => return Err(malformed("Resource is not a string")),
        };
        let condition = statement
            .get("Condition")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("no Condition object"))?;
        let mut parsed = Self {
            resource,
            date_less_than: 0,
            date_greater_than: None,
            source_ip: None,
        };
        let mut saw_expiry = false;
        for (name, value) in condition {
            match name.as_str() {
                "DateLessThan" => {
                    parsed.date_less_than = epoch_of(value, name)?;
                    saw_expiry = true;
                }
                "DateGreaterThan" => parsed.date_greater_than = Some(epoch_of(value, name)?),
                "IpAddress" => {
                    let ip = value
                        .as_object()
                        .filter(|o| o.len() == 1)
                        .and_then(|o| o.get("AWS:SourceIp"))
                        .and_then(Value::as_str)
                        .ok_or_else(|| malformed("IpAddress needs exactly one AWS:SourceIp string"))?;
                    parsed.source_ip =
                        Some(SourceIp::parse(ip).map_err(|e| malformed(format!("IpAddress: {e}")))?);
                }
                other => return Err(malformed(format!("unknown condition {other:?}"))),
            }
        }
        if !saw_expiry {
            return Err(malformed("no DateLessThan condition"));
        }
        Ok(parsed)
    }

    fn check(&self, url: &str, request: &ViewerRequest<'_>) -> Result<(), Denial> {
        // Without a Resource the policy covers every URL behind the key (CloudFront's documented rule).
        if self
            .resource
            .as_deref()
            .is_some_and(|resource| !resource_matches(resource, url))
        {
            return Err(Denial::ResourceMismatch);
        }
        if request.now >= self.date_less_than {
            return Err(Denial::Expired {
                at: self.date_less_than,
            });
        }
        if let Some(after) = self.date_greater_than
            && request.now <= after
        {
            return Err(Denial::NotYetValid { after });
        }
        if let Some(block) = &self.source_ip
            && !request.viewer_ip.is_some_and(|ip| block.contains(ip))
        {
            return Err(Denial::IpNotAllowed);
        }
        Ok(())
    }
}
