//! Hostile-client tests: nothing personal leaves the process. The whole API is driven with distinctive
//! emails, passwords, image names, session and share tokens, and every cookie and signature handed out is
//! collected; none of them may appear in the log (either format, every level the service writes) or in
//! `/metrics`. The service runs as its own process so that every line it writes is read, whichever task
//! or thread wrote it.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PNG, Reply, browser, send};
use crate::process::ServiceProcess;

const ALICE: &str = "alice.privacy.k7q2@example.com";
const BOB: &str = "bob.privacy.m4w9@example.com";
/// Nobody has this account: shared with, and tried at login.
const NOBODY: &str = "nobody.privacy.t3v8@example.com";
const ALICE_PASSWORD: &str = "alice-secret-pass-R8d2Lq";
const BOB_PASSWORD: &str = "bob-secret-pass-W3n7Kz";
const WRONG_PASSWORD: &str = "wrong-guess-pass-H6y1Jc";
const IMAGE_NAME: &str = "alice-private-holiday-Z9f4.png";
const FORGED_TOKEN: &str = "Zq8Wm2Xk4Vr6Tn0Yp3Ls5Jd7Hf9Gb1Cc2Ee4Aa6Ss8";

/// Everything personal the run saw, with what it is, for the failure message.
#[derive(Default)]
struct Secrets(Vec<(&'static str, String)>);

impl Secrets {
    fn add(&mut self, what: &'static str, value: &str) {
        assert!(value.len() >= 8, "{what} is too short to look for: {value:?}");
        self.0.push((what, value.to_owned()));
    }

    /// An email, and its local part alone, which survives any encoding of `@`.
    fn add_email(&mut self, email: &str) {
        self.add("an email", email);
        self.add(
            "an email's local part",
            email.split('@').next().expect("local part"),
        );
    }

    /// The session and CloudFront cookie values an answer sets.
    fn add_cookies(&mut self, reply: &Reply) {
        for cookie in reply.set_cookies() {
            match cookie.name.as_str() {
                "edgepass_session" | "CloudFront-Policy" | "CloudFront-Signature"
                    if cookie.value.len() >= 8 =>
                {
                    self.add("a cookie value", &cookie.value);
                }
                _ => {}
            }
        }
    }

    /// The signature parameters of a URL (CloudFront's `Signature`/`Policy`, S3's `X-Amz-Signature`).
    fn add_url(&mut self, url: &str) {
        let query = url.split_once('?').map_or("", |(_, query)| query);
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=')
                && matches!(name, "Signature" | "Policy" | "X-Amz-Signature")
            {
                self.add("a URL signature", value);
            }
        }
    }

    /// The secrets found in `text`.
    fn found_in(&self, text: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, value)| text.contains(value.as_str()))
            .map(|(what, value)| format!("{what}: {value}"))
            .collect()
    }
}

fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("http client")
}

fn expect(reply: &Reply, status: StatusCode, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
}

async fn post(client: &Client, url: String, body: &Value) -> Reply {
    send(client.post(url).json(body)).await
}

