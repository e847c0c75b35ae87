//! CloudFront signing keys held in KMS, against moto's KMS (which signs with real keys): a suitable key
//! connects, and cookie sets signed through it verify with edgepass's verifier (and, in
//! `kms_service`, the service's cookies and URLs with Python's `cryptography` too); an unsuitable or
//! missing key is refused with a message that says why.

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use edgepass::aws::kms::{KmsError, KmsKey, KmsTarget};
use edgepass::signing::{KeyPairId, Policy, ViewerRequest, encoding, verify};

use crate::moto::Moto;

const RESOURCE: &str = "https://cdn.example.com/users/42/albums/abcdefghijklmnopqrstuvwxyz/*";
const EXPIRES: u64 = 4_000_000_000;

fn target(moto: &Moto) -> KmsTarget {
    KmsTarget {
        region: "us-east-1".to_owned(),
        endpoint_url: Some(moto.endpoint().to_owned()),
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
    }
}

/// A KMS client for moto.
pub(crate) async fn kms_client(moto: &Moto) -> aws_sdk_kms::Client {
    let shared = edgepass::aws::sdk_config("us-east-1", Some(("testing", "testing"))).await;
    aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(&shared)
            .endpoint_url(moto.endpoint())
            .build(),
    )
}

/// Creates a key in moto's KMS and returns its id.
pub(crate) async fn create_key(moto: &Moto, spec: KeySpec, usage: KeyUsageType) -> String {
    let created = kms_client(moto)
        .await
        .create_key()
        .key_spec(spec)
        .key_usage(usage)
        .send()
        .await
        .expect("CreateKey");
    created.key_metadata().expect("metadata").key_id().to_owned()
}

fn key_pair_id() -> KeyPairId {
    KeyPairId::parse("K2KMSEXAMPLE01").expect("id")
}

#[tokio::test]
async fn cookie_sets_signed_through_kms_verify_with_both_key_kinds() {
    let moto = Moto::start().await;
    for spec in [KeySpec::EccNistP256, KeySpec::Rsa2048] {
        let id = create_key(&moto, spec.clone(), KeyUsageType::SignVerify).await;
        let key = KmsKey::connect(&target(&moto), &id, key_pair_id())
            .await
            .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        let policy = Policy::new(RESOURCE, EXPIRES).expect("policy");
        let json = policy.to_json();
        let signature = key.sign(json.as_bytes()).await.expect("sign");
        let (encoded_policy, encoded_signature) =
            (encoding::encode(json.as_bytes()), encoding::encode(&signature));
        let cookies = [
            ("CloudFront-Policy", encoded_policy.as_str()),
            ("CloudFront-Signature", encoded_signature.as_str()),
            ("CloudFront-Key-Pair-Id", "K2KMSEXAMPLE01"),
            ("CloudFront-Hash-Algorithm", "SHA256"),
        ];
        let keys = key.public_key();
        let request = |url: &'static str| ViewerRequest {
            url,
            cookies: &cookies,
            viewer_ip: None,
            now: EXPIRES - 60,
        };
        let inside = "https://cdn.example.com/users/42/albums/abcdefghijklmnopqrstuvwxyz/a.png";
        assert!(verify(keys, &request(inside)).is_ok(), "{spec:?}");
        assert!(
            verify(keys, &request("https://cdn.example.com/users/42/a.png")).is_err(),
            "{spec:?}"
        );
        // A signature of other bytes does not pass for this policy.
        let other = key.sign(b"another policy").await.expect("sign");
        assert!(
            !key.public_key().verify(key.hash(), json.as_bytes(), &other),
            "{spec:?}"
        );
    }
}

