//! The signing key of local mode: generated on first start and kept in the data folder.

use std::path::{Path, PathBuf};

use crate::config::CdnAlgorithm;
use crate::keys::files;
use crate::signing::{KeyError, KeyKind, KeyPairId, SigningKey, VerifyingKey};

/// The key file inside the data folder.
const KEY_FILE: &str = "cdn-signing-key.pem";
/// The key-pair id file inside the data folder.
const ID_FILE: &str = "cdn-key-pair-id";
/// The public half of the key, beside it, for `edgepass verify --public-key ID=FILE`.
pub const PUBLIC_KEY_FILE: &str = "cdn-public.pem";

/// Why the local key could not be provided.
#[derive(Debug, thiserror::Error)]
pub enum LocalKeyError {
    /// Reading or writing the data folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The stored key does not load.
    #[error("{path}: {source}")]
    Key {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: KeyError,
    },
    /// The stored key is of the other type than the configured algorithm needs.
    #[error(
        "EDGEPASS_CDN_ALGORITHM asks for {wanted} but {path} holds a {found} key; remove it to make a new one"
    )]
    WrongKind {
        /// The file.
        path: PathBuf,
        /// The type the algorithm needs.
        wanted: KeyKind,
        /// The type on disk.
        found: KeyKind,
    },
    /// Key generation failed.
    #[error("cannot generate a signing key")]
    Generate,
}

/// The local key and whether it was made just now.
pub struct LocalKey {
    /// The key.
    pub key: SigningKey,
    /// Where it is kept.
    pub path: PathBuf,
    /// Where its public half is kept.
    pub public_path: PathBuf,
    /// Whether this start created it.
    pub generated: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LocalKeyError + '_ {
    move |source| LocalKeyError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Loads the key kept in `data_dir`, or generates one (ECDSA P-256 unless an RSA algorithm is configured).
pub fn load_or_generate(data_dir: &Path, algorithm: Option<CdnAlgorithm>) -> Result<LocalKey, LocalKeyError> {
    let wanted = match algorithm {
        Some(CdnAlgorithm::RsaSha1 | CdnAlgorithm::RsaSha256) => KeyKind::Rsa2048,
        Some(CdnAlgorithm::EcdsaSha256) | None => KeyKind::EcdsaP256,
    };
    let key_path = data_dir.join(KEY_FILE);
    let id_path = data_dir.join(ID_FILE);
    super::data_dir::prepare(data_dir).map_err(io(data_dir))?;
    let generated = !key_path.exists();
    if generated {
        let pair = files::generate(wanted).map_err(|_| LocalKeyError::Generate)?;
        // The id only has to be unique among the keys a deployment trusts; a random suffix suffices.
        let mut suffix = [0u8; 6];
        aws_lc_rs::rand::fill(&mut suffix).map_err(|_| LocalKeyError::Generate)?;
        let id: String = format!(
            "KLOCAL{}",
            suffix.iter().map(|b| format!("{b:02X}")).collect::<String>()
        );
        files::write_private(&key_path, &pair.private_pem).map_err(io(&key_path))?;
        std::fs::write(&id_path, &id).map_err(io(&id_path))?;
        super::data_dir::restrict_file(&id_path).map_err(io(&id_path))?;
    }
    let id_text = std::fs::read_to_string(&id_path).map_err(io(&id_path))?;
    let id = KeyPairId::parse(id_text.trim()).map_err(|source| LocalKeyError::Key {
        path: id_path.clone(),
        source,
    })?;
    let pem_text = std::fs::read_to_string(&key_path).map_err(io(&key_path))?;
    let key = SigningKey::from_pem(id, &pem_text).map_err(|source| LocalKeyError::Key {
        path: key_path.clone(),
        source,
    })?;
    if algorithm.is_some() && key.kind() != wanted {
        return Err(LocalKeyError::WrongKind {
            path: key_path,
            wanted,
            found: key.kind(),
        });
    }
    let public_path = data_dir.join(PUBLIC_KEY_FILE);
    write_public_half(&public_path, &key)?;
    Ok(LocalKey {
        key,
        path: key_path,
        public_path,
        generated,
    })
}

/// The public half of the key kept in `data_dir`, read without making one: `None` when the folder holds
/// no key yet. For tools that check what the service signed (`edgepass explain`).
pub fn load_public(data_dir: &Path) -> Result<Option<VerifyingKey>, LocalKeyError> {
    let id_path = data_dir.join(ID_FILE);
    let id_text = match std::fs::read_to_string(&id_path) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        other => other.map_err(io(&id_path))?,
    };
    let id = KeyPairId::parse(id_text.trim()).map_err(|source| LocalKeyError::Key {
        path: id_path.clone(),
        source,
    })?;
    // A folder from before the public half was kept beside the key has only the private key.
    let public_path = data_dir.join(PUBLIC_KEY_FILE);
    let path = if public_path.exists() {
        public_path
    } else {
        data_dir.join(KEY_FILE)
    };
    let pem = std::fs::read_to_string(&path).map_err(io(&path))?;
    VerifyingKey::from_public_or_private_pem(id, &pem)
        .map(Some)
        .map_err(|source| LocalKeyError::Key { path, source })
}

