//! The caller's images: upload through a presigned URL, completion check, listing, visibility, deletion.
//!
//! Every endpoint looks images up by id *and* owner, so another user's image, like a malformed id,
//! is simply not found (404).

use std::time::{Duration, UNIX_EPOCH};

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use sea_orm::TransactionTrait;

use super::client::SessionAuth;
use super::cursor;
use super::dto::{
    ImagePage, ImageStatus, ImageView, NewUpload, UploadTicket, VisibilityChange, VisibilityName,
};
use crate::app::AppState;
use crate::db;
use crate::db::entity::image::{self, Status, Visibility};
use crate::db::images::{NewImage, Position};
use crate::domain::{InvalidInput, UserId};
use crate::error::{AppError, AppResult};
use crate::images::lifecycle::{self, Completion, ImageKeys, LEASE_SECS, Services};
use crate::images::{ContentType, ImageId, ImageKey, ImageName};

/// Images per page unless `?limit=` says otherwise.
const DEFAULT_PAGE: u32 = 50;
/// The largest `?limit=`.
const MAX_PAGE: u32 = 100;

#[derive(Tags)]
enum ApiTags {
    /// The signed-in user's images.
    Images,
}

/// `POST /api/images` answers.
#[derive(ApiResponse)]
enum UploadCreated {
    /// The image is pending: upload the file to `upload_url`, then complete it.
    #[oai(status = 201)]
    Created(Json<UploadTicket>),
}

/// `DELETE /api/images/{id}` answers.
#[derive(ApiResponse)]
enum ImageDeleted {
    /// The image and its objects are gone.
    #[oai(status = 204)]
    Done,
}

/// The image endpoints.
pub(crate) struct ImagesApi;

fn services(state: &AppState) -> Services<'_> {
    Services {
        db: &state.db,
        storage: &state.storage,
        cdn: &state.invalidations,
    }
}

/// An id that cannot be an image id names no image.
pub(super) fn parse_id(text: &str) -> AppResult<ImageId> {
    ImageId::parse(text).ok_or(AppError::NotFound)
}

fn parse_visibility(text: &str) -> AppResult<Visibility> {
    match text.trim() {
        "public" => Ok(Visibility::Public),
        "private" => Ok(Visibility::Private),
        _ => Err(InvalidInput {
            field: "visibility",
            reason: format!("{text:?} is not public or private"),
        }
        .into()),
    }
}

/// Whether the owner sees the image (rejected and deleted images are gone for them).
fn is_shown(image: &image::Model) -> bool {
    matches!(image.status, Status::Pending | Status::Ready)
}

/// The caller's pending or ready image with this id; anything else (malformed id, another user's image,
/// a rejected or deleted one) is 404.
pub(super) async fn shown_image(state: &AppState, auth: &SessionAuth, id: &str) -> AppResult<image::Model> {
    let id = parse_id(id)?;
    db::images::find_owned(&state.db, auth.0.id, &id)
        .await?
        .filter(is_shown)
        .ok_or(AppError::NotFound)
}

fn view(state: &AppState, image: &image::Model) -> AppResult<ImageView> {
    let keys = ImageKeys::of(image)?;
    let ready = image.status == Status::Ready;
    let url = ready.then(|| {
        format!(
            "{}{}",
            state.bound.cdn_base_url,
            keys.at(image.location.source()).cdn_path()
        )
    });
    Ok(ImageView {
        id: image.id.clone(),
        name: image.original_name.clone(),
        content_type: keys.content_type.mime().to_owned(),
        byte_size: u64::try_from(image.byte_size).unwrap_or(0),
        visibility: match image.visibility {
            Visibility::Private => VisibilityName::Private,
            Visibility::Public => VisibilityName::Public,
        },
        status: if ready {
            ImageStatus::Ready
        } else {
            ImageStatus::Pending
        },
        url,
        change_pending: image.location.destination().is_some(),
        created_at: u64::try_from(image.created_at).unwrap_or(0),
    })
}

/// The opaque `?cursor=` after `image`.
/// Cuts `rows` (fetched `limit + 1` at a time) to the page and returns the cursor of the next page, if any.
pub(super) fn end_page(rows: &mut Vec<image::Model>, limit: u32) -> Option<String> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    if more { rows.last().map(cursor_after) } else { None }
}

fn cursor_after(image: &image::Model) -> String {
    cursor::encode(&Position {
        created_at: image.created_at,
        id: image.id.clone(),
    })
}

