//! The local edge, the CloudFront stand-in: behaviors, signed cookies and URLs checked as CloudFront
//! does, CloudFront's refusals, and objects streamed with validators, conditional requests and ranges.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{
    PASSWORD, RSA_KEY_PAIR_ID, RawReply, Reply, TestApp, browser, read_reply, real_now, rsa_key_file, send,
};

/// A PNG signature followed by enough bytes that ranges have something to cut.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89".to_vec();
    bytes.extend((0..1000u32).map(|i| (i * 7 % 251) as u8));
    bytes
}

/// CloudFront's body for a refusal.
fn error_xml(code: &str, message: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
}

const MISSING_KEY: &str = "Missing Key-Pair-Id query parameter or cookie value";

/// edgepass with its clock at the real time (the embedded store checks upload URLs against it).
async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_at(real_now(), settings).await
}

/// Signs up `email` in the app's browser and uploads the test PNG; returns (user id, image view).
async fn owner_with_image(app: &TestApp, email: &str) -> (i64, Value) {
    let user = app.signed_up(email).await;
    let image = app.upload("image/png", &png(), "a.png").await;
    (user, image)
}

fn url_of(image: &Value) -> String {
    image["url"].as_str().expect("a CDN URL").to_owned()
}

fn id_of(image: &Value) -> String {
    image["id"].as_str().expect("id").to_owned()
}

/// `GET url` with no cookies.
async fn get_raw(app: &TestApp, url: &str) -> Reply {
    send(app.raw.get(url)).await
}

/// Asserts a CloudFront-style refusal.
fn assert_refused(reply: &Reply, status: StatusCode, code: &str, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/xml"));
    assert_eq!(reply.text(), error_xml(code, message));
}

/// Sends `GET target` to the edge exactly as written (no URL normalisation), with extra header lines.
async fn raw_edge_get(app: &TestApp, target: &str, headers: &[String]) -> RawReply {
    let port = app.edge_port.expect("an edge");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for line in headers {
        request.push_str(line);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    read_reply(&mut stream).await
}

#[tokio::test]
async fn the_owner_loads_an_own_image_with_the_cookies_from_login() {
    let app = spawn_with(&[]).await;
    let (user, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    assert!(
        url.starts_with(&app.edge_url(&format!("/users/{user}/"))),
        "the CDN base URL is the edge's bound address: {url}"
    );

    let reply = send(app.client.get(&url)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.body, png());
    assert_eq!(reply.header("content-type"), Some("image/png"));
    let content_length = png().len().to_string();
    assert_eq!(reply.header("content-length"), Some(content_length.as_str()));
    let etag = reply.header("etag").expect("ETag");
    assert!(
        etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'),
        "{etag}"
    );
    let modified = httpdate::parse_http_date(reply.header("last-modified").expect("Last-Modified"))
        .expect("an HTTP date");
    let modified = modified
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert!(modified.abs_diff(real_now()) < 120, "written just now");
    assert_eq!(reply.header("cache-control"), Some("private, max-age=3600"));
    assert_eq!(reply.header("accept-ranges"), Some("bytes"));
}

#[tokio::test]
async fn without_cookies_the_image_is_refused_as_cloudfront_refuses_it() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let reply = get_raw(&app, &url_of(&image)).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "MissingKey", MISSING_KEY);
    assert_eq!(reply.header("x-cache"), Some("Error from cloudfront"));
    assert!(
        reply
            .header("x-edgepass-denial")
            .is_some_and(|reason| reason.contains("missing key-pair id")),
        "{:?}",
        reply.headers
    );
}
