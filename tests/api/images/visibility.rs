//! Making an image public or private: the object moves between its two places, a move cut short is
//! finished by the next request, and only one request works on an image at a time.

use edgepass::db::entity::image::{Location, Visibility};
use edgepass::images::ContentType;
use edgepass::images::lifecycle::{self, LEASE_SECS};
use reqwest::StatusCode;

use super::{
    Copies, HTML, Interrupted, alice, copies, id_of, image, image_id, interrupt_move, invalidated,
    private_png, public_png, ready_png, services_on, started_png, stored, unreachable_storage,
};
use crate::helpers::{PNG, put_to};

#[tokio::test]
async fn making_an_image_public_moves_its_object_and_private_again_moves_it_back_and_invalidates() {
    let (app, alice) = alice().await;
    let id = ready_png(&app).await;
    let cdn = app.state.bound.cdn_base_url.clone();

    let public = app.set_visibility(&id, "public").await;

    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    assert_eq!(public.json()["visibility"], "public");
    assert_eq!(public.json()["url"], format!("{cdn}/public/{id}.png"));
    assert_eq!(public.json()["change_pending"], false);
    assert_eq!(copies(&app, alice, &id).await, Copies::Public);
    assert_eq!(app.audited("image_made_public").await, [id.as_str()]);

    let private = app.set_visibility(&id, "private").await;

    assert_eq!(private.status, StatusCode::OK, "{}", private.text());
    assert_eq!(private.json()["visibility"], "private");
    assert_eq!(private.json()["url"], format!("{cdn}/users/{alice}/{id}.png"));
    assert_eq!(copies(&app, alice, &id).await, Copies::Private);
    assert_eq!(app.audited("image_made_private").await, [id.as_str()]);
    assert_eq!(app.audited("invalidation_requested").await, invalidated(&id));
    let row = app.image_row(&id).await.expect("row");
    assert_eq!(row.object_key, format!("users/{alice}/{id}.png"));
    assert_eq!(row.changes, 2, "each change is numbered for its caller reference");
}

#[tokio::test]
async fn asking_for_the_visibility_an_image_has_changes_nothing() {
    let (app, alice) = alice().await;
    let view = app.upload("image/png", PNG, "a.png").await;
    let id = id_of(&view);

    let same = app.set_visibility(&id, "private").await;

    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(same.json(), view);
    assert_eq!(copies(&app, alice, &id).await, Copies::Private);
    assert_eq!(app.image_row(&id).await.map(|r| r.changes), Some(0));
    app.set_visibility(&id, "public").await;
    let again = app.set_visibility(&id, "public").await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(app.audited("image_made_public").await.len(), 1);
}

#[tokio::test]
async fn a_visibility_other_than_public_or_private_returns_422() {
    let (app, _) = alice().await;
    let id = ready_png(&app).await;

    for visibility in ["", "Public ", "shared", "PRIVATE"] {
        app.set_visibility(&id, visibility)
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }
}

#[tokio::test]
async fn an_unfinished_upload_cannot_change_visibility() {
    let (app, _) = alice().await;
    let (_, id) = started_png(&app, 10, "a.png").await;

    app.set_visibility(&id, "public")
        .await
        .assert_error(StatusCode::CONFLICT, "not_ready");

    assert_eq!(
        app.image_row(&id).await.map(|r| (r.location, r.lease_until)),
        Some((Location::Private, None)),
        "nothing moved and the lease was given back"
    );
}

// Moves cut short.

#[tokio::test]
async fn an_interrupted_change_to_public_is_finished_by_repeating_the_patch() {
    let (app, alice) = alice().await;
    for stage in Interrupted::ALL {
        let id = ready_png(&app).await;
        interrupt_move(&app, &id, Visibility::Public, stage).await;
        let meanwhile = image(&app, &id).await.json();
        assert_eq!(meanwhile["change_pending"], true, "{stage:?}");
        assert_eq!(meanwhile["visibility"], "public", "{stage:?}");

        let retried = app.set_visibility(&id, "public").await;

        assert_eq!(retried.status, StatusCode::OK, "{stage:?}: {}", retried.text());
        assert_eq!(retried.json()["change_pending"], false);
        assert_eq!(copies(&app, alice, &id).await, Copies::Public, "{stage:?}");
        assert_eq!(
            stored(&app, &public_png(&id)).await.map(|o| o.size),
            Some(PNG.len() as u64),
            "{stage:?}"
        );
        assert_eq!(
            app.image_row(&id).await.map(|r| r.location),
            Some(Location::Public)
        );
    }
}

