//! The local edge, the CloudFront stand-in: behaviors, signed cookies and URLs checked as CloudFront
//! does, CloudFront's refusals, and objects streamed with validators, conditional requests and ranges.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{
    RSA_KEY_PAIR_ID, RawReply, Reply, TestApp, read_reply, real_now, rsa_key_file, send, signed_up_browser,
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
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
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

/// Another user with a browser of their own.
struct Other {
    id: i64,
    client: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

impl Other {
    async fn sign_up(app: &TestApp, email: &str) -> Self {
        let (id, client, jar) = signed_up_browser(app, email).await;
        Self { id, client, jar }
    }

    /// The `Cookie` header this browser sends to its own prefix on the edge.
    fn own_cookie_header(&self, app: &TestApp) -> String {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&app.edge_url(&format!("/users/{}/x.png", self.id))).expect("url");
        let header = self.jar.cookies(&url).expect("cookies for the own prefix");
        header.to_str().expect("ascii").to_owned()
    }
}

/// `POST /api/urls` from `client`; the signed URL of `image`.
async fn signed_url(app: &TestApp, client: &reqwest::Client, image: &str) -> String {
    let reply = send(client.post(app.url("/api/urls")).json(&json!({ "ids": [image] }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["urls"][image].as_str().expect("a URL").to_owned()
}

/// `url` with the last character of its `Signature` swapped for another CloudFront base64 character.
fn tampered(url: &str) -> String {
    let start = url.find("Signature=").expect("a signature") + "Signature=".len();
    let end = url[start..].find('&').map_or(url.len(), |i| start + i);
    // A character in the middle carries six bits of the signature. The last ones would not do: padding
    // (`_`) or a character whose unused low bits must stay zero, so changing it is malformed base64.
    let position = start + (end - start) / 2;
    let replacement = if &url[position..=position] == "A" {
        "B"
    } else {
        "A"
    };
    format!("{}{replacement}{}", &url[..position], &url[position + 1..])
}

#[tokio::test]
async fn another_users_cookies_open_nothing_of_mine() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    let bob = Other::sign_up(&app, "bob@example.com").await;

    // Bob's browser does not even send his cookies here: their Path is his own prefix.
    let reply = send(bob.client.get(&url)).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "MissingKey", MISSING_KEY);

    // Sent anyway, they are valid signatures for another resource.
    let reply = send(app.raw.get(&url).header("cookie", bob.own_cookie_header(&app))).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "AccessDenied", "Access denied");
    assert!(
        reply
            .header("x-edgepass-denial")
            .is_some_and(|reason| reason.contains("resource mismatch")),
        "{:?}",
        reply.headers
    );
}

