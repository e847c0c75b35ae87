//! Cross-site request forgery: state-changing API requests from other origins are refused.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, Reply, TestApp, send};

const EVIL: &str = "https://evil.example";

fn credentials(email: &str) -> serde_json::Value {
    json!({ "email": email, "password": PASSWORD })
}

/// `POST path` from the signed-in browser with extra headers.
async fn post_with(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = app.request(Method::POST, path);
    if path.starts_with("/api/auth/") {
        request = request.json(&credentials("alice@example.com"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

#[tokio::test]
async fn a_login_from_another_origin_is_refused_with_403_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let before = app.rows().await;

    let reply = post_with(&app, "/api/auth/login", &[("origin", EVIL)]).await;

    reply.assert_error(StatusCode::FORBIDDEN, "cross_origin");
    assert!(reply.set_cookies().is_empty());
    assert_eq!(app.rows().await, before, "no session and no audit event");
}

#[tokio::test]
async fn a_registration_from_another_origin_is_refused_with_403_and_writes_nothing() {
    let app = TestApp::spawn().await;

    let reply = send(
        app.raw_request(Method::POST, "/api/auth/register")
            .header("origin", EVIL)
            .json(&credentials("mallory@example.com")),
    )
    .await;

    reply.assert_error(StatusCode::FORBIDDEN, "cross_origin");
    assert_eq!(app.rows().await.users, 0);
}

#[tokio::test]
async fn a_cookie_mint_from_another_origin_is_refused_with_403_and_mints_nothing() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let minted = app.metric("edgepass_cdn_cookies_minted_total").await;
    app.advance(3600);

    let reply = post_with(&app, "/api/cdn/cookies", &[("origin", EVIL)]).await;

    reply.assert_error(StatusCode::FORBIDDEN, "cross_origin");
    assert!(reply.set_cookies().is_empty());
    assert_eq!(app.metric("edgepass_cdn_cookies_minted_total").await, minted);
}

#[tokio::test]
async fn a_logout_from_another_origin_is_refused_and_the_session_survives() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    let reply = post_with(&app, "/api/auth/logout", &[("origin", EVIL)]).await;

    reply.assert_error(StatusCode::FORBIDDEN, "cross_origin");
    assert_eq!(app.rows().await.sessions, 1);
    assert!(app.session_cookie().is_some());
}

#[tokio::test]
async fn a_cross_site_request_without_origin_is_refused_with_403() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let before = app.rows().await;

    for site in ["cross-site", "same-site"] {
        for path in ["/api/auth/login", "/api/cdn/cookies"] {
            let reply = post_with(&app, path, &[("sec-fetch-site", site)]).await;
            reply.assert_error(StatusCode::FORBIDDEN, "cross_origin");
        }
    }
    assert_eq!(app.rows().await, before);
}

#[tokio::test]
async fn a_look_alike_origin_is_refused() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    for origin in [
        format!("{}.evil.example", app.origin()),
        format!("https://127.0.0.1:{}", app.port),
        format!("{}/", app.origin()),
        "null".to_owned(),
    ] {
        let reply = post_with(&app, "/api/auth/login", &[("origin", origin.as_str())]).await;
        reply.assert_error(StatusCode::FORBIDDEN, "cross_origin");
    }
}

#[tokio::test]
async fn the_services_own_origin_is_allowed() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    for origin in [app.origin(), format!("http://localhost:{}", app.port)] {
        let reply = post_with(
            &app,
            "/api/auth/login",
            &[("origin", origin.as_str()), ("sec-fetch-site", "same-origin")],
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}: {}", reply.text());
    }
}

#[tokio::test]
async fn the_services_own_origin_may_mint_cookies() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    let origin = app.origin();
    let reply = post_with(&app, "/api/cdn/cookies", &[("origin", origin.as_str())]).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn a_configured_allowed_origin_is_allowed() {
    let app = TestApp::spawn_with(&[(
        "EDGEPASS_ALLOWED_ORIGINS",
        "https://admin.example.com,http://localhost:5173",
    )])
    .await;
    app.signed_up("alice@example.com").await;

    for origin in ["https://admin.example.com", "http://localhost:5173"] {
        let reply = post_with(&app, "/api/auth/login", &[("origin", origin)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{origin}: {}", reply.text());
    }
}

#[tokio::test]
async fn a_request_without_origin_or_sec_fetch_site_is_allowed() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    let reply = post_with(&app, "/api/auth/login", &[]).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn a_same_origin_or_user_initiated_request_without_origin_is_allowed() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    for site in ["same-origin", "none"] {
        let reply = post_with(&app, "/api/auth/login", &[("sec-fetch-site", site)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{site}: {}", reply.text());
    }
}

#[tokio::test]
async fn reads_from_another_origin_are_not_refused() {
    let app = TestApp::spawn().await;

    let reply = send(
        app.raw_request(Method::GET, "/healthz")
            .header("origin", EVIL)
            .header("sec-fetch-site", "cross-site"),
    )
    .await;

    assert_eq!(reply.status, StatusCode::OK);
}
