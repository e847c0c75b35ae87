//! Albums: an owner's named groups of images, shared as a whole with other users, whose plain image
//! links open in a grantee's browser through a cookie set scoped to the album.
//!
//! A private image in album A lives at `users/{owner}/albums/{A}/{id}.{ext}`. The owner's own cookie
//! set (`Path=/users/{owner}/`) covers every album of theirs. A grantee gets one set per album, minted
//! when they open it, for `{cdn}/users/{owner}/albums/{A}/*` with that album's `Path`; the browser
//! sends it for that album's objects and for nothing else. Each session holds at most
//! `EDGEPASS_ALBUM_COOKIE_SETS` of them: past that the oldest is expired in the same response.
//!
//! Access is decided at every request from the rows as they are then. A set already in a browser
//! works until its own expiry (the album set's lifetime, rounded up to the window); the next request
//! for that album, or the next refresh of the caller's own cookies, expires it in the browser.

use sea_orm::TransactionTrait;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::cdn_signer::Minted;
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::entity::album_cookie_set;
use crate::db::entity::image::{self, Status};
use crate::db::entity::{album, album_share};
use crate::db::images::Placement;
use crate::domain::{Email, InvalidInput, UserId};
use crate::images::album_emptying::{self, Emptied};
use crate::images::lifecycle;
use crate::images::{AlbumId, ImageId, ImageKey, ImageName, ObjectPrefix};

use super::accounts::Client;
use super::error::{ServiceError, ServiceResult};
use super::images::{OwnImage, lifecycle_services, own_image, position_of, under_lease};
use super::object_urls::{ObjectUrl, image_urls, presigned};
use super::paging::{Page, PageRequest};
use super::sharing::{Grant, GrantTerm, Grantee, grant_expiry, recipient, revoked_account};

/// Revoked sets expired per response at most, beside what the response mints: a response never
/// carries more than a few cookie sets, whatever a browser holds.
const EXPIRED_PER_RESPONSE: usize = 2;

/// Albums one user may have: `GET /api/albums` answers all of them at once.
pub const MAX_ALBUMS: u64 = 1000;

/// Images of an evicted album that get signed URLs in the same response.
const EVICTED_URLS: u64 = 50;

/// An album shared with the caller.
#[derive(Clone, Debug)]
pub struct SharedAlbum {
    /// The album.
    pub album: album::Model,
    /// The grant.
    pub grant: album_share::Model,
    /// The owner's email address, which the owner revealed to the caller by sharing.
    pub owner_email: String,
}

/// The caller's albums and the albums shared with them.
#[derive(Clone, Debug, Default)]
pub struct AlbumList {
    /// Their own, oldest first.
    pub own: Vec<album::Model>,
    /// Shared with them, oldest grant first.
    pub shared: Vec<SharedAlbum>,
}

/// How the caller may see an album.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// It is theirs.
    Owner,
    /// It is shared with them.
    Grantee,
}

/// One image of an album, with its plain CDN URL.
#[derive(Clone, Debug)]
pub struct AlbumImage {
    /// The image.
    pub image: image::Model,
    /// Its plain URL: inside the album's prefix when private, which the owner's set or the album's
    /// set opens; its public URL when public. In S3 delivery, a presigned GET.
    pub url: ObjectUrl,
}

/// A cookie set removed from the browser, by its Path.
#[derive(Clone, Debug)]
pub struct ExpiredSet {
    /// The album it opened.
    pub album: AlbumId,
    /// Its cookie Path.
    pub path: String,
    /// `Set-Cookie` values that expire it.
    pub set_cookies: Vec<String>,
}

/// The oldest set, expired to make room for a new one, with signed URLs for that album's newest
/// images so that a page still showing them keeps working.
#[derive(Clone, Debug)]
pub struct Evicted {
    /// The expired set.
    pub set: ExpiredSet,
    /// Image id and signed URL, newest first, while the album is still visible to the caller.
    pub urls: Vec<(ImageId, ObjectUrl)>,
}

/// What a response does to the caller's album cookie sets.
#[derive(Clone, Debug, Default)]
pub struct CookieChanges {
    /// The set minted for the album asked for.
    pub minted: Option<Minted>,
    /// The set expired past the limit.
    pub evicted: Option<Evicted>,
    /// Sets of albums the caller may no longer see.
    pub revoked: Vec<ExpiredSet>,
}

impl CookieChanges {
    /// Every `Set-Cookie` value, in the order they must be sent.
    pub fn set_cookies(&self) -> Vec<String> {
        let expired = self
            .revoked
            .iter()
            .chain(self.evicted.as_ref().map(|e| &e.set))
            .flat_map(|set| set.set_cookies.iter().cloned());
        expired
            .chain(self.minted.iter().flat_map(|m| m.set_cookies.iter().cloned()))
            .collect()
    }
}

