//! Loading keys: every form CloudFront key groups accept loads, every other form is refused with the
//! exact reason, and neither `Debug` nor error messages ever show key material.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use edgepass::signing::{HashAlgorithm, KeyError, KeyKind, KeyPairId, SigningKey, VerifyingKey};

const RSA2048_PKCS1: &str = include_str!("../fixtures/keys/rsa2048_pkcs1.pem");
const RSA2048_PKCS8: &str = include_str!("../fixtures/keys/rsa2048_pkcs8.pem");
const RSA2048_PUBLIC: &str = include_str!("../fixtures/keys/rsa2048_public.pem");
const RSA2048_CERTIFICATE: &str = include_str!("../fixtures/keys/rsa2048_certificate.pem");
const RSA2048_PKCS8_ENCRYPTED: &str = include_str!("../fixtures/keys/rsa2048_pkcs8_encrypted.pem");
const RSA2048_PKCS1_ENCRYPTED: &str = include_str!("../fixtures/keys/rsa2048_pkcs1_encrypted.pem");
const RSA1024_PKCS8: &str = include_str!("../fixtures/keys/rsa1024_pkcs8.pem");
const RSA1024_PUBLIC: &str = include_str!("../fixtures/keys/rsa1024_public.pem");
const RSA3072_PKCS8: &str = include_str!("../fixtures/keys/rsa3072_pkcs8.pem");
const P256_SEC1: &str = include_str!("../fixtures/keys/p256_sec1.pem");
const P256_SEC1_WITH_PARAMS: &str = include_str!("../fixtures/keys/p256_sec1_with_params.pem");
const P256_PKCS8: &str = include_str!("../fixtures/keys/p256_pkcs8.pem");
const P256_PUBLIC: &str = include_str!("../fixtures/keys/p256_public.pem");
const P384_SEC1: &str = include_str!("../fixtures/keys/p384_sec1.pem");
const P384_PKCS8: &str = include_str!("../fixtures/keys/p384_pkcs8.pem");
const P384_PUBLIC: &str = include_str!("../fixtures/keys/p384_public.pem");
const SECP256K1_SEC1: &str = include_str!("../fixtures/keys/secp256k1_sec1.pem");
const ED25519_PKCS8: &str = include_str!("../fixtures/keys/ed25519_pkcs8.pem");
const ED25519_PUBLIC: &str = include_str!("../fixtures/keys/ed25519_public.pem");

/// Public keys of other key pairs (the reference-vector keys).
const OTHER_RSA2048_PUBLIC: &str = include_str!("../fixtures/vectors/rsa2048_public.pem");
const OTHER_P256_PUBLIC: &str = include_str!("../fixtures/vectors/ecdsa_p256_public.pem");

const KEY_PAIR_ID: &str = "K2JCJMDEHXQW5F";

/// A canned policy, the kind of message edgepass signs.
const MESSAGE: &[u8] = br#"{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1893456000}}}]}"#;

const HASHES: [HashAlgorithm; 2] = [HashAlgorithm::Sha1, HashAlgorithm::Sha256];

/// Every private-key form edgepass accepts, with the kind it must load as.
const ACCEPTED: [(&str, &str, KeyKind); 5] = [
    ("rsa2048_pkcs1", RSA2048_PKCS1, KeyKind::Rsa2048),
    ("rsa2048_pkcs8", RSA2048_PKCS8, KeyKind::Rsa2048),
    ("p256_sec1", P256_SEC1, KeyKind::EcdsaP256),
    ("p256_sec1_with_params", P256_SEC1_WITH_PARAMS, KeyKind::EcdsaP256),
    ("p256_pkcs8", P256_PKCS8, KeyKind::EcdsaP256),
];

fn key_pair_id() -> KeyPairId {
    KeyPairId::parse(KEY_PAIR_ID).expect("a valid key-pair id")
}

fn load(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pem(key_pair_id(), pem)
}

