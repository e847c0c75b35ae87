//! Deterministic ECDSA P-256 signing (RFC 6979), DER-encoded as CloudFront expects.
//!
//! Determinism matters here: the signature memo returns stored signatures, and with RFC 6979 a stored
//! signature is byte-identical to a fresh one, on every instance of the service.
//!
//! Speed matters too, since every cache miss signs. Nearly all of an ECDSA signature's cost is the
//! base-point multiplication k·G, and AWS-LC's constant-time, table-driven P-256 code does it several
//! times faster than p256. So edgepass derives the nonce and does the scalar arithmetic exactly as
//! p256's `SigningKey` does (the same RFC 6979 generator, the same reductions, no low-S normalisation)
//! and asks AWS-LC only for k·G. The signatures are therefore p256's, byte for byte, which the tests check,
//! so a memoised signature equals a fresh one whichever of the two computed it.

use aws_lc_rs::agreement;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Curve;
use p256::elliptic_curve::ff::PrimeField;
use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::point::AffineCoordinates;
use p256::{FieldBytes, NistP256, NonZeroScalar, ProjectivePoint, Scalar, U256};
use rfc6979::KGenerator;
use sha1::Sha1;
use sha2::digest::block_api::BlockSizeUser;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::HashAlgorithm;
use super::error::KeyError;

/// A P-256 private key.
pub(crate) struct EcdsaPrivateKey {
    /// Kept as p256's key for its validation, its public point and its zeroisation on drop.
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
        let sha1;
        let sha256;
        let digest: &[u8] = match hash {
            HashAlgorithm::Sha1 => {
                sha1 = Sha1::digest(message);
                &sha1
            }
            HashAlgorithm::Sha256 => {
                sha256 = Sha256::digest(message);
                &sha256
            }
        };
        sign_prehashed(self.key.as_nonzero_scalar(), digest)
            .to_der()
            .as_bytes()
            .to_vec()
    }

    /// The public key as an uncompressed SEC1 point (`04 || x || y`).
    pub(crate) fn public_point(&self) -> Vec<u8> {
        self.key.verifying_key().to_sec1_point(false).as_bytes().to_vec()
    }
}

/// Signs a message digest exactly as p256's `SigningKey` does, so that a signature never depends on which
/// code made it.
///
/// p256 derives the nonce with HMAC-SHA-256 whatever hashed the message, so a SHA-1 signature is not the
/// one RFC 6979 lists (the RFC uses HMAC-SHA-1 there). It is as deterministic and as sound, and keeping it
/// keeps every SHA-1 signature edgepass issues equal to p256's.
fn sign_prehashed(d: &NonZeroScalar, digest: &[u8]) -> Signature {
    sign_prehashed_with::<Sha256>(d, digest)
}

/// ecdsa's `hazmat::sign_prehashed_rfc6979` for P-256 without additional data, `N` being the nonce's HMAC
/// hash; the tests also run it with RFC 6979's own choice, to check it against the RFC's SHA-1 vectors.
fn sign_prehashed_with<N: Digest + BlockSizeUser>(d: &NonZeroScalar, digest: &[u8]) -> Signature {
    let x = Zeroizing::new(d.to_repr());
    let z = bytes_to_scalar(digest);
    let mut nonces = KGenerator::<N, U256>::new(&x, digest, &[], &NistP256::ORDER);
    loop {
        let mut k_bytes = Zeroizing::new(FieldBytes::default());
        nonces.fill_next_k(&mut k_bytes);
        // The generator only yields 0 < k < n; the check keeps the loop identical to p256's all the same.
        let Some(k) = NonZeroScalar::from_repr(*k_bytes).into_option() else {
            continue;
        };
        let k = Zeroizing::new(k);
        let r = bytes_to_scalar(&base_point_x(&k, &k_bytes));
        let k_inv = Zeroizing::new(*Invert::invert(&*k));
        let s = *k_inv * (z + r * d.as_ref());
        // A zero r or s (probability about 2^-256) moves on to the next nonce, as RFC 6979 and p256 do.
        if let Ok(signature) = Signature::from_scalars(r, s) {
            return signature;
        }
    }
}

/// Big-endian bytes to a scalar: kept to the order's 32 bytes, zero-padded on the left, reduced mod n.
///
/// A 20-byte SHA-1 digest is thus its integer value, as p256's `bytes2scalar` makes it.
fn bytes_to_scalar(bytes: &[u8]) -> Scalar {
    let bytes = &bytes[..bytes.len().min(32)];
    <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice_truncated(bytes, 256))
}

