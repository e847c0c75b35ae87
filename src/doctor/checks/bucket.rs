//! The image bucket: `bucket.public_access` (all four public-access blocks on), `bucket.origin_access`
//! (the distribution reads it through an origin access control, and the bucket policy lets only this
//! distribution do so), `bucket.cors` (the app's origins may `PUT`) and `bucket.lifecycle` (staged
//! uploads expire).

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{Distribution, Origin, OriginAccessControlConfig};
use aws_sdk_s3::types::{CorsRule, ExpirationStatus, LifecycleRule, PublicAccessBlockConfiguration};
use serde_json::Value;

use crate::doctor::expected::Expected;
use crate::doctor::gather::Fact;
use crate::doctor::report::Finding;

/// The `bucket.public_access` finding.
pub(crate) fn public_access(
    expected: &Expected,
    block: &Fact<Option<PublicAccessBlockConfiguration>>,
) -> Finding {
    const CHECK: &str = "bucket.public_access";
    let bucket = &expected.bucket;
    let fix = "turn on all four: aws s3api put-public-access-block --public-access-block-configuration \
               BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true";
    match block {
        Err(why) => Finding::fail(CHECK, format!("could not be read: {why}"), fix),
        Ok(None) => Finding::fail(
            CHECK,
            format!(
                "bucket {bucket} has no public-access block: one ACL or policy change makes images public"
            ),
            fix,
        ),
        Ok(Some(block)) => {
            let off: Vec<&str> = [
                ("BlockPublicAcls", block.block_public_acls()),
                ("IgnorePublicAcls", block.ignore_public_acls()),
                ("BlockPublicPolicy", block.block_public_policy()),
                ("RestrictPublicBuckets", block.restrict_public_buckets()),
            ]
            .into_iter()
            .filter(|(_, on)| *on != Some(true))
            .map(|(name, _)| name)
            .collect();
            if off.is_empty() {
                Finding::ok(
                    CHECK,
                    format!("bucket {bucket} blocks every kind of public access"),
                )
            } else {
                Finding::fail(
                    CHECK,
                    format!("bucket {bucket} allows public access: {} off", off.join(", ")),
                    fix,
                )
            }
        }
    }
}

/// Whether `origin` is the bucket's S3 REST endpoint (`{bucket}.s3.amazonaws.com` or
/// `{bucket}.s3.{region}.amazonaws.com`).
fn is_bucket_origin(origin: &Origin, bucket: &str) -> bool {
    origin
        .domain_name()
        .to_ascii_lowercase()
        .strip_prefix(&format!("{bucket}.s3."))
        .is_some_and(|rest| rest.ends_with("amazonaws.com"))
}