#[tokio::test]
async fn a_dot_segment_cannot_walk_from_an_open_prefix_into_another() {
    let app = spawn_with(&[]).await;
    let (alice, image) = owner_with_image(&app, "alice@example.com").await;
    let file = format!("{}.png", id_of(&image));
    let bob = Other::sign_up(&app, "bob@example.com").await;
    let bob_cookies = format!("Cookie: {}", bob.own_cookie_header(&app));

    for (target, headers) in [
        (format!("/public/../users/{alice}/{file}"), vec![]),
        (format!("/public/%2e%2e/users/{alice}/{file}"), vec![]),
        (format!("/public/..%2Fusers/{alice}/{file}"), vec![]),
        (
            format!("/users/{}/../{alice}/{file}", bob.id),
            vec![bob_cookies.clone()],
        ),
        (
            format!("/users/{}/%2E%2E/{alice}/{file}", bob.id),
            vec![bob_cookies.clone()],
        ),
    ] {
        let reply = raw_edge_get(&app, &target, &headers).await;
        assert_eq!(reply.status, 403, "{target}");
        assert_eq!(
            String::from_utf8_lossy(&reply.body),
            error_xml("AccessDenied", "Access Denied"),
            "{target}: answered as a key nobody wrote"
        );
    }
    // The object itself is there for its owner.
    let reply = send(app.client.get(url_of(&image))).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn signed_urls_work_without_cookies_and_win_over_cookies() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let id = id_of(&image);
    let bob = Other::sign_up(&app, "bob@example.com").await;
    let shared = send(app.request(Method::PUT, &format!("/api/images/{id}/shares/bob@example.com"))).await;
    assert!(shared.status.is_success(), "{}", shared.text());

    // From POST /api/urls, and from GET /api/shared-with-me.
    let url = signed_url(&app, &bob.client, &id).await;
    let reply = get_raw(&app, &url).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.body, png());
    let listed = send(bob.client.get(app.url("/api/shared-with-me"))).await.json();
    let listed_url = listed["images"][0]["url"].as_str().expect("a URL").to_owned();
    assert_eq!(get_raw(&app, &listed_url).await.status, StatusCode::OK);

    // With a broken signed URL, Alice's valid cookies for the same object are not looked at.
    let own = signed_url(&app, &app.client, &id).await;
    assert_eq!(send(app.client.get(&own)).await.status, StatusCode::OK);
    let reply = send(app.client.get(tampered(&own))).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "AccessDenied", "Access denied");
    assert_eq!(reply.header("x-edgepass-denial"), Some("bad signature"));
    let reply = send(app.client.get(format!("{}?Key-Pair-Id=", url_of(&image)))).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "MissingKey", MISSING_KEY);
    // A valid signed URL still works with Bob's (non-matching) cookies sent along.
    let reply = send(app.raw.get(&url).header("cookie", bob.own_cookie_header(&app))).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn tampered_signatures_are_refused() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = signed_url(&app, &app.client, &id_of(&image)).await;
    let reply = get_raw(&app, &tampered(&url)).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "AccessDenied", "Access denied");

    let reply = get_raw(&app, &url.replace("Signature=", "Signature=%21")).await;
    assert_refused(
        &reply,
        StatusCode::FORBIDDEN,
        "MalformedSignature",
        "Could not unencode Signature",
    );
    let other_key = url.replace("Key-Pair-Id=", "Key-Pair-Id=KUNKNOWN");
    assert_refused(
        &get_raw(&app, &other_key).await,
        StatusCode::FORBIDDEN,
        "InvalidKey",
        "Unknown Key",
    );
}

