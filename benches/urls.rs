//! Latency of `POST /api/urls` for a gallery page of 100 images shared with the caller.
//!
//! `cargo bench --bench urls` starts edgepass in-process (local mode: SQLite, embedded store) once
//! per signing algorithm, makes an owner upload 100 real PNGs through presigned PUTs and share each
//! with a viewer, then times the viewer's `POST /api/urls` for all 100 ids over loopback HTTP, one
//! request at a time:
//! - cold memo: the clock moves one expiry window before each request, so every URL has a new expiry
//!   and all 100 signatures are computed;
//! - warm memo: the clock stands still, so all 100 come from the signature memo;
//! - steady, signed ahead: with signing ahead on (it is off in the first two), the clock moves one
//!   second and the viewer pauses 10 ms before each request, through two window changes; the URLs the
//!   viewer used are signed in the background before each change. Also prints how many signatures
//!   were made ahead, how many of them were used, and how many were still made at request time.
//!
//! Every answer is checked (200, 100 signed URLs, none missing), and so is the memo's count of
//! computed signatures and hits, so a run measures what it claims. Prints p50/p90/p99/max per case
//! against the goals p50 < 10 ms and p99 < 25 ms; a missed goal is reported, not an error.
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it makes a few requests per case only,
//! as a check that the benchmark still works.
//!
//! `EDGEPASS_BENCH_REQUESTS=N` sets the number of timed requests per case (default 300).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgepass::app::{AppState, Application};
use edgepass::clock::ManualClock;
use edgepass::config::Config;
use edgepass::signing::MemoStats;
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::{Value, json};
use tokio::sync::oneshot;

#[path = "common/algorithms.rs"]
mod algorithms;
use algorithms::{Algorithm, algorithms};

/// Images on the page.
const IMAGES: usize = 100;
/// A valid 1×1 PNG (what the upload check sniffs is its signature and header).
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
/// The default expiry window (`EDGEPASS_CDN_EXPIRY_WINDOW_SECS`).
const WINDOW_SECS: u64 = 300;
const PASSWORD: &str = "benchmark password 1";
/// How far the clock moves before each request of steady traffic: a window change every 300 requests.
const STEADY_STEP_SECS: u64 = 1;
/// The viewer's pause before each request of steady traffic.
const STEADY_PAUSE: Duration = Duration::from_millis(10);
const GOAL_P50: Duration = Duration::from_millis(10);
const GOAL_P99: Duration = Duration::from_millis(25);

/// An edgepass running in this process, with an owner who shared [`IMAGES`] images with a viewer.
struct Gallery {
    state: AppState,
    clock: ManualClock,
    base: String,
    viewer: reqwest::Client,
    ids: Vec<String>,
    stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .no_proxy()
        .build()
        .expect("http client")
}

async fn expect_status(request: reqwest::RequestBuilder, status: StatusCode, what: &str) -> Value {
    let reply = request.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let got = reply.status();
    let body = reply.text().await.unwrap_or_default();
    assert_eq!(got, status, "{what}: {body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

impl Gallery {
    /// `ahead`: whether recently used URLs are signed ahead of each window change.
    async fn start(algorithm: &Algorithm, ahead: bool) -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut env: BTreeMap<String, String> = BTreeMap::from([
            // Every listener on a free port, so the benchmark (and `cargo test`, which runs it once)
            // works beside a `cargo run` holding the default ports.
            ("EDGEPASS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("EDGEPASS_EDGE_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ("EDGEPASS_METRICS_LISTEN".to_owned(), "off".to_owned()),
            (
                "EDGEPASS_DATA_DIR".to_owned(),
                dir.path().join("data").display().to_string(),
            ),
        ]);
        for (name, value) in &algorithm.settings {
            env.insert((*name).to_owned(), value.clone());
        }
        if !ahead {
            env.insert("EDGEPASS_CDN_SIGN_AHEAD_GRANTS".to_owned(), "0".to_owned());
        }
        let config = Config::from_env(&env).expect("configuration");
        // The real time: the embedded store checks upload URLs against it. Moving one window later
        // always moves every expiry (rounded up to the window) by one window, wherever it starts.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        let clock = ManualClock::new(now);
        let app = Application::build_with_clock(config, Arc::new(clock.clone()))
            .await
            .expect("edgepass starts");
        let state = app.state().clone();
        let base = format!("http://127.0.0.1:{}", app.port());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));

        let owner = browser();
        let viewer = browser();
        let register = |client: &reqwest::Client, email: &str| {
            client
                .post(format!("{base}/api/auth/register"))
                .json(&json!({ "email": email, "password": PASSWORD }))
        };
        expect_status(
            register(&owner, "owner@example.com"),
            StatusCode::CREATED,
            "register owner",
        )
        .await;
        expect_status(
            register(&viewer, "viewer@example.com"),
            StatusCode::CREATED,
            "register viewer",
        )
        .await;
        let store = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        let mut ids = Vec::with_capacity(IMAGES);
        for n in 0..IMAGES {
            let ticket = expect_status(
                owner.post(format!("{base}/api/images")).json(&json!({
                    "content_type": "image/png",
                    "byte_size": PNG.len(),
                    "name": format!("photo-{n}.png"),
                })),
                StatusCode::CREATED,
                "start upload",
            )
            .await;
            let id = ticket["id"].as_str().expect("image id").to_owned();
            let put = store
                .put(ticket["upload_url"].as_str().expect("upload url"))
                .header("content-type", "image/png")
                .body(PNG)
                .send()
                .await
                .expect("the store answers");
            assert_eq!(put.status(), StatusCode::OK, "upload to the store");
            expect_status(
                owner.post(format!("{base}/api/images/{id}/complete")),
                StatusCode::OK,
                "complete upload",
            )
            .await;
            expect_status(
                owner.put(format!("{base}/api/images/{id}/shares/viewer@example.com")),
                StatusCode::OK,
                "share",
            )
            .await;
            ids.push(id);
        }
        Self {
            state,
            clock,
            base,
            viewer,
            ids,
            stop,
            _dir: dir,
        }
    }

    /// One `POST /api/urls` for every image, checked; returns how long it took.
    async fn fetch_urls(&self) -> Duration {
        let started = Instant::now();
        let reply = self
            .viewer
            .post(format!("{}/api/urls", self.base))
            .json(&json!({ "ids": self.ids }))
            .send()
            .await
            .expect("edgepass answers");
        let status = reply.status();
        let body: Value = reply.json().await.expect("a JSON body");
        let took = started.elapsed();
        assert_eq!(status, StatusCode::OK, "POST /api/urls: {body}");
        let urls = body["urls"].as_object().expect("urls");
        assert_eq!(urls.len(), IMAGES, "every image gets a URL: {body}");
        assert!(
            urls.values()
                .all(|url| url.as_str().is_some_and(|u| u.contains("Signature="))),
            "every URL is signed"
        );
        assert_eq!(body["not_found"].as_array().map(Vec::len), Some(0));
        took
    }

    /// Times `requests` requests; `cold` moves the clock one window before each, so nothing is memoized.
    async fn measure(&self, requests: usize, cold: bool) -> Vec<Duration> {
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            if cold {
                self.clock.advance(WINDOW_SECS);
            }
            let before = self.state.cdn.memo_stats();
            times.push(self.fetch_urls().await);
            let after = self.state.cdn.memo_stats();
            let (signed, hits) = (after.misses - before.misses, after.hits - before.hits);
            let expected = if cold {
                (IMAGES as u64, 0)
            } else {
                (0, IMAGES as u64)
            };
            assert_eq!(
                (signed, hits),
                expected,
                "signatures computed and memo hits in one {} request",
                if cold { "cold" } else { "warm" }
            );
        }
        times
    }
}

