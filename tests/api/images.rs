//! Images end to end: uploads PUT over HTTP to presigned URLs of the embedded store, the completion
//! check, listing, visibility moves, deletion, the sweeper, and what an unreachable store does.

use edgepass::aws::s3::{ObjectInfo, Storage, StorageTarget};
use edgepass::db::entity::audit_event;
use edgepass::db::entity::image::{Location, Status, Visibility};
use edgepass::domain::UserId;
use edgepass::images::lifecycle::{self, LEASE_SECS, Swept, UPLOAD_GRACE_SECS};
use edgepass::images::{ContentType, ImageId, ImageKey};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::helpers::{PNG, TestApp, put_to, put_upload, real_now, send, signed_up_browser};

/// The first bytes of a JFIF JPEG.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";
/// A page that runs script if a browser renders it.
const HTML: &[u8] = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>";
/// An SVG that runs script if a browser renders it.
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";

/// edgepass with its clock at the real time, since the embedded store checks upload URLs against it.
async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_at(real_now(), settings).await
}

fn image_id(id: &str) -> ImageId {
    ImageId::parse(id).unwrap_or_else(|| panic!("{id} is an image id"))
}

/// Where a PNG of `owner` is kept while private.
fn private_png(owner: i64, id: &str) -> ImageKey {
    ImageKey::private(UserId(owner), &image_id(id), ContentType::Png)
}

/// Where the upload URL of `owner`'s image puts its bytes.
fn staging(owner: i64, id: &str) -> ImageKey {
    ImageKey::staging(UserId(owner), &image_id(id))
}

/// Where a PNG is kept while public.
fn public_png(id: &str) -> ImageKey {
    ImageKey::public(&image_id(id), ContentType::Png)
}

async fn stored(app: &TestApp, key: &ImageKey) -> Option<ObjectInfo> {
    app.state.storage.head(key).await.expect("HEAD")
}

/// The subjects of the audit events recorded for `action`, oldest first.
async fn audited(app: &TestApp, action: &str) -> Vec<String> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .all(app.db())
        .await
        .expect("audit events")
        .into_iter()
        .map(|event| event.subject)
        .collect()
}

fn id_of(view: &Value) -> String {
    view["id"].as_str().expect("id").to_owned()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A bucket on a store that cannot be reached.
async fn unreachable_storage() -> Storage {
    Storage::connect(&StorageTarget {
        bucket: "edgepass".to_owned(),
        region: "us-east-1".to_owned(),
        endpoint_url: Some(format!("http://127.0.0.1:{}", closed_port())),
        force_path_style: true,
        credentials: Some(("AKIDEXAMPLE".to_owned(), "secret".to_owned())),
    })
    .await
}

/// Another browser, signed up as `email`.
async fn second_user(app: &TestApp, email: &str) -> reqwest::Client {
    signed_up_browser(app, email).await.1
}

// Uploads.

#[tokio::test]
async fn an_upload_put_to_its_presigned_url_completes_into_a_ready_private_image() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;

    let reply = app
        .start_upload("image/png", PNG.len() as u64, "holiday.png")
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let ticket = reply.json();
    let id = id_of(&ticket);
    assert_eq!(
        ticket["expires_at"].as_u64(),
        Some(app.now() + app.state.config.uploads.url_ttl_secs)
    );
    assert_eq!(
        ticket["upload_headers"],
        json!({ "content-type": "image/png", "content-length": PNG.len().to_string() }),
        "the type and length are pinned"
    );
    let url = ticket["upload_url"].as_str().expect("url");
    assert!(
        url.contains(&format!("/staging/{alice}/{id}?")),
        "the URL names the staging key: {url}"
    );
    let pending = app.get(&format!("/api/images/{id}")).await;
    assert_eq!(pending.status, StatusCode::OK);
    assert_eq!(pending.json()["status"], "pending");
    assert_eq!(pending.json()["url"], Value::Null);

    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    let done = app.complete_upload(&id).await;

    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let view = done.json();
    let cdn = &app.state.bound.cdn_base_url;
    assert_eq!(
        view,
        json!({
            "id": id,
            "name": "holiday.png",
            "content_type": "image/png",
            "byte_size": PNG.len(),
            "visibility": "private",
            "status": "ready",
            "url": format!("{cdn}/users/{alice}/{id}.png"),
            "change_pending": false,
            "created_at": app.now(),
        })
    );
    assert_eq!(app.get(&format!("/api/images/{id}")).await.json(), view);
    assert_eq!(
        stored(&app, &private_png(alice, &id)).await,
        Some(ObjectInfo {
            size: PNG.len() as u64,
            content_type: Some("image/png".to_owned())
        })
    );
    assert_eq!(
        stored(&app, &staging(alice, &id)).await,
        None,
        "copied, then deleted"
    );
    assert_eq!(
        app.image_row(&id).await.map(|r| r.object_key),
        Some(format!("users/{alice}/{id}.png"))
    );
}

