//! Queries on `images`. Reads on behalf of a user always filter by owner, so another user's image id
//! finds nothing rather than something forbidden.
//!
//! Changes that must not overlap (a move, a deletion) run under a lease on the row: a short, expiring
//! claim taken with one conditional `UPDATE`, so it works the same on SQLite and PostgreSQL and across
//! instances, and a crashed holder blocks nobody for long.

use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, Set,
};

use super::entity::image::{self, Location, Status, Visibility};
use super::entity::user;
use crate::domain::UserId;
use crate::images::{AlbumId, ContentType, ImageId, ImageKey};

/// What a new upload row holds.
#[derive(Clone, Debug)]
pub struct NewImage<'a> {
    /// The fresh id.
    pub id: &'a ImageId,
    /// The uploader.
    pub owner: UserId,
    /// The staging key the upload URL points at.
    pub key: &'a ImageKey,
    /// The declared type.
    pub content_type: ContentType,
    /// The declared size.
    pub byte_size: u64,
    /// The browser's file name, already validated.
    pub original_name: &'a str,
    /// Epoch seconds.
    pub now: u64,
    /// When the upload URL stops working (epoch seconds).
    pub upload_expires_at: u64,
    /// The album it is uploaded into, if any.
    pub album: Option<&'a AlbumId>,
}

/// Stores a `pending` upload.
pub async fn insert_pending(db: &impl ConnectionTrait, new: &NewImage<'_>) -> Result<(), DbErr> {
    image::ActiveModel {
        id: Set(new.id.clone()),
        owner_id: Set(new.owner),
        object_key: Set(new.key.as_str().to_owned()),
        visibility: Set(Visibility::Private),
        location: Set(Location::Private),
        status: Set(Status::Pending),
        content_type: Set(new.content_type.mime().to_owned()),
        byte_size: Set(i64::try_from(new.byte_size).unwrap_or(i64::MAX)),
        original_name: Set(new.original_name.to_owned()),
        created_at: Set(new.now as i64),
        upload_expires_at: Set(new.upload_expires_at as i64),
        changes: Set(0),
        lease_until: Set(None),
        album_id: Set(new.album.cloned()),
        moving_to: Set(None),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// How much of the quota an owner uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Rows of every status: an unfinished upload may still be completed, and a rejected one may
    /// still hold bytes until it is swept.
    pub images: u64,
    /// Their declared sizes, summed.
    pub bytes: u64,
}

/// The owner's usage.
pub async fn usage(db: &impl ConnectionTrait, owner: UserId) -> Result<Usage, DbErr> {
    let found: Option<(i64, i64)> = image::Entity::find()
        .select_only()
        .column_as(
            SimpleExpr::from(Func::count(Expr::col(image::Column::Id))),
            "images",
        )
        // PostgreSQL sums BIGINTs into NUMERIC; the cast keeps one integer type on both databases.
        .column_as(
            SimpleExpr::from(Func::cast_as(
                Func::coalesce([
                    SimpleExpr::from(Func::sum(Expr::col(image::Column::ByteSize))),
                    Expr::val(0),
                ]),
                "BIGINT",
            )),
            "bytes",
        )
        .filter(image::Column::OwnerId.eq(owner))
        .into_tuple()
        .one(db)
        .await?;
    let (images, bytes) = found.unwrap_or((0, 0));
    Ok(Usage {
        images: u64::try_from(images).unwrap_or(0),
        bytes: u64::try_from(bytes).unwrap_or(0),
    })
}

/// Makes concurrent quota checks of one owner wait for each other until the transaction ends.
///
/// A write to the owner's row takes its row lock on PostgreSQL and the write lock on SQLite, so two
/// uploads cannot both count the same free space. It writes a non-key column: on PostgreSQL that lock
/// does not hold up the foreign-key checks of concurrent logins.
pub async fn lock_owner(db: &impl ConnectionTrait, owner: UserId) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::col(user::Column::Email))
        .filter(user::Column::Id.eq(owner))
        .exec(db)
        .await
        .map(|_| ())
}

