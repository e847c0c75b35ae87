//! CloudFront cookies: what a login sets, checked with edgepass's own CloudFront verifier.

use std::net::IpAddr;

use edgepass::signing::{
    Denial, Grant, HashAlgorithm, KeyKind, KeyLookup, KeyPairId, SignatureSource, VerifyingKey,
    ViewerRequest, encoding, verify,
};
use reqwest::cookie::CookieStore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{EPOCH, PASSWORD, RSA_KEY_PAIR_ID, Reply, TestApp, rsa_key_file, send};

const LOCALHOST: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// The CloudFront cookies a reply sets, without the ones it expires.
fn cloudfront_cookies(reply: &Reply) -> Vec<(String, String)> {
    reply
        .set_cookies()
        .into_iter()
        .filter(|c| c.name.starts_with("CloudFront-") && c.get("Max-Age") != Some("0"))
        .map(|c| (c.name, c.value))
        .collect()
}

fn cookie<'a>(cookies: &'a [(String, String)], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {cookies:?}"))
}

/// CloudFront's decision for `url` requested with `cookies` by `viewer` at `now`.
fn decide(
    keys: &(impl KeyLookup + ?Sized),
    cookies: &[(String, String)],
    url: &str,
    viewer: Option<IpAddr>,
    now: u64,
) -> Result<Grant, Denial> {
    let pairs: Vec<(&str, &str)> = cookies.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    verify(
        keys,
        &ViewerRequest {
            url,
            cookies: &pairs,
            viewer_ip: viewer,
            now,
        },
    )
}

/// The decoded `CloudFront-Policy`.
fn policy(cookies: &[(String, String)]) -> Value {
    let bytes = encoding::decode(cookie(cookies, "CloudFront-Policy")).expect("CloudFront base64");
    serde_json::from_slice(&bytes).expect("policy JSON")
}

/// A user's image URL on the CDN.
fn image(app: &TestApp, user: impl std::fmt::Display, file: &str) -> String {
    format!("{}/users/{user}/{file}", app.state.bound.cdn_base_url)
}

/// The published public key of the RSA test key, trusted on its own.
struct PublishedKey(VerifyingKey);

impl PublishedKey {
    fn rsa() -> Self {
        let pem = std::fs::read_to_string(rsa_key_file().with_file_name("rsa2048_public.pem"))
            .expect("public key fixture");
        Self(
            VerifyingKey::from_pem(KeyPairId::parse(RSA_KEY_PAIR_ID).expect("id"), &pem).expect("public key"),
        )
    }
}

impl KeyLookup for PublishedKey {
    fn verifying_key(&self, key_pair_id: &str) -> Option<&VerifyingKey> {
        (self.0.key_pair_id().as_str() == key_pair_id).then_some(&self.0)
    }
}

#[tokio::test]
async fn login_cookies_verify_for_the_users_own_prefix() {
    let app = TestApp::spawn().await;
    let id = app.signed_up("alice@example.com").await;

    let reply = app.login("alice@example.com", PASSWORD).await;
    let cookies = cloudfront_cookies(&reply);
    let keys = app.state.cdn.keys();

    for file in ["any.jpg", "2026/11/holiday.png", "a b.jpg"] {
        let grant = decide(keys, &cookies, &image(&app, id, file), None, app.now())
            .unwrap_or_else(|denial| panic!("{file}: {denial}"));
        assert_eq!(grant.source, SignatureSource::Cookies);
        assert_eq!(grant.key_pair_id, cookie(&cookies, "CloudFront-Key-Pair-Id"));
        assert_eq!(Some(grant.expires), reply.json()["cdn"]["expires_at"].as_u64());
    }
}

#[tokio::test]
async fn login_cookies_are_denied_for_other_users_prefixes() {
    let app = TestApp::spawn().await;
    let bob = app.signed_up("bob@example.com").await;
    let id = app.signed_up("alice@example.com").await;

    let cookies = cloudfront_cookies(&app.login("alice@example.com", PASSWORD).await);
    let keys = app.state.cdn.keys();

    let base = &app.state.bound.cdn_base_url;
    for url in [
        image(&app, bob, "any.jpg"),
        image(&app, format!("{id}0"), "any.jpg"),
        format!("{base}/users/{id}"),
        format!("{base}/users/any.jpg"),
        format!("{base}/other/{id}/any.jpg"),
        format!("https://elsewhere.example.com/users/{id}/any.jpg"),
    ] {
        assert_eq!(
            decide(keys, &cookies, &url, None, app.now()),
            Err(Denial::ResourceMismatch),
            "{url}"
        );
    }
}

