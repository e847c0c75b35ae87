//! edgepass signing with a key held in moto's KMS, end to end: cookie sets and signed URLs made
//! through KMS open images at the local edge; the memo keeps KMS calls to one per policy per window;
//! an unsuitable key stops start-up; a KMS that throttles gives 503 JSON in bounded time.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_kms::types::{KeySpec, KeyUsageType};
use edgepass::app::{AppState, Application, StartupError};
use edgepass::aws::kms::{KmsError, SignOutcome};
use edgepass::clock::{Clock, ManualClock};
use edgepass::config::Config;
use edgepass::signing::{Policy, encoding};
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

use crate::kms::create_key;
use crate::moto::Moto;

const KEY_PAIR_ID: &str = "K2KMSEXAMPLE01";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89";
const PASSWORD: &str = "correct horse battery staple";

/// edgepass in local mode, signing with the KMS key `key_id` behind `kms_endpoint`.
struct Service {
    state: AppState,
    clock: ManualClock,
    base: String,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn settings(kms_endpoint: &str, key_id: &str, dir: &tempfile::TempDir) -> BTreeMap<String, String> {
    BTreeMap::from(
        [
            ("EDGEPASS_LISTEN", "127.0.0.1:0"),
            ("EDGEPASS_EDGE_LISTEN", "127.0.0.1:0"),
            ("EDGEPASS_METRICS_LISTEN", "off"),
            ("EDGEPASS_CDN_SIGN_AHEAD_GRANTS", "0"),
            ("EDGEPASS_CDN_KMS_KEY_ID", key_id),
            ("EDGEPASS_CDN_KEY_PAIR_ID", KEY_PAIR_ID),
            ("EDGEPASS_KMS_ENDPOINT_URL", kms_endpoint),
            ("EDGEPASS_AWS_ACCESS_KEY_ID", "testing"),
            ("EDGEPASS_AWS_SECRET_ACCESS_KEY", "testing"),
            (
                "EDGEPASS_DATA_DIR",
                dir.path().join("data").to_str().expect("path"),
            ),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
}

async fn build(kms_endpoint: &str, key_id: &str) -> Result<Service, StartupError> {
    let dir = tempfile::tempdir().expect("folder");
    let config = Config::from_env(&settings(kms_endpoint, key_id, &dir)).expect("config");
    // The real time: the embedded store checks upload URLs against it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let clock = ManualClock::new(now);
    let app = Application::build_with_clock(config, Arc::new(clock.clone())).await?;
    let state = app.state().clone();
    let base = format!("http://127.0.0.1:{}", app.port());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    Ok(Service {
        state,
        clock,
        base,
        stop: Some(stop),
        _dir: dir,
    })
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .no_proxy()
        .build()
        .expect("client")
}

async fn json_of(request: reqwest::RequestBuilder, status: StatusCode) -> Value {
    let reply = request.send().await.expect("answer");
    let got = reply.status();
    let body = reply.text().await.expect("body");
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

impl Service {
    fn kms_calls(&self, outcome: &'static str) -> u64 {
        self.state
            .cdn
            .kms_metrics()
            .expect("a KMS key signs")
            .calls
            .get_or_create(&SignOutcome { outcome })
            .get()
    }

    async fn register(&self, email: &str) -> (reqwest::Client, reqwest::Response) {
        let client = browser();
        let reply = client
            .post(format!("{}/api/auth/register", self.base))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("register");
        assert_eq!(reply.status(), StatusCode::CREATED);
        (client, reply)
    }

    /// Alice uploads `images` images and shares each with Bob: Bob's browser and the ids.
    async fn shared_with_bob(&self, images: usize) -> (reqwest::Client, Vec<String>) {
        let (alice, _) = self.register("alice@example.com").await;
        let (bob, _) = self.register("bob@example.com").await;
        let mut ids = Vec::with_capacity(images);
        for _ in 0..images {
            let id = self.upload(&alice).await["id"].as_str().expect("id").to_owned();
            json_of(
                alice.put(format!("{}/api/images/{id}/shares/bob@example.com", self.base)),
                StatusCode::OK,
            )
            .await;
            ids.push(id);
        }
        (bob, ids)
    }

    async fn upload(&self, client: &reqwest::Client) -> Value {
        let ticket = json_of(
            client.post(format!("{}/api/images", self.base)).json(&json!({
                "content_type": "image/png", "byte_size": PNG.len(), "name": "a.png"
            })),
            StatusCode::CREATED,
        )
        .await;
        let put = reqwest::Client::new()
            .put(ticket["upload_url"].as_str().expect("upload URL"))
            .header("content-type", "image/png")
            .body(PNG)
            .send()
            .await
            .expect("PUT");
        assert_eq!(put.status(), StatusCode::OK);
        let id = ticket["id"].as_str().expect("id");
        json_of(
            client.post(format!("{}/api/images/{id}/complete", self.base)),
            StatusCode::OK,
        )
        .await
    }
}

#[tokio::test]
async fn cookies_and_urls_signed_through_kms_open_images_at_the_local_edge_with_both_key_kinds() {
    let moto = Moto::start().await;
    for spec in [KeySpec::EccNistP256, KeySpec::Rsa2048] {
        let key_id = create_key(&moto, spec.clone(), KeyUsageType::SignVerify).await;
        let service = build(moto.endpoint(), &key_id)
            .await
            .unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        assert!(service.state.cdn.signs_remotely());

        let (alice, registered) = service.register("alice@example.com").await;
        let set_cookies: Vec<String> = registered
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect();
        assert!(
            set_cookies
                .iter()
                .any(|c| c.starts_with("CloudFront-Hash-Algorithm=SHA256;")),
            "{spec:?}: {set_cookies:?}"
        );
        assert!(
            set_cookies
                .iter()
                .any(|c| c.starts_with(&format!("CloudFront-Key-Pair-Id={KEY_PAIR_ID};")))
        );
        assert_eq!(
            service.kms_calls("signed"),
            1,
            "{spec:?}: one call for the cookie set"
        );

        let image = service.upload(&alice).await;
        let url = image["url"].as_str().expect("plain URL");
        let loaded = alice.get(url).send().await.expect("GET");
        assert_eq!(
            loaded.status(),
            StatusCode::OK,
            "{spec:?}: the edge verifies the KMS signature"
        );
        assert_eq!(loaded.bytes().await.expect("body").as_ref(), PNG);
        assert_eq!(
            reqwest::Client::new()
                .get(url)
                .send()
                .await
                .expect("GET")
                .status(),
            StatusCode::FORBIDDEN,
            "{spec:?}: not without the cookies"
        );

        // Minting again within the window: the memo answers, KMS is not called.
        json_of(
            alice.post(format!("{}/api/cdn/cookies", service.base)),
            StatusCode::OK,
        )
        .await;
        assert_eq!(service.kms_calls("signed"), 1, "{spec:?}");

        let (bob, _) = service.register("bob@example.com").await;
        let id = image["id"].as_str().expect("id");
        json_of(
            alice.put(format!("{}/api/images/{id}/shares/bob@example.com", service.base)),
            StatusCode::OK,
        )
        .await;
        let urls = json_of(
            bob.post(format!("{}/api/urls", service.base))
                .json(&json!({ "ids": [id] })),
            StatusCode::OK,
        )
        .await;
        let signed = urls["urls"][id].as_str().expect("signed URL");
        assert!(
            signed.contains("Hash-Algorithm=SHA256")
                && signed.contains(&format!("Key-Pair-Id={KEY_PAIR_ID}")),
            "{signed}"
        );
        let stranger = reqwest::Client::new();
        assert_eq!(
            stranger.get(signed).send().await.expect("GET").status(),
            StatusCode::OK
        );
        let tampered = signed.replace("Signature=", "Signature=A");
        assert_eq!(
            stranger.get(&tampered).send().await.expect("GET").status(),
            StatusCode::FORBIDDEN
        );
        // Alice's, Bob's cookie sets and one URL.
        assert_eq!(service.kms_calls("signed"), 3, "{spec:?}");

        // Python's `cryptography` checks the cookie set's and the URL's signatures with the public key
        // KMS gives, and refuses them for another message.
        let cookie = |name: &str| {
            set_cookies
                .iter()
                .find_map(|c| c.strip_prefix(&format!("{name}=")))
                .and_then(|c| c.split(';').next())
                .expect(name)
                .to_owned()
        };
        let policy = String::from_utf8(encoding::decode(&cookie("CloudFront-Policy")).expect("policy"))
            .expect("UTF-8");
        let query: BTreeMap<&str, &str> = signed
            .split_once('?')
            .expect("query")
            .1
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        let expires: u64 = query["Expires"].parse().expect("canned");
        let resource = signed.split_once('?').expect("query").0;
        let canned = Policy::new(resource, expires).expect("policy").to_json();
        let checked = python_verifies(
            &moto,
            &key_id,
            &[
                ("cookies", &policy, &cookie("CloudFront-Signature")),
                ("url", &canned, query["Signature"]),
                (
                    "bad-cookies",
                    &format!("{policy} "),
                    &cookie("CloudFront-Signature"),
                ),
                (
                    "bad-url",
                    &Policy::new(resource, expires + 1).expect("policy").to_json(),
                    query["Signature"],
                ),
            ],
        )
        .await;
        assert_eq!(
            checked,
            [
                ("cookies", true),
                ("url", true),
                ("bad-cookies", false),
                ("bad-url", false)
            ]
            .map(|(id, ok)| (id.to_owned(), ok)),
            "{spec:?}"
        );
    }
}

/// Asks `tests/reference/verify_ecdsa.py` (Python `cryptography`) whether each (id, message,
/// CloudFront-base64 signature) verifies under SHA-256 with the public key of `key_id` in moto's KMS.
async fn python_verifies(moto: &Moto, key_id: &str, items: &[(&str, &str, &str)]) -> Vec<(String, bool)> {
    use base64::Engine;

    let kms = crate::kms::kms_client(moto).await;
    let public = kms
        .get_public_key()
        .key_id(key_id)
        .send()
        .await
        .expect("GetPublicKey");
    let der = base64::engine::general_purpose::STANDARD.encode(public.public_key().expect("DER").as_ref());
    let dir = tempfile::tempdir().expect("folder");
    let pem_file = dir.path().join("kms-public.pem");
    std::fs::write(
        &pem_file,
        format!("-----BEGIN PUBLIC KEY-----\n{der}\n-----END PUBLIC KEY-----\n"),
    )
    .expect("write");
    let input: Vec<Value> = items
        .iter()
        .map(|(id, message, signature)| {
            json!({"id": id, "message": message, "signature": signature, "hash": "SHA256", "public_key_file": pem_file})
        })
        .collect();
    let items_file = dir.path().join("items.json");
    std::fs::write(&items_file, serde_json::to_vec(&input).expect("JSON")).expect("write");
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tools =
        std::env::var_os("EDGEPASS_TOOLS").map_or_else(|| root.join(".tools"), std::path::PathBuf::from);
    let output = std::process::Command::new(tools.join("venv/bin/python"))
        .arg(root.join("tests/reference/verify_ecdsa.py"))
        .arg(&items_file)
        .output()
        .expect("Python runs (scripts/setup installs it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).expect("JSON results");
    results
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["ok"].as_bool().expect("ok"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_page_of_urls_across_a_window_change_calls_kms_once_per_url_and_not_again_within_it() {
    let moto = Moto::start().await;
    let key_id = create_key(&moto, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let service = build(moto.endpoint(), &key_id).await.expect("starts");
    let (bob, ids) = service.shared_with_bob(12).await;
    let batch = || async {
        json_of(
            bob.post(format!("{}/api/urls", service.base))
                .json(&json!({ "ids": ids })),
            StatusCode::OK,
        )
        .await
    };
    let before = service.kms_calls("signed");
    let first = batch().await;
    assert_eq!(service.kms_calls("signed") - before, 12, "one call per URL");
    assert_eq!(batch().await, first, "the same URLs within the window");
    assert_eq!(service.kms_calls("signed") - before, 12, "and no call");
    service.clock.advance(300);
    let next = batch().await;
    assert_ne!(next, first);
    assert_eq!(
        service.kms_calls("signed") - before,
        24,
        "once more per URL in the next window"
    );
    let _ = service.clock.now();
}

#[tokio::test]
async fn a_key_cloudfront_cannot_use_stops_start_up_with_the_variable_and_the_reason() {
    let moto = Moto::start().await;
    let encryption = create_key(&moto, KeySpec::SymmetricDefault, KeyUsageType::EncryptDecrypt).await;
    let refused = build(moto.endpoint(), &encryption).await.err().expect("refused");
    assert!(refused.is_configuration(), "{refused:?}");
    let message = refused.to_string();
    assert!(
        message.starts_with("EDGEPASS_CDN_KMS_KEY_ID:") && message.contains("SIGN_VERIFY"),
        "{message}"
    );
    let missing = build(moto.endpoint(), "alias/no-such-key")
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(missing, StartupError::Kms(KmsError::Refused { .. })),
        "{missing:?}"
    );
}

/// A KMS endpoint in front of moto that answers `Sign` with `ThrottlingException` while `throttle` is
/// set, and passes everything else on; counts the throttled calls.
async fn throttling_proxy(moto: &str) -> (String, Arc<AtomicBool>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let throttle = Arc::new(AtomicBool::new(false));
    let throttled = Arc::new(AtomicUsize::new(0));
    let (on, count, moto) = (Arc::clone(&throttle), Arc::clone(&throttled), moto.to_owned());
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let (on, count, moto, client) =
                (Arc::clone(&on), Arc::clone(&count), moto.clone(), client.clone());
            tokio::spawn(async move {
                let Some((head, body)) = read_request(&mut stream).await else {
                    return;
                };
                let headers: Vec<(String, String)> = head
                    .lines()
                    .skip(1)
                    .filter_map(|line| line.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    .collect();
                let target = headers
                    .iter()
                    .find(|(k, _)| k == "x-amz-target")
                    .map(|(_, v)| v.as_str());
                let (status, reply) = if on.load(Ordering::SeqCst) && target == Some("TrentService.Sign") {
                    count.fetch_add(1, Ordering::SeqCst);
                    (
                        400,
                        r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_owned(),
                    )
                } else {
                    let mut forward = client.post(format!("{moto}/")).body(body);
                    for (name, value) in &headers {
                        if name != "host" && name != "content-length" {
                            forward = forward.header(name, value);
                        }
                    }
                    let answer = forward.send().await.expect("moto answers");
                    (answer.status().as_u16(), answer.text().await.expect("body"))
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (endpoint, throttle, throttled)
}

/// The head (up to the blank line) and the body (by `content-length`) of one request.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    Some((head, buffer[head_end..].to_vec()))
}

#[tokio::test]
async fn a_kms_that_throttles_gives_a_503_json_answer_in_bounded_time() {
    let moto = Moto::start().await;
    let key_id = create_key(&moto, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    let (proxy, throttle, throttled) = throttling_proxy(moto.endpoint()).await;
    let service = build(&proxy, &key_id).await.expect("starts through the proxy");
    let (alice, _) = service.register("alice@example.com").await;

    throttle.store(true, Ordering::SeqCst);
    // The next window's cookie set is not in the memo: it needs KMS.
    service.clock.advance(300);
    let started = Instant::now();
    let reply = alice
        .post(format!("{}/api/cdn/cookies", service.base))
        .send()
        .await
        .expect("answer");
    let took = started.elapsed();
    assert_eq!(reply.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.headers().get("set-cookie").is_none());
    let body: Value = reply.json().await.expect("JSON");
    assert_eq!(body["error"], "unavailable", "{body}");
    assert!(!body.to_string().contains("Throttling"), "generic: {body}");
    assert_eq!(
        throttled.load(Ordering::SeqCst),
        edgepass::aws::kms::ATTEMPTS as usize
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(service.kms_calls("throttled"), 1);

    // Once KMS answers again, so does edgepass.
    throttle.store(false, Ordering::SeqCst);
    json_of(
        alice.post(format!("{}/api/cdn/cookies", service.base)),
        StatusCode::OK,
    )
    .await;
}

/// Cookie sets per second through moto's KMS, cold (a new policy each, so a Sign call each) and from
/// the memo, one at a time and 16 at once; and the KMS calls and time of a 100-image `POST /api/urls`
/// within one window and across a window change. Figures, not a check: run with
/// `cargo test --release --test aws -- --ignored --nocapture kms_cost`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; see the doc comment for how to run it"]
async fn kms_cost() {
    use edgepass::domain::UserId;
    use futures::StreamExt;

    const SETS: i64 = 400;
    let moto = Moto::start().await;
    for spec in [KeySpec::EccNistP256, KeySpec::Rsa2048] {
        let key_id = create_key(&moto, spec.clone(), KeyUsageType::SignVerify).await;
        let service = build(moto.endpoint(), &key_id).await.expect("starts");
        let cdn = &service.state.cdn;
        let now = service.clock.now();
        let per_second = |started: Instant, n: i64| n as f64 / started.elapsed().as_secs_f64();

        let started = Instant::now();
        for user in 0..SETS {
            cdn.mint(UserId(user), now, None).await.expect("cold");
        }
        let cold = per_second(started, SETS);
        let started = Instant::now();
        futures::stream::iter(SETS..2 * SETS)
            .map(|user| async move { cdn.mint(UserId(user), now, None).await.expect("cold") })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        let cold_16 = per_second(started, SETS);
        let started = Instant::now();
        for _ in 0..SETS * 10 {
            cdn.mint(UserId(1), now, None).await.expect("memo");
        }
        let warm = per_second(started, SETS * 10);
        println!(
            "{spec:?} through moto's KMS: cookie sets per second, cold {cold:.0} (16 at once {cold_16:.0}), \
             from the memo {warm:.0}; Sign calls {}",
            service.kms_calls("signed")
        );

        let (bob, ids) = service.shared_with_bob(100).await;
        for (case, advance) in [("first", 0), ("same window", 1), ("next window", 300)] {
            service.clock.advance(advance);
            let before = service.kms_calls("signed");
            let started = Instant::now();
            json_of(
                bob.post(format!("{}/api/urls", service.base))
                    .json(&json!({ "ids": ids })),
                StatusCode::OK,
            )
            .await;
            println!(
                "  100-image POST /api/urls, {case}: {} Sign calls, {:.1} ms",
                service.kms_calls("signed") - before,
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}
