//! Deleting an account: every object (private, public, staging, album copies) and row goes, the grants
//! in both directions and the links end, public copies are invalidated, the audit log keeps the events
//! under the user id but not the email, and the email can be registered again as a new account; a
//! deletion cut short by the store is finished by the sweep.

use std::path::Path;

use edgepass::db::entity::{album, album_share, audit_event, image, session, share, share_link, user};
use edgepass::domain::UserId;
use edgepass::images::account_deletion;
use edgepass::images::lease::Lease;
use edgepass::images::lifecycle::Services;
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::albums::{Browser, id_of, url_of};
use crate::helpers::{PASSWORD, PNG, TestApp, put_upload, real_now};
use crate::images::{services_on, unreachable_storage};

/// Every file the embedded store holds under the data folder whose path names `fragment`.
fn stored_files(dir: &Path, fragment: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.to_string_lossy().contains(fragment) {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// Alice with everything an account can hold: a private image shared with Bob and linked, a public
/// one, an album shared with Bob with an image in it, a staged upload never completed, and a grant
/// from Bob. Returns (alice, bob, her image ids, Bob's image id).
pub(crate) async fn alice_with_everything(app: &TestApp) -> (Browser, Browser, Vec<String>, String) {
    let alice = Browser::sign_up(app, "alice@example.com").await;
    let bob = Browser::sign_up(app, "bob@example.com").await;
    let private = id_of(&alice.upload(app, None).await);
    let public = id_of(&alice.upload(app, None).await);
    let made_public = alice
        .send(
            app,
            Method::PATCH,
            &format!("/api/images/{public}"),
            Some(&json!({ "visibility": "public" })),
        )
        .await;
    assert_eq!(made_public.status, StatusCode::OK, "{}", made_public.text());
    let album = alice.create_album(app, "Trip").await;
    let in_album = id_of(&alice.upload(app, Some(&album)).await);
    assert_eq!(alice.share(app, &album, &bob).await.status, StatusCode::OK);
    let shared = alice
        .send(
            app,
            Method::PUT,
            &format!("/api/images/{private}/shares/bob@example.com"),
            None,
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK);
    let link = alice
        .send(
            app,
            Method::POST,
            &format!("/api/images/{private}/links"),
            Some(&json!({ "expires_in": 3600 })),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED);
    let ticket = alice
        .send(
            app,
            Method::POST,
            "/api/images",
            Some(&json!({ "content_type": "image/png", "byte_size": PNG.len(), "name": "staged.png" })),
        )
        .await
        .json();
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    let staged = id_of(&ticket);
    let bobs = id_of(&bob.upload(app, None).await);
    let granted = bob
        .send(
            app,
            Method::PUT,
            &format!("/api/images/{bobs}/shares/alice@example.com"),
            None,
        )
        .await;
    assert_eq!(granted.status, StatusCode::OK);
    (alice, bob, vec![private, public, in_album, staged], bobs)
}

async fn count<E>(app: &TestApp, filter: sea_orm::Condition) -> u64
where
    E: EntityTrait,
    E::Model: Sync,
{
    E::find().filter(filter).count(app.db()).await.expect("count")
}

async fn delete(app: &TestApp, who: &Browser, password: &str) -> crate::helpers::Reply {
    who.send(
        app,
        Method::DELETE,
        "/api/account",
        Some(&json!({ "password": password })),
    )
    .await
}

#[tokio::test]
async fn deleting_the_account_removes_every_object_and_row_and_the_email_can_come_back() {
    let app = TestApp::spawn_at(real_now(), &[]).await;
    let (alice, bob, images, bobs) = alice_with_everything(&app).await;
    let owner = UserId(alice.id);
    let public_url = {
        let listed = alice.get(&app, "/api/images?limit=100").await.json();
        listed["images"]
            .as_array()
            .expect("images")
            .iter()
            .find(|i| i["id"] == images[1].as_str())
            .map(url_of)
            .expect("public image")
    };
    assert!(!stored_files(&app.data_dir, &format!("users/{}/", alice.id)).is_empty());

    delete(&app, &alice, "not the password")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(
        alice.get(&app, "/api/me").await.status,
        StatusCode::OK,
        "nothing changed"
    );
    assert_eq!(
        count::<image::Entity>(&app, image::Column::OwnerId.eq(owner).into()).await,
        4
    );

    let deleted = delete(&app, &alice, PASSWORD).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text());
    assert_eq!(deleted.set_cookie("edgepass_session").get("Max-Age"), Some("0"));
    assert_eq!(alice.get(&app, "/api/me").await.status, StatusCode::UNAUTHORIZED);

    // Nothing of hers is left in the store: her prefix, her staged upload, her public copy.
    for fragment in [format!("users/{}/", alice.id), format!("staging/{}/", alice.id)] {
        assert_eq!(
            stored_files(&app.data_dir, &fragment),
            Vec::<String>::new(),
            "{fragment}"
        );
    }
    for id in &images {
        assert_eq!(
            stored_files(&app.data_dir, &format!("public/{id}")),
            Vec::<String>::new()
        );
    }
    assert_eq!(
        reqwest::Client::new()
            .get(&public_url)
            .send()
            .await
            .expect("GET")
            .status(),
        StatusCode::FORBIDDEN,
        "the edge has no public copy to serve"
    );
    assert!(
        !app.audited("invalidation_requested").await.is_empty(),
        "the public path was invalidated"
    );

    // And nothing of hers in the database.
    assert_eq!(
        count::<user::Entity>(&app, user::Column::Id.eq(owner).into()).await,
        0
    );
    assert_eq!(
        count::<image::Entity>(&app, image::Column::OwnerId.eq(owner).into()).await,
        0
    );
    assert_eq!(
        count::<album::Entity>(&app, album::Column::OwnerId.eq(owner).into()).await,
        0
    );
    assert_eq!(
        count::<session::Entity>(&app, session::Column::UserId.eq(owner).into()).await,
        0
    );
    assert_eq!(
        count::<share::Entity>(&app, sea_orm::Condition::all()).await,
        0,
        "both directions"
    );
    assert_eq!(
        count::<album_share::Entity>(&app, sea_orm::Condition::all()).await,
        0
    );
    assert_eq!(
        count::<share_link::Entity>(&app, sea_orm::Condition::all()).await,
        0
    );
    let events = audit_event::Entity::find().all(app.db()).await.expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.actor_id == Some(owner) && e.action == "account_deleted")
    );
    assert!(
        events.iter().all(|e| !e.subject.contains("alice@example.com")),
        "the log keeps no address: {:?}",
        events.iter().map(|e| &e.subject).collect::<Vec<_>>()
    );

    // Bob no longer sees her image or her album, and his own image is his alone again.
    assert_eq!(
        bob.get(&app, "/api/shared-with-me").await.json()["images"],
        json!([])
    );
    assert_eq!(bob.get(&app, "/api/albums").await.json()["shared"], json!([]));
    assert_eq!(
        bob.get(&app, &format!("/api/images/{bobs}/shares")).await.json()["shares"],
        json!([])
    );

    // The address can be registered again, as a new account.
    let again = Browser::sign_up(&app, "alice@example.com").await;
    assert_ne!(again.id, alice.id);
    assert_eq!(again.get(&app, "/api/images").await.json()["images"], json!([]));
}