/// The x coordinate of k·G, computed by AWS-LC.
///
/// For a nonce in range AWS-LC fails only if it cannot allocate; p256 then gives the same point, more
/// slowly, so signing never fails and its output never depends on which library computed k·G.
fn base_point_x(k: &NonZeroScalar, k_bytes: &FieldBytes) -> FieldBytes {
    aws_lc_base_point_x(k_bytes).unwrap_or_else(|| p256_base_point_x(k))
}

fn aws_lc_base_point_x(k_bytes: &FieldBytes) -> Option<FieldBytes> {
    let key = agreement::PrivateKey::from_private_key(&agreement::ECDH_P256, k_bytes).ok()?;
    let point = key.compute_public_key().ok()?;
    match point.as_ref() {
        [0x04, xy @ ..] if xy.len() == 64 => {
            let mut x = FieldBytes::default();
            x.copy_from_slice(&xy[..32]);
            Some(x)
        }
        _ => None,
    }
}

fn p256_base_point_x(k: &NonZeroScalar) -> FieldBytes {
    ProjectivePoint::mul_by_generator(k.as_ref()).to_affine().x()
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{self as lc, UnparsedPublicKey};
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    use p256::ecdsa::signature::{DigestSigner, SignatureEncoding};
    use proptest::prelude::*;

    use super::*;

    const RFC6979_KEY: &str = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("test hex"))
            .collect()
    }

    fn key(scalar: &[u8]) -> EcdsaPrivateKey {
        EcdsaPrivateKey::from_scalar_bytes(scalar).expect("test key")
    }

    /// What p256's own `SigningKey` produces, which edgepass's signatures must equal byte for byte.
    fn reference(key: &EcdsaPrivateKey, hash: HashAlgorithm, message: &[u8]) -> Vec<u8> {
        let signature: Signature = match hash {
            HashAlgorithm::Sha1 => key.key.sign_digest(|d: &mut Sha1| d.update(message)),
            HashAlgorithm::Sha256 => key.key.sign_digest(|d: &mut Sha256| d.update(message)),
        };
        signature.to_der().to_vec()
    }

    fn verifies(key: &EcdsaPrivateKey, hash: HashAlgorithm, message: &[u8], signature: &[u8]) -> bool {
        let algorithm = match hash {
            HashAlgorithm::Sha1 => &lc::ECDSA_P256_SHA1_ASN1,
            HashAlgorithm::Sha256 => &lc::ECDSA_P256_SHA256_ASN1,
        };
        UnparsedPublicKey::new(algorithm, key.public_point())
            .verify(message, signature)
            .is_ok()
    }

    fn valid_scalar() -> impl Strategy<Value = [u8; 32]> {
        any::<[u8; 32]>().prop_filter("a P-256 private scalar", |b| SigningKey::from_slice(b).is_ok())
    }

    fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    fn r_and_s(der: &[u8]) -> (String, String) {
        let (r, s) = Signature::from_der(der).expect("DER signature").split_bytes();
        (to_hex(&r), to_hex(&s))
    }

    /// RFC 6979 A.2.5 (P-256, SHA-256): these are exactly the signatures edgepass issues.
    #[test]
    fn rfc6979_sha256_vectors() {
        let key = key(&hex(RFC6979_KEY));
        let cases = [
            (
                "sample",
                "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
            ),
            (
                "test",
                "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
                "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
            ),
        ];
        for (message, r, s) in cases {
            let der = key.sign(HashAlgorithm::Sha256, message.as_bytes());
            assert_eq!(r_and_s(&der), (r.to_owned(), s.to_owned()), "{message:?}");
            assert!(
                verifies(&key, HashAlgorithm::Sha256, message.as_bytes(), &der),
                "{message:?}"
            );
        }
    }

    /// RFC 6979 A.2.5 (P-256, SHA-1). The RFC derives these nonces with HMAC-SHA-1, where p256 and edgepass
    /// use HMAC-SHA-256; with the RFC's choice, the rest (a 20-byte digest as nonce input and as z) must
    /// give the RFC's signatures.
    #[test]
    fn rfc6979_sha1_vectors_with_the_rfcs_nonce_hash() {
        let key = key(&hex(RFC6979_KEY));
        let cases = [
            (
                "sample",
                "61340C88C3AAEBEB4F6D667F672CA9759A6CCAA9FA8811313039EE4A35471D32",
                "6D7F147DAC089441BB2E2FE8F7A3FA264B9C475098FDCF6E00D7C996E1B8B7EB",
            ),
            (
                "test",
                "0CBCC86FD6ABD1D99E703E1EC50069EE5C0B4BA4B9AC60E409E8EC5910D81A89",
                "01B9D7B73DFAA60D5651EC4591A0136F87653E0FD780C3B1BC872FFDEAE479B1",
            ),
        ];
        for (message, r, s) in cases {
            let digest = Sha1::digest(message.as_bytes());
            let der = sign_prehashed_with::<Sha1>(key.key.as_nonzero_scalar(), &digest).to_der();
            assert_eq!(
                r_and_s(der.as_bytes()),
                (r.to_owned(), s.to_owned()),
                "{message:?}"
            );
            assert!(
                verifies(&key, HashAlgorithm::Sha1, message.as_bytes(), der.as_bytes()),
                "{message:?}"
            );
        }
    }

    /// edgepass's own SHA-1 signatures for the RFC's key, pinned so that no upgrade changes them unnoticed:
    /// memoised and already-issued signatures must stay what a fresh signature is.
    #[test]
    fn sha1_signatures_are_stable() {
        let key = key(&hex(RFC6979_KEY));
        let cases = [
            (
                "sample",
                concat!(
                    "3045",
                    "0220",
                    "3EB8DDC0AC1950F0B92A1456308BC78543A8A76FEE7E30CB95DD85EC5C92A6A6",
                    "022100",
                    "D959BAE95C09890E31B848DA6ACB2B43E78CA545858900B67743EF3650061EF6",
                ),
            ),
            (
                "test",
                concat!(
                    "3045",
                    "022100",
                    "ABA05BCACF26386CAD3C3C0A87BF5E5915C8B77C1404E0B8DAB246125B0588F5",
                    "0220",
                    "3427E387A5DD6C15A24276A8FE596F51DE8CD0BE9A3ED64374ACAEFD0F4E84E6",
                ),
            ),
        ];
        for (message, der) in cases {
            let bytes = message.as_bytes();
            assert_eq!(
                to_hex(&reference(&key, HashAlgorithm::Sha1, bytes)),
                der,
                "p256, {message:?}"
            );
            assert_eq!(
                to_hex(&key.sign(HashAlgorithm::Sha1, bytes)),
                der,
                "edgepass, {message:?}"
            );
        }
    }

    #[test]
    fn rfc6979_public_key() {
        let point = key(&hex(RFC6979_KEY)).public_point();
        let expected = [
            "04",
            "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6",
            "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299",
        ]
        .concat();
        assert_eq!(point, hex(&expected));
    }

    /// Digests at and above the group order take the reduction paths that real digests almost never do.
    #[test]
    fn digests_at_the_edges_of_the_order() {
        let key = key(&hex(RFC6979_KEY));
        let order = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
        let order_plus_one = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632552");
        let digests: [&[u8]; 6] = [
            &[0; 32],
            &[0xFF; 32],
            &order,
            &order_plus_one,
            &[0; 20],
            &[0xFF; 20],
        ];
        for digest in digests {
            let expected: Signature = key.key.sign_prehash(digest).expect("p256 signature");
            assert_eq!(
                sign_prehashed(key.key.as_nonzero_scalar(), digest),
                expected,
                "{digest:02x?}"
            );
        }
    }

    #[test]
    fn small_and_large_nonces_give_the_same_point_in_both_libraries() {
        let order_minus_one = *NistP256::ORDER.as_ref() - U256::ONE;
        for k in [
            U256::ONE,
            U256::from_u64(2),
            U256::from_u64(0xFFFF),
            order_minus_one,
        ] {
            let k_bytes = FieldBytes::from(k.to_be_bytes());
            let scalar = NonZeroScalar::from_repr(k_bytes).expect("nonzero scalar");
            assert_eq!(
                aws_lc_base_point_x(&k_bytes),
                Some(p256_base_point_x(&scalar)),
                "{k}"
            );
        }
    }

    proptest! {
        #[test]
        fn matches_p256_signing_key(
            scalar in valid_scalar(),
            message in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let key = key(&scalar);
            for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
                let signature = key.sign(hash, &message);
                prop_assert_eq!(&signature, &reference(&key, hash, &message), "{}", hash);
                prop_assert!(verifies(&key, hash, &message, &signature), "{}", hash);
            }
        }

        #[test]
        fn matches_p256_for_any_prehash(
            scalar in valid_scalar(),
            digest in prop_oneof![
                proptest::collection::vec(any::<u8>(), 20),
                proptest::collection::vec(any::<u8>(), 32),
            ],
        ) {
            let key = key(&scalar);
            let expected: Signature = key.key.sign_prehash(&digest).expect("p256 signature");
            prop_assert_eq!(sign_prehashed(key.key.as_nonzero_scalar(), &digest), expected);
        }

        #[test]
        fn aws_lc_and_p256_agree_on_k_times_g(scalar in valid_scalar()) {
            let k_bytes = FieldBytes::from(scalar);
            let k = NonZeroScalar::from_repr(k_bytes).expect("nonzero scalar");
            prop_assert_eq!(aws_lc_base_point_x(&k_bytes), Some(p256_base_point_x(&k)));
        }
    }
}