#[tokio::test]
async fn completing_a_ready_image_again_returns_it_unchanged() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let view = app.upload("image/jpeg", JPEG, "cat.jpg").await;

    let again = app.complete_upload(&id_of(&view)).await;

    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), view);
}

#[tokio::test]
async fn completing_before_anything_was_uploaded_returns_409_and_keeps_the_upload_open() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let ticket = app
        .start_upload("image/png", PNG.len() as u64, "a.png")
        .await
        .json();
    let id = id_of(&ticket);

    let early = app.complete_upload(&id).await;

    early.assert_error(StatusCode::CONFLICT, "not_uploaded");
    assert_eq!(app.image_row(&id).await.map(|r| r.status), Some(Status::Pending));
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    assert_eq!(app.complete_upload(&id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_store_refuses_a_put_with_another_type_another_length_or_a_tampered_signature() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let ticket = app
        .start_upload("image/png", PNG.len() as u64, "a.png")
        .await
        .json();
    let id = id_of(&ticket);
    let url = ticket["upload_url"].as_str().expect("url");
    let mut longer = PNG.to_vec();
    longer.push(0);
    let mut tampered = url.to_owned();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == '0' { '1' } else { '0' });

    let refusals = [
        put_to(url, "image/jpeg", PNG).await,
        put_to(url, "image/png", &longer).await,
        put_to(url, "image/png", &PNG[1..]).await,
        put_to(&tampered, "image/png", PNG).await,
    ];

    assert_eq!(refusals, [StatusCode::FORBIDDEN; 4]);
    app.complete_upload(&id)
        .await
        .assert_error(StatusCode::CONFLICT, "not_uploaded");
}

#[tokio::test]
async fn an_expired_upload_url_is_refused_by_the_store_and_complete_says_nothing_was_uploaded() {
    // Edgepass's clock runs ten minutes behind, so its five-minute URL has expired by the real clock.
    let app = TestApp::spawn_at(real_now() - 600, &[]).await;
    app.signed_up("alice@example.com").await;
    let ticket = app
        .start_upload("image/png", PNG.len() as u64, "late.png")
        .await
        .json();
    let id = id_of(&ticket);

    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::FORBIDDEN);
    app.complete_upload(&id)
        .await
        .assert_error(StatusCode::CONFLICT, "not_uploaded");

    app.advance(app.state.config.uploads.url_ttl_secs);
    let expired = app.complete_upload(&id).await;
    expired.assert_error(StatusCode::CONFLICT, "not_uploaded");
    assert!(
        expired.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    assert_eq!(
        app.get(&format!("/api/images/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

// Spoofing: the bytes must be what the declared type says.

#[tokio::test]
async fn a_png_declared_as_jpeg_is_rejected_at_completion_and_deleted() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let ticket = app
        .start_upload("image/jpeg", PNG.len() as u64, "x.jpg")
        .await
        .json();
    let id = id_of(&ticket);
    assert_eq!(put_upload(&ticket, "image/jpeg", PNG).await, StatusCode::OK);

    let reply = app.complete_upload(&id).await;

    reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "upload_rejected");
    assert!(
        reply.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("image/png, not the declared image/jpeg")),
        "{}",
        reply.text()
    );
    let key = ImageKey::private(UserId(alice), &image_id(&id), ContentType::Jpeg);
    assert_eq!(stored(&app, &key).await, None);
    assert_eq!(stored(&app, &staging(alice, &id)).await, None);
    assert_eq!(
        app.get(&format!("/api/images/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    app.complete_upload(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn html_or_svg_declared_as_png_is_rejected_at_completion_and_deleted() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    for (what, bytes) in [("html", HTML), ("svg", SVG)] {
        let ticket = app
            .start_upload("image/png", bytes.len() as u64, "x.png")
            .await
            .json();
        let id = id_of(&ticket);
        assert_eq!(
            put_upload(&ticket, "image/png", bytes).await,
            StatusCode::OK,
            "{what}"
        );

        let reply = app.complete_upload(&id).await;

        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "upload_rejected");
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("not image/png")),
            "{what}: {}",
            reply.text()
        );
        assert_eq!(stored(&app, &private_png(alice, &id)).await, None, "{what}");
        assert_eq!(stored(&app, &staging(alice, &id)).await, None, "{what}");
        assert_eq!(
            app.image_row(&id).await.map(|r| r.status),
            Some(Status::Rejected),
            "{what}: kept, hidden, until its URL expires"
        );
    }
    let listed = app.get("/api/images").await.json();
    assert_eq!(listed["images"], json!([]));
}

