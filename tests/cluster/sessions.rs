//! Sessions live in the database: one made through the balancer works on every instance, and a
//! logout on one ends it on all of them at once.

use reqwest::StatusCode;

use crate::harness::{Cluster, browser, register};

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn a_session_made_through_the_balancer_works_on_every_instance() {
    let cluster = Cluster::start(&[]).await;
    let alice = browser();
    let id = register(&alice, &cluster.url(""), "alice@example.com").await;

    for instance in &cluster.instances {
        let me = alice
            .get(instance.url("/api/me"))
            .send()
            .await
            .expect("GET /api/me");
        assert_eq!(me.status(), StatusCode::OK, "instance {}", instance.n);
        let body: serde_json::Value = me.json().await.expect("JSON");
        assert_eq!(body["user"]["id"], id, "instance {}", instance.n);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and haproxy: scripts/test runs it when EDGEPASS_TEST_DATABASE_URL is set"]
async fn a_copied_session_cookie_stops_working_on_every_instance_the_moment_it_is_logged_out() {
    let cluster = Cluster::start(&[]).await;
    let alice = reqwest::Client::builder().no_proxy().build().expect("client");
    let reply = alice
        .post(cluster.url("/api/auth/register"))
        .json(&serde_json::json!({ "email": "alice@example.com", "password": crate::harness::PASSWORD }))
        .send()
        .await
        .expect("register");
    assert_eq!(reply.status(), StatusCode::CREATED);
    let cookie = reply
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("edgepass_session="))
        .and_then(|v| v.split(';').next())
        .map(|v| format!("edgepass_session={v}"))
        .expect("a session cookie");
    let me = |url: String| {
        let (alice, cookie) = (alice.clone(), cookie.clone());
        async move {
            alice
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .expect("GET /api/me")
                .status()
        }
    };
    for instance in &cluster.instances {
        assert_eq!(me(instance.url("/api/me")).await, StatusCode::OK);
    }

    let out = alice
        .post(cluster.instances[0].url("/api/auth/logout"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);

    // No wait: the very next request on any other instance is refused.
    for instance in &cluster.instances {
        assert_eq!(
            me(instance.url("/api/me")).await,
            StatusCode::UNAUTHORIZED,
            "instance {}",
            instance.n
        );
    }
}
