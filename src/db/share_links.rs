//! Queries on `share_links`.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::{image, share_link};
use crate::domain::UserId;
use crate::images::ImageId;

/// Stores a link to `image` whose token hashes to `token_hash`; returns its id.
pub async fn insert(
    db: &impl ConnectionTrait,
    image: &ImageId,
    token_hash: &[u8; 32],
    now: u64,
    expires_at: u64,
) -> Result<i64, DbErr> {
    share_link::ActiveModel {
        image_id: Set(image.clone()),
        token_hash: Set(token_hash.to_vec()),
        created_at: Set(now as i64),
        expires_at: Set(expires_at as i64),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|row| row.id)
}

/// Every link of `image`, newest first.
pub async fn list_for_image(
    db: &impl ConnectionTrait,
    image: &ImageId,
) -> Result<Vec<share_link::Model>, DbErr> {
    share_link::Entity::find()
        .filter(share_link::Column::ImageId.eq(image))
        .order_by_desc(share_link::Column::Id)
        .all(db)
        .await
}

/// The link `id` with its image.
pub async fn find_with_image(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<(share_link::Model, image::Model)>, DbErr> {
    let found = share_link::Entity::find_by_id(id)
        .find_also_related(image::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(link, image)| image.map(|image| (link, image))))
}

/// The link whose token hashes to `token_hash`, with its image.
pub async fn find_by_token(
    db: &impl ConnectionTrait,
    token_hash: &[u8; 32],
) -> Result<Option<(share_link::Model, image::Model)>, DbErr> {
    let found = share_link::Entity::find()
        .filter(share_link::Column::TokenHash.eq(token_hash.to_vec()))
        .find_also_related(image::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(link, image)| image.map(|image| (link, image))))
}

/// Revokes the link at `now`; false when it was revoked already.
pub async fn revoke(db: &impl ConnectionTrait, id: i64, now: u64) -> Result<bool, DbErr> {
    let result = share_link::Entity::update_many()
        .col_expr(share_link::Column::RevokedAt, Expr::value(now as i64))
        .filter(share_link::Column::Id.eq(id))
        .filter(share_link::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Removes every link of `image` (with the image).
pub async fn delete_for_image(db: &impl ConnectionTrait, image: &ImageId) -> Result<(), DbErr> {
    share_link::Entity::delete_many()
        .filter(share_link::Column::ImageId.eq(image))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes every link to an image of `owner`.
pub async fn delete_of_owner(db: &impl ConnectionTrait, owner: UserId) -> Result<(), DbErr> {
    share_link::Entity::delete_many()
        .filter(share_link::Column::ImageId.in_subquery(super::images::ids_of_owner(owner)))
        .exec(db)
        .await
        .map(|_| ())
}
