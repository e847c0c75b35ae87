//! Load through the balancer, with faults: the figures `scripts/cluster` reports. Not part of
//! `scripts/test` (they take minutes and want a release build); `scripts/cluster` runs them.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;

use crate::harness::{Cluster, session_cookie};
use crate::soak::Mix;

/// How long each wrk run lasts (`EDGEPASS_CLUSTER_LOAD_SECS`, default 10).
fn load_secs() -> u64 {
    std::env::var("EDGEPASS_CLUSTER_LOAD_SECS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .filter(|&s| s > 0)
        .unwrap_or(10)
}

/// What one wrk run counted (bench/load/cdn_cookies.lua's result line).
#[derive(Debug)]
struct Run {
    requests: u64,
    seconds: f64,
    p99_ms: f64,
    ok: u64,
    failed: u64,
    /// Answers other than 200, `status:count,…`, or `-`.
    statuses: String,
    /// Requests wrk gave up on after its 8-second timeout.
    timeouts: u64,
    /// Answers other than 200.
    bad_status: u64,
    line: String,
}

impl Run {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Runs wrk against `url` (`POST /api/cdn/cookies`) for `secs`, in a blocking thread.
async fn wrk(url: String, session: &str, secs: u64) -> Run {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/load/cdn_cookies.lua");
    let session = session.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("wrk")
            .args(["-t", "2", "-c", "32", "--timeout", "8s"])
            .arg(format!("-d{secs}s"))
            .args(["-s", script, &url, "--", "cookies", &session])
            .output()
            .expect("wrk (scripts/setup wrk installs it)")
    })
    .await
    .expect("wrk thread");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("edgepass-load "))
        .unwrap_or_else(|| panic!("wrk printed no result:\n{text}"))
        .to_owned();
    let field = |name: &str| -> u64 {
        line.split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    let failed = [
        "bad_status",
        "no_cookie",
        "connect_errors",
        "read_errors",
        "write_errors",
        "timeouts",
    ]
    .iter()
    .map(|name| field(name))
    .sum();
    Run {
        requests: field("requests"),
        seconds: field("duration_us") as f64 / 1e6,
        p99_ms: field("p99_us") as f64 / 1e3,
        ok: field("ok"),
        failed,
        statuses: line
            .split(' ')
            .find_map(|kv| kv.strip_prefix("statuses="))
            .unwrap_or("-")
            .to_owned(),
        timeouts: field("timeouts"),
        bad_status: field("bad_status"),
        line,
    }
}

#[tokio::test]
#[ignore = "load: scripts/cluster runs it"]
async fn load_killing_an_instance_fails_only_its_requests_in_flight() {
    let mut cluster = Cluster::start(&[]).await;
    let session = session_cookie(&cluster.url(""), "load@example.com").await;
    let secs = load_secs();
    let instances = cluster.instances.len();
    let url = cluster.url("/api/cdn/cookies");

    let steady = wrk(url.clone(), &session, secs).await;
    println!(
        "steady, {instances} instances: {:.0} req/s, p99 {:.2} ms, {} failed of {}",
        steady.rate(),
        steady.p99_ms,
        steady.failed,
        steady.requests
    );

    // Uploads, deletions and the rest of the mix run beside wrk, so that the kill can cut them short.
    let base = cluster.url("");
    let mix = Mix::prepare(&base).await;
    let under_fire = {
        let run = wrk(url.clone(), &session, secs);
        let mixed = mix.drive(&base, secs, Some(100.0));
        let kill = async {
            tokio::time::sleep(Duration::from_secs(secs) / 3).await;
            cluster.instances[0].kill();
        };
        let (run, _, ()) = tokio::join!(run, mixed, kill);
        run
    };
    let (mixed_requests, mixed_failed) = mix.counts();
    println!(
        "instance 0 SIGKILLed {} s into the run: {:.0} req/s, p99 {:.2} ms, {} failed of {} ({})",
        secs / 3,
        under_fire.rate(),
        under_fire.p99_ms,
        under_fire.failed,
        under_fire.requests,
        under_fire.line
    );
    cluster.wait_until_up(instances - 1).await;
    let after = wrk(url.clone(), &session, secs).await;
    println!(
        "after haproxy marked it down: {:.0} req/s, p99 {:.2} ms, {} failed of {}",
        after.rate(),
        after.p99_ms,
        after.failed,
        after.requests
    );

    let problems = cluster.inconsistencies().await;
    println!(
        "the mix beside it: {mixed_failed} failed of {mixed_requests} requests; rows and objects: {} disagreements",
        problems.len()
    );

    assert_eq!(steady.failed, 0, "{}", steady.line);
    assert!(
        mixed_failed <= 64,
        "the mix lost more than its requests in flight: {:#?}",
        mix.first_errors().await
    );
    assert!(problems.is_empty(), "rows and objects disagree: {problems:#?}");
    assert!(
        under_fire.failed <= 32,
        "more failures ({}) than requests in flight (32 connections)",
        under_fire.failed
    );
    assert_eq!(after.failed, 0, "{}", after.line);
    assert_eq!(after.ok, after.requests);
}

