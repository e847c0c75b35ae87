//! `ipv6`: viewers on IPv6 cannot match an IPv4-bound signature; `clock`: the local clock against the
//! store's, since every policy's times are judged by CloudFront's clock.

use aws_sdk_cloudfront::types::Distribution;

use crate::doctor::expected::Expected;
use crate::doctor::gather::{Fact, StoreClock};
use crate::doctor::report::Finding;

/// Past this difference the clock check warns: cookies minted "now" start or end early by as much.
pub const CLOCK_WARN_SECS: u64 = 30;
/// Past this difference it fails: fresh cookies can be refused as not yet valid or already expired.
pub const CLOCK_FAIL_SECS: u64 = 300;

/// The `ipv6` finding.
pub(crate) fn ipv6(expected: &Expected, distribution: &Fact<Distribution>) -> Finding {
    const CHECK: &str = "ipv6";
    let Ok(distribution) = distribution else {
        return Finding::skip(CHECK, "not checked: the distribution could not be read");
    };
    let enabled = distribution
        .distribution_config()
        .and_then(|config| config.is_ipv6_enabled())
        .unwrap_or(false);
    match (enabled, expected.bind_viewer_ip) {
        (true, true) => Finding::fail(
            CHECK,
            "IPv6 is on and EDGEPASS_CDN_BIND_VIEWER_IP binds signatures to the viewer's IPv4 address: \
             viewers reaching CloudFront over IPv6 get 403",
            "turn IPv6 off on the distribution (IsIPV6Enabled false; EnableIpv6=false in infra/edgepass.yaml), \
             or set EDGEPASS_CDN_BIND_VIEWER_IP=false",
        ),
        (true, false) => Finding::ok(
            CHECK,
            "IPv6 is on; signatures are not bound to the viewer's address",
        ),
        (false, true) => Finding::ok(
            CHECK,
            "IPv6 is off, so every viewer has the IPv4 address signatures bind",
        ),
        (false, false) => Finding::ok(
            CHECK,
            "IPv6 is off; signatures are not bound to the viewer's address",
        ),
    }
}

/// The `clock` finding.
pub(crate) fn clock(store_clock: &Fact<StoreClock>) -> Finding {
    const CHECK: &str = "clock";
    let StoreClock { store, local } = match store_clock {
        Ok(clock) => *clock,
        Err(why) => {
            return Finding::fail(
                CHECK,
                format!("the store's clock could not be read: {why}"),
                "check EDGEPASS_S3_BUCKET and that these credentials may call s3:ListBucket",
            );
        }
    };
    let skew = store.abs_diff(local);
    let message = match local.cmp(&store) {
        std::cmp::Ordering::Equal => {
            "the local clock agrees with S3's (the Date of its answer) to the second".to_owned()
        }
        std::cmp::Ordering::Greater => {
            format!("the local clock is {skew} s ahead of S3's (the Date of its answer)")
        }
        std::cmp::Ordering::Less => {
            format!("the local clock is {skew} s behind S3's (the Date of its answer)")
        }
    };
    let fix = "synchronise the clock (chrony or systemd-timesyncd with the Amazon Time Sync Service)";
    if skew > CLOCK_FAIL_SECS {
        Finding::fail(
            CHECK,
            format!("{message}: cookies and URLs can be refused as not yet valid or expired"),
            fix,
        )
    } else if skew > CLOCK_WARN_SECS {
        Finding::warn(CHECK, format!("{message}: lifetimes are off by as much"), fix)
    } else {
        Finding::ok(CHECK, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn the_clock_warns_past_thirty_seconds_and_fails_past_five_minutes() {
        let at = |store, local| clock(&Ok(StoreClock { store, local })).status;
        assert_eq!(at(1_000, 1_000), Status::Ok);
        assert_eq!(at(1_000, 1_030), Status::Ok);
        assert_eq!(at(1_000, 1_031), Status::Warn);
        assert_eq!(at(1_031, 1_000), Status::Warn);
        assert_eq!(at(1_000, 1_300), Status::Warn);
        assert_eq!(at(1_000, 1_301), Status::Fail);
        assert_eq!(at(1_301, 1_000), Status::Fail);
    }
}
