//! Rotating the CloudFront signing key without a single 403, rehearsed on the local edge.
//!
//! The same data folder, database and edge address are served by three edgepass configurations in
//! turn, as a deployment would roll them out: key A signs; then key B signs while A's public key is
//! still trusted (`EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS`); then A is retired. What A signed keeps working
//! through the switch, what is minted after it is signed by B, and A's signatures are refused once A
//! has left the ring.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PNG, RSA_KEY_PAIR_ID, Reply, TestApp, real_now, rsa_key_file, send};

/// Key B's CloudFront id (any id CloudFront could have issued).
const KEY_B: &str = "KROTATEDTOB2EXAMPLE";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A free loopback port, so every configuration serves the edge (and so the CDN URLs) at one address.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// One rollout step: edgepass on the shared data folder and SQLite file, the edge on `edge_port`.
async fn deploy(data: &Path, edge_port: u16, key: (&str, &Path), trusted: Option<String>) -> TestApp {
    let data_dir = data.display().to_string();
    let database = format!("sqlite://{}?mode=rwc", data.join("edgepass.db").display());
    let edge = format!("127.0.0.1:{edge_port}");
    let key_file = key.1.display().to_string();
    let mut settings = vec![
        ("EDGEPASS_DATA_DIR", data_dir.as_str()),
        ("EDGEPASS_DATABASE_URL", database.as_str()),
        ("EDGEPASS_EDGE_LISTEN", edge.as_str()),
        ("EDGEPASS_CDN_KEY_PAIR_ID", key.0),
        ("EDGEPASS_CDN_PRIVATE_KEY_FILE", key_file.as_str()),
    ];
    if let Some(trusted) = &trusted {
        settings.push(("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS", trusted.as_str()));
    }
    TestApp::spawn_at(real_now(), &settings).await
}

/// Stops `app` and waits until both its ports are closed, so the next step can take the edge's.
async fn retire(mut app: TestApp) {
    app.stop();
    app.stopped().await.expect("a clean stop");
}

/// The `Cookie` header a browser sends after `reply`: the CloudFront cookies it set (not the expired).
fn cdn_cookies(reply: &Reply) -> String {
    let cookies: Vec<String> = reply
        .set_cookies()
        .into_iter()
        .filter(|cookie| cookie.name.starts_with("CloudFront-") && !cookie.value.is_empty())
        .map(|cookie| format!("{}={}", cookie.name, cookie.value))
        .collect();
    assert!(cookies.len() >= 3, "a CloudFront cookie set: {cookies:?}");
    cookies.join("; ")
}

fn key_pair_id_of(cookies: &str) -> &str {
    cookies
        .split("; ")
        .find_map(|pair| pair.strip_prefix("CloudFront-Key-Pair-Id="))
        .expect("a Key-Pair-Id cookie")
}

