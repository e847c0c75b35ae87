//! Errors of the signing core: loading keys and building what gets signed.

/// Why a private or public key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The text holds no `-----BEGIN …-----` block at all.
    #[error("no PEM block found (expected -----BEGIN … KEY-----)")]
    NoPem,
    /// A PEM block was found but it is cut short or its body is not base64.
    #[error("malformed PEM: {0}")]
    MalformedPem(&'static str),
    /// The key is protected by a passphrase; edgepass takes unencrypted keys only.
    #[error("the key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")]
    Encrypted,
    /// The PEM label names something other than the key asked for; the text names the label found and
    /// what was expected.
    #[error("unsupported PEM block {0}")]
    UnsupportedLabel(String),
    /// CloudFront key groups accept RSA-2048 only.
    #[error("RSA key has {0} bits; CloudFront accepts RSA-2048 keys only")]
    RsaKeySize(u32),
    /// CloudFront accepts ECDSA on P-256 only.
    #[error("EC key is on curve {0}; CloudFront accepts ECDSA P-256 (prime256v1) only")]
    UnsupportedCurve(String),
    /// Neither RSA nor EC (for example Ed25519 or DSA).
    #[error("unsupported key algorithm {0}; CloudFront accepts RSA-2048 or ECDSA P-256")]
    UnsupportedAlgorithm(String),
    /// The DER inside the PEM block does not parse as the key its label announces.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// Key-pair ids are CloudFront public-key ids such as `K2JCJMDEHXQW5F`.
    #[error("invalid key-pair id {0:?}: expected 1 to 128 ASCII letters and digits")]
    InvalidKeyPairId(String),
    /// The key is held in KMS: there is no private half in the process to load.
    #[error("the key is held in KMS; its private half never enters the process")]
    NotInProcess,
}

/// Why a policy, URL or cookie set could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    /// The policy resource or URL contains something CloudFront cannot match byte for byte.
    #[error("invalid resource: {0}")]
    InvalidResource(&'static str),
    /// The URL to sign is not an absolute http(s) URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(&'static str),
    /// The URL already carries a query parameter CloudFront reserves for signatures.
    #[error("the URL already has a {0:?} query parameter, which CloudFront reserves for signatures")]
    ReservedParameter(String),
    /// `DateGreaterThan` must come before `DateLessThan`.
    #[error("the start time {start} is not before the expiry {expiry}")]
    StartNotBeforeExpiry {
        /// The requested `DateGreaterThan`.
        start: u64,
        /// The requested `DateLessThan`.
        expiry: u64,
    },
    /// CloudFront epoch times are signed 64-bit integers.
    #[error("time {0} is beyond what CloudFront accepts (at most {max})", max = i64::MAX)]
    TimeOutOfRange(u64),
    /// The `IpAddress` condition is not an IPv4 address or CIDR block.
    #[error("invalid IP address or CIDR {0:?}")]
    InvalidIp(String),
    /// CloudFront's `IpAddress` condition takes IPv4 only.
    #[error("{0:?} is IPv6; CloudFront's IpAddress condition accepts IPv4 addresses and CIDR blocks only")]
    Ipv6NotSupported(String),
    /// The cryptographic backend failed; this does not happen with a key that loaded.
    #[error("the signing backend failed")]
    Backend,
}
