//! The object store wrapper against local mode's embedded S3-compatible store: real HTTP PUTs to
//! presigned URLs, and the store's enforcement of what they pin.

use std::time::{Duration, SystemTime};

use edgepass::aws::s3::{Copied, ObjectHeaders, ObjectInfo, Storage};
use edgepass::domain::UserId;
use edgepass::images::{ContentType, ImageId, ImageKey};
use edgepass::local::store::LocalStore;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00";

/// The headers edgepass gives a private PNG.
const OWN_HEADERS: ObjectHeaders<'static> = ObjectHeaders {
    content_type: "image/png",
    cache_control: "private, max-age=3600",
};

struct Fixture {
    _dir: tempfile::TempDir,
    store: LocalStore,
    storage: Storage,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("dir");
    let store = LocalStore::start(dir.path(), vec!["http://127.0.0.1:8080".to_owned()])
        .await
        .expect("store");
    let storage = Storage::connect(&store.storage_target()).await;
    storage.ensure_bucket().await.expect("bucket");
    storage.ensure_bucket().await.expect("bucket again");
    Fixture {
        _dir: dir,
        store,
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
    f.storage.copy(&key, &public, OWN_HEADERS).await.expect("copy");
    f.storage
        .copy(&key, &public, OWN_HEADERS)
        .await
        .expect("copy again");
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

/// Presigns a PUT of `PNG` to `key` and sends it with the pinned headers plus `extra`; returns the status.
async fn put_with(f: &Fixture, key: &ImageKey, body: &[u8], extra: &[(&str, &str)]) -> reqwest::StatusCode {
    let upload = f
        .storage
        .presign_put(
            key,
            ContentType::Png,
            body.len() as u64,
            Duration::from_secs(300),
            SystemTime::now(),
        )
        .await
        .expect("presign");
    let mut request = reqwest::Client::new().put(&upload.url).body(body.to_vec());
    for (name, value) in upload
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain(extra.iter().copied())
    {
        request = request.header(name, value);
    }
    request.send().await.expect("PUT").status()
}

#[tokio::test]
async fn an_upload_url_cannot_copy_another_object_or_carry_any_header_it_did_not_sign() {
    let f = fixture().await;
    let secret = key();
    let secret_bytes = [PNG, b"alice's secret"].concat();
    assert_eq!(put_with(&f, &secret, &secret_bytes, &[]).await, 200);
    let staged = ImageKey::staging(UserId(7), &ImageId::generate().expect("id"));
    let copy_source = format!("{}/{}", f.storage.bucket(), secret.as_str());

    // An upload URL sent with x-amz-copy-source would be a CopyObject of the secret into the staging key.
    let copied = put_with(&f, &staged, PNG, &[("x-amz-copy-source", &copy_source)]).await;
    assert_eq!(copied, 403);
    assert_eq!(
        f.storage.describe(staged.as_str()).await.expect("head"),
        None,
        "nothing was written"
    );
    for (name, value) in [
        ("x-amz-acl", "public-read"),
        ("x-amz-website-redirect-location", "https://example.com/"),
        ("x-amz-meta-note", "hello"),
    ] {
        assert_eq!(put_with(&f, &staged, PNG, &[(name, value)]).await, 403, "{name}");
    }
    // The same upload with only what it signed is stored.
    assert_eq!(put_with(&f, &staged, PNG, &[]).await, 200);
}

#[tokio::test]
async fn the_store_refuses_a_copy_whose_source_is_no_longer_the_version_checked() {
    let f = fixture().await;
    let staged = ImageKey::staging(UserId(7), &ImageId::generate().expect("id"));
    let target = key();
    assert_eq!(put_with(&f, &staged, PNG, &[]).await, 200);
    let checked = f
        .storage
        .describe(staged.as_str())
        .await
        .expect("head")
        .and_then(|meta| meta.etag)
        .expect("an entity tag");
    let mut other = PNG.to_vec();
    other[PNG.len() - 1] ^= 1;
    assert_eq!(
        put_with(&f, &staged, &other, &[]).await,
        200,
        "same length, other bytes"
    );

    let copied = f
        .storage
        .copy_if_unchanged(&staged, &target, OWN_HEADERS, &checked)
        .await
        .expect("copy");

    assert_eq!(copied, Copied::SourceChanged);
    assert_eq!(
        f.storage.head(&target).await.expect("head"),
        None,
        "nothing was written"
    );
    let current = f
        .storage
        .describe(staged.as_str())
        .await
        .expect("head")
        .and_then(|meta| meta.etag)
        .expect("an entity tag");
    assert_ne!(current, checked);
    assert_eq!(
        f.storage
            .copy_if_unchanged(&staged, &target, OWN_HEADERS, &current)
            .await
            .expect("copy"),
        Copied::Done
    );
    assert_eq!(f.storage.read_prefix(&target, 64).await.expect("read"), other);
    f.storage.delete(&staged).await.expect("delete");
    assert_eq!(
        f.storage
            .copy_if_unchanged(&staged, &key(), OWN_HEADERS, &current)
            .await
            .expect("copy"),
        Copied::SourceChanged,
        "a source that is gone is not the version checked either"
    );
}

#[tokio::test]
async fn a_copy_carries_edgepass_headers_and_none_of_the_uploaders() {
    let f = fixture().await;
    let staged = ImageKey::staging(UserId(7), &ImageId::generate().expect("id"));
    let target = key();
    let sent = [
        ("cache-control", "public, max-age=31536000, immutable"),
        ("content-disposition", "attachment; filename=\"a.html\""),
    ];
    assert_eq!(put_with(&f, &staged, PNG, &sent).await, 200);
    let as_uploaded = f
        .storage
        .describe(staged.as_str())
        .await
        .expect("head")
        .expect("staged");
    assert_eq!(
        (
            as_uploaded.cache_control.as_deref(),
            as_uploaded.content_disposition.as_deref()
        ),
        (Some(sent[0].1), Some(sent[1].1)),
        "the store keeps what the uploader sent"
    );

    f.storage.copy(&staged, &target, OWN_HEADERS).await.expect("copy");

    let copy = f
        .storage
        .describe(target.as_str())
        .await
        .expect("head")
        .expect("copied");
    assert_eq!(copy.content_type.as_deref(), Some("image/png"));
    assert_eq!(copy.cache_control.as_deref(), Some("private, max-age=3600"));
    assert_eq!(copy.content_disposition, None);
}

#[tokio::test]
async fn the_embedded_store_itself_answers_412_to_a_copy_whose_source_if_match_fails() {
    // The wrapper also compares the copied entity tag; this checks the store's own refusal, below it.
    let f = fixture().await;
    let staged = ImageKey::staging(UserId(7), &ImageId::generate().expect("id"));
    let target = key();
    assert_eq!(put_with(&f, &staged, PNG, &[]).await, 200);
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(f.store.endpoint())
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            f.store.access_key(),
            f.store.secret_key(),
            None,
            None,
            "test",
        ))
        .http_client(edgepass::aws::http_client())
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);

    let refused = client
        .copy_object()
        .bucket("edgepass")
        .copy_source(format!("edgepass/{staged}"))
        .copy_source_if_match("\"0123456789abcdef0123456789abcdef\"")
        .key(target.as_str())
        .send()
        .await;

    let error = refused.expect_err("a stale entity tag is refused");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&error),
        Some("PreconditionFailed"),
        "{error:?}"
    );
    assert_eq!(
        f.storage.head(&target).await.expect("head"),
        None,
        "nothing was written"
    );
}

