//! An invalidation retried by another instance carries the same caller reference, so CloudFront
//! treats it as the same invalidation, not a new one.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Cluster, Stall, Tripwire, browser, register, upload_png};

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn an_invalidation_retried_on_another_instance_keeps_its_caller_reference() {
    let mut cluster = Cluster::start(&[("EDGEPASS_IMAGE_LEASE_SECS", "2")]).await;
    let alice = browser();
    let helper = cluster.instances[1].url("");
    register(&alice, &helper, "alice@example.com").await;
    let id = upload_png(&alice, &helper).await;
    let patch = |base: String, visibility: &'static str| {
        alice
            .patch(format!("{base}/api/images/{id}"))
            .json(&json!({ "visibility": visibility }))
            .send()
    };
    assert_eq!(
        patch(helper.clone(), "public").await.expect("PATCH").status(),
        StatusCode::OK
    );

    // Instance 0 asks CloudFront to invalidate, and dies before it hears back.
    let stall = Stall::start(cluster.moto_port(), Tripwire::AfterInvalidation).await;
    cluster.route_through(0, &stall).await;
    let doomed = tokio::spawn(patch(cluster.instances[0].url(""), "private"));
    stall.tripped().await;
    cluster.instances[0].kill();
    assert!(doomed.await.expect("task").is_err());

    // Another instance finishes the change: it asks again, under the same reference.
    let started = Instant::now();
    loop {
        let reply = patch(cluster.url(""), "private").await.expect("PATCH");
        if reply.status() == StatusCode::OK {
            break;
        }
        assert_eq!(reply.status(), StatusCode::CONFLICT, "busy while the lease runs");
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The next change of the same image is a new invalidation, under a new reference.
    assert_eq!(
        patch(cluster.url(""), "public").await.expect("PATCH").status(),
        StatusCode::OK
    );
    assert_eq!(
        patch(cluster.url(""), "private").await.expect("PATCH").status(),
        StatusCode::OK
    );

    let path = format!("/public/{id}.png");
    let mut references: Vec<String> = cluster
        .invalidations()
        .await
        .into_iter()
        .filter(|(_, paths)| paths == std::slice::from_ref(&path))
        .map(|(reference, _)| reference)
        .collect();
    references.sort();
    assert_eq!(references.len(), 3, "{references:?}");
    assert_eq!(references[0], references[1], "the retry reused the reference");
    assert_ne!(references[1], references[2], "a new change has a new reference");
}
