//! CloudFront policies: what a signature grants, serialised to the exact bytes that get signed.

use std::net::IpAddr;

use ipnet::Ipv4Net;
use serde::Serialize;

use super::error::SignError;

/// The largest epoch CloudFront accepts (a signed 64-bit integer).
const MAX_EPOCH: u64 = i64::MAX as u64;

/// An `IpAddress` condition: one IPv4 address or CIDR block, kept as written so the signed bytes
/// match what other signers produce for the same input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceIp {
    text: String,
    net: Ipv4Net,
}

impl SourceIp {
    /// Parses `a.b.c.d` (sent as `a.b.c.d/32`, as botocore does) or `a.b.c.d/n`.
    ///
    /// IPv6 is refused: CloudFront's `IpAddress` condition matches IPv4 viewers only.
    pub fn parse(text: &str) -> Result<Self, SignError> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| SignError::InvalidIp(text.to_owned()))?;
        let IpAddr::V4(address) = address else {
            return Err(SignError::Ipv6NotSupported(text.to_owned()));
        };
        let prefix_len = match prefix {
            None => 32,
            Some(p) if !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .map_err(|_| SignError::InvalidIp(text.to_owned()))?,
            Some(_) => return Err(SignError::InvalidIp(text.to_owned())),
        };
        let net = Ipv4Net::new(address, prefix_len).map_err(|_| SignError::InvalidIp(text.to_owned()))?;
        let text = match prefix {
            Some(_) => text.to_owned(),
            None => format!("{text}/32"),
        };
        Ok(Self { text, net })
    }

    /// The condition as it appears in the policy (`192.0.2.0/24`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a viewer address falls inside the block; IPv6 viewers never do, except IPv4-mapped ones.
    pub fn contains(&self, viewer: IpAddr) -> bool {
        let v4 = match viewer {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4,
                None => return false,
            },
        };
        self.net.contains(&v4)
    }
}

/// What a signature grants: a resource (a URL, or a pattern with `*` and `?`) until an expiry,
/// optionally not before a start time and only from an IPv4 block.
///
/// One policy can travel two ways. When it has no wildcard, no start and no IP condition it can be
/// sent *canned* (only `Expires` travels; CloudFront rebuilds the policy from the request URL);
/// otherwise it is sent *custom* (the policy itself travels). Both ways sign the same JSON shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    resource: String,
    date_less_than: u64,
    date_greater_than: Option<u64>,
    source_ip: Option<SourceIp>,
}

impl Policy {
    /// A policy for `resource` that expires at `date_less_than` (epoch seconds, exclusive).
    ///
    /// The resource must be printable ASCII without spaces; it is either an absolute `http(s)://` URL
    /// or a pattern containing `*`.
    pub fn new(resource: &str, date_less_than: u64) -> Result<Self, SignError> {
        check_resource(resource)?;
        check_epoch(date_less_than)?;
        Ok(Self {
            resource: resource.to_owned(),
            date_less_than,
            date_greater_than: None,
            source_ip: None,
        })
    }

    /// Adds a `DateGreaterThan` condition: access is refused at or before `start`.
    pub fn not_before(mut self, start: u64) -> Result<Self, SignError> {
        check_epoch(start)?;
        if start >= self.date_less_than {
            return Err(SignError::StartNotBeforeExpiry {
                start,
                expiry: self.date_less_than,
            });
        }
        self.date_greater_than = Some(start);
        Ok(self)
    }

    /// Adds an `IpAddress` condition.
    pub fn source_ip(mut self, source_ip: SourceIp) -> Self {
        self.source_ip = Some(source_ip);
        self
    }

    /// The resource URL or pattern.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The expiry (`DateLessThan`), epoch seconds.
    pub fn date_less_than(&self) -> u64 {
        self.date_less_than
    }

    /// The start (`DateGreaterThan`), epoch seconds, if any.
    pub fn date_greater_than(&self) -> Option<u64> {
        self.date_greater_than
    }

    /// The `IpAddress` condition, if any.
    pub fn ip(&self) -> Option<&SourceIp> {
        self.source_ip.as_ref()
    }

    /// Whether the policy can be sent canned: no wildcard, no start time, no IP condition.
    pub fn can_be_canned(&self) -> bool {
        self.date_greater_than.is_none() && self.source_ip.is_none() && !self.resource.contains('*')
    }

    /// The compact JSON that gets signed, in botocore's key order
    /// (`Resource`, `Condition` { `DateLessThan`, `IpAddress`, `DateGreaterThan` }).
    ///
    /// For a canned-eligible policy this is exactly the canned policy CloudFront rebuilds.
    pub fn to_json(&self) -> String {
        let document = Document {
            statement: [Statement {
                resource: &self.resource,
                condition: Condition {
                    date_less_than: Epoch {
                        epoch_time: self.date_less_than,
                    },
                    ip_address: self.source_ip.as_ref().map(|ip| IpCondition {
                        source_ip: ip.as_str(),
                    }),
                    date_greater_than: self.date_greater_than.map(|t| Epoch { epoch_time: t }),
                },
            }],
        };
        // Serialising plain strings and integers into a String cannot fail.
        serde_json::to_string(&document).unwrap_or_default()
    }
}

/// The canned policy CloudFront rebuilds for a request URL, without any validation of the URL.
pub(crate) fn canned_json(resource: &str, expires: u64) -> String {
    let document = Document {
        statement: [Statement {
            resource,
            condition: Condition {
                date_less_than: Epoch { epoch_time: expires },
                ip_address: None,
                date_greater_than: None,
            },
        }],
    };
    serde_json::to_string(&document).unwrap_or_default()
}

