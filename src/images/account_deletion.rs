//! Finishing the deletion of an account: every object of every image it holds (private, public,
//! staging, album copies, a move's other key), each image under its own lease, with public copies
//! invalidated; then its albums and the account row.
//!
//! Each step is a lifecycle step that repeats safely, so a deletion cut short (store unreachable,
//! process gone) is finished by the next pass: the request's own, or the sweep's.

use sea_orm::DbErr;

use super::lease::Lease;
use super::lifecycle::{self, LifecycleError, Services};
use crate::db;
use crate::domain::UserId;
use crate::telemetry::Causes;

/// Images handled per account and pass; the next pass takes the rest.
const BATCH: u64 = 100;

/// Deletes what is left of account `owner` (whose deletion began); true once the account row is gone.
/// Images another change holds are left for the next pass.
pub async fn finish(s: Services<'_>, owner: UserId, now: u64) -> Result<bool, LifecycleError> {
    let mut held = false;
    for image in db::images::all_of_owner(s.db, owner, BATCH).await? {
        let Some(lease) = Lease::take(s.db, &image.id, Some(owner), now, s.lease_secs).await? else {
            held = true;
            continue;
        };
        // Read again under the lease: a change may have finished meanwhile.
        let outcome = match db::images::find(s.db, &image.id).await? {
            Some(image) => lifecycle::finish_delete(s, image, now).await,
            None => Ok(()),
        };
        lease.release_or_let_expire(s.db).await;
        outcome?;
    }
    if held || !db::images::all_of_owner(s.db, owner, 1).await?.is_empty() {
        return Ok(false);
    }
    db::albums::delete_owned(s.db, owner).await?;
    db::users::delete(s.db, owner).await?;
    Ok(true)
}

/// Finishes up to a batch of account deletions (the sweeper); returns how many accounts are gone.
pub async fn sweep_accounts(s: Services<'_>, now: u64) -> Result<u64, DbErr> {
    let mut finished = 0;
    for owner in db::users::deleting(s.db, BATCH).await? {
        match finish(s, owner, now).await {
            Ok(true) => finished += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(user = owner.0, error = %Causes(&error), "could not finish deleting an account");
            }
        }
    }
    Ok(finished)
}