#[tokio::test]
async fn svg_and_other_types_are_refused_when_the_upload_starts() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;

    for content_type in [
        "image/svg+xml",
        "text/html",
        "application/octet-stream",
        "image/png; charset=utf-8",
        "",
    ] {
        let reply = app.start_upload(content_type, 100, "x").await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert!(reply.text().contains("content_type"), "{content_type}");
    }
    assert!(app.image_rows().await.is_empty());
}

// Limits.

#[tokio::test]
async fn sizes_outside_one_byte_to_the_maximum_are_refused_with_422() {
    let app = spawn_with(&[("EDGEPASS_MAX_IMAGE_BYTES", "1000")]).await;
    app.signed_up("alice@example.com").await;

    for size in [0, 1001, u64::MAX] {
        let reply = app.start_upload("image/png", size, "x.png").await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert!(reply.text().contains("byte_size"), "{size}");
    }
    let negative = app
        .post_json(
            "/api/images",
            &json!({ "content_type": "image/png", "byte_size": -1, "name": "x.png" }),
        )
        .await;
    negative.assert_error(StatusCode::BAD_REQUEST, "bad_request");
    for size in [1, 1000] {
        assert_eq!(
            app.start_upload("image/png", size, "x.png").await.status,
            StatusCode::CREATED
        );
    }
}

#[tokio::test]
async fn names_that_are_blank_too_long_or_carry_control_characters_are_refused_with_422() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;

    for name in [
        String::new(),
        "  ".to_owned(),
        "x".repeat(256),
        "two\nlines.png".to_owned(),
        "bell\u{7}.png".to_owned(),
        "photo\u{202E}gnp.exe".to_owned(),
    ] {
        let reply = app.start_upload("image/png", 10, &name).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert!(reply.text().contains("name"), "{name:?}");
    }
    let kept = "Été à Paris <b>2026</b>.png";
    let ticket = app.start_upload("image/png", 10, kept).await.json();
    let view = app.get(&format!("/api/images/{}", id_of(&ticket))).await.json();
    assert_eq!(view["name"], kept, "stored as given, for display only");
}

