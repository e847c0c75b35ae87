//! `Storage` against moto's S3, and against an endpoint nobody listens on.

use std::time::{Duration, SystemTime};

use edgepass::aws::s3::{Copied, ObjectHeaders, ObjectInfo, Storage, StorageError, StorageTarget};
use edgepass::domain::UserId;
use edgepass::images::{ContentType, ImageId, ImageKey};

use crate::moto::{Moto, free_port};

/// The start of a JPEG file (SOI and a JFIF APP0 segment).
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";

async fn storage_at(endpoint: &str) -> Storage {
    Storage::connect(&StorageTarget {
        bucket: "edgepass-images".to_owned(),
        region: "us-east-1".to_owned(),
        endpoint_url: Some(endpoint.to_owned()),
        force_path_style: true,
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
    })
    .await
}

fn new_key(content_type: ContentType) -> ImageKey {
    ImageKey::private(UserId(7), &ImageId::generate().expect("id"), content_type)
}

#[tokio::test]
async fn the_storage_wrapper_uploads_reads_copies_and_deletes_objects_in_moto() {
    let moto = Moto::start().await;
    let storage = storage_at(moto.endpoint()).await;
    storage.ensure_bucket().await.expect("bucket");
    storage.ensure_bucket().await.expect("bucket that exists already");
    storage.ping().await.expect("ping");

    let key = new_key(ContentType::Jpeg);
    let upload = storage
        .presign_put(
            &key,
            ContentType::Jpeg,
            JPEG.len() as u64,
            Duration::from_secs(300),
            SystemTime::now(),
        )
        .await
        .expect("presign");
    for (name, value) in [
        ("content-type", "image/jpeg".to_owned()),
        ("content-length", JPEG.len().to_string()),
    ] {
        assert!(
            upload.headers.iter().any(|(k, v)| k == name && *v == value),
            "{name}: {value} is not pinned: {:?}",
            upload.headers
        );
    }
    // moto accepts any presigned PUT, also one with a wrong type, length or signature; what the URL pins
    // is enforced by real S3 and by the embedded store (tests/storage/), not here.
    let mut put = reqwest::Client::new().put(&upload.url).body(JPEG.to_vec());
    for (name, value) in &upload.headers {
        put = put.header(name, value);
    }
    let response = put.send().await.expect("PUT");
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );

    // A presigned GET made by the SDK: moto serves it (it checks no signature either; the embedded
    // store's refusals are in tests/storage/).
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let window = edgepass::signing::ExpiryWindow::from_secs(300).expect("window");
    let download = storage
        .presign_get(&key, now, 300, window)
        .await
        .expect("presign GET");
    assert!(download.url.contains("X-Amz-Signature=") && download.url.contains(key.as_str()));
    let got = reqwest::get(&download.url).await.expect("GET");
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.expect("body").as_ref(), JPEG);

    let stored = ObjectInfo {
        size: JPEG.len() as u64,
        content_type: Some("image/jpeg".to_owned()),
    };
    assert_eq!(storage.head(&key).await.expect("head"), Some(stored.clone()));
    assert_eq!(storage.read_prefix(&key, 4).await.expect("read"), &JPEG[..4]);
    assert_eq!(
        storage.read_prefix(&key, 4096).await.expect("read past the end"),
        JPEG,
        "a prefix longer than the object is the whole object"
    );

    let public = ImageKey::public(&ImageId::generate().expect("id"), ContentType::Jpeg);
    let headers = ObjectHeaders {
        content_type: "image/jpeg",
        cache_control: "public, max-age=60",
    };
    storage.copy(&key, &public, headers).await.expect("copy");
    storage.copy(&key, &public, headers).await.expect("copy again");
    let copy = storage
        .describe(public.as_str())
        .await
        .expect("head")
        .expect("copied");
    assert_eq!(copy.cache_control.as_deref(), Some("public, max-age=60"));
    assert_eq!(storage.head(&public).await.expect("head"), Some(stored.clone()));

    storage.delete(&key).await.expect("delete");
    storage.delete(&key).await.expect("delete what is gone");
    assert_eq!(storage.head(&key).await.expect("head"), None);
    assert_eq!(
        storage.head(&new_key(ContentType::Png)).await.expect("head"),
        None,
        "a key never written"
    );
    assert_eq!(
        storage.head(&public).await.expect("head"),
        Some(stored),
        "the copy outlives the original"
    );
    storage.ping().await.expect("ping");
}

#[tokio::test]
async fn a_store_nobody_listens_on_is_unavailable() {
    // The closed port refuses connections at once; the connect timeout bounds the wait where a
    // firewall drops them instead.
    let storage = storage_at(&format!("http://127.0.0.1:{}", free_port())).await;
    let head = storage.head(&new_key(ContentType::Png)).await;
    assert!(matches!(head, Err(StorageError::Unavailable { .. })), "{head:?}");
    let ping = storage.ping().await;
    assert!(matches!(ping, Err(StorageError::Unavailable { .. })), "{ping:?}");
}

#[tokio::test]
async fn a_copy_from_a_changed_source_is_undone_in_moto_and_the_uploaders_headers_are_replaced() {
    // moto 5 ignores `x-amz-copy-source-if-match` (it checks only `…-if-none-match`): the wrapper
    // catches the copy by its entity tag and removes it. S3 and the embedded store refuse it outright.
    let moto = Moto::start().await;
    let storage = storage_at(moto.endpoint()).await;
    storage.ensure_bucket().await.expect("bucket");
    let staged = ImageKey::staging(UserId(7), &ImageId::generate().expect("id"));
    let target = new_key(ContentType::Jpeg);
    let put = |body: Vec<u8>| {
        let storage = storage.clone();
        let staged = staged.clone();
        async move {
            let upload = storage
                .presign_put(
                    &staged,
                    ContentType::Jpeg,
                    body.len() as u64,
                    Duration::from_secs(300),
                    SystemTime::now(),
                )
                .await
                .expect("presign");
            let mut request = reqwest::Client::new()
                .put(&upload.url)
                .header("cache-control", "public, max-age=31536000, immutable")
                .header("content-disposition", "attachment")
                .body(body);
            for (name, value) in &upload.headers {
                request = request.header(name, value);
            }
            let status = request.send().await.expect("PUT").status();
            assert_eq!(status, 200);
        }
    };
    put(JPEG.to_vec()).await;
    let checked = storage
        .describe(staged.as_str())
        .await
        .expect("head")
        .and_then(|meta| meta.etag)
        .expect("an entity tag");
    let mut other = JPEG.to_vec();
    other[10] ^= 1;
    put(other).await;
    let headers = ObjectHeaders {
        content_type: "image/jpeg",
        cache_control: "private, max-age=3600",
    };

    let stale = storage
        .copy_if_unchanged(&staged, &target, headers, &checked)
        .await
        .expect("copy");

    assert_eq!(stale, Copied::SourceChanged);
    assert_eq!(storage.head(&target).await.expect("head"), None);
    let current = storage
        .describe(staged.as_str())
        .await
        .expect("head")
        .and_then(|meta| meta.etag)
        .expect("an entity tag");
    assert_eq!(
        storage
            .copy_if_unchanged(&staged, &target, headers, &current)
            .await
            .expect("copy"),
        Copied::Done
    );
    let copy = storage
        .describe(target.as_str())
        .await
        .expect("head")
        .expect("copied");
    assert_eq!(copy.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(copy.cache_control.as_deref(), Some("private, max-age=3600"));
    assert_eq!(copy.content_disposition, None);
}