#[tokio::test]
async fn expired_cookies_and_signed_urls_are_refused() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    let signed = signed_url(&app, &app.client, &id_of(&image)).await;
    assert_eq!(send(app.client.get(&url)).await.status, StatusCode::OK);
    assert_eq!(get_raw(&app, &signed).await.status, StatusCode::OK);

    // Past the cookies' lifetime plus one expiry window, both have ended.
    let config = &app.state.config;
    app.advance(config.cdn.cookie_ttl_secs + config.cdn.expiry_window_secs);
    for reply in [send(app.client.get(&url)).await, get_raw(&app, &signed).await] {
        assert_refused(&reply, StatusCode::FORBIDDEN, "AccessDenied", "Access denied");
        assert!(
            reply
                .header("x-edgepass-denial")
                .is_some_and(|reason| reason.starts_with("expired at")),
            "{:?}",
            reply.headers
        );
    }
    // Fresh cookies open it again.
    assert_eq!(app.mint_cookies().await.status, StatusCode::OK);
    assert_eq!(send(app.client.get(&url)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn rsa_sha256_signatures_are_checked_with_the_hash_they_announce() {
    let key_file = rsa_key_file();
    let app = spawn_with(&[
        ("EDGEPASS_CDN_KEY_PAIR_ID", RSA_KEY_PAIR_ID),
        (
            "EDGEPASS_CDN_PRIVATE_KEY_FILE",
            key_file.to_str().expect("utf-8 path"),
        ),
        ("EDGEPASS_CDN_ALGORITHM", "rsa-sha256"),
    ])
    .await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    // Cookies carry CloudFront-Hash-Algorithm=SHA256.
    let reply = send(app.client.get(url_of(&image))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.body, png());

    let url = signed_url(&app, &app.client, &id_of(&image)).await;
    assert!(url.contains("Hash-Algorithm=SHA256"), "{url}");
    assert_eq!(get_raw(&app, &url).await.status, StatusCode::OK);
    // Read as SHA-1 (no parameter) the same signature does not verify.
    let as_sha1 = url.replace("&Hash-Algorithm=SHA256", "");
    assert_refused(
        &get_raw(&app, &as_sha1).await,
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "Access denied",
    );
    let unknown = url.replace("Hash-Algorithm=SHA256", "Hash-Algorithm=SHA512");
    assert_refused(
        &get_raw(&app, &unknown).await,
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "Access denied",
    );
}

#[tokio::test]
async fn public_images_need_no_signature_until_they_are_made_private() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let id = id_of(&image);
    let made_public = app.set_visibility(&id, "public").await;
    assert_eq!(made_public.status, StatusCode::OK, "{}", made_public.text());
    let public = send(app.client.get(app.url(&format!("/api/images/{id}"))))
        .await
        .json();
    let public_url = url_of(&public);
    assert!(public_url.starts_with(&app.edge_url("/public/")), "{public_url}");

    let reply = get_raw(&app, &public_url).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.body, png());
    assert_eq!(reply.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(reply.header("content-type"), Some("image/png"));
    // The old private path is gone.
    let reply = send(app.client.get(url_of(&image))).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "AccessDenied", "Access Denied");

    let made_private = app.set_visibility(&id, "private").await;
    assert_eq!(made_private.status, StatusCode::OK, "{}", made_private.text());
    // A missing object is S3's 403 through origin access control, as production answers it.
    assert_refused(
        &get_raw(&app, &public_url).await,
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "Access Denied",
    );
    assert_eq!(send(app.client.get(url_of(&image))).await.status, StatusCode::OK);
}

