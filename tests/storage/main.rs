//! The object store wrapper against local mode's embedded S3-compatible store: real HTTP PUTs to
//! presigned URLs, and the store's enforcement of what they pin.

use std::time::{Duration, SystemTime};

use edgepass::domain::UserId;
use edgepass::images::{ContentType, ImageId, ImageKey};
use edgepass::local_store::LocalStore;
use edgepass::storage::{ObjectInfo, Storage, StorageTarget};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";

struct Fixture {
    _dir: tempfile::TempDir,
    _store: LocalStore,
    storage: Storage,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalStore::start(dir.path(), vec!["http://127.0.0.1:8080".to_owned()])
        .await
        .expect("store");
    let storage = Storage::connect(&StorageTarget {
        bucket: "edgepass".to_owned(),
        region: "us-east-1".to_owned(),
        endpoint_url: Some(store.endpoint().to_owned()),
        force_path_style: true,
        credentials: Some((store.access_key().to_owned(), store.secret_key().to_owned())),
    })
    .await;
    storage.ensure_bucket().await.expect("bucket");
    storage.ensure_bucket().await.expect("bucket again");
    Fixture {
        _dir: dir,
        _store: store,
        storage,
    }
}

fn key() -> ImageKey {
    ImageKey::private(UserId(7), &ImageId::generate().expect("id"), ContentType::Png)
}

async fn put(url: &str, content_type: &str, body: &[u8]) -> reqwest::StatusCode {
    reqwest::Client::new()
        .put(url)
        .header("content-type", content_type)
        .body(body.to_vec())
        .send()
        .await
        .expect("PUT")
        .status()
}

#[tokio::test]
async fn a_presigned_put_with_the_pinned_type_and_length_is_stored() {
    let f = fixture().await;
    let key = key();
    let upload = f
        .storage
        .presign_put(
            &key,
            ContentType::Png,
            PNG.len() as u64,
            Duration::from_secs(300),
            SystemTime::now(),
        )
        .await
        .expect("presign");
    assert!(
        upload
            .headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "image/png"),
        "{:?}",
        upload.headers
    );
    assert_eq!(put(&upload.url, "image/png", PNG).await, 200);
    assert_eq!(
        f.storage.head(&key).await.expect("head"),
        Some(ObjectInfo {
            size: PNG.len() as u64,
            content_type: Some("image/png".to_owned())
        })
    );
    assert_eq!(f.storage.read_prefix(&key, 8).await.expect("read"), &PNG[..8]);
    let public = ImageKey::public(&ImageId::generate().expect("id"), ContentType::Png);
    f.storage.copy(&key, &public).await.expect("copy");
    f.storage.copy(&key, &public).await.expect("copy again");
    f.storage.delete(&key).await.expect("delete");
    f.storage.delete(&key).await.expect("delete again");
    assert_eq!(f.storage.head(&key).await.expect("head"), None);
    assert!(f.storage.head(&public).await.expect("head").is_some());
}

#[tokio::test]
async fn the_store_refuses_a_wrong_type_a_wrong_length_a_tampered_signature_and_an_expired_url() {
    let f = fixture().await;
    let key = key();
    let upload = f
        .storage
        .presign_put(
            &key,
            ContentType::Png,
            PNG.len() as u64,
            Duration::from_secs(300),
            SystemTime::now(),
        )
        .await
        .expect("presign");
    assert_eq!(
        put(&upload.url, "image/jpeg", PNG).await,
        403,
        "wrong content type"
    );
    let mut longer = PNG.to_vec();
    longer.push(0);
    assert_eq!(put(&upload.url, "image/png", &longer).await, 403, "wrong length");
    assert_eq!(
        put(&flip_last_char(&upload.url), "image/png", PNG).await,
        403,
        "tampered signature"
    );
    let expired = f
        .storage
        .presign_put(
            &key,
            ContentType::Png,
            PNG.len() as u64,
            Duration::from_secs(60),
            SystemTime::now() - Duration::from_secs(120),
        )
        .await
        .expect("presign");
    assert_eq!(put(&expired.url, "image/png", PNG).await, 403, "expired");
    assert_eq!(
        f.storage.head(&key).await.expect("head"),
        None,
        "nothing was stored"
    );
}

/// The URL with its last character (a hex digit of the signature) changed.
fn flip_last_char(url: &str) -> String {
    let mut url = url.to_owned();
    let last = url.pop().expect("non-empty");
    url.push(if last == '0' { '1' } else { '0' });
    url
}
