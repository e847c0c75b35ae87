//! Every instance sweeps, at the same moments: each abandoned upload and each interrupted move is
//! handled exactly once between them, and none is lost.

use std::time::{Duration, Instant};

use edgepass::db::entity::image::Visibility;
use edgepass::db::entity::{audit_event, image};
use edgepass::db::images::Placement;
use edgepass::images::ImageId;
use edgepass::images::lifecycle::ImageKeys;
use futures::future::join_all;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::harness::{Cluster, browser, register, upload_png};

const MOVES: usize = 24;
const ABANDONED: usize = 12;

/// The sum over instances of `edgepass_images_swept_total{outcome}`.
async fn swept(cluster: &Cluster, outcome: &str) -> f64 {
    let label = format!("outcome=\"{outcome}\"");
    let mut total = 0.0;
    for instance in &cluster.instances {
        total += instance.counter("edgepass_images_swept_total", &label).await;
    }
    total
}

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn sweepers_on_every_instance_finish_each_interrupted_move_and_abandoned_upload_exactly_once() {
    let cluster = Cluster::start(&[
        ("EDGEPASS_IMAGE_SWEEP_SECS", "1"),
        ("EDGEPASS_IMAGE_LEASE_SECS", "5"),
        ("EDGEPASS_UPLOAD_URL_TTL_SECS", "1"),
    ])
    .await;
    let alice = browser();
    register(&alice, &cluster.url(""), "alice@example.com").await;
    let base = cluster.url("");
    let ids: Vec<String> = join_all((0..MOVES).map(|_| upload_png(&alice, &base))).await;
    for n in 0..ABANDONED {
        let started = alice
            .post(cluster.url("/api/images"))
            .json(&json!({ "content_type": "image/png", "byte_size": 10, "name": format!("{n}.png") }))
            .send()
            .await
            .expect("start upload");
        assert_eq!(started.status(), StatusCode::CREATED);
    }

    // Moves recorded, and nothing more, as by instances that died right after recording them.
    let db = cluster.db().await;
    for id in &ids {
        let id = ImageId::parse(id).expect("image id");
        let row = edgepass::db::images::find(&db, &id)
            .await
            .expect("read")
            .expect("the image");
        let keys = ImageKeys::of(&row).expect("keys");
        edgepass::db::images::start_move(
            &db,
            &id,
            &Placement {
                visibility: Visibility::Public,
                album: None,
            },
            Some((&keys.public, image::Location::CopyingToPublic)),
        )
        .await
        .expect("record a move");
    }

    // Abandoned uploads are swept once their URL has been expired for the grace period (60 s).
    let started = Instant::now();
    loop {
        let rows = image::Entity::find().count(&db).await.expect("count");
        let pending = image::Entity::find()
            .filter(image::Column::Location.ne(image::Location::Public))
            .count(&db)
            .await
            .expect("count");
        if rows == MOVES as u64 && pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "after 120 s: {rows} rows, {pending} not public"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    assert_eq!(
        swept(&cluster, "moves").await,
        MOVES as f64,
        "moves, summed over instances"
    );
    assert_eq!(swept(&cluster, "uploads").await, ABANDONED as f64, "uploads");
    assert_eq!(swept(&cluster, "failures").await, 0.0, "failures");
    let made_public = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("image_made_public"))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(made_public, MOVES as u64, "one audit event per move");
    let mut expected: Vec<String> = ids.iter().map(|id| format!("public/{id}.png")).collect();
    expected.sort();
    assert_eq!(
        cluster.objects().await,
        expected,
        "one copy each, and nothing else"
    );
}
