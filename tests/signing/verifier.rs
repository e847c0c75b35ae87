//! The verifier's decisions beyond the round trip: precedence, malformed input, and each denial reason.

use edgepass::signing::{
    Denial, HashAlgorithm, KeyPairId, KeyRing, KeyRingError, Policy, SignatureSource, Signer, SigningKey,
    ViewerRequest, encoding, verify,
};

use super::support::{ecdsa_key, rsa_key, trusted_keys, vector_file};

const PHOTO: &str = "https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg";
const PREFIX: &str = "https://d111111abcdef8.cloudfront.net/users/alice/*";
const NOW: u64 = 1_800_000_000;
const EXPIRY: u64 = 1_893_456_000;

fn at<'a>(url: &'a str, cookies: &'a [(&'a str, &'a str)]) -> ViewerRequest<'a> {
    ViewerRequest {
        url,
        cookies,
        viewer_ip: None,
        now: NOW,
    }
}

fn prefix_cookies() -> Vec<(&'static str, String)> {
    Signer::new(&rsa_key(), HashAlgorithm::Sha1)
        .sign_cookies(&Policy::new(PREFIX, EXPIRY).expect("policy"))
        .expect("cookies")
        .pairs()
}

fn borrowed<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

#[test]
fn signed_url_parameters_take_precedence_over_valid_cookies() {
    let cookies = prefix_cookies();
    let cookies = borrowed(&cookies);
    assert_eq!(
        verify(&trusted_keys(), &at(PHOTO, &cookies)).map(|g| g.source),
        Ok(SignatureSource::Cookies)
    );
    // A broken signed URL is judged on its own, even though the cookies would allow the request.
    let broken = format!("{PHOTO}?Expires={EXPIRY}&Signature=AAAA&Key-Pair-Id=K2JCJMDEHXQW5F");
    assert_eq!(
        verify(&trusted_keys(), &at(&broken, &cookies)),
        Err(Denial::BadSignature)
    );
    let only_hash = format!("{PHOTO}?Hash-Algorithm=SHA1");
    assert_eq!(
        verify(&trusted_keys(), &at(&only_hash, &cookies)),
        Err(Denial::MissingKeyPairId)
    );
}

#[test]
fn an_unsigned_request_is_missing_its_key_pair_id() {
    assert_eq!(
        verify(&trusted_keys(), &at(PHOTO, &[])),
        Err(Denial::MissingKeyPairId)
    );
    assert_eq!(Denial::MissingKeyPairId.cloudfront_code(), "MissingKey");
}

#[test]
fn each_missing_or_malformed_part_has_its_own_reason() {
    let keys = trusted_keys();
    let cases: [(&str, Denial); 7] = [
        (
            "Key-Pair-Id=KUNKNOWN&Signature=AAAA&Expires=1",
            Denial::UnknownKey("KUNKNOWN".to_owned()),
        ),
        ("Key-Pair-Id=K2JCJMDEHXQW5F&Expires=1", Denial::MissingSignature),
        (
            "Key-Pair-Id=K2JCJMDEHXQW5F&Signature=a+b=&Expires=1",
            Denial::MalformedSignature,
        ),
        ("Key-Pair-Id=K2JCJMDEHXQW5F&Signature=AAAA", Denial::MissingPolicy),
        (
            "Key-Pair-Id=K2JCJMDEHXQW5F&Signature=AAAA&Expires=soon",
            Denial::MalformedPolicy("Expires is not a whole number of seconds".to_owned()),
        ),
        (
            "Key-Pair-Id=K2JCJMDEHXQW5F&Signature=AAAA&Policy=%%%",
            Denial::MalformedPolicy("not CloudFront base64".to_owned()),
        ),
        (
            "Key-Pair-Id=K2JCJMDEHXQW5F&Signature=AAAA&Expires=1&Hash-Algorithm=MD5",
            Denial::UnsupportedHashAlgorithm("MD5".to_owned()),
        ),
    ];
    for (query, expected) in cases {
        let url = format!("{PHOTO}?{query}");
        assert_eq!(verify(&keys, &at(&url, &[])), Err(expected), "{query}");
    }
}

