//! Login throttling per account and per client address, and registration throttling per client
//! address, counted from the audit log so that every instance of the service sees the same counts.
//!
//! A login attempt is recorded as a failure *before* its password is checked and the count taken after
//! that, so concurrent guesses see each other: at most the limit of them ever reach the password check.
//! The record is withdrawn when the attempt is refused unchecked or turns out to succeed.
//!
//! A registration is counted the same way: a provisional registration event is recorded before the
//! password is hashed and the count taken after, and withdrawn unless the account is made (then the
//! account's own registration event takes its place in the same transaction).

use sea_orm::{ConnectionTrait, DbErr};

use crate::config::Limits;
use crate::db::audit::{self, Action, FailureKey};

/// A refused attempt: one may succeed again after this many seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds to wait.
    pub retry_after_secs: u64,
}

/// A failure counts while `now < at + window`, so waiting exactly `Retry-After` seconds is enough.
fn judge(failures: audit::Recent, limit: u64, window: u64, now: u64) -> Option<Throttled> {
    if failures.count <= limit {
        return None;
    }
    let oldest = failures.oldest_at.unwrap_or(now);
    Some(Throttled {
        retry_after_secs: (oldest + window).saturating_sub(now).max(1),
    })
}

/// An attempt under way, recorded as a failure until it is known to be something else.
#[derive(Debug)]
pub struct Attempt {
    record: i64,
}

/// Records an attempt for `email` from `client` and judges it against both limits (this attempt included).
/// A refused attempt is withdrawn at once.
pub async fn begin(
    db: &impl ConnectionTrait,
    limits: &Limits,
    email: &str,
    client: Option<&str>,
    now: u64,
) -> Result<Result<Attempt, Throttled>, DbErr> {
    let record = audit::record(db, None, Action::LoginFailed, email, client, now).await?;
    let after = now.saturating_sub(limits.login_window_secs);
    let window = limits.login_window_secs;
    let account = audit::recent_failures(db, FailureKey::Account(email), after).await?;
    let mut verdict = judge(account, limits.login_failures_per_account, window, now);
    if let Some(client) = client {
        let by_client = audit::recent_failures(db, FailureKey::Client(client), after).await?;
        let by_client = judge(by_client, limits.login_failures_per_client, window, now);
        verdict = match (verdict, by_client) {
            (Some(a), Some(b)) => Some(Throttled {
                retry_after_secs: a.retry_after_secs.max(b.retry_after_secs),
            }),
            (a, b) => a.or(b),
        };
    }
    match verdict {
        None => Ok(Ok(Attempt { record })),
        Some(throttled) => {
            audit::delete(db, record).await?;
            Ok(Err(throttled))
        }
    }
}

/// A registration under way, counted as made until it is known to be otherwise.
#[derive(Debug)]
pub struct Registration {
    /// The provisional event; none when the client address is unknown (then nothing is counted).
    record: Option<i64>,
}

/// Records a registration for `email` from `client` and judges it against the per-client limit (this
/// one included). A refused registration is withdrawn at once. A request with no known client address
/// is not limited.
pub async fn begin_registration(
    db: &impl ConnectionTrait,
    limits: &Limits,
    email: &str,
    client: Option<&str>,
    now: u64,
) -> Result<Result<Registration, Throttled>, DbErr> {
    let Some(client) = client else {
        return Ok(Ok(Registration { record: None }));
    };
    let record = audit::record(db, None, Action::Register, email, Some(client), now).await?;
    let window = limits.registration_window_secs;
    let after = now.saturating_sub(window);
    let recent = audit::recent_from_client(db, Action::Register, client, after).await?;
    match judge(recent, limits.registrations_per_client, window, now) {
        None => Ok(Ok(Registration { record: Some(record) })),
        Some(throttled) => {
            audit::delete(db, record).await?;
            Ok(Err(throttled))
        }
    }
}

impl Registration {
    /// Withdraws the provisional event: call inside the transaction that records the account's own
    /// registration event, or when no account was made.
    pub async fn withdraw(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        match self.record {
            Some(record) => audit::delete(db, record).await,
            None => Ok(()),
        }
    }
}

impl Attempt {
    /// The password was right: the attempt was no failure.
    pub async fn succeeded(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        audit::delete(db, self.record).await
    }

    /// The password was wrong: the record stands as the failure.
    pub fn failed(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_allows_that_many_attempts_and_lifts_when_the_oldest_failure_leaves_the_window() {
        let failures = |count, oldest| audit::Recent {
            count,
            oldest_at: Some(oldest),
        };
        assert_eq!(judge(failures(5, 1_000), 5, 900, 1_100), None);
        assert_eq!(
            judge(failures(6, 1_000), 5, 900, 1_100),
            Some(Throttled {
                retry_after_secs: 800
            })
        );
        assert_eq!(
            judge(failures(6, 1_000), 5, 900, 1_899),
            Some(Throttled { retry_after_secs: 1 })
        );
    }
}
