//! Albums: the caller's named groups of images, shared as a whole, whose plain image links open in a
//! grantee's browser through a cookie set scoped to the album. Who sees what, and which cookie sets go
//! out, is decided in `services::albums`.
//!
//! Another user's album, like a malformed id, is simply not found (404).

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::client::{SessionAuth, client};
use super::cookie_sets::SetCookieHeaders;
use super::dto::{
    AlbumCookies, AlbumDeletion, AlbumImageView, AlbumList, AlbumName, AlbumPage, AlbumView, CdnGrant,
    EvictedCookieSet, ImageView, ShareList, ShareView, VisibilityName,
};
use super::error::{AppError, AppResult};
use super::images::{parse_id, view};
use super::share_terms::OptionalTerms;
use super::shares::share_view;
use crate::app::AppState;
use crate::db::entity::album;
use crate::db::entity::image::Visibility;
use crate::images::{AlbumId, ObjectPrefix};
use crate::services::ServiceError;
use crate::services::albums::{self, CookieChanges, Refused, Role};
use crate::services::paging::PageRequest;
use crate::services::sharing::{self, Grantee};

#[derive(Tags)]
enum ApiTags {
    /// Albums, shared with plain links.
    Albums,
}

/// `POST /api/albums` answers.
#[derive(ApiResponse)]
enum AlbumCreated {
    /// The album exists.
    #[oai(status = 201)]
    Created(Json<AlbumView>),
}

/// `DELETE /api/albums/{id}` answers.
#[derive(ApiResponse)]
enum AlbumDeleted {
    /// The album is gone, and its images are back at the owner's root (or deleted with it).
    #[oai(status = 204)]
    Done,
    /// The album is gone for everyone, but some images are still being moved out or deleted (another
    /// change held them, or the store failed): repeat the request, or leave it to the sweep.
    #[oai(status = 202)]
    Emptying(Json<AlbumDeletion>),
}

/// `DELETE /api/albums/{id}/shares/{user}` answers.
#[derive(ApiResponse)]
enum AlbumShareRevoked {
    /// The user has no grant (any more).
    #[oai(status = 204)]
    Done,
}

/// The album endpoints.
pub(crate) struct AlbumsApi;

/// An id that cannot be an album id names no album.
pub(super) fn parse_album_id(text: &str) -> AppResult<AlbumId> {
    AlbumId::parse(text).ok_or(AppError::Service(ServiceError::NotFound))
}

fn album_view(state: &AppState, album: album::Model) -> AlbumView {
    let cookie_path = state.cdn.path_of(&ObjectPrefix::album(album.owner_id, &album.id));
    AlbumView {
        id: album.id.into(),
        name: album.name,
        owner_id: album.owner_id.0,
        owner_email: None,
        created_at: u64::try_from(album.created_at).unwrap_or(0),
        grant_expires_at: None,
        cookie_path,
    }
}

/// Sends the cookie changes' `Set-Cookie` values and describes them.
fn cookie_view(headers: &SetCookieHeaders, role: Role, changes: CookieChanges) -> AlbumCookies {
    headers.add(changes.set_cookies());
    AlbumCookies {
        covered_by_own_cookies: role == Role::Owner,
        set: changes.minted.map(|minted| CdnGrant {
            expires_at: minted.expires_at,
            resource: minted.resource,
            cookie_path: minted.path,
        }),
        evicted: changes.evicted.map(|evicted| EvictedCookieSet {
            album_id: evicted.set.album.into(),
            cookie_path: evicted.set.path,
            urls_expire_at: evicted.urls.iter().filter_map(|(_, url)| url.expires_at).min(),
            urls: evicted
                .urls
                .into_iter()
                .map(|(id, url)| (id.into(), url.url))
                .collect(),
        }),
    }
}

/// Where this request's extra `Set-Cookie` values go (see `cookie_sets`).
fn set_cookie_headers(req: &poem::Request) -> AppResult<&SetCookieHeaders> {
    req.data::<SetCookieHeaders>()
        .ok_or_else(|| AppError::internal(std::io::Error::other("Set-Cookie holder missing")))
}