/// Drives every endpoint of `service` the way its users would (and a few ways they should not), and
/// returns everything personal that went over the wire.
async fn drive_the_whole_api(service: &ServiceProcess) -> Secrets {
    let mut secrets = Secrets::default();
    for email in [ALICE, BOB, NOBODY] {
        secrets.add_email(email);
    }
    for password in [ALICE_PASSWORD, BOB_PASSWORD, WRONG_PASSWORD] {
        secrets.add("a password", password);
    }
    secrets.add("an image name", IMAGE_NAME);
    secrets.add("an image name's stem", "alice-private-holiday-Z9f4");
    secrets.add("a forged share token", FORGED_TOKEN);
    let url = |path: &str| service.url(path);
    let (alice, _) = browser();
    let (bob, _) = browser();
    let stranger = no_redirects();

    // Accounts: register, sign out, failed and throttled-looking logins, sign in again.
    let alice_credentials = json!({ "email": ALICE, "password": ALICE_PASSWORD });
    let reply = post(&alice, url("/api/auth/register"), &alice_credentials).await;
    expect(&reply, StatusCode::CREATED, "alice registers");
    secrets.add_cookies(&reply);
    let reply = post(
        &alice,
        url("/api/auth/register"),
        &json!({ "email": ALICE, "password": WRONG_PASSWORD }),
    )
    .await;
    assert!(
        reply.status.is_client_error(),
        "registering twice: {}",
        reply.text()
    );
    expect(
        &send(alice.post(url("/api/auth/logout"))).await,
        StatusCode::NO_CONTENT,
        "logout",
    );
    for credentials in [
        json!({ "email": ALICE, "password": WRONG_PASSWORD }),
        json!({ "email": NOBODY, "password": WRONG_PASSWORD }),
    ] {
        let reply = post(&stranger, url("/api/auth/login"), &credentials).await;
        expect(&reply, StatusCode::UNAUTHORIZED, "a wrong login");
    }
    let reply = post(&alice, url("/api/auth/login"), &alice_credentials).await;
    expect(&reply, StatusCode::OK, "alice signs in");
    secrets.add_cookies(&reply);
    let reply = post(
        &bob,
        url("/api/auth/register"),
        &json!({ "email": BOB, "password": BOB_PASSWORD }),
    )
    .await;
    expect(&reply, StatusCode::CREATED, "bob registers");
    secrets.add_cookies(&reply);
    expect(&send(alice.get(url("/api/me"))).await, StatusCode::OK, "me");
    let reply = send(alice.post(url("/api/cdn/cookies"))).await;
    expect(&reply, StatusCode::OK, "fresh CloudFront cookies");
    secrets.add_cookies(&reply);

    // An image: upload, list, read, change.
    let reply = post(
        &alice,
        url("/api/images"),
        &json!({ "content_type": "image/png", "byte_size": PNG.len(), "name": IMAGE_NAME }),
    )
    .await;
    expect(&reply, StatusCode::CREATED, "start an upload");
    let ticket = reply.json();
    let upload_url = ticket["upload_url"].as_str().expect("upload_url");
    secrets.add_url(upload_url);
    let stored = crate::helpers::put_upload(&ticket, "image/png", PNG).await;
    assert_eq!(stored, StatusCode::OK);
    let image = ticket["id"].as_str().expect("image id").to_owned();
    let reply = send(alice.post(url(&format!("/api/images/{image}/complete")))).await;
    expect(&reply, StatusCode::OK, "complete");
    let own_url = reply.json()["url"].as_str().expect("the image's URL").to_owned();
    expect(&send(alice.get(url("/api/images"))).await, StatusCode::OK, "list");
    expect(
        &send(alice.get(url(&format!("/api/images/{image}")))).await,
        StatusCode::OK,
        "read",
    );
    expect(
        &send(alice.get(&own_url)).await,
        StatusCode::OK,
        "alice loads her image through the edge with her cookies",
    );

    // Shares by email: granted, unknown, anonymous, cross-origin, listed, used, revoked.
    let shares = |email: &str| url(&format!("/api/images/{image}/shares/{email}"));
    expect(
        &send(alice.put(shares(BOB))).await,
        StatusCode::OK,
        "share with bob",
    );
    expect(
        &send(alice.put(shares(NOBODY))).await,
        StatusCode::NOT_FOUND,
        "share with nobody",
    );
    expect(
        &send(stranger.put(shares(BOB))).await,
        StatusCode::UNAUTHORIZED,
        "anonymous share",
    );
    expect(
        &send(alice.put(shares(BOB)).header("origin", "https://evil.example")).await,
        StatusCode::FORBIDDEN,
        "a cross-origin share",
    );
    expect(
        &send(alice.get(url(&format!("/api/images/{image}/shares")))).await,
        StatusCode::OK,
        "list grants",
    );
    expect(
        &send(bob.get(url("/api/shared-with-me"))).await,
        StatusCode::OK,
        "shared with bob",
    );
    let reply = post(
        &bob,
        url("/api/urls"),
        &json!({ "ids": [image, image.clone() + "x"] }),
    )
    .await;
    expect(&reply, StatusCode::OK, "bob's batch of URLs");
    let signed = reply.json()["urls"][&image]
        .as_str()
        .expect("a signed URL")
        .to_owned();
    secrets.add_url(&signed);
    expect(
        &send(stranger.get(&signed)).await,
        StatusCode::OK,
        "the signed URL at the edge",
    );
    let (object, query) = signed.split_once('?').expect("a query");
    let elsewhere = format!("{}?{query}", object.replace(&image, &"a".repeat(26)));
    expect(
        &send(stranger.get(&elsewhere)).await,
        StatusCode::FORBIDDEN,
        "the signature replayed on another object",
    );

    // A share link: created, listed, followed to the edge, a forged one, revoked.
    let reply = post(
        &alice,
        url(&format!("/api/images/{image}/links")),
        &json!({ "expires_in": 3600 }),
    )
    .await;
    expect(&reply, StatusCode::CREATED, "a share link");
    let link = reply.json();
    let link_url = link["url"].as_str().expect("link url").to_owned();
    let token = link_url.rsplit('/').next().expect("token");
    secrets.add("a share token", token);
    expect(
        &send(alice.get(url(&format!("/api/images/{image}/links")))).await,
        StatusCode::OK,
        "list links",
    );
    let reply = send(stranger.get(url(&format!("/s/{token}")))).await;
    expect(&reply, StatusCode::FOUND, "follow the link");
    let location = reply.header("location").expect("location").to_owned();
    secrets.add_url(&location);
    expect(
        &send(stranger.get(&location)).await,
        StatusCode::OK,
        "the link's URL at the edge",
    );
    expect(
        &send(stranger.get(url(&format!("/s/{FORGED_TOKEN}")))).await,
        StatusCode::NOT_FOUND,
        "a forged link",
    );
    let link_id = link["id"].as_i64().expect("link id");
    let reply = send(alice.delete(url(&format!("/api/links/{link_id}")))).await;
    assert!(reply.status.is_success(), "revoke the link: {}", reply.text());
    let reply = send(alice.delete(shares(BOB))).await;
    expect(&reply, StatusCode::NO_CONTENT, "revoke bob's grant");

    // Visibility both ways, then the end of it all.
    let visibility = |v: &str| {
        alice
            .patch(url(&format!("/api/images/{image}")))
            .json(&json!({ "visibility": v }))
    };
    expect(&send(visibility("public")).await, StatusCode::OK, "make public");
    expect(&send(visibility("private")).await, StatusCode::OK, "make private");
    let reply = send(alice.delete(url(&format!("/api/images/{image}")))).await;
    assert!(reply.status.is_success(), "delete the image: {}", reply.text());
    expect(
        &send(bob.post(url("/api/auth/logout"))).await,
        StatusCode::NO_CONTENT,
        "bob leaves",
    );
    expect(
        &send(alice.post(url("/api/auth/logout"))).await,
        StatusCode::NO_CONTENT,
        "alice leaves",
    );
    secrets
}

