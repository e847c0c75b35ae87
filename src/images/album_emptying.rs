//! Emptying a deleted album: each of its images goes back to its owner's root, or is deleted with it,
//! one image at a time under that image's lease; the album row goes once none is left.
//!
//! Every step is a lifecycle step that repeats safely, so an emptying cut short (store unreachable,
//! process gone, an image held by another change) is finished by deleting the album again or by the
//! next sweep.

use sea_orm::DbErr;

use super::lease::Lease;
use super::lifecycle::{self, LifecycleError, Services};
use crate::db;
use crate::db::entity::album;
use crate::db::entity::image::Status;
use crate::db::images::Placement;
use crate::telemetry::Causes;

/// Images handled per album and pass; the next pass takes the rest.
const BATCH: u64 = 100;

/// How far one pass got.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Emptied {
    /// Images moved out or deleted.
    pub images: u64,
    /// Whether the album is gone (nothing was left in it).
    pub finished: bool,
}

/// Moves the images of `album` (which is being deleted) back to the owner's root, or deletes them
/// when the album was deleted with its images; removes the album once it is empty. Images another
/// change holds are left for the next pass.
pub async fn empty_album(s: Services<'_>, album: &album::Model, now: u64) -> Result<Emptied, LifecycleError> {
    let mut emptied = Emptied::default();
    let mut held = false;
    for image in db::images::in_album(s.db, &album.id, BATCH).await? {
        let Some(lease) = Lease::take(s.db, &image.id, Some(album.owner_id), now, s.lease_secs).await? else {
            held = true;
            continue;
        };
        let outcome = empty_one(s, album, &image.id, now).await;
        lease.release_or_let_expire(s.db).await;
        outcome?;
        emptied.images += 1;
    }
    if held || !db::images::in_album(s.db, &album.id, 1).await?.is_empty() {
        return Ok(emptied);
    }
    db::albums::delete(s.db, &album.id).await?;
    emptied.finished = true;
    Ok(emptied)
}

/// Takes one image (whose lease the caller holds) out of the album being deleted.
async fn empty_one(
    s: Services<'_>,
    album: &album::Model,
    id: &super::ImageId,
    now: u64,
) -> Result<(), LifecycleError> {
    // Read again under the lease: it may have left the album meanwhile.
    let Some(image) = db::images::find(s.db, id)
        .await?
        .filter(|image| image.album_id.as_ref() == Some(&album.id))
    else {
        return Ok(());
    };
    match image.status {
        Status::Ready | Status::Deleting if album.delete_images => {
            lifecycle::delete_image(s, image, now).await
        }
        Status::Deleting => lifecycle::finish_delete(s, image, now).await,
        Status::Ready => {
            let placement = Placement {
                visibility: image.visibility,
                album: None,
            };
            lifecycle::place(s, image, &placement, now).await.map(|_| ())
        }
        Status::Pending | Status::Rejected => {
            if album.delete_images && image.status == Status::Pending {
                lifecycle::delete_image(s, image.clone(), now).await?;
            }
            // Its key is still the staging key: only the row changes, and a completion copies to
            // the owner's root.
            db::images::set_album(s.db, &image.id, None).await?;
            Ok(())
        }
    }
}

/// Finishes up to a batch of deleted albums (the sweeper); returns how many are gone.
pub async fn sweep_albums(s: Services<'_>, now: u64) -> Result<u64, DbErr> {
    let mut finished = 0;
    for album in db::albums::deleting(s.db, BATCH).await? {
        match empty_album(s, &album, now).await {
            Ok(emptied) if emptied.finished => finished += 1,
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(album = %album.id, error = %Causes(&error), "could not empty a deleted album");
            }
        }
    }
    Ok(finished)
}
