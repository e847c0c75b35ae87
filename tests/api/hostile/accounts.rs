//! Hostile-client tests: accounts. What one account can learn about another, how many accounts one
//! client can make, which addresses name an account, who can read the data folder, and which times a
//! grant or link can be given.

use edgepass::db::entity::{share, share_link};
use reqwest::{Method, StatusCode};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::{PASSWORD, PNG, Reply, TestApp, real_now, send, signed_up_browser};

#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
#[cfg(unix)]
use std::path::Path;

/// 9999-12-31T23:59:59Z: the latest expiry edgepass accepts.
const LATEST_EXPIRY: u64 = 253_402_300_799;

/// edgepass with its clock at the real time, since the embedded store checks upload URLs against it.
async fn spawn_for_uploads(settings: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_at(real_now(), settings).await
}

/// Alice (signed in on the app's browser) with one ready image, and Bob's user id.
async fn alice_with_image_and_bob(app: &TestApp) -> (String, i64) {
    app.signed_up("alice@example.com").await;
    let image = app.upload("image/png", PNG, "a.png").await;
    let image = image["id"].as_str().expect("image id").to_owned();
    let (bob, _, _) = signed_up_browser(app, "bob@example.com").await;
    (image, bob)
}

/// `PUT /api/images/{image}/shares/{user}` from Alice's browser with `body` sent as it is.
async fn share_raw(app: &TestApp, image: &str, user: &str, body: &str) -> Reply {
    let path = format!("/api/images/{image}/shares/{user}");
    send(
        app.request(Method::PUT, &path)
            .header("content-type", "application/json")
            .body(body.to_owned()),
    )
    .await
}

async fn grants(app: &TestApp) -> Vec<share::Model> {
    share::Entity::find().all(app.db()).await.expect("share rows")
}

async fn links(app: &TestApp) -> Vec<share_link::Model> {
    share_link::Entity::find().all(app.db()).await.expect("link rows")
}

// A9: absurd expiries.

