//! Request and response bodies of the JSON API, kept apart from the database entities.

use std::collections::BTreeMap;

use poem_openapi::{Enum, Object};

/// `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Debug, Object)]
pub(crate) struct Credentials {
    /// Email address (case does not matter).
    pub email: String,
    /// Password: at least 10 characters, at most 256 bytes.
    pub password: String,
}

/// A user.
#[derive(Debug, Object)]
pub(crate) struct UserView {
    /// The user id; the user's images live under `users/{id}/` on the CDN.
    pub id: i64,
    /// The case-folded email address. Only ever the caller's own, or one the caller typed to name a
    /// grantee.
    pub email: String,
}

/// How this deployment delivers images (`EDGEPASS_DELIVERY`).
#[derive(Clone, Copy, Debug, Enum, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub(crate) enum DeliveryMode {
    /// Through CloudFront: the signed-in user's cookies open their own images; others get signed URLs.
    Cloudfront,
    /// Straight from S3: every image URL is a presigned GET, and there are no CloudFront cookies.
    S3,
}

impl DeliveryMode {
    pub(crate) fn of(delivery: &crate::config::Delivery) -> Self {
        if delivery.is_s3() {
            Self::S3
        } else {
            Self::Cloudfront
        }
    }
}

/// The CloudFront cookies just set.
#[derive(Debug, Object)]
pub(crate) struct CdnGrant {
    /// When the cookies stop working (epoch seconds); refresh with `POST /api/cdn/cookies` before then.
    pub expires_at: u64,
    /// The resource pattern they grant, e.g. `https://cdn.example.com/users/42/*`.
    pub resource: String,
    /// The cookie path they are scoped to, e.g. `/users/42/`.
    pub cookie_path: String,
}

/// `POST /api/cdn/cookies`: the caller's own set, minted again, and the album sets the same answer
/// expired because the caller may no longer see those albums.
#[derive(Debug, Object)]
pub(crate) struct CdnRefresh {
    /// How images are delivered: with `s3` there are no cookies, and the fields of the set are absent.
    pub delivery: DeliveryMode,
    /// When the caller's own set stops working (epoch seconds).
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<u64>,
    /// The resource pattern the set grants.
    #[oai(skip_serializing_if_is_none)]
    pub resource: Option<String>,
    /// The cookie path the set is scoped to.
    #[oai(skip_serializing_if_is_none)]
    pub cookie_path: Option<String>,
    /// Album sets expired by this answer (`Max-Age=0` at their Path): a few per answer, so that
    /// repeated refreshes clear what a long session collected.
    pub expired_album_sets: Vec<ExpiredCookieSet>,
}

/// A signed-in session.
#[derive(Debug, Object)]
pub(crate) struct SessionView {
    /// Who is signed in.
    pub user: UserView,
    /// How images are delivered: with `s3` no CloudFront cookies are set, and `cdn` is absent.
    pub delivery: DeliveryMode,
    /// The CloudFront cookies set with this response.
    #[oai(skip_serializing_if_is_none)]
    pub cdn: Option<CdnGrant>,
}

/// `GET /api/me`.
#[derive(Debug, Object)]
pub(crate) struct MeView {
    /// Who is signed in.
    pub user: UserView,
    /// When the session ends unless used again (epoch seconds).
    pub session_expires_at: u64,
    /// How images are delivered: with `s3` there are no CloudFront cookies to refresh.
    pub delivery: DeliveryMode,
    /// When the CloudFront cookies last set for this session expire (epoch seconds), if any were set.
    #[oai(skip_serializing_if_is_none)]
    pub cdn_expires_at: Option<u64>,
}

/// A plain status.
#[derive(Debug, Object)]
pub(crate) struct Status {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
}

/// `POST /api/images`: what the browser is about to upload.
#[derive(Debug, Object)]
pub(crate) struct NewUpload {
    /// `image/jpeg`, `image/png`, `image/webp`, `image/gif` or `image/avif`.
    pub content_type: String,
    /// The file's exact size in bytes (at least 1, at most the configured maximum).
    pub byte_size: u64,
    /// The file's name, shown to its owner only (at most 255 characters, no control characters).
    pub name: String,
    /// One of the caller's albums to upload straight into (404 when there is no such album of
    /// theirs).
    pub album_id: Option<String>,
}

