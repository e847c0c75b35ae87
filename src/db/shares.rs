//! Queries on `shares`. A grant counts while its image is ready and its expiry, if any, is later than
//! now; every read that hands out access checks both at the time of the request, so a revoked or
//! expired grant stops new URLs at once.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::image::{self, Status};
use super::entity::{album, album_share, share, user};
use super::images::Position;
use crate::domain::UserId;
use crate::images::ImageId;

/// Grants `image` to `grantee` until `expires_at` (none: until revoked); granting again replaces the
/// expiry and keeps the original creation time.
pub async fn grant(
    db: &impl ConnectionTrait,
    image: &ImageId,
    grantee: UserId,
    now: u64,
    expires_at: Option<u64>,
) -> Result<(), DbErr> {
    share::Entity::insert(share::ActiveModel {
        image_id: Set(image.clone()),
        grantee_id: Set(grantee),
        created_at: Set(now as i64),
        expires_at: Set(expires_at.map(|t| t as i64)),
    })
    .on_conflict(
        OnConflict::columns([share::Column::ImageId, share::Column::GranteeId])
            .update_column(share::Column::ExpiresAt)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The grant of `image` to `grantee`, if any.
pub async fn find(
    db: &impl ConnectionTrait,
    image: &ImageId,
    grantee: UserId,
) -> Result<Option<share::Model>, DbErr> {
    share::Entity::find_by_id((image.clone(), grantee)).one(db).await
}

/// Revokes the grant of `image` to `grantee`; false when there was none.
pub async fn revoke(db: &impl ConnectionTrait, image: &ImageId, grantee: UserId) -> Result<bool, DbErr> {
    let result = share::Entity::delete_many()
        .filter(share::Column::ImageId.eq(image))
        .filter(share::Column::GranteeId.eq(grantee))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Removes every grant of `image` (with the image).
pub async fn revoke_all(db: &impl ConnectionTrait, image: &ImageId) -> Result<(), DbErr> {
    share::Entity::delete_many()
        .filter(share::Column::ImageId.eq(image))
        .exec(db)
        .await
        .map(|_| ())
}

/// Every grant of `image` with its grantee, oldest first (expired ones included, so the owner sees them).
pub async fn list_for_image(
    db: &impl ConnectionTrait,
    image: &ImageId,
) -> Result<Vec<(share::Model, user::Model)>, DbErr> {
    let rows = share::Entity::find()
        .find_also_related(user::Entity)
        .filter(share::Column::ImageId.eq(image))
        .order_by_asc(share::Column::CreatedAt)
        .order_by_asc(share::Column::GranteeId)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(share, user)| user.map(|user| (share, user)))
        .collect())
}

/// Images whose grant to `grantee` counts at `now`.
fn granted_to(grantee: UserId, now: u64) -> Condition {
    let grants = Query::select()
        .column(share::Column::ImageId)
        .from(share::Entity)
        .and_where(share::Column::GranteeId.eq(grantee))
        .cond_where(
            Condition::any()
                .add(share::Column::ExpiresAt.is_null())
                .add(share::Column::ExpiresAt.gt(now as i64)),
        )
        .to_owned();
    Condition::all()
        .add(image::Column::Id.in_subquery(grants))
        .add(image::Column::OwnerId.ne(grantee))
}

/// Up to `limit` ready images shared with `grantee` at `now`, after `after`, newest first.
pub async fn list_shared_with(
    db: &impl ConnectionTrait,
    grantee: UserId,
    now: u64,
    after: Option<&Position>,
    limit: u64,
) -> Result<Vec<image::Model>, DbErr> {
    let query = image::Entity::find()
        .filter(image::Column::Status.eq(Status::Ready))
        .filter(granted_to(grantee, now));
    super::images::newest_first(db, query, after, limit).await
}

/// Images in an album granted to `grantee` by a grant that counts at `now` (the album not being
/// deleted).
fn in_album_granted_to(grantee: UserId, now: u64) -> Condition {
    let albums = Query::select()
        .column(album_share::Column::AlbumId)
        .from(album_share::Entity)
        .inner_join(
            album::Entity,
            Expr::col((album::Entity, album::Column::Id))
                .equals((album_share::Entity, album_share::Column::AlbumId)),
        )
        .and_where(album_share::Column::GranteeId.eq(grantee))
        .and_where(Expr::col((album::Entity, album::Column::DeletingSince)).is_null())
        .cond_where(
            Condition::any()
                .add(album_share::Column::ExpiresAt.is_null())
                .add(album_share::Column::ExpiresAt.gt(now as i64)),
        )
        .to_owned();
    Condition::all()
        .add(image::Column::AlbumId.in_subquery(albums))
        .add(image::Column::OwnerId.ne(grantee))
}

/// Of `ids`, the ready images `caller` may see at `now`: their own, those granted to them, and those
/// in albums granted to them.
pub async fn visible_to(
    db: &impl ConnectionTrait,
    caller: UserId,
    ids: &[ImageId],
    now: u64,
) -> Result<Vec<image::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    image::Entity::find()
        .filter(image::Column::Id.is_in(ids))
        .filter(image::Column::Status.eq(Status::Ready))
        .filter(
            Condition::any()
                .add(image::Column::OwnerId.eq(caller))
                .add(granted_to(caller, now))
                .add(in_album_granted_to(caller, now)),
        )
        .all(db)
        .await
}

/// Ends every grant `grantee` received.
pub async fn revoke_received(db: &impl ConnectionTrait, grantee: UserId) -> Result<(), DbErr> {
    share::Entity::delete_many()
        .filter(share::Column::GranteeId.eq(grantee))
        .exec(db)
        .await
        .map(|_| ())
}

/// Ends every grant of an image of `owner`.
pub async fn revoke_given(db: &impl ConnectionTrait, owner: UserId) -> Result<(), DbErr> {
    share::Entity::delete_many()
        .filter(share::Column::ImageId.in_subquery(super::images::ids_of_owner(owner)))
        .exec(db)
        .await
        .map(|_| ())
}