#[tokio::test]
async fn a_grant_ending_after_the_year_9999_or_beyond_any_integer_is_refused_and_nothing_is_stored() {
    let app = spawn_for_uploads(&[]).await;
    let (image, _) = alice_with_image_and_bob(&app).await;
    let now = app.now();

    for terms in [
        format!(r#"{{"expires_at": {}}}"#, u64::MAX),
        r#"{"expires_at": 18446744073709551616}"#.to_owned(),
        r#"{"expires_at": 1e300}"#.to_owned(),
        r#"{"expires_at": -1}"#.to_owned(),
        format!(r#"{{"expires_at": {}.5}}"#, now + 60),
        format!(r#"{{"expires_at": {}}}"#, LATEST_EXPIRY + 1),
        format!(r#"{{"expires_in": {}}}"#, u64::MAX),
        r#"{"expires_in": 18446744073709551616}"#.to_owned(),
        r#"{"expires_in": -60}"#.to_owned(),
        format!(r#"{{"expires_in": {}}}"#, LATEST_EXPIRY - now + 1),
    ] {
        let reply = share_raw(&app, &image, "bob@example.com", &terms).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert!(
            reply.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains("expires_")),
            "the message names the field: {terms} → {}",
            reply.text()
        );
    }
    assert!(grants(&app).await.is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_grant_may_end_exactly_at_the_latest_expiry_and_is_stored_as_given() {
    let app = spawn_for_uploads(&[]).await;
    let (image, _) = alice_with_image_and_bob(&app).await;
    let now = app.now();

    let by_time = share_raw(
        &app,
        &image,
        "bob@example.com",
        &json!({ "expires_at": LATEST_EXPIRY }).to_string(),
    )
    .await;
    assert_eq!(by_time.status, StatusCode::OK, "{}", by_time.text());
    assert_eq!(by_time.json()["expires_at"], json!(LATEST_EXPIRY));
    assert_eq!(grants(&app).await[0].expires_at, Some(LATEST_EXPIRY as i64));

    let by_lifetime = share_raw(
        &app,
        &image,
        "bob@example.com",
        &json!({ "expires_in": LATEST_EXPIRY - now }).to_string(),
    )
    .await;
    assert_eq!(by_lifetime.status, StatusCode::OK, "{}", by_lifetime.text());
    assert_eq!(grants(&app).await[0].expires_at, Some(LATEST_EXPIRY as i64));
}

#[tokio::test]
async fn a_share_link_cannot_end_after_the_year_9999_even_when_the_configured_maximum_allows_it() {
    let app = spawn_for_uploads(&[("EDGEPASS_SHARE_LINK_MAX_TTL_SECS", &u64::MAX.to_string())]).await;
    let (image, _) = alice_with_image_and_bob(&app).await;
    let now = app.now();
    let path = format!("/api/images/{image}/links");

    for expires_in in [u64::MAX, i64::MAX as u64, LATEST_EXPIRY - now + 1] {
        let reply = app.post_json(&path, &json!({ "expires_in": expires_in })).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    assert!(links(&app).await.is_empty(), "nothing stored");

    let reply = app
        .post_json(&path, &json!({ "expires_in": LATEST_EXPIRY - now }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(reply.json()["expires_at"], json!(LATEST_EXPIRY));
    let stored: Vec<i64> = links(&app).await.iter().map(|l| l.expires_at).collect();
    assert_eq!(stored, vec![LATEST_EXPIRY as i64]);
}

// A3: reading other accounts' email addresses through grants.

#[tokio::test]
async fn sharing_with_a_user_id_is_refused_and_never_answers_with_that_users_email() {
    let app = spawn_for_uploads(&[]).await;
    let (image, bob) = alice_with_image_and_bob(&app).await;
    let (carol, _, _) = signed_up_browser(&app, "carol@example.com").await;

    // The enumeration the review ran: every id in turn, written every way that parses as a number.
    let mut names: Vec<String> = (1..=carol + 2).map(|id| id.to_string()).collect();
    names.extend([format!("0{bob}"), format!("%20{bob}%20"), format!("{bob}%0A")]);
    for name in &names {
        let reply = share_raw(&app, &image, name, "").await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        for email in ["bob@example.com", "carol@example.com"] {
            assert!(!reply.text().contains(email), "{name} → {}", reply.text());
        }
    }
    assert!(grants(&app).await.is_empty(), "no grant was made");
}

#[tokio::test]
async fn the_grant_list_shows_only_addresses_the_owner_typed_and_revoking_by_id_shows_none() {
    let app = spawn_for_uploads(&[]).await;
    let (image, bob) = alice_with_image_and_bob(&app).await;
    signed_up_browser(&app, "carol@example.com").await;

    let shared = share_raw(&app, &image, "Bob@Example.com", "").await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.text());
    assert_eq!(
        shared.json()["user"],
        json!({ "id": bob, "email": "bob@example.com" })
    );
    share_raw(&app, &image, "carol@example.com.", "")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");

    let listed = app.get(&format!("/api/images/{image}/shares")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text());
    assert_eq!(listed.json()["shares"][0]["user"]["email"], "bob@example.com");
    assert!(!listed.text().contains("carol"), "{}", listed.text());

    // The gallery revokes by id: that answer carries no address at all.
    let path = format!("/api/images/{image}/shares/{bob}");
    let revoked = send(app.request(Method::DELETE, &path)).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert!(revoked.body.is_empty());
    assert!(grants(&app).await.is_empty());
}

// A6: registration throttling.

const REGISTRATION_WINDOW: u64 = 3600;

/// Three registrations per client address an hour.
async fn strict_registrations(more: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![
        ("EDGEPASS_REGISTRATIONS_PER_CLIENT", "3"),
        ("EDGEPASS_REGISTRATION_WINDOW_SECS", "3600"),
    ];
    settings.extend_from_slice(more);
    TestApp::spawn_with(&settings).await
}

/// `POST /api/auth/register` from a client without cookies, claiming `forwarded_for` if given.
async fn register_from(app: &TestApp, email: &str, forwarded_for: Option<&str>) -> Reply {
    let mut request = app
        .raw_request(Method::POST, "/api/auth/register")
        .json(&json!({ "email": email, "password": PASSWORD }));
    if let Some(addr) = forwarded_for {
        request = request.header("x-forwarded-for", addr);
    }
    send(request).await
}

/// Asserts a 429 for registration and returns its `Retry-After`.
fn assert_registration_throttled(reply: &Reply) -> u64 {
    reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    assert!(reply.set_cookies().is_empty(), "no cookies when throttled");
    assert!(
        reply.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("registered")),
        "{}",
        reply.text()
    );
    reply
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn one_address_registering_past_the_limit_gets_429_with_retry_after_and_no_account() {
    let app = strict_registrations(&[]).await;
    for n in 1..=3 {
        let reply = register_from(&app, &format!("user{n}@example.com"), None).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    }
    app.advance(1000);
    let before = app.rows().await;

    let refused = register_from(&app, "user4@example.com", None).await;

    assert_eq!(
        assert_registration_throttled(&refused),
        REGISTRATION_WINDOW - 1000
    );
    assert_eq!(app.rows().await, before, "nothing written, not even the attempt");
}

#[tokio::test]
async fn registrations_from_an_address_work_again_once_the_window_has_passed() {
    let app = strict_registrations(&[]).await;
    for n in 1..=3 {
        register_from(&app, &format!("user{n}@example.com"), None).await;
    }
    app.advance(REGISTRATION_WINDOW - 1);
    assert_eq!(
        assert_registration_throttled(&register_from(&app, "late@example.com", None).await),
        1
    );

    app.advance(1);
    let reply = register_from(&app, "late@example.com", None).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
}

#[tokio::test]
async fn one_throttled_address_leaves_other_addresses_alone_behind_a_trusted_proxy() {
    let app = strict_registrations(&[("EDGEPASS_TRUST_FORWARDED_FOR", "true")]).await;
    let noisy = "10.0.0.1, 203.0.113.7";
    for n in 1..=3 {
        let reply = register_from(&app, &format!("user{n}@example.com"), Some(noisy)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    }
    assert_registration_throttled(&register_from(&app, "user4@example.com", Some(noisy)).await);

    let other = register_from(&app, "user4@example.com", Some("203.0.113.7, 198.51.100.9")).await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text());
}

#[tokio::test]
async fn a_forged_forwarded_for_does_not_evade_the_limit_when_it_is_not_trusted() {
    let app = strict_registrations(&[]).await;
    for n in 1..=3 {
        let forged = format!("198.51.100.{n}");
        let reply = register_from(&app, &format!("user{n}@example.com"), Some(&forged)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    }
    assert_registration_throttled(&register_from(&app, "user4@example.com", Some("198.51.100.4")).await);
}

#[tokio::test]
async fn refused_registrations_do_not_use_up_the_limit() {
    let app = strict_registrations(&[]).await;
    register_from(&app, "alice@example.com", None).await;
    for _ in 0..5 {
        register_from(&app, "Alice@example.com", None)
            .await
            .assert_error(StatusCode::CONFLICT, "email_taken");
        register_from(&app, "<script>@example.com", None)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    for email in ["bob@example.com", "carol@example.com"] {
        let reply = register_from(&app, email, None).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{email}: {}", reply.text());
    }
    assert_registration_throttled(&register_from(&app, "dave@example.com", None).await);
}

#[tokio::test]
async fn concurrent_registrations_from_one_address_cannot_exceed_the_limit() {
    let app = strict_registrations(&[]).await;

    let replies = register_at_once(&app, 8).await;

    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert!(created <= 3, "{created} accounts made");
    for reply in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_registration_throttled(reply);
    }
    assert_eq!(app.rows().await.users, created as u64);
}

/// Sends `n` registrations at once, each for its own address.
async fn register_at_once(app: &TestApp, n: usize) -> Vec<Reply> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let request = app
            .raw_request(Method::POST, "/api/auth/register")
            .json(&json!({ "email": format!("racer{i}@example.com"), "password": PASSWORD }));
        tasks.spawn(send(request));
    }
    tasks.join_all().await
}

// A7: lookalike and unsafe addresses.

#[tokio::test]
async fn a_lookalike_address_with_an_invisible_or_direction_character_makes_no_second_account() {
    let app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;

    for (lookalike, why) in [
        ("alice@example.com\u{202E}", "text-direction"),
        ("\u{202E}alice@example.com", "text-direction"),
        ("alice\u{200B}@example.com", "formatting"),
        ("alice@example.com\u{2066}", "formatting"),
        ("alice@exam\u{AD}ple.com", "formatting"),
        ("ali\u{7}ce@example.com", "control"),
        ("аlice@example.com", "ASCII"),
        ("<script>@example.com", "'<'"),
        ("alice@<b>example.com", "domain"),
    ] {
        let reply = app.register(lookalike, PASSWORD).await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        let message = reply.json()["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(why), "{lookalike:?}: {message}");
        assert!(reply.set_cookies().is_empty());
    }
    assert_eq!(app.rows().await.users, 1);
}

#[tokio::test]
async fn a_lookalike_address_names_nobody_when_sharing_or_signing_in() {
    let app = spawn_for_uploads(&[]).await;
    let (image, _) = alice_with_image_and_bob(&app).await;

    share_raw(&app, &image, "bob@example.com%E2%80%AE", "")
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    app.login("bob@example.com\u{202E}", PASSWORD)
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert!(grants(&app).await.is_empty());
}

// A8: the data folder.

/// The permission bits of `path`.
#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Sets the process's umask to the common 022, under which files are made 0644 and folders 0755 unless
/// their maker says otherwise.
#[cfg(unix)]
fn common_umask() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: umask only replaces the process's file mode creation mask; 022 is the usual default, so
    // tests running beside this one create their files as they normally would.
    unsafe {
        libc::umask(0o022);
    }
}

/// Every path under `dir`, folders and files.
#[cfg(unix)]
fn everything_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path.clone());
            }
            found.push(path);
        }
    }
    found
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_and_the_files_edgepass_keeps_in_it_are_the_owners_alone_whatever_the_umask() {
    common_umask();
    let root = tempfile::tempdir().expect("dir");
    let data = root.path().join("data");
    let database = format!("sqlite://{}?mode=rwc", data.join("edgepass.db").display());
    let app = spawn_for_uploads(&[
        ("EDGEPASS_DATA_DIR", data.to_str().expect("utf-8")),
        ("EDGEPASS_DATABASE_URL", &database),
    ])
    .await;
    app.signed_up("alice@example.com").await;
    app.upload("image/png", PNG, "a.png").await;

    assert_eq!(mode(&data), 0o700, "the data folder");
    assert_eq!(mode(&data.join("objects")), 0o700, "the object store's folder");
    for file in ["edgepass.db", "cdn-signing-key.pem", "cdn-key-pair-id"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    for companion in ["edgepass.db-wal", "edgepass.db-shm"] {
        let path = data.join(companion);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{companion}");
        }
    }
    // Everything edgepass keeps itself is owner-only; the store's objects and sidecars under objects/
    // are out of other users' reach since they cannot enter the folders above them.
    let objects = data.join("objects");
    let everything = everything_under(&data);
    assert!(
        everything.iter().any(|p| p.starts_with(&objects) && p.is_file()),
        "the store wrote the image: {everything:?}"
    );
    for path in everything.iter().filter(|p| !p.starts_with(&objects)) {
        let wanted = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(path), wanted, "{}", path.display());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_data_folder_left_open_by_an_older_version_is_narrowed_at_start_up() {
    common_umask();
    let root = tempfile::tempdir().expect("dir");
    let data = root.path().join("data");
    std::fs::create_dir(&data).expect("data folder");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let db = data.join("edgepass.db");
    std::fs::write(&db, b"").expect("database file");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let database = format!("sqlite://{}?mode=rwc", db.display());

    let app = TestApp::spawn_with(&[
        ("EDGEPASS_DATA_DIR", data.to_str().expect("utf-8")),
        ("EDGEPASS_DATABASE_URL", &database),
    ])
    .await;
    app.signed_up("alice@example.com").await;

    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&db), 0o600);
}
