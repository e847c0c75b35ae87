//! The verifier: decides a viewer request as CloudFront does, and says why it denies.
//!
//! Signed-URL parameters take precedence: when the query holds any reserved parameter the cookies are
//! not looked at. A URL naming a reserved parameter twice is refused: which copy counts would otherwise
//! decide what was signed. A canned policy is rebuilt from the request URL; a custom policy's conditions are
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
    /// The URL the request names: the distribution's own scheme and host (never a `Host` the viewer
    /// chose), then the path and query exactly as sent. Its query starts at its first `?`.
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
    /// The query names a signing parameter (`Expires`, `Policy`, `Signature`, `Key-Pair-Id`,
    /// `Hash-Algorithm`) more than once.
    RepeatedParameter(&'static str),
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
            Self::RepeatedParameter(name) => write!(
                f,
                "repeated signing parameter {name} (a signed URL carries each signing parameter once)"
            ),
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

/// A URL split into its signing parameters and the URL without them.
struct SignedUrl<'a> {
    values: SigningValues<'a>,
    /// The URL without the signing parameters (the other parameters kept in order).
    stripped: String,
    /// Whether the query held any signing parameter.
    signed: bool,
}

/// Splits `url` at its query, which starts at the first `?` (RFC 3986: no `?` comes before it in a URL),
/// and takes out the signing parameters; a signing parameter named twice is refused.
fn split_signed_url(url: &str) -> Result<SignedUrl<'_>, Denial> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok(SignedUrl {
            values: SigningValues::default(),
            stripped: url.to_owned(),
            signed: false,
        });
    };
    let mut values = SigningValues::default();
    let mut kept: Vec<&str> = Vec::new();
    let mut signed = false;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (slot, name) = match name {
            "Expires" => (&mut values.expires, "Expires"),
            "Policy" => (&mut values.policy, "Policy"),
            "Signature" => (&mut values.signature, "Signature"),
            "Key-Pair-Id" => (&mut values.key_pair_id, "Key-Pair-Id"),
            "Hash-Algorithm" => (&mut values.hash, "Hash-Algorithm"),
            _ => {
                kept.push(pair);
                continue;
            }
        };
        debug_assert!(RESERVED_QUERY_PARAMETERS.contains(&name));
        signed = true;
        if slot.replace(value).is_some() {
            return Err(Denial::RepeatedParameter(name));
        }
    }
    let stripped = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(SignedUrl {
        values,
        stripped,
        signed,
    })
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
    decide(keys, request, None)
}

/// Decides `request` as [`verify`] does, but checks the signature over `hash` whatever the request's
/// `Hash-Algorithm` says: a request that verifies this way was signed over the other hash than it
/// announces, which tells a mislabelled signature from a changed one.
pub fn verify_assuming_hash<K: KeyLookup + ?Sized>(
    keys: &K,
    request: &ViewerRequest<'_>,
    hash: HashAlgorithm,
) -> Result<Grant, Denial> {
    decide(keys, request, Some(hash))
}

/// The signing values a request presents, as the verifier reads them; for explaining a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presented {
    /// Signed URL or cookies: the query's parameters when it holds any, otherwise the cookies.
    pub source: SignatureSource,
    /// `Policy` / `CloudFront-Policy`, CloudFront base64.
    pub policy: Option<String>,
    /// `Expires` / `CloudFront-Expires` (a canned policy).
    pub expires: Option<String>,
    /// `Signature` / `CloudFront-Signature`.
    pub signature: Option<String>,
    /// `Key-Pair-Id` / `CloudFront-Key-Pair-Id`.
    pub key_pair_id: Option<String>,
    /// `Hash-Algorithm` / `CloudFront-Hash-Algorithm`.
    pub hash: Option<String>,
    /// The URL a policy is checked against: the request URL without its signing parameters.
    pub resource_url: String,
}

impl Presented {
    /// Whether any signing value was presented at all.
    pub fn is_empty(&self) -> bool {
        [
            &self.policy,
            &self.expires,
            &self.signature,
            &self.key_pair_id,
            &self.hash,
        ]
        .iter()
        .all(|value| value.is_none())
    }

    /// The policy document the signature must cover: a custom policy decoded, or the canned policy
    /// rebuilt from the URL and `Expires`; `None` when neither decodes.
    pub fn policy_json(&self) -> Option<String> {
        if let Some(policy) = &self.policy {
            return encoding::decode(policy).and_then(|bytes| String::from_utf8(bytes).ok());
        }
        let expires = self.expires.as_deref()?;
        if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(canned_json(&self.resource_url, expires.parse().ok()?))
    }
}

/// What `request` presents to the verifier (see [`Presented`]); a repeated signing parameter is the
/// verifier's refusal.
pub fn presented(request: &ViewerRequest<'_>) -> Result<Presented, Denial> {
    let (values, source, resource_url) = select_values(request)?;
    let owned = |value: Option<&str>| value.map(str::to_owned);
    Ok(Presented {
        source,
        policy: owned(values.policy),
        expires: owned(values.expires),
        signature: owned(values.signature),
        key_pair_id: owned(values.key_pair_id),
        hash: owned(values.hash),
        resource_url,
    })
}

