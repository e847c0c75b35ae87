//! `distribution`: it exists, is enabled and deployed, and the CDN base URL's host is one of its names.

use aws_sdk_cloudfront::types::Distribution;

use crate::doctor::expected::Expected;
use crate::doctor::gather::Fact;
use crate::doctor::report::Finding;

const CHECK: &str = "distribution";

/// The `distribution` finding.
pub(crate) fn check(expected: &Expected, distribution: &Fact<Distribution>) -> Finding {
    let id = &expected.distribution_id;
    let distribution = match distribution {
        Ok(distribution) => distribution,
        Err(why) => {
            return Finding::fail(
                CHECK,
                format!("distribution {id} could not be read: {why}"),
                "check EDGEPASS_CDN_DISTRIBUTION_ID and that these credentials may call \
                 cloudfront:GetDistribution",
            );
        }
    };
    let Some(config) = distribution.distribution_config() else {
        return Finding::fail(
            CHECK,
            format!("distribution {id} came without its configuration"),
            "read it with aws cloudfront get-distribution and compare it with infra/edgepass.yaml",
        );
    };
    if !config.enabled() {
        return Finding::fail(
            CHECK,
            format!("distribution {id} is disabled: it serves nothing"),
            format!("enable it: aws cloudfront update-distribution --id {id} with Enabled true"),
        );
    }
    let cdn = expected.cdn_host.as_str();
    let own_name = distribution.domain_name().to_ascii_lowercase();
    let aliases: Vec<String> = config
        .aliases()
        .map(|aliases| aliases.items())
        .unwrap_or_default()
        .iter()
        .map(|alias| alias.to_ascii_lowercase())
        .collect();
    let status = distribution.status();
    let deployed = status == "Deployed";
    let finding = if aliases.iter().any(|alias| alias == cdn) {
        Finding::ok(
            CHECK,
            format!("{id} is {status}; {cdn} (EDGEPASS_CDN_BASE_URL) is one of its aliases"),
        )
    } else if own_name == cdn {
        Finding::warn(
            CHECK,
            format!(
                "{id} is {status}; EDGEPASS_CDN_BASE_URL uses its own name {cdn}: cloudfront.net is a public \
                 suffix, so only host-only cookies set by a response from {cdn} itself can reach it, never \
                 cookies from the app's host"
            ),
            "add an alias under your own domain (Aliases, with its certificate) and use it in \
             EDGEPASS_CDN_BASE_URL, or serve the API through this distribution",
        )
    } else {
        let names = std::iter::once(own_name.as_str())
            .chain(aliases.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(", ");
        return Finding::fail(
            CHECK,
            format!(
                "EDGEPASS_CDN_BASE_URL's host {cdn} is none of distribution {id}'s names ({names}): CloudFront \
                 refuses requests for it"
            ),
            format!(
                "add {cdn} to the distribution's Aliases, or set EDGEPASS_CDN_BASE_URL to one of {names}"
            ),
        );
    };
    if deployed {
        finding
    } else {
        Finding::warn(
            CHECK,
            format!(
                "{id} is {status}, not Deployed: edge locations may still serve its previous configuration"
            ),
            "wait for Deployed (aws cloudfront wait distribution-deployed) and run edgepass doctor again",
        )
    }
}