/// A refusal's answer, with the set it expires.
fn refused(headers: &SetCookieHeaders, refused: Refused) -> AppError {
    headers.add(refused.cookies.set_cookies());
    refused.error.into()
}

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Albums")]
impl AlbumsApi {
    /// Create an album. 422 for a blank name, one longer than 255 characters, or one with control
    /// characters.
    #[oai(path = "/albums", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        body: Json<AlbumName>,
    ) -> AppResult<AlbumCreated> {
        let album = albums::create(&state, auth.0.id, &body.0.name).await?;
        Ok(AlbumCreated::Created(Json(album_view(&state, album))))
    }

    /// The caller's albums and the albums shared with them (grants that have not ended).
    #[oai(path = "/albums", method = "get")]
    async fn list(&self, state: Data<&AppState>, auth: SessionAuth) -> AppResult<Json<AlbumList>> {
        let list = albums::list(&state, auth.0.id).await?;
        Ok(Json(AlbumList {
            albums: list
                .own
                .into_iter()
                .map(|album| album_view(&state, album))
                .collect(),
            shared: list
                .shared
                .into_iter()
                .map(|shared| AlbumView {
                    owner_email: Some(shared.owner_email),
                    grant_expires_at: shared.grant.expires_at.map(|t| u64::try_from(t).unwrap_or(0)),
                    ..album_view(&state, shared.album)
                })
                .collect(),
        }))
    }

    /// A page of an album's ready images, newest first, each with its plain CDN URL (no query string).
    ///
    /// For a grantee the answer also sets the album's CloudFront cookie set (`Path` = the album's
    /// prefix), which opens those URLs in their browser; the owner's own set already does. A session
    /// holds at most `EDGEPASS_ALBUM_COOKIE_SETS` album sets: past that the oldest is expired in the
    /// same answer (`cookies.evicted`, with signed URLs for that album's newest images). 404 for an
    /// album the caller may not see (another user's, revoked, expired, deleted); if their session was
    /// given a set for it, the 404 expires it.
    #[oai(path = "/albums/:id", method = "get")]
    async fn open(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        auth: SessionAuth,
        id: Path<String>,
        /// Images per page, 1 to 100 (default 50).
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> AppResult<Json<AlbumPage>> {
        let headers = set_cookie_headers(req)?;
        let id = parse_album_id(&id.0)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref())?;
        let opened = albums::open(&state, &auth.0, &id, &page, client(&state, req))
            .await
            .map_err(|refusal| refused(headers, refusal))?;
        Ok(Json(AlbumPage {
            album: album_view(&state, opened.album),
            role: match opened.role {
                Role::Owner => "owner",
                Role::Grantee => "grantee",
            }
            .to_owned(),
            images: opened
                .images
                .items
                .into_iter()
                .map(|item| AlbumImageView {
                    id: item.image.id.into(),
                    name: item.image.original_name,
                    content_type: item.image.content_type,
                    byte_size: u64::try_from(item.image.byte_size).unwrap_or(0),
                    visibility: match item.image.visibility {
                        Visibility::Private => VisibilityName::Private,
                        Visibility::Public => VisibilityName::Public,
                    },
                    url: item.url.url,
                    url_expires_at: item.url.expires_at,
                    created_at: u64::try_from(item.image.created_at).unwrap_or(0),
                })
                .collect(),
            next_cursor: opened.images.next_cursor,
            cookies: cookie_view(headers, opened.role, opened.cookies),
        }))
    }

    /// Mint the album's cookie set again (a grantee's frontend calls it before the set expires); the
    /// owner gets none, since their own set covers the album. 404, with the set expired, for an album
    /// the caller may no longer see.
    #[oai(path = "/albums/:id/cookies", method = "post")]
    async fn cookies(
        &self,
        state: Data<&AppState>,
        req: &poem::Request,
        headers: Data<&SetCookieHeaders>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<Json<AlbumCookies>> {
        let id = parse_album_id(&id.0)?;
        let (role, changes) = albums::cookies(&state, &auth.0, &id, client(&state, req))
            .await
            .map_err(|refusal| refused(&headers, refusal))?;
        Ok(Json(cookie_view(&headers, role, changes)))
    }

    /// Rename one of the caller's albums.
    #[oai(path = "/albums/:id", method = "patch")]
    async fn rename(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<AlbumName>,
    ) -> AppResult<Json<AlbumView>> {
        let id = parse_album_id(&id.0)?;
        let album = albums::rename(&state, auth.0.id, &id, &body.0.name).await?;
        Ok(Json(album_view(&state, album)))
    }

    /// Delete one of the caller's albums. From this request on it is gone for everyone and its grants
    /// end; its images go back to the caller's root (their objects move out of the album's prefix),
    /// or with `?with_images=true` are deleted as well. 204 once done; 202 while images remain
    /// (repeat the request to finish, or leave it to the sweep).
    #[oai(path = "/albums/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        /// Delete the album's images too (default: move them back to the root).
        with_images: Query<Option<bool>>,
    ) -> AppResult<AlbumDeleted> {
        let id = parse_album_id(&id.0)?;
        let emptied = albums::delete(&state, auth.0.id, &id, with_images.0.unwrap_or(false)).await?;
        Ok(if emptied.finished {
            AlbumDeleted::Done
        } else {
            AlbumDeleted::Emptying(Json(AlbumDeletion {
                images_done: emptied.images,
                finished: false,
            }))
        })
    }

    /// Put one of the caller's ready images into the album (an image is in one album at most: one in
    /// another album moves). A private image's object moves into the album's prefix; a public one
    /// stays at its public URL. 409 `busy` while another change holds the image.
    #[oai(path = "/albums/:id/images/:image", method = "put")]
    async fn add_image(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        image: Path<String>,
    ) -> AppResult<Json<ImageView>> {
        let id = parse_album_id(&id.0)?;
        let image = parse_id(&image.0)?;
        Ok(Json(view(
            albums::add_image(&state, auth.0.id, &id, &image).await?,
        )))
    }

    /// Take an image out of the album, back to the caller's root. 404 when it is not in this album.
    #[oai(path = "/albums/:id/images/:image", method = "delete")]
    async fn remove_image(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        image: Path<String>,
    ) -> AppResult<Json<ImageView>> {
        let id = parse_album_id(&id.0)?;
        let image = parse_id(&image.0)?;
        Ok(Json(view(
            albums::remove_image(&state, auth.0.id, &id, &image).await?,
        )))
    }

    /// Share one of the caller's albums with another user, named by email address, with the same rules
    /// as an image grant: an optional body `{"expires_at": epoch}` or `{"expires_in": seconds}`; 404
    /// for another user's album or an unknown user; 422 for oneself, a user id, an invalid address
    /// or an out-of-range time.
    #[oai(path = "/albums/:id/shares/:user", method = "put")]
    async fn share(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        user: Path<String>,
        terms: OptionalTerms,
    ) -> AppResult<Json<ShareView>> {
        let id = parse_album_id(&id.0)?;
        let grantee = sharing::grant_recipient(&user.0)?;
        let term = terms.0.term()?;
        let grant = albums::grant(&state, auth.0.id, &id, &grantee, term).await?;
        Ok(Json(share_view(grant)))
    }

    /// Revoke a user's grant of one of the caller's albums (named by email or user id): from this
    /// request on they get no new cookie set or URL for it, and their next request for it expires the
    /// set their browser holds. A set already in a browser works until its own expiry
    /// (`EDGEPASS_ALBUM_COOKIE_TTL_SECS`, rounded up to the expiry window).
    #[oai(path = "/albums/:id/shares/:user", method = "delete")]
    async fn unshare(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        user: Path<String>,
    ) -> AppResult<AlbumShareRevoked> {
        let id = parse_album_id(&id.0)?;
        let grantee = Grantee::parse(&user.0).ok_or(AppError::Service(ServiceError::NotFound))?;
        albums::revoke(&state, auth.0.id, &id, &grantee).await?;
        Ok(AlbumShareRevoked::Done)
    }

    /// The grants of one of the caller's albums, expired ones included, oldest first.
    #[oai(path = "/albums/:id/shares", method = "get")]
    async fn shares(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<Json<ShareList>> {
        let id = parse_album_id(&id.0)?;
        let grants = albums::grants(&state, auth.0.id, &id).await?;
        Ok(Json(ShareList {
            shares: grants.into_iter().map(share_view).collect(),
        }))
    }
}
