//! What happens to an image after the request that starts it: checking an upload, moving the object
//! between its private and public keys, deleting it, and sweeping what was left unfinished.
//!
//! An upload lands at its staging key, which nothing serves. Completing it checks the staged bytes and
//! copies them to the private key only if they are still the bytes it checked (by entity tag), with
//! edgepass's own headers; every copy replaces the headers, so nothing the uploader sent is served.
//! No presigned URL ever names a private or public key.
//!
//! Each step is idempotent and the row records where the object is ([`Location`]), so a step cut short
//! (store unreachable, process gone) leaves a state that repeating the request, or the next sweep,
//! finishes. A move copies before it deletes, so at every point at least one complete copy exists.
//! Moves and deletions run under the row's lease, so two of them never interleave on one image.

use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tokio::io::AsyncReadExt;

use super::lease::Lease;
use super::{ContentType, ImageId, ImageKey};
use crate::aws::cloudfront::{InvalidationError, Invalidations};
use crate::aws::s3::{Copied, ObjectHeaders, Storage, StorageError};
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::entity::image::{self, Location, Status, Visibility};
use crate::db::images::Placement;
use crate::telemetry::Causes;

/// How long a move or deletion holds an image, by default, before another request or the sweeper may
/// take over (the holder is then presumed gone). Well above the store's 30-second operation timeout
/// times the four calls of a move.
pub const LEASE_SECS: u64 = 180;

/// How long after its URL expired an unfinished upload is swept. The store checks a URL's expiry
/// against its own clock, which may lag ours; an upload it still accepts must find its row there.
pub const UPLOAD_GRACE_SECS: u64 = 60;

/// Rows handled per kind and sweep; the next sweep takes the rest.
const SWEEP_BATCH: u64 = 100;

/// `Cache-Control` stored with a private image: a browser may keep it as long as a cookie set usually
/// lives (the local edge's default for `users/`).
pub const PRIVATE_CACHE_CONTROL: &str = "private, max-age=3600";
/// `Cache-Control` stored with a public image: short, so that making it private again soon stops shared
/// caches and browsers from showing it (the local edge's default for `public/`).
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=60";

/// What the lifecycle steps talk to.
#[derive(Clone, Copy, Debug)]
pub struct Services<'a> {
    /// The database.
    pub db: &'a DatabaseConnection,
    /// The bucket.
    pub storage: &'a Storage,
    /// CloudFront invalidations.
    pub cdn: &'a Invalidations,
    /// How long one change holds an image (`EDGEPASS_IMAGE_LEASE_SECS`).
    pub lease_secs: u64,
}

/// Why a step did not finish.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The store failed or could not be reached.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// CloudFront refused or could not be reached.
    #[error(transparent)]
    Cdn(#[from] InvalidationError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The stored bytes are not of the declared type (checked again before an image goes public:
    /// the upload URLs of images completed before uploads were staged named their private key).
    #[error("{0}")]
    Mismatch(String),
    /// A row edgepass could not have written, or an object missing from both of its keys.
    #[error("image {id}: {what}")]
    Inconsistent {
        /// The image.
        id: ImageId,
        /// What is wrong.
        what: String,
    },
}

/// An image's type and all of its keys, derived from its row.
#[derive(Clone, Debug)]
pub struct ImageKeys {
    /// The declared type.
    pub content_type: ContentType,
    /// `staging/{owner}/{id}`, where the upload URL puts the bytes.
    pub staging: ImageKey,
    /// `users/{owner}/{id}.{ext}`, or `users/{owner}/albums/{album}/{id}.{ext}` in an album.
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
        let content_type =
            ContentType::parse(&image.content_type).map_err(|_| inconsistent("unknown content type"))?;
        let (id, owner) = (&image.id, image.owner_id);
        Ok(Self {
            content_type,
            staging: ImageKey::staging(owner, id),
            private: ImageKey::private_in(owner, image.album_id.as_ref(), id, content_type),
            public: ImageKey::public(id, content_type),
        })
    }

    /// The key the image's placement asks for: its public key, or its private key in its album.
    pub fn placed(&self, image: &image::Model) -> &ImageKey {
        self.at(image.visibility)
    }

    /// The key of `visibility` (in the image's album, when private).
    pub fn at(&self, visibility: Visibility) -> &ImageKey {
        match visibility {
            Visibility::Private => &self.private,
            Visibility::Public => &self.public,
        }
    }

    /// The headers stored with the image at the key of `visibility`: its verified type, and the
    /// caching that visibility allows.
    pub fn headers(&self, visibility: Visibility) -> ObjectHeaders<'static> {
        ObjectHeaders {
            content_type: self.content_type.mime(),
            cache_control: match visibility {
                Visibility::Private => PRIVATE_CACHE_CONTROL,
                Visibility::Public => PUBLIC_CACHE_CONTROL,
            },
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
    /// The staged file was replaced while it was checked: nothing was copied and the upload stays
    /// pending, so completing it again checks what is there now.
    Changed,
    /// The image went away meanwhile (deleted, or swept after its URL expired).
    Gone,
}

