//! `Invalidations` against moto's CloudFront API, and in local mode.

use aws_sdk_cloudfront::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudfront::types::{
    DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
};
use edgepass::aws::cloudfront::{Invalidations, InvalidationsTarget};

use crate::moto::Moto;

/// CloudFront's managed "CachingOptimized" cache policy.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

fn credentials() -> Option<(String, String)> {
    Some(("testing".to_owned(), "testing".to_owned()))
}

fn paths() -> Vec<String> {
    vec!["/public/x.jpg".to_owned()]
}

/// Creates a distribution in moto the way `infra/` would in AWS (edgepass itself never creates one) and
/// returns its id. The client is built as `src/aws/cloudfront/mod.rs` builds its own.
async fn create_distribution(moto: &Moto) -> String {
    let config = aws_sdk_cloudfront::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .region(Region::new("us-east-1"))
        .http_client(edgepass::aws::http_client())
        .endpoint_url(moto.endpoint())
        .build();
    let origin = Origin::builder()
        .id("images")
        .domain_name("edgepass-images.s3.us-east-1.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .expect("origin");
    let distribution = DistributionConfig::builder()
        .caller_reference("edgepass-tests")
        .comment("edgepass tests")
        .enabled(true)
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin)
                .build()
                .expect("origins"),
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("images")
                .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
                .cache_policy_id(CACHING_OPTIMIZED)
                .build()
                .expect("cache behavior"),
        )
        .build()
        .expect("distribution config");
    let created = aws_sdk_cloudfront::Client::from_conf(config)
        .create_distribution()
        .distribution_config(distribution)
        .send()
        .await
        .expect("CreateDistribution");
    created.distribution().expect("distribution").id().to_owned()
}

#[tokio::test]
async fn an_invalidation_returns_an_id_and_a_retry_with_the_same_caller_reference_succeeds() {
    let moto = Moto::start().await;
    let cdn = Invalidations::connect(&InvalidationsTarget {
        distribution_id: create_distribution(&moto).await,
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
