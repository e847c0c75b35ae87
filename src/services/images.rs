//! The owner's side of an image after its upload: looking it up, listing, changing its visibility and
//! deleting it.
//!
//! Every lookup is by id *and* owner, so another user's image, like a malformed id, is simply not found.
//! Changes run under the image's lease ([`Lease`]), so two of them never interleave on one image.

use crate::app::AppState;
use crate::db;
use crate::db::entity::image::{self, Location, Status, Visibility};
use crate::db::images::Position;
use crate::domain::UserId;
use crate::images::lease::Lease;
use crate::images::lifecycle::{self, ImageKeys, Services};
use crate::images::{ContentType, ImageId, ImageKey};

use super::error::{ServiceError, ServiceResult};
use super::object_urls::{ObjectUrl, presigned, public_in_s3};
use super::paging::{Page, PageRequest};

/// One of the owner's images, with where its owner loads it from.
#[derive(Clone, Debug)]
pub struct OwnImage {
    /// The row.
    pub image: image::Model,
    /// Its verified type.
    pub content_type: ContentType,
    /// Where the owner loads it: its plain CDN URL (the owner's cookies open a private one), or in S3
    /// delivery a presigned GET; `None` until the upload is complete.
    pub url: Option<ObjectUrl>,
}

impl OwnImage {
    /// Whether the upload has been completed.
    pub fn is_ready(&self) -> bool {
        self.image.status == Status::Ready
    }

    /// Whether a visibility change is unfinished.
    pub fn change_pending(&self) -> bool {
        self.image.moving_to.is_some()
    }
}

/// What the lifecycle steps talk to.
pub(crate) fn lifecycle_services(state: &AppState) -> Services<'_> {
    Services {
        db: &state.db,
        storage: &state.storage,
        cdn: &state.invalidations,
        lease_secs: state.config.images.lease_secs,
    }
}

/// Whether the owner sees the image (rejected and deleted images are gone for them).
fn is_shown(image: &image::Model) -> bool {
    matches!(image.status, Status::Pending | Status::Ready)
}

/// `image` as its owner sees it.
pub(crate) async fn own_image(state: &AppState, image: image::Model) -> ServiceResult<OwnImage> {
    let keys = ImageKeys::of(&image)?;
    let url = match image.status {
        Status::Ready => Some(owner_url(state, &image).await?),
        _ => None,
    };
    Ok(OwnImage {
        content_type: keys.content_type,
        image,
        url,
    })
}

/// Where the owner loads a ready image from: where its object is complete (its key, or a move's
/// source until the move is finished). In CloudFront delivery that is the plain CDN URL their cookies
/// open; in S3 delivery a presigned GET as long-lived as their cookies would be.
async fn owner_url(state: &AppState, image: &image::Model) -> ServiceResult<ObjectUrl> {
    let complete = ImageKey::from_stored(&image.object_key);
    let Some(s3) = &state.presigned_gets else {
        return Ok(ObjectUrl {
            url: format!("{}{}", state.bound.cdn_base_url, complete.cdn_path()),
            expires_at: None,
        });
    };
    let now = state.now();
    if complete.is_public() && image.location == Location::Public {
        return public_in_s3(s3, &complete, now).await;
    }
    presigned(s3, &complete, now, state.config.cdn.cookie_ttl_secs).await
}

/// The owner's pending or ready image `id`; anything else (another user's image, a rejected or deleted
/// one) is [`ServiceError::NotFound`].
pub(crate) async fn shown_row(state: &AppState, owner: UserId, id: &ImageId) -> ServiceResult<image::Model> {
    db::images::find_owned(&state.db, owner, id)
        .await?
        .filter(is_shown)
        .ok_or(ServiceError::NotFound)
}

/// The owner's pending or ready image `id`.
pub async fn get(state: &AppState, owner: UserId, id: &ImageId) -> ServiceResult<OwnImage> {
    own_image(state, shown_row(state, owner, id).await?).await
}

/// The owner's ready images, newest first, a page at a time.
pub async fn list(state: &AppState, owner: UserId, page: &PageRequest) -> ServiceResult<Page<OwnImage>> {
    let rows = db::images::list_ready(&state.db, owner, page.after.as_ref(), page.fetch()).await?;
    let page = page.page(rows, position_of);
    let mut images = Vec::with_capacity(page.items.len());
    for image in page.items {
        images.push(own_image(state, image).await?);
    }
    Ok(Page {
        items: images,
        next_cursor: page.next_cursor,
    })
}

/// Where a listing of images continues after `image`.
pub(crate) fn position_of(image: &image::Model) -> Position {
    Position {
        created_at: image.created_at,
        id: image.id.clone(),
    }
}

/// Runs `change` on the owner's shown image `id` (or one being deleted, when `deleting`) under its
/// lease, and gives the lease back whatever the outcome. Not found when there is no such image, busy
/// while another change holds it.
pub(crate) async fn under_lease<T, F, Fut>(
    state: &AppState,
    owner: UserId,
    id: &ImageId,
    deleting: bool,
    change: F,
) -> ServiceResult<T>
where
    F: FnOnce(image::Model) -> Fut,
    Fut: Future<Output = ServiceResult<T>>,
{
    let lease = Lease::take(
        &state.db,
        id,
        Some(owner),
        state.now(),
        state.config.images.lease_secs,
    )
    .await?;
    let found = db::images::find_owned(&state.db, owner, id)
        .await?
        .filter(|image| is_shown(image) || (deleting && image.status == Status::Deleting));
    match (lease, found) {
        (Some(lease), Some(image)) => {
            let outcome = change(image).await;
            lease.release_or_let_expire(&state.db).await;
            outcome
        }
        (Some(lease), None) => {
            lease.release_or_let_expire(&state.db).await;
            Err(ServiceError::NotFound)
        }
        (None, Some(_)) => Err(ServiceError::Busy),
        (None, None) => Err(ServiceError::NotFound),
    }
}

/// Makes the owner's ready image public (copied to `public/…`) or private again (moved back, the public
/// path invalidated). Asking for the visibility it has changes nothing; an unfinished change is
/// finished.
pub async fn change_visibility(
    state: &AppState,
    owner: UserId,
    id: &ImageId,
    target: Visibility,
) -> ServiceResult<OwnImage> {
    let changed = under_lease(state, owner, id, false, |image| async move {
        if image.status != Status::Ready {
            return Err(ServiceError::NotReady);
        }
        Ok(lifecycle::change_visibility(lifecycle_services(state), image, target, state.now()).await?)
    })
    .await?;
    own_image(state, changed).await
}

/// Deletes the owner's image: its objects, its public path on the CDN, its row. A deletion cut short is
/// finished by repeating it.
pub async fn delete(state: &AppState, owner: UserId, id: &ImageId) -> ServiceResult<()> {
    under_lease(state, owner, id, true, |image| async move {
        Ok(lifecycle::delete_image(lifecycle_services(state), image, state.now()).await?)
    })
    .await
}