/// What checking a pending upload found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// The staged bytes are what was declared: the version with this entity tag may be copied.
    Passed {
        /// The entity tag of the version checked.
        etag: String,
    },
    /// Completing ends here.
    Settled(Completion),
}

/// Checks a pending upload and makes it ready (see [`check_upload`] and [`copy_checked`]). A ready
/// image stays as it is. The caller holds the lease.
///
/// Each step can be repeated: a completion cut short after the copy finds the staging key gone (or
/// still there, and checks and copies it again) and the checked bytes at the private key, which only
/// a completion writes.
pub async fn complete_upload(
    s: Services<'_>,
    image: image::Model,
    now: u64,
) -> Result<Completion, LifecycleError> {
    match check_upload(s, &image, now).await? {
        Check::Settled(completion) => Ok(completion),
        Check::Passed { etag } => copy_checked(s, &image, &etag).await,
    }
}

/// The first step of completing: checks the staged object (size and type as stored, then its first
/// bytes, all of one version), or rejects the upload and deletes what it left. The caller holds the
/// lease.
pub async fn check_upload(s: Services<'_>, image: &image::Model, now: u64) -> Result<Check, LifecycleError> {
    match image.status {
        Status::Ready => return Ok(Check::Settled(Completion::Ready(image.clone()))),
        Status::Rejected | Status::Deleting => return Ok(Check::Settled(Completion::Gone)),
        Status::Pending => {}
    }
    let keys = ImageKeys::of(image)?;
    if image.object_key != keys.staging.as_str() {
        // Its URL names the private key itself, so nothing there was necessarily checked.
        let reason = "the upload was started before uploads were staged; start a new upload";
        return reject_upload(s, image, &keys, reason.to_owned()).await;
    }
    let Some(staged) = s.storage.describe(keys.staging.as_str()).await? else {
        if s.storage.head(&keys.private).await?.is_some() {
            // An earlier completion copied the checked bytes and was cut short after deleting the
            // staging key.
            return Ok(Check::Settled(mark_ready(s, image, &keys).await?));
        }
        let expired = now >= image.upload_expires_at as u64;
        if expired {
            // Anything the store still accepts with the old URL is swept with the row.
            db::images::reject(s.db, &image.id).await?;
        }
        return Ok(Check::Settled(Completion::NotUploaded { expired }));
    };
    let Some(etag) = staged.etag else {
        return Err(LifecycleError::Inconsistent {
            id: image.id.clone(),
            what: "the store gave the staged object no entity tag".to_owned(),
        });
    };
    let declared = keys.content_type;
    let mismatch = if staged.size != image.byte_size as u64 {
        Some(format!(
            "the stored file has {} bytes, not the declared {}",
            staged.size, image.byte_size
        ))
    } else if staged.content_type.as_deref() != Some(declared.mime()) {
        Some(format!(
            "the file was stored as {}, not the declared {declared}",
            staged.content_type.as_deref().unwrap_or("no type")
        ))
    } else {
        let Some(head) = first_bytes(s.storage, &keys.staging, &etag).await? else {
            return Ok(Check::Settled(Completion::Changed));
        };
        content_mismatch(declared, &head)
    };
    match mismatch {
        Some(reason) => reject_upload(s, image, &keys, reason).await,
        None => Ok(Check::Passed { etag }),
    }
}

/// The second step of completing: copies the staged version `etag` (the one [`check_upload`] passed)
/// to the private key with edgepass's headers, deletes the staging key, and makes the image ready.
/// When the staged object is no longer that version nothing is copied and the upload stays pending.
/// The caller holds the lease.
pub async fn copy_checked(
    s: Services<'_>,
    image: &image::Model,
    etag: &str,
) -> Result<Completion, LifecycleError> {
    let keys = ImageKeys::of(image)?;
    let copied = s
        .storage
        .copy_if_unchanged(
            &keys.staging,
            &keys.private,
            keys.headers(Visibility::Private),
            etag,
        )
        .await?;
    if copied == Copied::SourceChanged {
        return Ok(Completion::Changed);
    }
    s.storage.delete(&keys.staging).await?;
    mark_ready(s, image, &keys).await
}

