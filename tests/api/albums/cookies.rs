//! The album cookie sets of grantees: minted when they open an album, scoped to its Path, limited per
//! session, and expired in the browser once the grant ends.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Browser, album_path, cloudfront_set_cookies, id_of, spawn_with, url_of};
use crate::helpers::{TestApp, send};

/// Alice with an album of `images` images shared with Bob: (alice, bob, album, image URLs).
async fn shared_album(app: &TestApp, images: usize) -> (Browser, Browser, String, Vec<String>) {
    let alice = Browser::sign_up(app, "alice@example.com").await;
    let bob = Browser::sign_up(app, "bob@example.com").await;
    let album = alice.create_album(app, "Shared").await;
    let mut urls = Vec::new();
    for _ in 0..images {
        urls.push(url_of(&alice.upload(app, Some(&album)).await));
    }
    let shared = alice.share(app, &album, &bob).await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text());
    (alice, bob, album, urls)
}

const NAMES: [&str; 4] = [
    "CloudFront-Policy",
    "CloudFront-Signature",
    "CloudFront-Key-Pair-Id",
    "CloudFront-Hash-Algorithm",
];

/// The names of the cookies an answer sets (not expires), in order.
fn live_names(cookies: &[(String, String, Option<String>)]) -> Vec<&str> {
    cookies
        .iter()
        .filter(|(_, _, max_age)| max_age.as_deref() != Some("0"))
        .map(|(name, _, _)| name.as_str())
        .collect()
}

#[tokio::test]
async fn a_grantee_who_opens_an_album_gets_one_set_at_its_path_and_its_plain_links_load() {
    let app = spawn_with(&[]).await;
    let (alice, bob, album, urls) = shared_album(&app, 3).await;
    let before = urls.iter().map(|u| async { bob.load(u).await });
    assert!(
        futures::future::join_all(before)
            .await
            .iter()
            .all(|s| *s == StatusCode::FORBIDDEN),
        "nothing loads before Bob opens the album"
    );

    let opened = bob.open(&app, &album).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    let path = album_path(alice.id, &album);
    let set = cloudfront_set_cookies(&opened);
    assert!(
        set.iter().all(|(_, p, _)| *p == path),
        "one set, at the album's Path: {set:?}"
    );
    assert_eq!(live_names(&set), NAMES, "{set:?}");
    for cookie in opened
        .set_cookies()
        .iter()
        .filter(|c| c.name.starts_with("CloudFront-"))
    {
        assert!(
            cookie.has("HttpOnly") && cookie.get("SameSite") == Some("Lax"),
            "{cookie:?}"
        );
    }
    let body = opened.json();
    assert_eq!(body["role"], "grantee");
    assert_eq!(
        body["cookies"]["set"]["resource"],
        app.edge_url(&format!("/users/{}/albums/{album}/*", alice.id))
    );
    let listed: Vec<String> = body["images"]
        .as_array()
        .expect("images")
        .iter()
        .map(url_of)
        .collect();
    assert_eq!(listed.len(), 3);
    for url in &listed {
        assert!(!url.contains('?'), "a plain link: {url}");
        assert!(urls.contains(url), "{url}");
        assert_eq!(bob.load(url).await, StatusCode::OK, "{url}");
    }
    // The browser sends the album set with the album's objects only, and Bob's own set with his own.
    assert!(
        bob.cookie_header(&app.edge_url(&format!("/users/{}/x.png", alice.id)))
            .is_none()
    );
    let own = bob
        .cookie_header(&app.edge_url(&format!("/users/{}/x.png", bob.id)))
        .expect("own set");
    let inside = bob.cookie_header(&listed[0]).expect("album set");
    assert_ne!(own, inside);

    // Alice's shared-album list shows Bob's grant; Bob's list shows the album with Alice's address.
    let grants = alice
        .get(&app, &format!("/api/albums/{album}/shares"))
        .await
        .json();
    assert_eq!(grants["shares"][0]["user"]["email"], "bob@example.com");
    let shared = bob.get(&app, "/api/albums").await.json();
    assert_eq!(shared["shared"][0]["id"], album.as_str());
    assert_eq!(shared["shared"][0]["owner_email"], "alice@example.com");
    assert_eq!(
        app.audited("share").await,
        vec![format!("albums/{album}/{}", bob.id)]
    );
}

#[tokio::test]
async fn the_set_opens_nothing_else_of_the_owner_and_a_stranger_gets_nothing() {
    let app = spawn_with(&[]).await;
    let (alice, bob, album, _) = shared_album(&app, 1).await;
    let root = url_of(&alice.upload(&app, None).await);
    let other = alice.create_album(&app, "Not shared").await;
    let elsewhere = url_of(&alice.upload(&app, Some(&other)).await);
    assert_eq!(bob.open(&app, &album).await.status, StatusCode::OK);
    assert_eq!(bob.load(&root).await, StatusCode::FORBIDDEN);
    assert_eq!(bob.load(&elsewhere).await, StatusCode::FORBIDDEN);
    bob.open(&app, &other)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let carol = Browser::sign_up(&app, "carol@example.com").await;
    assert_eq!(carol.get(&app, "/api/albums").await.json()["shared"], json!([]));
    let refused = carol.open(&app, &album).await;
    refused.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(cloudfront_set_cookies(&refused).is_empty());
}

