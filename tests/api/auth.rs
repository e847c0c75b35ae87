//! Accounts: register, log in, log out, who am I.

use reqwest::cookie::CookieStore;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{PASSWORD, Rows, TestApp, send};

const CLOUDFRONT_COOKIES: [&str; 5] = [
    "CloudFront-Policy",
    "CloudFront-Signature",
    "CloudFront-Key-Pair-Id",
    "CloudFront-Hash-Algorithm",
    "CloudFront-Expires",
];

#[tokio::test]
async fn register_returns_201_with_the_case_folded_user_and_a_cdn_grant() {
    let app = TestApp::spawn().await;

    let reply = app.register("  Alice@Example.COM ", PASSWORD).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let body = reply.json();
    let id = body["user"]["id"].as_i64().expect("a numeric user id");
    assert_eq!(body["user"]["email"], "alice@example.com");
    assert_eq!(
        body["cdn"]["resource"],
        format!("{}/users/{id}/*", app.state.bound.cdn_base_url)
    );
    assert_eq!(body["cdn"]["cookie_path"], format!("/users/{id}/"));
    assert!(body["cdn"]["expires_at"].as_u64().is_some_and(|t| t > app.now()));
    assert_eq!(
        app.rows().await,
        Rows {
            users: 1,
            sessions: 1,
            audit_events: 1
        }
    );
}

#[tokio::test]
async fn register_sets_an_http_only_lax_session_cookie_for_the_whole_site_without_secure_in_local_mode() {
    let app = TestApp::spawn().await;

    let reply = app.register("alice@example.com", PASSWORD).await;

    let cookie = reply.set_cookie("edgepass_session");
    assert_eq!(cookie.value.len(), 43, "32 random bytes, URL-safe base64");
    assert!(cookie.has("HttpOnly"), "{cookie:?}");
    assert_eq!(cookie.get("SameSite"), Some("Lax"));
    assert_eq!(cookie.get("Path"), Some("/"));
    assert!(!cookie.has("Secure"), "plain-HTTP local mode: {cookie:?}");
    assert!(
        !cookie.has("Max-Age") && !cookie.has("Expires"),
        "a browser-session cookie"
    );
    assert!(!cookie.has("Domain"), "host-only");
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    let app = TestApp::spawn_with(&[("EDGEPASS_PUBLIC_URL", "https://app.example.com")]).await;

    let reply = app.register("alice@example.com", PASSWORD).await;

    assert!(reply.set_cookie("edgepass_session").has("Secure"));
    for name in ["CloudFront-Policy", "CloudFront-Signature"] {
        assert!(reply.set_cookie(name).has("Secure"), "{name}");
    }
}

#[tokio::test]
async fn register_refuses_an_email_that_is_already_taken_in_any_case_with_409() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let before = app.rows().await;

    for email in ["alice@example.com", "ALICE@example.com", " Alice@EXAMPLE.com"] {
        let reply = app.register(email, "another password 123").await;
        reply.assert_error(StatusCode::CONFLICT, "email_taken");
        assert!(reply.set_cookies().is_empty(), "no cookies for {email}");
    }
    assert_eq!(app.rows().await, before);
}

