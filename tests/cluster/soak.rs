//! The soak: minutes of mixed traffic through the balancer at about 80 % of what the cluster can
//! serve, with memory and database connections sampled as it goes, then the database compared with
//! the bucket. Not part of `scripts/test`; `scripts/cluster` runs it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::harness::{Cluster, PNG, browser, register, upload_png};

/// Concurrent clients.
const WORKERS: usize = 32;
/// Users, each with images of their own and one shared by the next user.
const USERS: usize = 16;

/// How long the soak lasts (`EDGEPASS_CLUSTER_SOAK_SECS`, default 600).
fn soak_secs() -> u64 {
    std::env::var("EDGEPASS_CLUSTER_SOAK_SECS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(600)
}

/// One user's browser and what it may ask for.
struct Actor {
    client: reqwest::Client,
    ids: Vec<String>,
}

/// What the workers counted.
#[derive(Default)]
struct Tally {
    operations: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Tally {
    async fn failed(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().await;
        if first.len() < 10 {
            first.push(what);
        }
    }
}

/// Sends `request` and checks its status; counts it.
async fn expect(
    tally: &Tally,
    request: reqwest::RequestBuilder,
    status: StatusCode,
    what: &str,
) -> Option<Value> {
    tally.requests.fetch_add(1, Ordering::Relaxed);
    match request.send().await {
        Ok(reply) if reply.status() == status => Some(reply.json().await.unwrap_or(Value::Null)),
        Ok(reply) => {
            let got = reply.status();
            let body = reply.text().await.unwrap_or_default();
            tally.failed(format!("{what}: {got} {body}")).await;
            None
        }
        Err(error) => {
            tally.failed(format!("{what}: {error}")).await;
            None
        }
    }
}

/// One operation of the mix, chosen by `n`: cookies 40 %, listing 20 %, a batch of URLs 20 %,
/// shared-with-me 15 %, and 5 % a whole upload (start, PUT, complete, delete).
async fn operate(base: &str, actor: &Actor, n: u64, tally: &Tally) {
    let c = &actor.client;
    match n % 20 {
        0..=7 => {
            expect(
                tally,
                c.post(format!("{base}/api/cdn/cookies")),
                StatusCode::OK,
                "cookies",
            )
            .await;
        }
        8..=11 => {
            expect(
                tally,
                c.get(format!("{base}/api/images?limit=20")),
                StatusCode::OK,
                "list",
            )
            .await;
        }
        12..=15 => {
            let body = json!({ "ids": actor.ids });
            expect(
                tally,
                c.post(format!("{base}/api/urls")).json(&body),
                StatusCode::OK,
                "urls",
            )
            .await;
        }
        16..=18 => {
            expect(
                tally,
                c.get(format!("{base}/api/shared-with-me")),
                StatusCode::OK,
                "shared",
            )
            .await;
        }
        _ => upload_and_delete(base, c, tally).await,
    }
    tally.operations.fetch_add(1, Ordering::Relaxed);
}

async fn upload_and_delete(base: &str, c: &reqwest::Client, tally: &Tally) {
    let start = json!({ "content_type": "image/png", "byte_size": PNG.len(), "name": "soak.png" });
    let Some(ticket) = expect(
        tally,
        c.post(format!("{base}/api/images")).json(&start),
        StatusCode::CREATED,
        "start",
    )
    .await
    else {
        return;
    };
    let (Some(id), Some(url)) = (ticket["id"].as_str(), ticket["upload_url"].as_str()) else {
        tally.failed(format!("start: {ticket}")).await;
        return;
    };
    let put = reqwest::Client::new()
        .put(url)
        .header("content-type", "image/png")
        .body(PNG);
    expect(tally, put, StatusCode::OK, "put").await;
    expect(
        tally,
        c.post(format!("{base}/api/images/{id}/complete")),
        StatusCode::OK,
        "complete",
    )
    .await;
    expect(
        tally,
        c.delete(format!("{base}/api/images/{id}")),
        StatusCode::NO_CONTENT,
        "delete",
    )
    .await;
}

/// Users with images, some shared, ready to send the mix; and what the mix counted.
pub(crate) struct Mix {
    actors: Arc<Vec<Actor>>,
    tally: Arc<Tally>,
}

impl Mix {
    /// Signs up [`USERS`] users through `base`, each with three images, the first shared with the
    /// next user.
    pub(crate) async fn prepare(base: &str) -> Self {
        let mut actors = Vec::new();
        for n in 0..USERS {
            let client = browser();
            register(&client, base, &format!("mix{n}@example.com")).await;
            let mut ids = Vec::new();
            for _ in 0..3 {
                ids.push(upload_png(&client, base).await);
            }
            actors.push(Actor { client, ids });
        }
        for n in 0..USERS {
            let next = (n + 1) % USERS;
            let id = actors[n].ids[0].clone();
            let shared = actors[n]
                .client
                .put(format!("{base}/api/images/{id}/shares/mix{next}@example.com"))
                .send()
                .await
                .expect("share");
            assert_eq!(shared.status(), StatusCode::OK);
            actors[next].ids.push(id);
        }
        Self {
            actors: Arc::new(actors),
            tally: Arc::new(Tally::default()),
        }
    }

    /// See [`drive`].
    pub(crate) async fn drive(&self, base: &str, secs: u64, per_second: Option<f64>) -> f64 {
        drive(base, &self.actors, &self.tally, secs, per_second).await
    }

    /// Requests sent, and how many got no answer or not the expected one.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.tally.requests.load(Ordering::Relaxed),
            self.tally.errors.load(Ordering::Relaxed),
        )
    }

    /// The first few failures.
    pub(crate) async fn first_errors(&self) -> Vec<String> {
        self.tally.first_errors.lock().await.clone()
    }
}

