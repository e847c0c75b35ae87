//! Hostile-client tests: uploads. The uploader holds a presigned URL that stays valid for minutes and
//! may send any headers with it; the promise is that what is served is exactly the bytes edgepass
//! checked, with edgepass's own headers, and that nothing is served from where uploads land.
//!
//! The invariant: a presigned URL only ever names `staging/{user}/{image}`; no behavior serves that
//! prefix; the private key is written only by a completion, which copies the version it checked (by
//! entity tag) with its metadata replaced.

use edgepass::aws::s3::ObjectMeta;
use edgepass::db::entity::image;
use edgepass::domain::UserId;
use edgepass::images::lifecycle::{self, Check, Completion, Swept, UPLOAD_GRACE_SECS};
use edgepass::images::{ContentType, ImageId, ImageKey};
use edgepass::signing::{Policy, Signer};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::Value;

use crate::helpers::{PNG, Reply, TestApp, put_to, put_upload, real_now, send};

/// HTML exactly as long as [`PNG`]: passes the store's pinned type and length.
fn html_as_long_as_the_png() -> Vec<u8> {
    let mut html = b"<html><script>alert(document.cookie)</script>".to_vec();
    html.resize(PNG.len(), b' ');
    html
}

/// What an uploader would like served with the image.
const UPLOADER_HEADERS: [(&str, &str); 2] = [
    ("cache-control", "public, max-age=31536000, immutable"),
    ("content-disposition", "attachment; filename=\"invoice.html\""),
];

/// edgepass at the real time (the embedded store checks upload URLs against it) with Alice signed in
/// in its browser; returns her id.
async fn alice() -> (TestApp, i64) {
    let app = TestApp::spawn_at(real_now(), &[]).await;
    let alice = app.signed_up("alice@example.com").await;
    (app, alice)
}

/// Starts an upload of a PNG as long as [`PNG`]; returns the ticket and the image id.
async fn ticket(app: &TestApp) -> (Value, String) {
    let reply = app.start_upload("image/png", PNG.len() as u64, "a.png").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let ticket = reply.json();
    let id = ticket["id"].as_str().expect("id").to_owned();
    (ticket, id)
}

/// Uploads [`PNG`] and completes it; returns the ticket (its URL still valid) and the ready image.
async fn completed(app: &TestApp) -> (Value, Value) {
    let (ticket, id) = ticket(app).await;
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    let done = app.complete_upload(&id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    (ticket, done.json())
}

/// A PNG staged by Alice whose check has passed, with the entity tag the check read; the copy step has
/// not run yet.
struct Checked {
    app: TestApp,
    alice: i64,
    ticket: Value,
    id: String,
    row: image::Model,
    etag: String,
}

async fn staged_png_that_passed_its_check() -> Checked {
    let (app, alice) = alice().await;
    let (ticket, id) = ticket(&app).await;
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    let row = app.image_row(&id).await.expect("row");
    let Check::Passed { etag } = lifecycle::check_upload(app.services(), &row, app.now())
        .await
        .expect("check")
    else {
        panic!("the PNG passes the check");
    };
    Checked {
        app,
        alice,
        ticket,
        id,
        row,
        etag,
    }
}

fn image_id(id: &str) -> ImageId {
    ImageId::parse(id).expect("an image id")
}

fn staging(owner: i64, id: &str) -> ImageKey {
    ImageKey::staging(UserId(owner), &image_id(id))
}

fn private_png(owner: i64, id: &str) -> ImageKey {
    ImageKey::private(UserId(owner), &image_id(id), ContentType::Png)
}

async fn stored(app: &TestApp, key: &ImageKey) -> Option<ObjectMeta> {
    app.state.storage.describe(key.as_str()).await.expect("HEAD")
}

/// The image as the owner's browser loads it from the edge.
async fn served(app: &TestApp, image: &Value) -> Reply {
    send(app.client.get(image["url"].as_str().expect("a CDN URL"))).await
}

/// PUTs `body` to the ticket's URL with its pinned headers plus `extra`; returns the store's status.
async fn put_with_headers(ticket: &Value, body: &[u8], extra: &[(&str, &str)]) -> StatusCode {
    let mut request = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client")
        .put(ticket["upload_url"].as_str().expect("upload_url"))
        .body(body.to_vec());
    let pinned = ticket["upload_headers"].as_object().expect("upload_headers");
    for (name, value) in pinned {
        request = request.header(name.as_str(), value.as_str().expect("a header value"));
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.send().await.expect("the store answers").status()
}

#[tokio::test]
async fn html_put_again_after_completion_is_never_served_in_place_of_the_checked_png() {
    let (app, _) = alice().await;
    let (ticket, image) = completed(&app).await;
    let html = html_as_long_as_the_png();

    assert_eq!(
        put_upload(&ticket, "image/png", &html).await,
        StatusCode::OK,
        "the URL is still valid"
    );

    let reply = served(&app, &image).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, PNG, "the bytes that were checked");
    assert_eq!(reply.header("content-type"), Some("image/png"));
    let public = app
        .set_visibility(image["id"].as_str().expect("id"), "public")
        .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.text());
    let reply = send(app.raw.get(public.json()["url"].as_str().expect("url"))).await;
    assert_eq!(reply.body, PNG, "nor once public");
}