#[tokio::test]
async fn register_refuses_invalid_input_with_422_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let over_long = "p".repeat(257);
    let cases = [
        ("not-an-email", PASSWORD, "email"),
        ("", PASSWORD, "email"),
        ("alice@example", PASSWORD, "email"),
        ("alice@example.com", "short", "password"),
        ("alice@example.com", "nine char", "password"),
        ("alice@example.com", over_long.as_str(), "password"),
    ];

    for (email, password, field) in cases {
        let reply = app.register(email, password).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let message = reply.json()["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.starts_with(field), "{email:?}/{password:?}: {message}");
        assert!(reply.set_cookies().is_empty());
    }
    assert_eq!(
        app.rows().await,
        Rows {
            users: 0,
            sessions: 0,
            audit_events: 0
        }
    );
    let login = app.login("alice@example.com", "nine char").await;
    login.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn a_password_of_exactly_256_bytes_is_accepted() {
    let app = TestApp::spawn().await;
    let longest = "é".repeat(128);

    let reply = app.register("alice@example.com", &longest).await;

    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(
        app.login("alice@example.com", &longest).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_returns_200_with_the_user_a_session_cookie_and_cloudfront_cookies() {
    let app = TestApp::spawn().await;
    let id = app.signed_up("alice@example.com").await;

    let reply = app.login("ALICE@example.com", PASSWORD).await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["user"], json!({ "id": id, "email": "alice@example.com" }));
    assert_eq!(body["cdn"]["cookie_path"], format!("/users/{id}/"));
    let session = reply.set_cookie("edgepass_session");
    assert_eq!(session.value.len(), 43);
    assert_eq!(app.session_cookie(), Some(session.value), "the browser keeps it");
    for name in CLOUDFRONT_COOKIES {
        let cookie = reply.set_cookie(name);
        assert_eq!(cookie.get("Path"), Some(format!("/users/{id}/").as_str()));
    }
    assert_eq!(
        app.rows().await.sessions,
        2,
        "register and login each start a session"
    );
}

#[tokio::test]
async fn each_login_starts_a_new_session_with_a_new_token() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    let first = app.login("alice@example.com", PASSWORD).await;
    let second = app.login("alice@example.com", PASSWORD).await;

    assert_ne!(
        first.set_cookie("edgepass_session").value,
        second.set_cookie("edgepass_session").value
    );
}

#[tokio::test]
async fn login_gives_the_same_401_for_a_wrong_password_and_an_unknown_email() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let before = app.rows().await;

    let wrong_password = app.login("alice@example.com", "not the password").await;
    let unknown_email = app.login("nobody@example.com", PASSWORD).await;

    wrong_password.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    unknown_email.assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong_password.body, unknown_email.body);
    assert!(wrong_password.set_cookies().is_empty());
    assert!(unknown_email.set_cookies().is_empty());
    let after = app.rows().await;
    assert_eq!(after.sessions, before.sessions);
    assert_eq!(
        after.audit_events,
        before.audit_events + 2,
        "both failures are audited"
    );
}

#[tokio::test]
async fn login_refuses_malformed_credentials_with_422() {
    let app = TestApp::spawn().await;

    app.login("not-an-email", PASSWORD)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    app.login("alice@example.com", &"p".repeat(257))
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(app.rows().await.audit_events, 0);
}

#[tokio::test]
async fn logout_returns_204_and_deletes_the_session_row() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    assert_eq!(app.rows().await.sessions, 1);

    let reply = app.logout().await;

    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    assert!(reply.body.is_empty());
    assert_eq!(app.rows().await.sessions, 0);
}

#[tokio::test]
async fn after_logout_the_old_session_cookie_no_longer_works() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let old = app.session_cookie().expect("a session cookie");
    // On PostgreSQL the cache answers once the instance's listener is connected, which a loaded
    // machine may take a moment to do.
    let started = std::time::Instant::now();
    while !app.state.sessions.is_hearing() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the listener never connected"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The second lookup comes from the instance's session cache, which the logout must empty.
    for _ in 0..2 {
        assert_eq!(app.me().await.status, StatusCode::OK);
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("edgepass_session_lookups_total{from=\"cache\"} 1"),
        "{metrics}"
    );

    assert_eq!(app.logout().await.status, StatusCode::NO_CONTENT);

    let reply = send(
        app.raw_request(Method::GET, "/api/me")
            .header("cookie", format!("edgepass_session={old}")),
    )
    .await;
    reply.assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn logout_expires_the_session_cookie_and_all_five_cloudfront_cookies() {
    let app = TestApp::spawn().await;
    let id = app.signed_up("alice@example.com").await;
    let cdn_image = format!("{}/users/{id}/a.jpg", app.state.bound.cdn_base_url);
    let cdn_image = reqwest::Url::parse(&cdn_image).expect("url");
    assert!(
        app.jar.cookies(&cdn_image).is_some(),
        "signed in, the browser holds them"
    );

    let reply = app.logout().await;

    let session = reply.set_cookie("edgepass_session");
    assert_eq!(session.value, "");
    assert_eq!(session.get("Max-Age"), Some("0"));
    assert_eq!(session.get("Path"), Some("/"));
    let path = format!("/users/{id}/");
    for name in CLOUDFRONT_COOKIES {
        let cookie = reply.set_cookie(name);
        assert_eq!(cookie.value, "", "{name}");
        assert_eq!(cookie.get("Max-Age"), Some("0"), "{name}");
        assert_eq!(cookie.get("Path"), Some(path.as_str()), "{name}");
    }
    assert_eq!(
        app.session_cookie(),
        None,
        "the browser dropped its session cookie"
    );
    assert_eq!(
        app.jar.cookies(&cdn_image),
        None,
        "the browser dropped its CloudFront cookies"
    );
}