/// Keeps `path` holding `key`'s public half (SubjectPublicKeyInfo PEM), owner-only like everything in the
/// data folder. Folders made before this file existed get it, and a key made again gets a new one.
fn write_public_half(path: &Path, key: &SigningKey) -> Result<(), LocalKeyError> {
    let der = key.public_key_der().map_err(|source| LocalKeyError::Key {
        path: path.to_owned(),
        source,
    })?;
    let pem = files::pem("PUBLIC KEY", &der);
    if std::fs::read_to_string(path).is_ok_and(|current| current == pem) {
        return crate::local::data_dir::restrict_file(path).map_err(io(path));
    }
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(io(path)(error)),
        _ => {}
    }
    files::write_private(path, &pem).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{HashAlgorithm, VerifyingKey};

    #[test]
    fn a_key_is_generated_once_and_then_reused() {
        let dir = tempfile::tempdir().expect("dir");
        let first = load_or_generate(dir.path(), None).expect("first");
        assert!(first.generated);
        assert_eq!(first.key.kind(), KeyKind::EcdsaP256);
        let second = load_or_generate(dir.path(), None).expect("second");
        assert!(!second.generated);
        assert_eq!(first.key.key_pair_id(), second.key.key_pair_id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&first.path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(&first.public_path)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o777,
                0o600,
                "owner-only, as everything in the data folder"
            );
        }
        let public = std::fs::read_to_string(&first.public_path).expect("the public half is written");
        let verifying = VerifyingKey::from_pem(first.key.key_pair_id().clone(), &public).expect("loads");
        let signature = first.key.sign(HashAlgorithm::Sha256, b"policy").expect("sign");
        assert!(verifying.verify(HashAlgorithm::Sha256, b"policy", &signature));
        let wrong = load_or_generate(dir.path(), Some(CdnAlgorithm::RsaSha1));
        assert!(matches!(wrong, Err(LocalKeyError::WrongKind { .. })));
    }

    #[test]
    fn the_public_half_is_read_without_making_a_key() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(load_public(dir.path()).expect("reads").is_none());
        assert!(!dir.path().join(KEY_FILE).exists(), "reading made no key");
        let local = load_or_generate(dir.path(), None).expect("key");
        let public = load_public(dir.path()).expect("reads").expect("a key");
        assert_eq!(public.key_pair_id(), local.key.key_pair_id());
        std::fs::remove_file(&local.public_path).expect("remove");
        let from_private = load_public(dir.path()).expect("reads").expect("a key");
        let signature = local.key.sign(HashAlgorithm::Sha256, b"policy").expect("sign");
        assert!(from_private.verify(HashAlgorithm::Sha256, b"policy", &signature));
    }

    #[test]
    fn a_missing_or_stale_public_half_is_written_again() {
        let dir = tempfile::tempdir().expect("dir");
        let first = load_or_generate(dir.path(), None).expect("first");
        let written = std::fs::read_to_string(&first.public_path).expect("public half");
        // A data folder from before the public half was kept, then one holding another key's.
        std::fs::remove_file(&first.public_path).expect("remove");
        load_or_generate(dir.path(), None).expect("again");
        assert_eq!(
            std::fs::read_to_string(&first.public_path).expect("rewritten"),
            written
        );
        std::fs::write(&first.public_path, "another key").expect("overwrite");
        load_or_generate(dir.path(), None).expect("again");
        assert_eq!(
            std::fs::read_to_string(&first.public_path).expect("rewritten"),
            written
        );
    }

    #[test]
    fn an_rsa_algorithm_makes_an_rsa_2048_key() {
        let dir = tempfile::tempdir().expect("dir");
        let key = load_or_generate(dir.path(), Some(CdnAlgorithm::RsaSha256)).expect("key");
        assert_eq!(key.key.kind(), KeyKind::Rsa2048);
    }
}