/// Alice's session on `app`: logs in and returns the reply (with fresh CloudFront cookies).
async fn log_in(app: &TestApp) -> Reply {
    let reply = app
        .post_json(
            "/api/auth/login",
            &json!({ "email": "alice@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply
}

/// A signed URL for `image` from `POST /api/urls` (an own private image gets one).
async fn signed_url(app: &TestApp, image: &str) -> String {
    let reply = app.post_json("/api/urls", &json!({ "ids": [image] })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let batch: Value = reply.json();
    batch["urls"][image].as_str().expect("a URL").to_owned()
}

async fn edge_status(app: &TestApp, url: &str, cookies: Option<&str>) -> StatusCode {
    let request = app.raw.get(url);
    let request = match cookies {
        Some(cookies) => request.header("cookie", cookies),
        None => request,
    };
    let reply = send(request).await;
    if reply.status == StatusCode::OK {
        assert_eq!(reply.body, PNG, "{url}");
    }
    reply.status
}

#[tokio::test]
async fn a_rotation_keeps_every_issued_cookie_and_url_working_until_the_old_key_is_retired() {
    let folder = tempfile::tempdir().expect("a data folder");
    let data = folder.path().join("data");
    let edge_port = free_port();
    let key_a = (RSA_KEY_PAIR_ID, rsa_key_file());
    let public_a = fixture("vectors/rsa2048_public.pem");
    let key_b = (KEY_B, fixture("keys/p256_pkcs8.pem"));

    // Step 1: key A signs.
    let app = deploy(&data, edge_port, (key_a.0, &key_a.1), None).await;
    let reply = app
        .post_json(
            "/api/auth/register",
            &json!({ "email": "alice@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let by_a = cdn_cookies(&reply);
    assert_eq!(key_pair_id_of(&by_a), key_a.0);
    let image = app.upload("image/png", PNG, "a.png").await;
    let plain = image["url"].as_str().expect("the plain CDN URL").to_owned();
    let id = image["id"].as_str().expect("id").to_owned();
    let url_by_a = signed_url(&app, &id).await;
    assert!(
        url_by_a.contains(&format!("Key-Pair-Id={}", key_a.0)),
        "{url_by_a}"
    );
    assert_eq!(edge_status(&app, &plain, Some(&by_a)).await, StatusCode::OK);
    assert_eq!(edge_status(&app, &url_by_a, None).await, StatusCode::OK);
    retire(app).await;

    // Step 2: key B signs; A's public key is still trusted.
    let trusted_a = format!("{}={}", key_a.0, public_a.display());
    let app = deploy(&data, edge_port, (key_b.0, &key_b.1), Some(trusted_a)).await;
    assert_eq!(
        edge_status(&app, &plain, Some(&by_a)).await,
        StatusCode::OK,
        "cookies signed by A still open the prefix"
    );
    assert_eq!(
        edge_status(&app, &url_by_a, None).await,
        StatusCode::OK,
        "a URL signed by A still works"
    );
    let by_b = cdn_cookies(&log_in(&app).await);
    assert_eq!(key_pair_id_of(&by_b), KEY_B, "new cookies are signed by B");
    assert!(
        by_b.contains("CloudFront-Hash-Algorithm=SHA256"),
        "B is an ECDSA key: {by_b}"
    );
    let url_by_b = signed_url(&app, &id).await;
    assert!(url_by_b.contains(&format!("Key-Pair-Id={KEY_B}")), "{url_by_b}");
    assert_eq!(edge_status(&app, &plain, Some(&by_b)).await, StatusCode::OK);
    assert_eq!(edge_status(&app, &url_by_b, None).await, StatusCode::OK);
    retire(app).await;

    // Step 3: A is retired from the ring.
    let app = deploy(&data, edge_port, (key_b.0, &key_b.1), None).await;
    assert_eq!(
        edge_status(&app, &plain, Some(&by_a)).await,
        StatusCode::FORBIDDEN,
        "A's cookies are refused once A is retired"
    );
    assert_eq!(edge_status(&app, &url_by_a, None).await, StatusCode::FORBIDDEN);
    assert_eq!(edge_status(&app, &plain, Some(&by_b)).await, StatusCode::OK);
    assert_eq!(edge_status(&app, &url_by_b, None).await, StatusCode::OK);
    retire(app).await;
}

#[tokio::test]
async fn a_trusted_key_that_does_not_load_stops_the_start_naming_the_variable() {
    let dir = tempfile::tempdir().expect("a folder");
    let private_not_public = format!("KOLD={}", fixture("keys/p256_pkcs8.pem").display());
    let missing = format!("KOLD={}", dir.path().join("missing.pem").display());
    for trusted in [private_not_public, missing] {
        let data = dir.path().join("data").display().to_string();
        let env = std::collections::BTreeMap::from([
            ("EDGEPASS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("EDGEPASS_EDGE_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("EDGEPASS_METRICS_LISTEN".to_owned(), "off".to_owned()),
            ("EDGEPASS_DATA_DIR".to_owned(), data),
            ("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS".to_owned(), trusted.clone()),
        ]);
        let config = edgepass::config::Config::from_env(&env).expect("configuration");
        let error = match edgepass::app::Application::build(config).await {
            Ok(_) => panic!("{trusted}: started"),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains("EDGEPASS_CDN_TRUSTED_PUBLIC_KEYS"),
            "{trusted}: {error}"
        );
    }
}
