//! Load through the balancer, with faults: the figures `scripts/cluster` reports. Not part of
//! `scripts/test` (they take minutes and want a release build); `scripts/cluster` runs them.

use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Cluster, PASSWORD};

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
    line: String,
}

impl Run {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// A session cookie value for a fresh account, made through the balancer.
async fn session(cluster: &Cluster) -> String {
    let reply = reqwest::Client::new()
        .post(cluster.url("/api/auth/register"))
        .json(&json!({ "email": "load@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("register");
    assert_eq!(reply.status(), StatusCode::CREATED);
    reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("edgepass_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// Runs wrk against `url` (`POST /api/cdn/cookies`) for `secs`, in a blocking thread.
async fn wrk(url: String, session: &str, secs: u64) -> Run {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/load/cdn_cookies.lua");
    let session = session.to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("wrk")
            .args(["-t", "2", "-c", "32", "--timeout", "5s"])
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
        line,
    }
}

#[tokio::test]
#[ignore = "load: scripts/cluster runs it"]
async fn load_killing_an_instance_fails_only_its_requests_in_flight() {
    let mut cluster = Cluster::start(&[]).await;
    let session = session(&cluster).await;
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

    let under_fire = {
        let run = wrk(url.clone(), &session, secs);
        let kill = async {
            tokio::time::sleep(Duration::from_secs(secs) / 3).await;
            cluster.instances[0].kill();
        };
        let (run, ()) = tokio::join!(run, kill);
        run
    };
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

    assert_eq!(steady.failed, 0, "{}", steady.line);
    assert!(
        under_fire.failed <= 32,
        "more failures ({}) than requests in flight (32 connections)",
        under_fire.failed
    );
    assert_eq!(after.failed, 0, "{}", after.line);
    assert_eq!(after.ok, after.requests);
}