/// An album opened: a page of its images and the cookie changes that come with it.
#[derive(Clone, Debug)]
pub struct OpenedAlbum {
    /// The album.
    pub album: album::Model,
    /// How the caller sees it.
    pub role: Role,
    /// A page of its ready images, newest first.
    pub images: Page<AlbumImage>,
    /// The caller's album cookie sets, changed.
    pub cookies: CookieChanges,
}

/// A refused album request, with the set to expire if the caller's browser holds one for it.
#[derive(Debug)]
pub struct Refused {
    /// Why.
    pub error: ServiceError,
    /// The caller's set for the album, expired.
    pub cookies: CookieChanges,
}

impl From<ServiceError> for Refused {
    fn from(error: ServiceError) -> Self {
        Self {
            error,
            cookies: CookieChanges::default(),
        }
    }
}

/// The name an album is given: the rules of a file name (non-blank, at most 255 characters, no
/// control or text-direction characters).
pub fn album_name(text: &str) -> Result<String, InvalidInput> {
    Ok(ImageName::parse(text)?.as_str().trim().to_owned())
}

/// Creates an album for `owner`.
pub async fn create(state: &AppState, owner: UserId, name: &str) -> ServiceResult<album::Model> {
    let name = album_name(name)?;
    let id = AlbumId::generate().map_err(ServiceError::internal)?;
    let now = state.now();
    let txn = state.db.begin().await?;
    // Concurrent creations by one owner wait for each other here, so the count holds.
    db::images::lock_owner(&txn, owner).await?;
    if db::albums::count_owned(&txn, owner).await? >= MAX_ALBUMS {
        return Err(ServiceError::QuotaExceeded(format!(
            "album limit reached: at most {MAX_ALBUMS} albums per user"
        )));
    }
    let album = db::albums::create(&txn, &id, owner, &name, now).await?;
    audit::record(&txn, Some(owner), Action::AlbumCreated, id.as_str(), None, now).await?;
    txn.commit().await?;
    Ok(album)
}

/// The caller's own albums and those shared with them (grants that count now).
pub async fn list(state: &AppState, viewer: UserId) -> ServiceResult<AlbumList> {
    let own = db::albums::list_owned(&state.db, viewer).await?;
    let shared = db::albums::list_shared_with(&state.db, viewer, state.now()).await?;
    let emails = db::users::emails_of(&state.db, shared.iter().map(|(_, album)| album.owner_id)).await?;
    let shared = shared
        .into_iter()
        .filter_map(|(grant, album)| {
            let owner_email = emails.get(&album.owner_id)?.clone();
            Some(SharedAlbum {
                album,
                grant,
                owner_email,
            })
        })
        .collect();
    Ok(AlbumList { own, shared })
}

/// The owner's live album `id`.
async fn owned(state: &AppState, owner: UserId, id: &AlbumId) -> ServiceResult<album::Model> {
    db::albums::find_owned(&state.db, owner, id)
        .await?
        .ok_or(ServiceError::NotFound)
}

/// Renames the owner's album.
pub async fn rename(
    state: &AppState,
    owner: UserId,
    id: &AlbumId,
    name: &str,
) -> ServiceResult<album::Model> {
    let name = album_name(name)?;
    owned(state, owner, id).await?;
    db::albums::rename(&state.db, id, &name).await?;
    owned(state, owner, id).await
}

/// Deletes the owner's album: at once it is gone for everyone (its grants end with it), then its
/// images go back to the owner's root, or are deleted with it when `with_images`. Repeating the
/// deletion finishes one cut short, as does the sweep; `finished` is false while images remain.
pub async fn delete(
    state: &AppState,
    owner: UserId,
    id: &AlbumId,
    with_images: bool,
) -> ServiceResult<Emptied> {
    let now = state.now();
    let album = match db::albums::find_owned(&state.db, owner, id).await? {
        Some(_) => {
            let txn = state.db.begin().await?;
            db::albums::start_delete(&txn, id, with_images, now).await?;
            db::albums::revoke_all(&txn, id).await?;
            audit::record(&txn, Some(owner), Action::AlbumDeleted, id.as_str(), None, now).await?;
            txn.commit().await?;
            db::albums::find_deleting(&state.db, owner, id).await?
        }
        // A deletion cut short: the album is gone for everyone but still being emptied.
        None => db::albums::find_deleting(&state.db, owner, id).await?,
    };
    let album = album.ok_or(ServiceError::NotFound)?;
    Ok(album_emptying::empty_album(lifecycle_services(state), &album, now).await?)
}

