//! Uploads: a presigned `PUT` URL for the staging key, within the owner's quotas, and the check that
//! makes an upload a ready image.

use std::time::{Duration, UNIX_EPOCH};

use sea_orm::TransactionTrait;

use crate::app::AppState;
use crate::aws::s3::PresignedPut;
use crate::db;
use crate::db::images::NewImage;
use crate::domain::{InvalidInput, UserId};
use crate::images::lifecycle::{self, Completion};
use crate::images::{AlbumId, ContentType, ImageId, ImageKey, ImageName};

use super::error::{ServiceError, ServiceResult};
use super::images::{OwnImage, lifecycle_services, own_image, under_lease};

/// What the browser is about to upload.
#[derive(Clone, Debug)]
pub struct NewUpload {
    /// The declared type.
    pub content_type: ContentType,
    /// The declared size in bytes.
    pub byte_size: u64,
    /// The file's name.
    pub name: ImageName,
    /// The owner's album it goes into, if any.
    pub album: Option<AlbumId>,
}

/// A started upload.
#[derive(Clone, Debug)]
pub struct StartedUpload {
    /// The new image.
    pub id: ImageId,
    /// Where and how to send the bytes.
    pub upload: PresignedPut,
}

/// Starts an upload for `owner`: a pending row and a presigned `PUT` for its staging key that accepts
/// exactly the declared type and size. Unfinished uploads count toward the quotas until they are
/// completed or expire.
pub async fn start(state: &AppState, owner: UserId, new: NewUpload) -> ServiceResult<StartedUpload> {
    let limits = &state.config.uploads;
    if !(1..=limits.max_image_bytes).contains(&new.byte_size) {
        return Err(InvalidInput {
            field: "byte_size",
            reason: format!("must be between 1 and {} bytes", limits.max_image_bytes),
        }
        .into());
    }
    let id = ImageId::generate().map_err(ServiceError::internal)?;
    // The URL names the staging key, which nothing serves; completing copies what it checked.
    let key = ImageKey::staging(owner, &id);
    let now = state.now();
    // Signed at the service's own time, so the URL's expiry is the one recorded on the row.
    let upload = state
        .storage
        .presign_put(
            &key,
            new.content_type,
            new.byte_size,
            Duration::from_secs(limits.url_ttl_secs),
            UNIX_EPOCH + Duration::from_secs(now),
        )
        .await?;
    let album = match &new.album {
        Some(album) => Some(super::albums::upload_target(state, owner, album).await?),
        None => None,
    };
    let txn = state.db.begin().await?;
    db::images::lock_owner(&txn, owner).await?;
    let usage = db::images::usage(&txn, owner).await?;
    if usage.images >= limits.quota_images {
        return Err(ServiceError::QuotaExceeded(format!(
            "image quota reached: {} of {} images (unfinished uploads count until they expire)",
            usage.images, limits.quota_images
        )));
    }
    if usage.bytes.saturating_add(new.byte_size) > limits.quota_bytes {
        return Err(ServiceError::QuotaExceeded(format!(
            "storage quota exceeded: {} of {} bytes used, {} more do not fit",
            usage.bytes, limits.quota_bytes, new.byte_size
        )));
    }
    db::images::insert_pending(
        &txn,
        &NewImage {
            id: &id,
            owner,
            key: &key,
            content_type: new.content_type,
            byte_size: new.byte_size,
            original_name: new.name.as_str(),
            now,
            upload_expires_at: upload.expires_at,
            album: album.as_ref(),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(StartedUpload { id, upload })
}

/// Checks the uploaded file (size, type, first bytes) and makes the image ready; a ready image is
/// returned as it is.
pub async fn complete(state: &AppState, owner: UserId, id: &ImageId) -> ServiceResult<OwnImage> {
    let completion = under_lease(state, owner, id, false, |image| async move {
        Ok(lifecycle::complete_upload(lifecycle_services(state), image, state.now()).await?)
    })
    .await?;
    match completion {
        Completion::Ready(image) => own_image(state, image).await,
        Completion::NotUploaded { expired: false } => Err(ServiceError::NotUploaded(
            "nothing has been uploaded yet: PUT the file to the upload URL first".to_owned(),
        )),
        Completion::NotUploaded { expired: true } => Err(ServiceError::NotUploaded(
            "nothing was uploaded before the upload URL expired; start a new upload".to_owned(),
        )),
        Completion::Rejected(reason) => Err(ServiceError::UploadRejected(format!(
            "upload rejected and deleted: {reason}"
        ))),
        Completion::Changed => Err(ServiceError::UploadChanged(
            "the file was replaced while it was checked and was not kept; complete again to check what \
             is there now"
                .to_owned(),
        )),
        Completion::Gone => Err(ServiceError::NotFound),
    }
}
