//! Throttles and quotas are counted in the database, so they hold when the requests that test them are
//! spread over every instance, one after another or all at once.

use futures::future::join_all;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::harness::{Cluster, PASSWORD, browser, register};

const LIMIT: usize = 5;

async fn wrong_login(client: &reqwest::Client, url: String) -> StatusCode {
    client
        .post(url)
        .json(&json!({ "email": "alice@example.com", "password": "not the password" }))
        .send()
        .await
        .expect("login")
        .status()
}

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn wrong_passwords_spread_over_instances_are_refused_after_exactly_the_limit() {
    let limit = LIMIT.to_string();
    let cluster = Cluster::start(&[("EDGEPASS_LOGIN_FAILURES_PER_ACCOUNT", &limit)]).await;
    register(&browser(), &cluster.url(""), "alice@example.com").await;
    let mallory = browser();

    let mut answers = Vec::new();
    for attempt in 0..LIMIT + 3 {
        let instance = &cluster.instances[attempt % cluster.instances.len()];
        answers.push(wrong_login(&mallory, instance.url("/api/auth/login")).await);
    }

    let mut expected = vec![StatusCode::UNAUTHORIZED; LIMIT];
    expected.extend([StatusCode::TOO_MANY_REQUESTS; 3]);
    assert_eq!(answers, expected);
    let right = mallory
        .post(cluster.url("/api/auth/login"))
        .json(&json!({ "email": "alice@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password is not even checked"
    );
}

/// A burst may be refused before any of it is checked: each guess is recorded before it counts the
/// others, so concurrent guesses see each other. Refused guesses are withdrawn, so the account's whole
/// window still allows exactly the limit of checked passwords, burst and later guesses together.
#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn concurrent_wrong_passwords_on_every_instance_get_exactly_the_limit_checked_in_all() {
    let limit = LIMIT.to_string();
    let cluster = Cluster::start(&[("EDGEPASS_LOGIN_FAILURES_PER_ACCOUNT", &limit)]).await;
    register(&browser(), &cluster.url(""), "alice@example.com").await;
    let mallory = browser();

    let guesses = 8 * cluster.instances.len();
    let burst = join_all((0..guesses).map(|n| {
        let instance = &cluster.instances[n % cluster.instances.len()];
        wrong_login(&mallory, instance.url("/api/auth/login"))
    }))
    .await;
    let checked = burst.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = burst
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + refused, guesses, "{burst:?}");
    assert!(
        checked <= LIMIT,
        "{checked} of {guesses} guesses reached the password check"
    );

    let mut after = Vec::new();
    for attempt in 0..=LIMIT - checked {
        let instance = &cluster.instances[attempt % cluster.instances.len()];
        after.push(wrong_login(&mallory, instance.url("/api/auth/login")).await);
    }
    let mut expected = vec![StatusCode::UNAUTHORIZED; LIMIT - checked];
    expected.push(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(after, expected, "after a burst in which {checked} were checked");
}

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn concurrent_uploads_spread_over_instances_stop_at_exactly_the_image_quota() {
    let cluster = Cluster::start(&[("EDGEPASS_QUOTA_IMAGES", "10")]).await;
    let alice = browser();
    register(&alice, &cluster.url(""), "alice@example.com").await;

    let attempts = 8 * cluster.instances.len();
    let answers = join_all((0..attempts).map(|n| {
        let instance = &cluster.instances[n % cluster.instances.len()];
        alice
            .post(instance.url("/api/images"))
            .json(&json!({ "content_type": "image/png", "byte_size": 10, "name": format!("{n}.png") }))
            .send()
    }))
    .await;

    let statuses: Vec<StatusCode> = answers
        .into_iter()
        .map(|a| a.expect("start upload").status())
        .collect();
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (10, attempts - 10), "{statuses:?}");
    let rows = edgepass::db::entity::image::Entity::find()
        .all(&cluster.db().await)
        .await
        .expect("image rows");
    assert_eq!(rows.len(), 10);
}