#[tokio::test]
async fn paths_outside_users_and_public_are_refused_even_with_a_signature() {
    use edgepass::signing::{Policy, Signer};

    let app = spawn_with(&[]).await;
    let (user, image) = owner_with_image(&app, "alice@example.com").await;
    let file = url_of(&image).rsplit('/').next().expect("file").to_owned();
    // A signature for everything on the edge: the default behavior's key group accepts it, and its
    // function still refuses.
    let policy = Policy::new(&app.edge_url("/*"), app.now() + 600).expect("policy");
    let everything = Signer::new(
        app.state.cdn.local_key().expect("an in-process key"),
        app.state.cdn.hash(),
    )
    .sign_cookies(&policy)
    .expect("cookies")
    .pairs()
    .into_iter()
    .map(|(name, value)| format!("{name}={value}"))
    .collect::<Vec<_>>()
    .join("; ");
    let other = format!("/other/{user}/{file}");
    for path in [
        "/",
        "/index.html",
        "/edgepass/x.png",
        "/users",
        "/public",
        "/Users/1/a.png",
        &other,
    ] {
        // The browser's cookies are scoped to its own prefix: here it sends none.
        let reply = send(app.client.get(app.edge_url(path))).await;
        assert_refused(&reply, StatusCode::FORBIDDEN, "MissingKey", MISSING_KEY);
        let reply = send(app.raw.get(app.edge_url(path)).header("cookie", &everything)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(reply.body.is_empty(), "{path}: the function's bare 403");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    // The same signature opens the image behaviors.
    let reply = send(app.raw.get(url_of(&image)).header("cookie", &everything)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(app.raw.get(app.edge_url("/a%zz"))).await;
    assert_refused(
        &reply,
        StatusCode::BAD_REQUEST,
        "InvalidURI",
        "Couldn't parse the specified URI.",
    );
}

#[tokio::test]
async fn a_single_byte_range_is_served_and_one_past_the_end_is_not() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    let bytes = png();
    let size = bytes.len();

    let reply = send(app.client.get(&url).header("range", "bytes=0-9")).await;
    assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(reply.body, bytes[..10]);
    let expected = format!("bytes 0-9/{size}");
    assert_eq!(reply.header("content-range"), Some(expected.as_str()));
    assert_eq!(reply.header("content-length"), Some("10"));
    assert_eq!(reply.header("content-type"), Some("image/png"));
    assert!(reply.header("etag").is_some());

    let reply = send(app.client.get(&url).header("range", "bytes=-5")).await;
    assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(reply.body, bytes[size - 5..]);
    let expected = format!("bytes {}-{}/{size}", size - 5, size - 1);
    assert_eq!(reply.header("content-range"), Some(expected.as_str()));

    let reply = send(app.client.get(&url).header("range", "bytes=100-")).await;
    assert_eq!(reply.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(reply.body, bytes[100..]);

    let reply = send(app.client.get(&url).header("range", format!("bytes={size}-"))).await;
    assert_refused(
        &reply,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "InvalidRange",
        "The requested range is not satisfiable",
    );
    let expected = format!("bytes */{size}");
    assert_eq!(reply.header("content-range"), Some(expected.as_str()));

    // Several ranges are not served as such: the whole object comes back.
    let reply = send(app.client.get(&url).header("range", "bytes=0-1,5-6")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, bytes);
    // A range for another version (If-Range) gets the whole current object.
    let reply = send(
        app.client
            .get(&url)
            .header("range", "bytes=0-9")
            .header("if-range", "\"another-version\""),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, bytes);
}

#[tokio::test]
async fn conditional_requests_are_answered_from_the_objects_validators() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    let first = send(app.client.get(&url)).await;
    let etag = first.header("etag").expect("ETag").to_owned();
    let modified = first.header("last-modified").expect("Last-Modified").to_owned();

    let reply = send(app.client.get(&url).header("if-none-match", &etag)).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("etag"), Some(etag.as_str()));
    assert_eq!(reply.header("cache-control"), Some("private, max-age=3600"));

    let reply = send(app.client.get(&url).header("if-none-match", "\"something-else\"")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, png());

    let reply = send(app.client.get(&url).header("if-modified-since", &modified)).await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);
    let long_ago = httpdate::fmt_http_date(std::time::UNIX_EPOCH);
    let reply = send(app.client.get(&url).header("if-modified-since", &long_ago)).await;
    assert_eq!(reply.status, StatusCode::OK);

    let reply = send(app.client.get(&url).header("if-match", &etag)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let reply = send(app.client.get(&url).header("if-match", "\"something-else\"")).await;
    assert_refused(
        &reply,
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
    );
    let reply = send(app.client.get(&url).header("if-unmodified-since", &long_ago)).await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);

    // The signature is checked first: without cookies a matching tag still gets the 403.
    let reply = send(app.raw.get(&url).header("if-none-match", &etag)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn head_answers_the_headers_of_get_without_the_body() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    let get = send(app.client.get(&url)).await;
    let head = send(app.client.head(&url)).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    for name in [
        "content-type",
        "content-length",
        "etag",
        "last-modified",
        "cache-control",
    ] {
        assert_eq!(head.header(name), get.header(name), "{name}");
    }
    let ranged = send(app.client.head(&url).header("range", "bytes=0-9")).await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.header("content-length"), Some("10"));

    let refused = send(app.raw.head(&url)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.is_empty());
}

