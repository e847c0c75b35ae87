//! The holder's own account: changing the password (the other sessions end, this one gets a new token),
//! the sessions list, and ending one session or all the others; nothing of another account's.

use std::sync::Arc;

use reqwest::cookie::Jar;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, send};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// A browser that names itself `agent`, with its own cookies.
fn browser_named(agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(Arc::new(Jar::default()))
        .user_agent(agent)
        .no_proxy()
        .build()
        .expect("client")
}

async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let request = client.request(method, app.url(path));
    send(match body {
        Some(body) => request.json(&body),
        None => request,
    })
    .await
}

async fn register(app: &TestApp, client: &reqwest::Client, email: &str) -> i64 {
    let reply = call(
        app,
        client,
        Method::POST,
        "/api/auth/register",
        Some(json!({ "email": email, "password": PASSWORD })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    reply.json()["user"]["id"].as_i64().expect("id")
}

async fn login(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> Reply {
    call(
        app,
        client,
        Method::POST,
        "/api/auth/login",
        Some(json!({ "email": email, "password": password })),
    )
    .await
}

async fn change(app: &TestApp, client: &reqwest::Client, current: &str, new: &str) -> Reply {
    call(
        app,
        client,
        Method::POST,
        "/api/account/password",
        Some(json!({ "current_password": current, "new_password": new })),
    )
    .await
}

async fn sessions(app: &TestApp, client: &reqwest::Client) -> Vec<Value> {
    let reply = call(app, client, Method::GET, "/api/account/sessions", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["sessions"].as_array().expect("sessions").clone()
}

async fn me(app: &TestApp, client: &reqwest::Client) -> StatusCode {
    call(app, client, Method::GET, "/api/me", None).await.status
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_and_renews_this_ones_token() {
    let app = TestApp::spawn().await;
    let laptop = browser_named("Laptop Browser/1.0");
    let phone = browser_named("Phone Browser/2.0");
    register(&app, &laptop, "alice@example.com").await;
    assert_eq!(
        login(&app, &phone, "alice@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    let before = app.rows().await.sessions;

    let changed = change(&app, &laptop, PASSWORD, NEW_PASSWORD).await;

    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text());
    let cookie = changed.set_cookie("edgepass_session");
    assert!(cookie.has("HttpOnly") && !cookie.value.is_empty(), "{cookie:?}");
    assert_eq!(me(&app, &laptop).await, StatusCode::OK, "this session goes on");
    assert_eq!(
        me(&app, &phone).await,
        StatusCode::UNAUTHORIZED,
        "the other one ended"
    );
    assert_eq!(app.rows().await.sessions, before - 1);
    let stranger = browser_named("Other/1.0");
    login(&app, &stranger, "alice@example.com", PASSWORD)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(
        login(&app, &stranger, "alice@example.com", NEW_PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(app.audited("password_changed").await.len(), 1);
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing_and_repeated_ones_are_throttled() {
    let app = TestApp::spawn().await;
    let laptop = browser_named("Laptop Browser/1.0");
    let phone = browser_named("Phone Browser/2.0");
    register(&app, &laptop, "alice@example.com").await;
    login(&app, &phone, "alice@example.com", PASSWORD).await;

    change(&app, &laptop, "not the password", NEW_PASSWORD)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(me(&app, &laptop).await, StatusCode::OK);
    assert_eq!(me(&app, &phone).await, StatusCode::OK, "no session ended");
    assert_eq!(
        login(&app, &browser_named("x"), "alice@example.com", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    change(&app, &laptop, PASSWORD, "short")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    // A current password longer than any account's is refused before any hashing, uncounted.
    change(&app, &laptop, &"a".repeat(5000), NEW_PASSWORD)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");

    // The login rules: five failures for the account in the window since its last sign-in, then 429
    // even for the right password.
    for _ in 0..5 {
        change(&app, &laptop, "not the password", NEW_PASSWORD)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let throttled = change(&app, &laptop, PASSWORD, NEW_PASSWORD).await;
    throttled.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(throttled.header("retry-after").is_some());
    assert_eq!(me(&app, &phone).await, StatusCode::OK, "still nothing changed");
}

#[tokio::test]
async fn the_holder_lists_their_sessions_and_ends_one_or_all_the_others() {
    let app = TestApp::spawn().await;
    let laptop = browser_named("Laptop Browser/1.0");
    let phone = browser_named("Phone\tBrowser/2.0");
    let tablet = browser_named("Tablet/3.0");
    register(&app, &laptop, "alice@example.com").await;
    login(&app, &phone, "alice@example.com", PASSWORD).await;
    login(&app, &tablet, "alice@example.com", PASSWORD).await;

    let listed = sessions(&app, &laptop).await;
    assert_eq!(listed.len(), 3);
    let clients: Vec<&str> = listed.iter().filter_map(|s| s["client"].as_str()).collect();
    assert!(
        clients.contains(&"Laptop Browser/1.0") && clients.contains(&"PhoneBrowser/2.0"),
        "control characters are left out: {clients:?}"
    );
    let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["client"], "Laptop Browser/1.0");
    let phone_id = listed
        .iter()
        .find(|s| s["client"] == "PhoneBrowser/2.0")
        .and_then(|s| s["id"].as_i64())
        .expect("phone");

    let ended = call(
        &app,
        &laptop,
        Method::DELETE,
        &format!("/api/account/sessions/{phone_id}"),
        None,
    )
    .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{}", ended.text());
    assert_eq!(me(&app, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &tablet).await, StatusCode::OK);
    call(
        &app,
        &laptop,
        Method::DELETE,
        &format!("/api/account/sessions/{phone_id}"),
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");

    let others = call(&app, &laptop, Method::DELETE, "/api/account/sessions", None).await;
    assert_eq!(others.json(), json!({ "ended": 1 }));
    assert_eq!(me(&app, &tablet).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&app, &laptop).await, StatusCode::OK);

    // Ending this session signs this browser out.
    let own = sessions(&app, &laptop).await[0]["id"].as_i64().expect("id");
    let ended = call(
        &app,
        &laptop,
        Method::DELETE,
        &format!("/api/account/sessions/{own}"),
        None,
    )
    .await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT);
    assert_eq!(ended.set_cookie("edgepass_session").get("Max-Age"), Some("0"));
    assert_eq!(me(&app, &laptop).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_account_s_sessions_are_neither_listed_nor_ended() {
    let app = TestApp::spawn().await;
    let alice = browser_named("Alice/1.0");
    let mallory = browser_named("Mallory/1.0");
    register(&app, &alice, "alice@example.com").await;
    register(&app, &mallory, "mallory@example.com").await;
    let alices = sessions(&app, &alice).await[0]["id"].as_i64().expect("id");

    let seen = sessions(&app, &mallory).await;
    assert_eq!(seen.len(), 1);
    assert_ne!(seen[0]["id"].as_i64(), Some(alices));
    for path in [
        format!("/api/account/sessions/{alices}"),
        "/api/account/sessions/x".to_owned(),
    ] {
        call(&app, &mallory, Method::DELETE, &path, None)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(
        call(&app, &mallory, Method::DELETE, "/api/account/sessions", None)
            .await
            .json(),
        json!({ "ended": 0 })
    );
    assert_eq!(me(&app, &alice).await, StatusCode::OK);
    for (method, path) in [
        (Method::GET, "/api/account/sessions"),
        (Method::DELETE, "/api/account/sessions"),
        (Method::POST, "/api/account/password"),
    ] {
        let anonymous = call(&app, &browser_named("Anon"), method, path, Some(json!({}))).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn the_export_holds_the_accounts_data_and_nothing_of_anyone_elses() {
    let app = TestApp::spawn_at(crate::helpers::real_now(), &[]).await;
    let (alice, _bob, images, bobs) = crate::account_deletion::alice_with_everything(&app).await;
    let mallory = crate::albums::Browser::sign_up(&app, "mallory@example.com").await;

    let reply = alice.get(&app, "/api/account/export").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let export = reply.json();
    assert_eq!(export["account"]["email"], "alice@example.com");
    assert_eq!(export["account"]["id"], alice.id);
    let ids: Vec<&str> = export["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 4, "{export}");
    assert!(images.iter().all(|id| ids.contains(&id.as_str())));
    let statuses: Vec<&str> = export["images"]
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["status"].as_str())
        .collect();
    assert!(
        statuses.contains(&"pending") && statuses.contains(&"ready"),
        "{statuses:?}"
    );
    assert_eq!(export["albums"].as_array().map(Vec::len), Some(1));
    let given = export["grants_given"].as_array().expect("given");
    assert_eq!(given.len(), 2, "an image grant and an album grant: {given:?}");
    assert!(given.iter().all(|g| g["other_email"] == "bob@example.com"));
    assert_eq!(
        export["grants_received"],
        json!([{ "image_id": bobs, "other_email": "bob@example.com",
                 "created_at": export["grants_received"][0]["created_at"] }])
    );
    assert_eq!(export["links"].as_array().map(Vec::len), Some(1));
    assert!(
        export["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .any(|s| s["current"] == true)
    );
    let text = export.to_string();
    for secret in ["token", "password", "hash", "edgepass_session"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    let theirs = mallory.get(&app, "/api/account/export").await.json();
    assert_eq!(theirs["account"]["email"], "mallory@example.com");
    for list in ["images", "albums", "grants_given", "grants_received", "links"] {
        assert_eq!(theirs[list], json!([]), "{list}");
    }
    assert!(!theirs.to_string().contains("alice@example.com"));
    let anonymous = reqwest::Client::new()
        .get(app.url("/api/account/export"))
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