fn loaded(name: &str, pem: &str) -> SigningKey {
    load(pem).unwrap_or_else(|e| panic!("{name} should load: {e}"))
}

fn public(pem: &str) -> VerifyingKey {
    VerifyingKey::from_pem(key_pair_id(), pem).expect("a valid public key")
}

fn signature(key: &SigningKey, hash: HashAlgorithm) -> Vec<u8> {
    key.sign(hash, MESSAGE).expect("a loaded key signs")
}

/// The base64 bodies of every block in `pem`, without whitespace: the key material.
fn body(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----") && !line.contains(':'))
        .collect::<String>()
}

/// Fails if any 16-character run of `pem`'s body appears in `text`.
fn assert_no_key_material(text: &str, pem: &str, what: &str) {
    let body = body(pem);
    assert!(body.len() >= 16, "{what}: fixture body too short to check");
    for start in 0..=body.len() - 16 {
        let run = &body[start..start + 16];
        assert!(!text.contains(run), "{what} shows key material {run:?}: {text}");
    }
}

/// Re-wraps a DER structure as a PEM block with `label`.
fn pem_block(label: &str, der: &[u8]) -> String {
    let encoded = STANDARD.encode(der);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn der_of(pem: &str) -> Vec<u8> {
    STANDARD.decode(body(pem)).expect("fixture body is base64")
}

#[test]
fn every_accepted_form_loads_with_its_key_kind() {
    for (name, pem, kind) in ACCEPTED {
        let key = loaded(name, pem);
        assert_eq!(key.kind(), kind, "{name}");
        assert_eq!(key.key_pair_id().as_str(), KEY_PAIR_ID, "{name}");
    }
}

#[test]
fn pkcs1_and_pkcs8_of_the_same_rsa_key_give_identical_signatures() {
    let pkcs1 = loaded("pkcs1", RSA2048_PKCS1);
    let pkcs8 = loaded("pkcs8", RSA2048_PKCS8);
    for hash in HASHES {
        let from_pkcs1 = signature(&pkcs1, hash);
        assert_eq!(from_pkcs1.len(), 256, "{hash}: RSA-2048 signatures are 256 bytes");
        assert_eq!(from_pkcs1, signature(&pkcs8, hash), "{hash}");
    }
    assert_ne!(
        signature(&pkcs1, HashAlgorithm::Sha1),
        signature(&pkcs1, HashAlgorithm::Sha256)
    );
}

#[test]
fn sec1_with_or_without_ec_parameters_and_pkcs8_of_the_same_ec_key_give_identical_signatures() {
    let sec1 = loaded("sec1", P256_SEC1);
    let with_params = loaded("sec1 with EC PARAMETERS", P256_SEC1_WITH_PARAMS);
    let pkcs8 = loaded("pkcs8", P256_PKCS8);
    for hash in HASHES {
        let from_sec1 = signature(&sec1, hash);
        assert_eq!(from_sec1[0], 0x30, "{hash}: ECDSA signatures are a DER SEQUENCE");
        assert!(
            (8..=72).contains(&from_sec1.len()),
            "{hash}: {} bytes",
            from_sec1.len()
        );
        assert_eq!(from_sec1, signature(&with_params, hash), "{hash}");
        assert_eq!(from_sec1, signature(&pkcs8, hash), "{hash}");
    }
}

#[test]
fn signing_the_same_message_twice_gives_the_same_bytes() {
    for (name, pem, _) in ACCEPTED {
        let key = loaded(name, pem);
        for hash in HASHES {
            assert_eq!(signature(&key, hash), signature(&key, hash), "{name} {hash}");
        }
    }
}

#[test]
fn a_pem_whose_line_breaks_were_lost_or_escaped_loads_and_signs_identically() {
    for (name, pem, kind) in ACCEPTED {
        let reference = loaded(name, pem);
        let variants = [
            ("line breaks removed", pem.replace('\n', "")),
            ("line breaks replaced by spaces", pem.replace('\n', " ")),
            ("line breaks written as \\n", pem.replace('\n', "\\n")),
            ("CRLF line breaks", pem.replace('\n', "\r\n")),
            ("line breaks written as \\r\\n", pem.replace('\n', "\\r\\n")),
            (
                "surrounded by blank lines and indentation",
                format!("\n\n   {pem}\n  "),
            ),
        ];
        for (how, text) in variants {
            let key = load(&text).unwrap_or_else(|e| panic!("{name}, {how}: {e}"));
            assert_eq!(key.kind(), kind, "{name}, {how}");
            for hash in HASHES {
                assert_eq!(
                    signature(&key, hash),
                    signature(&reference, hash),
                    "{name}, {how}, {hash}"
                );
            }
        }
    }
}

#[test]
fn rsa_keys_other_than_2048_bits_are_refused_with_their_size() {
    assert_eq!(load(RSA1024_PKCS8).unwrap_err(), KeyError::RsaKeySize(1024));
    assert_eq!(load(RSA3072_PKCS8).unwrap_err(), KeyError::RsaKeySize(3072));
}

#[test]
fn ec_keys_on_other_curves_are_refused_naming_the_curve() {
    for (name, pem, curve) in [
        ("p384 sec1", P384_SEC1, "P-384"),
        ("p384 pkcs8", P384_PKCS8, "P-384"),
        ("secp256k1 sec1", SECP256K1_SEC1, "secp256k1"),
    ] {
        match load(pem) {
            Err(KeyError::UnsupportedCurve(named)) => {
                assert!(named.contains(curve), "{name}: names {named:?}, expected {curve}");
            }
            other => panic!("{name}: expected UnsupportedCurve, got {other:?}"),
        }
    }
}

#[test]
fn an_ed25519_key_is_refused_as_an_unsupported_algorithm_naming_ed25519() {
    match load(ED25519_PKCS8) {
        Err(KeyError::UnsupportedAlgorithm(named)) => assert!(named.contains("Ed25519"), "{named:?}"),
        other => panic!("expected UnsupportedAlgorithm, got {other:?}"),
    }
}

#[test]
fn encrypted_pkcs8_and_legacy_encrypted_pkcs1_keys_are_refused_as_encrypted() {
    assert_eq!(load(RSA2048_PKCS8_ENCRYPTED).unwrap_err(), KeyError::Encrypted);
    assert_eq!(load(RSA2048_PKCS1_ENCRYPTED).unwrap_err(), KeyError::Encrypted);
    // Flattened as in an environment variable, they are still recognised as encrypted.
    for pem in [RSA2048_PKCS8_ENCRYPTED, RSA2048_PKCS1_ENCRYPTED] {
        assert_eq!(load(&pem.replace('\n', "\\n")).unwrap_err(), KeyError::Encrypted);
    }
}

#[test]
fn a_certificate_or_a_public_key_given_as_a_private_key_is_refused_by_its_label() {
    for (pem, label) in [
        (RSA2048_CERTIFICATE, "CERTIFICATE"),
        (RSA2048_PUBLIC, "PUBLIC KEY"),
        (P256_PUBLIC, "PUBLIC KEY"),
    ] {
        match load(pem) {
            Err(KeyError::UnsupportedLabel(named)) => assert!(named.contains(label), "{named:?}"),
            other => panic!("{label}: expected UnsupportedLabel, got {other:?}"),
        }
    }
    let pkcs1_public = pem_block("RSA PUBLIC KEY", b"\x30\x00");
    assert!(matches!(load(&pkcs1_public), Err(KeyError::UnsupportedLabel(_))));
    let other = pem_block("OPENSSH PRIVATE KEY", b"\x30\x00");
    assert!(matches!(load(&other), Err(KeyError::UnsupportedLabel(l)) if l.contains("OPENSSH PRIVATE KEY")));
}

#[test]
fn text_without_a_pem_block_is_refused_as_no_pem() {
    let bare_base64 = body(RSA2048_PKCS1);
    for text in [
        "",
        "   \n",
        "not a key",
        "/etc/edgepass/key.pem",
        bare_base64.as_str(),
    ] {
        assert_eq!(load(text).unwrap_err(), KeyError::NoPem, "{text:?}");
    }
}

#[test]
fn a_pem_block_with_truncated_base64_is_refused_as_malformed_pem() {
    // The body loses its last characters, leaving a length base64 cannot have.
    let compact = body(RSA2048_PKCS8);
    let cut = &compact[..compact.len() / 4 * 4 - 3];
    let truncated = format!("-----BEGIN PRIVATE KEY-----\n{cut}\n-----END PRIVATE KEY-----\n");
    assert!(matches!(load(&truncated), Err(KeyError::MalformedPem(_))));

    // The text stops in the middle of the body, before the END line.
    let half = &RSA2048_PKCS1[..RSA2048_PKCS1.len() / 2];
    assert!(matches!(load(half), Err(KeyError::MalformedPem(_))));

    // Characters outside the base64 alphabet.
    let not_base64 = "-----BEGIN EC PRIVATE KEY-----\nMHc*CAQEE!!\n-----END EC PRIVATE KEY-----\n";
    assert!(matches!(load(not_base64), Err(KeyError::MalformedPem(_))));
}

#[test]
fn garbage_der_inside_a_valid_pem_block_is_refused_as_malformed_key() {
    let garbage = b"edgepass: these bytes are not a key at all";
    let rsa_der = der_of(RSA2048_PKCS1);
    let ec_der = der_of(P256_SEC1);
    let pkcs8_der = der_of(RSA2048_PKCS8);
    for label in ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"] {
        let pem = pem_block(label, garbage);
        assert!(
            matches!(load(&pem), Err(KeyError::MalformedKey(_))),
            "{label}: {:?}",
            load(&pem)
        );
    }
    for (label, der) in [
        ("RSA PRIVATE KEY", &rsa_der),
        ("EC PRIVATE KEY", &ec_der),
        ("PRIVATE KEY", &pkcs8_der),
    ] {
        let pem = pem_block(label, &der[..der.len() / 2]);
        assert!(
            matches!(load(&pem), Err(KeyError::MalformedKey(_))),
            "{label} cut in half: {:?}",
            load(&pem)
        );
    }
    // A valid structure under the wrong label.
    let swapped = pem_block("EC PRIVATE KEY", &rsa_der);
    assert!(matches!(load(&swapped), Err(KeyError::MalformedKey(_))));
    let swapped = pem_block("RSA PRIVATE KEY", &ec_der);
    assert!(matches!(load(&swapped), Err(KeyError::MalformedKey(_))));
}

