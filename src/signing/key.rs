//! CloudFront signing keys: key-pair ids, private keys from PEM, and public keys for verification.

use std::fmt;

use aws_lc_rs::signature::{self as lc, ParsedPublicKey};
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, UintRef};
use der::{Decode, Encode, Sequence};
use pkcs8::spki::AlgorithmIdentifierRef;
use pkcs8::{PrivateKeyInfoRef, SubjectPublicKeyInfoRef};
use zeroize::Zeroizing;

use super::HashAlgorithm;
use super::ecdsa::EcdsaPrivateKey;
use super::error::{KeyError, SignError};
use super::pem;
use super::rsa::RsaPrivateKey;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// The id CloudFront gives a public key (`K2JCJMDEHXQW5F`); it travels as `Key-Pair-Id`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPairId(String);

impl KeyPairId {
    /// Accepts 1 to 128 ASCII letters and digits, as CloudFront ids (and legacy `APKA…` ids) are.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let valid = !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_alphanumeric());
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(KeyError::InvalidKeyPairId(text.to_owned()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyPairId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyPairId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// The two key types CloudFront key groups accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// RSA with a 2048-bit modulus; PKCS#1 v1.5 signatures.
    Rsa2048,
    /// ECDSA on NIST P-256; DER signatures.
    EcdsaP256,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rsa2048 => "RSA-2048",
            Self::EcdsaP256 => "ECDSA-P256",
        })
    }
}

enum PrivateKey {
    Rsa(RsaPrivateKey),
    Ecdsa(EcdsaPrivateKey),
}

/// A private key together with the CloudFront key-pair id of its public half.
///
/// `Debug` shows the id and the key type only, never key material.
pub struct SigningKey {
    key_pair_id: KeyPairId,
    key: PrivateKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_pair_id", &self.key_pair_id)
            .field("kind", &self.kind())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads an RSA-2048 (PKCS#1 or PKCS#8) or ECDSA P-256 (SEC1 or PKCS#8) private key from PEM text.
    ///
    /// Encrypted keys, other RSA sizes, other curves and other algorithms are refused with an error
    /// that says which.
    pub fn from_pem(key_pair_id: KeyPairId, pem_text: &str) -> Result<Self, KeyError> {
        let block = pem::first_block(pem_text)?;
        let der = Zeroizing::new(block.der);
        let key = match block.label.as_str() {
            "RSA PRIVATE KEY" => PrivateKey::Rsa(RsaPrivateKey::from_pkcs1_der(&der)?),
            "EC PRIVATE KEY" => PrivateKey::Ecdsa(ecdsa_from_sec1(&der, None)?),
            "PRIVATE KEY" => from_pkcs8(&der)?,
            other => {
                return Err(KeyError::UnsupportedLabel(format!(
                    "{other:?}; expected a private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)"
                )));
            }
        };
        Ok(Self { key_pair_id, key })
    }

    /// The CloudFront id of this key's public half.
    pub fn key_pair_id(&self) -> &KeyPairId {
        &self.key_pair_id
    }

    /// RSA-2048 or ECDSA P-256.
    pub fn kind(&self) -> KeyKind {
        match self.key {
            PrivateKey::Rsa(_) => KeyKind::Rsa2048,
            PrivateKey::Ecdsa(_) => KeyKind::EcdsaP256,
        }
    }

    /// Signs `message` (policy JSON bytes) with this key over `hash`.
    ///
    /// Both algorithms are deterministic: the same key, hash and message always give the same bytes.
    pub fn sign(&self, hash: HashAlgorithm, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.key {
            PrivateKey::Rsa(key) => key.sign(hash, message),
            PrivateKey::Ecdsa(key) => Ok(key.sign(hash, message)),
        }
    }

    /// The public half, for verifying this key's signatures.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let public = match &self.key {
            PrivateKey::Rsa(key) => key.public_key_der()?,
            PrivateKey::Ecdsa(key) => key.public_point(),
        };
        VerifyingKey::from_public_bytes(self.key_pair_id.clone(), self.kind(), &public)
    }

    /// The public half as SubjectPublicKeyInfo DER: the body of a `-----BEGIN PUBLIC KEY-----` file,
    /// the form [`VerifyingKey::from_pem`] and CloudFront's CreatePublicKey take.
    pub fn public_key_der(&self) -> Result<Vec<u8>, KeyError> {
        let (oid, parameters, public) = match &self.key {
            PrivateKey::Rsa(key) => (RSA_ENCRYPTION, AnyRef::NULL, key.public_key_der()?),
            PrivateKey::Ecdsa(key) => (EC_PUBLIC_KEY, AnyRef::from(&PRIME256V1), key.public_point()),
        };
        let cannot = |_| KeyError::MalformedKey("cannot encode the public key");
        SubjectPublicKeyInfoRef {
            algorithm: AlgorithmIdentifierRef {
                oid,
                parameters: Some(parameters),
            },
            subject_public_key: BitStringRef::from_bytes(&public).map_err(cannot)?,
        }
        .to_der()
        .map_err(cannot)
    }
}