/// Puts the owner's ready image `image` into their album `id` (moving its object into the album's
/// prefix when it is private); an image belongs to one album at most, so one in another album moves.
pub async fn add_image(
    state: &AppState,
    owner: UserId,
    id: &AlbumId,
    image: &ImageId,
) -> ServiceResult<OwnImage> {
    let album = owned(state, owner, id).await?;
    let moved = under_lease(state, owner, image, false, |row| async move {
        if row.status != Status::Ready {
            return Err(ServiceError::NotReady);
        }
        let placement = Placement {
            visibility: row.visibility,
            album: Some(&album.id),
        };
        Ok(lifecycle::place(lifecycle_services(state), row, &placement, state.now()).await?)
    })
    .await?;
    own_image(state, moved).await
}

/// Takes the owner's image out of their album `id`, back to their root; not found when it is not in
/// that album.
pub async fn remove_image(
    state: &AppState,
    owner: UserId,
    id: &AlbumId,
    image: &ImageId,
) -> ServiceResult<OwnImage> {
    owned(state, owner, id).await?;
    let moved = under_lease(state, owner, image, false, |row| async move {
        if row.album_id.as_ref() != Some(id) {
            return Err(ServiceError::NotFound);
        }
        if row.status != Status::Ready {
            db::images::set_album(&state.db, &row.id, None).await?;
            return db::images::find(&state.db, &row.id)
                .await?
                .ok_or(ServiceError::NotFound);
        }
        let placement = Placement {
            visibility: row.visibility,
            album: None,
        };
        Ok(lifecycle::place(lifecycle_services(state), row, &placement, state.now()).await?)
    })
    .await?;
    own_image(state, moved).await
}

/// The owner's live album `id`, for an upload into it.
pub(crate) async fn upload_target(state: &AppState, owner: UserId, id: &AlbumId) -> ServiceResult<AlbumId> {
    Ok(owned(state, owner, id).await?.id)
}

/// The subject of an album grant's audit events (image grants use `{image}/{grantee}`).
fn share_subject(album: &AlbumId, grantee: UserId) -> String {
    format!("albums/{album}/{grantee}")
}

/// Shares the owner's album with the account of `grantee`; sharing again replaces the expiry. Not
/// found for another user's album or an unknown address; invalid for the owner themself.
pub async fn grant(
    state: &AppState,
    owner: UserId,
    id: &AlbumId,
    grantee: &Email,
    term: GrantTerm,
) -> ServiceResult<Grant> {
    let album = owned(state, owner, id).await?;
    let grantee = recipient(state, owner, grantee, "an album").await?;
    let now = state.now();
    let expires_at = grant_expiry(term, now)?;
    let txn = state.db.begin().await?;
    let share = db::albums::grant(&txn, &album.id, grantee.id, now, expires_at).await?;
    let subject = share_subject(&album.id, grantee.id);
    audit::record(&txn, Some(owner), Action::Share, &subject, None, now).await?;
    txn.commit().await?;
    Ok(Grant::at(grantee, share.created_at, share.expires_at, now))
}