/// The signing values the verifier reads, where they came from, and the URL a policy must cover.
fn select_values<'a>(
    request: &ViewerRequest<'a>,
) -> Result<(SigningValues<'a>, SignatureSource, String), Denial> {
    let SignedUrl {
        values: url_values,
        stripped,
        signed,
    } = split_signed_url(request.url)?;
    let (values, source, resource_url) = if signed {
        (url_values, SignatureSource::Url, stripped)
    } else {
        (
            cookie_values(request.cookies),
            SignatureSource::Cookies,
            request.url.to_owned(),
        )
    };
    Ok((values, source, resource_url))
}

fn decide<K: KeyLookup + ?Sized>(
    keys: &K,
    request: &ViewerRequest<'_>,
    assumed_hash: Option<HashAlgorithm>,
) -> Result<Grant, Denial> {
    let (values, source, resource_url) = select_values(request)?;

    let key_pair_id = values
        .key_pair_id
        .filter(|id| !id.is_empty())
        .ok_or(Denial::MissingKeyPairId)?;
    let key = keys
        .verifying_key(key_pair_id)
        .ok_or_else(|| Denial::UnknownKey(key_pair_id.to_owned()))?;
    let hash = match (assumed_hash, values.hash) {
        (Some(hash), _) => hash,
        (None, None) => HashAlgorithm::Sha1,
        (None, Some(text)) => text
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

#[cfg(test)]
mod tests {
    use super::super::{KeyPairId, KeyRing, Policy, Signer, SigningKey};
    use super::*;

    const PHOTO: &str = "https://cdn.example/users/1/photo.png";
    const NOW: u64 = 1_800_000_000;
    const EXPIRY: u64 = 1_800_003_600;

    fn keys() -> KeyRing {
        let pem = include_str!("../../tests/fixtures/vectors/ecdsa_p256_private_pkcs8.pem");
        let id = KeyPairId::parse("K2JCJMDEHXQW5F").expect("id");
        KeyRing::new(SigningKey::from_pem(id, pem).expect("key")).expect("ring")
    }

    fn signed(keys: &KeyRing, url: &str, policy: &Policy) -> String {
        Signer::new(keys.active(), HashAlgorithm::Sha256)
            .sign_url(url, policy)
            .expect("signed")
    }

    fn decide(keys: &KeyRing, url: &str, cookies: &[(&str, &str)]) -> Result<Grant, Denial> {
        verify(
            keys,
            &ViewerRequest {
                url,
                cookies,
                viewer_ip: None,
                now: NOW,
            },
        )
    }

    #[test]
    fn a_signing_parameter_named_twice_is_refused_whichever_copy_would_verify() {
        let keys = keys();
        let canned = signed(&keys, PHOTO, &Policy::new(PHOTO, EXPIRY).expect("policy"));
        let custom = signed(
            &keys,
            PHOTO,
            &Policy::new("https://cdn.example/users/1/*", EXPIRY)
                .expect("policy")
                .not_before(NOW - 1)
                .expect("start"),
        );
        assert!(decide(&keys, &canned, &[]).is_ok());
        assert!(decide(&keys, &custom, &[]).is_ok());
        for name in RESERVED_QUERY_PARAMETERS {
            for url in [&canned, &custom] {
                let (base, query) = url.split_once('?').expect("a query");
                let present = query.split('&').any(|pair| pair.starts_with(&format!("{name}=")));
                for copy in ["", "1", "SHA256", "K2JCJMDEHXQW5F"] {
                    // Named once more than the URL names it, so at least twice.
                    let extra = if present { 1 } else { 2 };
                    let appended = format!("{url}{}", format!("&{name}={copy}").repeat(extra));
                    assert_eq!(
                        decide(&keys, &appended, &[]),
                        Err(Denial::RepeatedParameter(name)),
                        "{appended}"
                    );
                }
                // In front of the signed copy, even an empty one.
                if present {
                    let prepended = format!("{base}?{name}=&{query}");
                    assert_eq!(
                        decide(&keys, &prepended, &[]),
                        Err(Denial::RepeatedParameter(name)),
                        "{prepended}"
                    );
                }
            }
        }
        // The finding's shape: a signed query pasted in front of another object's path.
        let (_, query) = canned.split_once('?').expect("a query");
        let moved = format!("https://cdn.example?{query}&Expires=/users/2/other.png");
        assert_eq!(
            decide(&keys, &moved, &[]),
            Err(Denial::RepeatedParameter("Expires"))
        );
    }

    #[test]
    fn a_repeated_parameter_is_refused_before_the_cookies_are_considered() {
        let keys = keys();
        let cookies = Signer::new(keys.active(), HashAlgorithm::Sha256)
            .sign_cookies(&Policy::new("https://cdn.example/users/1/*", EXPIRY).expect("policy"))
            .expect("cookies")
            .pairs();
        let cookies: Vec<(&str, &str)> = cookies.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert!(decide(&keys, PHOTO, &cookies).is_ok());
        let url = format!("{PHOTO}?Hash-Algorithm=SHA256&Hash-Algorithm=SHA256");
        assert_eq!(
            decide(&keys, &url, &cookies),
            Err(Denial::RepeatedParameter("Hash-Algorithm"))
        );
        // Other parameters may repeat, and names differing in case are not signing parameters.
        let url = format!("{PHOTO}?x=1&x=2&expires=1&expires=2");
        assert!(decide(&keys, &url, &cookies).is_ok());
    }

    #[test]
    fn the_refusal_names_the_parameter_and_is_access_denied() {
        let denial = Denial::RepeatedParameter("Signature");
        assert_eq!(denial.cloudfront_code(), "AccessDenied");
        assert!(
            denial
                .to_string()
                .contains("repeated signing parameter Signature")
        );
    }
}