#[tokio::test]
async fn login_cookies_are_denied_from_their_expiry_on() {
    let app = TestApp::spawn().await;
    let id = app.signed_up("alice@example.com").await;

    let reply = app.login("alice@example.com", PASSWORD).await;
    let cookies = cloudfront_cookies(&reply);
    let expires_at = reply.json()["cdn"]["expires_at"].as_u64().expect("expires_at");
    let keys = app.state.cdn.keys();
    let url = image(&app, id, "any.jpg");

    assert!(decide(keys, &cookies, &url, None, expires_at - 1).is_ok());
    for now in [expires_at, expires_at + 1, expires_at + 86_400] {
        assert_eq!(
            decide(keys, &cookies, &url, None, now),
            Err(Denial::Expired { at: expires_at })
        );
    }
}

#[tokio::test]
async fn the_cookies_a_browser_sends_to_the_cdn_open_only_the_users_own_prefix() {
    let app = TestApp::spawn().await;
    let bob = app.signed_up("bob@example.com").await;
    let (alice_browser, alice_jar) = crate::helpers::browser();
    let registered = send(
        alice_browser
            .post(app.url("/api/auth/register"))
            .json(&json!({ "email": "alice@example.com", "password": PASSWORD })),
    )
    .await;
    let id = registered.json()["user"]["id"].as_i64().expect("id");

    let sent = |url: &str| -> Vec<(String, String)> {
        alice_jar
            .cookies(&reqwest::Url::parse(url).expect("url"))
            .map(|header| {
                header
                    .to_str()
                    .expect("ascii")
                    .split("; ")
                    .filter_map(|pair| pair.split_once('='))
                    .filter(|(name, _)| name.starts_with("CloudFront-"))
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let own = image(&app, id, "photo.jpg");
    let cookies = sent(&own);
    assert_eq!(
        cookies.len(),
        4,
        "policy, signature, key-pair id, hash: {cookies:?}"
    );
    assert!(decide(app.state.cdn.keys(), &cookies, &own, None, app.now()).is_ok());
    assert!(
        sent(&image(&app, bob, "photo.jpg")).is_empty(),
        "the cookie path keeps them from other prefixes"
    );
    assert!(sent(&app.url("/api/me")).is_empty());
}

#[tokio::test]
async fn cloudfront_cookies_are_scoped_to_the_users_prefix_http_only_and_lax_without_max_age_or_domain() {
    let app = TestApp::spawn().await;
    let id = app.signed_up("alice@example.com").await;

    let reply = app.login("alice@example.com", PASSWORD).await;

    let path = format!("/users/{id}/");
    for name in [
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
        "CloudFront-Hash-Algorithm",
    ] {
        let cookie = reply.set_cookie(name);
        assert!(!cookie.value.is_empty(), "{name}");
        assert_eq!(cookie.get("Path"), Some(path.as_str()), "{name}");
        assert!(cookie.has("HttpOnly"), "{name}");
        assert_eq!(cookie.get("SameSite"), Some("Lax"), "{name}");
        assert!(
            !cookie.has("Max-Age") && !cookie.has("Expires"),
            "{name}: {cookie:?}"
        );
        assert!(!cookie.has("Domain"), "{name}");
        assert!(!cookie.has("Secure"), "{name}: plain-HTTP local mode");
    }
    assert_eq!(reply.set_cookie("CloudFront-Hash-Algorithm").value, "SHA256");
    let canned = reply.set_cookie("CloudFront-Expires");
    assert_eq!(canned.value, "", "a stale canned-policy cookie is cleared");
    assert_eq!(canned.get("Max-Age"), Some("0"));
    assert_eq!(canned.get("Path"), Some(path.as_str()));
}

#[tokio::test]
async fn cloudfront_cookies_carry_the_configured_domain_and_max_age_and_logout_clears_them_there() {
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_CDN_COOKIE_DOMAIN", "example.test"),
        ("EDGEPASS_CDN_COOKIE_MAX_AGE_SECS", "7200"),
    ])
    .await;

    let reply = app.register("alice@example.com", PASSWORD).await;
    let id = reply.json()["user"]["id"].as_i64().expect("id");

    for name in [
        "CloudFront-Policy",
        "CloudFront-Signature",
        "CloudFront-Key-Pair-Id",
    ] {
        let cookie = reply.set_cookie(name);
        assert_eq!(cookie.get("Domain"), Some("example.test"), "{name}");
        assert_eq!(cookie.get("Max-Age"), Some("7200"), "{name}");
    }
    let session = reply.set_cookie("edgepass_session");
    assert!(!session.has("Domain"), "the session cookie stays host-only");

    let logout = app.logout().await;
    for cookie in logout.set_cookies() {
        if cookie.name.starts_with("CloudFront-") {
            assert_eq!(cookie.get("Domain"), Some("example.test"), "{cookie:?}");
            assert_eq!(cookie.get("Max-Age"), Some("0"), "{cookie:?}");
            assert_eq!(cookie.get("Path"), Some(format!("/users/{id}/").as_str()));
        }
    }
}

#[tokio::test]
async fn a_cdn_base_url_with_a_path_puts_that_path_in_front_of_the_prefix() {
    let app = TestApp::spawn_with(&[("EDGEPASS_CDN_BASE_URL", "https://cdn.example.com/media/")]).await;

    let reply = app.register("alice@example.com", PASSWORD).await;
    let body = reply.json();
    let id = body["user"]["id"].as_i64().expect("id");

    assert_eq!(
        body["cdn"]["resource"],
        format!("https://cdn.example.com/media/users/{id}/*")
    );
    assert_eq!(body["cdn"]["cookie_path"], format!("/media/users/{id}/"));
    assert_eq!(
        reply.set_cookie("CloudFront-Signature").get("Path"),
        Some(format!("/media/users/{id}/").as_str())
    );
    let cookies = cloudfront_cookies(&reply);
    let url = format!("https://cdn.example.com/media/users/{id}/a.jpg");
    assert!(decide(app.state.cdn.keys(), &cookies, &url, None, app.now()).is_ok());
}

#[tokio::test]
async fn cookie_lifetime_is_the_ttl_rounded_up_to_the_expiry_window() {
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_CDN_COOKIE_TTL_SECS", "1000"),
        ("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", "300"),
    ])
    .await;
    app.advance(1);

    let reply = app.register("alice@example.com", PASSWORD).await;

    let expected = EPOCH + 1200;
    assert_eq!(reply.json()["cdn"]["expires_at"], expected);
    let cookies = cloudfront_cookies(&reply);
    assert_eq!(
        policy(&cookies)["Statement"][0]["Condition"]["DateLessThan"]["AWS:EpochTime"],
        expected
    );

    app.advance(199);
    let later = app.login("alice@example.com", PASSWORD).await;
    assert_eq!(
        later.json()["cdn"]["expires_at"],
        expected,
        "the same window, the same expiry"
    );
    app.advance(1);
    let next = app.login("alice@example.com", PASSWORD).await;
    assert_eq!(next.json()["cdn"]["expires_at"], expected + 300);
}

