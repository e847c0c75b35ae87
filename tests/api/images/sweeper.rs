//! The sweeper: uploads left unfinished after their URL expired, and moves nobody repeated.

use edgepass::db::entity::image::{Location, Status, Visibility};
use edgepass::images::lifecycle::{self, Swept, UPLOAD_GRACE_SECS};
use reqwest::StatusCode;

use super::{
    Copies, Interrupted, alice, copies, interrupt_move, invalidated, ready_png, staging, started_png, stored,
};
use crate::helpers::{PNG, put_upload};

#[tokio::test]
async fn the_sweeper_removes_uploads_left_unfinished_after_their_url_expired_with_their_objects() {
    let (app, alice) = alice().await;
    let ttl = app.state.config.uploads.url_ttl_secs;
    let (_, never_put) = started_png(&app, 10, "a.png").await;
    let (ticket, put_only) = started_png(&app, PNG.len(), "b.png").await;
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    let ready = ready_png(&app).await;
    let expiry = app.now() + ttl;
    app.advance(ttl);
    let (_, fresh) = started_png(&app, 10, "d.png").await;

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
    assert_eq!(copies(&app, alice, &ready).await, Copies::Private);
    assert_eq!(
        app.image_row(&fresh).await.map(|r| r.status),
        Some(Status::Pending)
    );
}

#[tokio::test]
async fn the_sweeper_finishes_a_change_to_private_that_nobody_repeated() {
    let (app, alice) = alice().await;
    let id = ready_png(&app).await;
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
    assert_eq!(copies(&app, alice, &id).await, Copies::Private);
    assert_eq!(
        app.image_row(&id).await.map(|r| (r.location, r.lease_until)),
        Some((Location::Private, None))
    );
    assert_eq!(app.audited("invalidation_requested").await, invalidated(&id));
}

#[tokio::test]
async fn two_sweeps_at_once_count_each_finished_move_once() {
    let (app, alice) = alice().await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        let id = ready_png(&app).await;
        interrupt_move(&app, &id, Visibility::Public, Interrupted::Recorded).await;
        ids.push(id);
    }

    let (first, second) = tokio::join!(
        lifecycle::sweep(app.services(), app.now()),
        lifecycle::sweep(app.services(), app.now()),
    );

    let (first, second) = (first.expect("sweep"), second.expect("sweep"));
    assert_eq!(first.moves + second.moves, 12, "{first:?} + {second:?}");
    assert_eq!(first.failures + second.failures, 0);
    for id in &ids {
        assert_eq!(copies(&app, alice, id).await, Copies::Public);
    }
    assert_eq!(app.audited("image_made_public").await.len(), 12);
}
