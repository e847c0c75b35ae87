//! `Invalidations` against moto's CloudFront API, and in local mode.

use edgepass::aws::cloudfront::{Invalidations, InvalidationsTarget};

use crate::moto::Moto;

fn credentials() -> Option<(String, String)> {
    Some(("testing".to_owned(), "testing".to_owned()))
}

fn paths() -> Vec<String> {
    vec!["/public/x.jpg".to_owned()]
}

#[tokio::test]
async fn an_invalidation_returns_an_id_and_a_retry_with_the_same_caller_reference_succeeds() {
    let moto = Moto::start().await;
    let cdn = Invalidations::connect(&InvalidationsTarget {
        distribution_id: moto
            .create_distribution("edgepass-images.s3.us-east-1.amazonaws.com")
            .await,
        endpoint_url: Some(moto.endpoint().to_owned()),
        credentials: credentials(),
    })
    .await;
    let first = cdn
        .invalidate(&paths(), "ref-1")
        .await
        .expect("invalidate")
        .expect("an invalidation id");
    assert!(!first.is_empty());
    let retry = cdn
        .invalidate(&paths(), "ref-1")
        .await
        .expect("retry")
        .expect("an invalidation id");
    // CloudFront answers a retry (same caller reference, same paths) with the invalidation it already
    // has; moto 5.2.5 makes a second one with a new id. Either way the retry succeeds, which is all the
    // callers of `invalidate` rely on.
    assert_ne!(
        first, retry,
        "moto's behaviour changed: the retry got the same id"
    );
}

#[tokio::test]
async fn an_invalidation_on_a_distribution_that_does_not_exist_is_an_error() {
    let moto = Moto::start().await;
    let cdn = Invalidations::connect(&InvalidationsTarget {
        distribution_id: "E2EDGEPASSNONE".to_owned(),
        endpoint_url: Some(moto.endpoint().to_owned()),
        credentials: credentials(),
    })
    .await;
    let error = cdn
        .invalidate(&paths(), "ref-1")
        .await
        .expect_err("no such distribution");
    let cause = std::error::Error::source(&error).map(|source| format!("{source:?}"));
    assert!(
        cause.is_some_and(|cause| cause.contains("NoSuchDistribution")),
        "{error:?}"
    );
}

#[tokio::test]
async fn local_mode_skips_invalidations_and_returns_no_id() {
    assert_eq!(
        Invalidations::local()
            .invalidate(&paths(), "ref-1")
            .await
            .expect("invalidate"),
        None
    );
}