#[tokio::test]
async fn the_policy_names_the_users_prefix_and_only_an_expiry() {
    let app = TestApp::spawn().await;

    let reply = app.register("alice@example.com", PASSWORD).await;
    let id = reply.json()["user"]["id"].as_i64().expect("id");

    assert_eq!(
        policy(&cloudfront_cookies(&reply)),
        json!({
            "Statement": [{
                "Resource": image(&app, id, "*"),
                "Condition": { "DateLessThan": { "AWS:EpochTime": EPOCH + 3600 } }
            }]
        })
    );
}

#[tokio::test]
async fn minting_again_sets_new_cookies_and_me_reports_the_new_expiry() {
    let app = TestApp::spawn().await;
    let id = app.signed_up("alice@example.com").await;
    app.advance(600);

    let reply = app.mint_cookies().await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let expires_at = EPOCH + 600 + 3600;
    assert_eq!(
        reply.json(),
        json!({
            "delivery": "cloudfront",
            "expires_at": expires_at,
            "resource": image(&app, id, "*"),
            "cookie_path": format!("/users/{id}/"),
            "expired_album_sets": [],
        })
    );
    let cookies = cloudfront_cookies(&reply);
    assert!(
        decide(
            app.state.cdn.keys(),
            &cookies,
            &image(&app, id, "a.jpg"),
            None,
            EPOCH + 4000
        )
        .is_ok()
    );
    assert_eq!(app.me().await.json()["cdn_expires_at"], expires_at);
}

#[tokio::test]
async fn minting_without_a_session_returns_401() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::POST, "/api/cdn/cookies")).await;

    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(app.metric("edgepass_cdn_cookies_minted_total").await, 0.0);
}

