//! Deterministic ECDSA P-256 signing (RFC 6979), DER-encoded as CloudFront expects.
//!
//! Determinism matters here: the signature memo returns stored signatures, and with RFC 6979 a stored
//! signature is byte-identical to a fresh one, on every instance of the service.

use p256::ecdsa::signature::DigestSigner;
use p256::ecdsa::{Signature, SigningKey};
use sha1::Sha1;
use sha2::Sha256;
use sha2::digest::Update;

use super::HashAlgorithm;
use super::error::KeyError;

/// A P-256 private key.
pub(crate) struct EcdsaPrivateKey {
    key: SigningKey,
}

impl EcdsaPrivateKey {
    /// Builds a key from the 32-byte big-endian private scalar.
    pub(crate) fn from_scalar_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let key = SigningKey::from_slice(bytes)
            .map_err(|_| KeyError::MalformedKey("not a valid P-256 private scalar"))?;
        Ok(Self { key })
    }

    /// Signs `message` over the given hash; the result is an ASN.1 DER `SEQUENCE { r, s }`.
    pub(crate) fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> Vec<u8> {
        let signature: Signature = match hash {
            HashAlgorithm::Sha1 => self.key.sign_digest(|d: &mut Sha1| d.update(message)),
            HashAlgorithm::Sha256 => self.key.sign_digest(|d: &mut Sha256| d.update(message)),
        };
        signature.to_der().as_bytes().to_vec()
    }

    /// The public key as an uncompressed SEC1 point (`04 || x || y`).
    pub(crate) fn public_point(&self) -> Vec<u8> {
        self.key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
    }
}
