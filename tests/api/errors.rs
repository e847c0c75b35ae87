//! Malformed requests: every refusal is a JSON `{error, message}` body and writes nothing.

use reqwest::{Method, StatusCode};

use crate::helpers::{PASSWORD, Rows, TestApp, connect, read_reply, send, write};

const EMPTY: Rows = Rows {
    users: 0,
    sessions: 0,
    audit_events: 0,
};

/// A small body limit, so oversized bodies are cheap to send.
async fn app_with_small_bodies() -> TestApp {
    TestApp::spawn_with(&[("EDGEPASS_MAX_BODY_BYTES", "1024")]).await
}

fn json_post(app: &TestApp, path: &str, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    app.raw_request(Method::POST, path)
        .header("content-type", "application/json")
        .body(body)
}

#[tokio::test]
async fn malformed_json_returns_400_json_and_writes_nothing() {
    let app = TestApp::spawn().await;

    for body in ["{", "not json", r#"{"email": "a@example.com", "password": }"#, ""] {
        for path in ["/api/auth/register", "/api/auth/login"] {
            let reply = send(json_post(&app, path, body)).await;
            reply.assert_error(StatusCode::BAD_REQUEST, "bad_request");
        }
    }
    assert_eq!(app.rows().await, EMPTY);
}

#[tokio::test]
async fn a_missing_or_mistyped_field_returns_400_json_and_writes_nothing() {
    let app = TestApp::spawn().await;

    for body in [
        r#"{"email": "alice@example.com"}"#.to_owned(),
        format!(r#"{{"password": "{PASSWORD}"}}"#),
        format!(r#"{{"email": ["alice@example.com"], "password": "{PASSWORD}"}}"#),
        "[]".to_owned(),
        "null".to_owned(),
    ] {
        let reply = send(json_post(&app, "/api/auth/register", body.clone())).await;
        reply.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    }
    assert_eq!(app.rows().await, EMPTY);
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_returns_415_json_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let body = format!(r#"{{"email": "alice@example.com", "password": "{PASSWORD}"}}"#);

    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app
            .raw_request(Method::POST, "/api/auth/register")
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let reply = send(request).await;
        reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    assert_eq!(app.rows().await, EMPTY);
}

#[tokio::test]
async fn a_body_over_the_limit_with_content_length_returns_413_json_and_writes_nothing() {
    let app = app_with_small_bodies().await;
    let padding = " ".repeat(2048);
    let body = format!(r#"{{"email": "alice@example.com", "password": "{PASSWORD}"}}{padding}"#);

    let reply = send(json_post(&app, "/api/auth/register", body)).await;

    reply.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(app.rows().await, EMPTY);
}

#[tokio::test]
async fn a_body_at_the_limit_is_accepted() {
    let app = app_with_small_bodies().await;
    let json = format!(r#"{{"email": "alice@example.com", "password": "{PASSWORD}"}}"#);
    let body = format!("{json}{}", " ".repeat(1024 - json.len()));
    assert_eq!(body.len(), 1024);

    let reply = send(json_post(&app, "/api/auth/register", body)).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_returns_413_json_and_writes_nothing() {
    let app = app_with_small_bodies().await;
    let mut stream = connect(&app).await;
    write(
        &mut stream,
        b"POST /api/auth/register HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
          transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )
    .await;
    let json = format!(r#"{{"email": "alice@example.com", "password": "{PASSWORD}"}}"#);
    write(&mut stream, format!("{:x}\r\n{json}\r\n", json.len()).as_bytes()).await;
    for _ in 0..4 {
        let padding = " ".repeat(400);
        write(
            &mut stream,
            format!("{:x}\r\n{padding}\r\n", padding.len()).as_bytes(),
        )
        .await;
    }
    write(&mut stream, b"0\r\n\r\n").await;

    let reply = read_reply(&mut stream).await;

    assert_eq!(reply.status, 413, "{reply:?}");
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    assert_eq!(reply.json()["error"], "payload_too_large");
    assert_eq!(app.rows().await, EMPTY);
}

#[tokio::test]
async fn a_streamed_body_within_the_limit_is_accepted() {
    let app = app_with_small_bodies().await;
    let mut stream = connect(&app).await;
    write(
        &mut stream,
        b"POST /api/auth/register HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
          transfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    )
    .await;
    let json = format!(r#"{{"email": "alice@example.com", "password": "{PASSWORD}"}}"#);
    for piece in json.as_bytes().chunks(7) {
        write(&mut stream, format!("{:x}\r\n", piece.len()).as_bytes()).await;
        write(&mut stream, piece).await;
        write(&mut stream, b"\r\n").await;
    }
    write(&mut stream, b"0\r\n\r\n").await;

    let reply = read_reply(&mut stream).await;

    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(reply.json()["user"]["email"], "alice@example.com");
}

#[tokio::test]
async fn an_unknown_route_returns_404_json() {
    let app = TestApp::spawn().await;

    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/api/nope"),
        (Method::POST, "/api/auth/nope"),
        (Method::GET, "/users/1/photo.jpg"),
    ] {
        let reply = send(app.raw_request(method, path)).await;
        reply.assert_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn a_wrong_method_returns_405_json() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::GET, "/api/auth/login")).await;

    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}
