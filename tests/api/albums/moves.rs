//! Adding and removing images: the object moves with the same resumable copy-then-delete steps as a
//! visibility change, and a move cut short at any step finishes when the request is repeated.

use edgepass::db::entity::image::Visibility;
use edgepass::db::images::Placement;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Browser, album_id, id_of, private_png, public_png, spawn_with, stored, url_of};
use crate::images::{Interrupted, interrupt_move_to};

#[tokio::test]
async fn adding_moves_the_object_into_the_album_and_removing_moves_it_back() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let first = alice.create_album(&app, "First").await;
    let second = alice.create_album(&app, "Second").await;
    let id = id_of(&alice.upload(&app, None).await);

    let added = alice.add(&app, &first, &id).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text());
    let added = added.json();
    assert_eq!(added["album_id"], first.as_str());
    assert_eq!(added["change_pending"], false);
    assert!(stored(&app, &private_png(alice.id, Some(&first), &id)).await);
    assert!(!stored(&app, &private_png(alice.id, None, &id)).await);
    assert_eq!(alice.load(&url_of(&added)).await, StatusCode::OK);
    // Adding again changes nothing.
    assert_eq!(alice.add(&app, &first, &id).await.status, StatusCode::OK);

    // One album at most: adding to another moves it there.
    let moved = alice.add(&app, &second, &id).await.json();
    assert_eq!(moved["album_id"], second.as_str());
    assert!(stored(&app, &private_png(alice.id, Some(&second), &id)).await);
    assert!(!stored(&app, &private_png(alice.id, Some(&first), &id)).await);
    assert_eq!(alice.open(&app, &first).await.json()["images"], json!([]));

    // Removing it from an album it is not in is not found; from its own, it goes back to the root.
    let path = format!("/api/albums/{first}/images/{id}");
    alice
        .send(&app, Method::DELETE, &path, None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let path = format!("/api/albums/{second}/images/{id}");
    let removed = alice.send(&app, Method::DELETE, &path, None).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text());
    assert!(removed.json().get("album_id").is_none());
    assert!(stored(&app, &private_png(alice.id, None, &id)).await);
    assert!(!stored(&app, &private_png(alice.id, Some(&second), &id)).await);
    assert_eq!(app.audited("image_moved").await.len(), 3);
}

#[tokio::test]
async fn a_public_image_keeps_its_public_key_in_an_album_and_goes_private_into_it() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let album = alice.create_album(&app, "Mixed").await;
    let id = id_of(&alice.upload(&app, None).await);
    let visibility = |v: &str| json!({ "visibility": v });
    let path = format!("/api/images/{id}");
    alice
        .send(&app, Method::PATCH, &path, Some(&visibility("public")))
        .await;

    let added = alice.add(&app, &album, &id).await.json();
    assert_eq!(added["url"], app.edge_url(&format!("/public/{id}.png")));
    assert!(stored(&app, &public_png(&id)).await);

    let private = alice
        .send(&app, Method::PATCH, &path, Some(&visibility("private")))
        .await
        .json();
    assert_eq!(
        private["url"],
        app.edge_url(&format!("/users/{}/albums/{album}/{id}.png", alice.id))
    );
    assert!(stored(&app, &private_png(alice.id, Some(&album), &id)).await);
    assert!(!stored(&app, &public_png(&id)).await);
    assert!(!stored(&app, &private_png(alice.id, None, &id)).await);
    assert_eq!(
        app.audited("invalidation_requested").await,
        vec![format!("/public/{id}.png")]
    );
}

#[tokio::test]
async fn a_move_into_an_album_cut_short_at_any_step_finishes_when_repeated() {
    for stage in Interrupted::ALL {
        let app = spawn_with(&[]).await;
        let alice = Browser::sign_up(&app, "alice@example.com").await;
        let album = alice.create_album(&app, "Resumed").await;
        let id = id_of(&alice.upload(&app, None).await);
        let target = album_id(&album);
        let placement = Placement {
            visibility: Visibility::Private,
            album: Some(&target),
        };
        let (root, inside) = interrupt_move_to(&app, &id, &placement, stage).await;
        assert_eq!(inside, private_png(alice.id, Some(&album), &id));

        let repeated = alice.add(&app, &album, &id).await;
        assert_eq!(repeated.status, StatusCode::OK, "{stage:?}: {}", repeated.text());
        assert_eq!(repeated.json()["change_pending"], false, "{stage:?}");
        assert!(stored(&app, &inside).await, "{stage:?}");
        assert!(!stored(&app, &root).await, "{stage:?}");
        let row = app.image_row(&id).await.expect("row");
        assert_eq!(
            (row.object_key.as_str(), row.moving_to),
            (inside.as_str(), None),
            "{stage:?}"
        );
    }
}

#[tokio::test]
async fn a_move_heading_elsewhere_is_undone_before_the_next_one() {
    let app = spawn_with(&[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let (first, second) = (
        alice.create_album(&app, "A").await,
        alice.create_album(&app, "B").await,
    );
    let id = id_of(&alice.upload(&app, None).await);
    // A move into the first album, copied but not finished.
    let target = album_id(&first);
    let placement = Placement {
        visibility: Visibility::Private,
        album: Some(&target),
    };
    let (root, in_first) = interrupt_move_to(&app, &id, &placement, Interrupted::Copied).await;

    // The owner puts it into the second album instead: one copy, there, and none left behind.
    let added = alice.add(&app, &second, &id).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text());
    assert!(stored(&app, &private_png(alice.id, Some(&second), &id)).await);
    assert!(!stored(&app, &in_first).await);
    assert!(!stored(&app, &root).await);
}