#[tokio::test]
async fn the_image_quota_counts_unfinished_uploads_and_refuses_with_409() {
    let app = spawn_with(&[("EDGEPASS_QUOTA_IMAGES", "2")]).await;
    app.signed_up("alice@example.com").await;
    app.upload("image/png", PNG, "done.png").await;
    let pending = app.start_upload("image/png", 10, "pending.png").await;
    assert_eq!(pending.status, StatusCode::CREATED);

    let third = app.start_upload("image/png", 10, "third.png").await;

    third.assert_error(StatusCode::CONFLICT, "quota_exceeded");
    assert!(third.text().contains("image quota"), "{}", third.text());
    assert_eq!(app.image_rows().await.len(), 2);
    // Once the unfinished upload is swept, there is room again.
    let later = app.now() + app.state.config.uploads.url_ttl_secs + UPLOAD_GRACE_SECS;
    lifecycle::sweep(app.services(), later).await.expect("sweep");
    assert_eq!(
        app.start_upload("image/png", 10, "third.png").await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_byte_quota_refuses_an_upload_that_does_not_fit_with_409() {
    let app = spawn_with(&[("EDGEPASS_QUOTA_BYTES", "1000")]).await;
    app.signed_up("alice@example.com").await;
    assert_eq!(
        app.start_upload("image/png", 600, "a.png").await.status,
        StatusCode::CREATED
    );

    let too_big = app.start_upload("image/png", 401, "b.png").await;

    too_big.assert_error(StatusCode::CONFLICT, "quota_exceeded");
    assert!(too_big.text().contains("storage quota"), "{}", too_big.text());
    assert_eq!(
        app.start_upload("image/png", 400, "c.png").await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn quotas_are_per_user() {
    let app = spawn_with(&[("EDGEPASS_QUOTA_IMAGES", "1")]).await;
    app.signed_up("alice@example.com").await;
    assert_eq!(
        app.start_upload("image/png", 10, "a.png").await.status,
        StatusCode::CREATED
    );
    let bob = second_user(&app, "bob@example.com").await;

    let reply = send(
        bob.post(app.url("/api/images"))
            .json(&json!({ "content_type": "image/png", "byte_size": 10, "name": "b.png" })),
    )
    .await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

// Listing.

#[tokio::test]
async fn listing_shows_ready_images_newest_first_a_page_at_a_time() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(id_of(&app.upload("image/png", PNG, &format!("{n}.png")).await));
        app.advance(1);
    }
    // Two in the same second: the id breaks the tie, and neither is lost between pages.
    let same_second = [
        id_of(&app.upload("image/png", PNG, "5.png").await),
        id_of(&app.upload("image/png", PNG, "6.png").await),
    ];
    let mut tied = same_second.to_vec();
    tied.sort();
    ids.extend(tied);
    app.start_upload("image/png", 10, "pending.png").await;
    ids.reverse();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/images?limit=2&cursor={c}"),
            None => "/api/images?limit=2".to_owned(),
        };
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
        let page = page.json();
        let images = page["images"].as_array().expect("images");
        assert!(images.len() <= 2);
        assert!(images.iter().all(|i| i["status"] == "ready"));
        seen.extend(images.iter().map(id_of));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    assert_eq!(seen, ids);
    assert_eq!(pages, 4);
    let all = app.get("/api/images").await.json();
    assert_eq!(all["images"].as_array().map(Vec::len), Some(7));
    assert_eq!(all["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_malformed_cursor_or_an_out_of_range_limit_returns_422() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;

    for query in [
        "limit=0",
        "limit=101",
        "cursor=not-a-cursor",
        "cursor=MTIzLmFiYw",
        "cursor=%00",
    ] {
        let reply = app.get(&format!("/api/images?{query}")).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    assert_eq!(app.get("/api/images?limit=100").await.status, StatusCode::OK);
}

// Ownership.

#[tokio::test]
async fn another_users_image_is_404_on_every_endpoint() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let view = app.upload("image/png", PNG, "mine.png").await;
    let id = id_of(&view);
    let pending = id_of(&app.start_upload("image/png", 10, "p.png").await.json());
    let bob = second_user(&app, "bob@example.com").await;

    for target in [
        id.as_str(),
        pending.as_str(),
        "not-an-id",
        "abcdefghijklmnopqrstuvwxyz",
    ] {
        let path = format!("/api/images/{target}");
        for request in [
            bob.get(app.url(&path)),
            bob.post(app.url(&format!("{path}/complete"))),
            bob.patch(app.url(&path)).json(&json!({ "visibility": "public" })),
            bob.delete(app.url(&path)),
        ] {
            send(request)
                .await
                .assert_error(StatusCode::NOT_FOUND, "not_found");
        }
    }
    let listed = send(bob.get(app.url("/api/images"))).await.json();
    assert_eq!(listed["images"], json!([]));
    assert_eq!(app.get(&format!("/api/images/{id}")).await.json(), view);
    assert_eq!(app.image_rows().await.len(), 2);
}

#[tokio::test]
async fn image_endpoints_without_a_session_return_401() {
    let app = spawn().await;
    let id = "abcdefghijklmnopqrstuvwxyz";
    for (method, path) in [
        (Method::POST, "/api/images".to_owned()),
        (Method::GET, "/api/images".to_owned()),
        (Method::GET, format!("/api/images/{id}")),
        (Method::POST, format!("/api/images/{id}/complete")),
        (Method::PATCH, format!("/api/images/{id}")),
        (Method::DELETE, format!("/api/images/{id}")),
    ] {
        let reply = send(app.raw_request(method.clone(), &path).json(&json!({}))).await;
        reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

// Visibility.

#[tokio::test]
async fn making_an_image_public_moves_its_object_and_private_again_moves_it_back_and_invalidates() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    let cdn = app.state.bound.cdn_base_url.clone();

    let public = app.set_visibility(&id, "public").await;

    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    assert_eq!(public.json()["visibility"], "public");
    assert_eq!(public.json()["url"], format!("{cdn}/public/{id}.png"));
    assert_eq!(public.json()["change_pending"], false);
    assert_eq!(stored(&app, &private_png(alice, &id)).await, None);
    assert!(stored(&app, &public_png(&id)).await.is_some());
    assert_eq!(audited(&app, "image_made_public").await, [id.as_str()]);

    let private = app.set_visibility(&id, "private").await;

    assert_eq!(private.status, StatusCode::OK, "{}", private.text());
    assert_eq!(private.json()["visibility"], "private");
    assert_eq!(private.json()["url"], format!("{cdn}/users/{alice}/{id}.png"));
    assert!(stored(&app, &private_png(alice, &id)).await.is_some());
    assert_eq!(stored(&app, &public_png(&id)).await, None);
    assert_eq!(audited(&app, "image_made_private").await, [id.as_str()]);
    assert_eq!(
        audited(&app, "invalidation_requested").await,
        [format!("/public/{id}.png")]
    );
    let row = app.image_row(&id).await.expect("row");
    assert_eq!(row.object_key, format!("users/{alice}/{id}.png"));
    assert_eq!(row.changes, 2, "each change is numbered for its caller reference");
}

#[tokio::test]
async fn asking_for_the_visibility_an_image_has_changes_nothing() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let view = app.upload("image/png", PNG, "a.png").await;
    let id = id_of(&view);

    let same = app.set_visibility(&id, "private").await;

    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.json(), view);
    assert!(stored(&app, &private_png(alice, &id)).await.is_some());
    assert_eq!(app.image_row(&id).await.map(|r| r.changes), Some(0));
    app.set_visibility(&id, "public").await;
    let again = app.set_visibility(&id, "public").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(audited(&app, "image_made_public").await.len(), 1);
}

#[tokio::test]
async fn a_visibility_other_than_public_or_private_returns_422() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);

    for visibility in ["", "Public ", "shared", "PRIVATE"] {
        app.set_visibility(&id, visibility)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
}

#[tokio::test]
async fn an_unfinished_upload_cannot_change_visibility() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let id = id_of(&app.start_upload("image/png", 10, "a.png").await.json());

    app.set_visibility(&id, "public")
        .await
        .assert_error(StatusCode::CONFLICT, "not_ready");

    assert_eq!(
        app.image_row(&id).await.map(|r| (r.location, r.lease_until)),
        Some((Location::Private, None)),
        "nothing moved and the lease was given back"
    );
}

/// How far an interrupted move got before it stopped.
#[derive(Clone, Copy, Debug)]
enum Interrupted {
    /// The move was recorded; nothing was copied.
    Recorded,
    /// The object was copied; the source was not deleted.
    Copied,
    /// The source was deleted too; the row still says the move is unfinished.
    SourceDeleted,
}

/// Runs the first steps of a move toward `target` directly, stopping as `stage` says.
async fn interrupt_move(app: &TestApp, id: &str, target: Visibility, stage: Interrupted) {
    let row = app.image_row(id).await.expect("row");
    let row = lifecycle::begin_move(app.db(), row, target)
        .await
        .expect("move recorded");
    if matches!(stage, Interrupted::Copied | Interrupted::SourceDeleted) {
        lifecycle::copy_to_destination(app.services(), &row)
            .await
            .expect("copied");
    }
    let keys = lifecycle::ImageKeys::of(&row).expect("keys");
    if matches!(stage, Interrupted::SourceDeleted) {
        app.state
            .storage
            .delete(keys.at(target.other()))
            .await
            .expect("source deleted");
    }
    let copies = (
        stored(app, keys.at(target.other())).await.is_some(),
        stored(app, keys.at(target)).await.is_some(),
    );
    let expected = match stage {
        Interrupted::Recorded => (true, false),
        Interrupted::Copied => (true, true),
        Interrupted::SourceDeleted => (false, true),
    };
    assert_eq!(copies, expected, "(source, destination) after {stage:?}");
}

#[tokio::test]
async fn an_interrupted_change_to_public_is_finished_by_repeating_the_patch() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    for stage in [
        Interrupted::Recorded,
        Interrupted::Copied,
        Interrupted::SourceDeleted,
    ] {
        let id = id_of(&app.upload("image/png", PNG, "a.png").await);
        interrupt_move(&app, &id, Visibility::Public, stage).await;
        let meanwhile = app.get(&format!("/api/images/{id}")).await.json();
        assert_eq!(meanwhile["change_pending"], true, "{stage:?}");
        assert_eq!(meanwhile["visibility"], "public", "{stage:?}");

        let retried = app.set_visibility(&id, "public").await;

        assert_eq!(retried.status, StatusCode::OK, "{stage:?}: {}", retried.text());
        assert_eq!(retried.json()["change_pending"], false);
        assert_eq!(stored(&app, &private_png(alice, &id)).await, None, "{stage:?}");
        assert_eq!(
            stored(&app, &public_png(&id)).await.map(|o| o.size),
            Some(PNG.len() as u64),
            "{stage:?}"
        );
        assert_eq!(
            app.image_row(&id).await.map(|r| r.location),
            Some(Location::Public)
        );
    }
}