#[tokio::test]
async fn binding_to_the_viewer_ip_puts_it_in_the_policy_and_verifies_only_for_that_ip() {
    let app = TestApp::spawn_with(&[("EDGEPASS_CDN_BIND_VIEWER_IP", "true")]).await;
    let id = app.signed_up("alice@example.com").await;

    let cookies = cloudfront_cookies(&app.login("alice@example.com", PASSWORD).await);

    assert_eq!(
        policy(&cookies)["Statement"][0]["Condition"]["IpAddress"],
        json!({ "AWS:SourceIp": "127.0.0.1/32" })
    );
    let keys = app.state.cdn.keys();
    let url = image(&app, id, "any.jpg");
    assert!(decide(keys, &cookies, &url, Some(LOCALHOST), app.now()).is_ok());
    for viewer in [
        Some("10.0.0.1".parse().expect("ip")),
        Some("127.0.0.2".parse().expect("ip")),
        None,
    ] {
        assert_eq!(
            decide(keys, &cookies, &url, viewer, app.now()),
            Err(Denial::IpNotAllowed),
            "{viewer:?}"
        );
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_viewer_ip_is_bound() {
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_CDN_BIND_VIEWER_IP", "true"),
        ("EDGEPASS_TRUST_FORWARDED_FOR", "true"),
    ])
    .await;

    let reply = send(
        app.raw_request(Method::POST, "/api/auth/register")
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
            .json(&json!({ "email": "alice@example.com", "password": PASSWORD })),
    )
    .await;

    assert_eq!(
        policy(&cloudfront_cookies(&reply))["Statement"][0]["Condition"]["IpAddress"],
        json!({ "AWS:SourceIp": "203.0.113.7/32" })
    );
}

#[tokio::test]
async fn without_viewer_binding_the_policy_has_no_ip_condition() {
    let app = TestApp::spawn().await;

    let reply = send(
        app.raw_request(Method::POST, "/api/auth/register")
            .header("x-forwarded-for", "203.0.113.7")
            .json(&json!({ "email": "alice@example.com", "password": PASSWORD })),
    )
    .await;
    let id = reply.json()["user"]["id"].as_i64().expect("id");
    let cookies = cloudfront_cookies(&reply);

    assert!(
        policy(&cookies)["Statement"][0]["Condition"]
            .get("IpAddress")
            .is_none()
    );
    let other_viewer = Some("192.0.2.55".parse().expect("ip"));
    assert!(
        decide(
            app.state.cdn.keys(),
            &cookies,
            &image(&app, id, "a.jpg"),
            other_viewer,
            app.now()
        )
        .is_ok()
    );
}

#[tokio::test]
async fn local_mode_generates_an_ecdsa_key_in_the_data_folder_and_keeps_it_across_restarts() {
    let first = TestApp::spawn().await;
    let key_file = first.data_dir.join("cdn-signing-key.pem");
    let id_file = first.data_dir.join("cdn-key-pair-id");
    assert!(key_file.is_file(), "{key_file:?}");
    let key_pair_id = std::fs::read_to_string(&id_file).expect("key-pair id file");
    let active = first.state.cdn.local_key().expect("an in-process key");
    assert_eq!(active.kind(), KeyKind::EcdsaP256);
    assert_eq!(active.key_pair_id().as_str(), key_pair_id.trim());
    assert_eq!(first.state.cdn.hash(), HashAlgorithm::Sha256);

    let reply = first.register("alice@example.com", PASSWORD).await;
    let id = reply.json()["user"]["id"].as_i64().expect("id");
    let cookies = cloudfront_cookies(&reply);
    assert_eq!(cookie(&cookies, "CloudFront-Key-Pair-Id"), key_pair_id.trim());
    assert_eq!(cookie(&cookies, "CloudFront-Hash-Algorithm"), "SHA256");

    let data_dir = first.data_dir.to_str().expect("utf-8 path").to_owned();
    let second = TestApp::spawn_with(&[("EDGEPASS_DATA_DIR", data_dir.as_str())]).await;
    assert_eq!(
        second
            .state
            .cdn
            .local_key()
            .expect("an in-process key")
            .key_pair_id()
            .as_str(),
        key_pair_id.trim()
    );
    let url = image(&first, id, "a.jpg");
    assert!(decide(second.state.cdn.keys(), &cookies, &url, None, EPOCH).is_ok());
}