/// One answer seen by the probe during a fault: its status, whether its body was the JSON error, and
/// how long it took.
#[derive(Debug)]
struct Probed {
    status: Option<StatusCode>,
    json_error: bool,
    took: Duration,
}

/// Asks `POST /api/cdn/cookies` through the balancer every 50 ms until `stop` is set.
async fn probe(url: String, session: String, stop: &std::sync::atomic::AtomicBool) -> Vec<Probed> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut seen = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let started = std::time::Instant::now();
        let answer = client
            .post(&url)
            .header("cookie", format!("edgepass_session={session}"))
            .send()
            .await;
        let (status, json_error) = match answer {
            Ok(reply) => {
                let status = reply.status();
                let body: serde_json::Value = reply.json().await.unwrap_or_default();
                (
                    Some(status),
                    body["error"].is_string() && body["message"].is_string(),
                )
            }
            Err(_) => (None, false),
        };
        seen.push(Probed {
            status,
            json_error,
            took: started.elapsed(),
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    seen
}

/// Restarts the PostgreSQL server every instance uses, in the middle of a load run. Needs
/// `EDGEPASS_CLUSTER_POSTGRES_RESTART`, a shell command that restarts it (`scripts/cluster` sets it for
/// this machine's cluster); without one, it says so and checks nothing.
#[tokio::test]
#[ignore = "load: scripts/cluster runs it"]
async fn load_a_postgresql_restart_answers_503_json_in_the_gap_and_the_instances_recover() {
    let Some(restart) = std::env::var("EDGEPASS_CLUSTER_POSTGRES_RESTART")
        .ok()
        .filter(|c| !c.trim().is_empty())
    else {
        println!("not run: EDGEPASS_CLUSTER_POSTGRES_RESTART names no command that restarts PostgreSQL");
        return;
    };
    let mut cluster = Cluster::start(&[]).await;
    let session = session_cookie(&cluster.url(""), "load@example.com").await;
    let secs = load_secs().max(9);
    let url = cluster.url("/api/cdn/cookies");
    let stop = std::sync::atomic::AtomicBool::new(false);

    let run = wrk(url.clone(), &session, secs);
    let probed = probe(url.clone(), session.clone(), &stop);
    let fault = async {
        tokio::time::sleep(Duration::from_secs(secs) / 3).await;
        let began = std::time::Instant::now();
        let status = tokio::task::spawn_blocking(move || Command::new("sh").args(["-c", &restart]).status())
            .await
            .expect("restart thread")
            .expect("run the restart command");
        assert!(status.success(), "the restart command failed: {status}");
        let took = began.elapsed();
        tokio::time::sleep(Duration::from_secs(secs) / 3).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        took
    };
    let (run, probed, restart_took) = tokio::join!(run, probed, fault);
    let refused: Vec<&Probed> = probed
        .iter()
        .filter(|p| p.status != Some(StatusCode::OK))
        .collect();
    let slowest = probed.iter().map(|p| p.took).max().unwrap_or_default();
    println!(
        "PostgreSQL restarted {} s into the run (the restart took {restart_took:.1?}): {:.0} req/s, {} of {} \
         not 200 ({}), {} timeouts; the probe saw {} of {} refused, slowest answer {slowest:.1?}",
        secs / 3,
        run.rate(),
        run.failed,
        run.requests,
        run.statuses,
        run.timeouts,
        refused.len(),
        probed.len()
    );

    assert_eq!(run.timeouts, 0, "no request hangs: {}", run.line);
    assert_eq!(
        run.failed - run.bad_status,
        0,
        "every request got an answer: {}",
        run.line
    );
    assert!(
        run.statuses == "-" || run.statuses.split(',').all(|s| s.starts_with("503:")),
        "only 503s in the gap: {}",
        run.line
    );
    for answer in &refused {
        assert_eq!(answer.status, Some(StatusCode::SERVICE_UNAVAILABLE), "{answer:?}");
        assert!(answer.json_error, "a JSON error body: {answer:?}");
    }
    assert!(slowest < Duration::from_secs(8), "slowest answer {slowest:?}");

    // The same instances, never restarted, serve again.
    cluster.wait_until_up(cluster.instances.len()).await;
    let after = wrk(url, &session, 5).await;
    println!(
        "after the restart: {:.0} req/s, {} failed of {}",
        after.rate(),
        after.failed,
        after.requests
    );
    assert_eq!(after.failed, 0, "{}", after.line);
}
