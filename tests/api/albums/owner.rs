//! The owner's side: creating, listing, renaming and deleting albums, and what another user gets for
//! each of those requests (404, as for an album that does not exist).

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Browser, id_of, private_png, spawn_with, stored};

#[tokio::test]
async fn an_album_is_created_listed_renamed_and_opened_by_its_owner() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let album = alice.create_album(&app, "  Holidays ").await;

    let list = alice.get(&app, "/api/albums").await.json();
    assert_eq!(list["albums"][0]["id"], album.as_str());
    assert_eq!(list["albums"][0]["name"], "Holidays");
    assert_eq!(
        list["albums"][0]["cookie_path"],
        format!("/users/{}/albums/{album}/", alice.id)
    );
    assert_eq!(list["shared"], json!([]));

    let renamed = alice
        .send(
            &app,
            Method::PATCH,
            &format!("/api/albums/{album}"),
            Some(&json!({ "name": "Summer" })),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    assert_eq!(renamed.json()["name"], "Summer");

    let opened = alice.open(&app, &album).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text());
    let opened_json = opened.json();
    assert_eq!(opened_json["role"], "owner");
    assert_eq!(opened_json["cookies"]["covered_by_own_cookies"], true);
    assert!(
        opened.set_cookies().is_empty(),
        "the owner's own set covers the album: {:?}",
        opened.headers
    );
    assert_eq!(app.audited("album_created").await, vec![album]);
}

#[tokio::test]
async fn bad_names_are_refused_with_422() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    for name in ["", "   ", "a\u{0}b", "x\u{202E}gpj", &"n".repeat(256)] {
        let reply = alice
            .send(&app, Method::POST, "/api/albums", Some(&json!({ "name": name })))
            .await;
        reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
    assert_eq!(alice.get(&app, "/api/albums").await.json()["albums"], json!([]));
}

#[tokio::test]
async fn another_users_album_is_not_found_for_every_request() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let album = alice.create_album(&app, "Mine").await;
    let image = id_of(&alice.upload(&app, Some(&album)).await);
    let mallory = Browser::sign_up(&app, "mallory@example.com").await;
    let own = id_of(&mallory.upload(&app, None).await);

    let requests = [
        (Method::GET, format!("/api/albums/{album}"), None),
        (Method::POST, format!("/api/albums/{album}/cookies"), None),
        (
            Method::PATCH,
            format!("/api/albums/{album}"),
            Some(json!({ "name": "Taken" })),
        ),
        (Method::DELETE, format!("/api/albums/{album}"), None),
        (
            Method::DELETE,
            format!("/api/albums/{album}?with_images=true"),
            None,
        ),
        (Method::PUT, format!("/api/albums/{album}/images/{own}"), None),
        (
            Method::DELETE,
            format!("/api/albums/{album}/images/{image}"),
            None,
        ),
        (
            Method::PUT,
            format!("/api/albums/{album}/shares/mallory@example.com"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/albums/{album}/shares/{}", mallory.id),
            None,
        ),
        (Method::GET, format!("/api/albums/{album}/shares"), None),
        (Method::GET, "/api/albums/not-an-album-id".to_owned(), None),
        (Method::GET, "/api/albums/..%2F..%2Fusers".to_owned(), None),
    ];
    for (method, path, body) in requests {
        let reply = mallory.send(&app, method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            reply.text()
        );
        assert!(
            !reply
                .set_cookies()
                .iter()
                .any(|c| c.name.starts_with("CloudFront-")),
            "{method} {path} set no CloudFront cookie"
        );
    }
    // Nor can Mallory upload into it, or put Alice's image into an album of hers.
    let upload = mallory
        .send(
            &app,
            Method::POST,
            "/api/images",
            Some(
                &json!({ "content_type": "image/png", "byte_size": 10, "name": "x.png", "album_id": album }),
            ),
        )
        .await;
    upload.assert_error(StatusCode::NOT_FOUND, "not_found");
    let hers = mallory.create_album(&app, "Hers").await;
    mallory
        .add(&app, &hers, &image)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    // Nothing changed.
    let opened = alice.open(&app, &album).await.json();
    assert_eq!(opened["album"]["name"], "Mine");
    assert_eq!(opened["images"][0]["id"], image.as_str());
    assert!(stored(&app, &private_png(alice.id, Some(&album), &image)).await);
}

