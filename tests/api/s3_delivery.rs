//! `EDGEPASS_DELIVERY=s3`: every image URL is an S3 presigned GET for one object, checked by the
//! embedded store as S3 checks it, and no CloudFront cookie is ever set.
//!
//! The store checks signatures and expiries against the real time, so these apps run on it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::albums::{Browser, id_of, url_of};
use crate::helpers::{PNG, Reply, TestApp, real_now, send};

/// edgepass delivering from S3, on the real clock, with `settings` on top.
async fn spawn_s3(settings: &[(&str, &str)]) -> TestApp {
    let mut all = vec![("EDGEPASS_DELIVERY", "s3")];
    all.extend_from_slice(settings);
    TestApp::spawn_at(real_now(), &all).await
}

/// `url` as a stranger loads it: no cookies, no session.
async fn load(url: &str) -> (StatusCode, Vec<u8>) {
    let reply = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(url)
        .send()
        .await
        .expect("GET");
    let status = reply.status();
    (status, reply.bytes().await.expect("body").to_vec())
}

/// Whether an answer set (not expired) any CloudFront cookie.
fn sets_cloudfront_cookies(reply: &Reply) -> bool {
    reply
        .set_cookies()
        .iter()
        .any(|cookie| cookie.name.starts_with("CloudFront-"))
}

/// `url` with its object key replaced by `key`'s.
fn with_key(url: &str, from: &str, to: &str) -> String {
    let swapped = url.replace(from, to);
    assert_ne!(swapped, url, "{from} in {url}");
    swapped
}

/// The object key in a presigned URL (path-style: `/{bucket}/{key}?…`).
fn key_of(url: &str) -> String {
    let path = url.split('?').next().expect("path");
    let users = path
        .find("/users/")
        .or_else(|| path.find("/public/"))
        .expect("a key");
    path[users + 1..].to_owned()
}

fn is_presigned(url: &str) -> bool {
    url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=")
}

