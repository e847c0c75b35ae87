//! The cache behaviors: `behavior.users` trusts a key group holding the signing key, `behavior.public`
//! needs no signature, `behavior.default` needs one, and `viewer_protocol` keeps `Secure` cookies'
//! images on HTTPS.

use std::collections::BTreeMap;

use aws_sdk_cloudfront::types::{CacheBehavior, DefaultCacheBehavior, Distribution, ViewerProtocolPolicy};

use crate::doctor::expected::Expected;
use crate::doctor::gather::Fact;
use crate::doctor::report::Finding;

/// What the checks need of a behavior, the default one or a path pattern's.
struct Behavior<'a> {
    key_groups: &'a [String],
    trusted_signers: bool,
    protocol: &'a ViewerProtocolPolicy,
}

impl<'a> Behavior<'a> {
    fn of_path(behavior: &'a CacheBehavior) -> Self {
        Self {
            key_groups: trusted_groups(behavior.trusted_key_groups()),
            trusted_signers: behavior.trusted_signers().is_some_and(|s| s.enabled()),
            protocol: behavior.viewer_protocol_policy(),
        }
    }

    fn of_default(behavior: &'a DefaultCacheBehavior) -> Self {
        Self {
            key_groups: trusted_groups(behavior.trusted_key_groups()),
            trusted_signers: behavior.trusted_signers().is_some_and(|s| s.enabled()),
            protocol: behavior.viewer_protocol_policy(),
        }
    }

    fn requires_signature(&self) -> bool {
        !self.key_groups.is_empty() || self.trusted_signers
    }
}

fn trusted_groups(groups: Option<&aws_sdk_cloudfront::types::TrustedKeyGroups>) -> &[String] {
    groups
        .filter(|groups| groups.enabled())
        .map_or(&[], |groups| groups.items())
}

/// The behavior whose pattern is `pattern` (CloudFront accepts it with or without a leading `/`).
fn path_behavior<'a>(distribution: &'a Distribution, pattern: &str) -> Option<Behavior<'a>> {
    distribution
        .distribution_config()?
        .cache_behaviors()?
        .items()
        .iter()
        .find(|behavior| behavior.path_pattern().trim_start_matches('/') == pattern)
        .map(Behavior::of_path)
}

/// The four behavior findings, or skips when the distribution could not be read.
pub(crate) fn check(
    expected: &Expected,
    distribution: &Fact<Distribution>,
    key_groups: &BTreeMap<String, Fact<Vec<String>>>,
) -> Vec<Finding> {
    const CHECKS: [&str; 4] = [
        "behavior.users",
        "behavior.public",
        "behavior.default",
        "viewer_protocol",
    ];
    let Ok(distribution) = distribution else {
        return CHECKS
            .map(|check| Finding::skip(check, "not checked: the distribution could not be read"))
            .to_vec();
    };
    let users_pattern = expected.path_pattern("users");
    let users = path_behavior(distribution, &users_pattern);
    let default = distribution
        .distribution_config()
        .and_then(|config| config.default_cache_behavior())
        .map(Behavior::of_default);
    vec![
        users_behavior(expected, &users_pattern, users.as_ref(), key_groups),
        public_behavior(expected, distribution),
        default_behavior(default.as_ref()),
        viewer_protocol(expected, &users_pattern, users.as_ref()),
    ]
}