#[test]
fn debug_output_shows_the_key_pair_id_and_kind_but_no_key_material() {
    for (name, pem, kind) in ACCEPTED {
        let key = loaded(name, pem);
        let debug = format!("{key:?}");
        let pretty = format!("{key:#?}");
        for shown in [&debug, &pretty] {
            assert!(shown.contains(KEY_PAIR_ID), "{name}: {shown}");
            assert!(shown.contains(&format!("{kind:?}")), "{name}: {shown}");
            assert_no_key_material(shown, pem, name);
        }
        let verifying = key.verifying_key().expect("public half");
        let debug = format!("{verifying:?}");
        assert!(debug.contains(KEY_PAIR_ID), "{name}: {debug}");
    }
}

#[test]
fn errors_never_show_key_material() {
    let refused = [
        ("rsa1024", RSA1024_PKCS8),
        ("rsa3072", RSA3072_PKCS8),
        ("p384 sec1", P384_SEC1),
        ("p384 pkcs8", P384_PKCS8),
        ("secp256k1", SECP256K1_SEC1),
        ("ed25519", ED25519_PKCS8),
        ("encrypted pkcs8", RSA2048_PKCS8_ENCRYPTED),
        ("encrypted pkcs1", RSA2048_PKCS1_ENCRYPTED),
        ("certificate", RSA2048_CERTIFICATE),
    ];
    for (name, pem) in refused {
        let error = load(pem).expect_err(name);
        assert_no_key_material(&error.to_string(), pem, name);
        assert_no_key_material(&format!("{error:?}"), pem, name);
    }
    let compact = body(RSA2048_PKCS8);
    let cut = &compact[..compact.len() / 4 * 4 - 3];
    let truncated = format!("-----BEGIN PRIVATE KEY-----\n{cut}\n-----END PRIVATE KEY-----\n");
    let error = load(&truncated).expect_err("truncated");
    assert_no_key_material(&error.to_string(), RSA2048_PKCS8, "truncated");
    assert_no_key_material(&format!("{error:?}"), RSA2048_PKCS8, "truncated");
    let half = pem_block("PRIVATE KEY", &der_of(RSA2048_PKCS8)[..600]);
    let error = load(&half).expect_err("half");
    assert_no_key_material(&error.to_string(), RSA2048_PKCS8, "half");
}