/// The `bucket.origin_access` finding.
pub(crate) fn origin_access(
    expected: &Expected,
    distribution: &Fact<Distribution>,
    access_controls: &BTreeMap<String, Fact<OriginAccessControlConfig>>,
    policy: &Fact<Option<String>>,
) -> Finding {
    const CHECK: &str = "bucket.origin_access";
    let bucket = &expected.bucket;
    let Ok(distribution) = distribution else {
        return Finding::skip(CHECK, "not checked: the distribution could not be read");
    };
    let origins = distribution
        .distribution_config()
        .and_then(|config| config.origins())
        .map(|origins| origins.items())
        .unwrap_or_default();
    let Some(origin) = origins.iter().find(|origin| is_bucket_origin(origin, bucket)) else {
        return Finding::fail(
            CHECK,
            format!("no origin of the distribution is the bucket {bucket} (EDGEPASS_S3_BUCKET)"),
            format!(
                "point the images origin at {bucket}.s3.<region>.amazonaws.com, or fix EDGEPASS_S3_BUCKET"
            ),
        );
    };
    let oac_fix = "create an origin access control (S3, sign always, SigV4) and set it on the images origin, \
                   as infra/edgepass.yaml does";
    let control_id = origin.origin_access_control_id().filter(|id| !id.is_empty());
    let Some(control_id) = control_id else {
        let legacy = origin
            .s3_origin_config()
            .is_some_and(|config| !config.origin_access_identity().is_empty());
        let message = if legacy {
            "the images origin uses a legacy origin access identity, not an origin access control"
        } else {
            "the images origin has no origin access control: CloudFront reads the bucket unsigned, which \
             works only if the bucket is public"
        };
        return Finding::fail(CHECK, message, oac_fix);
    };
    match access_controls.get(control_id) {
        Some(Ok(control)) => {
            let signs = control.signing_behavior().as_str() == "always"
                && control.signing_protocol().as_str() == "sigv4"
                && control.origin_access_control_origin_type().as_str() == "s3";
            if !signs {
                return Finding::fail(
                    CHECK,
                    format!(
                        "origin access control {control_id} does not always sign S3 requests with SigV4 \
                         (signing {}, protocol {}, type {})",
                        control.signing_behavior().as_str(),
                        control.signing_protocol().as_str(),
                        control.origin_access_control_origin_type().as_str()
                    ),
                    oac_fix,
                );
            }
        }
        Some(Err(why)) => {
            return Finding::fail(
                CHECK,
                format!("origin access control {control_id}: {why}"),
                oac_fix,
            );
        }
        None => {
            return Finding::fail(
                CHECK,
                format!("origin access control {control_id} was not read"),
                oac_fix,
            );
        }
    }
    let arn = distribution.arn();
    let policy_fix = format!(
        "allow s3:GetObject on users/* and public/* to the service principal cloudfront.amazonaws.com with \
         Condition StringEquals AWS:SourceArn {arn}"
    );
    let document = match policy {
        Err(why) => {
            return Finding::fail(
                CHECK,
                format!("the bucket policy could not be read: {why}"),
                policy_fix,
            );
        }
        Ok(None) => {
            return Finding::fail(
                CHECK,
                format!("bucket {bucket} has no policy: CloudFront's signed reads are refused"),
                policy_fix,
            );
        }
        Ok(Some(document)) => document,
    };
    match cloudfront_grants(document, arn) {
        Grants::ThisDistribution => Finding::ok(
            CHECK,
            format!(
                "the images origin signs with origin access control {control_id}, and the bucket policy lets \
                 only {arn} read"
            ),
        ),
        Grants::AnyDistribution => Finding::fail(
            CHECK,
            "the bucket policy lets CloudFront read without an AWS:SourceArn condition: any distribution, \
             of any account, can serve the bucket",
            policy_fix,
        ),
        Grants::OtherDistributions(others) => Finding::fail(
            CHECK,
            format!(
                "the bucket policy lets {} read, not this distribution",
                others.join(", ")
            ),
            policy_fix,
        ),
        Grants::None => Finding::fail(
            CHECK,
            "the bucket policy does not let CloudFront read: every image request fails at the origin",
            policy_fix,
        ),
        Grants::Unreadable(why) => Finding::fail(
            CHECK,
            format!("the bucket policy does not parse: {why}"),
            policy_fix,
        ),
    }
}

/// What a bucket policy allows CloudFront.
enum Grants {
    ThisDistribution,
    AnyDistribution,
    OtherDistributions(Vec<String>),
    None,
    Unreadable(String),
}

/// The `AWS:SourceArn` values of the policy's `Allow` statements for `cloudfront.amazonaws.com`
/// (condition keys are case-insensitive), against the distribution's `arn`.
fn cloudfront_grants(document: &str, arn: &str) -> Grants {
    let parsed: Value = match serde_json::from_str(document) {
        Ok(parsed) => parsed,
        Err(error) => return Grants::Unreadable(error.to_string()),
    };
    let statements = match &parsed["Statement"] {
        Value::Array(statements) => statements.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => return Grants::Unreadable("no Statement".to_owned()),
    };
    let mut others = Vec::new();
    let mut unbound = false;
    for statement in &statements {
        let names_cloudfront = strings(&statement["Principal"]["Service"])
            .iter()
            .any(|service| service == "cloudfront.amazonaws.com");
        if statement["Effect"] != "Allow" || !names_cloudfront {
            continue;
        }
        let source_arns: Vec<String> = statement["Condition"]
            .as_object()
            .into_iter()
            .flat_map(|operators| operators.values())
            .filter_map(Value::as_object)
            .flat_map(|keys| keys.iter())
            .filter(|(key, _)| key.eq_ignore_ascii_case("aws:SourceArn"))
            .flat_map(|(_, value)| strings(value))
            .collect();
        if source_arns.is_empty() {
            unbound = true;
        } else if source_arns.iter().any(|source| source == arn) {
            return Grants::ThisDistribution;
        } else {
            others.extend(source_arns);
        }
    }
    if unbound {
        Grants::AnyDistribution
    } else if others.is_empty() {
        Grants::None
    } else {
        Grants::OtherDistributions(others)
    }
}

