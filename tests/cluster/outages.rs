//! The S3 API going down in the middle of an upload and of a move: the requests it cuts short answer
//! 503 with the JSON error, nothing is lost, and the same requests succeed once it is back.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Cluster, PNG, Stall, Tripwire, browser, image_view, register};

/// A 503 with the generic JSON error body.
async fn assert_unavailable(reply: reqwest::Response, what: &str) {
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
    let body: Value = reply.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({ "error": "unavailable", "message": "service unavailable" }),
        "{what}"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn a_store_that_goes_down_mid_upload_and_mid_move_gets_503s_and_the_retries_complete() {
    let mut cluster = Cluster::start(&[]).await;
    let store = Stall::start(cluster.moto_port(), Tripwire::Never).await;
    cluster.route_through(0, &store).await;
    let instance = cluster.instances[0].url("");
    let alice = browser();
    let user = register(&alice, &instance, "alice@example.com").await;

    // An upload whose bytes are in, completed while the store is down.
    let ticket: Value = alice
        .post(format!("{instance}/api/images"))
        .json(&json!({ "content_type": "image/png", "byte_size": PNG.len(), "name": "a.png" }))
        .send()
        .await
        .expect("start upload")
        .json()
        .await
        .expect("JSON");
    let id = ticket["id"].as_str().expect("id").to_owned();
    let put = reqwest::Client::new()
        .put(ticket["upload_url"].as_str().expect("upload URL"))
        .header("content-type", "image/png")
        .body(PNG)
        .send()
        .await
        .expect("PUT");
    assert!(put.status().is_success());
    store.cut();
    let complete = || alice.post(format!("{instance}/api/images/{id}/complete")).send();
    assert_unavailable(complete().await.expect("complete"), "complete, store down").await;
    store.mend();
    assert_eq!(complete().await.expect("complete").status(), StatusCode::OK);
    assert_eq!(
        cluster.objects().await,
        [format!("users/{user}/{id}.png")],
        "completed once, staging copy gone"
    );

    // A move cut short by the store going down, finished by the same request once it is back.
    let publish = || {
        alice
            .patch(format!("{instance}/api/images/{id}"))
            .json(&json!({ "visibility": "public" }))
            .send()
    };
    store.cut();
    assert_unavailable(publish().await.expect("PATCH"), "move, store down").await;
    let pending = image_view(&alice, &instance, &id).await;
    assert_eq!(pending["change_pending"], true, "{pending}");
    store.mend();
    assert_eq!(publish().await.expect("PATCH").status(), StatusCode::OK);
    assert_eq!(cluster.objects().await, [format!("public/{id}.png")]);
}
