//! What an upload may be: its size, its name, and the per-user quotas on images and bytes.

use edgepass::images::lifecycle::{self, UPLOAD_GRACE_SECS};
use reqwest::StatusCode;
use serde_json::json;

use super::{alice, alice_with, image, started_png};
use crate::helpers::{PNG, send, signed_up_browser};

#[tokio::test]
async fn sizes_outside_one_byte_to_the_maximum_are_refused_with_422() {
    let (app, _) = alice_with(&[("EDGEPASS_MAX_IMAGE_BYTES", "1000")]).await;

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
    let (app, _) = alice().await;

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
    let (_, id) = started_png(&app, 10, kept).await;
    let view = image(&app, &id).await.json();
    assert_eq!(view["name"], kept, "stored as given, for display only");
}

#[tokio::test]
async fn the_image_quota_counts_unfinished_uploads_and_refuses_with_409() {
    let (app, _) = alice_with(&[("EDGEPASS_QUOTA_IMAGES", "2")]).await;
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
    let (app, _) = alice_with(&[("EDGEPASS_QUOTA_BYTES", "1000")]).await;
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
    let (app, _) = alice_with(&[("EDGEPASS_QUOTA_IMAGES", "1")]).await;
    assert_eq!(
        app.start_upload("image/png", 10, "a.png").await.status,
        StatusCode::CREATED
    );
    let (_, bob, _) = signed_up_browser(&app, "bob@example.com").await;

    let reply = send(
        bob.post(app.url("/api/images"))
            .json(&json!({ "content_type": "image/png", "byte_size": 10, "name": "b.png" })),
    )
    .await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}