fn from_pkcs8(der: &[u8]) -> Result<PrivateKey, KeyError> {
    let info =
        PrivateKeyInfoRef::from_der(der).map_err(|_| KeyError::MalformedKey("not a PKCS#8 private key"))?;
    let inner = info.private_key.as_bytes();
    if info.algorithm.oid == RSA_ENCRYPTION {
        Ok(PrivateKey::Rsa(RsaPrivateKey::from_pkcs1_der(inner)?))
    } else if info.algorithm.oid == EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters_oid()
            .map_err(|_| KeyError::MalformedKey("EC key without a named curve"))?;
        Ok(PrivateKey::Ecdsa(ecdsa_from_sec1(inner, Some(curve))?))
    } else {
        Err(KeyError::UnsupportedAlgorithm(algorithm_name(info.algorithm.oid)))
    }
}

/// Parses a SEC1 `ECPrivateKey`; `outer_curve` is the curve named by an enclosing PKCS#8 structure.
fn ecdsa_from_sec1(der: &[u8], outer_curve: Option<ObjectIdentifier>) -> Result<EcdsaPrivateKey, KeyError> {
    let key =
        sec1::EcPrivateKey::from_der(der).map_err(|_| KeyError::MalformedKey("not a SEC1 EC private key"))?;
    let curve = outer_curve
        .or_else(|| key.parameters.and_then(|p| p.named_curve()))
        .ok_or(KeyError::MalformedKey("EC key without a named curve"))?;
    if curve != PRIME256V1 {
        return Err(KeyError::UnsupportedCurve(curve_name(curve)));
    }
    EcdsaPrivateKey::from_scalar_bytes(key.private_key)
}

fn curve_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.132.0.34" => "secp384r1 (P-384)".to_owned(),
        "1.3.132.0.35" => "secp521r1 (P-521)".to_owned(),
        "1.3.132.0.10" => "secp256k1".to_owned(),
        other => other.to_owned(),
    }
}

fn algorithm_name(oid: ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.101.112" => "Ed25519".to_owned(),
        "1.3.101.113" => "Ed448".to_owned(),
        "1.2.840.10040.4.1" => "DSA".to_owned(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".to_owned(),
        other => other.to_owned(),
    }
}

/// A PKCS#1 `RSAPublicKey`, read only to learn the modulus size.
#[derive(Sequence)]
struct RsaPublicKeyDer<'a> {
    modulus: UintRef<'a>,
    _public_exponent: UintRef<'a>,
}

