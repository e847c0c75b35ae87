//! haproxy in front of the instances: round-robin, health-checked on `/readyz`, with its statistics
//! page on a port of its own to tell which instances it sees up.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::moto::free_port;

/// How long haproxy may take to see every instance up.
const UP_WITHIN: Duration = Duration::from_secs(30);

/// haproxy's process and ports; dropping it stops the process.
pub(crate) struct Haproxy {
    port: u16,
    stats_port: u16,
    child: Option<Child>,
    log: std::path::PathBuf,
}

impl Haproxy {
    /// Picks the ports, so instances can be told the public URL before haproxy starts.
    pub(crate) fn reserve() -> Self {
        Self {
            port: free_port(),
            stats_port: free_port(),
            child: None,
            log: std::path::PathBuf::new(),
        }
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Starts haproxy in the foreground with a configuration written into `dir`.
    pub(crate) async fn start(&mut self, dir: &Path, backends: &[u16]) {
        let config = dir.join("haproxy.cfg");
        let unavailable = dir.join("503.http");
        // The balancer's own 503 (no instance up) keeps the API's promise of a JSON error body.
        std::fs::write(
            &unavailable,
            "HTTP/1.1 503 Service Unavailable\r\nCache-Control: no-store\r\nContent-Type: application/json\r\n\
             Content-Length: 56\r\nConnection: close\r\n\r\n\
             {\"error\":\"unavailable\",\"message\":\"service unavailable\"}\n",
        )
        .expect("write 503.http");
        std::fs::write(&config, self.config(backends, &unavailable)).expect("write haproxy.cfg");
        self.log = dir.join("haproxy.log");
        let log = std::fs::File::create(&self.log).expect("haproxy log");
        let child = Command::new(haproxy())
            .args(["-db", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("haproxy log"))
            .stderr(log)
            .spawn()
            .expect("start haproxy (scripts/setup haproxy installs it)");
        self.child = Some(child);
    }

    /// Stops haproxy and starts it again with `backends`.
    pub(crate) async fn restart(&mut self, dir: &Path, backends: &[u16]) {
        self.stop();
        self.start(dir, backends).await;
    }

    fn config(&self, backends: &[u16], unavailable: &Path) -> String {
        // Health checks every 200 ms, down after 2 failures: a killed instance leaves within about
        // half a second. A request whose connection is refused is sent to another instance.
        let mut config = format!(
            "global\n  maxconn 4000\n\
             defaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  \
             option forwardfor\n  option redispatch\n  retries 2\n  errorfile 503 {}\n\
             frontend api\n  bind 127.0.0.1:{}\n  default_backend edgepass\n\
             backend edgepass\n  balance roundrobin\n  option httpchk GET /readyz\n  \
             default-server inter 200ms fall 2 rise 1\n",
            unavailable.display(),
            self.port
        );
        for (n, port) in backends.iter().enumerate() {
            let _ = writeln!(config, "  server e{n} 127.0.0.1:{port} check");
        }
        let _ = write!(
            config,
            "listen stats\n  bind 127.0.0.1:{}\n  stats enable\n  stats uri /stats\n",
            self.stats_port
        );
        config
    }

    /// How many instances haproxy sees up now (0 while haproxy itself is not answering).
    pub(crate) async fn up(&self) -> usize {
        let Ok(reply) = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/stats;csv", self.stats_port))
            .timeout(Duration::from_secs(2))
            .send()
            .await
        else {
            return 0;
        };
        let text = reply.text().await.unwrap_or_default();
        // Columns: pxname, svname, …, status (the 18th).
        text.lines()
            .filter(|line| line.starts_with("edgepass,e"))
            .filter(|line| line.split(',').nth(17) == Some("UP"))
            .count()
    }

    /// Waits until haproxy sees `count` instances up.
    pub(crate) async fn wait_until_up(&mut self, count: usize) {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                assert!(
                    child.try_wait().expect("haproxy status").is_none(),
                    "haproxy exited:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            if self.up().await == count {
                return;
            }
            assert!(
                started.elapsed() < UP_WITHIN,
                "haproxy saw {} of {count} instances up after {UP_WITHIN:?}",
                self.up().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        self.stop();
    }
}

/// haproxy on PATH, or Debian's.
fn haproxy() -> &'static str {
    if Path::new("/usr/sbin/haproxy").exists() {
        "/usr/sbin/haproxy"
    } else {
        "haproxy"
    }
}
