//! What happens to an image after the request that starts it: checking an upload, moving the object
//! between its private and public keys, deleting it, and sweeping what was left unfinished.
//!
//! Each step is idempotent and the row records where the object is ([`Location`]), so a step cut short
//! (store unreachable, process gone) leaves a state that repeating the request, or the next sweep,
//! finishes. A move copies before it deletes, so at every point at least one complete copy exists.
//! Moves and deletions run under the row's lease, so two of them never interleave on one image.

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};

use super::{ContentType, ImageId, ImageKey};
use crate::cdn::{Cdn, CdnError};
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::entity::image::{self, Location, Status, Visibility};
use crate::domain::UserId;
use crate::storage::{Storage, StorageError};

/// How long a move or deletion holds an image before another request or the sweeper may take over
/// (the holder is then presumed gone). Well above the store's 30-second operation timeout times the
/// four calls of a move.
pub const LEASE_SECS: u64 = 180;

/// How long after its URL expired an unfinished upload is swept. The store checks a URL's expiry
/// against its own clock, which may lag ours; an upload it still accepts must find its row there.
pub const UPLOAD_GRACE_SECS: u64 = 60;

/// Rows handled per kind and sweep; the next sweep takes the rest.
const SWEEP_BATCH: u64 = 100;

/// What the lifecycle steps talk to.
#[derive(Clone, Copy, Debug)]
pub struct Services<'a> {
    /// The database.
    pub db: &'a DatabaseConnection,
    /// The bucket.
    pub storage: &'a Storage,
    /// CloudFront invalidations.
    pub cdn: &'a Cdn,
}

/// Why a step did not finish.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The store failed or could not be reached.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// CloudFront refused or could not be reached.
    #[error(transparent)]
    Cdn(#[from] CdnError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The stored bytes are not of the declared type (checked again before an image goes public,
    /// since its upload URL may have been used again after the first check).
    #[error("{0}")]
    Mismatch(String),
    /// A row edgepass could not have written, or an object missing from both of its keys.
    #[error("image {id}: {what}")]
    Inconsistent {
        /// The image.
        id: String,
        /// What is wrong.
        what: String,
    },
}

/// An image's type and both of its keys, derived from its row.
#[derive(Clone, Debug)]
pub struct ImageKeys {
    /// The declared type.
    pub content_type: ContentType,
    /// `users/{owner}/{id}.{ext}`.
    pub private: ImageKey,
    /// `public/{id}.{ext}`.
    pub public: ImageKey,
}

impl ImageKeys {
    /// The keys of `image`.
    pub fn of(image: &image::Model) -> Result<Self, LifecycleError> {
        let inconsistent = |what: &str| LifecycleError::Inconsistent {
            id: image.id.clone(),
            what: what.to_owned(),
        };
        let id = ImageId::parse(&image.id).ok_or_else(|| inconsistent("malformed id"))?;
        let content_type =
            ContentType::parse(&image.content_type).map_err(|_| inconsistent("unknown content type"))?;
        Ok(Self {
            content_type,
            private: ImageKey::private(UserId(image.owner_id), &id, content_type),
            public: ImageKey::public(&id, content_type),
        })
    }

    /// The key of `visibility`.
    pub fn at(&self, visibility: Visibility) -> &ImageKey {
        match visibility {
            Visibility::Private => &self.private,
            Visibility::Public => &self.public,
        }
    }
}

/// Why the first bytes of a file are not of the declared type, if they are not.
fn content_mismatch(declared: ContentType, head: &[u8]) -> Option<String> {
    match ContentType::sniff(head) {
        Some(found) if found == declared => None,
        Some(found) => Some(format!("the file is {found}, not the declared {declared}")),
        None => Some(format!(
            "the file is not {declared} (nor any accepted image type)"
        )),
    }
}

