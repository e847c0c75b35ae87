//! Images end to end: uploads PUT over HTTP to presigned URLs of the embedded store, the completion
//! check, limits, listing, visibility moves, deletion, the sweeper, and what an unreachable store
//! does. This module holds the arrangements the files share; each file tests one stage of an
//! image's life.

mod deletion;
mod limits;
mod listing;
mod outages;
mod sweeper;
mod uploads;
mod visibility;

use edgepass::aws::s3::{ObjectInfo, Storage, StorageTarget};
use edgepass::db::entity::image::Visibility;
use edgepass::db::images::Placement;
use edgepass::domain::UserId;
use edgepass::images::lifecycle::{self, Services};
use edgepass::images::{ContentType, ImageId, ImageKey};
use serde_json::Value;

use crate::helpers::{PNG, Reply, TestApp, real_now};

/// The first bytes of a JFIF JPEG.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";
/// A page that runs script if a browser renders it.
const HTML: &[u8] = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>";
/// An SVG that runs script if a browser renders it.
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>";

/// edgepass with its clock at the real time, since the embedded store checks upload URLs against it.
async fn spawn() -> TestApp {
    spawn_with(&[]).await
}

async fn spawn_with(settings: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_at(real_now(), settings).await
}

/// edgepass (see [`spawn`]) with Alice signed up in its browser, and her user id.
async fn alice() -> (TestApp, i64) {
    alice_with(&[]).await
}

async fn alice_with(settings: &[(&str, &str)]) -> (TestApp, i64) {
    let app = spawn_with(settings).await;
    let alice = app.signed_up("alice@example.com").await;
    (app, alice)
}

/// edgepass, with Alice signed up, on a bucket whose store cannot be reached.
async fn alice_on_a_closed_store() -> (TestApp, i64) {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let app = TestApp::spawn_with(&[
        ("EDGEPASS_S3_BUCKET", "edgepass"),
        ("EDGEPASS_S3_ENDPOINT_URL", &endpoint),
        ("EDGEPASS_S3_FORCE_PATH_STYLE", "true"),
        ("EDGEPASS_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("EDGEPASS_AWS_SECRET_ACCESS_KEY", "secret"),
    ])
    .await;
    let alice = app.signed_up("alice@example.com").await;
    (app, alice)
}

/// Uploads a PNG for the signed-in user and returns the id of the ready image.
async fn ready_png(app: &TestApp) -> String {
    id_of(&app.upload("image/png", PNG, "a.png").await)
}

/// Starts an upload of `size` bytes of PNG and returns its ticket and the image id.
async fn started_png(app: &TestApp, size: usize, name: &str) -> (Value, String) {
    let reply = app.start_upload("image/png", size as u64, name).await;
    let ticket = reply.json();
    let id = id_of(&ticket);
    (ticket, id)
}

/// `GET /api/images/{id}`.
async fn image(app: &TestApp, id: &str) -> Reply {
    app.get(&format!("/api/images/{id}")).await
}

fn id_of(view: &Value) -> String {
    view["id"].as_str().expect("id").to_owned()
}

fn image_id(id: &str) -> ImageId {
    ImageId::parse(id).unwrap_or_else(|| panic!("{id} is an image id"))
}

/// Where a PNG of `owner` is kept while private.
fn private_png(owner: i64, id: &str) -> ImageKey {
    ImageKey::private(UserId(owner), &image_id(id), ContentType::Png)
}

/// Where the upload URL of `owner`'s image puts its bytes.
fn staging(owner: i64, id: &str) -> ImageKey {
    ImageKey::staging(UserId(owner), &image_id(id))
}

/// Where a PNG is kept while public.
fn public_png(id: &str) -> ImageKey {
    ImageKey::public(&image_id(id), ContentType::Png)
}

async fn stored(app: &TestApp, key: &ImageKey) -> Option<ObjectInfo> {
    app.state.storage.head(key).await.expect("HEAD")
}

/// Which of its two places hold a PNG image's object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copies {
    Neither,
    Private,
    Public,
    Both,
}

async fn copies(app: &TestApp, owner: i64, id: &str) -> Copies {
    let private = stored(app, &private_png(owner, id)).await.is_some();
    let public = stored(app, &public_png(id)).await.is_some();
    match (private, public) {
        (false, false) => Copies::Neither,
        (true, false) => Copies::Private,
        (false, true) => Copies::Public,
        (true, true) => Copies::Both,
    }
}

/// The invalidation a public image's path gets when it stops being served.
fn invalidated(id: &str) -> [String; 1] {
    [format!("/public/{id}.png")]
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A bucket on a store that cannot be reached.
pub(crate) async fn unreachable_storage() -> Storage {
    Storage::connect(&StorageTarget {
        bucket: "edgepass".to_owned(),
        region: "us-east-1".to_owned(),
        endpoint_url: Some(format!("http://127.0.0.1:{}", closed_port())),
        force_path_style: true,
        credentials: Some(("AKIDEXAMPLE".to_owned(), "secret".to_owned())),
    })
    .await
}

/// The app's services, with `storage` as their store.
pub(crate) fn services_on<'a>(app: &'a TestApp, storage: &'a Storage) -> Services<'a> {
    Services {
        storage,
        ..app.services()
    }
}

/// How far an interrupted move got before it stopped.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Interrupted {
    /// The move was recorded; nothing was copied.
    Recorded,
    /// The object was copied; the source was not deleted.
    Copied,
    /// The source was deleted too; the row still says the move is unfinished.
    SourceDeleted,
}

impl Interrupted {
    pub(crate) const ALL: [Self; 3] = [Self::Recorded, Self::Copied, Self::SourceDeleted];
}

/// Runs the first steps of a move toward `target` (at the root) directly, stopping as `stage` says.
async fn interrupt_move(app: &TestApp, id: &str, target: Visibility, stage: Interrupted) {
    let placement = Placement {
        visibility: target,
        album: None,
    };
    interrupt_move_to(app, id, &placement, stage).await;
}

/// Runs the first steps of a move to `placement` directly, stopping as `stage` says; returns the
/// move's (source, destination).
pub(crate) async fn interrupt_move_to(
    app: &TestApp,
    id: &str,
    placement: &Placement<'_>,
    stage: Interrupted,
) -> (ImageKey, ImageKey) {
    let row = app.image_row(id).await.expect("row");
    let row = lifecycle::begin_move(app.services(), row, placement, app.now())
        .await
        .expect("move recorded");
    if matches!(stage, Interrupted::Copied | Interrupted::SourceDeleted) {
        lifecycle::copy_step(app.services(), &row).await.expect("copied");
    }
    let source = ImageKey::from_stored(&row.object_key);
    let destination = ImageKey::from_stored(row.moving_to.as_deref().expect("a move"));
    if matches!(stage, Interrupted::SourceDeleted) {
        app.state.storage.delete(&source).await.expect("source deleted");
    }
    let copies = (
        stored(app, &source).await.is_some(),
        stored(app, &destination).await.is_some(),
    );
    let expected = match stage {
        Interrupted::Recorded => (true, false),
        Interrupted::Copied => (true, true),
        Interrupted::SourceDeleted => (false, true),
    };
    assert_eq!(copies, expected, "(source, destination) after {stage:?}");
    (source, destination)
}