/// A policy value that is a string or a list of strings.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => vec![text.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether `rule` lets `origin` `PUT` with a `Content-Type` header, as presigned uploads do.
fn allows_upload(rule: &CorsRule, origin: &str) -> bool {
    rule.allowed_methods()
        .iter()
        .any(|m| m.eq_ignore_ascii_case("PUT"))
        && rule.allowed_origins().iter().any(|o| o == "*" || o == origin)
        && rule
            .allowed_headers()
            .iter()
            .any(|h| h == "*" || h.eq_ignore_ascii_case("content-type"))
}

/// The `bucket.cors` finding.
pub(crate) fn cors(expected: &Expected, rules: &Fact<Vec<CorsRule>>) -> Finding {
    const CHECK: &str = "bucket.cors";
    let origins = &expected.app_origins;
    let fix = format!(
        "add a CORS rule: AllowedMethods PUT, AllowedOrigins {}, AllowedHeaders content-type, ExposeHeaders \
         ETag (infra/edgepass.yaml AppOrigins)",
        if origins.is_empty() {
            "<the app's origin>".to_owned()
        } else {
            origins.join(" ")
        }
    );
    let rules = match rules {
        Ok(rules) => rules,
        Err(why) => return Finding::fail(CHECK, format!("could not be read: {why}"), fix),
    };
    if origins.is_empty() {
        return Finding::warn(
            CHECK,
            "EDGEPASS_PUBLIC_URL is not set: the app's origin, which uploads, is unknown",
            "set EDGEPASS_PUBLIC_URL to the app's origin",
        );
    }
    let refused: Vec<&str> = origins
        .iter()
        .filter(|origin| !rules.iter().any(|rule| allows_upload(rule, origin)))
        .map(String::as_str)
        .collect();
    if refused.is_empty() {
        Finding::ok(CHECK, format!("CORS lets {} PUT uploads", origins.join(", ")))
    } else {
        Finding::fail(
            CHECK,
            format!(
                "CORS lets no PUT with Content-Type from {}: browsers' uploads fail before they start",
                refused.join(", ")
            ),
            fix,
        )
    }
}

/// Whether `rule` is enabled, covers every key under `staging/` and expires objects.
// Rules written before lifecycle filters existed still carry the top-level Prefix S3 deprecated.
#[allow(deprecated)]
fn expires_staging(rule: &LifecycleRule) -> bool {
    let prefix = rule
        .filter()
        .and_then(|filter| {
            filter
                .prefix()
                .or_else(|| filter.and().and_then(|and| and.prefix()))
        })
        .or(rule.prefix());
    let covers = prefix.is_some_and(|prefix| "staging/".starts_with(prefix))
        && rule.filter().is_none_or(|filter| filter.tag().is_none());
    *rule.status() == ExpirationStatus::Enabled
        && covers
        && rule
            .expiration()
            .is_some_and(|e| e.days().is_some() || e.date().is_some())
}

/// The `bucket.lifecycle` finding: a warning at worst, since the sweeper deletes abandoned uploads too.
pub(crate) fn lifecycle(expected: &Expected, rules: &Fact<Vec<LifecycleRule>>) -> Finding {
    const CHECK: &str = "bucket.lifecycle";
    let fix = "add a lifecycle rule: Prefix staging/, Expiration 1 day (infra/edgepass.yaml \
               expire-staged-uploads)";
    match rules {
        Err(why) => Finding::fail(CHECK, format!("could not be read: {why}"), fix),
        Ok(rules) => match rules.iter().find(|rule| expires_staging(rule)) {
            Some(rule) => Finding::ok(
                CHECK,
                format!(
                    "lifecycle rule {} expires staged uploads",
                    rule.id().unwrap_or("(unnamed)")
                ),
            ),
            None => Finding::warn(
                CHECK,
                format!(
                    "no lifecycle rule of bucket {} expires staging/: an upload PUT after the sweeper ran \
                     stays for good",
                    expected.bucket
                ),
                fix,
            ),
        },
    }
}