#[tokio::test]
async fn the_owner_gets_presigned_urls_that_load_and_no_cloudfront_cookies() {
    let app = spawn_s3(&[]).await;
    let registered = app.register("alice@example.com", crate::helpers::PASSWORD).await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.text());
    assert!(!sets_cloudfront_cookies(&registered), "{:?}", registered.headers);
    let session = registered.json();
    assert_eq!(session["delivery"], "s3");
    assert!(session.get("cdn").is_none(), "{session}");

    let me = app.me().await.json();
    assert_eq!(me["delivery"], "s3");
    assert!(me.get("cdn_expires_at").is_none(), "{me}");
    let refreshed = app.mint_cookies().await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
    assert!(!sets_cloudfront_cookies(&refreshed), "{:?}", refreshed.headers);
    assert_eq!(
        refreshed.json(),
        json!({ "delivery": "s3", "expired_album_sets": [] })
    );

    let image = app.upload("image/png", PNG, "a.png").await;
    let url = url_of(&image);
    assert!(is_presigned(&url), "{url}");
    assert!(
        url.starts_with(&app.state.upload_origin),
        "straight from the store: {url}"
    );
    let expires_at = image["url_expires_at"].as_u64().expect("an end");
    assert!(expires_at >= app.now() + 3600, "as long as the cookies would be");
    assert_eq!(load(&url).await, (StatusCode::OK, PNG.to_vec()));

    // The same URL from the listing and the single read, within the window.
    let listed = app.get("/api/images").await.json();
    assert_eq!(listed["images"][0]["url"], url.as_str());
    let read = app.get(&format!("/api/images/{}", id_of(&image))).await.json();
    assert_eq!(read["url"], url.as_str());
    assert!(app.metric("edgepass_presigned_get_memo_hits_total").await >= 2.0);

    // The object key without a signature is not served.
    let bare = url.split('?').next().expect("path");
    assert_eq!(load(bare).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_stranger_who_changes_the_key_in_a_url_or_its_signature_or_expiry_is_refused() {
    let app = spawn_s3(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let mallory = Browser::sign_up(&app, "mallory@example.com").await;
    let secret_view = alice.upload(&app, None).await;
    let secret = url_of(&secret_view);
    let other = url_of(&alice.upload(&app, None).await);
    let own = url_of(&mallory.upload(&app, None).await);
    assert_eq!(load(&own).await.0, StatusCode::OK);

    // Mallory's own URL pointed at Alice's object, and Alice's URL pointed at another of hers.
    let stolen = with_key(&own, &key_of(&own), &key_of(&secret));
    assert_eq!(load(&stolen).await.0, StatusCode::FORBIDDEN);
    let swapped = with_key(&secret, &key_of(&secret), &key_of(&other));
    assert_eq!(load(&swapped).await.0, StatusCode::FORBIDDEN);
    // Another user's prefix with the same object id.
    let moved = with_key(
        &own,
        &format!("users/{}/", mallory.id),
        &format!("users/{}/", alice.id),
    );
    assert_eq!(load(&moved).await.0, StatusCode::FORBIDDEN);
    // A longer life, and a changed signature.
    let longer = own.replace("X-Amz-Expires=", "X-Amz-Expires=9");
    assert_eq!(load(&longer).await.0, StatusCode::FORBIDDEN);
    let at = own.find("X-Amz-Signature=").expect("signature") + "X-Amz-Signature=".len();
    let flipped = if &own[at..=at] == "0" { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &own[..at], &own[at + 1..]);
    assert_eq!(load(&tampered).await.0, StatusCode::FORBIDDEN);
    // Mallory's API calls for Alice's image find nothing.
    let reply = mallory
        .get(&app, &format!("/api/images/{}", id_of(&secret_view)))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text());
}

#[tokio::test]
async fn a_grantees_url_loads_until_the_grant_is_revoked_and_the_url_expires() {
    // Shared URLs live 3 s (whole-second windows), so the end comes within the test.
    let app = spawn_s3(&[
        ("EDGEPASS_SHARED_URL_TTL_SECS", "3"),
        ("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", "1"),
    ])
    .await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let bob = Browser::sign_up(&app, "bob@example.com").await;
    let image = id_of(&alice.upload(&app, None).await);
    let shared = alice
        .send(
            &app,
            Method::PUT,
            &format!("/api/images/{image}/shares/{}", bob.email),
            None,
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text());

    // The store checks the real time, and signing up took some of it: the service's clock catches up.
    app.advance(real_now().saturating_sub(app.now()));
    let listed = bob.get(&app, "/api/shared-with-me").await.json();
    let url = listed["images"][0]["url"].as_str().expect("url").to_owned();
    assert!(is_presigned(&url), "{url}");
    assert_eq!(load(&url).await, (StatusCode::OK, PNG.to_vec()));
    let batch = bob
        .send(&app, Method::POST, "/api/urls", Some(&json!({ "ids": [image] })))
        .await
        .json();
    assert_eq!(batch["urls"][&image], url.as_str(), "one URL per window");

    let revoked = alice
        .send(
            &app,
            Method::DELETE,
            &format!("/api/images/{image}/shares/{}", bob.id),
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text());
    let after = bob.get(&app, "/api/shared-with-me").await.json();
    assert_eq!(after["images"], json!([]), "no new URL");
    let batch = bob
        .send(&app, Method::POST, "/api/urls", Some(&json!({ "ids": [image] })))
        .await
        .json();
    assert!(batch["urls"].get(&image).is_none(), "{batch}");

    // The URL Bob holds works until its own end, and not after.
    let expires_at = listed["images"][0]["url_expires_at"].as_u64().expect("end");
    let wait = expires_at.saturating_sub(real_now()) + 1;
    assert!(wait <= 5, "{wait} s");
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(load(&url).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_share_link_redirects_to_a_presigned_url_and_album_listings_carry_them_without_cookies() {
    let app = spawn_s3(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let bob = Browser::sign_up(&app, "bob@example.com").await;
    let album = alice.create_album(&app, "Trip").await;
    let image = alice.upload(&app, Some(&album)).await;

    let link = alice
        .send(
            &app,
            Method::POST,
            &format!("/api/images/{}/links", id_of(&image)),
            Some(&json!({ "expires_in": 3600 })),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.text());
    let followed = send(
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .expect("client")
            .get(link.json()["url"].as_str().expect("link")),
    )
    .await;
    assert_eq!(followed.status, StatusCode::FOUND, "{}", followed.text());
    let target = followed.header("location").expect("Location").to_owned();
    assert!(is_presigned(&target), "{target}");
    assert_eq!(load(&target).await, (StatusCode::OK, PNG.to_vec()));

    assert_eq!(alice.share(&app, &album, &bob).await.status, StatusCode::OK);
    let opened = bob.open(&app, &album).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    assert!(!sets_cloudfront_cookies(&opened), "{:?}", opened.headers);
    let body: Value = opened.json();
    assert_eq!(body["role"], "grantee");
    assert!(body["cookies"].get("set").is_none(), "{body}");
    let url = body["images"][0]["url"].as_str().expect("url");
    assert!(
        is_presigned(url) && url.contains(&format!("/albums/{album}/")),
        "{url}"
    );
    let ends = body["images"][0]["url_expires_at"].as_u64().expect("end");
    assert!(
        ends <= app.now() + 900 + 300,
        "no longer than the album set would live"
    );
    assert_eq!(load(url).await, (StatusCode::OK, PNG.to_vec()));
    let minted = bob
        .send(&app, Method::POST, &format!("/api/albums/{album}/cookies"), None)
        .await;
    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text());
    assert!(!sets_cloudfront_cookies(&minted), "{:?}", minted.headers);
}

#[tokio::test]
async fn a_public_image_gets_a_long_lived_presigned_url_that_dies_when_it_is_made_private() {
    let app = spawn_s3(&[("EDGEPASS_S3_PUBLIC_URL_TTL_SECS", "86400")]).await;
    app.signed_up("alice@example.com").await;
    let image = app.upload("image/png", PNG, "a.png").await;
    let id = id_of(&image);
    let made_public = app.set_visibility(&id, "public").await;
    assert_eq!(made_public.status, StatusCode::OK, "{}", made_public.text());
    let public = made_public.json();
    let url = url_of(&public);
    assert!(is_presigned(&url) && key_of(&url).starts_with("public/"), "{url}");
    assert!(public["url_expires_at"].as_u64().expect("end") >= app.now() + 86_400);
    assert_eq!(load(&url).await, (StatusCode::OK, PNG.to_vec()));

    let made_private = app.set_visibility(&id, "private").await;
    assert_eq!(made_private.status, StatusCode::OK, "{}", made_private.text());
    let gone = load(&url).await.0;
    assert!(
        gone == StatusCode::NOT_FOUND || gone == StatusCode::FORBIDDEN,
        "the public copy is gone: {gone}"
    );
    assert_eq!(load(&url_of(&made_private.json())).await.0, StatusCode::OK);
}

#[tokio::test]
async fn with_an_anonymous_public_base_url_public_images_get_it_and_the_page_allows_both_origins() {
    let app = spawn_s3(&[(
        "EDGEPASS_S3_PUBLIC_BASE_URL",
        "https://images.s3.eu-west-1.amazonaws.com",
    )])
    .await;
    app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    let public = app.set_visibility(&id, "public").await.json();
    let url = url_of(&public);
    assert!(
        url.starts_with("https://images.s3.eu-west-1.amazonaws.com/public/") && !url.contains('?'),
        "{url}"
    );
    assert!(public.get("url_expires_at").is_none(), "{public}");

    let page = app.get("/").await;
    let policy = page.header("content-security-policy").expect("CSP");
    assert!(
        policy.contains(&format!(
            "img-src 'self' {} https://images.s3.eu-west-1.amazonaws.com;",
            app.state.upload_origin
        )),
        "{policy}"
    );
}
