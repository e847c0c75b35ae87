//! Hostile-client tests: the local edge decides on exactly the object it serves.
//!
//! Finding A1 of the outside review: the edge checked signatures against a URL built from the `Host`
//! header, but served the object the path named. A `Host` holding `/` or `?` put a prefix of the
//! caller's choosing in front of the path, so Bob's own cookies, or the query of any share link, opened
//! every other private image. These requests are written byte for byte over TCP, since no HTTP client
//! sends such a `Host`. `invariant` states the rule that makes the whole family impossible and tests it
//! with random requests.

mod invariant;

use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use crate::helpers::{
    PNG, RawReply, Reply, TestApp, put_upload, read_reply, real_now, send, signed_up_browser, write,
};

/// edgepass with its clock at the real time (the embedded store checks upload URLs against it).
async fn spawn() -> TestApp {
    TestApp::spawn_at(real_now(), &[]).await
}

/// A PNG no other object in the test has: the body of an answer says which object it is.
fn unique_png(label: &str) -> Vec<u8> {
    let mut bytes = PNG.to_vec();
    bytes.extend_from_slice(format!("edgepass-object:{label}:end").as_bytes());
    bytes
}

/// Whether `body` holds the bytes of the object `object` (its unique label).
fn holds(body: &[u8], object: &[u8]) -> bool {
    body.windows(object.len()).any(|w| w == object)
}

/// One request to the edge as the wire carries it: the request target and `Host` byte for byte (`None`
/// sends no `Host`), and an optional `Cookie` header.
#[derive(Clone, Debug)]
struct EdgeRequest {
    target: String,
    host: Option<String>,
    cookie: Option<String>,
}

impl EdgeRequest {
    fn new(target: impl Into<String>, host: impl Into<String>) -> Self {
        Self {
            target: target.into(),
            host: Some(host.into()),
            cookie: None,
        }
    }

    fn cookie(mut self, cookie: impl Into<String>) -> Self {
        self.cookie = Some(cookie.into());
        self
    }

    /// The request's `Cookie` header as the edge reads it: `name=value` pairs separated by `;`.
    fn cookie_pairs(&self) -> Vec<(&str, &str)> {
        self.cookie
            .as_deref()
            .unwrap_or("")
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .collect()
    }

    /// Sends it to `app`'s edge on a connection of its own.
    async fn send(&self, app: &TestApp) -> RawReply {
        let port = app.edge_port.expect("an edge");
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect to the edge");
        let mut head = format!("GET {} HTTP/1.1\r\nConnection: close\r\n", self.target);
        if let Some(host) = &self.host {
            head.push_str(&format!("Host: {host}\r\n"));
        }
        if let Some(cookie) = &self.cookie {
            head.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        head.push_str("\r\n");
        write(&mut stream, head.as_bytes()).await;
        read_reply(&mut stream).await
    }
}

/// `host:port` of the edge, as a browser sends it in `Host`.
fn edge_host(app: &TestApp) -> String {
    format!("127.0.0.1:{}", app.edge_port.expect("an edge"))
}

/// A signed-up user with a browser of their own.
struct Person {
    id: i64,
    email: String,
    client: reqwest::Client,
    jar: Arc<Jar>,
}

impl Person {
    async fn sign_up(app: &TestApp, email: &str) -> Self {
        let (id, client, jar) = signed_up_browser(app, email).await;
        Self {
            id,
            email: email.to_owned(),
            client,
            jar,
        }
    }

    /// The CloudFront cookies this browser sends to its own prefix on the edge, as a `Cookie` header
    /// (without the session cookie, which the edge never reads).
    fn own_cookies(&self, app: &TestApp) -> String {
        let url = reqwest::Url::parse(&app.edge_url(&format!("/users/{}/x.png", self.id))).expect("url");
        let header = self.jar.cookies(&url).expect("cookies for the own prefix");
        let cookies: Vec<&str> = header
            .to_str()
            .expect("ascii")
            .split("; ")
            .filter(|pair| pair.starts_with("CloudFront-"))
            .collect();
        assert!(cookies.len() >= 3, "a CloudFront cookie set: {cookies:?}");
        cookies.join("; ")
    }

    async fn call(&self, app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Reply {
        let request = self.client.request(method, app.url(path));
        send(match body {
            Some(body) => request.json(&body),
            None => request,
        })
        .await
    }

    /// Uploads `bytes` as a PNG; returns the image as the completion shows it.
    async fn upload(&self, app: &TestApp, bytes: &[u8]) -> Image {
        let body = json!({ "content_type": "image/png", "byte_size": bytes.len(), "name": "x.png" });
        let ticket = self.call(app, Method::POST, "/api/images", Some(body)).await;
        assert_eq!(ticket.status, StatusCode::CREATED, "{}", ticket.text());
        let ticket = ticket.json();
        assert_eq!(put_upload(&ticket, "image/png", bytes).await, StatusCode::OK);
        let id = ticket["id"].as_str().expect("id").to_owned();
        let done = self
            .call(app, Method::POST, &format!("/api/images/{id}/complete"), None)
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text());
        Image {
            id,
            bytes: bytes.to_vec(),
        }
    }

