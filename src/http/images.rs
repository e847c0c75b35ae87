//! The caller's images: upload through a presigned URL, completion check, listing, visibility, deletion.
//!
//! Another user's image, like a malformed id, is simply not found (404).

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::client::SessionAuth;
use super::dto::{
    ImagePage, ImageStatus, ImageView, NewUpload, UploadTicket, VisibilityChange, VisibilityName,
};
use super::error::{AppError, AppResult};
use crate::app::AppState;
use crate::db::entity::image::Visibility;
use crate::domain::InvalidInput;
use crate::images::{ContentType, ImageId, ImageName};
use crate::services::images::{self, OwnImage};
use crate::services::paging::PageRequest;
use crate::services::{ServiceError, uploads};

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

/// An id that cannot be an image id names no image.
pub(super) fn parse_id(text: &str) -> AppResult<ImageId> {
    ImageId::parse(text).ok_or(AppError::Service(ServiceError::NotFound))
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

pub(super) fn view(own: OwnImage) -> ImageView {
    let ready = own.is_ready();
    let change_pending = own.change_pending();
    let OwnImage {
        image,
        content_type,
        url,
    } = own;
    ImageView {
        id: image.id.into(),
        name: image.original_name,
        content_type: content_type.mime().to_owned(),
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
        url_expires_at: url.as_ref().and_then(|url| url.expires_at),
        url: url.map(|url| url.url),
        change_pending,
        album_id: image.album_id.map(String::from),
        created_at: u64::try_from(image.created_at).unwrap_or(0),
    }
}

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Images")]
impl ImagesApi {
    /// Start an upload: returns a presigned `PUT` URL that accepts exactly the declared type and size,
    /// for a limited time.
    ///
    /// Unfinished uploads count toward the quotas until they are completed or expire; going over
    /// either quota is refused with 409 `quota_exceeded`. 422 for a type, size or name that is not
    /// accepted.
    #[oai(path = "/images", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<NewUpload>,
    ) -> AppResult<UploadCreated> {
        let NewUpload {
            content_type,
            byte_size,
            name,
            album_id,
        } = body.0;
        let album = album_id
            .as_deref()
            .map(super::albums::parse_album_id)
            .transpose()?;
        let new = uploads::NewUpload {
            content_type: ContentType::parse(&content_type)?,
            byte_size,
            name: ImageName::parse(&name)?,
            album,
        };
        let started = uploads::start(&state, auth.0.id, new).await?;
        Ok(UploadCreated::Created(Json(UploadTicket {
            id: started.id.into(),
            upload_url: started.upload.url,
            upload_headers: started.upload.headers.into_iter().collect(),
            expires_at: started.upload.expires_at,
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
    ) -> AppResult<Json<ImageView>> {
        let id = parse_id(&id.0)?;
        Ok(Json(view(uploads::complete(&state, auth.0.id, &id).await?)))
    }

    /// The caller's ready images, newest first, a page at a time (unfinished uploads are not listed;
    /// `GET /api/images/{id}` shows them). 422 for a limit out of range or a cursor this API did not
    /// give.
    #[oai(path = "/images", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        /// Images per page, 1 to 100 (default 50).
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> AppResult<Json<ImagePage>> {
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let page = images::list(&state, auth.0.id, &page).await?;
        Ok(Json(ImagePage {
            next_cursor: page.next_cursor,
            images: page.items.into_iter().map(view).collect(),
        }))
    }

    /// One of the caller's images, pending ones included.
    #[oai(path = "/images/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<Json<ImageView>> {
        let id = parse_id(&id.0)?;
        Ok(Json(view(images::get(&state, auth.0.id, &id).await?)))
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
    ) -> AppResult<Json<ImageView>> {
        let id = parse_id(&id.0)?;
        let target = parse_visibility(&body.0.visibility)?;
        let changed = images::change_visibility(&state, auth.0.id, &id, target).await?;
        Ok(Json(view(changed)))
    }

    /// Delete an image: its objects, its public path on the CDN (invalidated), and its row.
    ///
    /// If the deletion fails halfway (503), repeating it finishes it. 409 `busy` while another change
    /// to the image runs.
    #[oai(path = "/images/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<ImageDeleted> {
        let id = parse_id(&id.0)?;
        images::delete(&state, auth.0.id, &id).await?;
        Ok(ImageDeleted::Done)
    }
}
