//! `edgepass doctor` against moto's CloudFront and S3: one correct deployment, built as
//! `infra/edgepass.yaml` builds it, passes every check; each seeded fault fails exactly its own check,
//! with the message that names it.
//!
//! moto 5.2.5 drops an origin's `OriginAccessControlId`; `tests/aws/moto_cloudfront.py` keeps it (and
//! adds the key-group calls of `moto_key_groups.py`). Everything else is moto's own.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_cloudfront::types::{
    Aliases, CacheBehavior, CacheBehaviors, DefaultCacheBehavior, DistributionConfig, KeyGroupConfig, Origin,
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, Origins, S3OriginConfig, TrustedKeyGroups, ViewerProtocolPolicy,
};
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, CorsConfiguration, CorsRule, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, PublicAccessBlockConfiguration,
};
use edgepass::clock::{Clock, ManualClock, SystemClock};
use edgepass::config::Config;
use edgepass::doctor::{Report, Status, examine};

use aws_sdk_kms::types::{KeySpec, KeyUsageType};

use crate::keys::create_public_key;
use crate::kms::{create_key, kms_client};
use crate::moto::Moto;

/// CloudFront's managed "CachingOptimized" cache policy.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CDN_HOST: &str = "cdn.example.com";
const APP_ORIGIN: &str = "https://app.example.com";

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("keys.example")
        .join(name)
}

/// What to get wrong in a deployment that is otherwise as `infra/edgepass.yaml` makes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    UnknownAlias,
    KeyNotInGroup,
    UsersUnsigned,
    PublicSigned,
    DefaultUnsigned,
    UsersPlainHttp,
    OtherPrivateKey,
    CookieDomainTooNarrow,
    NoPublicAccessBlock,
    NoOriginAccessControl,
    PolicyWithoutSourceArn,
    CorsWithoutTheApp,
    NoLifecycle,
    Ipv6WithViewerIp,
}

static DEPLOYMENTS: AtomicU32 = AtomicU32::new(0);

async fn cloudfront(moto: &Moto) -> aws_sdk_cloudfront::Client {
    edgepass::aws::cloudfront::api_client(Some(moto.endpoint()), Some(("testing", "testing"))).await
}

async fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    edgepass::aws::s3::client(&edgepass::aws::s3::StorageTarget {
        bucket: String::new(),
        region: "us-east-1".to_owned(),
        endpoint_url: Some(moto.endpoint().to_owned()),
        force_path_style: true,
        credentials: Some(("testing".to_owned(), "testing".to_owned())),
    })
    .await
}

async fn register(client: &aws_sdk_cloudfront::Client, name: &str, file: &str) -> String {
    let pem = std::fs::read_to_string(example(file)).expect("example key");
    create_public_key(client, name, &pem).await
}

fn trusting(group: &str) -> TrustedKeyGroups {
    TrustedKeyGroups::builder()
        .enabled(true)
        .quantity(1)
        .items(group)
        .build()
        .expect("trusted key groups")
}

fn behavior(pattern: &str, group: Option<&str>, protocol: ViewerProtocolPolicy) -> CacheBehavior {
    let mut behavior = CacheBehavior::builder()
        .path_pattern(pattern)
        .target_origin_id("images")
        .viewer_protocol_policy(protocol)
        .cache_policy_id(CACHING_OPTIMIZED);
    if let Some(group) = group {
        behavior = behavior.trusted_key_groups(trusting(group));
    }
    behavior.build().expect("cache behavior")
}

/// Where the service's signing key is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyHeld {
    /// A PEM file (the ECDSA example key).
    InFile,
    /// A P-256 key in moto's KMS.
    InKms,
}

/// Builds a deployment with `fault` in it and returns the service's `EDGEPASS_*` configuration for it.
async fn deploy(moto: &Moto, fault: Fault) -> BTreeMap<String, String> {
    deploy_with(moto, fault, KeyHeld::InFile).await
}