#[tokio::test]
async fn a_deletion_cut_short_is_finished_by_the_sweep() {
    let app = TestApp::spawn_at(real_now(), &[]).await;
    let (alice, _bob, images, _) = alice_with_everything(&app).await;
    let owner = UserId(alice.id);
    // Another change holds one image: the request deletes the rest and answers 202.
    let held = Lease::take(
        app.db(),
        &images[0].parse().expect("id"),
        Some(owner),
        app.now(),
        60,
    )
    .await
    .expect("lease")
    .expect("taken");

    let deleted = delete(&app, &alice, PASSWORD).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.text());
    assert_eq!(deleted.json(), json!({ "status": "deleting" }));
    assert_eq!(
        alice.get(&app, "/api/me").await.status,
        StatusCode::UNAUTHORIZED,
        "gone for her at once"
    );
    assert_eq!(
        count::<image::Entity>(&app, image::Column::OwnerId.eq(owner).into()).await,
        1
    );
    held.release(app.db()).await.expect("release");

    // A pass against a store that cannot be reached fails and leaves everything to the next one.
    let dead = unreachable_storage().await;
    let services: Services<'_> = services_on(&app, &dead);
    assert!(
        account_deletion::finish(services, owner, app.now())
            .await
            .is_err()
    );
    assert_eq!(
        count::<image::Entity>(&app, image::Column::OwnerId.eq(owner).into()).await,
        1
    );
    assert!(!stored_files(&app.data_dir, &format!("users/{}/", alice.id)).is_empty());

    // The sweep finishes it.
    assert_eq!(
        account_deletion::sweep_accounts(app.services(), app.now())
            .await
            .expect("sweep"),
        1
    );
    assert_eq!(
        stored_files(&app.data_dir, &format!("users/{}/", alice.id)),
        Vec::<String>::new()
    );
    assert_eq!(
        count::<user::Entity>(&app, user::Column::Id.eq(owner).into()).await,
        0
    );
    assert_eq!(
        account_deletion::sweep_accounts(app.services(), app.now())
            .await
            .expect("sweep"),
        0
    );
}

#[tokio::test]
async fn another_user_cannot_delete_an_account_but_their_own() {
    let app = TestApp::spawn_at(real_now(), &[]).await;
    let alice = Browser::sign_up(&app, "alice@example.com").await;
    let mallory = Browser::sign_up(&app, "mallory@example.com").await;
    alice.upload(&app, None).await;
    // Mallory's session with Alice's password deletes nothing: the password is checked against her own.
    delete(&app, &mallory, PASSWORD.to_uppercase().as_str())
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(alice.get(&app, "/api/me").await.status, StatusCode::OK);
    let anonymous = reqwest::Client::new()
        .delete(app.url("/api/account"))
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        count::<image::Entity>(&app, image::Column::OwnerId.eq(UserId(alice.id)).into()).await,
        1
    );
}