#[test]
fn key_pair_id_parse_accepts_cloudfront_ids() {
    for id in [
        "K2JCJMDEHXQW5F",
        "K36X4X2EO997HM",
        "APKAEIBAERJR2EXAMPLE",
        "k",
        "7",
    ] {
        let parsed = KeyPairId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(parsed.as_str(), id);
        assert_eq!(parsed.to_string(), id);
    }
    let longest = "A".repeat(128);
    assert_eq!(
        KeyPairId::parse(&longest).expect("128 characters").as_str(),
        longest
    );
}

#[test]
fn key_pair_id_parse_refuses_empty_too_long_and_non_alphanumeric_ids() {
    let too_long = "A".repeat(129);
    for id in [
        "",
        too_long.as_str(),
        "K2JC-JMDEHXQW5F",
        "K2JC JMDEHXQW5F",
        " K2JCJMDEHXQW5F",
        "K2JCJMDEHXQW5F\n",
        "K2JCJMDEHXQW5É",
        "K2JCJMDEHXQW5Ｆ",
        "K2JC_JMDEHXQW5F",
        "K2JC.JMDEHXQW5F",
    ] {
        assert_eq!(
            KeyPairId::parse(id),
            Err(KeyError::InvalidKeyPairId(id.to_owned())),
            "{id:?}"
        );
    }
}