#[tokio::test]
async fn only_get_and_head_are_allowed_as_on_the_distribution() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    for method in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::PATCH,
    ] {
        let reply = send(app.client.request(method.clone(), &url)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method}");
        assert!(reply.text().contains("<Code>MethodNotAllowed</Code>"), "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    }
    // Nothing was removed.
    assert_eq!(send(app.client.get(&url)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn ip_address_conditions_are_checked_against_the_tcp_peer() {
    use edgepass::signing::{Policy, Signer, SourceIp};

    let app = spawn_with(&[]).await;
    let (user, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    let key = app.state.cdn.local_key().expect("an in-process key");
    let cookies_for = |block: &str| {
        let policy = Policy::new(
            &format!("{}/users/{user}/*", app.state.bound.cdn_base_url),
            app.now() + 600,
        )
        .expect("policy")
        .source_ip(SourceIp::parse(block).expect("block"));
        Signer::new(key, app.state.cdn.hash())
            .sign_cookies(&policy)
            .expect("cookies")
            .pairs()
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let reply = send(app.raw.get(&url).header("cookie", cookies_for("127.0.0.0/8"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = send(app.raw.get(&url).header("cookie", cookies_for("10.0.0.0/8"))).await;
    assert_refused(&reply, StatusCode::FORBIDDEN, "AccessDenied", "Access denied");
    assert_eq!(reply.header("x-edgepass-denial"), Some("viewer IP not allowed"));
}

#[tokio::test]
async fn edge_requests_are_counted_by_behavior_and_outcome() {
    let app = spawn_with(&[]).await;
    let (_, image) = owner_with_image(&app, "alice@example.com").await;
    let url = url_of(&image);
    send(app.client.get(&url)).await;
    send(app.raw.get(&url)).await;
    send(app.raw.get(app.edge_url("/elsewhere"))).await;
    let text = app.metrics().await;
    for line in [
        r#"edgepass_edge_requests_total{behavior="users",outcome="served"} 1"#,
        r#"edgepass_edge_requests_total{behavior="users",outcome="denied"} 1"#,
        r#"edgepass_edge_requests_total{behavior="default",outcome="denied"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}

#[tokio::test]
async fn edge_listen_off_runs_no_edge_and_keeps_the_default_cdn_url() {
    let app = TestApp::spawn_with(&[("EDGEPASS_EDGE_LISTEN", "off")]).await;
    assert_eq!(app.edge_port, None);
    assert_eq!(app.state.bound.cdn_base_url, "http://127.0.0.1:8081");
}

#[tokio::test]
async fn an_edge_fed_a_ring_of_several_keys_trusts_each_of_them() {
    use std::sync::Arc;

    use edgepass::local::edge::{Edge, TrustedKeys, bind};
    use edgepass::signing::{HashAlgorithm, KeyPairId, KeyRing, Policy, Signer, SigningKey};

    let app = spawn_with(&[]).await;
    let (user, image) = owner_with_image(&app, "alice@example.com").await;
    let file = url_of(&image).rsplit('/').next().expect("file").to_owned();

    // A rotation half done: a new RSA key signs, the service's current key still verifies.
    let pem = std::fs::read_to_string(rsa_key_file()).expect("key fixture");
    let new_key = SigningKey::from_pem(KeyPairId::parse(RSA_KEY_PAIR_ID).expect("id"), &pem).expect("key");
    let mut ring = KeyRing::new(new_key).expect("ring");
    let current = app.state.cdn.local_key().expect("an in-process key");
    ring.add_verifying_key(current.verifying_key().expect("public half"))
        .expect("a second key");
    let (acceptor, address) = bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let ring = Arc::new(ring);
    let keys: Arc<dyn TrustedKeys> = ring.clone();
    let edge = Edge::new(app.state.clone(), keys, address);
    let server = tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(edge));

    let object = format!("http://{address}/users/{user}/{file}");
    let policy = Policy::new(&object, app.now() + 300).expect("policy");
    let by_new = Signer::new(ring.active(), HashAlgorithm::Sha256)
        .sign_url(&object, &policy)
        .expect("signed");
    let by_current = Signer::new(current, app.state.cdn.hash())
        .sign_url(&object, &policy)
        .expect("signed");
    for url in [&by_new, &by_current] {
        let reply = get_raw(&app, url).await;
        assert_eq!(reply.status, StatusCode::OK, "{url}: {}", reply.text());
        assert_eq!(reply.body, png());
    }
    // The app's own edge trusts only the current key.
    let on_app_edge = by_new.replace(
        &address.to_string(),
        &format!("127.0.0.1:{}", app.edge_port.expect("edge")),
    );
    assert_refused(
        &get_raw(&app, &on_app_edge).await,
        StatusCode::FORBIDDEN,
        "InvalidKey",
        "Unknown Key",
    );
    server.abort();
}
