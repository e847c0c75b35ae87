//! Signing keys on disk: generating a key pair CloudFront accepts, and writing key files that never
//! replace an existing one.

use std::io::Write;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::signing::KeyKind;

/// The private key file [`write_pair`] writes.
pub const PRIVATE_KEY_FILE: &str = "cdn-private.pem";
/// The public key file [`write_pair`] writes.
pub const PUBLIC_KEY_FILE: &str = "cdn-public.pem";

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

/// Why [`write_pair`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    /// A key file is already there; keys are never overwritten.
    #[error("{} already exists; keys are never overwritten (move it away or choose another folder)", .0.display())]
    Exists(PathBuf),
    /// The key could not be generated.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// The folder or a file could not be written.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// `create` (the folder) or `write` (a file).
        what: &'static str,
        /// The folder or file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The files of a pair written by [`write_pair`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenPair {
    /// The private key, mode `0600`.
    pub private: PathBuf,
    /// The public key.
    pub public: PathBuf,
}

/// Generates a `kind` key pair into `dir` ([`PRIVATE_KEY_FILE`] and [`PUBLIC_KEY_FILE`]), creating the
/// folder owner-only if missing. Nothing is written when either file exists, and a private key is never
/// left without its public half.
pub fn write_pair(dir: &Path, kind: KeyKind) -> Result<WrittenPair, PairError> {
    create_owner_only_dir(dir).map_err(|source| PairError::Io {
        what: "create",
        path: dir.to_owned(),
        source,
    })?;
    let written = WrittenPair {
        private: dir.join(PRIVATE_KEY_FILE),
        public: dir.join(PUBLIC_KEY_FILE),
    };
    for path in [&written.private, &written.public] {
        if path.exists() {
            return Err(PairError::Exists(path.clone()));
        }
    }
    let pair = generate(kind)?;
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| PairError::Io {
            what: "write",
            path,
            source,
        }
    };
    write_private(&written.private, &pair.private_pem).map_err(write_error(&written.private))?;
    if let Err(error) = write_public(&written.public, &pair.public_pem) {
        // Nothing half-written: a private key without its public half would only be confusing.
        let _ = std::fs::remove_file(&written.private);
        return Err(write_error(&written.public)(error));
    }
    Ok(written)
}

/// Creates `dir` readable by its owner only when it does not exist; an existing folder is used as it is.
fn create_owner_only_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
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