fn users_behavior(
    expected: &Expected,
    pattern: &str,
    users: Option<&Behavior<'_>>,
    key_groups: &BTreeMap<String, Fact<Vec<String>>>,
) -> Finding {
    const CHECK: &str = "behavior.users";
    let key = &expected.key_pair_id;
    let Some(users) = users else {
        return Finding::fail(
            CHECK,
            format!("the distribution has no {pattern} behavior: users' images fall to the default behavior"),
            format!(
                "add a {pattern} behavior trusting the key group that holds {key} (see infra/edgepass.yaml)"
            ),
        );
    };
    if users.key_groups.is_empty() {
        let message = if users.trusted_signers {
            format!(
                "{pattern} trusts legacy trusted signers (account key pairs), not a key group holding {key}"
            )
        } else {
            format!("{pattern} requires no signature: every user's private images are readable by anyone")
        };
        return Finding::fail(
            CHECK,
            message,
            format!("set TrustedKeyGroups on {pattern} to the key group that holds {key}"),
        );
    }
    let mut seen = Vec::new();
    for group in users.key_groups {
        match key_groups.get(group) {
            Some(Ok(keys)) if keys.contains(key) => {
                return Finding::ok(
                    CHECK,
                    format!("{pattern} trusts key group {group}, which holds {key}"),
                );
            }
            Some(Ok(keys)) => seen.push(format!("{group} holds [{}]", keys.join(", "))),
            Some(Err(why)) => seen.push(format!("{group} could not be read ({why})")),
            None => seen.push(format!("{group} was not read")),
        }
    }
    Finding::fail(
        CHECK,
        format!(
            "{key} (EDGEPASS_CDN_KEY_PAIR_ID) is in no key group {pattern} trusts: {}; CloudFront refuses \
             every cookie and URL it signs",
            seen.join("; ")
        ),
        format!(
            "edgepass keys register --public-key <its public half> --key-group {} (then sign once the \
             distribution shows Deployed)",
            users.key_groups.first().map_or("KEY_GROUP_ID", String::as_str)
        ),
    )
}

fn public_behavior(expected: &Expected, distribution: &Distribution) -> Finding {
    const CHECK: &str = "behavior.public";
    let pattern = expected.path_pattern("public");
    match path_behavior(distribution, &pattern) {
        None => Finding::fail(
            CHECK,
            format!(
                "the distribution has no {pattern} behavior: public images fall to the default behavior, \
                 which must require signatures"
            ),
            format!("add a {pattern} behavior without trusted key groups (see infra/edgepass.yaml)"),
        ),
        Some(public) if public.requires_signature() => Finding::fail(
            CHECK,
            format!("{pattern} requires a signature: public images get 403 in browsers without cookies"),
            format!("remove TrustedKeyGroups (and TrustedSigners) from {pattern}"),
        ),
        Some(_) => Finding::ok(
            CHECK,
            format!("{pattern} serves public images without a signature"),
        ),
    }
}

fn default_behavior(default: Option<&Behavior<'_>>) -> Finding {
    const CHECK: &str = "behavior.default";
    match default {
        Some(default) if default.requires_signature() => Finding::ok(
            CHECK,
            "the default behavior requires a signature: nothing outside the edgepass paths is served",
        ),
        _ => Finding::fail(
            CHECK,
            "the default behavior requires no signature: any object outside users/ and public/ (uploads \
             waiting in staging/) is readable by anyone",
            "set TrustedKeyGroups on the default behavior, and a viewer-request function answering 403, as \
             infra/edgepass.yaml does",
        ),
    }
}

fn viewer_protocol(expected: &Expected, pattern: &str, users: Option<&Behavior<'_>>) -> Finding {
    const CHECK: &str = "viewer_protocol";
    let Some(users) = users else {
        return Finding::skip(CHECK, format!("not checked: there is no {pattern} behavior"));
    };
    if !expected.cookie_secure {
        return Finding::warn(
            CHECK,
            "the CloudFront cookies are not Secure (EDGEPASS_COOKIE_SECURE=false): they travel in clear \
             over plain HTTP",
            "serve the app over https:// (EDGEPASS_PUBLIC_URL) and leave EDGEPASS_COOKIE_SECURE unset",
        );
    }
    match users.protocol {
        ViewerProtocolPolicy::HttpsOnly => {
            Finding::ok(CHECK, format!("{pattern} is HTTPS-only, as Secure cookies need"))
        }
        ViewerProtocolPolicy::RedirectToHttps => Finding::warn(
            CHECK,
            format!(
                "{pattern} redirects plain HTTP to HTTPS: it works, but an http:// link is sent without the Secure cookies first"
            ),
            format!("set ViewerProtocolPolicy https-only on {pattern}"),
        ),
        other => Finding::fail(
            CHECK,
            format!(
                "{pattern} allows plain HTTP ({}) but the cookies are Secure: browsers do not send them over \
                 http://, so such links get 403",
                other.as_str()
            ),
            format!("set ViewerProtocolPolicy https-only on {pattern}"),
        ),
    }
}