#[tokio::test]
async fn logout_without_a_session_is_a_harmless_204() {
    let app = TestApp::spawn().await;

    let reply = send(app.raw_request(Method::POST, "/api/auth/logout")).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.set_cookie("edgepass_session").get("Max-Age"), Some("0"));

    let garbage = send(
        app.raw_request(Method::POST, "/api/auth/logout")
            .header("cookie", "edgepass_session=garbage"),
    )
    .await;
    assert_eq!(garbage.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn logging_out_one_browser_leaves_another_browsers_session_alone() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let (other, _jar) = crate::helpers::browser();
    let login = send(
        other
            .post(app.url("/api/auth/login"))
            .json(&json!({ "email": "alice@example.com", "password": PASSWORD })),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(app.rows().await.sessions, 2);

    assert_eq!(app.logout().await.status, StatusCode::NO_CONTENT);

    assert_eq!(app.rows().await.sessions, 1);
}

#[tokio::test]
async fn me_reports_the_user_and_when_the_session_and_cdn_cookies_expire() {
    let app = TestApp::spawn_with(&[("EDGEPASS_SESSION_TTL_SECS", "86400")]).await;
    let registered = app.register("Alice@Example.com", PASSWORD).await.json();
    let id = registered["user"]["id"].as_i64().expect("id");

    let reply = app.me().await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({
            "user": { "id": id, "email": "alice@example.com" },
            "session_expires_at": app.now() + 86400,
            "delivery": "cloudfront",
            "cdn_expires_at": registered["cdn"]["expires_at"],
        })
    );
}

/// Sends `count` registrations at once, for `email(i)`, and returns the statuses.
async fn register_concurrently(
    app: &TestApp,
    count: usize,
    email: impl Fn(usize) -> String,
) -> Vec<StatusCode> {
    let mut registrations = tokio::task::JoinSet::new();
    for i in 0..count {
        let request = app
            .raw
            .post(app.url("/api/auth/register"))
            .json(&json!({ "email": email(i), "password": PASSWORD }));
        registrations.spawn(send(request));
    }
    registrations
        .join_all()
        .await
        .into_iter()
        .map(|reply| reply.status)
        .collect()
}

#[tokio::test]
async fn concurrent_registrations_of_different_emails_all_succeed() {
    let app = TestApp::spawn().await;

    let statuses = register_concurrently(&app, 8, |i| format!("user{i}@example.com")).await;

    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let rows = app.rows().await;
    assert_eq!((rows.users, rows.sessions), (8, 8));
}

#[tokio::test]
async fn concurrent_registrations_of_one_email_create_one_account() {
    let app = TestApp::spawn().await;

    let statuses = register_concurrently(&app, 6, |i| {
        if i % 2 == 0 {
            "alice@example.com".to_owned()
        } else {
            "ALICE@example.com".to_owned()
        }
    })
    .await;

    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let taken = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, taken), (1, 5), "{statuses:?}");
    let rows = app.rows().await;
    assert_eq!((rows.users, rows.sessions), (1, 1));
}
