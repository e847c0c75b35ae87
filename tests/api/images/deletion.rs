//! Deleting an image: its objects, its row, and the invalidation of a path that was public.

use edgepass::db::entity::image::Status;
use edgepass::domain::UserId;
use edgepass::images::lifecycle;
use edgepass::images::{ContentType, ImageKey};
use reqwest::StatusCode;
use serde_json::json;

use super::{
    Copies, alice, copies, id_of, image, image_id, invalidated, ready_png, services_on, staging, started_png,
    stored, unreachable_storage,
};
use crate::helpers::{PNG, put_upload};

#[tokio::test]
async fn deleting_a_public_image_removes_its_objects_and_row_and_invalidates_its_path() {
    let (app, alice) = alice().await;
    let id = ready_png(&app).await;
    app.set_visibility(&id, "public").await;

    let reply = app.delete_image(&id).await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert_eq!(copies(&app, alice, &id).await, Copies::Neither);
    assert_eq!(app.image_row(&id).await, None);
    assert_eq!(app.audited("image_deleted").await, [id.as_str()]);
    assert_eq!(app.audited("invalidation_requested").await, invalidated(&id));
    image(&app, &id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.delete_image(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn deleting_a_private_image_invalidates_nothing() {
    let (app, alice) = alice().await;
    let id = id_of(
        &app.upload("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 ", "a.webp")
            .await,
    );

    assert_eq!(app.delete_image(&id).await.status, StatusCode::NO_CONTENT);

    let key = ImageKey::private(UserId(alice), &image_id(&id), ContentType::Webp);
    assert_eq!(stored(&app, &key).await, None);
    assert_eq!(app.image_row(&id).await, None);
    assert!(app.audited("invalidation_requested").await.is_empty());
}

#[tokio::test]
async fn an_interrupted_deletion_is_finished_by_repeating_it() {
    let (app, alice) = alice().await;
    let id = ready_png(&app).await;
    app.set_visibility(&id, "public").await;
    let dead = unreachable_storage().await;
    let row = app.image_row(&id).await.expect("row");

    let failed = lifecycle::delete_image(services_on(&app, &dead), row, app.now()).await;

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
    assert_eq!(copies(&app, alice, &id).await, Copies::Neither);
}

#[tokio::test]
async fn deleting_an_unfinished_upload_hides_it_and_deletes_what_was_uploaded() {
    let (app, alice) = alice().await;
    let (ticket, id) = started_png(&app, PNG.len(), "a.png").await;
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);

    assert_eq!(app.delete_image(&id).await.status, StatusCode::NO_CONTENT);

    assert_eq!(stored(&app, &staging(alice, &id)).await, None);
    assert_eq!(copies(&app, alice, &id).await, Copies::Neither);
    image(&app, &id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.complete_upload(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}
