//! Sharing end to end: grants to other users, the images shared with me and their signed URLs, batch
//! URLs, and what revocation, deletion and going private do to the URLs handed out.

use edgepass::db::entity::share;
use edgepass::signing::{Denial, ExpiryWindow, ViewerRequest, verify};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{PNG, Reply, TestApp, real_now, send, signed_up_browser};

/// edgepass with its clock at the real time, since the embedded store checks upload URLs against it.
async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_at(real_now(), settings).await
}

/// Another user, signed in with a browser of their own.
struct User {
    id: i64,
    client: reqwest::Client,
}

impl User {
    async fn sign_up(app: &TestApp, email: &str) -> Self {
        let (id, client, _jar) = signed_up_browser(app, email).await;
        Self { id, client }
    }

    async fn get(&self, app: &TestApp, path: &str) -> Reply {
        send(self.client.get(app.url(path))).await
    }

    async fn send(&self, app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let request = self.client.request(method, app.url(path));
        send(match body {
            Some(body) => request.json(body),
            None => request,
        })
        .await
    }

    /// Uploads a PNG and returns its id.
    async fn upload(&self, app: &TestApp) -> String {
        let reply = self
            .send(
                app,
                Method::POST,
                "/api/images",
                Some(&json!({ "content_type": "image/png", "byte_size": PNG.len(), "name": "b.png" })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        let ticket = reply.json();
        assert_eq!(
            crate::helpers::put_upload(&ticket, "image/png", PNG).await,
            StatusCode::OK
        );
        let id = ticket["id"].as_str().expect("id").to_owned();
        let done = self
            .send(app, Method::POST, &format!("/api/images/{id}/complete"), None)
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text());
        id
    }
}

/// Alice (the app's own browser, signed up) with one uploaded PNG, and Bob.
async fn alice_and_bob(app: &TestApp) -> (i64, String, User) {
    let alice = app.signed_up("alice@example.com").await;
    let image = upload(app).await;
    let bob = User::sign_up(app, "bob@example.com").await;
    (alice, image, bob)
}

/// Uploads a PNG from the app's browser and returns its id.
async fn upload(app: &TestApp) -> String {
    let view = app.upload("image/png", PNG, "a.png").await;
    view["id"].as_str().expect("id").to_owned()
}

/// `PUT /api/images/{image}/shares/{user}` from the app's browser.
async fn share(app: &TestApp, image: &str, user: &str, terms: Option<&Value>) -> Reply {
    let request = app.request(Method::PUT, &format!("/api/images/{image}/shares/{user}"));
    send(match terms {
        Some(terms) => request.json(terms),
        None => request,
    })
    .await
}

async fn unshare(app: &TestApp, image: &str, user: &str) -> Reply {
    send(app.request(Method::DELETE, &format!("/api/images/{image}/shares/{user}"))).await
}

/// The images `user` sees shared with them.
async fn shared_with(app: &TestApp, user: &User) -> Vec<Value> {
    let reply = user.get(app, "/api/shared-with-me").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["images"].as_array().expect("images").clone()
}

/// `POST /api/urls` as `user`.
async fn urls(app: &TestApp, user: &User, ids: &[&str]) -> Value {
    let reply = user
        .send(app, Method::POST, "/api/urls", Some(&json!({ "ids": ids })))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()
}

/// CloudFront's decision for a signed URL requested without cookies at `now`.
fn decide(app: &TestApp, url: &str, now: u64) -> Result<(), Denial> {
    verify(
        app.state.cdn.keys(),
        &ViewerRequest {
            url,
            cookies: &[],
            viewer_ip: None,
            now,
        },
    )
    .map(|_| ())
}

fn private_url(app: &TestApp, owner: i64, image: &str) -> String {
    format!("{}/users/{owner}/{image}.png", app.state.bound.cdn_base_url)
}

fn public_url(app: &TestApp, image: &str) -> String {
    format!("{}/public/{image}.png", app.state.bound.cdn_base_url)
}

/// When a shared URL signed at `now` expires.
fn url_expiry(app: &TestApp, now: u64) -> u64 {
    ExpiryWindow::from_secs(app.state.config.cdn.expiry_window_secs)
        .expect("a window")
        .expiry(now, app.state.config.sharing.url_ttl_secs)
}

async fn grant_rows(app: &TestApp) -> Vec<share::Model> {
    share::Entity::find().all(app.db()).await.expect("shares")
}

// Grants.

#[tokio::test]
async fn sharing_an_image_by_email_returns_the_grant_lists_it_and_audits_it() {
    let app = spawn().await;
    let (_, image, bob) = alice_and_bob(&app).await;

    let reply = share(&app, &image, "Bob@Example.com", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let grant = reply.json();
    assert_eq!(grant["user"], json!({ "id": bob.id, "email": "bob@example.com" }));
    assert_eq!(grant["created_at"].as_u64(), Some(app.now()));
    assert_eq!(grant["expires_at"], Value::Null, "until revoked");
    assert_eq!(grant["expired"], false);

    let listed = app.get(&format!("/api/images/{image}/shares")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    assert_eq!(listed.json()["shares"], json!([grant]));
    assert_eq!(app.audited("share").await, vec![format!("{image}/{}", bob.id)]);
}

#[tokio::test]
async fn sharing_again_replaces_the_expiry_of_the_one_grant() {
    let app = spawn().await;
    let (_, image, _bob) = alice_and_bob(&app).await;
    let first = app.now();

    let reply = share(
        &app,
        &image,
        "bob@example.com",
        Some(&json!({ "expires_in": 3600 })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["expires_at"].as_u64(), Some(first + 3600));

    app.advance(10);
    let until = app.now() + 86_400;
    let reply = share(
        &app,
        &image,
        "bob@example.com",
        Some(&json!({ "expires_at": until })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["expires_at"].as_u64(), Some(until));
    assert_eq!(
        reply.json()["created_at"].as_u64(),
        Some(first),
        "the grant keeps its start"
    );

    let rows = grant_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].expires_at, Some(until as i64));
}

#[tokio::test]
async fn sharing_returns_404_for_another_users_image_or_an_unknown_user() {
    let app = spawn().await;
    let (_, image, bob) = alice_and_bob(&app).await;
    User::sign_up(&app, "carol@example.com").await;

    let path = format!("/api/images/{image}/shares/carol@example.com");
    bob.send(&app, Method::PUT, &path, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    bob.get(&app, &format!("/api/images/{image}/shares"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    bob.send(&app, Method::DELETE, &path, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    share(&app, &image, "nobody@example.com", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    share(&app, "aaaaaaaaaaaaaaaaaaaaaaaaaa", "carol@example.com", None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(grant_rows(&app).await.is_empty());
    assert!(app.audited("share").await.is_empty());
}

#[tokio::test]
async fn sharing_an_image_with_its_owner_returns_422() {
    let app = spawn().await;
    let (alice, image, _bob) = alice_and_bob(&app).await;

    for me in ["alice@example.com".to_owned(), alice.to_string()] {
        share(&app, &image, &me, None)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    assert!(grant_rows(&app).await.is_empty());
}

#[tokio::test]
async fn share_terms_with_both_expiries_or_a_past_one_return_422() {
    let app = spawn().await;
    let (_, image, _bob) = alice_and_bob(&app).await;
    let now = app.now();

    for terms in [
        json!({ "expires_at": now + 60, "expires_in": 60 }),
        json!({ "expires_at": now }),
        json!({ "expires_in": 0 }),
    ] {
        share(&app, &image, "bob@example.com", Some(&terms))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    share(&app, &image, "bob@example.com", Some(&json!({ "until": 5 })))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "bad_request");
    assert!(grant_rows(&app).await.is_empty());
}

#[tokio::test]
async fn revoking_a_grant_returns_204_removes_it_and_audits_it_once() {
    let app = spawn().await;
    let (_, image, bob) = alice_and_bob(&app).await;
    share(&app, &image, "bob@example.com", None).await;

    assert_eq!(
        unshare(&app, &image, "bob@example.com").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        unshare(&app, &image, &bob.id.to_string()).await.status,
        StatusCode::NO_CONTENT,
        "revoking again is a no-op"
    );
    let listed = app.get(&format!("/api/images/{image}/shares")).await;
    assert_eq!(listed.json()["shares"], json!([]));
    assert_eq!(app.audited("unshare").await, vec![format!("{image}/{}", bob.id)]);
    unshare(&app, &image, "nobody@example.com")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

// Shared with me.

#[tokio::test]
async fn shared_with_me_lists_granted_images_with_a_signed_url_for_that_object_only() {
    let app = spawn().await;
    let (alice, image, bob) = alice_and_bob(&app).await;
    let unshared = upload(&app).await;
    let carol = User::sign_up(&app, "carol@example.com").await;
    let bobs_own = bob.upload(&app).await;
    share(&app, &image, "bob@example.com", None).await;

    let images = shared_with(&app, &bob).await;
    assert_eq!(images.len(), 1, "{images:?}");
    let shared = &images[0];
    assert_eq!(shared["id"], image.as_str());
    assert_eq!(shared["owner_id"], alice);
    assert_eq!(shared["content_type"], "image/png");
    let now = app.now();
    let expires_at = url_expiry(&app, now);
    assert_eq!(shared["url_expires_at"].as_u64(), Some(expires_at));
    let url = shared["url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!(
            "{}?Expires={expires_at}&Signature=",
            private_url(&app, alice, &image)
        )),
        "a canned policy for the object: {url}"
    );
    assert_eq!(decide(&app, url, now), Ok(()));
    let other = url.replace(&image, &unshared);
    assert_eq!(
        decide(&app, &other, now),
        Err(Denial::BadSignature),
        "one object only"
    );

    assert!(shared_with(&app, &carol).await.is_empty());
    let ids: Vec<String> = shared_with(&app, &bob)
        .await
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(
        !ids.contains(&bobs_own),
        "one's own images are not shared with oneself"
    );
}

#[tokio::test]
async fn shared_with_me_returns_the_same_url_within_one_expiry_window() {
    let app = spawn_with(&[
        ("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", "600"),
        ("EDGEPASS_SHARED_URL_TTL_SECS", "120"),
    ])
    .await;
    let (_, image, bob) = alice_and_bob(&app).await;
    share(&app, &image, "bob@example.com", None).await;
    // Start just after a window boundary, so the next requests stay inside one window.
    app.advance(600 - app.now() % 600 + 1);

    let first = shared_with(&app, &bob).await[0]["url"].clone();
    let misses = app.state.cdn.memo_stats().misses;
    app.advance(60);
    let second = shared_with(&app, &bob).await[0]["url"].clone();
    assert_eq!(first, second);
    assert_eq!(app.state.cdn.memo_stats().misses, misses, "served from the memo");

    app.advance(600);
    let later = shared_with(&app, &bob).await[0]["url"].clone();
    assert_ne!(first, later, "the next window signs a new expiry");
}

#[tokio::test]
async fn shared_with_me_pages_newest_first_with_a_cursor() {
    let app = spawn().await;
    let (_, first, bob) = alice_and_bob(&app).await;
    app.advance(1);
    let second = upload(&app).await;
    app.advance(1);
    let third = upload(&app).await;
    for image in [&first, &second, &third] {
        share(&app, image, "bob@example.com", None).await;
    }

    let page = bob.get(&app, "/api/shared-with-me?limit=2").await.json();
    let ids: Vec<&str> = page["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(|i| i["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, vec![third.as_str(), second.as_str()]);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest = bob
        .get(&app, &format!("/api/shared-with-me?limit=2&cursor={cursor}"))
        .await
        .json();
    assert_eq!(rest["images"][0]["id"], first.as_str());
    assert_eq!(rest["next_cursor"], Value::Null);
    bob.get(&app, "/api/shared-with-me?limit=0")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
}

#[tokio::test]
async fn an_expired_grant_is_no_longer_shared_with_me() {
    let app = spawn().await;
    let (_, image, bob) = alice_and_bob(&app).await;
    share(
        &app,
        &image,
        "bob@example.com",
        Some(&json!({ "expires_in": 60 })),
    )
    .await;
    assert_eq!(shared_with(&app, &bob).await.len(), 1);

    app.advance(60);
    assert!(shared_with(&app, &bob).await.is_empty());
    assert_eq!(urls(&app, &bob, &[&image]).await["not_found"], json!([image]));
    let listed = app.get(&format!("/api/images/{image}/shares")).await.json();
    assert_eq!(listed["shares"][0]["expired"], true, "the owner still sees it");
}

#[tokio::test]
async fn a_shared_public_image_comes_with_its_plain_public_url() {
    let app = spawn().await;
    let (_, image, bob) = alice_and_bob(&app).await;
    share(&app, &image, "bob@example.com", None).await;
    assert_eq!(app.set_visibility(&image, "public").await.status, StatusCode::OK);

    let images = shared_with(&app, &bob).await;
    assert_eq!(images[0]["url"], public_url(&app, &image));
    assert_eq!(images[0]["url_expires_at"], Value::Null);
}

// Batch URLs.

#[tokio::test]
async fn batch_urls_cover_own_and_granted_images_and_report_every_other_id_as_not_found() {
    let app = spawn().await;
    let (alice, private, bob) = alice_and_bob(&app).await;
    let public = upload(&app).await;
    assert_eq!(app.set_visibility(&public, "public").await.status, StatusCode::OK);
    let granted = bob.upload(&app).await;
    let withheld = bob.upload(&app).await;
    let path = format!("/api/images/{granted}/shares/alice@example.com");
    assert_eq!(
        bob.send(&app, Method::PUT, &path, None).await.status,
        StatusCode::OK
    );
    let missing = "aaaaaaaaaaaaaaaaaaaaaaaaaa";
    let pending = app.start_upload("image/png", 10, "p.png").await.json()["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let reply = app
        .post_json(
            "/api/urls",
            &json!({ "ids": [private, public, granted, withheld, "../etc", missing, pending, private] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let batch = reply.json();
    let now = app.now();
    let urls = batch["urls"].as_object().expect("urls");
    assert_eq!(urls.len(), 3, "{batch}");
    assert_eq!(urls[&public], public_url(&app, &public));
    for (id, owner) in [(&private, alice), (&granted, bob.id)] {
        let url = urls[id].as_str().expect("url");
        assert!(url.starts_with(&private_url(&app, owner, id)), "{url}");
        assert_eq!(decide(&app, url, now), Ok(()));
    }
    assert_eq!(batch["not_found"], json!([withheld, "../etc", missing, pending]));
    assert_eq!(batch["expires_at"].as_u64(), Some(url_expiry(&app, now)));
}

#[tokio::test]
async fn a_large_batch_mixes_memoized_and_fresh_signatures_each_for_its_own_object() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let bob = User::sign_up(&app, "bob@example.com").await;
    let mut images = Vec::new();
    for _ in 0..12 {
        let image = upload(&app).await;
        assert_eq!(
            share(&app, &image, "bob@example.com", None).await.status,
            StatusCode::OK
        );
        images.push(image);
    }
    let ids: Vec<&str> = images.iter().map(String::as_str).collect();
    let first = urls(&app, &bob, &ids[..4]).await;
    let before = app.state.cdn.memo_stats();

    // Four are memoized now; the other eight are signed off the async workers, in parallel.
    let batch = urls(&app, &bob, &ids).await;
    let after = app.state.cdn.memo_stats();
    assert_eq!((after.hits - before.hits, after.misses - before.misses), (4, 8));
    let now = app.now();
    let urls = batch["urls"].as_object().expect("urls");
    assert_eq!(urls.len(), 12, "{batch}");
    for image in &images {
        let url = urls[image].as_str().expect("url");
        assert!(
            url.starts_with(&format!("{}?Expires=", private_url(&app, alice, image))),
            "{image}: {url}"
        );
        assert_eq!(decide(&app, url, now), Ok(()), "{url}");
    }
    for image in &ids[..4] {
        assert_eq!(
            urls[*image], first["urls"][*image],
            "the memoized URL is the one handed out before"
        );
    }
    assert_eq!(batch["not_found"], json!([]));
}

#[tokio::test]
async fn batch_urls_refuse_more_ids_than_the_limit_with_422() {
    let app = spawn_with(&[("EDGEPASS_URL_BATCH_MAX", "3")]).await;
    app.signed_up("alice@example.com").await;
    let id = "aaaaaaaaaaaaaaaaaaaaaaaaaa";

    app.post_json("/api/urls", &json!({ "ids": [id, id, id, id] }))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let reply = app.post_json("/api/urls", &json!({ "ids": [id, id, id] })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["not_found"], json!([id]));
    assert_eq!(reply.json()["urls"], json!({}));
}

// Revocation.

#[tokio::test]
async fn revoking_a_grant_stops_new_urls_while_issued_ones_live_until_their_own_expiry() {
    let app = spawn().await;
    let (_, image, bob) = alice_and_bob(&app).await;
    share(&app, &image, "bob@example.com", None).await;
    let issued = shared_with(&app, &bob).await[0].clone();
    let url = issued["url"].as_str().expect("url");
    let expires_at = issued["url_expires_at"].as_u64().expect("expiry");
    let bound = app
        .state
        .cdn
        .longest_object_url_life(app.state.config.sharing.url_ttl_secs);
    assert!(expires_at <= app.now() + bound, "within the documented bound");

    assert_eq!(
        unshare(&app, &image, "bob@example.com").await.status,
        StatusCode::NO_CONTENT
    );
    assert!(shared_with(&app, &bob).await.is_empty());
    let batch = urls(&app, &bob, &[&image]).await;
    assert_eq!(batch["urls"], json!({}));
    assert_eq!(batch["not_found"], json!([image]));

    assert_eq!(
        decide(&app, url, expires_at - 1),
        Ok(()),
        "an issued URL lives on"
    );
    assert_eq!(
        decide(&app, url, expires_at),
        Err(Denial::Expired { at: expires_at }),
        "until its own expiry"
    );
}

#[tokio::test]
async fn deleting_a_shared_image_stops_new_urls_and_removes_its_grants() {
    let app = spawn().await;
    let (_, image, bob) = alice_and_bob(&app).await;
    share(&app, &image, "bob@example.com", None).await;
    assert_eq!(shared_with(&app, &bob).await.len(), 1);

    assert_eq!(app.delete_image(&image).await.status, StatusCode::NO_CONTENT);
    assert!(shared_with(&app, &bob).await.is_empty());
    assert_eq!(urls(&app, &bob, &[&image]).await["not_found"], json!([image]));
    assert!(grant_rows(&app).await.is_empty());
}

#[tokio::test]
async fn making_a_shared_public_image_private_stops_its_public_url() {
    let app = spawn().await;
    let (alice, image, bob) = alice_and_bob(&app).await;
    share(&app, &image, "bob@example.com", None).await;
    assert_eq!(app.set_visibility(&image, "public").await.status, StatusCode::OK);
    assert_eq!(
        urls(&app, &bob, &[&image]).await["urls"][&image],
        public_url(&app, &image)
    );

    assert_eq!(app.set_visibility(&image, "private").await.status, StatusCode::OK);
    let now = app.now();
    for url in [
        urls(&app, &bob, &[&image]).await["urls"][&image].clone(),
        shared_with(&app, &bob).await[0]["url"].clone(),
    ] {
        let url = url.as_str().expect("url").to_owned();
        assert!(url.starts_with(&private_url(&app, alice, &image)), "{url}");
        assert_eq!(decide(&app, &url, now), Ok(()));
    }
    let own = app
        .post_json("/api/urls", &json!({ "ids": [image] }))
        .await
        .json();
    assert!(
        own["urls"][&image]
            .as_str()
            .is_some_and(|u| u.starts_with(&private_url(&app, alice, &image))),
        "{own}"
    );
}