async fn deploy_with(moto: &Moto, fault: Fault, held: KeyHeld) -> BTreeMap<String, String> {
    let n = DEPLOYMENTS.fetch_add(1, Ordering::SeqCst);
    let cloudfront = cloudfront(moto).await;
    let s3 = s3(moto).await;
    let bucket = format!("edgepass-images-{n}");

    let mut key_source = Vec::new();
    let key = match held {
        KeyHeld::InFile => {
            let private_key = if fault == Fault::OtherPrivateKey {
                "throwaway-example-rsa2048-private.pem"
            } else {
                "throwaway-example-ecdsa-p256-private.pem"
            };
            key_source.push((
                "EDGEPASS_CDN_PRIVATE_KEY_FILE",
                example(private_key).display().to_string(),
            ));
            register(
                &cloudfront,
                &format!("signing-{n}"),
                "throwaway-example-ecdsa-p256-public.pem",
            )
            .await
        }
        KeyHeld::InKms => {
            let kms_key = create_key(moto, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
            let public = kms_client(moto)
                .await
                .get_public_key()
                .key_id(&kms_key)
                .send()
                .await
                .expect("GetPublicKey");
            let pem = edgepass::keys::files::pem("PUBLIC KEY", public.public_key().expect("DER").as_ref());
            key_source.push(("EDGEPASS_CDN_KMS_KEY_ID", kms_key));
            key_source.push(("EDGEPASS_KMS_ENDPOINT_URL", moto.endpoint().to_owned()));
            create_public_key(&cloudfront, &format!("signing-{n}"), &pem).await
        }
    };
    let other_key = register(
        &cloudfront,
        &format!("other-{n}"),
        "throwaway-example-rsa2048-public.pem",
    )
    .await;
    let group_key = if fault == Fault::KeyNotInGroup {
        &other_key
    } else {
        &key
    };
    let group = cloudfront
        .create_key_group()
        .key_group_config(
            KeyGroupConfig::builder()
                .name(format!("signers-{n}"))
                .items(group_key)
                .build()
                .expect("key group config"),
        )
        .send()
        .await
        .expect("CreateKeyGroup")
        .key_group()
        .expect("key group")
        .id()
        .to_owned();
    let control = cloudfront
        .create_origin_access_control()
        .origin_access_control_config(
            OriginAccessControlConfig::builder()
                .name(format!("images-{n}"))
                .signing_behavior(OriginAccessControlSigningBehaviors::Always)
                .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
                .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
                .build()
                .expect("origin access control config"),
        )
        .send()
        .await
        .expect("CreateOriginAccessControl")
        .origin_access_control()
        .expect("origin access control")
        .id()
        .to_owned();

    let mut origin = Origin::builder()
        .id("images")
        .domain_name(format!("{bucket}.s3.us-east-1.amazonaws.com"))
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build());
    if fault != Fault::NoOriginAccessControl {
        origin = origin.origin_access_control_id(&control);
    }
    let users = behavior(
        "users/*",
        (fault != Fault::UsersUnsigned).then_some(group.as_str()),
        if fault == Fault::UsersPlainHttp {
            ViewerProtocolPolicy::AllowAll
        } else {
            ViewerProtocolPolicy::HttpsOnly
        },
    );
    let public = behavior(
        "public/*",
        (fault == Fault::PublicSigned).then_some(group.as_str()),
        ViewerProtocolPolicy::RedirectToHttps,
    );
    let mut default = DefaultCacheBehavior::builder()
        .target_origin_id("images")
        .viewer_protocol_policy(ViewerProtocolPolicy::HttpsOnly)
        .cache_policy_id(CACHING_OPTIMIZED);
    if fault != Fault::DefaultUnsigned {
        default = default.trusted_key_groups(trusting(&group));
    }
    let config = DistributionConfig::builder()
        .caller_reference(format!("edgepass-doctor-{n}"))
        .comment("edgepass doctor tests")
        .enabled(true)
        .is_ipv6_enabled(fault == Fault::Ipv6WithViewerIp)
        .aliases(
            Aliases::builder()
                .quantity(1)
                .items(CDN_HOST)
                .build()
                .expect("aliases"),
        )
        .origins(
            Origins::builder()
                .quantity(1)
                .items(origin.build().expect("origin"))
                .build()
                .expect("origins"),
        )
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(2)
                .items(users)
                .items(public)
                .build()
                .expect("cache behaviors"),
        )
        .default_cache_behavior(default.build().expect("default behavior"))
        .build()
        .expect("distribution config");
    let distribution = cloudfront
        .create_distribution()
        .distribution_config(config)
        .send()
        .await
        .expect("CreateDistribution")
        .distribution
        .expect("distribution");

    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    if fault != Fault::NoPublicAccessBlock {
        s3.put_public_access_block()
            .bucket(&bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .expect("PutPublicAccessBlock");
    }
    let condition = if fault == Fault::PolicyWithoutSourceArn {
        serde_json::Value::Null
    } else {
        serde_json::json!({"StringEquals": {"AWS:SourceArn": distribution.arn()}})
    };
    let mut statement = serde_json::json!({
        "Sid": "CloudFrontReadsImagesOfThisDistributionOnly",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": [format!("arn:aws:s3:::{bucket}/users/*"), format!("arn:aws:s3:::{bucket}/public/*")],
    });
    if !condition.is_null() {
        statement["Condition"] = condition;
    }
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [statement]});
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("PutBucketPolicy");
    let cors_origin = if fault == Fault::CorsWithoutTheApp {
        "https://elsewhere.example.org"
    } else {
        APP_ORIGIN
    };
    s3.put_bucket_cors()
        .bucket(&bucket)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(
                    CorsRule::builder()
                        .id("presigned-uploads")
                        .allowed_methods("PUT")
                        .allowed_origins(cors_origin)
                        .allowed_headers("content-type")
                        .expose_headers("ETag")
                        .build()
                        .expect("CORS rule"),
                )
                .build()
                .expect("CORS configuration"),
        )
        .send()
        .await
        .expect("PutBucketCors");
    if fault != Fault::NoLifecycle {
        s3.put_bucket_lifecycle_configuration()
            .bucket(&bucket)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(
                        LifecycleRule::builder()
                            .id("expire-staged-uploads")
                            .status(ExpirationStatus::Enabled)
                            .filter(LifecycleRuleFilter::builder().prefix("staging/").build())
                            .expiration(LifecycleExpiration::builder().days(1).build())
                            .build()
                            .expect("lifecycle rule"),
                    )
                    .build()
                    .expect("lifecycle configuration"),
            )
            .send()
            .await
            .expect("PutBucketLifecycleConfiguration");
    }

    let base_host = if fault == Fault::UnknownAlias {
        "img.example.com"
    } else {
        CDN_HOST
    };
    let cookie_domain = if fault == Fault::CookieDomainTooNarrow {
        "app.example.com"
    } else {
        "example.com"
    };
    let mut env: BTreeMap<String, String> = [
        ("EDGEPASS_PUBLIC_URL", APP_ORIGIN.to_owned()),
        ("EDGEPASS_CDN_BASE_URL", format!("https://{base_host}")),
        ("EDGEPASS_CDN_COOKIE_DOMAIN", cookie_domain.to_owned()),
        ("EDGEPASS_CDN_KEY_PAIR_ID", key),
        ("EDGEPASS_CDN_DISTRIBUTION_ID", distribution.id().to_owned()),
        ("EDGEPASS_CLOUDFRONT_ENDPOINT_URL", moto.endpoint().to_owned()),
        ("EDGEPASS_S3_BUCKET", bucket),
        ("EDGEPASS_S3_REGION", "us-east-1".to_owned()),
        ("EDGEPASS_S3_ENDPOINT_URL", moto.endpoint().to_owned()),
        ("EDGEPASS_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("EDGEPASS_AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("EDGEPASS_AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        (
            "EDGEPASS_DATABASE_URL",
            "postgres://edgepass@127.0.0.1/unused".to_owned(),
        ),
    ]
    .into_iter()
    .chain(key_source)
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    if fault == Fault::Ipv6WithViewerIp {
        env.insert("EDGEPASS_CDN_BIND_VIEWER_IP".to_owned(), "true".to_owned());
    }
    env
}

async fn doctor(env: &BTreeMap<String, String>, clock: &dyn Clock) -> Report {
    let config = Config::from_env(env).expect("configuration");
    examine(&config, clock).await.expect("a CloudFront deployment")
}

/// The findings that are neither `ok` nor skipped, as (check, status).
fn problems(report: &Report) -> Vec<(&'static str, Status)> {
    report
        .checks
        .iter()
        .filter(|finding| !matches!(finding.status, Status::Ok | Status::Skip))
        .map(|finding| (finding.check, finding.status))
        .collect()
}

#[tokio::test]
async fn a_deployment_built_as_infra_builds_it_passes_every_check() {
    let moto = Moto::start_with_cloudfront_additions().await;
    let env = deploy(&moto, Fault::None).await;
    let report = doctor(&env, &SystemClock).await;
    println!("{report}");
    assert_eq!(problems(&report), vec![], "{report}");
    assert_eq!(report.exit_code(), 0);
    let checks: Vec<&str> = report.checks.iter().map(|finding| finding.check).collect();
    assert_eq!(
        checks,
        [
            "distribution",
            "behavior.users",
            "behavior.public",
            "behavior.default",
            "viewer_protocol",
            "public_key",
            "cookies",
            "bucket.public_access",
            "bucket.origin_access",
            "bucket.cors",
            "bucket.lifecycle",
            "ipv6",
            "clock",
            "chain",
        ]
    );
    assert!(
        report.checks.iter().all(|finding| finding.status == Status::Ok),
        "no check is skipped on a correct deployment: {report}"
    );
}

#[tokio::test]
async fn each_seeded_fault_fails_exactly_its_own_check() {
    let moto = Moto::start_with_cloudfront_additions().await;
    let cases: [(Fault, &str, Status, &str); 14] = [
        (
            Fault::UnknownAlias,
            "distribution",
            Status::Fail,
            "img.example.com is none of",
        ),
        (
            Fault::KeyNotInGroup,
            "behavior.users",
            Status::Fail,
            "is in no key group users/* trusts",
        ),
        (
            Fault::UsersUnsigned,
            "behavior.users",
            Status::Fail,
            "requires no signature",
        ),
        (
            Fault::PublicSigned,
            "behavior.public",
            Status::Fail,
            "public/* requires a signature",
        ),
        (
            Fault::DefaultUnsigned,
            "behavior.default",
            Status::Fail,
            "requires no signature",
        ),
        (
            Fault::UsersPlainHttp,
            "viewer_protocol",
            Status::Fail,
            "allows plain HTTP (allow-all)",
        ),
        (
            Fault::OtherPrivateKey,
            "public_key",
            Status::Fail,
            "is not the public half",
        ),
        (
            Fault::CookieDomainTooNarrow,
            "cookies",
            Status::Fail,
            "does not cover the CDN host cdn.example.com",
        ),
        (
            Fault::NoPublicAccessBlock,
            "bucket.public_access",
            Status::Fail,
            "has no public-access block",
        ),
        (
            Fault::NoOriginAccessControl,
            "bucket.origin_access",
            Status::Fail,
            "has no origin access control",
        ),
        (
            Fault::PolicyWithoutSourceArn,
            "bucket.origin_access",
            Status::Fail,
            "without an AWS:SourceArn",
        ),
        (
            Fault::CorsWithoutTheApp,
            "bucket.cors",
            Status::Fail,
            "no PUT with Content-Type from https://app.example.com",
        ),
        (
            Fault::NoLifecycle,
            "bucket.lifecycle",
            Status::Warn,
            "expires staging/",
        ),
        (
            Fault::Ipv6WithViewerIp,
            "ipv6",
            Status::Fail,
            "IPv6 is on and EDGEPASS_CDN_BIND_VIEWER_IP",
        ),
    ];
    for (fault, check, status, words) in cases {
        let env = deploy(&moto, fault).await;
        let report = doctor(&env, &SystemClock).await;
        // Seen with --nocapture: the report an operator gets for this fault.
        println!("--- {fault:?}\n{report}");
        assert_eq!(problems(&report), vec![(check, status)], "{fault:?}:\n{report}");
        let finding = report.finding(check).expect("the check ran");
        assert!(finding.message.contains(words), "{fault:?}: {finding:?}");
        assert!(finding.fix.is_some(), "{fault:?}: a problem comes with its fix");
        let expected_exit = if status == Status::Fail { 2 } else { 1 };
        assert_eq!(report.exit_code(), expected_exit, "{fault:?}");
    }
}

#[tokio::test]
async fn a_key_held_in_kms_is_compared_and_signs_the_chain_through_kms() {
    let moto = Moto::start_with_cloudfront_additions().await;
    let env = deploy_with(&moto, Fault::None, KeyHeld::InKms).await;
    let report = doctor(&env, &SystemClock).await;
    assert_eq!(problems(&report), vec![], "{report}");
    let chain = report.finding("chain").expect("chain");
    assert_eq!(chain.status, Status::Ok, "{report}");
    assert!(chain.message.contains("(SHA256)"), "{chain:?}");

    // The key group trusts a key registered for another KMS key: CloudFront holds a different public half.
    let mut mismatched = env.clone();
    let other = create_key(&moto, KeySpec::EccNistP256, KeyUsageType::SignVerify).await;
    mismatched.insert("EDGEPASS_CDN_KMS_KEY_ID".to_owned(), other);
    let report = doctor(&mismatched, &SystemClock).await;
    assert_eq!(problems(&report), vec![("public_key", Status::Fail)], "{report}");
    assert_eq!(report.finding("chain").expect("chain").status, Status::Skip);
}

#[tokio::test]
async fn the_distribution_s_own_cloudfront_net_name_is_explained_with_its_cookie_consequence() {
    let moto = Moto::start_with_cloudfront_additions().await;
    let mut env = deploy(&moto, Fault::None).await;
    let own_name = cloudfront(&moto)
        .await
        .get_distribution()
        .id(&env["EDGEPASS_CDN_DISTRIBUTION_ID"])
        .send()
        .await
        .expect("GetDistribution")
        .distribution()
        .expect("distribution")
        .domain_name()
        .to_owned();
    assert!(own_name.ends_with(".cloudfront.net"), "{own_name}");
    env.insert("EDGEPASS_CDN_BASE_URL".to_owned(), format!("https://{own_name}"));
    env.remove("EDGEPASS_CDN_COOKIE_DOMAIN");
    let report = doctor(&env, &SystemClock).await;
    assert_eq!(
        problems(&report),
        vec![("distribution", Status::Warn), ("cookies", Status::Fail)],
        "{report}"
    );
    let distribution = report.finding("distribution").expect("distribution");
    assert!(
        distribution.message.contains("cloudfront.net is a public suffix"),
        "{distribution:?}"
    );
    let cookies = report.finding("cookies").expect("cookies");
    assert!(cookies.message.contains("never sent"), "{cookies:?}");
    assert!(
        cookies
            .fix
            .as_deref()
            .is_some_and(|fix| fix.contains("alias under your own domain")),
        "{cookies:?}"
    );

    // A cookie domain of cloudfront.net itself is refused by the public-suffix list.
    env.insert(
        "EDGEPASS_CDN_COOKIE_DOMAIN".to_owned(),
        "cloudfront.net".to_owned(),
    );
    let report = doctor(&env, &SystemClock).await;
    let cookies = report.finding("cookies").expect("cookies");
    assert_eq!(cookies.status, Status::Fail);
    assert!(cookies.message.contains("is a public suffix"), "{cookies:?}");
}

#[tokio::test]
async fn a_distribution_still_deploying_is_a_warning() {
    let moto = Moto::start_with_cloudfront_additions().await;
    // moto's state manager: a distribution reads InProgress until it has been read this many times.
    let set = reqwest::Client::new()
        .post(format!(
            "{}/moto-api/state-manager/set-transition",
            moto.endpoint()
        ))
        .json(&serde_json::json!({
            "model_name": "cloudfront::distribution",
            "transition": {"progression": "manual", "times": 1000},
        }))
        .send()
        .await
        .expect("set-transition");
    assert!(set.status().is_success(), "{set:?}");
    let env = deploy(&moto, Fault::None).await;
    let report = doctor(&env, &SystemClock).await;
    assert_eq!(
        problems(&report),
        vec![("distribution", Status::Warn)],
        "{report}"
    );
    let distribution = report.finding("distribution").expect("distribution");
    assert!(
        distribution.message.contains("is InProgress, not Deployed"),
        "{distribution:?}"
    );
}

#[tokio::test]
async fn a_local_clock_off_by_minutes_fails_the_clock_check_alone() {
    let moto = Moto::start_with_cloudfront_additions().await;
    let env = deploy(&moto, Fault::None).await;
    let ahead = ManualClock::new(SystemClock.now() + 600);
    let report = doctor(&env, &ahead).await;
    assert_eq!(problems(&report), vec![("clock", Status::Fail)], "{report}");
    let message = &report.finding("clock").expect("clock").message;
    assert!(message.contains("s ahead of S3's"), "{message}");
    let slightly = ManualClock::new(SystemClock.now() + 60);
    let report = doctor(&env, &slightly).await;
    assert_eq!(problems(&report), vec![("clock", Status::Warn)], "{report}");
}

#[tokio::test]
async fn the_binary_prints_lines_or_json_and_exits_by_the_worst_finding() {
    let moto = Moto::start_with_cloudfront_additions().await;
    let run = |env: BTreeMap<String, String>, json: bool| async move {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_edgepass"));
        command.arg("doctor").env_clear().envs(env);
        if json {
            command.arg("--json");
        }
        let output = command.output().await.expect("the edgepass binary runs");
        (
            output.status.code(),
            String::from_utf8(output.stdout).expect("UTF-8"),
            String::from_utf8(output.stderr).expect("UTF-8"),
        )
    };
    let correct = deploy(&moto, Fault::None).await;
    let (code, text, _) = run(correct.clone(), false).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.lines()
            .next()
            .is_some_and(|line| line.starts_with("ok    distribution")),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("14 ok, 0 warn, 0 fail, 0 skip"),
        "{text}"
    );

    let (code, json, _) = run(deploy(&moto, Fault::NoLifecycle).await, true).await;
    assert_eq!(code, Some(1), "{json}");
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("one JSON document");
    assert_eq!(parsed["worst"], "warn");
    let lifecycle = parsed["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == "bucket.lifecycle")
        .expect("lifecycle");
    assert_eq!(lifecycle["status"], "warn");
    assert!(
        lifecycle["fix"]
            .as_str()
            .is_some_and(|fix| fix.contains("staging/"))
    );

    let (code, text, _) = run(deploy(&moto, Fault::KeyNotInGroup).await, false).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("fail  behavior.users"), "{text}");
    assert!(text.contains("fix: edgepass keys register"), "{text}");

    let mut local = correct;
    local.remove("EDGEPASS_CDN_DISTRIBUTION_ID");
    let (code, _, stderr) = run(local, false).await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("EDGEPASS_CDN_DISTRIBUTION_ID is not set"),
        "{stderr}"
    );
}
