//! What a store that cannot be reached does to uploads and visibility changes: a generic 503, and
//! nothing left behind that does not expire or cannot be repeated.

use edgepass::db::entity::image::{Location, Status};
use edgepass::images::lifecycle::{self, UPLOAD_GRACE_SECS};
use reqwest::StatusCode;
use serde_json::json;

use super::{alice_on_a_closed_store, id_of, image, image_id, private_png, started_png};

#[tokio::test]
async fn an_unreachable_store_returns_503_json_and_leaves_only_rows_that_expire() {
    let (app, _) = alice_on_a_closed_store().await;
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
    let (app, alice) = alice_on_a_closed_store().await;
    let (_, id) = started_png(&app, 10, "a.png").await;
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
    let view = image(&app, &id).await.json();
    assert_eq!(view["change_pending"], true);
    app.set_visibility(&id, "public")
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    app.delete_image(&id)
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}
