//! `edgepass keys generate` and the example keys of `keys.example/`: the files have the promised modes,
//! nothing is ever overwritten, and the keys load with edgepass's own loader and make signatures that
//! edgepass's verifier and OpenSSL accept.

use std::path::{Path, PathBuf};
use std::process::Command;

use edgepass::signing::{HashAlgorithm, KeyKind, KeyPairId, SigningKey, VerifyingKey};

use super::support::{Run, edgepass};

fn generate(algorithm: &str, out: &Path) -> Run {
    edgepass(&[
        "keys",
        "generate",
        "--algorithm",
        algorithm,
        "--out",
        out.to_str().expect("UTF-8 path"),
    ])
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Signs a URL with the private key and has `edgepass verify` decide it with the public key.
fn sign_and_verify(private: &Path, public: &Path) -> Run {
    let signed = edgepass(&[
        "sign",
        "url",
        "--url",
        "https://cdn.example.com/users/42/a.jpg",
        "--key-pair-id",
        "KGENERATED",
        "--private-key",
        private.to_str().expect("UTF-8 path"),
        "--date-less-than",
        "2100-01-01",
    ]);
    assert_eq!(signed.code, Some(0), "{signed:?}");
    edgepass(&[
        "verify",
        "--url",
        signed.stdout.trim(),
        "--public-key",
        &format!("KGENERATED={}", public.to_str().expect("UTF-8 path")),
        "--now",
        "2099-01-01",
    ])
}

/// OpenSSL's verdict on `signature` of `message` (SHA-256) under the public key file.
fn openssl_verifies(public: &Path, message: &[u8], signature: &[u8]) -> bool {
    let dir = tempfile::tempdir().expect("dir");
    let message_path = dir.path().join("message");
    let signature_path = dir.path().join("signature");
    std::fs::write(&message_path, message).expect("write");
    std::fs::write(&signature_path, signature).expect("write");
    let output = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(public)
        .arg("-signature")
        .arg(&signature_path)
        .arg(&message_path)
        .output()
        .expect("the openssl command line (Debian package openssl) runs");
    output.status.success()
}

#[test]
fn generated_keys_have_owner_only_private_files_and_sign_what_their_public_half_verifies() {
    for (algorithm, kind) in [("ecdsa", KeyKind::EcdsaP256), ("rsa", KeyKind::Rsa2048)] {
        let dir = tempfile::tempdir().expect("dir");
        let out = dir.path().join("keys");
        let run = generate(algorithm, &out);
        assert_eq!(run.code, Some(0), "{run:?}");
        let private = out.join("cdn-private.pem");
        let public = out.join("cdn-public.pem");
        assert!(run.stdout.contains(private.to_str().expect("path")), "{run:?}");
        assert!(run.stdout.contains(public.to_str().expect("path")), "{run:?}");
        let private_pem = std::fs::read_to_string(&private).expect("private key");
        let body = private_pem.lines().nth(1).expect("a PEM body line");
        assert!(
            !run.stdout.contains(body) && !run.stderr.contains(body),
            "the private key is never printed"
        );
        #[cfg(unix)]
        {
            assert_eq!(mode(&private), 0o600, "{algorithm}");
            assert_eq!(mode(&out), 0o700, "a folder made for the keys is owner-only");
            assert_eq!(mode(&public) & 0o022, 0, "nobody else may change the public key");
        }

        let id = KeyPairId::parse("KGENERATED").expect("id");
        let signing = SigningKey::from_pem(id.clone(), &private_pem).expect("loads as a signing key");
        assert_eq!(signing.kind(), kind);
        let public_pem = std::fs::read_to_string(&public).expect("public key");
        let verifying = VerifyingKey::from_pem(id, &public_pem).expect("loads as a verifying key");
        let signature = signing
            .sign(HashAlgorithm::Sha256, b"policy bytes")
            .expect("sign");
        assert!(verifying.verify(HashAlgorithm::Sha256, b"policy bytes", &signature));
        assert!(
            openssl_verifies(&public, b"policy bytes", &signature),
            "OpenSSL accepts the {algorithm} signature"
        );
        assert!(!openssl_verifies(&public, b"other bytes", &signature));

        let verdict = sign_and_verify(&private, &public);
        assert_eq!(verdict.stdout, "allow\n", "{algorithm}: {verdict:?}");
    }
}

#[test]
fn generate_never_replaces_an_existing_key_file() {
    let dir = tempfile::tempdir().expect("dir");
    let first = generate("ecdsa", dir.path());
    assert_eq!(first.code, Some(0), "{first:?}");
    let private = dir.path().join("cdn-private.pem");
    let before = std::fs::read(&private).expect("private key");

    let again = generate("rsa", dir.path());
    assert_eq!(again.code, Some(2), "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");
    assert_eq!(again.stderr.lines().count(), 1, "{again:?}");
    assert_eq!(std::fs::read(&private).expect("private key"), before);

    // Only the public file left over is enough to refuse, and nothing new is written.
    std::fs::remove_file(&private).expect("remove");
    let half = generate("ecdsa", dir.path());
    assert_eq!(half.code, Some(2), "{half:?}");
    assert!(
        !private.exists(),
        "no private key written next to a stale public key"
    );
}

#[test]
fn generate_refuses_an_unknown_algorithm_with_exit_status_2() {
    let dir = tempfile::tempdir().expect("dir");
    let run = generate("dsa", dir.path());
    assert_eq!(run.code, Some(2), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(std::fs::read_dir(dir.path()).expect("dir").next().is_none());
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("keys.example")
        .join(name)
}

#[test]
fn the_example_key_pairs_load_and_match() {
    for (stem, kind) in [
        ("throwaway-example-ecdsa-p256", KeyKind::EcdsaP256),
        ("throwaway-example-rsa2048", KeyKind::Rsa2048),
    ] {
        let private = example(&format!("{stem}-private.pem"));
        let public = example(&format!("{stem}-public.pem"));
        let id = KeyPairId::parse("KEXAMPLE").expect("id");
        let signing = SigningKey::from_pem(id.clone(), &std::fs::read_to_string(&private).expect("read"))
            .expect("example private key loads");
        assert_eq!(signing.kind(), kind, "{stem}");
        let verifying = VerifyingKey::from_pem(id, &std::fs::read_to_string(&public).expect("read"))
            .expect("example public key loads");
        let signature = signing.sign(HashAlgorithm::Sha1, b"policy").expect("sign");
        assert!(
            verifying.verify(HashAlgorithm::Sha1, b"policy", &signature),
            "{stem}: the public file is the private key's other half"
        );
        let verdict = sign_and_verify(&private, &public);
        assert_eq!(verdict.stdout, "allow\n", "{stem}: {verdict:?}");
    }
}
