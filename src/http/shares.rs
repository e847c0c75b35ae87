//! Sharing: grants of one image to another user, the images shared with the caller, and signed URLs for
//! many images at once.
//!
//! Access is decided at every request from the rows as they are then: a revoked or expired grant, a
//! deleted image or one made private gets no new URL from the next request on. URLs already handed out
//! are signed for a short time (the shared-URL lifetime rounded up to the expiry window) and cannot be
//! recalled; that lifetime is the bound on how long a revoked viewer keeps access.

use std::collections::{BTreeMap, BTreeSet};

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use sea_orm::TransactionTrait;
use serde::Deserialize;

use super::client::SessionAuth;
use super::dto::{ShareList, ShareView, SharedImageView, SharedPage, UrlBatch, UrlRequest, UserView};
use super::images::{end_page, page_request, shown_image};
use super::object_urls::image_urls;
use crate::app::AppState;
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::entity::{share, user};
use crate::domain::{self, Email, InvalidInput, UserId};
use crate::error::{AppError, AppResult};
use crate::images::ImageId;

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

/// The body of `PUT /api/images/{id}/shares/{user}`: at most one of the two; neither means "until
/// revoked". The numbers are taken as JSON gives them so that a negative, fractional or huge one is
/// refused as out of range (422) rather than as a malformed body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareTerms {
    expires_at: Option<serde_json::Number>,
    expires_in: Option<serde_json::Number>,
}

/// The sharing endpoints.
pub(crate) struct SharesApi;

/// The account `text` names: a numeric user id or an email address. Anything else names nobody.
async fn find_user(state: &AppState, text: &str) -> AppResult<user::Model> {
    let text = text.trim();
    if is_user_id(text) {
        let found = match text.parse::<i64>() {
            Ok(id) => db::users::find(&state.db, UserId(id)).await?,
            Err(_) => None,
        };
        return found.ok_or(AppError::NotFound);
    }
    match Email::parse(text) {
        Ok(email) => find_grantee(state, &email).await,
        Err(_) => Err(AppError::NotFound),
    }
}

/// Whether `text` is written as a user id (all digits).
fn is_user_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// The account a new grant names. Grants name users by email only: the grant's answer shows the
/// grantee's address, and it must never show one the caller did not type, or any user could read
/// every account's address by sharing with user 1, 2, 3, …
fn grantee_email(text: &str) -> AppResult<Email> {
    let text = text.trim();
    if is_user_id(text) {
        return Err(InvalidInput {
            field: "user",
            reason: "name the user by their email address, not their user id".to_owned(),
        }
        .into());
    }
    Ok(Email::parse(text)?)
}

async fn find_grantee(state: &AppState, email: &Email) -> AppResult<user::Model> {
    db::users::find_by_email(&state.db, email)
        .await?
        .ok_or(AppError::NotFound)
}

/// When a grant made at `now` under `terms` ends.
fn grant_expiry(body: &[u8], now: u64) -> AppResult<Option<u64>> {
    let terms: ShareTerms = if body.iter().all(u8::is_ascii_whitespace) {
        ShareTerms::default()
    } else {
        serde_json::from_slice(body)
            .map_err(|error| AppError::BadRequest(format!("the body is not a share's terms: {error}")))?
    };
    let seconds = |field, number: serde_json::Number| {
        number.as_u64().ok_or_else(|| InvalidInput {
            field,
            reason: "must be a whole number of seconds".to_owned(),
        })
    };
    let expiry = match (terms.expires_at, terms.expires_in) {
        (Some(_), Some(_)) => {
            return Err(InvalidInput {
                field: "expires_in",
                reason: "give expires_at or expires_in, not both".to_owned(),
            }
            .into());
        }
        (Some(at), None) => Some(domain::expiry_at("expires_at", seconds("expires_at", at)?, now)?),
        (None, Some(secs)) => Some(domain::expiry_in(
            "expires_in",
            seconds("expires_in", secs)?,
            now,
        )?),
        (None, None) => None,
    };
    Ok(expiry)
}

fn share_view(share: &share::Model, grantee: &user::Model, now: u64) -> ShareView {
    let expires_at = share.expires_at.map(|t| u64::try_from(t).unwrap_or(0));
    ShareView {
        user: UserView {
            id: grantee.id,
            email: grantee.email.clone(),
        },
        created_at: u64::try_from(share.created_at).unwrap_or(0),
        expires_at,
        expired: expires_at.is_some_and(|t| t <= now),
    }
}

/// The subject of a share's audit events.
fn share_subject(image: &str, grantee: UserId) -> String {
    format!("{image}/{grantee}")
}