#[tokio::test]
async fn an_interrupted_change_to_private_is_finished_by_repeating_the_patch() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    for stage in [
        Interrupted::Recorded,
        Interrupted::Copied,
        Interrupted::SourceDeleted,
    ] {
        let id = id_of(&app.upload("image/png", PNG, "a.png").await);
        assert_eq!(app.set_visibility(&id, "public").await.status, StatusCode::OK);
        interrupt_move(&app, &id, Visibility::Private, stage).await;

        let retried = app.set_visibility(&id, "private").await;

        assert_eq!(retried.status, StatusCode::OK, "{stage:?}: {}", retried.text());
        assert_eq!(stored(&app, &public_png(&id)).await, None, "{stage:?}");
        assert!(
            stored(&app, &private_png(alice, &id)).await.is_some(),
            "{stage:?}"
        );
        assert!(
            audited(&app, "invalidation_requested")
                .await
                .contains(&format!("/public/{id}.png")),
            "{stage:?}"
        );
    }
}

#[tokio::test]
async fn a_change_cut_short_by_an_unreachable_store_is_finished_by_the_next_patch() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    let dead = unreachable_storage().await;
    let services = lifecycle::Services {
        storage: &dead,
        ..app.services()
    };
    let row = app.image_row(&id).await.expect("row");

    let failed = lifecycle::change_visibility(services, row, Visibility::Public, app.now()).await;

    assert!(
        matches!(failed, Err(lifecycle::LifecycleError::Storage(_))),
        "{failed:?}"
    );
    assert_eq!(
        app.image_row(&id).await.map(|r| r.location),
        Some(Location::CopyingToPublic)
    );
    assert!(
        stored(&app, &private_png(alice, &id)).await.is_some(),
        "nothing lost"
    );
    let retried = app.set_visibility(&id, "public").await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text());
    assert_eq!(stored(&app, &private_png(alice, &id)).await, None);
    assert!(stored(&app, &public_png(&id)).await.is_some());
}

