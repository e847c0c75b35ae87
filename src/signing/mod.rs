//! The CloudFront signing core: policies, keys, signed URLs and cookies, and their verifier.
//!
//! Everything here is pure: no I/O, no clock, no environment. Callers pass the time and the keys in.
//! The exact rules it follows are CloudFront's, as documented for signed URLs and signed cookies.

// The one part of the library used on its own (by the command line, the fuzz crate and the reference
// cross-checks), so every public item says what it promises.
#![warn(missing_docs)]

mod cookies;
mod ecdsa;
pub mod encoding;
mod error;
mod key;
mod keyring;
mod memo;
mod pem;
mod policy;
mod rsa;
mod signer;
mod url;
mod verify;
mod wildcard;

use std::fmt;
use std::str::FromStr;

pub use cookies::{CookieAttributes, SameSite, SignedCookies};
pub use error::{KeyError, SignError};
pub use key::{KeyKind, KeyPairId, SigningKey, VerifyingKey};
pub use keyring::{KeyLookup, KeyRing, KeyRingError};
pub use memo::{ExpiryWindow, MemoStats, SignatureMemo};
pub(crate) use pem::first_block as first_pem_block;
pub use policy::{Policy, SourceIp};
pub use signer::{RemoteSigner, Signer};
pub use url::RESERVED_QUERY_PARAMETERS;
pub use verify::{
    Denial, Grant, Presented, SignatureSource, ViewerRequest, presented, verify, verify_assuming_hash,
};
pub use wildcard::resource_matches;

/// The hash CloudFront applies to the policy before checking the signature.
///
/// Without a `Hash-Algorithm` parameter (or `CloudFront-Hash-Algorithm` cookie) CloudFront assumes SHA-1,
/// for RSA and ECDSA keys alike.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-1, CloudFront's default.
    #[default]
    Sha1,
    /// SHA-256, announced with `Hash-Algorithm=SHA256`.
    Sha256,
}

impl HashAlgorithm {
    /// The value CloudFront expects in `Hash-Algorithm` (`SHA1` or `SHA256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not `SHA1` or `SHA256`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown hash algorithm {0:?}: expected SHA1 or SHA256")]
pub struct UnknownHashAlgorithm(pub String);

impl FromStr for HashAlgorithm {
    type Err = UnknownHashAlgorithm;

    /// Accepts exactly CloudFront's spellings, `SHA1` and `SHA256`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            other => Err(UnknownHashAlgorithm(other.to_owned())),
        }
    }
}
