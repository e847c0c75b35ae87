//! Share links: an owner makes an expiring, revocable link to one image; whoever follows it is sent to
//! a short-lived signed URL for that image.
//!
//! The token is 256 random bits shown once, in the link; only its SHA-256 is stored, so the database
//! alone cannot open any image.

use std::net::IpAddr;

use sea_orm::TransactionTrait;

use crate::app::AppState;
use crate::auth::session;
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::entity::image::Status;
use crate::db::entity::share_link;
use crate::domain::{self, InvalidInput, UserId};
use crate::images::ImageId;

use super::error::{ServiceError, ServiceResult};
use super::images::shown_row;
use super::object_urls::image_url;

/// A link just made; its URL holds the token and is shown only now.
#[derive(Clone, Debug)]
pub struct CreatedLink {
    /// The link's id.
    pub id: i64,
    /// The link.
    pub url: String,
    /// When it stops working (epoch seconds).
    pub expires_at: u64,
}

/// A link as its owner sees it (without its token).
#[derive(Clone, Debug)]
pub struct Link {
    /// The row.
    pub link: share_link::Model,
    /// Whether it still works.
    pub active: bool,
}

/// The subject of a link's audit events.
fn link_subject(image: &ImageId, link: i64) -> String {
    format!("{image}/links/{link}")
}

/// Makes a link to the owner's ready image `id` that works for `expires_in` seconds (at most the
/// configured maximum) or until it is revoked.
pub async fn create(
    state: &AppState,
    owner: UserId,
    id: &ImageId,
    expires_in: u64,
) -> ServiceResult<CreatedLink> {
    let image = shown_row(state, owner, id).await?;
    if image.status != Status::Ready {
        return Err(ServiceError::NotReady);
    }
    let max = state.config.sharing.link_max_ttl_secs;
    if !(1..=max).contains(&expires_in) {
        return Err(InvalidInput {
            field: "expires_in",
            reason: format!("must be between 1 and {max} seconds"),
        }
        .into());
    }
    let now = state.now();
    let expires_at = domain::expiry_in("expires_in", expires_in, now)?;
    let token = session::new_token().map_err(ServiceError::internal)?;
    let txn = state.db.begin().await?;
    let link = db::share_links::insert(&txn, &image.id, &token.hash, now, expires_at).await?;
    let subject = link_subject(&image.id, link);
    audit::record(&txn, Some(owner), Action::LinkCreated, &subject, None, now).await?;
    txn.commit().await?;
    Ok(CreatedLink {
        id: link,
        url: format!("{}/s/{}", state.bound.public_url, token.cookie_value),
        expires_at,
    })
}

/// The links of the owner's image `id`, newest first (revoked and expired ones included).
pub async fn list(state: &AppState, owner: UserId, id: &ImageId) -> ServiceResult<Vec<Link>> {
    let image = shown_row(state, owner, id).await?;
    let now = state.now();
    Ok(db::share_links::list_for_image(&state.db, &image.id)
        .await?
        .into_iter()
        .map(|link| {
            let active = link.revoked_at.is_none() && (now as i64) < link.expires_at;
            Link { link, active }
        })
        .collect())
}

/// Revokes the owner's link `id`: following it fails from now on. Revoking it again changes nothing;
/// another user's link is not found.
pub async fn revoke(state: &AppState, owner: UserId, id: i64) -> ServiceResult<()> {
    let (link, image) = db::share_links::find_with_image(&state.db, id)
        .await?
        .filter(|(_, image)| image.owner_id == owner)
        .ok_or(ServiceError::NotFound)?;
    let now = state.now();
    let txn = state.db.begin().await?;
    if db::share_links::revoke(&txn, link.id, now).await? {
        let subject = link_subject(&image.id, link.id);
        audit::record(&txn, Some(owner), Action::LinkRevoked, &subject, None, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Where the link with `token` sends its follower now: a short-lived signed URL for its image. Not
/// found for a token that names no link, gone for an expired or revoked one.
pub async fn follow(state: &AppState, token: &str, client: Option<IpAddr>) -> ServiceResult<String> {
    let hash = session::hash_cookie_value(token).ok_or(ServiceError::NotFound)?;
    let (link, image) = db::share_links::find_by_token(&state.db, &hash)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let now = state.now();
    if link.revoked_at.is_some() {
        return Err(ServiceError::Gone("this link was revoked".to_owned()));
    }
    if now >= u64::try_from(link.expires_at).unwrap_or(0) {
        return Err(ServiceError::Gone("this link has expired".to_owned()));
    }
    if image.status != Status::Ready {
        return Err(ServiceError::NotFound);
    }
    let url = image_url(state, &image, now, state.config.sharing.link_url_ttl_secs)
        .await?
        .url;
    let client = client.map(|addr| addr.to_string());
    let subject = link_subject(&image.id, link.id);
    audit::record(
        &state.db,
        None,
        Action::LinkUsed,
        &subject,
        client.as_deref(),
        now,
    )
    .await?;
    Ok(url)
}