#[tokio::test]
async fn changing_direction_midway_keeps_exactly_one_copy() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    interrupt_move(&app, &id, Visibility::Public, Interrupted::Copied).await;

    let back = app.set_visibility(&id, "private").await;

    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert!(stored(&app, &private_png(alice, &id)).await.is_some());
    assert_eq!(stored(&app, &public_png(&id)).await, None);
    assert_eq!(
        audited(&app, "invalidation_requested").await,
        [format!("/public/{id}.png")],
        "the public copy may have been served"
    );
}

#[tokio::test]
async fn bytes_written_to_the_private_key_through_a_url_from_before_staging_are_checked_before_going_public()
{
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    // Before uploads were staged, upload URLs named the private key and stayed valid after completion.
    let legacy = app
        .state
        .storage
        .presign_put(
            &private_png(alice, &id),
            ContentType::Png,
            PNG.len() as u64,
            std::time::Duration::from_secs(300),
            std::time::SystemTime::now(),
        )
        .await
        .expect("presign");
    let mut html = HTML[..PNG.len()].to_vec();
    html[0] = b'<';
    assert_eq!(put_to(&legacy.url, "image/png", &html).await, StatusCode::OK);

    let refused = app.set_visibility(&id, "public").await;

    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "upload_rejected");
    assert_eq!(stored(&app, &public_png(&id)).await, None);
    assert!(stored(&app, &private_png(alice, &id)).await.is_some());
    let view = app.get(&format!("/api/images/{id}")).await.json();
    assert_eq!(
        (view["visibility"].as_str(), view["change_pending"].as_bool()),
        (Some("private"), Some(false))
    );
}

#[tokio::test]
async fn a_change_while_another_holds_the_image_returns_409_busy() {
    let app = spawn().await;
    app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    let until = app.now() + LEASE_SECS;
    assert!(
        edgepass::db::images::try_lease(app.db(), &image_id(&id), None, app.now(), until)
            .await
            .expect("lease")
    );

    app.set_visibility(&id, "public")
        .await
        .assert_error(StatusCode::CONFLICT, "busy");
    app.delete_image(&id)
        .await
        .assert_error(StatusCode::CONFLICT, "busy");

    app.advance(LEASE_SECS);
    assert_eq!(
        app.set_visibility(&id, "public").await.status,
        StatusCode::OK,
        "an expired lease is taken over"
    );
}

