//! edgepass as its own process, the way it runs in production: the built binary, `edgepass serve`, its
//! log read from its output. For tests about what the service writes to its log, which must see every
//! line whatever task or thread wrote it, through the same logging set-up the binary uses.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the binary may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long it may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `edgepass serve` on free loopback ports, with a fresh data folder; killed when dropped.
pub(crate) struct ServiceProcess {
    child: Child,
    log: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    /// The API's address.
    pub(crate) api: SocketAddr,
    /// The metrics listener's address, unless `EDGEPASS_METRICS_LISTEN=off`.
    pub(crate) metrics: Option<SocketAddr>,
    _dir: tempfile::TempDir,
}

/// Appends everything `source` writes to `log`, line by line.
fn collect(source: impl Read + Send + 'static, log: Arc<Mutex<String>>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut lines = BufReader::new(source);
        let mut line = Vec::new();
        while lines.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
            log.lock()
                .expect("log buffer")
                .push_str(&String::from_utf8_lossy(&line));
            line.clear();
        }
    })
}

/// `text` without terminal escape sequences (`ESC [ … letter`), so that colored field names do not hide
/// what follows them.
pub(crate) fn without_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// The loopback address named on the first log line holding `message`, if it has been written.
fn announced_address(log: &str, message: &str) -> Option<SocketAddr> {
    let line = log.lines().find(|line| line.contains(message))?;
    let start = line.find("127.0.0.1:")?;
    let address: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
        .collect();
    address.parse().ok()
}

impl ServiceProcess {
    /// Starts the binary in local mode with these `EDGEPASS_*` settings on top of free loopback ports and
    /// a fresh data folder; the caller's own `EDGEPASS_*` variables are not passed on.
    pub(crate) async fn start(settings: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary data folder");
        let mut env = BTreeMap::from([
            ("EDGEPASS_LISTEN", "127.0.0.1:0".to_owned()),
            ("EDGEPASS_EDGE_LISTEN", "127.0.0.1:0".to_owned()),
            ("EDGEPASS_METRICS_LISTEN", "127.0.0.1:0".to_owned()),
            (
                "EDGEPASS_DATA_DIR",
                dir.path().join("data").to_str().expect("utf-8 path").to_owned(),
            ),
        ]);
        for (name, value) in settings {
            env.insert(name, (*value).to_owned());
        }
        let metrics_off = env["EDGEPASS_METRICS_LISTEN"].eq_ignore_ascii_case("off");
        let mut command = Command::new(env!("CARGO_BIN_EXE_edgepass"));
        command
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("RUST_LOG");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("EDGEPASS_") {
                command.env_remove(name);
            }
        }
        command.envs(env);
        let mut child = command.spawn().expect("start the edgepass binary");
        let log = Arc::new(Mutex::new(String::new()));
        let readers = vec![
            collect(child.stdout.take().expect("stdout"), Arc::clone(&log)),
            collect(child.stderr.take().expect("stderr"), Arc::clone(&log)),
        ];
        let started = Instant::now();
        loop {
            let text = without_ansi(&log.lock().expect("log buffer"));
            let api = announced_address(&text, "edgepass listening");
            let metrics = announced_address(&text, "metrics listening");
            if let Some(api) = api
                && (metrics.is_some() || metrics_off)
            {
                return Self {
                    child,
                    log,
                    readers,
                    api,
                    metrics,
                    _dir: dir,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("edgepass exited ({status}) before listening:\n{text}");
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "edgepass did not listen within {START_TIMEOUT:?}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `http://{api}{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    /// `http://{metrics listener}{path}`.
    pub(crate) fn metrics_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.metrics.expect("metrics are served"))
    }

    /// Everything the process has written so far, without terminal escapes.
    pub(crate) fn log(&self) -> String {
        without_ansi(&self.log.lock().expect("log buffer"))
    }

    /// Stops the process with SIGTERM, as a service manager would, and returns its whole output.
    pub(crate) async fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let signalled = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(signalled.success(), "SIGTERM to {pid}");
        let started = Instant::now();
        while self.child.try_wait().expect("wait for edgepass").is_none() {
            assert!(
                started.elapsed() < STOP_TIMEOUT,
                "edgepass did not stop within {STOP_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for reader in self.readers.drain(..) {
            reader.join().expect("log reader");
        }
        self.log()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
