//! Sharing: grants of one image to another user, the images shared with a user, and which URL each
//! viewer gets for a batch of images.
//!
//! Access is decided at every request from the rows as they are then: a revoked or expired grant, a
//! deleted image or one made private gets no new URL from the next request on. URLs already handed out
//! are signed for a short time (the shared-URL lifetime rounded up to the expiry window) and cannot be
//! recalled; that lifetime is the bound on how long a revoked viewer keeps access.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::TransactionTrait;

use crate::app::AppState;
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::entity::{image, share, user};
use crate::domain::{self, Email, InvalidInput, UserId};
use crate::images::ImageId;

use super::error::{ServiceError, ServiceResult};
use super::images::{position_of, shown_row};
use super::object_urls::{ObjectUrl, image_urls};
use super::paging::{Page, PageRequest};

/// How long a new grant lasts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GrantTerm {
    /// Until revoked.
    #[default]
    UntilRevoked,
    /// Until this time (epoch seconds).
    At(u64),
    /// For this many seconds from now.
    For(u64),
}

/// A grant (of an image or an album) with its grantee.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The grantee.
    pub grantee: user::Model,
    /// When it was first made (epoch seconds).
    pub created_at: i64,
    /// When it ends (epoch seconds); `None` lasts until revoked.
    pub expires_at: Option<i64>,
    /// Whether it has ended.
    pub expired: bool,
}

impl Grant {
    /// A grant made at `created_at` until `expires_at`, as it stands at `now`.
    pub(crate) fn at(grantee: user::Model, created_at: i64, expires_at: Option<i64>, now: u64) -> Self {
        Self {
            grantee,
            created_at,
            expires_at,
            expired: expires_at.is_some_and(|t| t <= now as i64),
        }
    }
}

/// Who a revocation names.
#[derive(Clone, Debug)]
pub enum Grantee {
    /// A user id.
    Id(UserId),
    /// An email address.
    Email(Email),
}

impl Grantee {
    /// The account `text` names: a user id (all digits) or an email address; `None` when it can name
    /// nobody.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if is_user_id(text) {
            return text.parse().ok().map(Self::Id);
        }
        Email::parse(text).ok().map(Self::Email)
    }
}

/// The account a new grant names. Grants name users by email only: the grant's answer shows the
/// grantee's address, and it must never show one the caller did not type, or any user could read
/// every account's address by sharing with user 1, 2, 3, …
pub fn grant_recipient(text: &str) -> Result<Email, InvalidInput> {
    let text = text.trim();
    if is_user_id(text) {
        return Err(InvalidInput {
            field: "user",
            reason: "name the user by their email address, not their user id".to_owned(),
        });
    }
    Email::parse(text)
}