#[tokio::test]
async fn revoking_stops_new_sets_and_the_next_request_expires_the_one_in_the_browser() {
    let app = spawn_with(&[
        ("EDGEPASS_ALBUM_COOKIE_TTL_SECS", "600"),
        ("EDGEPASS_CDN_EXPIRY_WINDOW_SECS", "60"),
    ])
    .await;
    let (alice, bob, album, urls) = shared_album(&app, 1).await;
    let opened = bob.open(&app, &album).await;
    let expires_at = opened.json()["cookies"]["set"]["expires_at"]
        .as_u64()
        .expect("expiry");
    assert!(
        expires_at <= app.now() + 600 + 60,
        "the album set's lifetime, rounded to the window"
    );
    let kept = bob.cookie_header(&urls[0]).expect("album set");

    assert_eq!(
        alice.unshare(&app, &album, &bob).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.audited("unshare").await,
        vec![format!("albums/{album}/{}", bob.id)]
    );
    let refused = bob.open(&app, &album).await;
    refused.assert_error(StatusCode::NOT_FOUND, "not_found");
    let path = album_path(alice.id, &album);
    let expired = cloudfront_set_cookies(&refused);
    assert!(
        expired
            .iter()
            .all(|(_, p, max_age)| *p == path && max_age.as_deref() == Some("0")),
        "the set expired at the album's Path: {expired:?}"
    );
    assert!(
        NAMES.iter().all(|n| expired.iter().any(|(name, _, _)| name == n)),
        "{expired:?}"
    );
    assert!(bob.cookie_header(&urls[0]).is_none(), "gone from the browser");
    assert_eq!(bob.load(&urls[0]).await, StatusCode::FORBIDDEN);
    let again = bob
        .send(&app, Method::POST, &format!("/api/albums/{album}/cookies"), None)
        .await;
    again.assert_error(StatusCode::NOT_FOUND, "not_found");

    // A copy of the set kept elsewhere works until its own expiry, which bounds a revoked grantee.
    let replay = || send(app.raw.get(&urls[0]).header("cookie", kept.clone()));
    assert_eq!(replay().await.status, StatusCode::OK);
    app.advance(expires_at - app.now() + 1);
    assert_eq!(replay().await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_refresh_of_the_own_set_expires_sets_of_albums_no_longer_shared() {
    let app = spawn_with(&[]).await;
    let (alice, bob, album, urls) = shared_album(&app, 1).await;
    assert_eq!(bob.open(&app, &album).await.status, StatusCode::OK);
    let still = alice.create_album(&app, "Still shared").await;
    alice.share(&app, &still, &bob).await;
    assert_eq!(bob.open(&app, &still).await.status, StatusCode::OK);

    // An unrelated refresh keeps both sets.
    let refreshed = bob.send(&app, Method::POST, "/api/cdn/cookies", None).await;
    assert_eq!(refreshed.json()["expired_album_sets"], json!([]));

    let deleted = alice
        .send(&app, Method::DELETE, &format!("/api/albums/{album}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let refreshed = bob.send(&app, Method::POST, "/api/cdn/cookies", None).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
    let path = album_path(alice.id, &album);
    assert_eq!(
        refreshed.json()["expired_album_sets"],
        json!([{ "album_id": album, "cookie_path": path }])
    );
    let expired: Vec<_> = cloudfront_set_cookies(&refreshed)
        .into_iter()
        .filter(|(_, p, _)| *p == path)
        .collect();
    assert_eq!(
        expired.len(),
        5,
        "the four cookies, and the canned-policy one CloudFront may hold"
    );
    assert!(
        expired
            .iter()
            .all(|(_, _, max_age)| max_age.as_deref() == Some("0"))
    );
    assert!(bob.cookie_header(&urls[0]).is_none());
    let moved_back = url_of(&alice.get(&app, "/api/images").await.json()["images"][0]);
    assert_eq!(bob.load(&moved_back).await, StatusCode::FORBIDDEN);
    assert!(
        bob.cookie_header(&app.edge_url(&format!("/users/{}/albums/{still}/x.png", alice.id)))
            .is_some(),
        "the set of an album still shared stays"
    );
}

#[tokio::test]
async fn past_the_limit_the_oldest_set_is_expired_with_signed_urls_for_its_images() {
    let app = spawn_with(&[("EDGEPASS_ALBUM_COOKIE_SETS", "2")]).await;
    let bob = Browser::sign_up(&app, "bob@example.com").await;
    let mut albums = Vec::new();
    for n in 0..3 {
        let owner = Browser::sign_up(&app, &format!("owner{n}@example.com")).await;
        let album = owner.create_album(&app, "Album").await;
        let image = owner.upload(&app, Some(&album)).await;
        owner.share(&app, &album, &bob).await;
        albums.push((owner, album, image));
    }
    // All within one second of the clock: the order of opening decides, not the time.
    for (_, album, image) in &albums[..2] {
        let opened = bob.open(&app, album).await;
        assert!(opened.json()["cookies"].get("evicted").is_none());
        assert_eq!(bob.load(&url_of(image)).await, StatusCode::OK);
    }
    // Opening the first again refreshes its set; it is now the newest.
    let (first_owner, first, first_image) = &albums[0];
    app.advance(1);
    assert!(
        bob.open(&app, first).await.json()["cookies"]
            .get("evicted")
            .is_none()
    );

    let (_, third, third_image) = &albums[2];
    let opened = bob.open(&app, third).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    let (second_owner, second, second_image) = &albums[1];
    let second_path = album_path(second_owner.id, second);
    let cookies = cloudfront_set_cookies(&opened);
    assert_eq!(cookies.len(), 10, "one set expired and one set: {cookies:?}");
    assert!(
        cookies[..5]
            .iter()
            .all(|(_, p, m)| *p == second_path && m.as_deref() == Some("0"))
    );
    let third_path = album_path(albums[2].0.id, third);
    assert!(cookies[5..].iter().all(|(_, p, _)| *p == third_path));
    assert_eq!(live_names(&cookies[5..]), NAMES);
    let evicted = &opened.json()["cookies"]["evicted"];
    assert_eq!(evicted["album_id"], second.as_str());
    assert_eq!(evicted["cookie_path"], second_path);
    let fallback = evicted["urls"][id_of(second_image)]
        .as_str()
        .expect("a signed URL");
    assert!(fallback.contains("Signature="), "{fallback}");

    assert_eq!(
        bob.load(&url_of(second_image)).await,
        StatusCode::FORBIDDEN,
        "its set is gone"
    );
    assert_eq!(
        send(app.raw.get(fallback)).await.status,
        StatusCode::OK,
        "the fallback loads"
    );
    assert_eq!(bob.load(&url_of(third_image)).await, StatusCode::OK);
    assert_eq!(bob.load(&url_of(first_image)).await, StatusCode::OK);
    let _ = first_owner;
}

#[tokio::test]
async fn logging_out_expires_the_album_sets_of_the_session() {
    let app = spawn_with(&[]).await;
    let (alice, bob, album, urls) = shared_album(&app, 1).await;
    assert_eq!(bob.open(&app, &album).await.status, StatusCode::OK);
    let out = bob.send(&app, Method::POST, "/api/auth/logout", None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    let path = album_path(alice.id, &album);
    assert!(
        cloudfront_set_cookies(&out)
            .iter()
            .any(|(_, p, m)| *p == path && m.as_deref() == Some("0"))
    );
    assert!(bob.cookie_header(&urls[0]).is_none());
    assert_eq!(bob.load(&urls[0]).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn grants_follow_the_image_rules_and_batch_urls_cover_shared_albums() {
    let app = spawn_with(&[]).await;
    let (alice, bob, album, _) = shared_album(&app, 1).await;
    let image = id_of(&alice.open(&app, &album).await.json()["images"][0]);
    let share = |who: &str| format!("/api/albums/{album}/shares/{who}");
    alice
        .send(&app, Method::PUT, &share("alice@example.com"), None)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    alice
        .send(&app, Method::PUT, &share("nobody@example.com"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    alice
        .send(&app, Method::PUT, &share(&bob.id.to_string()), None)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");

    let urls = bob
        .send(&app, Method::POST, "/api/urls", Some(&json!({ "ids": [image] })))
        .await
        .json();
    let signed = urls["urls"][&image]
        .as_str()
        .expect("a signed URL for the album's image");
    assert_eq!(send(app.raw.get(signed)).await.status, StatusCode::OK);
    let carol = Browser::sign_up(&app, "carol@example.com").await;
    let refused = carol
        .send(&app, Method::POST, "/api/urls", Some(&json!({ "ids": [image] })))
        .await
        .json();
    assert_eq!(refused["not_found"], json!([image]));

    // A grant with an end stops at it.
    let terms = json!({ "expires_in": 60 });
    alice
        .send(&app, Method::PUT, &share("bob@example.com"), Some(&terms))
        .await;
    assert_eq!(bob.open(&app, &album).await.status, StatusCode::OK);
    app.advance(61);
    bob.open(&app, &album)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(bob.get(&app, "/api/albums").await.json()["shared"], json!([]));
}