// Deletion.

#[tokio::test]
async fn deleting_a_public_image_removes_its_objects_and_row_and_invalidates_its_path() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    app.set_visibility(&id, "public").await;

    let reply = app.delete_image(&id).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(stored(&app, &private_png(alice, &id)).await, None);
    assert_eq!(stored(&app, &public_png(&id)).await, None);
    assert_eq!(app.image_row(&id).await, None);
    assert_eq!(audited(&app, "image_deleted").await, [id.as_str()]);
    assert_eq!(
        audited(&app, "invalidation_requested").await,
        [format!("/public/{id}.png")]
    );
    app.get(&format!("/api/images/{id}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete_image(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn deleting_a_private_image_invalidates_nothing() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(
        &app.upload("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "a.webp")
            .await,
    );

    assert_eq!(app.delete_image(&id).await.status, StatusCode::NO_CONTENT);

    let key = ImageKey::private(UserId(alice), &image_id(&id), ContentType::Webp);
    assert_eq!(stored(&app, &key).await, None);
    assert_eq!(app.image_row(&id).await, None);
    assert!(audited(&app, "invalidation_requested").await.is_empty());
}

#[tokio::test]
async fn an_interrupted_deletion_is_finished_by_repeating_it() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    app.set_visibility(&id, "public").await;
    let dead = unreachable_storage().await;
    let services = lifecycle::Services {
        storage: &dead,
        ..app.services()
    };
    let row = app.image_row(&id).await.expect("row");

    let failed = lifecycle::delete_image(services, row, app.now()).await;

    assert!(failed.is_err());
    assert_eq!(app.image_row(&id).await.map(|r| r.status), Some(Status::Deleting));
    let listed = app.get("/api/images").await.json();
    assert_eq!(
        listed["images"],
        json!([]),
        "a deletion in progress is not listed"
    );
    assert_eq!(app.delete_image(&id).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.image_row(&id).await, None);
    assert_eq!(stored(&app, &public_png(&id)).await, None);
    assert_eq!(stored(&app, &private_png(alice, &id)).await, None);
}

