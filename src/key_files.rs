//! Signing keys on disk: generating a key pair CloudFront accepts, and writing key files that never
//! replace an existing one.

use std::io::Write;
use std::path::Path;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::signing::KeyKind;

/// The key generator of the crypto library failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot generate a {0} key")]
pub struct GenerateError(KeyKind);

/// A freshly generated key pair as PEM text.
pub struct KeyPairPem {
    /// The private key as PKCS#8 PEM; wiped from memory when dropped.
    pub private_pem: Zeroizing<String>,
    /// The public key, SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`), the form CloudFront's CreatePublicKey takes.
    pub public_pem: String,
}

/// Wraps DER bytes in a PEM block with 64-character lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).unwrap_or_default());
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// Generates an RSA-2048 or ECDSA P-256 key pair from the system's random source.
pub fn generate(kind: KeyKind) -> Result<KeyPairPem, GenerateError> {
    let failed = |_| GenerateError(kind);
    let (private_der, public_der) = match kind {
        KeyKind::EcdsaP256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(failed)?;
            let private = pair.to_pkcs8v1().map_err(failed)?;
            let public = pair.public_key().as_der().map_err(failed)?;
            (
                Zeroizing::new(private.as_ref().to_vec()),
                public.as_ref().to_vec(),
            )
        }
        KeyKind::Rsa2048 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
            let private = pair.as_der().map_err(failed)?;
            let public = pair.public_key().as_der().map_err(failed)?;
            (
                Zeroizing::new(private.as_ref().to_vec()),
                public.as_ref().to_vec(),
            )
        }
    };
    Ok(KeyPairPem {
        private_pem: Zeroizing::new(pem("PRIVATE KEY", &private_der)),
        public_pem: pem("PUBLIC KEY", &public_der),
    })
}

/// Writes `contents` to a new file readable and writable by its owner only. The file is created with
/// that mode (never widened first and narrowed after), and an existing file is an error, never replaced.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    write_new(path, contents, 0o600)
}

/// Writes `contents` to a new file readable by everyone (`0644`); an existing file is an error.
pub fn write_public(path: &Path, contents: &str) -> std::io::Result<()> {
    write_new(path, contents, 0o644)
}

fn write_new(path: &Path, contents: &str, mode: u32) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{HashAlgorithm, KeyPairId, SigningKey, VerifyingKey};

    #[test]
    fn generated_pairs_load_and_their_public_half_verifies_their_signatures() {
        for kind in [KeyKind::EcdsaP256, KeyKind::Rsa2048] {
            let pair = generate(kind).expect("generate");
            let id = KeyPairId::parse("KGENERATED").expect("id");
            let signing = SigningKey::from_pem(id.clone(), &pair.private_pem).expect("private key loads");
            assert_eq!(signing.kind(), kind);
            let verifying = VerifyingKey::from_pem(id, &pair.public_pem).expect("public key loads");
            assert_eq!(verifying.kind(), kind);
            for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
                let signature = signing.sign(hash, b"policy").expect("sign");
                assert!(verifying.verify(hash, b"policy", &signature), "{kind} {hash}");
                assert!(!verifying.verify(hash, b"policy!", &signature), "{kind} {hash}");
            }
        }
    }

    #[test]
    fn key_files_are_never_replaced_and_private_ones_are_owner_only() {
        let dir = tempfile::tempdir().expect("dir");
        let private = dir.path().join("private.pem");
        write_private(&private, "first").expect("write");
        let again = write_private(&private, "second").expect_err("exists");
        assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read_to_string(&private).expect("read"), "first");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&private), 0o600);
            let public = dir.path().join("public.pem");
            write_public(&public, "pub").expect("write");
            // The process umask may narrow 0644 but never widen it.
            assert_eq!(mode(&public) & !0o644, 0);
        }
    }
}
