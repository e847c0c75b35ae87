//! Hostile-client tests: metrics. A client chooses every path and method it sends; none of them may grow
//! the metrics (each label set is a series kept for the life of the process) or put what a path carries
//! (emails, share tokens) into a label or a log line. And the metrics are not the public's to read.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, browser, send};
use crate::process::ServiceProcess;

/// The number of series (and help/type lines) in a Prometheus exposition.
fn series_lines(exposition: &str) -> usize {
    exposition.lines().filter(|line| !line.is_empty()).count()
}

/// Twenty-six lowercase letters that spell `n`: the shape of an image id, a different one for each `n`.
fn id_like(n: usize) -> String {
    let mut id = String::with_capacity(26);
    let mut rest = n;
    for _ in 0..26 {
        id.push(char::from(b'a' + (rest % 26) as u8));
        rest /= 26;
    }
    id
}

/// The `n`th unauthenticated request of a scan: kinds take turns, each with a path of its own; every one
/// ends in 401 or 404.
fn probe(n: usize) -> (Method, String) {
    let kinds = 8;
    match n % kinds {
        0 => (Method::GET, format!("/api/images/{}", id_like(n))),
        1 => (
            Method::PUT,
            format!("/api/images/{}/shares/visitor{n}@example.com", id_like(n)),
        ),
        2 => (Method::GET, format!("/api/nowhere-{n}/x")),
        3 => (Method::GET, format!("/wp-admin/{n}.php")),
        4 => (Method::GET, format!("/s/not-a-token-{n}")),
        5 => (Method::DELETE, format!("/api/links/{n}")),
        6 => (Method::GET, format!("/docs/{n}")),
        _ => (Method::POST, format!("/api/images/{}/complete", id_like(n))),
    }
}

#[tokio::test]
async fn three_thousand_unique_unauthenticated_paths_add_no_series_after_the_first_of_each_kind() {
    let app = TestApp::spawn().await;
    let kinds = 8;
    for n in 0..kinds {
        let (method, path) = probe(n);
        let reply = send(app.raw_request(method, &path)).await;
        assert!(
            matches!(reply.status, StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND),
            "{path}: {}",
            reply.status
        );
    }
    let before = app.metrics().await;

    for n in kinds..3_000 {
        let (method, path) = probe(n);
        let reply = send(app.raw_request(method, &path)).await;
        assert!(
            matches!(reply.status, StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND),
            "{path}: {}",
            reply.status
        );
    }

    let after = app.metrics().await;
    assert_eq!(
        series_lines(&after),
        series_lines(&before),
        "series before:\n{before}\nafter:\n{after}"
    );
    assert!(
        after.len() < before.len() + 1_000,
        "{} bytes before, {} after",
        before.len(),
        after.len()
    );
    for template in [
        "/api/images/{id}",
        "/api/images/{id}/shares/{user}",
        "/api/links/{id}",
        "/s/{token}",
    ] {
        assert!(
            after.contains(&format!("route=\"{template}\"")),
            "{template} in\n{after}"
        );
    }
    assert!(after.contains("route=\"unmatched\",status=\"404\""), "{after}");
    assert!(!after.contains("visitor"), "no email in a label:\n{after}");
    assert!(
        !after.contains("wp-admin") && !after.contains("nowhere"),
        "{after}"
    );
}

#[tokio::test]
async fn made_up_methods_are_counted_under_one_label() {
    let app = TestApp::spawn().await;
    let probe = |n: usize| Method::from_bytes(format!("PROBE{n}").as_bytes()).expect("a method token");
    send(app.raw_request(probe(0), "/api/me")).await;
    send(app.raw_request(probe(0), "/elsewhere/0")).await;
    let before = app.metrics().await;

    for n in 1..300 {
        send(app.raw_request(probe(n), "/api/me")).await;
        send(app.raw_request(probe(n), &format!("/elsewhere/{n}"))).await;
    }

    let after = app.metrics().await;
    assert_eq!(
        series_lines(&after),
        series_lines(&before),
        "series before:\n{before}\nafter:\n{after}"
    );
    assert!(after.contains("method=\"other\""), "{after}");
    assert!(!after.contains("PROBE"), "{after}");
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_public_port() {
    let app = TestApp::spawn().await;

    send(app.raw_request(Method::GET, "/metrics"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let scraped = send(app.raw.get(app.metrics_url("/metrics"))).await;

    assert_eq!(scraped.status, StatusCode::OK);
    assert!(
        scraped
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        scraped.headers
    );
    assert!(scraped.text().contains("# TYPE edgepass_http_requests"));
    assert!(
        scraped.text().contains("route=\"unmatched\",status=\"404\""),
        "the refused scrape on the public port was counted as unmatched:\n{}",
        scraped.text()
    );
    assert_ne!(app.metrics_port, Some(app.port));
    for path in ["/api/me", "/healthz", "/"] {
        let reply = send(app.raw.get(app.metrics_url(path))).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path} on the metrics port");
    }
}

#[tokio::test]
async fn metrics_listen_off_serves_metrics_nowhere() {
    let app = TestApp::spawn_with(&[("EDGEPASS_METRICS_LISTEN", "off")]).await;

    assert_eq!(app.metrics_port, None);
    send(app.raw_request(Method::GET, "/metrics"))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        send(app.raw_request(Method::GET, "/healthz")).await.status,
        StatusCode::OK,
        "the API still answers"
    );
}

#[tokio::test]
async fn an_email_in_a_share_path_reaches_neither_a_label_nor_a_log_line() {
    let service = ServiceProcess::start(&[("EDGEPASS_LOG", "info,edgepass=debug")]).await;
    let (alice, _) = browser();
    let registered = send(alice.post(service.url("/api/auth/register")).json(&json!({
        "email": "alice@example.com",
        "password": PASSWORD,
    })))
    .await;
    assert_eq!(registered.status, StatusCode::CREATED, "{}", registered.text());
    let share = |email: &str| format!("/api/images/{}/shares/{email}", id_like(7));
    let stranger = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");

    let anonymous = send(stranger.put(service.url(&share("anon.k3v9@example.com")))).await;
    let signed_in = send(alice.put(service.url(&share("known.m5q1@example.com")))).await;
    let forged = send(
        alice
            .put(service.url(&share("forged.x8w2@example.com")))
            .header("origin", "https://evil.example"),
    )
    .await;

    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.text());
    assert_eq!(signed_in.status, StatusCode::NOT_FOUND, "{}", signed_in.text());
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());
    let metrics = send(stranger.get(service.metrics_url("/metrics"))).await.text();
    let log = service.stop().await;
    for local_part in ["anon.k3v9", "known.m5q1", "forged.x8w2"] {
        assert!(
            !metrics.contains(local_part),
            "{local_part} in /metrics:\n{metrics}"
        );
        assert!(!log.contains(local_part), "{local_part} in the log:\n{log}");
    }
    assert!(
        log.contains("/api/images/{id}/shares/{user}"),
        "the access log names the template:\n{log}"
    );
    assert!(log.contains("refused a cross-origin request"), "{log}");
    assert!(
        metrics.contains("route=\"/api/images/{id}/shares/{user}\""),
        "{metrics}"
    );
}