#[tokio::test]
async fn an_interrupted_change_to_private_is_finished_by_repeating_the_patch() {
    let (app, alice) = alice().await;
    for stage in Interrupted::ALL {
        let id = ready_png(&app).await;
        assert_eq!(app.set_visibility(&id, "public").await.status, StatusCode::OK);
        interrupt_move(&app, &id, Visibility::Private, stage).await;

        let retried = app.set_visibility(&id, "private").await;

        assert_eq!(retried.status, StatusCode::OK, "{stage:?}: {}", retried.text());
        assert_eq!(copies(&app, alice, &id).await, Copies::Private, "{stage:?}");
        assert!(
            app.audited("invalidation_requested")
                .await
                .contains(&invalidated(&id)[0]),
            "{stage:?}"
        );
    }
}

#[tokio::test]
async fn a_change_cut_short_by_an_unreachable_store_is_finished_by_the_next_patch() {
    let (app, alice) = alice().await;
    let id = ready_png(&app).await;
    let dead = unreachable_storage().await;
    let row = app.image_row(&id).await.expect("row");

    let failed =
        lifecycle::change_visibility(services_on(&app, &dead), row, Visibility::Public, app.now()).await;

    assert!(
        matches!(failed, Err(lifecycle::LifecycleError::Storage(_))),
        "{failed:?}"
    );
    assert_eq!(
        app.image_row(&id).await.map(|r| r.location),
        Some(Location::CopyingToPublic)
    );
    assert_eq!(copies(&app, alice, &id).await, Copies::Private, "nothing lost");
    let retried = app.set_visibility(&id, "public").await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.text());
    assert_eq!(copies(&app, alice, &id).await, Copies::Public);
}

#[tokio::test]
async fn changing_direction_midway_keeps_exactly_one_copy() {
    let (app, alice) = alice().await;
    let id = ready_png(&app).await;
    interrupt_move(&app, &id, Visibility::Public, Interrupted::Copied).await;

    let back = app.set_visibility(&id, "private").await;

    assert_eq!(back.status, StatusCode::OK, "{}", back.text());
    assert_eq!(copies(&app, alice, &id).await, Copies::Private);
    assert_eq!(
        app.audited("invalidation_requested").await,
        invalidated(&id),
        "the public copy may have been served"
    );
}

#[tokio::test]
async fn bytes_written_to_the_private_key_through_a_url_from_before_staging_are_checked_before_going_public()
{
    let (app, alice) = alice().await;
    let id = ready_png(&app).await;
    // Before uploads were staged, upload URLs named the private key and stayed valid after completion.
    let legacy = app
        .state
        .storage
        .presign_put(
            &private_png(alice, &id),
            ContentType::Png,
            PNG.len() as u64,
            std::time::Duration::from_secs(300),
            std::time::SystemTime::now(),
        )
        .await
        .expect("presign");
    let mut html = HTML[..PNG.len()].to_vec();
    html[0] = b'<';
    assert_eq!(put_to(&legacy.url, "image/png", &html).await, StatusCode::OK);

    let refused = app.set_visibility(&id, "public").await;

    refused.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "upload_rejected");
    assert_eq!(copies(&app, alice, &id).await, Copies::Private);
    let view = image(&app, &id).await.json();
    assert_eq!(
        (view["visibility"].as_str(), view["change_pending"].as_bool()),
        (Some("private"), Some(false))
    );
}

#[tokio::test]
async fn a_change_while_another_holds_the_image_returns_409_busy() {
    let (app, _) = alice().await;
    let id = ready_png(&app).await;
    let until = app.now() + LEASE_SECS;
    assert!(
        edgepass::db::images::try_lease(app.db(), &image_id(&id), None, app.now(), until)
            .await
            .expect("lease")
    );

    app.set_visibility(&id, "public")
        .await
        .assert_error(StatusCode::CONFLICT, "busy");
    app.delete_image(&id)
        .await
        .assert_error(StatusCode::CONFLICT, "busy");

    app.advance(LEASE_SECS);
    assert_eq!(
        app.set_visibility(&id, "public").await.status,
        StatusCode::OK,
        "an expired lease is taken over"
    );
}