/// `edgepass verify` of `url` with `cookies` at `now`, trusting `key` (KEY_PAIR_ID=FILE): its answer line.
fn edgepass_verify(url: &str, cookies: &[(String, String)], key: &str, now: u64) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_edgepass"));
    command.args([
        "verify",
        "--url",
        url,
        "--public-key",
        key,
        "--now",
        &now.to_string(),
    ]);
    for (name, value) in cookies {
        command.arg("--cookie").arg(format!("{name}={value}"));
    }
    let output = command.output().expect("the edgepass binary runs");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim_end()
        .to_owned()
}

#[tokio::test]
async fn local_mode_keeps_the_public_key_beside_its_own_so_edgepass_verify_can_judge_its_cookies() {
    let app = TestApp::spawn().await;
    let reply = app.register("alice@example.com", PASSWORD).await;
    let id = reply.json()["user"]["id"].as_i64().expect("id");
    let cookies = cloudfront_cookies(&reply);
    let key_pair_id = std::fs::read_to_string(app.data_dir.join("cdn-key-pair-id")).expect("id file");
    let key_pair_id = key_pair_id.trim();

    // The public half written beside the key, and the private key itself, whose public half verify takes.
    for file in ["cdn-public.pem", "cdn-signing-key.pem"] {
        let trusted = format!("{key_pair_id}={}", app.data_dir.join(file).display());
        let own = edgepass_verify(&image(&app, id, "a.jpg"), &cookies, &trusted, app.now());
        assert_eq!(own, "allow", "{file}");
        let other = edgepass_verify(&image(&app, id + 1, "a.jpg"), &cookies, &trusted, app.now());
        assert!(other.starts_with("deny: resource mismatch"), "{file}: {other}");
    }
}

async fn assert_rsa_cookies_verify(algorithm: &str, hash: &str) {
    let key_file = rsa_key_file();
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_CDN_KEY_PAIR_ID", RSA_KEY_PAIR_ID),
        (
            "EDGEPASS_CDN_PRIVATE_KEY_FILE",
            key_file.to_str().expect("utf-8 path"),
        ),
        ("EDGEPASS_CDN_ALGORITHM", algorithm),
    ])
    .await;
    assert_eq!(
        app.state.cdn.local_key().expect("an in-process key").kind(),
        KeyKind::Rsa2048
    );
    assert!(
        !app.data_dir.join("cdn-signing-key.pem").exists(),
        "no key is generated when one is configured"
    );
    let id = app.signed_up("alice@example.com").await;

    let reply = app.login("alice@example.com", PASSWORD).await;
    let cookies = cloudfront_cookies(&reply);

    assert_eq!(cookie(&cookies, "CloudFront-Key-Pair-Id"), RSA_KEY_PAIR_ID);
    assert_eq!(cookie(&cookies, "CloudFront-Hash-Algorithm"), hash);
    let signature = encoding::decode(cookie(&cookies, "CloudFront-Signature")).expect("base64");
    assert_eq!(signature.len(), 256, "an RSA-2048 signature");
    let url = image(&app, id, "any.jpg");
    let grant = decide(&PublishedKey::rsa(), &cookies, &url, None, app.now())
        .unwrap_or_else(|denial| panic!("{algorithm}: {denial}"));
    assert_eq!(grant.hash.as_str(), hash);
    assert!(decide(app.state.cdn.keys(), &cookies, &url, None, app.now()).is_ok());
    assert_eq!(
        decide(
            &PublishedKey::rsa(),
            &cookies,
            &image(&app, id + 1, "a.jpg"),
            None,
            app.now()
        ),
        Err(Denial::ResourceMismatch)
    );
}

#[tokio::test]
async fn a_configured_rsa_sha1_key_signs_cookies_that_verify() {
    assert_rsa_cookies_verify("rsa-sha1", "SHA1").await;
}

#[tokio::test]
async fn a_configured_rsa_sha256_key_signs_cookies_that_verify() {
    assert_rsa_cookies_verify("rsa-sha256", "SHA256").await;
}

#[tokio::test]
async fn a_configured_rsa_key_without_an_algorithm_signs_with_sha1() {
    let key_file = rsa_key_file();
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_CDN_KEY_PAIR_ID", RSA_KEY_PAIR_ID),
        (
            "EDGEPASS_CDN_PRIVATE_KEY_FILE",
            key_file.to_str().expect("utf-8 path"),
        ),
    ])
    .await;

    let reply = app.register("alice@example.com", PASSWORD).await;

    assert_eq!(reply.set_cookie("CloudFront-Hash-Algorithm").value, "SHA1");
}