/// How completing an upload ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Completion {
    /// The image is ready (now, or already was).
    Ready(image::Model),
    /// Nothing is stored yet; `expired` when the upload URL has expired too (the row is then
    /// rejected, and the upload must start again).
    NotUploaded {
        /// Whether the upload URL has expired.
        expired: bool,
    },
    /// The stored file is not what was declared; it was deleted and the image rejected.
    Rejected(String),
    /// The image went away meanwhile (deleted, or swept after its URL expired).
    Gone,
}

/// Checks a pending upload (size and type as stored, then the first bytes) and makes it ready, or
/// deletes what was stored and rejects it. A ready image stays as it is.
pub async fn complete_upload(
    s: Services<'_>,
    image: image::Model,
    now: u64,
) -> Result<Completion, LifecycleError> {
    match image.status {
        Status::Ready => return Ok(Completion::Ready(image)),
        Status::Rejected | Status::Deleting => return Ok(Completion::Gone),
        Status::Pending => {}
    }
    let keys = ImageKeys::of(&image)?;
    let Some(stored) = s.storage.head(&keys.private).await? else {
        let expired = now >= image.upload_expires_at as u64;
        if expired {
            // Anything the store still accepts with the old URL is swept with the row.
            db::images::reject(s.db, &image.id).await?;
        }
        return Ok(Completion::NotUploaded { expired });
    };
    let declared = keys.content_type;
    let mismatch = if stored.size != image.byte_size as u64 {
        Some(format!(
            "the stored file has {} bytes, not the declared {}",
            stored.size, image.byte_size
        ))
    } else if stored.content_type.as_deref() != Some(declared.mime()) {
        Some(format!(
            "the file was stored as {}, not the declared {declared}",
            stored.content_type.as_deref().unwrap_or("no type")
        ))
    } else {
        let head = s
            .storage
            .read_prefix(&keys.private, ContentType::SNIFF_LEN)
            .await?;
        content_mismatch(declared, &head)
    };
    if let Some(reason) = mismatch {
        // Rejected first: if deleting the object fails, the sweeper still removes it with the row.
        if db::images::reject(s.db, &image.id).await? {
            s.storage.delete(&keys.private).await?;
        }
        return Ok(Completion::Rejected(reason));
    }
    db::images::mark_ready(s.db, &image.id).await?;
    match db::images::find(s.db, &image.id).await? {
        Some(row) if row.status == Status::Ready => Ok(Completion::Ready(row)),
        _ => Ok(Completion::Gone),
    }
}

async fn reload(db: &DatabaseConnection, id: &str) -> Result<image::Model, LifecycleError> {
    db::images::find(db, id)
        .await?
        .ok_or_else(|| LifecycleError::Inconsistent {
            id: id.to_owned(),
            what: "the row vanished while its lease was held".to_owned(),
        })
}

/// The CloudFront caller reference of the image's current change: a retry of the same change sends
/// the same one, so CloudFront treats it as the same invalidation.
fn caller_reference(image: &image::Model) -> String {
    format!("edgepass-{}-{}", image.id, image.changes)
}

/// Records a move toward `target` unless the image is there or on its way already (a move the other way
/// is turned around: its source still holds the bytes). The caller holds the lease.
pub async fn begin_move(
    db: &DatabaseConnection,
    image: image::Model,
    target: Visibility,
) -> Result<image::Model, LifecycleError> {
    if image.location == Location::at(target) || image.location == Location::moving_to(target) {
        return Ok(image);
    }
    db::images::start_move(db, &image.id, target).await?;
    reload(db, &image.id).await
}

/// The first step of a move: copies the object to its destination key unless it is there already.
/// Before anything goes public its first bytes are checked once more.
pub async fn copy_to_destination(s: Services<'_>, image: &image::Model) -> Result<(), LifecycleError> {
    let Some(target) = image.location.destination() else {
        return Ok(());
    };
    let keys = ImageKeys::of(image)?;
    let (to, from) = (keys.at(target), keys.at(target.other()));
    if s.storage.head(to).await?.is_some() {
        return Ok(());
    }
    if s.storage.head(from).await?.is_none() {
        return Err(LifecycleError::Inconsistent {
            id: image.id.clone(),
            what: format!("the object is at neither {from} nor {to}"),
        });
    }
    if target == Visibility::Public {
        let head = s.storage.read_prefix(from, ContentType::SNIFF_LEN).await?;
        if let Some(reason) = content_mismatch(keys.content_type, &head) {
            return Err(LifecycleError::Mismatch(reason));
        }
    }
    s.storage.copy(from, to).await?;
    Ok(())
}

