//! Sharing: grants of one image to another user, the images shared with the caller, and signed URLs for
//! many images at once. Who gets which URL is decided in `services::sharing`.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::client::SessionAuth;
use super::dto::{ShareList, ShareView, SharedImageView, SharedPage, UrlBatch, UrlRequest, UserView};
use super::error::{AppError, AppResult};
use super::images::parse_id;
use super::share_terms::OptionalTerms;
use crate::app::AppState;
use crate::services::ServiceError;
use crate::services::paging::PageRequest;
use crate::services::sharing::{self, Grant, Grantee};

#[derive(Tags)]
enum ApiTags {
    /// Sharing images with other users.
    Sharing,
}

/// `DELETE /api/images/{id}/shares/{user}` answers.
#[derive(ApiResponse)]
enum ShareRevoked {
    /// The user has no grant (any more).
    #[oai(status = 204)]
    Done,
}

/// The sharing endpoints.
pub(crate) struct SharesApi;

/// A grant of an image or an album, as the API shows it.
pub(super) fn share_view(grant: Grant) -> ShareView {
    ShareView {
        user: UserView {
            id: grant.grantee.id.0,
            email: grant.grantee.email,
        },
        created_at: u64::try_from(grant.created_at).unwrap_or(0),
        expires_at: grant.expires_at.map(|t| u64::try_from(t).unwrap_or(0)),
        expired: grant.expired,
    }
}

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Sharing")]
impl SharesApi {
    /// Share one of the caller's images with another user, named by email address (a user id gets
    /// 422: the answer would show an address the caller never typed).
    ///
    /// The optional JSON body `{"expires_at": epoch}` or `{"expires_in": seconds}` ends the grant;
    /// without it the grant lasts until revoked; the end must lie after now and not after
    /// 253402300799 (9999-12-31T23:59:59Z). Sharing again replaces the expiry. 404 for another user's
    /// image or an unknown user; 422 for sharing with oneself, an invalid address or an out-of-range
    /// time; 400 for a body that is not such terms.
    #[oai(path = "/images/:id/shares/:user", method = "put")]
    async fn share(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        user: Path<String>,
        terms: OptionalTerms,
    ) -> AppResult<Json<ShareView>> {
        let id = parse_id(&id.0)?;
        let grantee = sharing::grant_recipient(&user.0)?;
        let term = terms.0.term()?;
        let grant = sharing::grant(&state, auth.0.id, &id, &grantee, term).await?;
        Ok(Json(share_view(grant)))
    }

    /// Revoke a user's grant of one of the caller's images (the user named by email address or user
    /// id): from this request on, they get no new URL for it. Revoking a grant that does not exist is
    /// a no-op; an unknown user is 404.
    #[oai(path = "/images/:id/shares/:user", method = "delete")]
    async fn unshare(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        user: Path<String>,
    ) -> AppResult<ShareRevoked> {
        let id = parse_id(&id.0)?;
        let grantee = Grantee::parse(&user.0).ok_or(AppError::Service(ServiceError::NotFound))?;
        sharing::revoke(&state, auth.0.id, &id, &grantee).await?;
        Ok(ShareRevoked::Done)
    }

    /// The grants of one of the caller's images, expired ones included, oldest first.
    #[oai(path = "/images/:id/shares", method = "get")]
    async fn shares(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<Json<ShareList>> {
        let id = parse_id(&id.0)?;
        let grants = sharing::grants(&state, auth.0.id, &id).await?;
        Ok(Json(ShareList {
            shares: grants.into_iter().map(share_view).collect(),
        }))
    }

    /// Ready images other users shared with the caller (grants not expired), newest first, a page at
    /// a time, each with its owner's email address and a URL: signed for a short time when private
    /// (the same URL for every request within one expiry window), plain when public.
    #[oai(path = "/shared-with-me", method = "get")]
    async fn shared_with_me(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        /// Images per page, 1 to 100 (default 50).
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> AppResult<Json<SharedPage>> {
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let page = sharing::shared_with(&state, auth.0.id, &page).await?;
        Ok(Json(SharedPage {
            next_cursor: page.next_cursor,
            images: page
                .items
                .into_iter()
                .map(|shared| SharedImageView {
                    id: shared.image.id.into(),
                    name: shared.image.original_name,
                    content_type: shared.image.content_type,
                    byte_size: u64::try_from(shared.image.byte_size).unwrap_or(0),
                    owner_id: shared.image.owner_id.0,
                    owner_email: shared.owner_email,
                    url: shared.url.url,
                    url_expires_at: shared.url.expires_at,
                    created_at: u64::try_from(shared.image.created_at).unwrap_or(0),
                })
                .collect(),
        }))
    }

    /// URLs for many images at once (a gallery page): the caller's own ready images and those shared
    /// with them. Every other id, whether it names an image or not, is listed in `not_found`. 422 for
    /// more ids than the configured limit (500 by default).
    #[oai(path = "/urls", method = "post")]
    async fn urls(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<UrlRequest>,
    ) -> AppResult<Json<UrlBatch>> {
        let batch = sharing::urls(&state, auth.0.id, body.0.ids).await?;
        Ok(Json(UrlBatch {
            urls: batch.urls,
            not_found: batch.not_found,
            expires_at: batch.expires_at,
        }))
    }
}