#[OpenApi(tag = "ApiTags::Sharing")]
impl SharesApi {
    /// Share one of the caller's images with another user, named by email address (a user id gets
    /// 422: the answer would show an address the caller never typed).
    ///
    /// The optional JSON body `{"expires_at": epoch}` or `{"expires_in": seconds}` ends the grant;
    /// without it the grant lasts until revoked; the end must lie after now and not after
    /// 253402300799 (9999-12-31T23:59:59Z). Sharing again replaces the expiry. 404 for another user's
    /// image or an unknown user; 422 for sharing with oneself, an invalid address or an out-of-range
    /// time.
    #[oai(path = "/images/:id/shares/:user", method = "put")]
    async fn share(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        user: Path<String>,
        body: Vec<u8>,
    ) -> poem::Result<Json<ShareView>> {
        let owner = auth.0.id;
        let image = shown_image(&state, &auth, &id.0).await?;
        let grantee = find_grantee(&state, &grantee_email(&user.0)?).await?;
        if grantee.id == owner.0 {
            return Err(AppError::from(InvalidInput {
                field: "user",
                reason: "an image cannot be shared with its owner".to_owned(),
            })
            .into());
        }
        let now = state.now();
        let expires_at = grant_expiry(&body, now)?;
        let grantee_id = UserId(grantee.id);
        let txn = state.db.begin().await.map_err(AppError::from)?;
        db::shares::grant(&txn, &image.id, grantee_id, now, expires_at)
            .await
            .map_err(AppError::from)?;
        audit::record(
            &txn,
            Some(owner),
            Action::Share,
            &share_subject(&image.id, grantee_id),
            None,
            now,
        )
        .await
        .map_err(AppError::from)?;
        let share = db::shares::find(&txn, &image.id, grantee_id)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::internal(std::io::Error::other("the grant vanished")))?;
        txn.commit().await.map_err(AppError::from)?;
        Ok(Json(share_view(&share, &grantee, now)))
    }

    /// Revoke a user's grant of one of the caller's images (the user named by email address or user
    /// id): from this request on, they get no new URL for it. Revoking a grant that does not exist is
    /// a no-op.
    #[oai(path = "/images/:id/shares/:user", method = "delete")]
    async fn unshare(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
        user: Path<String>,
    ) -> poem::Result<ShareRevoked> {
        let owner = auth.0.id;
        let image = shown_image(&state, &auth, &id.0).await?;
        let grantee = UserId(find_user(&state, &user.0).await?.id);
        let now = state.now();
        let txn = state.db.begin().await.map_err(AppError::from)?;
        if db::shares::revoke(&txn, &image.id, grantee)
            .await
            .map_err(AppError::from)?
        {
            audit::record(
                &txn,
                Some(owner),
                Action::Unshare,
                &share_subject(&image.id, grantee),
                None,
                now,
            )
            .await
            .map_err(AppError::from)?;
        }
        txn.commit().await.map_err(AppError::from)?;
        Ok(ShareRevoked::Done)
    }

    /// The grants of one of the caller's images, expired ones included, oldest first.
    #[oai(path = "/images/:id/shares", method = "get")]
    async fn shares(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        id: Path<String>,
    ) -> poem::Result<Json<ShareList>> {
        let image = shown_image(&state, &auth, &id.0).await?;
        let now = state.now();
        let shares = db::shares::list_for_image(&state.db, &image.id)
            .await
            .map_err(AppError::from)?
            .iter()
            .map(|(share, grantee)| share_view(share, grantee, now))
            .collect();
        Ok(Json(ShareList { shares }))
    }

    /// Ready images other users shared with the caller (grants not expired), newest first, a page at
    /// a time, each with a URL: signed for a short time when private (the same URL for every request
    /// within one expiry window), plain when public.
    #[oai(path = "/shared-with-me", method = "get")]
    async fn shared_with_me(
        &self,
        state: Data<&AppState>,
        auth: SessionAuth,
        /// Images per page, 1 to 100 (default 50).
        limit: Query<Option<u32>>,
        /// The `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
    ) -> poem::Result<Json<SharedPage>> {
        let (limit, after) = page_request(limit.0, cursor.0.as_deref())?;
        let now = state.now();
        let mut rows =
            db::shares::list_shared_with(&state.db, auth.0.id, now, after.as_ref(), u64::from(limit) + 1)
                .await
                .map_err(AppError::from)?;
        let next_cursor = end_page(&mut rows, limit);
        let urls = image_urls(&state, &rows, now, state.config.sharing.url_ttl_secs).await?;
        let images = rows
            .iter()
            .zip(urls)
            .map(|(image, url)| SharedImageView {
                id: image.id.clone(),
                name: image.original_name.clone(),
                content_type: image.content_type.clone(),
                byte_size: u64::try_from(image.byte_size).unwrap_or(0),
                owner_id: image.owner_id,
                url: url.url,
                url_expires_at: url.expires_at,
                created_at: u64::try_from(image.created_at).unwrap_or(0),
            })
            .collect();
        Ok(Json(SharedPage { images, next_cursor }))
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
    ) -> poem::Result<Json<UrlBatch>> {
        let requested = body.0.ids;
        let max = state.config.sharing.max_batch_urls;
        if requested.len() as u64 > max {
            return Err(AppError::from(InvalidInput {
                field: "ids",
                reason: format!("at most {max} ids per request"),
            })
            .into());
        }
        let valid: Vec<String> = requested
            .iter()
            .filter_map(|id| ImageId::parse(id))
            .map(|id| id.as_str().to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let now = state.now();
        let visible = db::shares::visible_to(&state.db, auth.0.id, &valid, now)
            .await
            .map_err(AppError::from)?;
        let mut urls = BTreeMap::new();
        let mut expires_at: Option<u64> = None;
        for (image, url) in visible
            .iter()
            .zip(image_urls(&state, &visible, now, state.config.sharing.url_ttl_secs).await?)
        {
            if let Some(expiry) = url.expires_at {
                expires_at = Some(expires_at.map_or(expiry, |t| t.min(expiry)));
            }
            urls.insert(image.id.clone(), url.url);
        }
        let mut seen = BTreeSet::new();
        let not_found = requested
            .into_iter()
            .filter(|id| !urls.contains_key(id) && seen.insert(id.clone()))
            .collect();
        Ok(Json(UrlBatch {
            urls,
            not_found,
            expires_at,
        }))
    }
}