/// Whether `text` is written as a user id (all digits).
pub(crate) fn is_user_id(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// An image shared with the caller, with the URL they load it from.
#[derive(Clone, Debug)]
pub struct SharedImage {
    /// The image.
    pub image: image::Model,
    /// The owner's email address, which the owner revealed to the caller by sharing.
    pub owner_email: String,
    /// Where the caller loads it from.
    pub url: ObjectUrl,
}

/// URLs for a batch of image ids.
#[derive(Clone, Debug, Default)]
pub struct UrlBatch {
    /// Image id → URL, for the ids the caller may see.
    pub urls: BTreeMap<String, String>,
    /// The other ids, each once, in request order.
    pub not_found: Vec<String>,
    /// When the first signed URL stops working; `None` when none was signed.
    pub expires_at: Option<u64>,
}

fn grant_view(share: share::Model, grantee: user::Model, now: u64) -> Grant {
    Grant::at(grantee, share.created_at, share.expires_at, now)
}

/// The account a new grant of `owner`'s `what` ("an image", "an album") names: not found for an
/// unknown address, invalid for the owner themself.
pub(crate) async fn recipient(
    state: &AppState,
    owner: UserId,
    grantee: &Email,
    what: &str,
) -> ServiceResult<user::Model> {
    let account = db::users::find_by_email(&state.db, grantee)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if account.id == owner {
        return Err(InvalidInput {
            field: "user",
            reason: format!("{what} cannot be shared with its owner"),
        }
        .into());
    }
    Ok(account)
}

/// The account a revocation names; not found for an unknown user.
pub(crate) async fn revoked_account(state: &AppState, grantee: &Grantee) -> ServiceResult<UserId> {
    let account = match grantee {
        Grantee::Id(id) => db::users::find(&state.db, *id).await?,
        Grantee::Email(email) => db::users::find_by_email(&state.db, email).await?,
    };
    Ok(account.ok_or(ServiceError::NotFound)?.id)
}

/// The subject of a share's audit events.
fn share_subject(image: &ImageId, grantee: UserId) -> String {
    format!("{image}/{grantee}")
}

/// When a grant made at `now` for `term` ends.
pub(crate) fn grant_expiry(term: GrantTerm, now: u64) -> Result<Option<u64>, InvalidInput> {
    Ok(match term {
        GrantTerm::UntilRevoked => None,
        GrantTerm::At(at) => Some(domain::expiry_at("expires_at", at, now)?),
        GrantTerm::For(secs) => Some(domain::expiry_in("expires_in", secs, now)?),
    })
}

/// Shares the owner's image `id` with the account of `grantee`; sharing again replaces the expiry.
/// Not found for another user's image or an unknown address; invalid for the owner themself.
pub async fn grant(
    state: &AppState,
    owner: UserId,
    id: &ImageId,
    grantee: &Email,
    term: GrantTerm,
) -> ServiceResult<Grant> {
    let image = shown_row(state, owner, id).await?;
    let grantee = recipient(state, owner, grantee, "an image").await?;
    let now = state.now();
    let expires_at = grant_expiry(term, now)?;
    let txn = state.db.begin().await?;
    db::shares::grant(&txn, &image.id, grantee.id, now, expires_at).await?;
    let subject = share_subject(&image.id, grantee.id);
    audit::record(&txn, Some(owner), Action::Share, &subject, None, now).await?;
    let share = db::shares::find(&txn, &image.id, grantee.id)
        .await?
        .ok_or_else(|| ServiceError::broken("the grant vanished"))?;
    txn.commit().await?;
    Ok(grant_view(share, grantee, now))
}

/// Revokes a grant of the owner's image `id`: from now on the grantee gets no new URL for it. Revoking
/// a grant that does not exist changes nothing; an unknown user is not found.
pub async fn revoke(state: &AppState, owner: UserId, id: &ImageId, grantee: &Grantee) -> ServiceResult<()> {
    let image = shown_row(state, owner, id).await?;
    let grantee = revoked_account(state, grantee).await?;
    let now = state.now();
    let txn = state.db.begin().await?;
    if db::shares::revoke(&txn, &image.id, grantee).await? {
        let subject = share_subject(&image.id, grantee);
        audit::record(&txn, Some(owner), Action::Unshare, &subject, None, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The grants of the owner's image `id`, expired ones included, oldest first.
pub async fn grants(state: &AppState, owner: UserId, id: &ImageId) -> ServiceResult<Vec<Grant>> {
    let image = shown_row(state, owner, id).await?;
    let now = state.now();
    Ok(db::shares::list_for_image(&state.db, &image.id)
        .await?
        .into_iter()
        .map(|(share, grantee)| grant_view(share, grantee, now))
        .collect())
}

/// Ready images other users shared with `viewer` (grants not expired), newest first, each with a URL:
/// signed for a short time when private (the same URL within one expiry window), plain when public.
pub async fn shared_with(
    state: &AppState,
    viewer: UserId,
    page: &PageRequest,
) -> ServiceResult<Page<SharedImage>> {
    let now = state.now();
    let rows =
        db::shares::list_shared_with(&state.db, viewer, now, page.after.as_ref(), page.fetch()).await?;
    let page = page.page(rows, position_of);
    let urls = image_urls(state, &page.items, now, state.config.sharing.url_ttl_secs).await?;
    let owners = page.items.iter().map(|image| image.owner_id);
    let emails = db::users::emails_of(&state.db, owners).await?;
    let mut images = Vec::with_capacity(page.items.len());
    for (image, url) in page.items.into_iter().zip(urls) {
        let owner_email = emails
            .get(&image.owner_id)
            .cloned()
            .ok_or_else(|| ServiceError::broken("a shared image's owner has no account"))?;
        images.push(SharedImage {
            image,
            owner_email,
            url,
        });
    }
    Ok(Page {
        items: images,
        next_cursor: page.next_cursor,
    })
}

/// URLs for many images at once (a gallery page): `viewer`'s own ready images and those shared with
/// them. Every other id, whether it names an image or not, is listed as not found.
pub async fn urls(state: &AppState, viewer: UserId, requested: Vec<String>) -> ServiceResult<UrlBatch> {
    let max = state.config.sharing.max_batch_urls;
    if requested.len() as u64 > max {
        return Err(InvalidInput {
            field: "ids",
            reason: format!("at most {max} ids per request"),
        }
        .into());
    }
    let valid: Vec<ImageId> = requested
        .iter()
        .filter_map(|id| ImageId::parse(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let now = state.now();
    let visible = db::shares::visible_to(&state.db, viewer, &valid, now).await?;
    let signed = image_urls(state, &visible, now, state.config.sharing.url_ttl_secs).await?;
    let mut batch = UrlBatch::default();
    for (image, url) in visible.iter().zip(signed) {
        if let Some(expiry) = url.expires_at {
            batch.expires_at = Some(batch.expires_at.map_or(expiry, |t| t.min(expiry)));
        }
        batch.urls.insert(image.id.to_string(), url.url);
    }
    let mut seen = BTreeSet::new();
    batch.not_found = requested
        .into_iter()
        .filter(|id| !batch.urls.contains_key(id) && seen.insert(id.clone()))
        .collect();
    Ok(batch)
}