/// Runs `WORKERS` clients for `secs`; with `per_second`, each paces itself so that together they
/// start that many operations a second. Returns operations per second.
async fn drive(
    base: &str,
    actors: &Arc<Vec<Actor>>,
    tally: &Arc<Tally>,
    secs: u64,
    per_second: Option<f64>,
) -> f64 {
    let started = Instant::now();
    let before = tally.operations.load(Ordering::Relaxed);
    let deadline = started + Duration::from_secs(secs);
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (actors, tally, base) = (Arc::clone(actors), Arc::clone(tally), base.to_owned());
        let gap = per_second.map(|rate| Duration::from_secs_f64(WORKERS as f64 / rate));
        workers.push(tokio::spawn(async move {
            let mut n = w as u64;
            let mut next = Instant::now();
            while Instant::now() < deadline {
                if let Some(gap) = gap {
                    next += gap;
                }
                let actor = &actors[(n as usize / 20) % actors.len()];
                operate(&base, actor, n, &tally).await;
                n += 7;
                if gap.is_some() {
                    tokio::time::sleep_until(next.into()).await;
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    (tally.operations.load(Ordering::Relaxed) - before) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::test]
#[ignore = "load: scripts/cluster runs it"]
async fn soak_mixed_traffic_at_80_percent_keeps_memory_flat_connections_bounded_and_rows_matching_objects() {
    let cluster = Cluster::start(&[]).await;
    let base = cluster.url("");
    let mix = Mix::prepare(&base).await;
    let tally = Arc::clone(&mix.tally);

    let most = mix.drive(&base, 15, None).await;
    let rate = 0.8 * most;
    println!("soak: the mix's maximum through haproxy: {most:.0} operations/s; soaking at {rate:.0}/s");

    let secs = soak_secs();
    let every = Duration::from_secs((secs / 10).clamp(1, 60));
    let sampling = async {
        let mut samples = Vec::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(secs) {
            tokio::time::sleep(every).await;
            let rss: Vec<u64> = cluster.instances.iter().map(|i| i.rss_kib()).collect();
            let connections = cluster.connections().await;
            println!(
                "soak: {:>4} s  RSS MiB {:?}  database connections {connections}  operations {}  errors {}",
                started.elapsed().as_secs(),
                rss.iter().map(|k| k / 1024).collect::<Vec<_>>(),
                tally.operations.load(Ordering::Relaxed),
                tally.errors.load(Ordering::Relaxed)
            );
            samples.push((rss, connections));
        }
        samples
    };
    let (achieved, samples) = tokio::join!(mix.drive(&base, secs, Some(rate)), sampling);
    println!(
        "soak: {secs} s at {achieved:.0} operations/s, {} requests, {} errors",
        tally.requests.load(Ordering::Relaxed),
        tally.errors.load(Ordering::Relaxed)
    );

    let first_errors = tally.first_errors.lock().await.clone();
    assert_eq!(tally.errors.load(Ordering::Relaxed), 0, "{first_errors:#?}");
    let bound = cluster.instances.len() as u64 * 17 + 2;
    for (_, connections) in &samples {
        assert!(
            *connections <= bound,
            "{connections} database connections (bound {bound})"
        );
    }
    let (first, last) = (&samples[0].0, &samples[samples.len() - 1].0);
    for (n, (a, b)) in first.iter().zip(last).enumerate() {
        assert!(
            *b <= a + a / 4 + 16 * 1024,
            "instance {n}: RSS grew from {} to {} MiB",
            a / 1024,
            b / 1024
        );
    }
    let problems = cluster.inconsistencies().await;
    assert!(problems.is_empty(), "rows and objects disagree: {problems:#?}");
}