/// Revokes a grant of the owner's album: from now on the grantee gets no new cookie set or URL for
/// it. Revoking a grant that does not exist changes nothing; an unknown user is not found.
pub async fn revoke(state: &AppState, owner: UserId, id: &AlbumId, grantee: &Grantee) -> ServiceResult<()> {
    let album = owned(state, owner, id).await?;
    let grantee = revoked_account(state, grantee).await?;
    let now = state.now();
    let txn = state.db.begin().await?;
    if db::albums::revoke(&txn, &album.id, grantee).await? {
        let subject = share_subject(&album.id, grantee);
        audit::record(&txn, Some(owner), Action::Unshare, &subject, None, now).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The grants of the owner's album, expired ones included, oldest first.
pub async fn grants(state: &AppState, owner: UserId, id: &AlbumId) -> ServiceResult<Vec<Grant>> {
    let album = owned(state, owner, id).await?;
    let now = state.now();
    Ok(db::albums::grants_of(&state.db, &album.id)
        .await?
        .into_iter()
        .map(|(share, grantee)| Grant::at(grantee, share.created_at, share.expires_at, now))
        .collect())
}

/// The album `id` as `viewer` may see it now: theirs, or shared with them by a grant that counts.
async fn visible(
    state: &AppState,
    viewer: UserId,
    id: &AlbumId,
    now: u64,
) -> ServiceResult<Option<(album::Model, Role)>> {
    let Some(album) = db::albums::find_live(&state.db, id).await? else {
        return Ok(None);
    };
    if album.owner_id == viewer {
        return Ok(Some((album, Role::Owner)));
    }
    Ok(db::albums::live_grant(&state.db, id, viewer, now)
        .await?
        .map(|_| (album, Role::Grantee)))
}

/// Where a viewer loads an album's image: where its object is complete. In CloudFront delivery that is
/// the plain URL the album's (or the owner's) cookies open; in S3 delivery a presigned GET, as
/// long-lived for a grantee as the album's cookie set would be, so revocation has the same bound.
async fn album_image_url(
    state: &AppState,
    image: &image::Model,
    role: Role,
    now: u64,
) -> ServiceResult<ObjectUrl> {
    let complete = ImageKey::from_stored(&image.object_key);
    let Some(s3) = &state.presigned_gets else {
        return Ok(ObjectUrl {
            url: state.cdn.object_url(&complete.cdn_path()),
            expires_at: None,
        });
    };
    let ttl_secs = match role {
        Role::Owner => state.config.cdn.cookie_ttl_secs,
        Role::Grantee => state.config.cdn.album_cookie_ttl_secs,
    };
    presigned(s3, &complete, now, ttl_secs).await
}

/// Opens the album `id`: a page of its images with their plain URLs and, for a grantee, the album's
/// cookie set (the oldest set of the session expired when it holds too many). An album the caller
/// may not see is not found, and a set their browser holds for it is expired in the same answer.
pub async fn open(
    state: &AppState,
    viewer: &AuthUser,
    id: &AlbumId,
    page: &PageRequest,
    client: Client,
) -> Result<OpenedAlbum, Refused> {
    let now = state.now();
    let (album, role) = match visible(state, viewer.id, id, now).await? {
        Some(found) => found,
        None => return Err(not_visible(state, viewer, id, now).await),
    };
    let rows = db::images::list_ready_in_album(
        &state.db,
        album.owner_id,
        &album.id,
        page.after.as_ref(),
        page.fetch(),
    )
    .await
    .map_err(ServiceError::from)?;
    let page = page.page(rows, position_of);
    let mut items = Vec::with_capacity(page.items.len());
    for image in page.items {
        items.push(AlbumImage {
            url: album_image_url(state, &image, role, now).await?,
            image,
        });
    }
    let images = Page {
        items,
        next_cursor: page.next_cursor,
    };
    let cookies = match role {
        Role::Grantee if state.presigned_gets.is_none() => {
            mint_for(state, viewer, &album, now, client).await?
        }
        // The owner's own set covers the album; S3 delivery has no cookies.
        _ => CookieChanges::default(),
    };
    Ok(OpenedAlbum {
        album,
        role,
        images,
        cookies,
    })
}

/// The album's cookie set for a grantee (frontends ask before it expires). The owner gets none: their
/// own set covers the album. Not found, with the set expired, for an album the caller may not see.
pub async fn cookies(
    state: &AppState,
    viewer: &AuthUser,
    id: &AlbumId,
    client: Client,
) -> Result<(Role, CookieChanges), Refused> {
    let now = state.now();
    match visible(state, viewer.id, id, now).await? {
        Some((_, Role::Owner)) => Ok((Role::Owner, CookieChanges::default())),
        Some((_, Role::Grantee)) if state.presigned_gets.is_some() => {
            Ok((Role::Grantee, CookieChanges::default()))
        }
        Some((album, Role::Grantee)) => {
            Ok((Role::Grantee, mint_for(state, viewer, &album, now, client).await?))
        }
        None => Err(not_visible(state, viewer, id, now).await),
    }
}

/// Not found, with the caller's set for album `id` expired if their session was given one.
async fn not_visible(state: &AppState, viewer: &AuthUser, id: &AlbumId, now: u64) -> Refused {
    let expired = async {
        if !viewer.album_sets {
            return Ok::<_, ServiceError>(Vec::new());
        }
        let sets = db::albums::cookie_sets(&state.db, viewer.session_id, now).await?;
        let Some(set) = sets.into_iter().find(|set| &set.album_id == id) else {
            return Ok(Vec::new());
        };
        db::albums::forget_cookie_set(&state.db, viewer.session_id, id, now).await?;
        Ok(vec![expired_set(state, &set)])
    };
    match expired.await {
        Ok(revoked) => Refused {
            error: ServiceError::NotFound,
            cookies: CookieChanges {
                revoked,
                ..CookieChanges::default()
            },
        },
        Err(error) => error.into(),
    }
}

fn expired_set(state: &AppState, set: &album_cookie_set::Model) -> ExpiredSet {
    let prefix = ObjectPrefix::album(set.owner_id, &set.album_id);
    ExpiredSet {
        album: set.album_id.clone(),
        path: state.cdn.path_of(&prefix),
        set_cookies: state.cdn.expire_prefix(&prefix),
    }
}

/// Mints `album`'s set for the grantee's session, making room by expiring the set the session was
/// given least recently when it holds the most it may.
async fn mint_for(
    state: &AppState,
    viewer: &AuthUser,
    album: &album::Model,
    now: u64,
    client: Client,
) -> ServiceResult<CookieChanges> {
    let minted = state
        .cdn
        .mint_album(album.owner_id, &album.id, now, client.addr)
        .await?;
    if !viewer.album_sets {
        note_album_sets(state, viewer).await?;
    }
    let held = db::albums::cookie_sets(&state.db, viewer.session_id, now).await?;
    let limit = usize::try_from(state.config.cdn.album_cookie_sets).unwrap_or(usize::MAX);
    let mut evicted = None;
    let already = held.iter().find(|set| set.album_id == album.id);
    if already.is_none()
        && held.len() >= limit
        && let Some(oldest) = held.first()
    {
        db::albums::forget_cookie_set(&state.db, viewer.session_id, &oldest.album_id, now).await?;
        evicted = Some(Evicted {
            set: expired_set(state, oldest),
            urls: evicted_urls(state, viewer.id, &oldest.album_id, now).await?,
        });
    }
    // Noted at every mint, so that the limit expires the set opened least recently; a set that is
    // already the latest, with the same expiry, is noted as it is.
    let latest = held.iter().max_by_key(|set| set.seq);
    let unchanged =
        latest.is_some_and(|set| set.album_id == album.id && set.expires_at == minted.expires_at as i64);
    if !unchanged {
        let seq = latest.map_or(0, |set| set.seq) + 1;
        db::albums::note_cookie_set(
            &state.db,
            db::albums::MintedSet {
                session: viewer.session_id,
                album: &album.id,
                owner: album.owner_id,
                seq,
                expires_at: minted.expires_at,
            },
        )
        .await?;
    }
    state.metrics.cookies_minted();
    Ok(CookieChanges {
        minted: Some(minted),
        evicted,
        revoked: Vec::new(),
    })
}

/// Records on the session that it holds album sets, so that refreshes of its own set look for ones
/// to expire from then on; every instance forgets its cached copy of the session.
async fn note_album_sets(state: &AppState, viewer: &AuthUser) -> ServiceResult<()> {
    let hash = &viewer.session_hash;
    let txn = state.db.begin().await?;
    db::sessions::note_album_sets(&txn, hash).await?;
    let echo = state.session_events.announce_in(&txn, hash).await?;
    txn.commit().await?;
    state.sessions.update(hash, |s| s.user.album_sets = true);
    state.session_events.heard(echo).await;
    Ok(())
}

/// Signed URLs for the newest images of an album whose set was just expired, while the caller may
/// still see it.
async fn evicted_urls(
    state: &AppState,
    viewer: UserId,
    album: &AlbumId,
    now: u64,
) -> ServiceResult<Vec<(ImageId, ObjectUrl)>> {
    let Some((album, _)) = visible(state, viewer, album, now).await? else {
        return Ok(Vec::new());
    };
    let images =
        db::images::list_ready_in_album(&state.db, album.owner_id, &album.id, None, EVICTED_URLS).await?;
    let urls = image_urls(state, &images, now, state.config.sharing.url_ttl_secs).await?;
    Ok(images.into_iter().map(|image| image.id).zip(urls).collect())
}

/// The sets of the caller's session whose album they may no longer see (revoked, expired, deleted),
/// expired in the browser: a few per response, so the caller's own refresh clears them over time.
pub async fn expire_revoked(state: &AppState, viewer: &AuthUser) -> ServiceResult<Vec<ExpiredSet>> {
    // Most sessions never open a shared album: their refresh reads nothing more.
    if !viewer.album_sets {
        return Ok(Vec::new());
    }
    let now = state.now();
    let mut expired = Vec::new();
    for set in db::albums::cookie_sets(&state.db, viewer.session_id, now).await? {
        if expired.len() >= EXPIRED_PER_RESPONSE {
            break;
        }
        if visible(state, viewer.id, &set.album_id, now).await?.is_some() {
            continue;
        }
        db::albums::forget_cookie_set(&state.db, viewer.session_id, &set.album_id, now).await?;
        expired.push(expired_set(state, &set));
    }
    Ok(expired)
}