#[test]
fn spki_public_keys_load_with_their_kind() {
    assert_eq!(public(RSA2048_PUBLIC).kind(), KeyKind::Rsa2048);
    assert_eq!(public(P256_PUBLIC).kind(), KeyKind::EcdsaP256);
    assert_eq!(public(P256_PUBLIC).key_pair_id().as_str(), KEY_PAIR_ID);
    // Flattened as in an environment variable.
    assert_eq!(
        public(&RSA2048_PUBLIC.replace('\n', "\\n")).kind(),
        KeyKind::Rsa2048
    );
}

#[test]
fn spki_public_keys_verify_signatures_of_the_matching_private_key_for_both_hashes() {
    for (name, private, public_pem) in [
        ("rsa2048 pkcs1", RSA2048_PKCS1, RSA2048_PUBLIC),
        ("rsa2048 pkcs8", RSA2048_PKCS8, RSA2048_PUBLIC),
        ("p256 sec1", P256_SEC1, P256_PUBLIC),
        ("p256 with params", P256_SEC1_WITH_PARAMS, P256_PUBLIC),
        ("p256 pkcs8", P256_PKCS8, P256_PUBLIC),
    ] {
        let key = loaded(name, private);
        let verifying = public(public_pem);
        let derived = key.verifying_key().expect("public half");
        for hash in HASHES {
            let signed = signature(&key, hash);
            assert!(verifying.verify(hash, MESSAGE, &signed), "{name} {hash}");
            assert!(
                derived.verify(hash, MESSAGE, &signed),
                "{name} {hash}, derived key"
            );
            let other_hash = if hash == HashAlgorithm::Sha1 {
                HashAlgorithm::Sha256
            } else {
                HashAlgorithm::Sha1
            };
            assert!(
                !verifying.verify(other_hash, MESSAGE, &signed),
                "{name}: {hash} checked as {other_hash}"
            );
            assert!(
                !verifying.verify(hash, b"another message", &signed),
                "{name} {hash}: other message"
            );
        }
    }
}

