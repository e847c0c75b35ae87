//! Sessions: what is stored, what is refused, when they end and how use extends them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use edgepass::db::entity::session;
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;

use crate::helpers::{EPOCH, TestApp, send};

const TTL: u64 = 600;

async fn app_with_short_sessions() -> TestApp {
    TestApp::spawn_with(&[("EDGEPASS_SESSION_TTL_SECS", "600")]).await
}

#[tokio::test]
async fn only_a_hash_of_the_session_token_is_stored() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let cookie = app.session_cookie().expect("a session cookie");
    let raw = URL_SAFE_NO_PAD.decode(&cookie).expect("URL-safe base64");
    assert_eq!(raw.len(), 32);

    let rows = session::Entity::find().all(app.db()).await.expect("sessions");

    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    let expected = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &raw);
    assert_eq!(row.token_hash, expected.as_ref(), "SHA-256 of the raw token");
    let stored = format!("{row:?}");
    assert!(!stored.contains(&cookie), "the cookie value is not stored");
    assert_ne!(row.token_hash, raw, "the raw token is not stored");
    assert_ne!(row.token_hash, cookie.as_bytes());
    assert_eq!(row.created_at, EPOCH as i64);
}

#[tokio::test]
async fn me_without_a_session_cookie_returns_401_json() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::GET, "/api/me")).await;

    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn an_unknown_or_garbage_session_cookie_returns_401_json() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let unknown = URL_SAFE_NO_PAD.encode([7u8; 32]);

    for value in ["garbage", "", "c2hvcnQ", unknown.as_str(), "%%%"] {
        for path in ["/api/me", "/api/cdn/cookies"] {
            let method = if path == "/api/me" {
                Method::GET
            } else {
                Method::POST
            };
            let reply = send(
                app.raw_request(method, path)
                    .header("cookie", format!("edgepass_session={value}")),
            )
            .await;
            reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
        }
    }
}

#[tokio::test]
async fn a_session_unused_for_its_ttl_has_expired() {
    let app = app_with_short_sessions().await;
    app.signed_up("alice@example.com").await;

    app.advance(TTL);

    app.me()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.mint_cookies()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn a_session_is_valid_until_just_before_its_ttl_ends() {
    let app = app_with_short_sessions().await;
    app.signed_up("alice@example.com").await;

    app.advance(TTL - 1);

    assert_eq!(app.me().await.status, StatusCode::OK);
}

#[tokio::test]
async fn using_a_session_pushes_its_expiry_forward() {
    let app = app_with_short_sessions().await;
    app.signed_up("alice@example.com").await;

    app.advance(TTL / 2);
    let halfway = app.me().await;
    assert_eq!(halfway.status, StatusCode::OK, "{}", halfway.text());
    assert_eq!(halfway.json()["session_expires_at"], EPOCH + TTL / 2 + TTL);

    app.advance(TTL / 2 + 100);
    assert!(app.now() > EPOCH + TTL, "past the original expiry");
    let later = app.me().await;
    assert_eq!(later.status, StatusCode::OK, "{}", later.text());

    app.advance(TTL);
    app.me()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn sessions_expire_in_the_database_after_the_configured_ttl() {
    let app = app_with_short_sessions().await;
    app.signed_up("alice@example.com").await;

    let rows = session::Entity::find().all(app.db()).await.expect("sessions");

    assert_eq!(rows[0].expires_at, (EPOCH + TTL) as i64);
    assert_eq!(rows[0].last_seen_at, EPOCH as i64);
}
