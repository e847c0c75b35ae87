//! One edgepass process: the binary cargo built, started with `serve`, its log in a file.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::moto::free_port;

/// How long an instance may take to answer `/readyz` (migrations run at start).
const STARTUP: Duration = Duration::from_secs(60);

/// A running instance; dropping it kills the process.
pub(crate) struct Instance {
    /// Its number in the cluster.
    pub(crate) n: usize,
    /// Where its API listens.
    pub(crate) port: u16,
    /// Where its `/metrics` is served.
    pub(crate) metrics_port: u16,
    /// Its log (JSON lines).
    pub(crate) log: PathBuf,
    child: Option<Child>,
}

impl Instance {
    /// Starts instance `n` with `env` (every other `EDGEPASS_*` variable removed) and waits for
    /// `/readyz`. A port taken between picking and binding is retried with fresh ones.
    pub(crate) async fn start(n: usize, dir: &Path, env: &[(String, String)]) -> Self {
        for attempt in 0..3 {
            let (port, metrics_port) = (free_port(), free_port());
            let log = dir.join(format!("instance-{n}-{attempt}.log"));
            let file = File::create(&log).expect("instance log");
            let mut command = Command::new(binary());
            for (name, _) in std::env::vars() {
                if name.starts_with("EDGEPASS_") {
                    command.env_remove(name);
                }
            }
            let child = command
                .arg("serve")
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .env("EDGEPASS_LISTEN", format!("127.0.0.1:{port}"))
                .env("EDGEPASS_METRICS_LISTEN", format!("127.0.0.1:{metrics_port}"))
                .env("EDGEPASS_DATA_DIR", dir.join(format!("data-{n}")))
                .stdin(Stdio::null())
                .stdout(file.try_clone().expect("instance log"))
                .stderr(file)
                .spawn()
                .expect("start edgepass");
            let mut instance = Self {
                n,
                port,
                metrics_port,
                log,
                child: Some(child),
            };
            if instance.wait_ready().await {
                return instance;
            }
            let text = instance.log_text();
            assert!(
                text.contains("in use"),
                "instance {n} did not become ready:\n{text}"
            );
        }
        panic!("instance {n} found no free ports in three tries");
    }

    /// True once `/readyz` answers 200; false when the process exited first.
    async fn wait_ready(&mut self) -> bool {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && child.try_wait().expect("instance status").is_some()
            {
                return false;
            }
            let ready = client.get(self.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return true;
            }
            assert!(
                started.elapsed() < STARTUP,
                "instance {} not ready within {STARTUP:?}:\n{}",
                self.n,
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://127.0.0.1:{port}{path}` on this instance alone.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Its `/metrics` text.
    pub(crate) async fn metrics(&self) -> String {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/metrics", self.metrics_port))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// The sum of every series of counter `name` whose labels contain `labels`.
    pub(crate) async fn counter(&self, name: &str, labels: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(['{', ' ']) && rest.contains(labels))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Its resident memory (`VmRSS`) in KiB; 0 once it has exited.
    pub(crate) fn rss_kib(&self) -> u64 {
        let Some(child) = &self.child else { return 0 };
        std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmRSS:"))
                    .and_then(|value| value.split_whitespace().next()?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Kills the process at once (SIGKILL): whatever it was doing stops mid-way.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Its log so far.
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The edgepass binary: `EDGEPASS_CLUSTER_BINARY` (a release build, for load), or the one cargo built
/// beside these tests.
fn binary() -> PathBuf {
    std::env::var_os("EDGEPASS_CLUSTER_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_edgepass")))
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}