#[test]
fn a_flipped_bit_in_the_signature_does_not_verify() {
    for (name, private, public_pem) in [
        ("rsa2048", RSA2048_PKCS1, RSA2048_PUBLIC),
        ("p256", P256_SEC1, P256_PUBLIC),
    ] {
        let key = loaded(name, private);
        let verifying = public(public_pem);
        for hash in HASHES {
            let signed = signature(&key, hash);
            for position in [0, signed.len() / 2, signed.len() - 1] {
                let mut flipped = signed.clone();
                flipped[position] ^= 0x01;
                assert!(
                    !verifying.verify(hash, MESSAGE, &flipped),
                    "{name} {hash}: flipped byte {position} verified"
                );
            }
            assert!(
                !verifying.verify(hash, MESSAGE, &signed[..signed.len() - 1]),
                "{name} {hash}: truncated"
            );
            assert!(!verifying.verify(hash, MESSAGE, &[]), "{name} {hash}: empty");
        }
    }
}

#[test]
fn the_public_key_of_a_different_key_does_not_verify() {
    let rsa = loaded("rsa2048", RSA2048_PKCS1);
    let ec = loaded("p256", P256_SEC1);
    let other_rsa = public(OTHER_RSA2048_PUBLIC);
    let other_ec = public(OTHER_P256_PUBLIC);
    let own_rsa = public(RSA2048_PUBLIC);
    let own_ec = public(P256_PUBLIC);
    for hash in HASHES {
        let rsa_signature = signature(&rsa, hash);
        let ec_signature = signature(&ec, hash);
        assert!(
            !other_rsa.verify(hash, MESSAGE, &rsa_signature),
            "{hash}: other RSA key"
        );
        assert!(
            !other_ec.verify(hash, MESSAGE, &ec_signature),
            "{hash}: other EC key"
        );
        assert!(
            !own_ec.verify(hash, MESSAGE, &rsa_signature),
            "{hash}: EC key, RSA signature"
        );
        assert!(
            !own_rsa.verify(hash, MESSAGE, &ec_signature),
            "{hash}: RSA key, EC signature"
        );
    }
}

#[test]
fn verifying_key_from_pem_refuses_what_cloudfront_would_not_store() {
    assert_eq!(
        VerifyingKey::from_pem(key_pair_id(), RSA1024_PUBLIC).unwrap_err(),
        KeyError::RsaKeySize(1024)
    );
    assert!(matches!(
        VerifyingKey::from_pem(key_pair_id(), P384_PUBLIC),
        Err(KeyError::UnsupportedCurve(c)) if c.contains("P-384")
    ));
    assert!(matches!(
        VerifyingKey::from_pem(key_pair_id(), ED25519_PUBLIC),
        Err(KeyError::UnsupportedAlgorithm(a)) if a.contains("Ed25519")
    ));
    for private in [RSA2048_PKCS1, P256_SEC1, RSA2048_PKCS8, RSA2048_CERTIFICATE] {
        assert!(matches!(
            VerifyingKey::from_pem(key_pair_id(), private),
            Err(KeyError::UnsupportedLabel(_))
        ));
    }
    assert_eq!(
        VerifyingKey::from_pem(key_pair_id(), "").unwrap_err(),
        KeyError::NoPem
    );
    let garbage = pem_block("PUBLIC KEY", b"edgepass: not a public key");
    assert!(matches!(
        VerifyingKey::from_pem(key_pair_id(), &garbage),
        Err(KeyError::MalformedKey(_))
    ));
}