/// Runs the whole API against the binary with `format` logs at debug level, and checks its log and
/// its metrics.
async fn nothing_personal_leaves_the_process_with(format: &str) {
    // Everything at debug, the embedded store's own request dumps excepted: at debug, s3s writes each
    // request it receives whole, presigned upload URL and signature included (documented with
    // EDGEPASS_LOG).
    let service = ServiceProcess::start(&[
        ("EDGEPASS_LOG_FORMAT", format),
        ("EDGEPASS_LOG", "debug,s3s=info,s3s_fs=info"),
    ])
    .await;
    let secrets = drive_the_whole_api(&service).await;
    let metrics = send(no_redirects().get(service.metrics_url("/metrics"))).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let metrics = metrics.text();
    let log = service.stop().await;

    let leaked = secrets.found_in(&log);
    assert!(leaked.is_empty(), "in the {format} log: {leaked:#?}\n{log}");
    let leaked = secrets.found_in(&metrics);
    assert!(leaked.is_empty(), "in /metrics: {leaked:#?}\n{metrics}");
    // And the capture works: it holds the access lines of the run and the shutdown.
    assert!(log.contains("/api/images/{id}/shares/{user}"), "{log}");
    assert!(log.contains("/s/{token}"), "{log}");
    assert!(log.contains("edgepass stopped"), "{log}");
    if format == "json" {
        for line in log.lines().filter(|line| !line.trim().is_empty()) {
            assert!(
                serde_json::from_str::<Value>(line).is_ok(),
                "every line is a JSON object: {line}"
            );
        }
    }
}

#[tokio::test]
async fn nothing_personal_reaches_the_json_log_or_the_metrics() {
    nothing_personal_leaves_the_process_with("json").await;
}

#[tokio::test]
async fn nothing_personal_reaches_the_human_log_or_the_metrics() {
    nothing_personal_leaves_the_process_with("human").await;
}