#[tokio::test]
async fn keys_cloudfront_cannot_use_are_refused_with_the_reason() {
    let moto = Moto::start().await;
    let wrong_spec = create_key(&moto, KeySpec::Rsa4096, KeyUsageType::SignVerify).await;
    let encryption = create_key(&moto, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let target = target(&moto);

    let refused = KmsKey::connect(&target, &wrong_spec, key_pair_id())
        .await
        .expect_err("RSA_4096");
    assert!(matches!(refused, KmsError::Unsuitable { .. }), "{refused:?}");
    assert!(
        refused.to_string().contains("RSA_4096") && refused.to_string().contains("ECC_NIST_P256"),
        "{refused}"
    );

    let refused = KmsKey::connect(&target, &encryption, key_pair_id())
        .await
        .expect_err("encryption key");
    assert!(refused.to_string().contains("SIGN_VERIFY"), "{refused}");

    let missing = "11111111-2222-3333-4444-555555555555";
    let refused = KmsKey::connect(&target, missing, key_pair_id())
        .await
        .expect_err("missing key");
    assert!(matches!(refused, KmsError::Refused { .. }), "{refused:?}");
    assert!(refused.to_string().contains("GetPublicKey"), "{refused}");
}

/// A KMS endpoint that answers every call with the error `kind`, counting the calls.
async fn failing_endpoint(kind: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&calls);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let counted = std::sync::Arc::clone(&counted);
            tokio::spawn(async move {
                // The request is small; its end is not needed to answer it.
                let mut request = [0u8; 8192];
                let _ = stream.read(&mut request).await;
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let body = format!(r#"{{"__type":"{kind}","message":"refused by the test endpoint"}}"#);
                let reply = format!(
                    "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    (endpoint, calls)
}

#[tokio::test]
async fn a_throttled_kms_is_tried_a_bounded_number_of_times_and_then_fails() {
    let (endpoint, calls) = failing_endpoint("ThrottlingException").await;
    let target = KmsTarget {
        region: "us-east-1".to_owned(),
        endpoint_url: Some(endpoint),
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
    };
    let started = std::time::Instant::now();
    let refused = KmsKey::connect(&target, "alias/edgepass", key_pair_id())
        .await
        .expect_err("throttled");
    assert!(matches!(refused, KmsError::Throttled { .. }), "{refused:?}");
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        edgepass::aws::kms::ATTEMPTS as usize
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_key_the_service_may_not_use_is_refused_at_once_with_kms_s_reason() {
    let (endpoint, calls) = failing_endpoint("AccessDeniedException").await;
    let target = KmsTarget {
        region: "us-east-1".to_owned(),
        endpoint_url: Some(endpoint),
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
    };
    let refused = KmsKey::connect(&target, "alias/edgepass", key_pair_id())
        .await
        .expect_err("access denied");
    assert!(matches!(refused, KmsError::Refused { .. }), "{refused:?}");
    assert!(
        refused
            .to_string()
            .contains("GetPublicKey: AccessDeniedException"),
        "{refused}"
    );
    assert_eq!(
        calls.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "a refusal is not retried"
    );
}

#[tokio::test]
async fn explain_without_flags_verifies_with_the_configured_kms_key() {
    let moto = Moto::start().await;
    let id = create_key(&moto, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let other = create_key(&moto, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let sign_cookies = |key: KmsKey| async move {
        let json = Policy::new(RESOURCE, EXPIRES).expect("policy").to_json();
        let signature = key.sign(json.as_bytes()).await.expect("sign");
        format!(
            "CloudFront-Policy={}; CloudFront-Signature={}; CloudFront-Key-Pair-Id=K2KMSEXAMPLE01; \
             CloudFront-Hash-Algorithm=SHA256",
            encoding::encode(json.as_bytes()),
            encoding::encode(&signature)
        )
    };
    let ours = sign_cookies(
        KmsKey::connect(&target(&moto), &id, key_pair_id())
            .await
            .expect("key"),
    )
    .await;
    let theirs = sign_cookies(
        KmsKey::connect(&target(&moto), &other, key_pair_id())
            .await
            .expect("key"),
    )
    .await;
    let explain = |cookies: String| {
        let endpoint = moto.endpoint().to_owned();
        let id = id.clone();
        async move {
            let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgepass"))
                .args([
                    "explain",
                    "--url",
                    "https://cdn.example.com/users/42/albums/abcdefghijklmnopqrstuvwxyz/a.png",
                    "--cookie",
                    &cookies,
                    "--now",
                    "2026-12-01",
                ])
                .env_clear()
                .env("EDGEPASS_CDN_KMS_KEY_ID", &id)
                .env("EDGEPASS_CDN_KEY_PAIR_ID", "K2KMSEXAMPLE01")
                .env("EDGEPASS_KMS_ENDPOINT_URL", &endpoint)
                .env("EDGEPASS_AWS_ACCESS_KEY_ID", "testing")
                .env("EDGEPASS_AWS_SECRET_ACCESS_KEY", "testing")
                .output()
                .await
                .expect("the edgepass binary runs");
            (
                output.status.code(),
                String::from_utf8(output.stdout).expect("UTF-8"),
                String::from_utf8(output.stderr).expect("UTF-8"),
            )
        }
    };
    let (code, stdout, stderr) = explain(ours).await;
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("ALLOW GET"), "{stdout}");
    let (code, stdout, stderr) = explain(theirs).await;
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("bad signature"), "{stdout}");
}