impl Gallery {
    /// Times `requests` requests of steady traffic: the clock moves [`STEADY_STEP_SECS`] and the
    /// viewer pauses [`STEADY_PAUSE`] before each, so the run crosses window changes the way a
    /// gallery in use does, and signing ahead has the time it would have.
    async fn measure_steady(&self, requests: usize) -> (Vec<Duration>, MemoStats) {
        let before = self.state.cdn.memo_stats();
        let mut times = Vec::with_capacity(requests);
        for _ in 0..requests {
            self.clock.advance(STEADY_STEP_SECS);
            tokio::time::sleep(STEADY_PAUSE).await;
            times.push(self.fetch_urls().await);
        }
        let after = self.state.cdn.memo_stats();
        let delta = MemoStats {
            hits: after.hits - before.hits,
            misses: after.misses - before.misses,
            ahead: after.ahead - before.ahead,
            ahead_used: after.ahead_used - before.ahead_used,
        };
        (times, delta)
    }
}

/// The `p`th percentile (nearest rank) of sorted `times`.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort_unstable();
    let (p50, p90, p99) = (
        percentile(&times, 50.0),
        percentile(&times, 90.0),
        percentile(&times, 99.0),
    );
    let max = times.last().copied().unwrap_or_default();
    println!(
        "{label:<40} {:>5}  p50 {:>9}  p90 {:>9}  p99 {:>9}  max {:>9}   p50<10ms {}  p99<25ms {}",
        times.len(),
        ms(p50),
        ms(p90),
        ms(p99),
        ms(max),
        verdict(p50 < GOAL_P50),
        verdict(p99 < GOAL_P99),
    );
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let requests = if full {
        std::env::var("EDGEPASS_BENCH_REQUESTS")
            .ok()
            .and_then(|n| n.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(300)
    } else {
        3
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        println!(
            "POST /api/urls, {IMAGES} shared images per request, {requests} sequential requests per case, {} CPUs",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        for algorithm in algorithms() {
            let gallery = Gallery::start(&algorithm, false).await;
            // Connection set-up and first-use costs are not what is measured.
            gallery.measure(3, true).await;
            gallery.measure(3, false).await;
            report(&format!("{} cold memo", algorithm.label), gallery.measure(requests, true).await);
            report(&format!("{} warm memo", algorithm.label), gallery.measure(requests, false).await);
            let _ = gallery.stop.send(());

            let gallery = Gallery::start(&algorithm, true).await;
            // The page's first load signs every URL; the viewer has used them since.
            gallery.measure(1, true).await;
            gallery.measure(2, false).await;
            // Two window changes at full length; a few requests under `cargo test`.
            let steady = if full { (2 * WINDOW_SECS / STEADY_STEP_SECS) as usize + 1 } else { 3 };
            let (times, memo) = gallery.measure_steady(steady).await;
            report(&format!("{} steady, signed ahead", algorithm.label), times);
            println!(
                "{:<40} signed ahead {}, used {}, never used {}; signed at request time {}",
                "",
                memo.ahead,
                memo.ahead_used,
                memo.ahead - memo.ahead_used,
                memo.misses
            );
            let _ = gallery.stop.send(());
        }
    });
}