#[tokio::test]
async fn an_upload_into_an_album_lands_in_its_prefix() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let album = alice.create_album(&app, "Straight in").await;
    let image = alice.upload(&app, Some(&album)).await;
    let id = id_of(&image);
    assert_eq!(image["album_id"], album.as_str());
    let key = private_png(alice.id, Some(&album), &id);
    assert!(stored(&app, &key).await);
    assert!(!stored(&app, &private_png(alice.id, None, &id)).await);
    assert_eq!(
        image["url"],
        app.edge_url(&format!("/users/{}/albums/{album}/{id}.png", alice.id))
    );
    // The owner's own cookies open it: their Path covers every album of theirs.
    assert_eq!(
        alice.load(image["url"].as_str().expect("url")).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn deleting_an_album_moves_its_images_back_to_the_root() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let album = alice.create_album(&app, "Short-lived").await;
    let ids: Vec<String> = futures::future::join_all((0..3).map(|_| alice.upload(&app, Some(&album))))
        .await
        .iter()
        .map(id_of)
        .collect();
    let public = &ids[0];
    let made_public = alice
        .send(
            &app,
            Method::PATCH,
            &format!("/api/images/{public}"),
            Some(&json!({ "visibility": "public" })),
        )
        .await;
    assert_eq!(made_public.status, StatusCode::OK, "{}", made_public.text());

    let deleted = alice
        .send(&app, Method::DELETE, &format!("/api/albums/{album}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    alice
        .open(&app, &album)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    for id in &ids[1..] {
        assert!(
            stored(&app, &private_png(alice.id, None, id)).await,
            "{id} at the root"
        );
        assert!(
            !stored(&app, &private_png(alice.id, Some(&album), id)).await,
            "{id} out of the album"
        );
    }
    assert!(
        stored(&app, &super::public_png(public)).await,
        "a public image stays public"
    );
    let listed = alice.get(&app, "/api/images").await.json();
    assert_eq!(listed["images"].as_array().map(Vec::len), Some(3));
    assert!(
        listed["images"]
            .as_array()
            .expect("images")
            .iter()
            .all(|i| i.get("album_id").is_none())
    );
    assert_eq!(app.audited("album_deleted").await, vec![album.clone()]);
    // Deleting again finds nothing.
    alice
        .send(&app, Method::DELETE, &format!("/api/albums/{album}"), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn deleting_an_album_with_its_images_deletes_them_too() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let album = alice.create_album(&app, "Gone").await;
    let kept = id_of(&alice.upload(&app, None).await);
    let inside = id_of(&alice.upload(&app, Some(&album)).await);
    let deleted = alice
        .send(
            &app,
            Method::DELETE,
            &format!("/api/albums/{album}?with_images=true"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    assert!(!stored(&app, &private_png(alice.id, Some(&album), &inside)).await);
    assert!(app.image_row(&inside).await.is_none());
    assert!(
        stored(&app, &private_png(alice.id, None, &kept)).await,
        "images outside stay"
    );
    assert_eq!(app.audited("image_deleted").await, vec![inside]);
}

#[tokio::test]
async fn an_album_deletion_cut_short_is_finished_by_repeating_it_or_by_the_sweep() {
    for finish_by_sweep in [false, true] {
        let app = spawn_with(&[]).await;
        let alice = Browser::sign_up(&app, "alice@example.com").await;
        let album = alice.create_album(&app, "Interrupted").await;
        let id = id_of(&alice.upload(&app, Some(&album)).await);
        // As by a process that died right after recording the deletion.
        let target = super::album_id(&album);
        assert!(
            edgepass::db::albums::start_delete(app.db(), &target, false, app.now())
                .await
                .expect("record the deletion")
        );
        alice
            .open(&app, &album)
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found");
        if finish_by_sweep {
            let finished = edgepass::images::album_emptying::sweep_albums(app.services(), app.now())
                .await
                .expect("sweep");
            assert_eq!(finished, 1);
        } else {
            let repeated = alice
                .send(&app, Method::DELETE, &format!("/api/albums/{album}"), None)
                .await;
            assert_eq!(repeated.status, StatusCode::NO_CONTENT, "{}", repeated.text());
        }
        assert!(
            stored(&app, &private_png(alice.id, None, &id)).await,
            "sweep: {finish_by_sweep}"
        );
        assert!(!stored(&app, &private_png(alice.id, Some(&album), &id)).await);
        assert!(
            edgepass::db::albums::deleting(app.db(), 10)
                .await
                .expect("query")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn an_image_another_change_holds_is_left_for_the_next_pass() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let album = alice.create_album(&app, "Busy").await;
    let id = id_of(&alice.upload(&app, Some(&album)).await);
    let lease = edgepass::images::lease::Lease::take(app.db(), &super::image_id(&id), None, app.now(), 60)
        .await
        .expect("lease")
        .expect("taken");
    let first = alice
        .send(&app, Method::DELETE, &format!("/api/albums/{album}"), None)
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.text());
    assert_eq!(first.json(), json!({ "images_done": 0, "finished": false }));
    lease.release(app.db()).await.expect("release");
    let second = alice
        .send(&app, Method::DELETE, &format!("/api/albums/{album}"), None)
        .await;
    assert_eq!(second.status, StatusCode::NO_CONTENT, "{}", second.text());
    assert!(stored(&app, &private_png(alice.id, None, &id)).await);
}

#[tokio::test]
async fn one_user_has_at_most_a_thousand_albums() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let max = edgepass::services::albums::MAX_ALBUMS;
    for _ in 1..max {
        let id = edgepass::images::AlbumId::generate().expect("id");
        edgepass::db::albums::create(app.db(), &id, edgepass::domain::UserId(alice.id), "x", app.now())
            .await
            .expect("album");
    }
    assert_eq!(
        alice
            .send(
                &app,
                Method::POST,
                "/api/albums",
                Some(&json!({ "name": "last" }))
            )
            .await
            .status,
        StatusCode::CREATED
    );
    let refused = alice
        .send(
            &app,
            Method::POST,
            "/api/albums",
            Some(&json!({ "name": "one more" })),
        )
        .await;
    refused.assert_error(StatusCode::CONFLICT, "quota_exceeded");
    let listed = alice.get(&app, "/api/albums").await.json();
    assert_eq!(listed["albums"].as_array().map(Vec::len), Some(max as usize));
}
