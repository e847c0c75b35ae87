//! Share links: an owner makes an expiring, revocable link to one image; whoever follows it is
//! redirected to a short-lived signed URL for that image (`services::links`).

use poem::http::HeaderValue;
use poem::http::header::{CACHE_CONTROL, REFERRER_POLICY};
use poem::web::Data;
use poem::{Endpoint, IntoResponse, Request, Response};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::client::{SessionAuth, client};
use super::dto::{CreatedLink, LinkList, LinkView, NewLink};
use super::error::{AppError, AppResult};
use super::images::parse_id;
use super::middleware::json_error_keeping_route;
use crate::app::AppState;
use crate::services::ServiceError;
use crate::services::links::{self, Link};

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

/// `GET /s/{token}` answers (every one carries `Cache-Control: no-store` and
/// `Referrer-Policy: no-referrer`).
#[derive(ApiResponse)]
pub(super) enum Followed {
    /// To a short-lived signed URL for the link's image.
    #[oai(status = 302)]
    Redirect(#[oai(header = "Location")] String),
}

/// The share-link endpoints under `/api`.
pub(crate) struct LinksApi;

/// The share-link endpoint outside `/api`, so that links stay short and need no session.
pub(crate) struct FollowApi;

fn link_view(link: Link) -> LinkView {
    let Link { link, active } = link;
    LinkView {
        id: link.id,
        created_at: u64::try_from(link.created_at).unwrap_or(0),
        expires_at: u64::try_from(link.expires_at).unwrap_or(0),
        revoked_at: link.revoked_at.map(|t| u64::try_from(t).unwrap_or(0)),
        active,
    }
}

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Links")]
impl LinksApi {
    /// Make a link to one of the caller's ready images that anyone holding it can follow until
    /// `expires_in` seconds from now (at most the configured maximum, 7 days by default) or until it
    /// is revoked. 409 `not_ready` before the upload is complete; 422 for a lifetime out of range.
    #[oai(path = "/images/:id/links", method = "post")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        body: Json<NewLink>,
    ) -> AppResult<LinkCreated> {
        let id = parse_id(&id.0)?;
        let link = links::create(&state, auth.0.id, &id, body.0.expires_in).await?;
        Ok(LinkCreated::Created(Json(CreatedLink {
            id: link.id,
            url: link.url,
            expires_at: link.expires_at,
        })))
    }

    /// The links of one of the caller's images, newest first (revoked and expired ones included).
    #[oai(path = "/images/:id/links", method = "get")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<Json<LinkList>> {
        let id = parse_id(&id.0)?;
        let links = links::list(&state, auth.0.id, &id).await?;
        Ok(Json(LinkList {
            links: links.into_iter().map(link_view).collect(),
        }))
    }

    /// Revoke one of the caller's links: following it answers 410 from now on. Revoking it again is a
    /// no-op; another user's link is 404.
    #[oai(path = "/links/:id", method = "delete")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<LinkRevoked> {
        let id: i64 =
            id.0.trim()
                .parse()
                .map_err(|_| AppError::Service(ServiceError::NotFound))?;
        links::revoke(&state, auth.0.id, id).await?;
        Ok(LinkRevoked::Done)
    }
}

#[OpenApi(tag = "ApiTags::Links")]
impl FollowApi {
    /// Follow a share link: 302 to a short-lived signed URL for the link's image; 404 for a token that
    /// names no link, 410 for an expired or revoked one. No answer is cached, and none sends a referrer
    /// on.
    #[oai(path = "/s/:token", method = "get")]
    async fn follow(
        &self,
        state: Data<&AppState>,
        req: &Request,
        token: Path<String>,
    ) -> AppResult<Followed> {
        let url = links::follow(&state, &token.0, client(&state, req).addr).await?;
        Ok(Followed::Redirect(url))
    }
}

/// Every answer of `GET /s/{token}`, errors included, is kept out of caches and sends no referrer on:
/// the URL holds the link's token.
pub(super) async fn no_store_no_referrer<E: Endpoint>(next: E, req: poem::Request) -> poem::Result<Response> {
    let mut response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(error) => json_error_keeping_route(error).await,
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}