/// The first [`ContentType::SNIFF_LEN`] bytes of the object at `key`, if it is still the version
/// `etag` names.
async fn first_bytes(
    storage: &Storage,
    key: &ImageKey,
    etag: &str,
) -> Result<Option<Vec<u8>>, LifecycleError> {
    let len = ContentType::SNIFF_LEN as u64;
    let Some(body) = storage.read(key.as_str(), Some((0, len - 1)), Some(etag)).await? else {
        return Ok(None);
    };
    let mut head = Vec::new();
    body.reader
        .take(len)
        .read_to_end(&mut head)
        .await
        .map_err(|e| StorageError::failed("GetObject body", e))?;
    Ok(Some(head))
}

/// Records the checked upload, now at the private key, as ready.
async fn mark_ready(
    s: Services<'_>,
    image: &image::Model,
    keys: &ImageKeys,
) -> Result<Completion, LifecycleError> {
    db::images::mark_ready(s.db, &image.id, &keys.private).await?;
    match db::images::find(s.db, &image.id).await? {
        Some(row) if row.status == Status::Ready => Ok(Completion::Ready(row)),
        _ => {
            // Removed meanwhile (its lease had run out): the copy must not outlive the row.
            s.storage.delete(&keys.private).await?;
            Ok(Completion::Gone)
        }
    }
}

/// Rejects a pending upload and deletes whatever it left in the bucket.
async fn reject_upload(
    s: Services<'_>,
    image: &image::Model,
    keys: &ImageKeys,
    reason: String,
) -> Result<Check, LifecycleError> {
    // Rejected first: if deleting the objects fails, the sweeper still removes them with the row.
    if db::images::reject(s.db, &image.id).await? {
        delete_upload_objects(s.storage, keys).await?;
    }
    Ok(Check::Settled(Completion::Rejected(reason)))
}

/// Deletes what an unfinished upload may have left: the staged bytes, and a copy at the private key
/// from a completion cut short (or the upload itself, for rows from before uploads were staged).
async fn delete_upload_objects(storage: &Storage, keys: &ImageKeys) -> Result<(), StorageError> {
    storage.delete(&keys.staging).await?;
    storage.delete(&keys.private).await
}

async fn reload(db: &DatabaseConnection, id: &ImageId) -> Result<image::Model, LifecycleError> {
    db::images::find(db, id)
        .await?
        .ok_or_else(|| LifecycleError::Inconsistent {
            id: id.clone(),
            what: "the row vanished while its lease was held".to_owned(),
        })
}

/// The CloudFront caller reference of the image's current change: a retry of the same change sends
/// the same one, so CloudFront treats it as the same invalidation.
fn caller_reference(image: &image::Model) -> String {
    format!("edgepass-{}-{}", image.id, image.changes)
}

/// Which side of the public/private line `key` is on.
fn side(key: &ImageKey) -> Visibility {
    if key.is_public() {
        Visibility::Public
    } else {
        Visibility::Private
    }
}

/// Where the object is on the way from `from` to `to`.
fn crossing(from: &ImageKey, to: &ImageKey) -> Location {
    if side(from) == side(to) {
        Location::at(side(from))
    } else {
        Location::moving_to(side(to))
    }
}

/// Asks CloudFront to drop its cached copies of `key` for the image's current change; returns the
/// path, for the audit log.
async fn invalidate(s: Services<'_>, image: &image::Model, key: &ImageKey) -> Result<String, LifecycleError> {
    let path = key.cdn_path();
    s.cdn
        .invalidate(std::slice::from_ref(&path), &caller_reference(image))
        .await?;
    Ok(path)
}

/// Records that the image is now placed at `placement` (its visibility and album) and, when that puts
/// it at another key, that its object is on its way there. A move still heading elsewhere is undone
/// first ([`abandon_move`]), so a row only ever records one move. The caller holds the lease.
pub async fn begin_move(
    s: Services<'_>,
    image: image::Model,
    placement: &Placement<'_>,
    now: u64,
) -> Result<image::Model, LifecycleError> {
    let target = {
        let mut placed = image.clone();
        placed.visibility = placement.visibility;
        placed.album_id = placement.album.cloned();
        ImageKeys::of(&placed)?.placed(&placed).clone()
    };
    let mut image = image;
    if image.moving_to.as_deref().is_some_and(|to| to != target.as_str()) {
        image = abandon_move(s, image, now).await?;
    }
    let from = ImageKey::from_stored(&image.object_key);
    let unmoved = from == target || image.moving_to.as_deref() == Some(target.as_str());
    let to = (!unmoved).then(|| (&target, crossing(&from, &target)));
    db::images::start_move(s.db, &image.id, placement, to).await?;
    reload(s.db, &image.id).await
}

