//! Share links end to end: creation (the token is shown once and stored only as a hash), following a
//! link to a short-lived signed URL, expiry, revocation and deletion.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use edgepass::db::entity::share_link;
use edgepass::signing::{ViewerRequest, verify};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, PNG, Reply, TestApp, browser, real_now, send};

/// edgepass with its clock at the real time, since the embedded store checks upload URLs against it.
async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_at(real_now(), settings).await
}

/// Alice (the app's browser, signed up) with one uploaded PNG; returns her id and the image id.
async fn alice_with_image(app: &TestApp) -> (i64, String) {
    let alice = app.signed_up("alice@example.com").await;
    let view = app.upload("image/png", PNG, "a.png").await;
    (alice, view["id"].as_str().expect("id").to_owned())
}

async fn create_link(app: &TestApp, image: &str, expires_in: u64) -> Reply {
    app.post_json(
        &format!("/api/images/{image}/links"),
        &json!({ "expires_in": expires_in }),
    )
    .await
}

/// Creates a link and returns its answer.
async fn link(app: &TestApp, image: &str, expires_in: u64) -> Value {
    let reply = create_link(app, image, expires_in).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.json()
}

/// Follows `url` as a stranger's browser would, without following the redirect.
async fn follow(url: &str) -> Reply {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("http client");
    send(client.get(url)).await
}

fn assert_private_headers(reply: &Reply) {
    assert_eq!(
        reply.header("cache-control"),
        Some("no-store"),
        "{:?}",
        reply.headers
    );
    assert_eq!(
        reply.header("referrer-policy"),
        Some("no-referrer"),
        "{:?}",
        reply.headers
    );
}

#[tokio::test]
async fn creating_a_link_returns_its_url_once_and_stores_only_the_tokens_hash() {
    let app = spawn_with(&[]).await;
    let (_, image) = alice_with_image(&app).await;

    let created = link(&app, &image, 3600).await;
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["expires_at"].as_u64(), Some(app.now() + 3600));
    let url = created["url"].as_str().expect("url");
    let token = url
        .strip_prefix(&format!("{}/s/", app.state.bound.public_url))
        .unwrap_or_else(|| panic!("a link on the service: {url}"));
    let raw = URL_SAFE_NO_PAD.decode(token).expect("URL-safe base64");
    assert_eq!(raw.len(), 32, "256 random bits");

    let rows = share_link::Entity::find().all(app.db()).await.expect("links");
    assert_eq!(rows.len(), 1);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &raw);
    assert_eq!(rows[0].token_hash, digest.as_ref(), "only the hash is stored");

    let listed = app.get(&format!("/api/images/{image}/links")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    let listed = listed.json();
    assert_eq!(listed["links"][0]["id"], id);
    assert_eq!(listed["links"][0]["active"], true);
    assert!(
        !listed.to_string().contains(token),
        "the token is not shown again"
    );
    assert_eq!(
        app.audited("link_created").await,
        vec![format!("{image}/links/{id}")]
    );
}