/// A public key trusted for verification, with the key-pair id CloudFront knows it by.
pub struct VerifyingKey {
    key_pair_id: KeyPairId,
    kind: KeyKind,
    sha1: ParsedPublicKey,
    sha256: ParsedPublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("key_pair_id", &self.key_pair_id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Loads a `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) PEM, the form CloudFront stores.
    pub fn from_pem(key_pair_id: KeyPairId, pem_text: &str) -> Result<Self, KeyError> {
        let block = pem::first_block(pem_text)?;
        if block.label != "PUBLIC KEY" {
            return Err(KeyError::UnsupportedLabel(format!(
                "{:?}; expected a public key (PUBLIC KEY)",
                block.label
            )));
        }
        Self::from_spki_der(key_pair_id, &block.der)
    }

    /// Loads a DER SubjectPublicKeyInfo, the form KMS's GetPublicKey returns.
    pub fn from_spki_der(key_pair_id: KeyPairId, der: &[u8]) -> Result<Self, KeyError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|_| KeyError::MalformedKey("not a SubjectPublicKeyInfo public key"))?;
        let key_bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or(KeyError::MalformedKey("public key bit string is not whole bytes"))?;
        let kind = if spki.algorithm.oid == RSA_ENCRYPTION {
            KeyKind::Rsa2048
        } else if spki.algorithm.oid == EC_PUBLIC_KEY {
            let curve = spki
                .algorithm
                .parameters_oid()
                .map_err(|_| KeyError::MalformedKey("EC key without a named curve"))?;
            if curve != PRIME256V1 {
                return Err(KeyError::UnsupportedCurve(curve_name(curve)));
            }
            KeyKind::EcdsaP256
        } else {
            return Err(KeyError::UnsupportedAlgorithm(algorithm_name(spki.algorithm.oid)));
        };
        Self::from_public_bytes(key_pair_id, kind, key_bytes)
    }

    /// Loads a public key as [`Self::from_pem`] does, or takes the public half of a private key
    /// ([`SigningKey::from_pem`]'s forms), so that a check can be pointed at whichever file is at hand,
    /// such as local mode's generated key.
    pub fn from_public_or_private_pem(key_pair_id: KeyPairId, pem_text: &str) -> Result<Self, KeyError> {
        let block = pem::first_block(pem_text)?;
        // The body may be a private key: wiped, like every other copy of one.
        drop(Zeroizing::new(block.der));
        match block.label.as_str() {
            "PUBLIC KEY" => Self::from_pem(key_pair_id, pem_text),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "PRIVATE KEY" => {
                SigningKey::from_pem(key_pair_id, pem_text)?.verifying_key()
            }
            other => Err(KeyError::UnsupportedLabel(format!(
                "{other:?}; expected a public key (PUBLIC KEY) or a private key (RSA PRIVATE KEY, EC PRIVATE \
                 KEY or PRIVATE KEY)"
            ))),
        }
    }

    /// Builds a key from a PKCS#1 `RSAPublicKey` (RSA) or an uncompressed SEC1 point (ECDSA).
    fn from_public_bytes(key_pair_id: KeyPairId, kind: KeyKind, bytes: &[u8]) -> Result<Self, KeyError> {
        let (sha1_alg, sha256_alg): (
            &'static dyn lc::VerificationAlgorithm,
            &'static dyn lc::VerificationAlgorithm,
        ) = match kind {
            KeyKind::Rsa2048 => {
                let der = RsaPublicKeyDer::from_der(bytes)
                    .map_err(|_| KeyError::MalformedKey("not an RSA public key"))?;
                let modulus = der.modulus.as_bytes();
                let bits = (modulus.len() * 8) as u32 - modulus.first().map_or(8, |b| b.leading_zeros());
                if bits != 2048 {
                    return Err(KeyError::RsaKeySize(bits));
                }
                (
                    &lc::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
                    &lc::RSA_PKCS1_2048_8192_SHA256,
                )
            }
            KeyKind::EcdsaP256 => (&lc::ECDSA_P256_SHA1_ASN1, &lc::ECDSA_P256_SHA256_ASN1),
        };
        let parse =
            |alg| ParsedPublicKey::new(alg, bytes).map_err(|_| KeyError::MalformedKey("public key rejected"));
        Ok(Self {
            key_pair_id,
            kind,
            sha1: parse(sha1_alg)?,
            sha256: parse(sha256_alg)?,
        })
    }

    /// The CloudFront id of this key.
    pub fn key_pair_id(&self) -> &KeyPairId {
        &self.key_pair_id
    }

    /// RSA-2048 or ECDSA P-256.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Whether `signature` is this key's signature of `message` over `hash`.
    pub fn verify(&self, hash: HashAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        let key = match hash {
            HashAlgorithm::Sha1 => &self.sha1,
            HashAlgorithm::Sha256 => &self.sha256,
        };
        key.verify_sig(message, signature).is_ok()
    }
}
