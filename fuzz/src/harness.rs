//! The fuzz harnesses: one function per parser that sees outside input, each taking the fuzzer's raw
//! bytes, calling the real code and asserting what must hold whatever the bytes are.
//!
//! The fuzz targets in `fuzz/fuzz_targets/` are one line each around these functions, and
//! `tests/fuzz_regressions.rs` includes this same file to replay every committed crashing input and
//! the corpus with plain `cargo test` against the real `edgepass` crate, so a fixed bug that comes back
//! fails the ordinary suite. A harness panics exactly when it has found a bug.
//!
//! Paths name `edgepass::…`: in the test that is the library itself; in the fuzz crate it is the same
//! source files compiled there (see `fuzz/src/lib.rs`).

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Component, Path};
use std::sync::OnceLock;

use edgepass::images::ContentType;
use edgepass::keys::files;
use edgepass::local::edge::{Behavior, Target, is_servable, object_key, resolve};
use edgepass::services::cursor;
use edgepass::signing::{
    Denial, HashAlgorithm, KeyPairId, SignatureSource, SigningKey, VerifyingKey, ViewerRequest, encoding,
    verify,
};
use http::Uri;

/// A harness: runs the real code on one input and panics when a property breaks.
pub type Harness = fn(&[u8]);

/// Every harness, by the name of its fuzz target (and of its corpus and regressions folders).
pub const TARGETS: &[(&str, Harness)] = &[
    ("verifier", verifier),
    ("base64", base64),
    ("policy", policy),
    ("keys", keys),
    ("request_target", request_target),
    ("sniff", sniff),
    ("cursor", cursor),
];

/// The time every harness verifies at: after the vectors' `DateGreaterThan`, before their expiry.
pub const NOW: u64 = 1_800_000_000;
/// The viewer address the verifier sees: inside the vectors' `IpAddress` block.
pub const VIEWER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
/// The URL the policy harness requests (the resource of the vectors' custom policies covers it).
pub const POLICY_URL: &str = "https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg";

const RSA_ID: &str = "K2JCJMDEHXQW5F";
const ECDSA_ID: &str = "K3ECDSAP256TEST";
const FIXTURE_ECDSA_ID: &str = "KFIXTUREP256";

fn id(text: &str) -> KeyPairId {
    KeyPairId::parse(text).expect("a valid key-pair id")
}

/// The trusted keys: the reference vectors' RSA and ECDSA public keys (so the vectors' URLs and cookies
/// verify) and the P-256 key of `tests/fixtures/keys`. Public test keys only.
pub fn trusted_keys() -> &'static [VerifyingKey] {
    static KEYS: OnceLock<Vec<VerifyingKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let load = |key_pair_id: &str, pem: &str| {
            VerifyingKey::from_pem(id(key_pair_id), pem).expect("a fixture public key")
        };
        vec![
            load(
                RSA_ID,
                include_str!("../../tests/fixtures/vectors/rsa2048_public.pem"),
            ),
            load(
                ECDSA_ID,
                include_str!("../../tests/fixtures/vectors/ecdsa_p256_public.pem"),
            ),
            load(
                FIXTURE_ECDSA_ID,
                include_str!("../../tests/fixtures/keys/p256_public.pem"),
            ),
        ]
    })
}

/// The reference vectors' ECDSA test key, which signs every policy the policy harness tries.
fn policy_signer() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::from_pem(
            id(ECDSA_ID),
            include_str!("../../tests/fixtures/vectors/ecdsa_p256_private_sec1.pem"),
        )
        .expect("the vectors' ECDSA key")
    })
}

/// Cookies from `Cookie` header lines, split exactly as the edge splits them.
fn split_cookies<'a>(lines: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    lines
        .iter()
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .collect()
}