#[test]
fn a_private_key_given_as_a_public_key_is_refused_with_a_message_asking_for_a_public_key() {
    let error = VerifyingKey::from_pem(key_pair_id(), RSA2048_PKCS1).expect_err("a private key");
    let message = error.to_string();
    assert!(message.contains("PUBLIC KEY"), "{message}");
    assert!(
        !message.contains("expected RSA PRIVATE KEY"),
        "the message asks for a private key where a public key is needed: {message}"
    );
}

/// Each accepted private key with its public key as OpenSSL wrote it.
const PAIRS: [(&str, &str, &str); 5] = [
    ("rsa2048 pkcs1", RSA2048_PKCS1, RSA2048_PUBLIC),
    ("rsa2048 pkcs8", RSA2048_PKCS8, RSA2048_PUBLIC),
    ("p256 sec1", P256_SEC1, P256_PUBLIC),
    ("p256 with params", P256_SEC1_WITH_PARAMS, P256_PUBLIC),
    ("p256 pkcs8", P256_PKCS8, P256_PUBLIC),
];

#[test]
fn the_public_half_of_a_private_key_is_the_spki_openssl_writes_byte_for_byte() {
    for (name, private, public_pem) in PAIRS {
        let der = loaded(name, private).public_key_der().expect("public half");
        assert_eq!(der, der_of(public_pem), "{name}");
        let reloaded = public(&pem_block("PUBLIC KEY", &der));
        assert_eq!(reloaded.kind(), loaded(name, private).kind(), "{name}");
    }
}

#[test]
fn a_verifier_takes_a_public_key_or_the_public_half_of_a_private_key() {
    for (name, private, public_pem) in PAIRS {
        let key = loaded(name, private);
        for (form, pem) in [("public", public_pem), ("private", private)] {
            let verifying = VerifyingKey::from_public_or_private_pem(key_pair_id(), pem)
                .unwrap_or_else(|e| panic!("{name} {form}: {e}"));
            assert_eq!(verifying.kind(), key.kind(), "{name} {form}");
            for hash in HASHES {
                let signed = signature(&key, hash);
                assert!(verifying.verify(hash, MESSAGE, &signed), "{name} {form} {hash}");
                assert!(
                    !verifying.verify(hash, b"another policy", &signed),
                    "{name} {form} {hash}"
                );
            }
        }
    }
    // A key of the other pair verifies nothing signed here.
    let other =
        VerifyingKey::from_public_or_private_pem(key_pair_id(), OTHER_P256_PUBLIC).expect("other key");
    assert!(!other.verify(
        HashAlgorithm::Sha256,
        MESSAGE,
        &signature(&loaded("p256", P256_PKCS8), HashAlgorithm::Sha256)
    ));
}

#[test]
fn a_verifier_refuses_what_is_neither_a_public_nor_a_private_key_saying_what_it_takes() {
    let error = VerifyingKey::from_public_or_private_pem(key_pair_id(), RSA2048_CERTIFICATE)
        .expect_err("a certificate");
    let KeyError::UnsupportedLabel(message) = &error else {
        panic!("{error:?}");
    };
    assert!(message.contains("\"CERTIFICATE\""), "{message}");
    assert!(
        message.contains("PUBLIC KEY") && message.contains("PRIVATE KEY"),
        "{message}"
    );
    // The private key's own refusals still say why.
    for (pem, expected) in [
        (RSA2048_PKCS8_ENCRYPTED, KeyError::Encrypted),
        (RSA3072_PKCS8, KeyError::RsaKeySize(3072)),
    ] {
        assert_eq!(
            VerifyingKey::from_public_or_private_pem(key_pair_id(), pem).expect_err("refused"),
            expected
        );
    }
}
