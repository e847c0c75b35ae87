//! Login throttling per account and per client address.

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, Reply, TestApp, send};

const WINDOW: u64 = 600;
const WRONG: &str = "not the password";

/// Three failures per account and five per client within ten minutes.
async fn strict_app() -> TestApp {
    TestApp::spawn_with(&[
        ("EDGEPASS_LOGIN_FAILURES_PER_ACCOUNT", "3"),
        ("EDGEPASS_LOGIN_FAILURES_PER_CLIENT", "5"),
        ("EDGEPASS_LOGIN_WINDOW_SECS", "600"),
    ])
    .await
}

async fn fail(app: &TestApp, email: &str, times: usize) {
    for attempt in 1..=times {
        let reply = app.login(email, WRONG).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "attempt {attempt} for {email}: {}",
            reply.text()
        );
    }
}

fn assert_throttled(reply: &Reply) -> u64 {
    reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(reply.set_cookies().is_empty(), "no cookies when throttled");
    reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn login_returns_429_with_retry_after_when_an_account_is_throttled() {
    let app = strict_app().await;
    app.signed_up("alice@example.com").await;
    fail(&app, "alice@example.com", 3).await;
    app.advance(100);
    let sessions = app.rows().await.sessions;

    let wrong = app.login("alice@example.com", WRONG).await;
    let right = app.login("alice@example.com", PASSWORD).await;
    let other_case = app.login("ALICE@example.com", PASSWORD).await;

    for reply in [&wrong, &right, &other_case] {
        assert_eq!(assert_throttled(reply), WINDOW - 100);
    }
    assert!(
        right.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("500 seconds")),
        "{}",
        right.text()
    );
    assert_eq!(app.rows().await.sessions, sessions, "no session while throttled");
}

#[tokio::test]
async fn an_unknown_account_is_throttled_like_a_known_one() {
    let app = strict_app().await;
    fail(&app, "nobody@example.com", 3).await;

    assert_throttled(&app.login("nobody@example.com", WRONG).await);
}

#[tokio::test]
async fn throttling_one_account_leaves_other_accounts_alone() {
    let app = strict_app().await;
    app.signed_up("alice@example.com").await;
    app.signed_up("bob@example.com").await;
    fail(&app, "alice@example.com", 3).await;

    assert_throttled(&app.login("alice@example.com", PASSWORD).await);
    assert_eq!(
        app.login("bob@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_works_again_once_the_window_has_passed() {
    let app = strict_app().await;
    app.signed_up("alice@example.com").await;
    fail(&app, "alice@example.com", 3).await;
    assert_throttled(&app.login("alice@example.com", PASSWORD).await);

    app.advance(WINDOW + 1);

    let reply = app.login("alice@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn login_works_again_exactly_when_retry_after_says() {
    let app = strict_app().await;
    app.signed_up("alice@example.com").await;
    fail(&app, "alice@example.com", 3).await;
    let retry_after = assert_throttled(&app.login("alice@example.com", PASSWORD).await);

    app.advance(retry_after);

    let reply = app.login("alice@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn the_per_client_limit_trips_across_different_accounts() {
    let app = strict_app().await;
    app.signed_up("dora@example.com").await;
    fail(&app, "alice@example.com", 2).await;
    fail(&app, "bob@example.com", 2).await;
    app.advance(10);
    fail(&app, "carol@example.com", 1).await;

    let reply = app.login("dora@example.com", PASSWORD).await;

    assert_eq!(assert_throttled(&reply), WINDOW - 10);
    app.advance(WINDOW + 1);
    assert_eq!(
        app.login("dora@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_successful_login_is_not_throttled_and_resets_the_account_counter() {
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_LOGIN_FAILURES_PER_ACCOUNT", "3"),
        ("EDGEPASS_LOGIN_FAILURES_PER_CLIENT", "100"),
        ("EDGEPASS_LOGIN_WINDOW_SECS", "600"),
    ])
    .await;
    app.signed_up("alice@example.com").await;
    fail(&app, "alice@example.com", 2).await;
    app.advance(1);

    assert_eq!(
        app.login("alice@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    app.advance(1);

    fail(&app, "alice@example.com", 3).await;
    assert_throttled(&app.login("alice@example.com", PASSWORD).await);
}

#[tokio::test]
async fn a_successful_login_does_not_reset_the_client_counter() {
    let app = strict_app().await;
    app.signed_up("alice@example.com").await;
    fail(&app, "bob@example.com", 2).await;
    fail(&app, "carol@example.com", 2).await;
    app.advance(1);
    assert_eq!(
        app.login("alice@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    app.advance(1);

    fail(&app, "dave@example.com", 1).await;

    assert_throttled(&app.login("alice@example.com", PASSWORD).await);
}

#[tokio::test]
async fn failures_in_the_same_second_after_a_successful_login_still_count() {
    let app = strict_app().await;
    app.signed_up("alice@example.com").await;
    assert_eq!(
        app.login("alice@example.com", PASSWORD).await.status,
        StatusCode::OK
    );

    fail(&app, "alice@example.com", 3).await;

    assert_throttled(&app.login("alice@example.com", WRONG).await);
}

#[tokio::test]
async fn concurrent_failed_logins_cannot_exceed_the_account_limit() {
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_LOGIN_FAILURES_PER_ACCOUNT", "3"),
        ("EDGEPASS_LOGIN_FAILURES_PER_CLIENT", "1000"),
    ])
    .await;
    app.signed_up("alice@example.com").await;

    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..12 {
        let request = app
            .raw
            .post(app.url("/api/auth/login"))
            .json(&serde_json::json!({ "email": "alice@example.com", "password": WRONG }));
        attempts.spawn(send(request));
    }
    let replies = attempts.join_all().await;

    let guessed = replies
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        guessed <= 3,
        "{guessed} of 12 concurrent guesses were checked against the password"
    );
}
