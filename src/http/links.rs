//! Share links: an owner makes an expiring, revocable link to one image; whoever follows it is
//! redirected to a short-lived signed URL for that image.
//!
//! The token is 256 random bits shown once, in the link; only its SHA-256 is stored, so the database
//! alone cannot open any image.

use poem::http::{StatusCode, header};
use poem::web::{Data, Path as PoemPath};
use poem::{Request, Response, handler};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use sea_orm::TransactionTrait;

use super::client::{SessionAuth, client_addr};
use super::dto::{CreatedLink, LinkList, LinkView, NewLink};
use super::images::shown_image;
use super::object_urls::image_url;
use crate::app::AppState;
use crate::auth::session;
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::entity::image::Status;
use crate::db::entity::share_link;
use crate::domain::{self, InvalidInput, UserId};
use crate::error::{AppError, AppResult};

#[derive(Tags)]
enum ApiTags {
    /// Expiring links to one image.
    Links,
}

/// `POST /api/images/{id}/links` answers.
#[derive(ApiResponse)]
enum LinkCreated {
    /// The link; its URL is not shown again.
    #[oai(status = 201)]
    Created(Json<CreatedLink>),
}

/// `DELETE /api/links/{id}` answers.
#[derive(ApiResponse)]
enum LinkRevoked {
    /// The link no longer works.
    #[oai(status = 204)]
    Done,
}

/// The share-link endpoints under `/api`.
pub(crate) struct LinksApi;

/// The subject of a link's audit events.
fn link_subject(image: &str, link: i64) -> String {
    format!("{image}/links/{link}")
}

fn link_view(link: &share_link::Model, now: u64) -> LinkView {
    let expires_at = u64::try_from(link.expires_at).unwrap_or(0);
    let revoked_at = link.revoked_at.map(|t| u64::try_from(t).unwrap_or(0));
    LinkView {
        id: link.id,
        created_at: u64::try_from(link.created_at).unwrap_or(0),
        expires_at,
        revoked_at,
        active: revoked_at.is_none() && now < expires_at,
    }
}

#[OpenApi(tag = "ApiTags::Links")]
impl LinksApi {
    /// Make a link to one of the caller's ready images that anyone holding it can follow until
    /// `expires_in` seconds from now (at most the configured maximum, 7 days by default) or until it
    /// is revoked.
    #[oai(path = "/images/:id/links", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<NewLink>,
    ) -> poem::Result<LinkCreated> {
        let owner = auth.0.id;
        let image = shown_image(&state, &auth, &id.0).await?;
        if image.status != Status::Ready {
            return Err(AppError::NotReady.into());
        }
        let max = state.config.sharing.link_max_ttl_secs;
        let expires_in = body.0.expires_in;
        if !(1..=max).contains(&expires_in) {
            return Err(AppError::from(InvalidInput {
                field: "expires_in",
                reason: format!("must be between 1 and {max} seconds"),
            })
            .into());
        }
        let now = state.now();
        let expires_at = domain::expiry_in("expires_in", expires_in, now).map_err(AppError::from)?;
        let token = session::new_token().map_err(AppError::internal)?;
        let txn = state.db.begin().await.map_err(AppError::from)?;
        let link = db::share_links::insert(&txn, &image.id, &token.hash, now, expires_at)
            .await
            .map_err(AppError::from)?;
        audit::record(
            &txn,
            Some(owner),
            Action::LinkCreated,
            &link_subject(&image.id, link),
            None,
            now,
        )
        .await
        .map_err(AppError::from)?;
        txn.commit().await.map_err(AppError::from)?;
        Ok(LinkCreated::Created(Json(CreatedLink {
            id: link,
            url: format!("{}/s/{}", state.bound.public_url, token.cookie_value),
            expires_at,
        })))
    }

    /// The links of one of the caller's images, newest first (revoked and expired ones included).
    #[oai(path = "/images/:id/links", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> poem::Result<Json<LinkList>> {
        let image = shown_image(&state, &auth, &id.0).await?;
        let now = state.now();
        let links = db::share_links::list_for_image(&state.db, &image.id)
            .await
            .map_err(AppError::from)?
            .iter()
            .map(|link| link_view(link, now))
            .collect();
        Ok(Json(LinkList { links }))
    }

    /// Revoke one of the caller's links: following it answers 410 from now on. Revoking it again is a
    /// no-op; another user's link is 404.
    #[oai(path = "/links/:id", method = "delete")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> poem::Result<LinkRevoked> {
        let owner = auth.0.id;
        let id: i64 = id.0.trim().parse().map_err(|_| AppError::NotFound)?;
        let (link, image) = db::share_links::find_with_image(&state.db, id)
            .await
            .map_err(AppError::from)?
            .filter(|(_, image)| UserId(image.owner_id) == owner)
            .ok_or(AppError::NotFound)?;
        let now = state.now();
        let txn = state.db.begin().await.map_err(AppError::from)?;
        if db::share_links::revoke(&txn, link.id, now)
            .await
            .map_err(AppError::from)?
        {
            audit::record(
                &txn,
                Some(owner),
                Action::LinkRevoked,
                &link_subject(&image.id, link.id),
                None,
                now,
            )
            .await
            .map_err(AppError::from)?;
        }
        txn.commit().await.map_err(AppError::from)?;
        Ok(LinkRevoked::Done)
    }
}

/// Where a link sends its follower now.
async fn destination(state: &AppState, token: &str, req: &Request) -> AppResult<String> {
    let hash = session::hash_cookie_value(token).ok_or(AppError::NotFound)?;
    let (link, image) = db::share_links::find_by_token(&state.db, &hash)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = state.now();
    if link.revoked_at.is_some() {
        return Err(AppError::Gone("this link was revoked".to_owned()));
    }
    if now >= u64::try_from(link.expires_at).unwrap_or(0) {
        return Err(AppError::Gone("this link has expired".to_owned()));
    }
    if image.status != Status::Ready {
        return Err(AppError::NotFound);
    }
    let url = image_url(state, &image, now, state.config.sharing.link_url_ttl_secs)?.url;
    let client = client_addr(req, state.config.trust_forwarded_for).map(|addr| addr.to_string());
    audit::record(
        &state.db,
        None,
        Action::LinkUsed,
        &link_subject(&image.id, link.id),
        client.as_deref(),
        now,
    )
    .await?;
    Ok(url)
}

/// `GET /s/{token}`: 302 to a short-lived signed URL for the link's image; 404 for a token that names
/// no link, 410 for an expired or revoked one. No answer is cached, and none sends a referrer on.
#[handler]
pub(super) async fn follow(
    state: Data<&AppState>,
    PoemPath(token): PoemPath<String>,
    req: &Request,
) -> Response {
    let mut response = match destination(&state, &token, req).await {
        Ok(url) => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, url)
            .finish(),
        Err(error) => poem::Error::from(error).into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response
}