/// The verifier on a whole viewer request. The first line of the input is the URL as requested, every
/// further line one `Cookie` header.
pub fn verifier(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let url = lines.next().unwrap_or_default();
    let headers: Vec<&str> = lines.collect();
    let cookies = split_cookies(&headers);
    let request = ViewerRequest {
        url,
        cookies: &cookies,
        viewer_ip: Some(VIEWER_IP),
        now: NOW,
    };
    match verify(trusted_keys(), &request) {
        Ok(grant) => {
            assert!(grant.expires > NOW, "granted an expired request: {grant:?}");
            assert!(
                trusted_keys()
                    .iter()
                    .any(|k| k.key_pair_id().as_str() == grant.key_pair_id),
                "granted by an untrusted key: {grant:?}"
            );
            // A grant rests on a signature sent where the grant says it came from.
            match grant.source {
                SignatureSource::Url => assert!(url.contains("Signature="), "URL grant without a signature"),
                SignatureSource::Cookies => assert!(
                    cookies.iter().any(|(name, _)| *name == "CloudFront-Signature"),
                    "cookie grant without a signature cookie"
                ),
            }
        }
        Err(denial) => {
            // Every denial must render (it is logged) and map to a CloudFront code.
            assert!(!denial.to_string().is_empty());
            assert!(!denial.cloudfront_code().is_empty());
        }
    }
}

/// CloudFront base64: whatever decodes re-encodes to the very same text (one spelling per value), and
/// every byte string survives encoding.
pub fn base64(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Some(bytes) = encoding::decode(text)
    {
        assert_eq!(encoding::encode(&bytes), text, "decoded a non-canonical spelling");
    }
    let text = encoding::encode(data);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_~".contains(&b))
    );
    assert_eq!(encoding::decode(&text).as_deref(), Some(data));
}

/// A custom policy parsed by the verifier. The first byte chooses the hash and whether the policy
/// travels in the query or in cookies; the rest is the policy, signed with the vectors' ECDSA key so
/// the verifier always reaches the policy parser.
pub fn policy(data: &[u8]) {
    let Some((&flags, policy_bytes)) = data.split_first() else {
        return;
    };
    let hash = if flags & 1 == 0 {
        HashAlgorithm::Sha1
    } else {
        HashAlgorithm::Sha256
    };
    let in_cookies = flags & 2 != 0;
    let signature = policy_signer()
        .sign(hash, policy_bytes)
        .expect("ECDSA signing does not fail");
    let policy_text = encoding::encode(policy_bytes);
    let signature_text = encoding::encode(&signature);
    let cookies = [
        ("CloudFront-Policy", policy_text.as_str()),
        ("CloudFront-Signature", signature_text.as_str()),
        ("CloudFront-Key-Pair-Id", ECDSA_ID),
        ("CloudFront-Hash-Algorithm", hash.as_str()),
    ];
    let signed_url = format!(
        "{POLICY_URL}?Policy={policy_text}&Signature={signature_text}&Key-Pair-Id={ECDSA_ID}&Hash-Algorithm={hash}"
    );
    let (url, cookie_pairs) = if in_cookies {
        (POLICY_URL, &cookies[..])
    } else {
        (signed_url.as_str(), &[][..])
    };
    let request = ViewerRequest {
        url,
        cookies: cookie_pairs,
        viewer_ip: Some(VIEWER_IP),
        now: NOW,
    };
    match verify(trusted_keys(), &request) {
        Ok(grant) => {
            assert!(grant.expires > NOW, "granted an expired policy: {grant:?}");
            let document: serde_json::Value =
                serde_json::from_slice(policy_bytes).expect("a granted policy is JSON");
            let expiry = document["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"].as_u64();
            assert_eq!(expiry, Some(grant.expires), "grant expiry is not the policy's");
        }
        Err(
            Denial::MalformedPolicy(_)
            | Denial::ResourceMismatch
            | Denial::Expired { .. }
            | Denial::NotYetValid { .. }
            | Denial::IpNotAllowed,
        ) => {}
        Err(other) => panic!("a validly signed policy was denied for {other:?}"),
    }
}

/// The labels a key file may carry; the keys harness wraps DER in each.
const KEY_LABELS: [&str; 5] = [
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "PRIVATE KEY",
    "PUBLIC KEY",
    "EC PARAMETERS",
];

/// Key loading. First byte 0: the rest is PEM text as a file or environment variable holds it; 1 to 5:
/// the rest is DER, wrapped in a well-formed PEM block with one of [`KEY_LABELS`].
pub fn keys(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let wrapped;
    let text = match mode {
        0 => match std::str::from_utf8(rest) {
            Ok(text) => text,
            Err(_) => return,
        },
        n if usize::from(n) <= KEY_LABELS.len() => {
            wrapped = files::pem(KEY_LABELS[usize::from(n) - 1], rest);
            &wrapped
        }
        _ => return,
    };
    if let Ok(key) = SigningKey::from_pem(id("KFUZZ"), text) {
        // A key that loads signs, and its public half verifies what it signed.
        let public = key.verifying_key().expect("a loaded key has a public half");
        assert_eq!(public.kind(), key.kind());
        for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
            let signature = key.sign(hash, b"policy").expect("a loaded key signs");
            assert!(
                public.verify(hash, b"policy", &signature),
                "{:?} key fails its own signature",
                key.kind()
            );
        }
    }
    if let Ok(key) = VerifyingKey::from_pem(id("KFUZZ"), text) {
        assert!(!key.verify(HashAlgorithm::Sha256, b"policy", &[0x30, 0x00]));
    }
}