#[tokio::test]
async fn the_upload_url_names_a_staging_key_that_no_put_and_no_signature_makes_servable() {
    let (app, alice) = alice().await;
    let (ticket, id) = ticket(&app).await;
    let url = ticket["upload_url"].as_str().expect("url");
    let path = format!("/staging/{alice}/{id}");
    assert!(url.contains(&format!("{path}?")), "{url}");
    assert!(!url.contains("/users/") && !url.contains("/public/"), "{url}");
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    // A signature for everything on the edge, as if the key leaked into a policy for `/*`.
    let policy = Policy::new(&app.edge_url("/*"), app.now() + 600).expect("policy");
    let everything = Signer::new(
        app.state.cdn.local_key().expect("an in-process key"),
        app.state.cdn.hash(),
    )
    .sign_cookies(&policy)
    .expect("cookies")
    .pairs()
    .into_iter()
    .map(|(name, value)| format!("{name}={value}"))
    .collect::<Vec<_>>()
    .join("; ");

    for target in [path.clone(), format!("/staging/{alice}/"), "/staging/".to_owned()] {
        let reply = send(app.client.get(app.edge_url(&target))).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{target} with her cookies");
        let reply = send(app.raw.get(app.edge_url(&target)).header("cookie", &everything)).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{target} with a signature for /*"
        );
        assert!(reply.body.is_empty(), "{target}: the default behavior's bare 403");
    }

    let done = app.complete_upload(&id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    let image = done.json();
    let mut other_png = PNG.to_vec();
    *other_png.last_mut().expect("bytes") ^= 0xff;
    assert_eq!(put_upload(&ticket, "image/png", &other_png).await, StatusCode::OK);
    let reply = served(&app, &image).await;
    assert_eq!(reply.body, PNG, "a PUT after completion changes nothing served");
    assert_eq!(
        app.complete_upload(&id).await.json(),
        image,
        "completing again does not pick the new bytes up"
    );
    assert_eq!(served(&app, &image).await.body, PNG);
}

#[tokio::test]
async fn bytes_changed_between_the_check_and_the_copy_are_not_copied_and_the_upload_stays_pending() {
    let Checked {
        app,
        alice,
        ticket,
        id,
        row,
        etag,
    } = staged_png_that_passed_its_check().await;
    // The attacker's PUT lands after the check.
    let html = html_as_long_as_the_png();
    assert_eq!(put_upload(&ticket, "image/png", &html).await, StatusCode::OK);

    let copied = lifecycle::copy_checked(app.services(), &row, &etag)
        .await
        .expect("copy step");

    assert_eq!(copied, Completion::Changed);
    assert!(
        stored(&app, &private_png(alice, &id)).await.is_none(),
        "nothing copied"
    );
    let pending = app.get(&format!("/api/images/{id}")).await.json();
    assert_eq!(
        (pending["status"].as_str(), &pending["url"]),
        (Some("pending"), &Value::Null)
    );
    // A retry checks what is staged now: the HTML is refused and deleted.
    let retry = app.complete_upload(&id).await;
    retry.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "upload_rejected");
    assert!(stored(&app, &staging(alice, &id)).await.is_none());
    assert!(stored(&app, &private_png(alice, &id)).await.is_none());
}

#[tokio::test]
async fn a_retry_after_the_copy_step_found_a_change_checks_and_copies_the_new_bytes() {
    let Checked {
        app,
        alice,
        ticket,
        id,
        row,
        etag,
    } = staged_png_that_passed_its_check().await;
    let mut other_png = PNG.to_vec();
    *other_png.last_mut().expect("bytes") ^= 0xff;
    assert_eq!(put_upload(&ticket, "image/png", &other_png).await, StatusCode::OK);

    assert_eq!(
        lifecycle::copy_checked(app.services(), &row, &etag)
            .await
            .expect("copy step"),
        Completion::Changed
    );

    let done = app.complete_upload(&id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());
    assert_eq!(
        served(&app, &done.json()).await.body,
        other_png,
        "the version checked last"
    );
    assert!(stored(&app, &staging(alice, &id)).await.is_none());
}

#[tokio::test]
async fn headers_the_uploader_sends_are_not_served_and_not_kept_when_the_image_goes_public() {
    let (app, alice) = alice().await;
    let (ticket, id) = ticket(&app).await;
    assert_eq!(
        put_with_headers(&ticket, PNG, &UPLOADER_HEADERS).await,
        StatusCode::OK,
        "the store accepts headers the URL does not sign"
    );
    let staged = stored(&app, &staging(alice, &id)).await.expect("staged");
    assert_eq!(
        (
            staged.cache_control.as_deref(),
            staged.content_disposition.as_deref()
        ),
        (Some(UPLOADER_HEADERS[0].1), Some(UPLOADER_HEADERS[1].1)),
        "and keeps them with the staged bytes"
    );
    let done = app.complete_upload(&id).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text());

    let private = served(&app, &done.json()).await;
    assert_eq!(private.status, StatusCode::OK);
    assert_eq!(
        private.header("cache-control"),
        Some(lifecycle::PRIVATE_CACHE_CONTROL)
    );
    assert_eq!(private.header("content-disposition"), None);
    assert_eq!(private.header("content-type"), Some("image/png"));
    let made_public = app.set_visibility(&id, "public").await;
    assert_eq!(made_public.status, StatusCode::OK, "{}", made_public.text());
    let public = send(app.raw.get(made_public.json()["url"].as_str().expect("url"))).await;
    assert_eq!(public.status, StatusCode::OK);
    assert_eq!(
        public.header("cache-control"),
        Some(lifecycle::PUBLIC_CACHE_CONTROL)
    );
    assert_eq!(public.header("content-disposition"), None);
    let key = ImageKey::public(&image_id(&id), ContentType::Png);
    let kept = stored(&app, &key).await.expect("public copy");
    assert_eq!(
        (kept.cache_control.as_deref(), kept.content_disposition),
        (Some(lifecycle::PUBLIC_CACHE_CONTROL), None)
    );
}

#[tokio::test]
async fn deleting_a_pending_upload_removes_the_staged_bytes_and_a_later_put_never_becomes_servable() {
    let (app, alice) = alice().await;
    let (ticket, id) = ticket(&app).await;
    let row = app.image_row(&id).await.expect("row");
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);

    assert_eq!(app.delete_image(&id).await.status, StatusCode::NO_CONTENT);

    assert!(
        stored(&app, &staging(alice, &id)).await.is_none(),
        "the staged bytes are gone"
    );
    assert_eq!(
        put_upload(&ticket, "image/png", PNG).await,
        StatusCode::OK,
        "the store still takes the URL until it expires"
    );
    app.complete_upload(&id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    let url = app.state.bound.cdn_base_url.clone() + &private_png(alice, &id).cdn_path();
    assert_eq!(send(app.client.get(&url)).await.status, StatusCode::FORBIDDEN);
    assert!(stored(&app, &private_png(alice, &id)).await.is_none());

    let swept = lifecycle::sweep(app.services(), row.upload_expires_at as u64 + UPLOAD_GRACE_SECS)
        .await
        .expect("sweep");
    assert_eq!(
        swept,
        Swept {
            uploads: 1,
            ..Swept::default()
        }
    );
    assert!(
        stored(&app, &staging(alice, &id)).await.is_none(),
        "the late PUT is swept"
    );
    assert_eq!(app.image_row(&id).await, None);
}

#[tokio::test]
async fn an_upload_started_before_staging_is_rejected_with_the_bytes_at_its_final_key() {
    let (app, alice) = alice().await;
    let (_, id) = ticket(&app).await;
    // A row from before uploads were staged: its URL named the private key, which the uploader wrote.
    let final_key = private_png(alice, &id);
    edgepass::db::images::settle(
        app.db(),
        &image_id(&id),
        &final_key,
        edgepass::db::entity::image::Location::Private,
    )
    .await
    .expect("old-style row");
    let legacy = app
        .state
        .storage
        .presign_put(
            &final_key,
            ContentType::Png,
            PNG.len() as u64,
            std::time::Duration::from_secs(300),
            std::time::SystemTime::now(),
        )
        .await
        .expect("presign");
    assert_eq!(
        put_to(&legacy.url, "image/png", &html_as_long_as_the_png()).await,
        StatusCode::OK
    );

    let reply = app.complete_upload(&id).await;

    reply.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "upload_rejected");
    assert!(
        stored(&app, &final_key).await.is_none(),
        "its unchecked bytes are deleted"
    );
    let url = app.state.bound.cdn_base_url.clone() + &final_key.cdn_path();
    assert_eq!(send(app.client.get(&url)).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_completion_cut_short_after_its_copy_is_finished_by_completing_again() {
    let (app, alice) = alice().await;
    let checked_copy = || async {
        let (ticket, id) = ticket(&app).await;
        assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
        let row = app.image_row(&id).await.expect("row");
        let keys = lifecycle::ImageKeys::of(&row).expect("keys");
        // What the copy step does before it deletes the staging key and records the image as ready.
        app.state
            .storage
            .copy(
                &keys.staging,
                &keys.private,
                keys.headers(edgepass::db::entity::image::Visibility::Private),
            )
            .await
            .expect("copy");
        id
    };
    let staging_left = checked_copy().await;
    let staging_gone = checked_copy().await;
    app.state
        .storage
        .delete(&staging(alice, &staging_gone))
        .await
        .expect("delete");

    for id in [staging_left, staging_gone] {
        let done = app.complete_upload(&id).await;
        assert_eq!(done.status, StatusCode::OK, "{id}: {}", done.text());
        assert_eq!(served(&app, &done.json()).await.body, PNG, "{id}");
        assert!(stored(&app, &staging(alice, &id)).await.is_none(), "{id}");
    }
}

#[tokio::test]
async fn bytes_put_after_completion_go_when_the_image_is_deleted() {
    let (app, alice) = alice().await;
    let (ticket, image) = completed(&app).await;
    let id = image["id"].as_str().expect("id").to_owned();
    assert_eq!(put_upload(&ticket, "image/png", PNG).await, StatusCode::OK);
    assert!(stored(&app, &staging(alice, &id)).await.is_some());

    assert_eq!(app.delete_image(&id).await.status, StatusCode::NO_CONTENT);

    assert!(stored(&app, &staging(alice, &id)).await.is_none());
    assert!(stored(&app, &private_png(alice, &id)).await.is_none());
}

#[tokio::test]
async fn a_stored_id_edgepass_could_not_have_written_fails_to_load_rather_than_name_a_key() {
    // Every key is built from the row's id; one read back from the database is checked like one from
    // a request, so a row changed behind edgepass's back cannot point a key outside its prefix.
    let (app, _) = alice().await;
    let (_, id) = ticket(&app).await;
    // As long as a real id: the column is VARCHAR(26) on PostgreSQL.
    let forged = "../../public/aaaaaaaaaaaaa";
    app.db()
        .execute_unprepared(&format!("UPDATE images SET id = '{forged}' WHERE id = '{id}'"))
        .await
        .expect("forge the row");

    let error = image::Entity::find()
        .all(app.db())
        .await
        .expect_err("the row does not load");
    assert!(
        error
            .to_string()
            .contains(&format!("{forged:?} is not an image id")),
        "{error}"
    );
}

#[tokio::test]
async fn an_upload_url_sent_with_a_copy_source_cannot_turn_another_users_image_into_ones_own() {
    let (app, alice) = alice().await;
    let (_, image) = completed(&app).await;
    let id = image["id"].as_str().expect("id");
    let secret = format!("{}/users/{alice}/{id}.png", app.state.storage.bucket());
    let mallory = app.signed_up("mallory@example.com").await;
    assert_ne!(mallory, alice);

    // Mallory's own upload URL, sent with a header that would make the PUT a copy of Alice's object.
    let (ticket, mine) = ticket(&app).await;
    let sent = put_with_headers(&ticket, PNG, &[("x-amz-copy-source", &secret)]).await;
    assert_eq!(
        sent,
        StatusCode::FORBIDDEN,
        "the store refuses a header the URL did not sign"
    );
    app.complete_upload(&mine)
        .await
        .assert_error(StatusCode::CONFLICT, "not_uploaded");
}