#[test]
fn a_signed_but_malformed_policy_is_reported_as_malformed() {
    let key = rsa_key();
    let keys = trusted_keys();
    for (json, why) in [
        ("{}", "no Statement array"),
        (r#"{"Statement":[]}"#, "Statement must hold exactly one statement"),
        (r#"{"Statement":[{"Resource":"*"}]}"#, "no Condition object"),
        (
            r#"{"Statement":[{"Resource":"*","Condition":{}}]}"#,
            "no DateLessThan condition",
        ),
        (
            r#"{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":"1"}}}]}"#,
            "DateLessThan needs exactly one integer AWS:EpochTime",
        ),
        (
            r#"{"Statement":[{"Resource":"*","Condition":{"DateLessThan":{"AWS:EpochTime":1},"Until":1}}]}"#,
            "unknown condition \"Until\"",
        ),
        (
            r#"{"Statement":[{"Resource":"*","Effect":"Allow","Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]}"#,
            "unknown statement field \"Effect\"",
        ),
        ("not json", "not JSON"),
    ] {
        let signature = encoding::encode(&key.sign(HashAlgorithm::Sha1, json.as_bytes()).expect("sign"));
        let url = format!(
            "{PHOTO}?Policy={}&Signature={signature}&Key-Pair-Id=K2JCJMDEHXQW5F",
            encoding::encode(json.as_bytes())
        );
        assert_eq!(
            verify(&keys, &at(&url, &[])),
            Err(Denial::MalformedPolicy(why.to_owned())),
            "{json}"
        );
    }
}

#[test]
fn the_hash_must_match_the_signature() {
    let url = Signer::new(&ecdsa_key(), HashAlgorithm::Sha256)
        .sign_url(PHOTO, &Policy::new(PHOTO, EXPIRY).expect("policy"))
        .expect("url");
    let keys = trusted_keys();
    assert!(verify(&keys, &at(&url, &[])).is_ok());
    let downgraded = url.replace("&Hash-Algorithm=SHA256", "");
    assert_eq!(verify(&keys, &at(&downgraded, &[])), Err(Denial::BadSignature));
}

#[test]
fn a_policy_without_resource_covers_every_url() {
    let key = rsa_key();
    let json =
        format!(r#"{{"Statement":[{{"Condition":{{"DateLessThan":{{"AWS:EpochTime":{EXPIRY}}}}}}}]}}"#);
    let signature = encoding::encode(&key.sign(HashAlgorithm::Sha1, json.as_bytes()).expect("sign"));
    let url = format!(
        "https://elsewhere.example/any/thing?Policy={}&Signature={signature}&Key-Pair-Id=K2JCJMDEHXQW5F",
        encoding::encode(json.as_bytes())
    );
    assert!(verify(&trusted_keys(), &at(&url, &[])).is_ok());
}

#[test]
fn the_key_ring_signs_with_the_active_key_and_verifies_with_all_until_retired() {
    let rsa = rsa_key();
    let mut ring = KeyRing::new(rsa_key()).expect("ring");
    ring.add_signing_key(ecdsa_key()).expect("second key");
    let policy = Policy::new(PHOTO, EXPIRY).expect("policy");
    let old_url = Signer::new(ring.active(), HashAlgorithm::Sha1)
        .sign_url(PHOTO, &policy)
        .expect("url");
    assert_eq!(ring.active().key_pair_id(), rsa.key_pair_id());

    let ecdsa_id = KeyPairId::parse("K3ECDSAP256TEST").expect("id");
    ring.activate(&ecdsa_id).expect("activate");
    let new_url = Signer::new(ring.active(), HashAlgorithm::Sha256)
        .sign_url(PHOTO, &policy)
        .expect("url");
    assert!(new_url.contains("Key-Pair-Id=K3ECDSAP256TEST"));
    assert!(
        verify(&ring, &at(&old_url, &[])).is_ok(),
        "old signatures still verify after rotation"
    );
    assert!(verify(&ring, &at(&new_url, &[])).is_ok());

    assert_eq!(
        ring.retire(&ecdsa_id),
        Err(KeyRingError::RetiringActiveKey(ecdsa_id.clone()))
    );
    ring.retire(rsa.key_pair_id()).expect("retire old key");
    assert_eq!(
        verify(&ring, &at(&old_url, &[])),
        Err(Denial::UnknownKey("K2JCJMDEHXQW5F".to_owned()))
    );
    assert_eq!(ring.key_pair_ids().collect::<Vec<_>>(), vec![&ecdsa_id]);

    let duplicate = SigningKey::from_pem(ecdsa_id.clone(), &vector_file("ecdsa_p256_private_pkcs8.pem"));
    assert_eq!(
        ring.add_signing_key(duplicate.expect("key")),
        Err(KeyRingError::DuplicateKey(ecdsa_id))
    );
    let missing = KeyPairId::parse("KMISSING").expect("id");
    assert_eq!(ring.activate(&missing), Err(KeyRingError::UnknownKey(missing)));
}