#[tokio::test]
async fn deleting_an_unfinished_upload_hides_it_and_deletes_what_was_uploaded() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let ticket = app
        .start_upload("image/png", PNG.len() as u64, "a.png")
        .await
        .json();
    let id = id_of(&ticket);
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);

    assert_eq!(app.delete_image(&id).await.status, StatusCode::NO_CONTENT);

    assert_eq!(stored(&app, &staging(alice, &id)).await, None);
    assert_eq!(stored(&app, &private_png(alice, &id)).await, None);
    app.get(&format!("/api/images/{id}"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.complete_upload(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

// The sweeper.

#[tokio::test]
async fn the_sweeper_removes_uploads_left_unfinished_after_their_url_expired_with_their_objects() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let ttl = app.state.config.uploads.url_ttl_secs;
    let never_put = id_of(&app.start_upload("image/png", 10, "a.png").await.json());
    let put_only = app
        .start_upload("image/png", PNG.len() as u64, "b.png")
        .await
        .json();
    assert_eq!(put_upload(&put_only, "image/png", PNG).await, StatusCode::OK);
    let put_only = id_of(&put_only);
    let ready = id_of(&app.upload("image/png", PNG, "c.png").await);
    let expiry = app.now() + ttl;
    app.advance(ttl);
    let fresh = id_of(&app.start_upload("image/png", 10, "d.png").await.json());

    let early = lifecycle::sweep(app.services(), expiry + UPLOAD_GRACE_SECS - 1)
        .await
        .expect("sweep");
    let swept = lifecycle::sweep(app.services(), expiry + UPLOAD_GRACE_SECS)
        .await
        .expect("sweep");

    assert_eq!(early, Swept::default(), "the store's clock may lag ours");
    assert_eq!(
        swept,
        Swept {
            uploads: 2,
            ..Swept::default()
        }
    );
    assert_eq!(app.image_row(&never_put).await, None);
    assert_eq!(app.image_row(&put_only).await, None);
    assert_eq!(stored(&app, &staging(alice, &put_only)).await, None);
    assert_eq!(app.image_row(&ready).await.map(|r| r.status), Some(Status::Ready));
    assert!(stored(&app, &private_png(alice, &ready)).await.is_some());
    assert_eq!(
        app.image_row(&fresh).await.map(|r| r.status),
        Some(Status::Pending)
    );
}

#[tokio::test]
async fn the_sweeper_finishes_a_change_to_private_that_nobody_repeated() {
    let app = spawn().await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.upload("image/png", PNG, "a.png").await);
    app.set_visibility(&id, "public").await;
    interrupt_move(&app, &id, Visibility::Private, Interrupted::Copied).await;

    let swept = lifecycle::sweep(app.services(), app.now()).await.expect("sweep");

    assert_eq!(
        swept,
        Swept {
            moves: 1,
            ..Swept::default()
        }
    );
    assert_eq!(stored(&app, &public_png(&id)).await, None);
    assert!(stored(&app, &private_png(alice, &id)).await.is_some());
    assert_eq!(
        app.image_row(&id).await.map(|r| (r.location, r.lease_until)),
        Some((Location::Private, None))
    );
    assert_eq!(
        audited(&app, "invalidation_requested").await,
        [format!("/public/{id}.png")]
    );
}

// An unreachable store.

#[tokio::test]
async fn an_unreachable_store_returns_503_json_and_leaves_only_rows_that_expire() {
    let port = closed_port().to_string();
    let endpoint = format!("http://127.0.0.1:{port}");
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_S3_BUCKET", "edgepass"),
        ("EDGEPASS_S3_ENDPOINT_URL", &endpoint),
        ("EDGEPASS_S3_FORCE_PATH_STYLE", "true"),
        ("EDGEPASS_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("EDGEPASS_AWS_SECRET_ACCESS_KEY", "secret"),
    ])
    .await;
    app.signed_up("alice@example.com").await;
    let ticket = app.start_upload("image/png", 10, "a.png").await;
    assert_eq!(ticket.status, StatusCode::CREATED, "presigning sends nothing");
    let id = id_of(&ticket.json());

    let reply = app.complete_upload(&id).await;

    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(
        reply.json(),
        json!({ "error": "unavailable", "message": "service unavailable" })
    );
    let expiry = app.now() + app.state.config.uploads.url_ttl_secs;
    let rows = app.image_rows().await;
    assert_eq!(
        rows.iter()
            .map(|r| (r.status, r.upload_expires_at as u64))
            .collect::<Vec<_>>(),
        [(Status::Pending, expiry)]
    );
    let swept = lifecycle::sweep(app.services(), expiry + UPLOAD_GRACE_SECS)
        .await
        .expect("sweep");
    assert_eq!(swept.failures, 1, "retried at the next sweep");
    assert_eq!(
        app.image_row(&id)
            .await
            .map(|r| (r.status, r.upload_expires_at as u64)),
        Some((Status::Rejected, expiry)),
        "hidden, and still due for sweeping"
    );
    app.delete_image(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_visibility_change_against_an_unreachable_store_returns_503_and_can_be_repeated() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_S3_BUCKET", "edgepass"),
        ("EDGEPASS_S3_ENDPOINT_URL", &endpoint),
        ("EDGEPASS_S3_FORCE_PATH_STYLE", "true"),
        ("EDGEPASS_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("EDGEPASS_AWS_SECRET_ACCESS_KEY", "secret"),
    ])
    .await;
    let alice = app.signed_up("alice@example.com").await;
    let id = id_of(&app.start_upload("image/png", 10, "a.png").await.json());
    edgepass::db::images::mark_ready(app.db(), &image_id(&id), &private_png(alice, &id))
        .await
        .expect("ready");

    let reply = app.set_visibility(&id, "public").await;

    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(
        app.image_row(&id).await.map(|r| (r.location, r.lease_until)),
        Some((Location::CopyingToPublic, None)),
        "the unfinished move is recorded and the image is free for a retry"
    );
    let view = app.get(&format!("/api/images/{id}")).await.json();
    assert_eq!(view["change_pending"], true);
    app.set_visibility(&id, "public")
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    app.delete_image(&id)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

#[tokio::test]
async fn the_api_description_lists_the_image_routes() {
    let app = spawn().await;

    let spec = send(app.raw_request(Method::GET, "/openapi.json")).await.json();

    let paths = &spec["paths"];
    for (path, methods) in [
        ("/api/images", &["get", "post"][..]),
        ("/api/images/{id}", &["get", "patch", "delete"][..]),
        ("/api/images/{id}/complete", &["post"][..]),
    ] {
        for method in methods {
            assert!(paths[path][method].is_object(), "{method} {path}");
        }
    }
}