/// Finishes the image's move, if one is unfinished: copy, delete the source, invalidate the public path
/// when going private, then record the new location with an audit event. The caller holds the lease.
pub async fn finish_move(
    s: Services<'_>,
    image: image::Model,
    now: u64,
) -> Result<image::Model, LifecycleError> {
    let Some(target) = image.location.destination() else {
        return Ok(image);
    };
    let keys = ImageKeys::of(&image)?;
    let source = target.other();
    match copy_to_destination(s, &image).await {
        Err(LifecycleError::Mismatch(reason)) => {
            // Nothing was copied: the image stays where it was.
            db::images::settle(s.db, &image.id, source, keys.at(source)).await?;
            return Err(LifecycleError::Mismatch(reason));
        }
        other => other?,
    }
    s.storage.delete(keys.at(source)).await?;
    let owner = Some(UserId(image.owner_id));
    let invalidated = match target {
        Visibility::Private => {
            let path = keys.public.cdn_path();
            s.cdn
                .invalidate(std::slice::from_ref(&path), &caller_reference(&image))
                .await?;
            Some(path)
        }
        Visibility::Public => None,
    };
    let action = match target {
        Visibility::Public => Action::ImageMadePublic,
        Visibility::Private => Action::ImageMadePrivate,
    };
    let txn = s.db.begin().await?;
    db::images::settle(&txn, &image.id, target, keys.at(target)).await?;
    audit::record(&txn, owner, action, &image.id, None, now).await?;
    if let Some(path) = invalidated {
        audit::record(&txn, owner, Action::InvalidationRequested, &path, None, now).await?;
    }
    txn.commit().await?;
    reload(s.db, &image.id).await
}

/// Sends the image toward `target` and finishes the move (see [`begin_move`], [`finish_move`]). The
/// caller holds the lease.
pub async fn change_visibility(
    s: Services<'_>,
    image: image::Model,
    target: Visibility,
    now: u64,
) -> Result<image::Model, LifecycleError> {
    let image = begin_move(s.db, image, target).await?;
    finish_move(s, image, now).await
}

/// Deletes the image. A pending upload is rejected and its object deleted (the row goes with the
/// sweep, after its URL has expired); a ready image is marked `deleting` and finished by
/// [`finish_delete`]. The caller holds the lease.
pub async fn delete_image(s: Services<'_>, image: image::Model, now: u64) -> Result<(), LifecycleError> {
    match image.status {
        Status::Pending | Status::Rejected => {
            let keys = ImageKeys::of(&image)?;
            db::images::reject(s.db, &image.id).await?;
            s.storage.delete(&keys.private).await?;
            Ok(())
        }
        Status::Ready => {
            db::images::start_delete(s.db, &image.id).await?;
            let image = reload(s.db, &image.id).await?;
            finish_delete(s, image, now).await
        }
        Status::Deleting => finish_delete(s, image, now).await,
    }
}