/// The edge's request target: the raw bytes as `poem` (through `http`) parses a request line's target, then the object
/// key and whether it can name a stored object. A servable key must never step outside the store's
/// folder once mapped onto a file system.
pub fn request_target(data: &[u8]) {
    if let Ok(uri) = Uri::try_from(data) {
        check_path(uri.path());
        check_resolved(&uri.to_string());
    }
    if let Ok(target) = std::str::from_utf8(data) {
        check_resolved(target);
    }
    // The percent-decoding alone, on paths `Uri` would refuse too.
    if let Ok(path) = std::str::from_utf8(data) {
        check_path(path);
    }
}

/// The CDN base URL the edge resolves targets against in [`request_target`].
const EDGE_BASE: &str = "http://127.0.0.1:8081";

/// The edge decides on exactly what it serves: the URL whose signature is checked is the base URL plus
/// one path (and query), and the key it serves is that very path, decoded.
fn check_resolved(target: &str) {
    let Ok(Target { checked_url, key }) = resolve(EDGE_BASE, target) else {
        return;
    };
    let rest = checked_url
        .strip_prefix(EDGE_BASE)
        .unwrap_or_else(|| panic!("{checked_url:?} is not under the base URL"));
    assert!(
        rest.starts_with('/'),
        "{checked_url:?} has no path after the base URL"
    );
    assert!(
        !rest.contains('#'),
        "{checked_url:?} carries a fragment into the checked URL"
    );
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    assert_eq!(
        object_key(path).as_deref(),
        Ok(key.as_str()),
        "{target:?}: the checked URL's path names another object than the served key"
    );
}

fn check_path(path: &str) {
    let Ok(key) = object_key(path) else {
        return;
    };
    // Every `%` starts an escape of exactly two hex digits, as S3 decodes keys; anything else is a
    // malformed path.
    let raw = path.as_bytes();
    for (at, _) in path.match_indices('%') {
        assert!(
            raw.get(at + 1..at + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)),
            "malformed escape at {at} in {path:?} accepted as {key:?}"
        );
    }
    let behavior = Behavior::of(&key);
    if !is_servable(&key) {
        return;
    }
    assert!(
        Path::new(&key)
            .components()
            .all(|c| matches!(c, Component::Normal(_))),
        "servable key {key:?} escapes the store's folder"
    );
    assert!(
        !key.chars().any(char::is_control),
        "servable key {key:?} holds a control character"
    );
    // Percent-encoding every byte of the key gives a path naming the same object.
    let mut encoded = String::with_capacity(key.len() * 3);
    for byte in key.bytes() {
        encoded.push_str(&format!("%{byte:02X}"));
    }
    assert_eq!(object_key(&format!("/{encoded}")).as_deref(), Ok(key.as_str()));
    if behavior == Behavior::Users {
        assert!(key.starts_with("users/"));
    }
}

/// Content sniffing: the first [`ContentType::SNIFF_LEN`] bytes decide, as documented; and a declared
/// type parses only to one of the five accepted types.
pub fn sniff(data: &[u8]) {
    let found = ContentType::sniff(data);
    let head = &data[..data.len().min(ContentType::SNIFF_LEN)];
    assert_eq!(
        found,
        ContentType::sniff(head),
        "more than SNIFF_LEN bytes changed the verdict"
    );
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(parsed) = ContentType::parse(text)
    {
        assert_eq!(text.trim().to_ascii_lowercase(), parsed.mime());
    }
}

/// The listing cursor: whatever decodes names a real image id and survives re-encoding.
pub fn cursor(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(position) = cursor::decode(text) {
        assert_eq!(
            edgepass::images::ImageId::parse(position.id.as_str()).as_ref(),
            Some(&position.id),
            "cursor names an id that does not read back as itself"
        );
        assert_eq!(cursor::decode(&cursor::encode(&position)), Some(position));
    }
}
