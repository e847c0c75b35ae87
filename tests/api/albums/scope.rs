//! At the local edge, an album's cookie set opens its album's objects and nothing else, however the
//! request is written: another album, a neighbour's id with a suffix, a walk out with `..`, the owner's
//! root, or another owner's album with the same id.

use reqwest::StatusCode;

use super::{Browser, album_path, id_of, url_of};
use crate::helpers::{RawReply, TestApp, read_reply};

async fn raw_edge_get(app: &TestApp, target: &str, cookie: &str) -> RawReply {
    use tokio::io::AsyncWriteExt;
    let port = app.edge_port.expect("an edge");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    read_reply(&mut stream).await
}

#[tokio::test]
async fn an_album_set_opens_its_album_and_no_path_beside_it() {
    let app = super::spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let bob = Browser::sign_up(&app, "bob@example.com").await;
    let album = alice.create_album(&app, "Shared").await;
    let inside = alice.upload(&app, Some(&album)).await;
    let root = alice.upload(&app, None).await;
    let other = alice.create_album(&app, "Other").await;
    let in_other = alice.upload(&app, Some(&other)).await;
    let carol = Browser::sign_up(&app, "carol@example.com").await;
    alice.share(&app, &album, &bob).await;
    assert_eq!(bob.open(&app, &album).await.status, StatusCode::OK);
    let cookie = bob.cookie_header(&url_of(&inside)).expect("the album set");

    let prefix = album_path(alice.id, &album);
    let file = format!("{}.png", id_of(&inside));
    let ok = raw_edge_get(&app, &format!("{prefix}{file}"), &cookie).await;
    assert_eq!(ok.status, 200, "the album's own object");

    let a = alice.id;
    let refused = [
        format!("/users/{a}/albums/{album}0/{file}"),
        format!("/users/{a}/albums/{album}/../{other}/{}.png", id_of(&in_other)),
        format!(
            "/users/{a}/albums/{album}/%2e%2e/{other}/{}.png",
            id_of(&in_other)
        ),
        format!("/users/{a}/albums/{album}/..%2F..%2F{}.png", id_of(&root)),
        format!("/users/{a}/albums/{other}/{}.png", id_of(&in_other)),
        format!("/users/{a}/{}.png", id_of(&root)),
        format!("/users/{}/albums/{album}/{file}", carol.id),
        format!("/users/{a}0/albums/{album}/{file}"),
        format!("/users/{a}/albums/{}/{file}", album.to_uppercase()),
        format!("/users/{a}/albums//{album}/{file}"),
    ];
    for target in refused {
        let reply = raw_edge_get(&app, &target, &cookie).await;
        assert_eq!(reply.status, 403, "{target}");
    }
    // Absolute-form targets and a forged Host are the distribution's own URL too.
    let forged = raw_edge_get(
        &app,
        &format!("http://evil.example/users/{a}/{}.png", id_of(&root)),
        &cookie,
    )
    .await;
    assert_eq!(forged.status, 403);
}
