//! Fixtures shared by the signing tests.

use std::collections::BTreeMap;
use std::path::PathBuf;

use edgepass::signing::{KeyPairId, SigningKey, VerifyingKey};
use serde_json::Value;

/// The folder holding the reference vectors and their keys.
pub(crate) fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors")
}

/// Reads a file from the vectors folder.
pub(crate) fn vector_file(name: &str) -> String {
    std::fs::read_to_string(vectors_dir().join(name)).expect("vector fixture")
}

/// The parsed `vectors.json`.
pub(crate) fn vectors() -> Value {
    serde_json::from_str(&vector_file("vectors.json")).expect("vectors.json")
}

/// The RSA-2048 test key under its vector key-pair id.
pub(crate) fn rsa_key() -> SigningKey {
    let id = KeyPairId::parse("K2JCJMDEHXQW5F").expect("id");
    SigningKey::from_pem(id, &vector_file("rsa2048_private_pkcs1.pem")).expect("rsa key")
}

/// The ECDSA P-256 test key under its vector key-pair id.
pub(crate) fn ecdsa_key() -> SigningKey {
    let id = KeyPairId::parse("K3ECDSAP256TEST").expect("id");
    SigningKey::from_pem(id, &vector_file("ecdsa_p256_private_sec1.pem")).expect("ecdsa key")
}

/// Both vector public keys, loaded from their SubjectPublicKeyInfo PEM files.
pub(crate) fn trusted_keys() -> Vec<VerifyingKey> {
    vec![
        VerifyingKey::from_pem(
            KeyPairId::parse("K2JCJMDEHXQW5F").expect("id"),
            &vector_file("rsa2048_public.pem"),
        )
        .expect("rsa public key"),
        VerifyingKey::from_pem(
            KeyPairId::parse("K3ECDSAP256TEST").expect("id"),
            &vector_file("ecdsa_p256_public.pem"),
        )
        .expect("ecdsa public key"),
    ]
}

/// Splits a signed URL into its base (everything before the first signing parameter) and a map of
/// all query parameters, for comparing URLs whose producers order parameters differently.
pub(crate) fn url_parts(url: &str) -> (String, BTreeMap<String, String>) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut own = Vec::new();
    let mut params = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if edgepass::signing::RESERVED_QUERY_PARAMETERS.contains(&name) {
            let earlier = params.insert(name.to_owned(), value.to_owned());
            assert!(earlier.is_none(), "{name} twice in {url}");
        } else {
            own.push(pair);
        }
    }
    let base = if own.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", own.join("&"))
    };
    (base, params)
}

/// What one run of the `edgepass` binary produced.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    fn of(output: std::process::Output) -> Self {
        Self {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }
}

/// Runs the `edgepass` binary with `args`, in the test's own environment.
pub(crate) fn edgepass<S: AsRef<str>>(args: &[S]) -> Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_edgepass"))
        .args(args.iter().map(AsRef::as_ref))
        .output()
        .expect("the edgepass binary runs");
    Run::of(output)
}

/// Runs the `edgepass` binary with `args` and `env` on top of nothing but `PATH`: the configuration is
/// what the test says.
pub(crate) fn edgepass_configured(args: &[&str], env: &[(&str, &str)]) -> Run {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_edgepass"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("the edgepass binary runs");
    Run::of(output)
}
