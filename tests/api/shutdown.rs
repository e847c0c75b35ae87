//! Graceful shutdown: requests already in flight finish, new connections are turned away.

use std::time::Duration;

use crate::helpers::{PASSWORD, TestApp, connect, read_reply, write};

#[tokio::test]
async fn a_login_in_flight_when_the_stop_signal_comes_still_completes() {
    let mut app = TestApp::spawn().await;
    app.signed_up("alice@example.com").await;
    let body = format!(r#"{{"email": "alice@example.com", "password": "{PASSWORD}"}}"#);
    let (first_half, second_half) = body.split_at(body.len() / 2);

    // Headers and half the body: edgepass is now inside the request, waiting for the rest.
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{first_half}",
        body.len()
    );
    write(&mut stream, head.as_bytes()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.stop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    write(&mut stream, second_half.as_bytes()).await;
    let reply = read_reply(&mut stream).await;

    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.json()["user"]["email"], "alice@example.com");
    assert!(
        reply
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("set-cookie") && v.starts_with("edgepass_session=")),
        "{reply:?}"
    );
    tokio::time::timeout(Duration::from_secs(10), app.stopped())
        .await
        .expect("the server stops once the request is done")
        .expect("a clean stop");
}

#[tokio::test]
async fn after_the_stop_no_new_connections_are_served() {
    let mut app = TestApp::spawn().await;
    let addr = app.addr();
    let edge = std::net::SocketAddr::from(([127, 0, 0, 1], app.edge_port.expect("a local edge")));
    assert!(tokio::net::TcpStream::connect(edge).await.is_ok());

    app.stop();
    tokio::time::timeout(Duration::from_secs(10), app.stopped())
        .await
        .expect("an idle server stops at once")
        .expect("a clean stop");

    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );
    assert!(
        tokio::net::TcpStream::connect(edge).await.is_err(),
        "the local edge stopped with it"
    );
}