/// Where and how to upload the file.
#[derive(Debug, Object)]
pub(crate) struct UploadTicket {
    /// The new image's id; call `POST /api/images/{id}/complete` after the upload.
    pub id: String,
    /// Send the file's bytes with `PUT` to this URL.
    pub upload_url: String,
    /// Headers the `PUT` must carry with exactly these values (they are signed); browsers set
    /// `content-length` themselves.
    pub upload_headers: BTreeMap<String, String>,
    /// When the URL stops working (epoch seconds).
    pub expires_at: u64,
}

/// `PATCH /api/images/{id}`.
#[derive(Debug, Object)]
pub(crate) struct VisibilityChange {
    /// `public` (served by the CDN to anyone, without a signature) or `private` (only its owner, with
    /// the CloudFront cookies).
    pub visibility: String,
}

/// Who may load an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub(crate) enum VisibilityName {
    /// Only its owner, with the CloudFront cookies.
    Private,
    /// Anyone, without a signature.
    Public,
}

/// Where an image is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub(crate) enum ImageStatus {
    /// Waiting for the upload and `POST /api/images/{id}/complete`.
    Pending,
    /// Checked and served.
    Ready,
}

/// One of the caller's images.
#[derive(Debug, Object)]
pub(crate) struct ImageView {
    /// The image id.
    pub id: String,
    /// The file name given at upload, for display.
    pub name: String,
    /// The MIME type.
    pub content_type: String,
    /// The size in bytes.
    pub byte_size: u64,
    /// The visibility asked for last.
    pub visibility: VisibilityName,
    /// Whether the upload has been checked.
    pub status: ImageStatus,
    /// The image on the CDN (`{cdn}/users/{user}/{id}.{ext}`, loaded with the CloudFront cookies, or
    /// `{cdn}/public/{id}.{ext}`); with `EDGEPASS_DELIVERY=s3` a presigned GET straight from the bucket
    /// (see `url_expires_at`). Absent until the upload is complete.
    #[oai(skip_serializing_if_is_none)]
    pub url: Option<String>,
    /// When `url` stops working (epoch seconds): set only with `EDGEPASS_DELIVERY=s3`, where it is a
    /// presigned GET to ask for again before then.
    #[oai(skip_serializing_if_is_none)]
    pub url_expires_at: Option<u64>,
    /// True while a visibility change is unfinished (the URL is still the old one); repeating the
    /// `PATCH` finishes it.
    pub change_pending: bool,
    /// The album it belongs to, if any.
    #[oai(skip_serializing_if_is_none)]
    pub album_id: Option<String>,
    /// When the upload was started (epoch seconds).
    pub created_at: u64,
}