#[tokio::test]
async fn following_a_link_redirects_to_a_short_lived_signed_url_without_caching_or_referrer() {
    let app = spawn_with(&[]).await;
    let (alice, image) = alice_with_image(&app).await;
    let created = link(&app, &image, 3600).await;

    let reply = follow(created["url"].as_str().expect("url")).await;
    assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
    assert_private_headers(&reply);
    let location = reply.header("location").expect("location");
    let object = format!("{}/users/{alice}/{image}.png", app.state.bound.cdn_base_url);
    assert!(location.starts_with(&format!("{object}?Expires=")), "{location}");
    let expires: u64 = location
        .split("Expires=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .and_then(|e| e.parse().ok())
        .expect("Expires");
    let now = app.now();
    let sharing = &app.state.config.sharing;
    assert!(expires >= now + sharing.link_url_ttl_secs);
    assert!(expires <= now + app.state.cdn.longest_object_url_life(sharing.link_url_ttl_secs));
    let request = |now| ViewerRequest {
        url: location,
        cookies: &[],
        viewer_ip: None,
        now,
    };
    assert!(verify(app.state.cdn.keys(), &request(now)).is_ok());
    assert!(verify(app.state.cdn.keys(), &request(expires)).is_err());
    let id = created["id"].as_i64().expect("id");
    assert_eq!(
        app.audited("link_used").await,
        vec![format!("{image}/links/{id}")]
    );
    let token = created["url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .expect("token");
    let metrics = app.metrics().await;
    assert!(metrics.contains("/s/{token}"), "{metrics}");
    assert!(!metrics.contains(token), "the token is not a label");
}

#[tokio::test]
async fn a_link_to_a_public_image_redirects_to_its_public_url() {
    let app = spawn_with(&[]).await;
    let (_, image) = alice_with_image(&app).await;
    assert_eq!(app.set_visibility(&image, "public").await.status, StatusCode::OK);
    let created = link(&app, &image, 60).await;

    let reply = follow(created["url"].as_str().expect("url")).await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(
        reply.header("location"),
        Some(format!("{}/public/{image}.png", app.state.bound.cdn_base_url).as_str())
    );
}

#[tokio::test]
async fn following_an_unknown_token_returns_404_and_an_expired_or_revoked_link_returns_410() {
    let app = spawn_with(&[]).await;
    let (_, image) = alice_with_image(&app).await;
    let short = link(&app, &image, 60).await;
    let revoked = link(&app, &image, 3600).await;

    for token in [URL_SAFE_NO_PAD.encode([7u8; 32]), "not-a-token".to_owned()] {
        let reply = follow(&app.url(&format!("/s/{token}"))).await;
        reply.assert_error(StatusCode::NOT_FOUND, "not_found");
        assert_private_headers(&reply);
    }
    let path = format!("/api/links/{}", revoked["id"]);
    assert_eq!(
        send(app.request(Method::DELETE, &path)).await.status,
        StatusCode::NO_CONTENT
    );
    let reply = follow(revoked["url"].as_str().expect("url")).await;
    reply.assert_error(StatusCode::GONE, "gone");
    assert_private_headers(&reply);

    app.advance(59);
    assert_eq!(
        follow(short["url"].as_str().expect("url")).await.status,
        StatusCode::FOUND
    );
    app.advance(1);
    follow(short["url"].as_str().expect("url"))
        .await
        .assert_error(StatusCode::GONE, "gone");
}

#[tokio::test]
async fn revoking_a_link_returns_204_is_audited_once_and_another_users_link_is_404() {
    let app = spawn_with(&[]).await;
    let (_, image) = alice_with_image(&app).await;
    let created = link(&app, &image, 3600).await;
    let id = created["id"].as_i64().expect("id");
    let (bob, _jar) = browser();
    send(
        bob.post(app.url("/api/auth/register"))
            .json(&json!({ "email": "bob@example.com", "password": PASSWORD })),
    )
    .await;
    let path = format!("/api/links/{id}");

    send(bob.delete(app.url(&path)))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    send(bob.get(app.url(&format!("/api/images/{image}/links"))))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    send(app.request(Method::DELETE, "/api/links/999999"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        follow(created["url"].as_str().expect("url")).await.status,
        StatusCode::FOUND
    );

    for _ in 0..2 {
        assert_eq!(
            send(app.request(Method::DELETE, &path)).await.status,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        app.audited("link_revoked").await,
        vec![format!("{image}/links/{id}")]
    );
    let listed = app.get(&format!("/api/images/{image}/links")).await.json();
    assert_eq!(listed["links"][0]["active"], false);
    assert_eq!(listed["links"][0]["revoked_at"].as_u64(), Some(app.now()));
}

#[tokio::test]
async fn a_link_beyond_the_maximum_lifetime_or_to_an_unfinished_or_foreign_image_is_refused() {
    let app = spawn_with(&[("EDGEPASS_SHARE_LINK_MAX_TTL_SECS", "600")]).await;
    let (_, image) = alice_with_image(&app).await;

    for expires_in in [0, 601] {
        create_link(&app, &image, expires_in)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    assert_eq!(create_link(&app, &image, 600).await.status, StatusCode::CREATED);
    let pending = app.start_upload("image/png", 10, "p.png").await.json()["id"]
        .as_str()
        .expect("id")
        .to_owned();
    create_link(&app, &pending, 60)
        .await
        .assert_error(StatusCode::CONFLICT, "not_ready");
    create_link(&app, "aaaaaaaaaaaaaaaaaaaaaaaaaa", 60)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn deleting_an_image_ends_its_links() {
    let app = spawn_with(&[]).await;
    let (_, image) = alice_with_image(&app).await;
    let created = link(&app, &image, 3600).await;

    assert_eq!(app.delete_image(&image).await.status, StatusCode::NO_CONTENT);
    follow(created["url"].as_str().expect("url"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(
        share_link::Entity::find()
            .all(app.db())
            .await
            .expect("links")
            .is_empty()
    );
}

#[tokio::test]
async fn every_answer_under_s_is_json_when_refused_and_kept_out_of_caches() {
    let app = spawn_with(&[]).await;

    for (method, path, status) in [
        (Method::TRACE, "/s/0", StatusCode::METHOD_NOT_ALLOWED),
        (Method::GET, "/s/not-a-token", StatusCode::NOT_FOUND),
        (Method::GET, "/s/a/b", StatusCode::NOT_FOUND),
    ] {
        let reply = send(app.raw_request(method.clone(), path)).await;

        assert_eq!(reply.status, status, "{method} {path}: {}", reply.text());
        assert_private_headers(&reply);
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{method} {path}"
        );
        assert!(reply.json()["error"].is_string(), "{method} {path}");
    }
}