/// The page size (default 50, 1 to 100) and the position after which a listing continues.
pub(super) fn page_request(limit: Option<u32>, cursor: Option<&str>) -> AppResult<(u32, Option<Position>)> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(InvalidInput {
            field: "limit",
            reason: format!("must be between 1 and {MAX_PAGE}"),
        }
        .into());
    }
    Ok((limit, cursor.map(parse_cursor).transpose()?))
}

fn parse_cursor(text: &str) -> AppResult<Position> {
    cursor::decode(text).ok_or_else(|| {
        InvalidInput {
            field: "cursor",
            reason: "is not a cursor this API returned".to_owned(),
        }
        .into()
    })
}

/// The caller's shown image `id` with its lease taken until the returned time; 404 when there is none,
/// 409 while another change holds it. `deleting` images count as shown, so a deletion can be repeated.
async fn leased(
    state: &AppState,
    owner: UserId,
    id: &ImageId,
    deleting: bool,
) -> AppResult<(image::Model, u64)> {
    let now = state.now();
    let until = now.saturating_add(LEASE_SECS);
    let taken = db::images::try_lease(&state.db, id.as_str(), Some(owner), now, until).await?;
    let found = db::images::find_owned(&state.db, owner, id)
        .await?
        .filter(|image| is_shown(image) || (deleting && image.status == Status::Deleting));
    match (taken, found) {
        (true, Some(image)) => Ok((image, until)),
        (true, None) => {
            release(state, id, until).await;
            Err(AppError::NotFound)
        }
        (false, Some(_)) => Err(AppError::Busy),
        (false, None) => Err(AppError::NotFound),
    }
}

/// Gives a lease back. A failure only delays the next change until the lease expires.
async fn release(state: &AppState, id: &ImageId, until: u64) {
    if let Err(error) = db::images::release_lease(&state.db, id.as_str(), until).await {
        tracing::warn!(image = %id, %error, "could not release an image lease");
    }
}