/// `GET /api/images`: a page of the caller's ready images, newest first.
#[derive(Debug, Object)]
pub(crate) struct ImagePage {
    /// The images.
    pub images: Vec<ImageView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// A grant of one image to one user.
#[derive(Debug, Object)]
pub(crate) struct ShareView {
    /// The grantee.
    pub user: UserView,
    /// When the image was first shared with them (epoch seconds).
    pub created_at: u64,
    /// When the grant ends (epoch seconds, at most 253402300799: 9999-12-31T23:59:59Z); absent: until
    /// revoked.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<u64>,
    /// Whether the grant has ended (it stays listed until revoked).
    pub expired: bool,
}

/// `GET /api/images/{id}/shares`.
#[derive(Debug, Object)]
pub(crate) struct ShareList {
    /// The grants, oldest first.
    pub shares: Vec<ShareView>,
}

/// An image another user shared with the caller.
#[derive(Debug, Object)]
pub(crate) struct SharedImageView {
    /// The image id.
    pub id: String,
    /// The file name given at upload, for display.
    pub name: String,
    /// The MIME type.
    pub content_type: String,
    /// The size in bytes.
    pub byte_size: u64,
    /// The owner's user id.
    pub owner_id: i64,
    /// The owner's email address, which the owner revealed to the caller by sharing.
    pub owner_email: String,
    /// The image on the CDN: a short-lived signed URL for a private image, the plain public URL for a
    /// public one.
    pub url: String,
    /// When a signed `url` stops working (epoch seconds); absent for a public URL. Ask again for a
    /// fresh one.
    #[oai(skip_serializing_if_is_none)]
    pub url_expires_at: Option<u64>,
    /// When the upload was started (epoch seconds).
    pub created_at: u64,
}

/// `GET /api/shared-with-me`: a page of images shared with the caller, newest first.
#[derive(Debug, Object)]
pub(crate) struct SharedPage {
    /// The images.
    pub images: Vec<SharedImageView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
}

/// `POST /api/urls`.
#[derive(Debug, Object)]
pub(crate) struct UrlRequest {
    /// Image ids (at most the configured number, 500 by default).
    pub ids: Vec<String>,
}

/// URLs for the images the caller may see.
#[derive(Debug, Object)]
pub(crate) struct UrlBatch {
    /// Image id → URL (signed and short-lived for private images, plain for public ones).
    pub urls: BTreeMap<String, String>,
    /// The ids that name no image the caller may see (whether or not it exists), in request order.
    pub not_found: Vec<String>,
    /// When the signed URLs stop working (epoch seconds); absent when none was signed.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<u64>,
}

/// `POST /api/images/{id}/links`.
#[derive(Debug, Object)]
pub(crate) struct NewLink {
    /// How long the link works, in seconds (at most the configured maximum, 7 days by default, and
    /// ending by 9999-12-31T23:59:59Z).
    pub expires_in: u64,
}

/// A share link just created; its URL is shown only now.
#[derive(Debug, Object)]
pub(crate) struct CreatedLink {
    /// The link id (for `DELETE /api/links/{id}`).
    pub id: i64,
    /// The link: anyone who has it can load the image until it expires or is revoked.
    pub url: String,
    /// When it stops working (epoch seconds).
    pub expires_at: u64,
}

/// A share link, without its token (only its hash is kept).
#[derive(Debug, Object)]
pub(crate) struct LinkView {
    /// The link id.
    pub id: i64,
    /// Epoch seconds.
    pub created_at: u64,
    /// When it stops working (epoch seconds).
    pub expires_at: u64,
    /// When it was revoked (epoch seconds), if it was.
    #[oai(skip_serializing_if_is_none)]
    pub revoked_at: Option<u64>,
    /// Whether it still works.
    pub active: bool,
}

/// `GET /api/images/{id}/links`.
#[derive(Debug, Object)]
pub(crate) struct LinkList {
    /// The links, newest first.
    pub links: Vec<LinkView>,
}

/// `POST /api/albums` and `PATCH /api/albums/{id}`.
#[derive(Debug, Object)]
pub(crate) struct AlbumName {
    /// The album's name (at most 255 characters, no control characters).
    pub name: String,
}

/// An album.
#[derive(Debug, Object)]
pub(crate) struct AlbumView {
    /// The album id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The owner.
    pub owner_id: i64,
    /// The owner's email address: present on albums shared with the caller (the owner revealed it by
    /// sharing).
    #[oai(skip_serializing_if_is_none)]
    pub owner_email: Option<String>,
    /// When it was created (epoch seconds).
    pub created_at: u64,
    /// When the caller's grant ends (albums shared with the caller; absent: until revoked).
    #[oai(skip_serializing_if_is_none)]
    pub grant_expires_at: Option<u64>,
    /// The CloudFront cookie `Path` its private images are under.
    pub cookie_path: String,
}

/// `GET /api/albums`.
#[derive(Debug, Object)]
pub(crate) struct AlbumList {
    /// The caller's albums, oldest first.
    pub albums: Vec<AlbumView>,
    /// Albums shared with the caller, oldest grant first.
    pub shared: Vec<AlbumView>,
}

/// One image of an album.
#[derive(Debug, Object)]
pub(crate) struct AlbumImageView {
    /// The image id.
    pub id: String,
    /// The file name given at upload.
    pub name: String,
    /// The MIME type.
    pub content_type: String,
    /// The size in bytes.
    pub byte_size: u64,
    /// `private` or `public`.
    pub visibility: VisibilityName,
    /// Its plain CDN URL, with no query string: the album's cookie set (or the owner's own) opens a
    /// private one. With `EDGEPASS_DELIVERY=s3`, a presigned GET.
    pub url: String,
    /// When `url` stops working (epoch seconds): set only with `EDGEPASS_DELIVERY=s3`; open the album
    /// again before then.
    #[oai(skip_serializing_if_is_none)]
    pub url_expires_at: Option<u64>,
    /// When it was uploaded (epoch seconds).
    pub created_at: u64,
}

/// A CloudFront cookie set that this answer expired (`Max-Age=0` at its Path).
#[derive(Debug, Object)]
pub(crate) struct ExpiredCookieSet {
    /// The album it opened.
    pub album_id: String,
    /// Its cookie Path.
    pub cookie_path: String,
}

/// The oldest album set, expired to stay within the limit, with signed URLs for that album's newest
/// images (while the caller may see it) so that a page showing them keeps working.
#[derive(Debug, Object)]
pub(crate) struct EvictedCookieSet {
    /// The album it opened.
    pub album_id: String,
    /// Its cookie Path.
    pub cookie_path: String,
    /// Image id → signed URL.
    pub urls: std::collections::BTreeMap<String, String>,
    /// When the first of those URLs stops working (epoch seconds).
    #[oai(skip_serializing_if_is_none)]
    pub urls_expire_at: Option<u64>,
}

/// The album cookie sets this answer set or expired.
#[derive(Debug, Object)]
pub(crate) struct AlbumCookies {
    /// True for the owner: their own cookie set already covers every album of theirs, and none is set.
    pub covered_by_own_cookies: bool,
    /// The album set just set (for a grantee).
    #[oai(skip_serializing_if_is_none)]
    pub set: Option<CdnGrant>,
    /// The oldest set, expired because the session holds the most it may (`EDGEPASS_ALBUM_COOKIE_SETS`).
    #[oai(skip_serializing_if_is_none)]
    pub evicted: Option<EvictedCookieSet>,
}

/// `GET /api/albums/{id}`: a page of an album's images, newest first.
#[derive(Debug, Object)]
pub(crate) struct AlbumPage {
    /// The album.
    pub album: AlbumView,
    /// `owner` or `grantee`.
    pub role: String,
    /// The images.
    pub images: Vec<AlbumImageView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    #[oai(skip_serializing_if_is_none)]
    pub next_cursor: Option<String>,
    /// The cookie sets set or expired with this answer.
    pub cookies: AlbumCookies,
}

/// `DELETE /api/albums/{id}` while images are still being moved out or deleted.
#[derive(Debug, Object)]
pub(crate) struct AlbumDeletion {
    /// Images handled by this request.
    pub images_done: u64,
    /// Always false here: repeat the `DELETE` (or leave it to the sweep) to finish.
    pub finished: bool,
}

/// `POST /api/account/password`.
#[derive(Debug, Object)]
pub(crate) struct PasswordChange {
    /// The password now.
    pub current_password: String,
    /// The new one: at least 10 characters, at most 256 bytes.
    pub new_password: String,
}

/// One session of the caller's account.
#[derive(Debug, Object)]
pub(crate) struct AccountSessionView {
    /// The session's id (for `DELETE /api/account/sessions/{id}`).
    pub id: i64,
    /// When it signed in (epoch seconds).
    pub created_at: u64,
    /// When it was last renewed by use (epoch seconds).
    pub last_seen_at: u64,
    /// When it ends unless used again (epoch seconds).
    pub expires_at: u64,
    /// The browser it signed in from, as its `User-Agent` named it (cut short), if it said.
    #[oai(skip_serializing_if_is_none)]
    pub client: Option<String>,
    /// Whether it is the session of this request.
    pub current: bool,
}

/// `GET /api/account/sessions`.
#[derive(Debug, Object)]
pub(crate) struct AccountSessions {
    /// Most recently seen first.
    pub sessions: Vec<AccountSessionView>,
}

/// `DELETE /api/account/sessions`.
#[derive(Debug, Object)]
pub(crate) struct EndedSessions {
    /// How many sessions ended.
    pub ended: usize,
}

/// `DELETE /api/account`.
#[derive(Debug, Object)]
pub(crate) struct PasswordCheck {
    /// The account's password.
    pub password: String,
}

/// `DELETE /api/account` while objects are still being deleted.
#[derive(Debug, Object)]
pub(crate) struct DeletionStatus {
    /// `deleting`.
    pub status: String,
}

/// `GET /api/account/export`: everything stored about the caller's account. Share-link tokens are
/// not stored (only their hashes) and are not in it; nor are password hashes.
#[derive(Debug, Object)]
pub(crate) struct AccountExport {
    /// When the export was made (epoch seconds).
    pub exported_at: u64,
    /// The account.
    pub account: ExportedAccount,
    /// Every image, whatever its state, oldest first.
    pub images: Vec<ExportedImage>,
    /// The albums.
    pub albums: Vec<ExportedAlbum>,
    /// Grants of the account's images and albums to others.
    pub grants_given: Vec<ExportedGrant>,
    /// Grants of others' images and albums to the account.
    pub grants_received: Vec<ExportedGrant>,
    /// Share links to the account's images (without tokens).
    pub links: Vec<ExportedLink>,
    /// Sessions, expired ones not yet swept included.
    pub sessions: Vec<AccountSessionView>,
}

/// The account itself.
#[derive(Debug, Object)]
pub(crate) struct ExportedAccount {
    /// The user id.
    pub id: i64,
    /// The email address.
    pub email: String,
    /// When it was created (epoch seconds).
    pub created_at: u64,
}

/// One image with its metadata.
#[derive(Debug, Object)]
pub(crate) struct ExportedImage {
    /// The image id.
    pub id: String,
    /// The file name given at upload.
    pub name: String,
    /// The MIME type.
    pub content_type: String,
    /// The size in bytes.
    pub byte_size: u64,
    /// `private` or `public`.
    pub visibility: VisibilityName,
    /// `pending`, `ready`, `rejected` or `deleting`.
    pub status: String,
    /// The object key in the bucket.
    pub object_key: String,
    /// The album it is in.
    #[oai(skip_serializing_if_is_none)]
    pub album_id: Option<String>,
    /// When the upload was started (epoch seconds).
    pub created_at: u64,
}

/// One album.
#[derive(Debug, Object)]
pub(crate) struct ExportedAlbum {
    /// The album id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was created (epoch seconds).
    pub created_at: u64,
}

/// One grant of an image or an album.
#[derive(Debug, Object)]
pub(crate) struct ExportedGrant {
    /// The image granted, for an image grant.
    #[oai(skip_serializing_if_is_none)]
    pub image_id: Option<String>,
    /// The album granted, for an album grant.
    #[oai(skip_serializing_if_is_none)]
    pub album_id: Option<String>,
    /// The other account: the grantee of a grant given, the owner of a grant received.
    pub other_email: String,
    /// When it was made (epoch seconds).
    pub created_at: u64,
    /// When it ends (epoch seconds), if it does.
    #[oai(skip_serializing_if_is_none)]
    pub expires_at: Option<u64>,
}

/// One share link, without its token.
#[derive(Debug, Object)]
pub(crate) struct ExportedLink {
    /// The link id.
    pub id: i64,
    /// The image it opens.
    pub image_id: String,
    /// When it was made (epoch seconds).
    pub created_at: u64,
    /// When it ends (epoch seconds).
    pub expires_at: u64,
    /// When it was revoked (epoch seconds), if it was.
    #[oai(skip_serializing_if_is_none)]
    pub revoked_at: Option<u64>,
}
