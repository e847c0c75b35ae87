//! Uploads: the presigned PUT, what the store refuses, and the completion check that the bytes are
//! what the declared type says.

use edgepass::aws::s3::ObjectInfo;
use edgepass::db::entity::image::Status;
use edgepass::domain::UserId;
use edgepass::images::{ContentType, ImageKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    Copies, HTML, JPEG, SVG, alice, copies, id_of, image, image_id, private_png, staging, started_png, stored,
};
use crate::helpers::{PNG, TestApp, put_to, put_upload, real_now};

#[tokio::test]
async fn an_upload_put_to_its_presigned_url_completes_into_a_ready_private_image() {
    let (app, alice) = alice().await;

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
    let pending = image(&app, &id).await;
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
    assert_eq!(image(&app, &id).await.json(), view);
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
    let (app, _) = alice().await;
    let view = app.upload("image/jpeg", JPEG, "cat.jpg").await;

    let again = app.complete_upload(&id_of(&view)).await;

    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json(), view);
}

#[tokio::test]
async fn completing_before_anything_was_uploaded_returns_409_and_keeps_the_upload_open() {
    let (app, _) = alice().await;
    let (ticket, id) = started_png(&app, PNG.len(), "a.png").await;

    let early = app.complete_upload(&id).await;

    early.assert_error(StatusCode::CONFLICT, "not_uploaded");
    assert_eq!(app.image_row(&id).await.map(|r| r.status), Some(Status::Pending));
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    assert_eq!(app.complete_upload(&id).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_store_refuses_a_put_with_another_type_another_length_or_a_tampered_signature() {
    let (app, _) = alice().await;
    let (ticket, id) = started_png(&app, PNG.len(), "a.png").await;
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
    let (ticket, id) = started_png(&app, PNG.len(), "late.png").await;

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
    assert_eq!(image(&app, &id).await.status, StatusCode::NOT_FOUND);
}

// Spoofing: the bytes must be what the declared type says.

#[tokio::test]
async fn a_png_declared_as_jpeg_is_rejected_at_completion_and_deleted() {
    let (app, alice) = alice().await;
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
    assert_eq!(image(&app, &id).await.status, StatusCode::NOT_FOUND);
    app.complete_upload(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn html_or_svg_declared_as_png_is_rejected_at_completion_and_deleted() {
    let (app, alice) = alice().await;
    for (what, bytes) in [("html", HTML), ("svg", SVG)] {
        let (ticket, id) = started_png(&app, bytes.len(), "x.png").await;
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
        assert_eq!(copies(&app, alice, &id).await, Copies::Neither, "{what}");
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
    let (app, _) = alice().await;

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
