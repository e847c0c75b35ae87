//! URLs per second for one object: S3 presigned GETs (`EDGEPASS_DELIVERY=s3`) next to CloudFront
//! canned-policy URLs, each cold and from its memo, in one run; and the presigned-URL memo's hit rate
//! for a gallery that lists its page again every second across several expiry windows.
//!
//! `cargo bench --bench delivery` starts edgepass in-process in local mode with S3 delivery (its
//! signer for CloudFront URLs is there too) once per CloudFront signing algorithm, then times, on one
//! task, one URL at a time:
//! - S3 presigned GET, cold: a new object key each time, so the SDK's presigner runs every time;
//! - S3 presigned GET, memo hit: one key within one window;
//! - CloudFront canned URL, cold: a new object path each time, so every signature is computed;
//! - CloudFront canned URL, memo hit: one path within one window.
//!
//! Every URL is checked for its signature parameters, and the memo counters for the hits and misses
//! the case claims. Prints URLs per second per case and each as a ratio to the S3 cold case, then the
//! hit rate of the steady gallery: 100 images, the clock moving one second per listing, for three
//! windows of the default 300 s.
//!
//! Under `cargo test --all-targets` (no `--bench` argument) it runs a few URLs per case only, as a
//! check that the benchmark still works. `EDGEPASS_BENCH_URLS=N` sets the URLs per case (default
//! 20,000).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use edgepass::app::{AppState, Application};
use edgepass::clock::{Clock, ManualClock};
use edgepass::config::Config;
use edgepass::images::ImageKey;
use edgepass::presigned_gets::PresignedGets;

#[path = "common/algorithms.rs"]
mod algorithms;
use algorithms::{Algorithm, algorithms};

/// The default expiry window (`EDGEPASS_CDN_EXPIRY_WINDOW_SECS`).
const WINDOW_SECS: u64 = 300;
/// The shared-URL lifetime asked for (`EDGEPASS_SHARED_URL_TTL_SECS`' default).
const TTL_SECS: u64 = 300;
/// Images on the steady gallery's page.
const PAGE: usize = 100;

/// edgepass in S3 delivery, its state and clock; dropped with the folder.
struct Running {
    state: AppState,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

async fn start(algorithm: &Algorithm) -> Running {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut env: BTreeMap<String, String> = BTreeMap::from([
        ("EDGEPASS_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("EDGEPASS_EDGE_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("EDGEPASS_METRICS_LISTEN".to_owned(), "off".to_owned()),
        ("EDGEPASS_CDN_SIGN_AHEAD_GRANTS".to_owned(), "0".to_owned()),
        ("EDGEPASS_DELIVERY".to_owned(), "s3".to_owned()),
        (
            "EDGEPASS_DATA_DIR".to_owned(),
            dir.path().join("data").display().to_string(),
        ),
    ]);
    for (name, value) in &algorithm.settings {
        env.insert((*name).to_owned(), value.clone());
    }
    let config = Config::from_env(&env).expect("configuration");
    // At the start of a window, so that every case's URLs stay in one window.
    let clock = ManualClock::new(1_800_000_000);
    let app = Application::build_with_clock(config, Arc::new(clock.clone()))
        .await
        .expect("edgepass starts");
    Running {
        state: app.state().clone(),
        clock,
        _dir: dir,
    }
}

fn key(n: usize) -> ImageKey {
    ImageKey::from_stored(&format!("users/42/{n:032x}.png"))
}

fn path(n: usize) -> String {
    format!("/users/42/{n:032x}.png")
}

/// URLs per second over `urls` calls of `make` (which gets the call's number).
async fn rate<F, Fut>(urls: usize, mut make: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = String>,
{
    let started = Instant::now();
    for n in 0..urls {
        let url = make(n).await;
        assert!(
            url.contains("X-Amz-Signature=") || url.contains("Signature="),
            "a signed URL: {url}"
        );
    }
    urls as f64 / started.elapsed().max(Duration::from_nanos(1)).as_secs_f64()
}

async fn presign(s3: &PresignedGets, key: ImageKey, now: u64) -> String {
    s3.presign(&key, now, TTL_SECS).await.expect("presign").url
}

async fn measure(algorithm: &Algorithm, urls: usize) {
    let running = start(algorithm).await;
    let state = &running.state;
    let s3 = state.presigned_gets.as_deref().expect("S3 delivery");
    let now = running.clock.now();

    let before = s3.stats();
    // Keys past the cold case's, so that nothing here is in the memo yet.
    let s3_cold = rate(urls, |n| presign(s3, key(n), now)).await;
    let cold_stats = s3.stats();
    assert_eq!(
        cold_stats.misses - before.misses,
        urls as u64,
        "every cold URL presigned"
    );
    presign(s3, key(usize::MAX), now).await;
    let s3_hit = rate(urls, |_| presign(s3, key(usize::MAX), now)).await;
    assert_eq!(
        s3.stats().hits - cold_stats.hits,
        urls as u64,
        "every warm URL from the memo"
    );

    let cdn = &state.cdn;
    let memo = cdn.memo_stats();
    let cdn_cold = rate(urls, |n| async move {
        cdn.sign_object(&path(n), now, TTL_SECS).await.expect("sign").url
    })
    .await;
    assert_eq!(
        cdn.memo_stats().misses - memo.misses,
        urls as u64,
        "every cold URL signed"
    );
    let hit_memo = cdn.memo_stats();
    let cdn_hit = rate(urls, |_| async move {
        cdn.sign_object(&path(usize::MAX), now, TTL_SECS)
            .await
            .expect("sign")
            .url
    })
    .await;
    assert!(
        cdn.memo_stats().hits - hit_memo.hits >= urls as u64 - 1,
        "the warm URLs from the memo"
    );

    println!("{} (one task, URLs per second):", algorithm.label);
    for (case, per_second) in [
        ("S3 presigned GET, cold", s3_cold),
        ("S3 presigned GET, memo hit", s3_hit),
        ("CloudFront canned URL, cold", cdn_cold),
        ("CloudFront canned URL, memo hit", cdn_hit),
    ] {
        println!(
            "  {case:<32} {per_second:>12.0}/s   {:>7.2} × S3 cold",
            per_second / s3_cold
        );
    }
}

/// The steady gallery: one listing of [`PAGE`] URLs per second for `windows` windows.
async fn steady_hit_rate(windows: u64) {
    let running = start(&algorithms().remove(1)).await;
    let s3 = running.state.presigned_gets.as_deref().expect("S3 delivery");
    let before = s3.stats();
    for _ in 0..windows * WINDOW_SECS {
        let now = running.clock.now();
        for n in 0..PAGE {
            presign(s3, key(n), now).await;
        }
        running.clock.advance(1);
    }
    let stats = s3.stats();
    let (hits, misses) = (stats.hits - before.hits, stats.misses - before.misses);
    println!(
        "steady gallery, {PAGE} images listed every second for {windows} windows of {WINDOW_SECS} s: \
         {misses} presigned, {hits} from the memo, hit rate {:.2}%",
        100.0 * hits as f64 / (hits + misses) as f64
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let benching = std::env::args().any(|arg| arg == "--bench");
    let urls = if benching {
        std::env::var("EDGEPASS_BENCH_URLS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(20_000)
    } else {
        20
    };
    for algorithm in algorithms() {
        measure(&algorithm, urls).await;
    }
    steady_hit_rate(if benching { 3 } else { 1 }).await;
}