    async fn set_visibility(&self, app: &TestApp, image: &str, visibility: &str) {
        let body = json!({ "visibility": visibility });
        let reply = self
            .call(app, Method::PATCH, &format!("/api/images/{image}"), Some(body))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }

    /// The image's current CDN path (`/users/…` or `/public/…`), as its owner sees it.
    async fn path_of(&self, app: &TestApp, image: &str) -> String {
        let reply = self
            .call(app, Method::GET, &format!("/api/images/{image}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let url = reply.json()["url"].as_str().expect("url").to_owned();
        url.strip_prefix(&app.state.bound.cdn_base_url)
            .unwrap_or_else(|| panic!("a CDN URL: {url}"))
            .to_owned()
    }

    async fn share(&self, app: &TestApp, image: &str, with: &str) {
        let path = format!("/api/images/{image}/shares/{with}");
        let reply = self.call(app, Method::PUT, &path, None).await;
        assert!(reply.status.is_success(), "{}", reply.text());
    }

    async fn unshare(&self, app: &TestApp, image: &str, with: &str) {
        let path = format!("/api/images/{image}/shares/{with}");
        let reply = self.call(app, Method::DELETE, &path, None).await;
        assert!(reply.status.is_success(), "{}", reply.text());
    }

    /// Creates a share link and follows it as a stranger: (link id, the redirect's `Location`).
    async fn link(&self, app: &TestApp, image: &str) -> (i64, String) {
        let path = format!("/api/images/{image}/links");
        let created = self
            .call(app, Method::POST, &path, Some(json!({ "expires_in": 3600 })))
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let created = created.json();
        let stranger = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("http client");
        let followed = send(stranger.get(created["url"].as_str().expect("url"))).await;
        assert_eq!(followed.status, StatusCode::FOUND, "{}", followed.text());
        let location = followed.header("location").expect("Location").to_owned();
        (created["id"].as_i64().expect("link id"), location)
    }

    async fn revoke_link(&self, app: &TestApp, link: i64) {
        let reply = self
            .call(app, Method::DELETE, &format!("/api/links/{link}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    }

    /// `POST /api/urls` for `ids`: the signed (or public) URL of each the user may see.
    async fn urls(&self, app: &TestApp, ids: &[&str]) -> Vec<String> {
        let reply = self
            .call(app, Method::POST, "/api/urls", Some(json!({ "ids": ids })))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()["urls"]
            .as_object()
            .expect("urls")
            .values()
            .map(|url| url.as_str().expect("a URL").to_owned())
            .collect()
    }
}

/// An uploaded image and its unique bytes.
struct Image {
    id: String,
    bytes: Vec<u8>,
}

/// Alice with a private image, and Bob with his CloudFront cookies: the review's two-user setup.
struct AliceAndBob {
    app: TestApp,
    alice: Person,
    bob: Person,
    image: Image,
}

impl AliceAndBob {
    async fn new() -> Self {
        let app = spawn().await;
        let alice = Person::sign_up(&app, "alice@example.com").await;
        let image = alice.upload(&app, &unique_png("alice-1")).await;
        let bob = Person::sign_up(&app, "bob@example.com").await;
        Self {
            app,
            alice,
            bob,
            image,
        }
    }

    /// `/users/{alice}/{image}.png`.
    fn private_path(&self) -> String {
        format!("/users/{}/{}.png", self.alice.id, self.image.id)
    }
}

/// Asserts that the answer is a refusal that carries none of `image`'s bytes.
fn assert_refused(reply: &RawReply, image: &Image, what: &str) {
    assert_eq!(reply.status, 403, "{what}: {:?}", reply.headers);
    assert!(
        !holds(&reply.body, &image.bytes),
        "{what}: the image's bytes came back"
    );
}

/// Asserts that the answer is exactly `image`.
fn assert_served(reply: &RawReply, image: &Image, what: &str) {
    assert_eq!(
        reply.status,
        200,
        "{what}: {:?} {}",
        reply.headers,
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.body, image.bytes, "{what}");
}

#[tokio::test]
async fn bobs_own_cookies_never_open_alices_image_whatever_the_host_header() {
    let world = AliceAndBob::new().await;
    let app = &world.app;
    let (edge, alice, bob) = (edge_host(app), world.alice.id, world.bob.id);
    let target = world.private_path();
    let file = format!("{}.png", world.image.id);

    for host in [
        format!("{edge}/users/{bob}/"),
        format!("{edge}/users/{bob}/x"),
        format!("{edge}/users/{bob}/x?"),
        format!("{edge}/users/{bob}/x?y="),
        format!("{edge}/users/{bob}/{file}#"),
        format!("{edge}/users/{bob}/@"),
        format!("{edge}/users/{alice}/"),
        format!("{edge}/users/{alice}/{file}"),
    ] {
        let request = EdgeRequest::new(&target, &host).cookie(world.bob.own_cookies(app));
        assert_refused(&request.send(app).await, &world.image, &format!("Host: {host}"));
    }
    // The same request with Alice's cookies is served: the image is there to take.
    let request = EdgeRequest::new(&target, &edge).cookie(world.alice.own_cookies(app));
    assert_served(&request.send(app).await, &world.image, "Alice's own cookies");
}

#[tokio::test]
async fn the_owner_is_served_whatever_host_or_authority_the_request_names() {
    let world = AliceAndBob::new().await;
    let app = &world.app;
    let target = world.private_path();
    let cookies = world.alice.own_cookies(app);

    for host in ["evil.example", "cdn.example.com", "127.0.0.1:1", "[::1]:8081"] {
        let request = EdgeRequest::new(&target, host).cookie(&cookies);
        assert_served(&request.send(app).await, &world.image, &format!("Host: {host}"));
    }
    let request = EdgeRequest {
        host: None,
        ..EdgeRequest::new(&target, "").cookie(&cookies)
    };
    assert_served(&request.send(app).await, &world.image, "no Host");
    // Absolute form: the authority is ignored like the `Host` header, the path names the object.
    for authority in ["evil.example", "127.0.0.1:1", "user@evil.example"] {
        let absolute = format!("http://{authority}{target}");
        let request = EdgeRequest::new(&absolute, "evil.example").cookie(&cookies);
        assert_served(&request.send(app).await, &world.image, &absolute);
    }
}

#[tokio::test]
async fn an_absolute_form_target_is_decided_on_its_path_alone() {
    let world = AliceAndBob::new().await;
    let app = &world.app;
    let (edge, bob) = (edge_host(app), world.bob.id);
    let target = world.private_path();

    for (absolute, host) in [
        (format!("http://{edge}{target}"), format!("{edge}/users/{bob}/")),
        (
            format!("http://evil.example{target}"),
            format!("{edge}/users/{bob}/"),
        ),
        (format!("http://{edge}{target}"), edge.clone()),
        (format!("https://{edge}{target}?x=1"), edge.clone()),
    ] {
        let request = EdgeRequest::new(&absolute, &host).cookie(world.bob.own_cookies(app));
        assert_refused(
            &request.send(app).await,
            &world.image,
            &format!("{absolute} with Host: {host}"),
        );
    }
}

/// Alice's image `shared`, with a share link followed by a stranger, and her other private `other`.
struct LinkedAndOther {
    world: AliceAndBob,
    link: i64,
    location: String,
    other: Image,
}

impl LinkedAndOther {
    async fn new() -> Self {
        let world = AliceAndBob::new().await;
        let other = world.alice.upload(&world.app, &unique_png("alice-2")).await;
        let (link, location) = world.alice.link(&world.app, &world.image.id).await;
        Self {
            world,
            link,
            location,
            other,
        }
    }

    /// The requests the review sent with no account at all: the link's signed URL (or its query) as
    /// `Host`, with `&Expires=` to swallow the path, for `other`'s private object.
    fn attacks(&self) -> Vec<EdgeRequest> {
        let app = &self.world.app;
        let edge = edge_host(app);
        let signed = self.location.strip_prefix("http://").expect("an http URL");
        let query = &self.location[self.location.find('?').expect("a signed query")..];
        let target = format!("/users/{}/{}.png", self.world.alice.id, self.other.id);
        [
            format!("{signed}&Expires="),
            format!("{signed}&Expires=1"),
            format!("{signed}&x="),
            format!("{edge}{query}&Expires="),
            format!("{edge}/{query}&Expires="),
        ]
        .into_iter()
        .map(|host| EdgeRequest::new(&target, host))
        .collect()
    }
}

#[tokio::test]
async fn a_share_links_signed_query_in_the_host_opens_no_other_private_image() {
    let case = LinkedAndOther::new().await;
    let app = &case.world.app;

    // The link itself works for a stranger, for its own image only.
    let own = EdgeRequest::new(
        case.location
            .strip_prefix(&app.state.bound.cdn_base_url)
            .expect("CDN URL"),
        edge_host(app),
    );
    assert_served(&own.send(app).await, &case.world.image, "the link's signed URL");

    for attack in case.attacks() {
        assert_refused(&attack.send(app).await, &case.other, &format!("{attack:?}"));
    }
}

#[tokio::test]
async fn a_revoked_share_links_signed_query_in_the_host_opens_no_other_private_image() {
    let case = LinkedAndOther::new().await;
    let app = &case.world.app;
    case.world.alice.revoke_link(app, case.link).await;

    for attack in case.attacks() {
        assert_refused(&attack.send(app).await, &case.other, &format!("{attack:?}"));
    }
}

#[tokio::test]
async fn a_share_links_signed_query_in_the_host_opens_no_image_made_private_again() {
    let case = LinkedAndOther::new().await;
    let (app, alice) = (&case.world.app, &case.world.alice);
    alice.set_visibility(app, &case.other.id, "public").await;
    alice.set_visibility(app, &case.other.id, "private").await;
    assert_eq!(
        alice.path_of(app, &case.other.id).await,
        format!("/users/{}/{}.png", alice.id, case.other.id)
    );

    for attack in case.attacks() {
        assert_refused(&attack.send(app).await, &case.other, &format!("{attack:?}"));
    }
    // Nor does the public path it had.
    let public = EdgeRequest::new(format!("/public/{}.png", case.other.id), edge_host(app));
    assert_refused(&public.send(app).await, &case.other, "the old public path");
}

#[tokio::test]
async fn a_signed_url_that_repeats_a_signing_parameter_is_refused() {
    let case = LinkedAndOther::new().await;
    let app = &case.world.app;
    let edge = edge_host(app);
    let target = case
        .location
        .strip_prefix(&app.state.bound.cdn_base_url)
        .expect("CDN URL")
        .to_owned();
    let value = |name: &str| {
        target
            .split(['?', '&'])
            .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
            .unwrap_or("")
            .to_owned()
    };

    let (path, query) = target.split_once('?').expect("a signed query");
    let mut repeated = Vec::new();
    for name in ["Expires", "Signature", "Key-Pair-Id", "Hash-Algorithm", "Policy"] {
        let signed = value(name);
        if signed.is_empty() {
            continue;
        }
        for copy in ["", signed.as_str(), "1"] {
            repeated.push((format!("{target}&{name}={copy}"), name));
            repeated.push((format!("{path}?{name}={copy}&{query}"), name));
        }
    }
    assert!(repeated.len() >= 18, "a signed URL has at least three parameters");
    for (target, name) in repeated {
        let reply = EdgeRequest::new(&target, &edge).send(app).await;
        assert_refused(&reply, &case.world.image, &target);
        let denial = reply.header("x-edgepass-denial").unwrap_or("");
        assert!(
            denial.contains(&format!("repeated signing parameter {name}")),
            "{target}: {denial}"
        );
        assert!(
            String::from_utf8_lossy(&reply.body).contains("<Code>AccessDenied</Code>"),
            "{target}: CloudFront's body"
        );
    }
}

#[tokio::test]
async fn fragments_percent_encodings_and_dot_segments_never_carry_bobs_cookies_to_alice() {
    let world = AliceAndBob::new().await;
    let app = &world.app;
    let (edge, alice, bob) = (edge_host(app), world.alice.id, world.bob.id);
    let file = format!("{}.png", world.image.id);

    for target in [
        format!("/users/{bob}/#/../{alice}/{file}"),
        format!("/users/{bob}/..%2F{alice}%2F{file}"),
        format!("/users/{bob}/%2e%2e/{alice}/{file}"),
        format!("/users/{bob}/%2E%2E%2F{alice}%2F{file}"),
        format!("/users/{bob}/./../{alice}/{file}"),
        format!("/users/{bob}%2F..%2F{alice}/{file}"),
        format!("/users/{bob}/%3F/../../{alice}/{file}"),
        format!("/users/{bob}/%23/../../{alice}/{file}"),
        format!("/users/{bob}//../users/{alice}/{file}"),
        format!("/users/{bob}/users/{alice}/{file}"),
        format!("/%75sers/{alice}/{file}"),
    ] {
        let request = EdgeRequest::new(&target, &edge).cookie(world.bob.own_cookies(app));
        let reply = request.send(app).await;
        assert_ne!(reply.status, 200, "{target}");
        assert!(!holds(&reply.body, &world.image.bytes), "{target}");
    }
    // Alice's own cookies with an encoded character of her own path are still hers.
    let encoded = format!("/users/{alice}/%{:02X}{}", file.as_bytes()[0], &file[1..]);
    let request = EdgeRequest::new(&encoded, &edge).cookie(world.alice.own_cookies(app));
    assert_served(&request.send(app).await, &world.image, &encoded);
}