#[OpenApi(tag = "ApiTags::Images")]
impl ImagesApi {
    /// Start an upload: returns a presigned `PUT` URL that accepts exactly the declared type and size,
    /// for a limited time.
    ///
    /// Unfinished uploads count toward the quotas until they are completed or expire; going over
    /// either quota is refused with 409 `quota_exceeded`.
    #[oai(path = "/images", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<NewUpload>,
    ) -> poem::Result<UploadCreated> {
        let owner = auth.0.id;
        let NewUpload {
            content_type,
            byte_size,
            name,
        } = body.0;
        let content_type = ContentType::parse(&content_type).map_err(AppError::from)?;
        let uploads = &state.config.uploads;
        if !(1..=uploads.max_image_bytes).contains(&byte_size) {
            return Err(AppError::from(InvalidInput {
                field: "byte_size",
                reason: format!("must be between 1 and {} bytes", uploads.max_image_bytes),
            })
            .into());
        }
        let name = ImageName::parse(&name).map_err(AppError::from)?;
        let id = ImageId::generate().map_err(AppError::internal)?;
        // The URL names the staging key, which nothing serves; completing copies what it checked.
        let key = ImageKey::staging(owner, &id);
        let now = state.now();
        // Signed at the service's own time, so the URL's expiry is the one recorded on the row.
        let upload = state
            .storage
            .presign_put(
                &key,
                content_type,
                byte_size,
                Duration::from_secs(uploads.url_ttl_secs),
                UNIX_EPOCH + Duration::from_secs(now),
            )
            .await
            .map_err(AppError::from)?;
        let txn = state.db.begin().await.map_err(AppError::from)?;
        db::images::lock_owner(&txn, owner)
            .await
            .map_err(AppError::from)?;
        let usage = db::images::usage(&txn, owner).await.map_err(AppError::from)?;
        if usage.images >= uploads.quota_images {
            return Err(AppError::QuotaExceeded(format!(
                "image quota reached: {} of {} images (unfinished uploads count until they expire)",
                usage.images, uploads.quota_images
            ))
            .into());
        }
        if usage.bytes.saturating_add(byte_size) > uploads.quota_bytes {
            return Err(AppError::QuotaExceeded(format!(
                "storage quota exceeded: {} of {} bytes used, {byte_size} more do not fit",
                usage.bytes, uploads.quota_bytes
            ))
            .into());
        }
        db::images::insert_pending(
            &txn,
            &NewImage {
                id: &id,
                owner,
                key: &key,
                content_type,
                byte_size,
                original_name: name.as_str(),
                now,
                upload_expires_at: upload.expires_at,
            },
        )
        .await
        .map_err(AppError::from)?;
        txn.commit().await.map_err(AppError::from)?;
        Ok(UploadCreated::Created(Json(UploadTicket {
            id: id.as_str().to_owned(),
            upload_url: upload.url,
            upload_headers: upload.headers.into_iter().collect(),
            expires_at: upload.expires_at,
        })))
    }

    /// Check the uploaded file (size, type, and its first bytes) and make the image ready.
    ///
    /// 409 `not_uploaded` while nothing is stored; 422 `upload_rejected` (and the file is deleted)
    /// when the file is not what was declared; 409 `upload_changed` when the file was replaced during
    /// the check (the upload stays pending: complete again); 409 `busy` while another request holds
    /// the image. Completing a ready image returns it again.
    #[oai(path = "/images/:id/complete", method = "post")]
    async fn complete(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> poem::Result<Json<ImageView>> {
        let id = parse_id(&id.0)?;
        let (image, until) = leased(&state, auth.0.id, &id, false).await?;
        let completion = lifecycle::complete_upload(services(&state), image, state.now()).await;
        release(&state, &id, until).await;
        match completion.map_err(AppError::from)? {
            Completion::Ready(image) => Ok(Json(view(&state, &image)?)),
            Completion::NotUploaded { expired: false } => Err(AppError::NotUploaded(
                "nothing has been uploaded yet: PUT the file to the upload URL first".to_owned(),
            )
            .into()),
            Completion::NotUploaded { expired: true } => Err(AppError::NotUploaded(
                "nothing was uploaded before the upload URL expired; start a new upload".to_owned(),
            )
            .into()),
            Completion::Rejected(reason) => {
                Err(AppError::UploadRejected(format!("upload rejected and deleted: {reason}")).into())
            }
            Completion::Changed => Err(AppError::UploadChanged(
                "the file was replaced while it was checked and was not kept; complete again to check \
                 what is there now"
                    .to_owned(),
            )
            .into()),
            Completion::Gone => Err(AppError::NotFound.into()),
        }
    }

    /// The caller's ready images, newest first, a page at a time (unfinished uploads are not listed;
    /// `GET /api/images/{id}` shows them).
    #[oai(path = "/images", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        /// Images per page, 1 to 100 (default 50).
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> poem::Result<Json<ImagePage>> {
        let (limit, after) = page_request(limit.0, cursor.0.as_deref())?;
        let mut rows = db::images::list_ready(&state.db, auth.0.id, after.as_ref(), u64::from(limit) + 1)
            .await
            .map_err(AppError::from)?;
        let next_cursor = end_page(&mut rows, limit);
        let images = rows
            .iter()
            .map(|image| view(&state, image))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(Json(ImagePage { images, next_cursor }))
    }

    /// One of the caller's images, pending ones included.
    #[oai(path = "/images/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> poem::Result<Json<ImageView>> {
        let image = shown_image(&state, &auth, &id.0).await?;
        Ok(Json(view(&state, &image)?))
    }

    /// Make an image public (copied to `public/…`, served without a signature) or private again
    /// (moved back, and the public path invalidated on the CDN) before answering.
    ///
    /// Asking for the visibility it has is a no-op. If the change fails halfway (503), the image shows
    /// `change_pending` and repeating the request finishes it. 409 `not_ready` before the upload is
    /// complete, 409 `busy` while another change to the image runs.
    #[oai(path = "/images/:id", method = "patch")]
    async fn change_visibility(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<VisibilityChange>,
    ) -> poem::Result<Json<ImageView>> {
        let id = parse_id(&id.0)?;
        let target = parse_visibility(&body.0.visibility)?;
        let (image, until) = leased(&state, auth.0.id, &id, false).await?;
        let changed = if image.status == Status::Ready {
            lifecycle::change_visibility(services(&state), image, target, state.now())
                .await
                .map_err(AppError::from)
        } else {
            Err(AppError::NotReady)
        };
        release(&state, &id, until).await;
        Ok(Json(view(&state, &changed?)?))
    }

    /// Delete an image: its objects, its public path on the CDN (invalidated), and its row.
    ///
    /// If the deletion fails halfway (503), repeating it finishes it.
    #[oai(path = "/images/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> poem::Result<ImageDeleted> {
        let id = parse_id(&id.0)?;
        let (image, until) = leased(&state, auth.0.id, &id, true).await?;
        let deleted = lifecycle::delete_image(services(&state), image, state.now()).await;
        release(&state, &id, until).await;
        deleted.map_err(AppError::from)?;
        Ok(ImageDeleted::Done)
    }
}
