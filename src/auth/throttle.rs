//! Login throttling per account and per client address, counted from the audit log so that every
//! instance of the service sees the same counts.

use sea_orm::{ConnectionTrait, DbErr};

use crate::config::Limits;
use crate::db::audit::{self, FailureKey};

/// Whether a login attempt may proceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allowed,
    /// Refuse; a login may succeed again after this many seconds.
    Throttled {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
}

fn judge(failures: audit::Failures, limit: u64, window: u64, now: u64) -> Verdict {
    if failures.count < limit {
        return Verdict::Allowed;
    }
    let oldest = failures.oldest_at.unwrap_or(now);
    Verdict::Throttled {
        retry_after_secs: (oldest + window).saturating_sub(now).max(1),
    }
}

/// Checks both limits before any password is looked at.
pub async fn check(
    db: &impl ConnectionTrait,
    limits: &Limits,
    email: &str,
    client: Option<&str>,
    now: u64,
) -> Result<Verdict, DbErr> {
    let since = now.saturating_sub(limits.login_window_secs);
    let account = audit::recent_failures(db, FailureKey::Account(email), since).await?;
    let mut verdict = judge(
        account,
        limits.login_failures_per_account,
        limits.login_window_secs,
        now,
    );
    if let Some(client) = client {
        let by_client = audit::recent_failures(db, FailureKey::Client(client), since).await?;
        let client_verdict = judge(
            by_client,
            limits.login_failures_per_client,
            limits.login_window_secs,
            now,
        );
        verdict = match (verdict, client_verdict) {
            (Verdict::Throttled { retry_after_secs: a }, Verdict::Throttled { retry_after_secs: b }) => {
                Verdict::Throttled {
                    retry_after_secs: a.max(b),
                }
            }
            (Verdict::Allowed, other) | (other, Verdict::Allowed) => other,
        };
    }
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_reached_at_the_count_and_lifts_when_the_oldest_failure_leaves_the_window() {
        let failures = |count, oldest| audit::Failures {
            count,
            oldest_at: Some(oldest),
        };
        assert_eq!(judge(failures(4, 1_000), 5, 900, 1_100), Verdict::Allowed);
        assert_eq!(
            judge(failures(5, 1_000), 5, 900, 1_100),
            Verdict::Throttled {
                retry_after_secs: 800
            }
        );
        assert_eq!(
            judge(failures(5, 1_000), 5, 900, 1_900),
            Verdict::Throttled { retry_after_secs: 1 },
            "never zero"
        );
    }
}
