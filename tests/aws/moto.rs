//! moto's server as a child process, one per test, so tests share no state and a guard can always stop it.

use std::fs::File;
use std::io::{Read, Seek};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_cloudfront::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudfront::types::{
    DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
};

/// CloudFront's managed "CachingOptimized" cache policy.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// How long moto may take to answer after it is started (it answers in about a second).
const STARTUP: Duration = Duration::from_secs(30);

/// A running `moto_server` on a loopback port; dropping it kills the process, also while a test unwinds.
pub(crate) struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    /// Starts moto on a free port and waits until it answers.
    pub(crate) async fn start() -> Self {
        Self::start_with(&[moto_server()]).await
    }

    /// Starts moto with the key-group calls it lacks (UpdateKeyGroup, NoSuchResource for unknown ids)
    /// added by `tests/aws/moto_key_groups.py`.
    pub(crate) async fn start_with_key_groups() -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/aws/moto_key_groups.py");
        let python = moto_server().with_file_name("python");
        Self::start_with(&[python, script]).await
    }

    /// Starts moto with the key-group calls above and the origin access control of an origin, which
    /// moto drops, added by `tests/aws/moto_cloudfront.py`.
    pub(crate) async fn start_with_cloudfront_additions() -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/aws/moto_cloudfront.py");
        let python = moto_server().with_file_name("python");
        Self::start_with(&[python, script]).await
    }

    /// Starts `command` (a program and its first arguments) with moto_server's arguments.
    async fn start_with(command: &[PathBuf]) -> Self {
        // A free port can be taken by someone else before moto binds it; a fresh one is tried then.
        for _ in 0..3 {
            if let Some(moto) = Self::start_on(command, free_port()).await {
                return moto;
            }
        }
        panic!("moto_server could not bind a free port in three tries");
    }

    /// `http://127.0.0.1:{port}`.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A CloudFront client of moto's, built as `src/aws/cloudfront/mod.rs` builds edgepass's own.
    pub(crate) fn cloudfront(&self) -> aws_sdk_cloudfront::Client {
        let config = aws_sdk_cloudfront::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .region(Region::new("us-east-1"))
            .http_client(edgepass::aws::http_client())
            .endpoint_url(self.endpoint())
            .build();
        aws_sdk_cloudfront::Client::from_conf(config)
    }

    /// Creates a distribution with one S3 origin at `origin_domain` the way `infra/` would in AWS
    /// (edgepass itself never creates one) and returns its id.
    pub(crate) async fn create_distribution(&self, origin_domain: &str) -> String {
        let origin = Origin::builder()
            .id("images")
            .domain_name(origin_domain)
            .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
            .build()
            .expect("origin");
        let distribution = DistributionConfig::builder()
            .caller_reference("edgepass-tests")
            .comment("edgepass tests")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(1)
                    .items(origin)
                    .build()
                    .expect("origins"),
            )
            .default_cache_behavior(
                DefaultCacheBehavior::builder()
                    .target_origin_id("images")
                    .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
                    .cache_policy_id(CACHING_OPTIMIZED)
                    .build()
                    .expect("cache behavior"),
            )
            .build()
            .expect("distribution config");
        let created = self
            .cloudfront()
            .create_distribution()
            .distribution_config(distribution)
            .send()
            .await
            .expect("CreateDistribution");
        created.distribution().expect("distribution").id().to_owned()
    }

    /// `None` when the port turned out to be taken.
    async fn start_on(command: &[PathBuf], port: u16) -> Option<Self> {
        let program = &command[0];
        // moto logs every request; a file, unlike a pipe nobody reads, never fills up and blocks it.
        let mut log = tempfile::tempfile().expect("log file for moto_server");
        let child = Command::new(program)
            .args(&command[1..])
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.try_clone().expect("log file for moto_server"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let mut moto = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("HTTP client");
        let started = Instant::now();
        loop {
            if let Some(status) = moto.child.try_wait().expect("moto_server status") {
                let output = read_log(&mut log);
                if output.contains("Address already in use") {
                    return None;
                }
                panic!("moto_server exited with {status} before answering:\n{output}");
            }
            let answer = probe.get(format!("{}/moto-api/", moto.endpoint)).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return Some(moto);
            }
            assert!(
                started.elapsed() < STARTUP,
                "moto_server did not answer on port {port} within {STARTUP:?}:\n{}",
                read_log(&mut log)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // kill fails only when moto has exited already; wait reaps it either way.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `moto_server` in the tools folder (`EDGEPASS_TOOLS`, or `.tools` in the repository).
fn moto_server() -> PathBuf {
    let tools = std::env::var_os("EDGEPASS_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools"));
    let program = tools.join("moto/bin/moto_server");
    assert!(
        program.exists(),
        "{} is missing: run scripts/setup (scripts/test does) to install moto",
        program.display()
    );
    program
}

/// A loopback port nothing listens on at the moment of the call.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn read_log(log: &mut File) -> String {
    let mut text = String::new();
    let _ = log.rewind().and_then(|()| log.read_to_string(&mut text));
    text
}
