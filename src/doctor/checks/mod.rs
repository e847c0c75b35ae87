//! The checks: pure functions of what the configuration expects and what the deployment holds, each
//! making the findings of one concern.

mod behaviors;
mod bucket;
mod cookies;
mod distribution;
mod keys;
mod network;

pub use network::{CLOCK_FAIL_SECS, CLOCK_WARN_SECS};

use super::expected::Expected;
use super::gather::Deployment;
use super::report::Finding;

/// Every finding, in the order an operator fixes things: the distribution, its behaviors, the keys,
/// the cookies, the bucket, then the network and the whole chain.
pub fn run(expected: &Expected, deployment: &Deployment) -> Vec<Finding> {
    let mut findings = vec![distribution::check(expected, &deployment.distribution)];
    findings.extend(behaviors::check(
        expected,
        &deployment.distribution,
        &deployment.key_groups,
    ));
    let public_key = keys::public_key(expected, &deployment.registered_key, &deployment.service);
    let chain = keys::chain(
        expected,
        &public_key,
        &deployment.registered_key,
        &deployment.service,
    );
    findings.push(public_key);
    findings.push(cookies::check(expected));
    findings.push(bucket::public_access(expected, &deployment.public_access_block));
    findings.push(bucket::origin_access(
        expected,
        &deployment.distribution,
        &deployment.access_controls,
        &deployment.bucket_policy,
    ));
    findings.push(bucket::cors(expected, &deployment.cors_rules));
    findings.push(bucket::lifecycle(expected, &deployment.lifecycle_rules));
    findings.push(network::ipv6(expected, &deployment.distribution));
    findings.push(network::clock(&deployment.store_clock));
    findings.push(chain);
    findings
}
