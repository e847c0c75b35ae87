//! Liveness, readiness, metrics and the API description.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, sample_sum, send};

#[tokio::test]
async fn healthz_answers_200_ok() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::GET, "/healthz")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn readyz_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::GET, "/readyz")).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json(), json!({ "status": "ready" }));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    app.login("alice@example.com", "not the password").await;
    send(app.raw_request(Method::GET, "/users/42/secret.jpg")).await;

    let text = app.metrics().await;

    assert!(
        text.starts_with("# HELP") || text.contains("# TYPE"),
        "Prometheus text: {text}"
    );
    for series in [
        r#"edgepass_http_requests_total{method="POST",route="/api/auth/register",status="201"} 1"#,
        r#"edgepass_http_requests_total{method="POST",route="/api/auth/login",status="401"} 1"#,
        r#"edgepass_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
    ] {
        assert!(text.lines().any(|line| line == series), "{series} in:\n{text}");
    }
    assert!(sample_sum(&text, "edgepass_http_requests_total") >= 3.0);
    assert!(text.contains("edgepass_http_request_duration_seconds_bucket"));
}

#[tokio::test]
async fn metrics_count_minted_cookie_sets() {
    let app = TestApp::spawn().await;
    assert_eq!(app.metric("edgepass_cdn_cookies_minted_total").await, 0.0);

    app.signed_up("alice@example.com").await;
    app.login("alice@example.com", PASSWORD).await;

    assert_eq!(app.metric("edgepass_cdn_cookies_minted_total").await, 2.0);
}

#[tokio::test]
async fn a_second_login_in_the_same_window_is_a_signature_memo_hit() {
    let app = TestApp::spawn().await;
    // Just past a window boundary: grants made in the next 300 s share one expiry.
    app.advance(1);
    app.signed_up("alice@example.com").await;
    assert_eq!(app.metric("edgepass_signatures_computed_total").await, 1.0);
    assert_eq!(app.metric("edgepass_signature_memo_hits_total").await, 0.0);

    app.login("alice@example.com", PASSWORD).await;
    app.advance(299);
    app.login("alice@example.com", PASSWORD).await;

    assert_eq!(app.metric("edgepass_signatures_computed_total").await, 1.0);
    assert_eq!(app.metric("edgepass_signature_memo_hits_total").await, 2.0);

    app.advance(1);
    app.login("alice@example.com", PASSWORD).await;
    assert_eq!(
        app.metric("edgepass_signatures_computed_total").await,
        2.0,
        "a new window signs anew"
    );
}

#[tokio::test]
async fn cookies_used_lately_are_signed_before_their_window_changes_and_then_served_from_the_memo() {
    let app = TestApp::spawn_with(&[("EDGEPASS_CDN_SIGN_AHEAD_GRANTS", "1000")]).await;
    app.advance(1);
    app.signed_up("alice@example.com").await;
    // The cookie expiry moves to the next window 300 s after a boundary; 60 s before is close enough.
    app.advance(240);

    let started = std::time::Instant::now();
    while app.metric("edgepass_signatures_signed_ahead_total").await < 1.0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "nothing was signed ahead"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    app.advance(60);
    assert_eq!(app.mint_cookies().await.status, StatusCode::OK);

    assert_eq!(
        app.metric("edgepass_signatures_computed_total").await,
        1.0,
        "only at sign-up"
    );
    assert_eq!(app.metric("edgepass_signatures_signed_ahead_total").await, 1.0);
    assert_eq!(
        app.metric("edgepass_signatures_signed_ahead_used_total").await,
        1.0
    );
}

#[tokio::test]
async fn openapi_json_describes_every_route_with_its_errors() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::GET, "/openapi.json")).await;

    assert_eq!(reply.status, StatusCode::OK);
    let spec: Value = reply.json();
    assert!(spec["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    let paths = spec["paths"].as_object().expect("paths");
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/me",
        "/api/cdn/cookies",
        "/api/images/{id}/shares/{user}",
        "/s/{token}",
    ] {
        assert!(paths.contains_key(path), "{path} in {:?}", paths.keys());
    }
    let login = &spec["paths"]["/api/auth/login"]["post"];
    for status in ["200", "401", "422", "429", "503"] {
        let body = &login["responses"][status]["content"]["application/json; charset=utf-8"]["schema"];
        assert!(body.is_object(), "login documents {status} with a body: {login}");
    }
    let terms = &spec["paths"]["/api/images/{id}/shares/{user}"]["put"]["requestBody"];
    assert_eq!(
        terms["required"],
        Value::Bool(false),
        "the share body is optional: {terms}"
    );
    let follow = &spec["paths"]["/s/{token}"]["get"]["responses"];
    for status in ["302", "404", "410"] {
        assert!(
            follow[status].is_object(),
            "/s/{{token}} documents {status}: {follow}"
        );
    }
    let published: Value = serde_json::from_str(&edgepass::http::openapi_json()).expect("JSON");
    assert_eq!(spec, published);
}

#[tokio::test]
async fn docs_serve_the_swagger_ui() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::GET, "/docs")).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(reply.text().to_ascii_lowercase().contains("swagger"));
}