/// Undoes an unfinished move: while its source still holds the object, the copy at its destination is
/// deleted (and its public path invalidated, if it had one) and the image stays at the source;
/// otherwise the copy was complete and the move is finished. The caller holds the lease.
async fn abandon_move(
    s: Services<'_>,
    image: image::Model,
    now: u64,
) -> Result<image::Model, LifecycleError> {
    let Some(to) = image.moving_to.as_deref().map(ImageKey::from_stored) else {
        return Ok(image);
    };
    let from = ImageKey::from_stored(&image.object_key);
    if s.storage.head(&from).await?.is_none() {
        return finish_move(s, image, now).await;
    }
    s.storage.delete(&to).await?;
    let invalidated = if to.is_public() {
        Some(invalidate(s, &image, &to).await?)
    } else {
        None
    };
    let txn = s.db.begin().await?;
    db::images::settle(&txn, &image.id, &from, Location::at(side(&from))).await?;
    if let Some(path) = invalidated {
        audit::record(
            &txn,
            Some(image.owner_id),
            Action::InvalidationRequested,
            &path,
            None,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    reload(s.db, &image.id).await
}

/// The first step of a move: copies the object from `from` to `to` unless it is there already.
/// Before anything goes public its first bytes are checked once more.
async fn copy_to_destination(
    s: Services<'_>,
    image: &image::Model,
    from: &ImageKey,
    to: &ImageKey,
) -> Result<(), LifecycleError> {
    let keys = ImageKeys::of(image)?;
    if s.storage.head(to).await?.is_some() {
        return Ok(());
    }
    if s.storage.head(from).await?.is_none() {
        return Err(LifecycleError::Inconsistent {
            id: image.id.clone(),
            what: format!("the object is at neither {from} nor {to}"),
        });
    }
    if to.is_public() {
        let head = s.storage.read_prefix(from, ContentType::SNIFF_LEN).await?;
        if let Some(reason) = content_mismatch(keys.content_type, &head) {
            return Err(LifecycleError::Mismatch(reason));
        }
    }
    // The headers are edgepass's own again: images completed before uploads were staged may carry
    // what their uploader sent.
    s.storage.copy(from, to, keys.headers(side(to))).await?;
    Ok(())
}

/// The first step of the image's unfinished move, if it has one: copies the object to where it is
/// going (see [`finish_move`] for the rest). The caller holds the lease.
pub async fn copy_step(s: Services<'_>, image: &image::Model) -> Result<(), LifecycleError> {
    let Some(to) = image.moving_to.as_deref().map(ImageKey::from_stored) else {
        return Ok(());
    };
    copy_to_destination(s, image, &ImageKey::from_stored(&image.object_key), &to).await
}

/// Finishes the image's move, if one is unfinished: copy, delete the source, invalidate the source's
/// public path when it had one, then record the new key with an audit event. The caller holds the
/// lease.
pub async fn finish_move(
    s: Services<'_>,
    image: image::Model,
    now: u64,
) -> Result<image::Model, LifecycleError> {
    let Some(to) = image.moving_to.as_deref().map(ImageKey::from_stored) else {
        return Ok(image);
    };
    let from = ImageKey::from_stored(&image.object_key);
    match copy_to_destination(s, &image, &from, &to).await {
        Err(LifecycleError::Mismatch(reason)) => {
            // Nothing was copied: the image stays where it was, at the visibility it has there.
            let txn = s.db.begin().await?;
            db::images::settle(&txn, &image.id, &from, Location::at(side(&from))).await?;
            db::images::start_move(
                &txn,
                &image.id,
                &Placement {
                    visibility: side(&from),
                    album: image.album_id.as_ref(),
                },
                None,
            )
            .await?;
            txn.commit().await?;
            return Err(LifecycleError::Mismatch(reason));
        }
        other => other?,
    }
    s.storage.delete(&from).await?;
    let owner = Some(image.owner_id);
    let invalidated = if from.is_public() {
        Some(invalidate(s, &image, &from).await?)
    } else {
        None
    };
    let action = match (side(&from), side(&to)) {
        (Visibility::Private, Visibility::Public) => Action::ImageMadePublic,
        (Visibility::Public, Visibility::Private) => Action::ImageMadePrivate,
        _ => Action::ImageMoved,
    };
    let txn = s.db.begin().await?;
    db::images::settle(&txn, &image.id, &to, Location::at(side(&to))).await?;
    audit::record(&txn, owner, action, image.id.as_str(), None, now).await?;
    if let Some(path) = invalidated {
        audit::record(&txn, owner, Action::InvalidationRequested, &path, None, now).await?;
    }
    txn.commit().await?;
    reload(s.db, &image.id).await
}

/// Sends the image to `placement` and finishes the move (see [`begin_move`], [`finish_move`]). The
/// caller holds the lease.
pub async fn place(
    s: Services<'_>,
    image: image::Model,
    placement: &Placement<'_>,
    now: u64,
) -> Result<image::Model, LifecycleError> {
    let image = begin_move(s, image, placement, now).await?;
    finish_move(s, image, now).await
}

/// Sends the image toward `target`, in its album if it has one, and finishes the move. The caller
/// holds the lease.
pub async fn change_visibility(
    s: Services<'_>,
    image: image::Model,
    target: Visibility,
    now: u64,
) -> Result<image::Model, LifecycleError> {
    let album = image.album_id.clone();
    let placement = Placement {
        visibility: target,
        album: album.as_ref(),
    };
    place(s, image, &placement, now).await
}

/// Deletes the image. A pending upload is rejected and its staged object deleted (the row goes with
/// the sweep, after its URL has expired, with anything PUT meanwhile); a ready image is marked
/// `deleting` and finished by [`finish_delete`]. The caller holds the lease.
pub async fn delete_image(s: Services<'_>, image: image::Model, now: u64) -> Result<(), LifecycleError> {
    match image.status {
        Status::Pending | Status::Rejected => {
            let keys = ImageKeys::of(&image)?;
            db::images::reject(s.db, &image.id).await?;
            delete_upload_objects(s.storage, &keys).await?;
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

/// Deletes both keys (and the staging key, which a PUT with the upload URL after completion may have
/// filled again), invalidates the public path if a public copy may have been served, and removes the
/// row with an audit event. The caller holds the lease.
pub async fn finish_delete(s: Services<'_>, image: image::Model, now: u64) -> Result<(), LifecycleError> {
    let keys = ImageKeys::of(&image)?;
    let mut at = vec![keys.staging.clone(), keys.private.clone(), keys.public.clone()];
    at.push(ImageKey::from_stored(&image.object_key));
    at.extend(image.moving_to.as_deref().map(ImageKey::from_stored));
    for (i, key) in at.iter().enumerate() {
        if !at[..i].contains(key) {
            s.storage.delete(key).await?;
        }
    }
    let invalidated = if image.location == Location::Private {
        None
    } else {
        Some(invalidate(s, &image, &keys.public).await?)
    };
    let owner = Some(image.owner_id);
    let txn = s.db.begin().await?;
    audit::record(&txn, owner, Action::ImageDeleted, image.id.as_str(), None, now).await?;
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

/// Removes uploads whose URL expired more than [`UPLOAD_GRACE_SECS`] before `now` (row and objects,
/// staged or not), and finishes moves and deletions that nobody holds.
pub async fn sweep(s: Services<'_>, now: u64) -> Result<Swept, DbErr> {
    let mut swept = Swept::default();
    let cutoff = now.saturating_sub(UPLOAD_GRACE_SECS);
    for image in db::images::abandoned_uploads(s.db, cutoff, SWEEP_BATCH).await? {
        match sweep_upload(s, &image, cutoff, now).await {
            Ok(true) => swept.uploads += 1,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(image = %image.id, error = %Causes(&error), "could not sweep an abandoned upload");
                swept.failures += 1;
            }
        }
    }
    for image in db::images::unfinished(s.db, now, SWEEP_BATCH).await? {
        let Some(lease) = Lease::take(s.db, &image.id, None, now, s.lease_secs).await? else {
            continue;
        };
        // Another instance may have finished it between the listing and the lease.
        let unfinished = db::images::find(s.db, &image.id).await?.filter(|image| {
            image.status == Status::Deleting
                || (image.status == Status::Ready && image.location.destination().is_some())
        });
        let Some(image) = unfinished else {
            lease.release(s.db).await?;
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
                tracing::warn!(image = %id, error = %Causes(&error), "could not finish an interrupted change");
                swept.failures += 1;
            }
        }
        lease.release(s.db).await?;
    }
    Ok(swept)
}

/// Claims one abandoned upload, deletes its objects, then its row; false when it was completed or
/// removed meanwhile, or is being completed.
async fn sweep_upload(
    s: Services<'_>,
    image: &image::Model,
    cutoff: u64,
    now: u64,
) -> Result<bool, LifecycleError> {
    if !db::images::claim_abandoned(s.db, &image.id, cutoff, now).await? {
        return Ok(false);
    }
    delete_upload_objects(s.storage, &ImageKeys::of(image)?).await?;
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