/// Deletes both keys, invalidates the public path if a public copy may have been served, and removes
/// the row with an audit event. The caller holds the lease.
pub async fn finish_delete(s: Services<'_>, image: image::Model, now: u64) -> Result<(), LifecycleError> {
    let keys = ImageKeys::of(&image)?;
    s.storage.delete(&keys.private).await?;
    s.storage.delete(&keys.public).await?;
    let invalidated = if image.location == Location::Private {
        None
    } else {
        let path = keys.public.cdn_path();
        s.cdn
            .invalidate(std::slice::from_ref(&path), &caller_reference(&image))
            .await?;
        Some(path)
    };
    let owner = Some(UserId(image.owner_id));
    let txn = s.db.begin().await?;
    audit::record(&txn, owner, Action::ImageDeleted, &image.id, None, now).await?;
    if let Some(path) = invalidated {
        audit::record(&txn, owner, Action::InvalidationRequested, &path, None, now).await?;
    }
    // The foreign key cascades too; deleting here keeps that from being the only guard.
    db::shares::revoke_all(&txn, &image.id).await?;
    db::share_links::delete_for_image(&txn, &image.id).await?;
    db::images::delete(&txn, &image.id).await?;
    txn.commit().await?;
    Ok(())
}

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Abandoned or rejected uploads removed, row and object.
    pub uploads: u64,
    /// Unfinished visibility changes finished.
    pub moves: u64,
    /// Unfinished deletions finished.
    pub deletions: u64,
    /// Images whose step failed again (logged; the next sweep retries).
    pub failures: u64,
}

/// Removes uploads whose URL expired more than [`UPLOAD_GRACE_SECS`] before `now` (row and object),
/// and finishes moves and deletions that nobody holds.
pub async fn sweep(s: Services<'_>, now: u64) -> Result<Swept, DbErr> {
    let mut swept = Swept::default();
    let cutoff = now.saturating_sub(UPLOAD_GRACE_SECS);
    for image in db::images::abandoned_uploads(s.db, cutoff, SWEEP_BATCH).await? {
        match sweep_upload(s, &image, cutoff).await {
            Ok(true) => swept.uploads += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(image = %image.id, %error, "could not sweep an abandoned upload");
                swept.failures += 1;
            }
        }
    }
    for image in db::images::unfinished(s.db, now, SWEEP_BATCH).await? {
        let until = now.saturating_add(LEASE_SECS);
        if !db::images::try_lease(s.db, &image.id, None, now, until).await? {
            continue;
        }
        let Some(image) = db::images::find(s.db, &image.id).await? else {
            continue;
        };
        let id = image.id.clone();
        let deleting = image.status == Status::Deleting;
        let result = if deleting {
            finish_delete(s, image, now).await
        } else {
            finish_move(s, image, now).await.map(|_| ())
        };
        match result {
            Ok(()) if deleting => swept.deletions += 1,
            Ok(()) => swept.moves += 1,
            Err(error) => {
                tracing::warn!(image = %id, %error, "could not finish an interrupted change");
                swept.failures += 1;
            }
        }
        db::images::release_lease(s.db, &id, until).await?;
    }
    Ok(swept)
}

/// Claims one abandoned upload, deletes its object, then its row; false when it was completed or
/// removed meanwhile.
async fn sweep_upload(s: Services<'_>, image: &image::Model, cutoff: u64) -> Result<bool, LifecycleError> {
    if !db::images::claim_abandoned(s.db, &image.id, cutoff).await? {
        return Ok(false);
    }
    s.storage.delete(&ImageKeys::of(image)?.private).await?;
    Ok(db::images::delete_rejected(s.db, &image.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffed_content_must_match_the_declared_type() {
        let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
        assert_eq!(content_mismatch(ContentType::Png, png), None);
        assert_eq!(
            content_mismatch(ContentType::Jpeg, png).as_deref(),
            Some("the file is image/png, not the declared image/jpeg")
        );
        assert_eq!(
            content_mismatch(ContentType::Png, b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>").as_deref(),
            Some("the file is not image/png (nor any accepted image type)")
        );
    }

    #[test]
    fn a_move_heads_for_its_destination_from_its_source() {
        for visibility in [Visibility::Private, Visibility::Public] {
            assert_eq!(Location::at(visibility).destination(), None);
            assert_eq!(Location::at(visibility).source(), visibility);
            let moving = Location::moving_to(visibility);
            assert_eq!(moving.destination(), Some(visibility));
            assert_eq!(moving.source(), visibility.other());
        }
    }
}