/// The owner's image with this id, whatever its status.
pub async fn find_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: &ImageId,
) -> Result<Option<image::Model>, DbErr> {
    image::Entity::find_by_id(id.clone())
        .filter(image::Column::OwnerId.eq(owner))
        .one(db)
        .await
}

/// The image with this id (the sweeper and the lifecycle steps, which act for the owner).
pub async fn find(db: &impl ConnectionTrait, id: &ImageId) -> Result<Option<image::Model>, DbErr> {
    image::Entity::find_by_id(id.clone()).one(db).await
}

/// Up to `limit` of `owner`'s ready images in their `album` after `after`, newest first. Only the
/// album's owner can put images into it; the owner filter keeps it so whatever a row says.
pub async fn list_ready_in_album(
    db: &impl ConnectionTrait,
    owner: UserId,
    album: &AlbumId,
    after: Option<&Position>,
    limit: u64,
) -> Result<Vec<image::Model>, DbErr> {
    let query = image::Entity::find()
        .filter(image::Column::OwnerId.eq(owner))
        .filter(image::Column::AlbumId.eq(album))
        .filter(image::Column::Status.eq(Status::Ready));
    newest_first(db, query, after, limit).await
}

/// Up to `limit` images still in `album`, whatever their status (emptying a deleted album).
pub async fn in_album(
    db: &impl ConnectionTrait,
    album: &AlbumId,
    limit: u64,
) -> Result<Vec<image::Model>, DbErr> {
    image::Entity::find()
        .filter(image::Column::AlbumId.eq(album))
        .order_by_asc(image::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Puts the image in `album` (or in none) without moving anything: for a row whose key does not
/// depend on it yet (a pending upload), or inside a move that records the key too. The caller holds
/// the lease.
pub async fn set_album(
    db: &impl ConnectionTrait,
    id: &ImageId,
    album: Option<&AlbumId>,
) -> Result<(), DbErr> {
    image::Entity::update_many()
        .col_expr(image::Column::AlbumId, Expr::value(album.cloned()))
        .filter(image::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// A position in an owner's listing: the last image of the previous page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// Its creation time.
    pub created_at: i64,
    /// Its id, which breaks ties between images created in the same second.
    pub id: ImageId,
}

/// Up to `limit` of the owner's ready images after `after`, newest first.
pub async fn list_ready(
    db: &impl ConnectionTrait,
    owner: UserId,
    after: Option<&Position>,
    limit: u64,
) -> Result<Vec<image::Model>, DbErr> {
    let query = image::Entity::find()
        .filter(image::Column::OwnerId.eq(owner))
        .filter(image::Column::Status.eq(Status::Ready));
    newest_first(db, query, after, limit).await
}

/// Up to `limit` of the images `query` selects, after `after`, newest first: a page of a listing.
pub(crate) async fn newest_first(
    db: &impl ConnectionTrait,
    query: Select<image::Entity>,
    after: Option<&Position>,
    limit: u64,
) -> Result<Vec<image::Model>, DbErr> {
    let query = match after {
        Some(after) => query.filter(after.later_images()),
        None => query,
    };
    query
        .order_by_desc(image::Column::CreatedAt)
        .order_by_desc(image::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

impl Position {
    /// Images listed after this one, newest first: older, or as old with a smaller id.
    pub(crate) fn later_images(&self) -> Condition {
        Condition::any()
            .add(image::Column::CreatedAt.lt(self.created_at))
            .add(
                Condition::all()
                    .add(image::Column::CreatedAt.eq(self.created_at))
                    .add(image::Column::Id.lt(&self.id)),
            )
    }
}

/// Takes the lease on image `id` (of `owner`, when given) until `until`, unless someone holds it past
/// `now`. Returns whether it was taken.
pub async fn try_lease(
    db: &impl ConnectionTrait,
    id: &ImageId,
    owner: Option<UserId>,
    now: u64,
    until: u64,
) -> Result<bool, DbErr> {
    let mut update = image::Entity::update_many()
        .col_expr(image::Column::LeaseUntil, Expr::value(until as i64))
        .filter(image::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(image::Column::LeaseUntil.is_null())
                .add(image::Column::LeaseUntil.lte(now as i64)),
        );
    if let Some(owner) = owner {
        update = update.filter(image::Column::OwnerId.eq(owner));
    }
    Ok(update.exec(db).await?.rows_affected > 0)
}

/// Gives the lease taken until `until` back (a lease that expired and was taken by another holder stays
/// theirs).
pub async fn release_lease(db: &impl ConnectionTrait, id: &ImageId, until: u64) -> Result<(), DbErr> {
    image::Entity::update_many()
        .col_expr(image::Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .filter(image::Column::Id.eq(id))
        .filter(image::Column::LeaseUntil.eq(until as i64))
        .exec(db)
        .await
        .map(|_| ())
}

async fn set_status(
    db: &impl ConnectionTrait,
    id: &ImageId,
    from: &[Status],
    to: Status,
) -> Result<bool, DbErr> {
    let result = image::Entity::update_many()
        .col_expr(image::Column::Status, Expr::value(to))
        .filter(image::Column::Id.eq(id))
        .filter(image::Column::Status.is_in(from.iter().copied()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// A verified upload, copied to `key`, becomes `ready`; false when it is no longer pending (swept,
/// deleted, or completed by a concurrent request).
pub async fn mark_ready(db: &impl ConnectionTrait, id: &ImageId, key: &ImageKey) -> Result<bool, DbErr> {
    let result = image::Entity::update_many()
        .col_expr(image::Column::Status, Expr::value(Status::Ready))
        .col_expr(image::Column::ObjectKey, Expr::value(key.as_str()))
        .filter(image::Column::Id.eq(id))
        .filter(image::Column::Status.eq(Status::Pending))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// A pending upload becomes `rejected` (hidden, swept once its URL has expired); false when it is no
/// longer pending.
pub async fn reject(db: &impl ConnectionTrait, id: &ImageId) -> Result<bool, DbErr> {
    set_status(db, id, &[Status::Pending], Status::Rejected).await
}

/// Pending or rejected uploads whose URL expired at or before `cutoff`, oldest first.
pub async fn abandoned_uploads(
    db: &impl ConnectionTrait,
    cutoff: u64,
    limit: u64,
) -> Result<Vec<image::Model>, DbErr> {
    image::Entity::find()
        .filter(image::Column::Status.is_in([Status::Pending, Status::Rejected]))
        .filter(image::Column::UploadExpiresAt.lte(cutoff as i64))
        .order_by_asc(image::Column::UploadExpiresAt)
        .limit(limit)
        .all(db)
        .await
}

/// Claims an abandoned upload for sweeping (it becomes `rejected`); false when it was completed or
/// removed meanwhile, or a completion holds it at `now`, so a completion and the sweeper never both win.
pub async fn claim_abandoned(
    db: &impl ConnectionTrait,
    id: &ImageId,
    cutoff: u64,
    now: u64,
) -> Result<bool, DbErr> {
    let result = image::Entity::update_many()
        .col_expr(image::Column::Status, Expr::value(Status::Rejected))
        .filter(image::Column::Id.eq(id))
        .filter(image::Column::Status.is_in([Status::Pending, Status::Rejected]))
        .filter(image::Column::UploadExpiresAt.lte(cutoff as i64))
        .filter(
            Condition::any()
                .add(image::Column::LeaseUntil.is_null())
                .add(image::Column::LeaseUntil.lte(now as i64)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Removes a rejected row (its object is gone).
pub async fn delete_rejected(db: &impl ConnectionTrait, id: &ImageId) -> Result<bool, DbErr> {
    let result = image::Entity::delete_many()
        .filter(image::Column::Id.eq(id))
        .filter(image::Column::Status.eq(Status::Rejected))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Where a move sends an image: the visibility and album its owner asked for, and the key that makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement<'a> {
    /// Who may load it.
    pub visibility: Visibility,
    /// The album it belongs to.
    pub album: Option<&'a AlbumId>,
}

/// Records the image's new placement and, when its key changes, that the object is on its way to
/// `to` (a [`Location`] crossing the public/private line when it does), counting the change. The
/// caller holds the lease.
pub async fn start_move(
    db: &impl ConnectionTrait,
    id: &ImageId,
    placement: &Placement<'_>,
    to: Option<(&ImageKey, Location)>,
) -> Result<(), DbErr> {
    let mut update = image::Entity::update_many()
        .col_expr(image::Column::Visibility, Expr::value(placement.visibility))
        .col_expr(image::Column::AlbumId, Expr::value(placement.album.cloned()))
        .filter(image::Column::Id.eq(id));
    if let Some((key, location)) = to {
        update = update
            .col_expr(image::Column::MovingTo, Expr::value(key.as_str()))
            .col_expr(image::Column::Location, Expr::value(location))
            .col_expr(image::Column::Changes, Expr::col(image::Column::Changes).add(1));
    }
    update.exec(db).await.map(|_| ())
}

/// Records that the object is settled at `key`, on `location`'s side, with no move unfinished (the
/// caller holds the lease).
pub async fn settle(
    db: &impl ConnectionTrait,
    id: &ImageId,
    key: &ImageKey,
    location: Location,
) -> Result<(), DbErr> {
    image::Entity::update_many()
        .col_expr(image::Column::Location, Expr::value(location))
        .col_expr(image::Column::ObjectKey, Expr::value(key.as_str()))
        .col_expr(image::Column::MovingTo, Expr::value(Option::<String>::None))
        .filter(image::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records that the image is being deleted, and counts the change (the caller holds the lease).
pub async fn start_delete(db: &impl ConnectionTrait, id: &ImageId) -> Result<(), DbErr> {
    image::Entity::update_many()
        .col_expr(image::Column::Status, Expr::value(Status::Deleting))
        .col_expr(image::Column::Changes, Expr::col(image::Column::Changes).add(1))
        .filter(image::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes the row.
pub async fn delete(db: &impl ConnectionTrait, id: &ImageId) -> Result<(), DbErr> {
    image::Entity::delete_by_id(id.clone()).exec(db).await.map(|_| ())
}

/// Ready images with an unfinished move, or images with an unfinished deletion, that nobody holds
/// at `now`.
pub async fn unfinished(db: &impl ConnectionTrait, now: u64, limit: u64) -> Result<Vec<image::Model>, DbErr> {
    image::Entity::find()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(image::Column::Status.eq(Status::Ready))
                        .add(image::Column::MovingTo.is_not_null()),
                )
                .add(image::Column::Status.eq(Status::Deleting)),
        )
        .filter(
            Condition::any()
                .add(image::Column::LeaseUntil.is_null())
                .add(image::Column::LeaseUntil.lte(now as i64)),
        )
        .limit(limit)
        .all(db)
        .await
}

/// Up to `limit` images of `owner`, whatever their state.
pub async fn all_of_owner(
    db: &impl ConnectionTrait,
    owner: UserId,
    limit: u64,
) -> Result<Vec<image::Model>, DbErr> {
    image::Entity::find()
        .filter(image::Column::OwnerId.eq(owner))
        .order_by_asc(image::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The ids of `owner`'s images, as a subquery (`… IN (SELECT id FROM images WHERE owner_id = ?)`).
pub fn ids_of_owner(owner: UserId) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(image::Column::Id)
        .from(image::Entity)
        .and_where(image::Column::OwnerId.eq(owner))
        .to_owned()
}