#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "Statement")]
    statement: [Statement<'a>; 1],
}

#[derive(Serialize)]
struct Statement<'a> {
    #[serde(rename = "Resource")]
    resource: &'a str,
    #[serde(rename = "Condition")]
    condition: Condition<'a>,
}

#[derive(Serialize)]
struct Condition<'a> {
    #[serde(rename = "DateLessThan")]
    date_less_than: Epoch,
    #[serde(rename = "IpAddress", skip_serializing_if = "Option::is_none")]
    ip_address: Option<IpCondition<'a>>,
    #[serde(rename = "DateGreaterThan", skip_serializing_if = "Option::is_none")]
    date_greater_than: Option<Epoch>,
}

#[derive(Serialize)]
struct Epoch {
    #[serde(rename = "AWS:EpochTime")]
    epoch_time: u64,
}

#[derive(Serialize)]
struct IpCondition<'a> {
    #[serde(rename = "AWS:SourceIp")]
    source_ip: &'a str,
}

fn check_epoch(t: u64) -> Result<(), SignError> {
    if t > MAX_EPOCH {
        Err(SignError::TimeOutOfRange(t))
    } else {
        Ok(())
    }
}

/// CloudFront compares resources byte for byte, so only unambiguous printable ASCII is accepted.
fn check_resource(resource: &str) -> Result<(), SignError> {
    if resource.is_empty() {
        return Err(SignError::InvalidResource("empty"));
    }
    if !resource.is_ascii() {
        return Err(SignError::InvalidResource(
            "non-ASCII characters; percent-encode the path and use punycode for the host",
        ));
    }
    if resource.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(SignError::InvalidResource("spaces or control characters"));
    }
    if resource.contains('#') {
        return Err(SignError::InvalidResource(
            "a fragment (#…), which browsers never send",
        ));
    }
    let absolute = resource.starts_with("https://") || resource.starts_with("http://");
    if !absolute && !resource.contains('*') {
        return Err(SignError::InvalidResource(
            "not an absolute http(s):// URL and not a wildcard pattern",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHOTO: &str = "https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg?size=large";

    #[test]
    fn canned_shape_matches_the_reference_bytes() {
        let policy = Policy::new(PHOTO, 1_893_456_000).expect("policy");
        assert!(policy.can_be_canned());
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg?size=large","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#
        );
    }

    #[test]
    fn custom_conditions_come_in_botocore_order() {
        let policy = Policy::new(
            "https://d111111abcdef8.cloudfront.net/users/alice/*",
            1_893_456_000,
        )
        .and_then(|p| p.not_before(1_767_225_600))
        .map(|p| p.source_ip(SourceIp::parse("192.0.2.0/24").expect("ip")))
        .expect("policy");
        assert!(!policy.can_be_canned());
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/users/alice/*","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767225600}}}]}"#
        );
    }

    #[test]
    fn json_metacharacters_are_escaped_by_the_serializer() {
        let policy = Policy::new(r#"https://h/a\?b"c"#, 1).expect("policy");
        assert_eq!(
            policy.to_json(),
            r#"{"Statement":[{"Resource":"https://h/a\\?b\"c","Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]}"#
        );
    }

    #[test]
    fn a_bare_address_is_sent_as_a_slash_32_block() {
        assert_eq!(SourceIp::parse("192.0.2.7").expect("ip").as_str(), "192.0.2.7/32");
        assert_eq!(SourceIp::parse("10.0.0.0/8").expect("ip").as_str(), "10.0.0.0/8");
    }

    #[test]
    fn bad_addresses_and_ipv6_are_refused() {
        for bad in [
            "",
            "1.2.3",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/+8",
            "01.2.3.4",
            "a.b.c.d",
            "1.2.3.4/8/8",
        ] {
            assert_eq!(
                SourceIp::parse(bad),
                Err(SignError::InvalidIp(bad.to_owned())),
                "{bad}"
            );
        }
        assert!(matches!(
            SourceIp::parse("2001:db8::/32"),
            Err(SignError::Ipv6NotSupported(_))
        ));
    }

    #[test]
    fn ip_blocks_match_ipv4_and_mapped_viewers_only() {
        let block = SourceIp::parse("192.0.2.0/24").expect("ip");
        assert!(block.contains("192.0.2.200".parse().expect("addr")));
        assert!(block.contains("::ffff:192.0.2.1".parse().expect("addr")));
        assert!(!block.contains("192.0.3.1".parse().expect("addr")));
        assert!(!block.contains("2001:db8::1".parse().expect("addr")));
    }

    #[test]
    fn invalid_resources_and_times_are_refused() {
        assert!(Policy::new("", 1).is_err());
        assert!(Policy::new("https://h/ä", 1).is_err());
        assert!(Policy::new("https://h/a b", 1).is_err());
        assert!(Policy::new("https://h/a#top", 1).is_err());
        assert!(Policy::new("ftp://h/a", 1).is_err());
        assert!(Policy::new("*", 1).is_ok());
        assert_eq!(
            Policy::new(PHOTO, u64::MAX),
            Err(SignError::TimeOutOfRange(u64::MAX))
        );
        let policy = Policy::new(PHOTO, 100).expect("policy");
        assert_eq!(
            policy.clone().not_before(100),
            Err(SignError::StartNotBeforeExpiry {
                start: 100,
                expiry: 100
            })
        );
        assert!(policy.not_before(99).is_ok());
    }
}
