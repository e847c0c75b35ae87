//! A visibility move whose instance is killed part-way is finished by the next request, whichever
//! instance takes it, and leaves exactly one copy of the image, in the right place.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Cluster, Stall, Tripwire, browser, image_view, register, upload_png};

/// Short, so that a retry need not wait three minutes for the dead instance's lease.
const LEASE_SECS: &str = "2";

/// Sends `PATCH /api/images/{id}` through the balancer until it succeeds; 409 `busy` is the only other
/// answer allowed, while the dead instance's lease runs out.
async fn retry_until_done(cluster: &Cluster, alice: &reqwest::Client, id: &str, visibility: &str) {
    let started = Instant::now();
    loop {
        let reply = alice
            .patch(cluster.url(&format!("/api/images/{id}")))
            .json(&json!({ "visibility": visibility }))
            .send()
            .await
            .expect("PATCH");
        match reply.status() {
            StatusCode::OK => return,
            StatusCode::CONFLICT => {
                let body: serde_json::Value = reply.json().await.expect("JSON");
                assert_eq!(body["error"], "busy", "{body}");
            }
            other => panic!(
                "PATCH answered {other}: {}",
                reply.text().await.unwrap_or_default()
            ),
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the move was not finished within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Kills instance 0 where `tripwire` stalls its move of image `id` toward `visibility`.
async fn kill_mid_move(
    cluster: &mut Cluster,
    alice: &reqwest::Client,
    id: &str,
    visibility: &str,
    tripwire: Tripwire,
) {
    let stall = Stall::start(cluster.moto_port(), tripwire).await;
    cluster.route_through(0, &stall).await;
    let doomed = alice
        .patch(cluster.instances[0].url(&format!("/api/images/{id}")))
        .json(&json!({ "visibility": visibility }))
        .send();
    let request = tokio::spawn(doomed);
    stall.tripped().await;
    cluster.instances[0].kill();
    let answer = request.await.expect("request task");
    assert!(answer.is_err(), "the killed instance answered: {answer:?}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn a_move_whose_instance_is_killed_at_any_step_is_finished_through_another_instance() {
    let mut cluster = Cluster::start(&[("EDGEPASS_IMAGE_LEASE_SECS", LEASE_SECS)]).await;
    let alice = browser();
    let helper = cluster.instances[1].url("");
    let user = register(&alice, &helper, "alice@example.com").await;

    for (tripwire, from, to) in [
        (Tripwire::BeforeCopy, "private", "public"),
        (Tripwire::AfterCopy, "private", "public"),
        (Tripwire::AfterDelete, "private", "public"),
        (Tripwire::AfterCopy, "public", "private"),
        (Tripwire::AfterInvalidation, "public", "private"),
    ] {
        let id = upload_png(&alice, &helper).await;
        if from == "public" {
            let made = alice
                .patch(format!("{helper}/api/images/{id}"))
                .json(&json!({ "visibility": "public" }))
                .send()
                .await
                .expect("PATCH");
            assert_eq!(made.status(), StatusCode::OK);
        }

        kill_mid_move(&mut cluster, &alice, &id, to, tripwire).await;
        retry_until_done(&cluster, &alice, &id, to).await;

        let place = match to {
            "public" => format!("public/{id}.png"),
            _ => format!("users/{user}/{id}.png"),
        };
        let copies: Vec<String> = cluster
            .objects()
            .await
            .into_iter()
            .filter(|key| key.contains(&id))
            .collect();
        assert_eq!(copies, [place], "{tripwire:?} moving {from} to {to}");
        let view = image_view(&alice, &cluster.url(""), &id).await;
        assert_eq!(
            (view["visibility"].as_str(), view["change_pending"].as_bool()),
            (Some(to), Some(false)),
            "{tripwire:?}"
        );
    }
}