async fn get(url: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .get(url)
        .send()
        .await
        .expect("GET")
        .status()
}

/// Puts [`PNG`] at `key` through a presigned PUT.
async fn stored(f: &Fixture, key: &ImageKey) {
    let upload = f
        .storage
        .presign_put(
            key,
            ContentType::Png,
            PNG.len() as u64,
            Duration::from_secs(60),
            SystemTime::now(),
        )
        .await
        .expect("presign");
    assert_eq!(put(&upload.url, "image/png", PNG).await, 200);
}

fn real_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

#[tokio::test]
async fn a_presigned_get_opens_its_object_only_and_only_until_it_expires() {
    let f = fixture().await;
    let object = key();
    stored(&f, &object).await;
    let window = edgepass::signing::ExpiryWindow::from_secs(60).expect("window");
    let now = real_now();
    let signed = f
        .storage
        .presign_get(&object, now, 120, window)
        .await
        .expect("presign");
    assert!(signed.url.contains("X-Amz-Signature="), "{}", signed.url);
    let reply = reqwest::Client::new().get(&signed.url).send().await.expect("GET");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.bytes().await.expect("body").as_ref(), PNG);
    // The same URL for every request until the next window boundary.
    let again = f
        .storage
        .presign_get(&object, now + 1, 120, window)
        .await
        .expect("presign");
    if now % 60 != 59 {
        assert_eq!(again, signed);
    }

    // Another object's key in the same URL: the signature no longer matches.
    let other = key();
    stored(&f, &other).await;
    let swapped = signed.url.replace(object.as_str(), other.as_str());
    assert_ne!(swapped, signed.url);
    assert_eq!(get(&swapped).await, 403);
    // A changed expiry, or a changed signature.
    let longer = signed.url.replace("X-Amz-Expires=", "X-Amz-Expires=9");
    assert_eq!(get(&longer).await, 403);
    let at = signed.url.find("X-Amz-Signature=").expect("signature") + "X-Amz-Signature=".len();
    let flipped = if &signed.url[at..=at] == "0" { "1" } else { "0" };
    let tampered = format!("{}{flipped}{}", &signed.url[..at], &signed.url[at + 1..]);
    assert_eq!(get(&tampered).await, 403);
    // Signed an hour ago for a minute: expired.
    let old = f
        .storage
        .presign_get(&object, now - 3600, 60, window)
        .await
        .expect("presign");
    assert_eq!(get(&old.url).await, 403);
}
