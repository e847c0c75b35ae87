//! Everything stored about one account, read for its holder's export.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

use super::entity::{album, album_share, image, session, share, share_link, user};
use crate::domain::UserId;

/// The rows of one account (share-link token hashes are left to the caller not to show).
#[derive(Clone, Debug)]
pub struct AccountData {
    /// The account.
    pub user: user::Model,
    /// Its images, whatever their state, oldest first.
    pub images: Vec<image::Model>,
    /// Its albums.
    pub albums: Vec<album::Model>,
    /// Grants of its images to others.
    pub shares_given: Vec<share::Model>,
    /// Grants of others' images to it.
    pub shares_received: Vec<share::Model>,
    /// Grants of its albums to others.
    pub album_shares_given: Vec<album_share::Model>,
    /// Grants of others' albums to it.
    pub album_shares_received: Vec<album_share::Model>,
    /// Links to its images.
    pub links: Vec<share_link::Model>,
    /// Its sessions.
    pub sessions: Vec<session::Model>,
    /// The owners of the images and albums shared with it, by image and album id.
    pub owners: Vec<(String, UserId)>,
}

/// Reads everything stored about account `id`; `None` when there is no such account.
pub async fn read(db: &impl ConnectionTrait, id: UserId) -> Result<Option<AccountData>, DbErr> {
    let Some(user) = user::Entity::find_by_id(id).one(db).await? else {
        return Ok(None);
    };
    let shares_received = share::Entity::find()
        .filter(share::Column::GranteeId.eq(id))
        .all(db)
        .await?;
    let album_shares_received = album_share::Entity::find()
        .filter(album_share::Column::GranteeId.eq(id))
        .all(db)
        .await?;
    let mut owners = Vec::new();
    for image in image::Entity::find()
        .filter(image::Column::Id.is_in(shares_received.iter().map(|s| s.image_id.clone())))
        .all(db)
        .await?
    {
        owners.push((image.id.as_str().to_owned(), image.owner_id));
    }
    for album in album::Entity::find()
        .filter(album::Column::Id.is_in(album_shares_received.iter().map(|s| s.album_id.clone())))
        .all(db)
        .await?
    {
        owners.push((album.id.as_str().to_owned(), album.owner_id));
    }
    Ok(Some(AccountData {
        images: image::Entity::find()
            .filter(image::Column::OwnerId.eq(id))
            .order_by_asc(image::Column::CreatedAt)
            .order_by_asc(image::Column::Id)
            .all(db)
            .await?,
        albums: album::Entity::find()
            .filter(album::Column::OwnerId.eq(id))
            .order_by_asc(album::Column::CreatedAt)
            .all(db)
            .await?,
        shares_given: share::Entity::find()
            .filter(share::Column::ImageId.in_subquery(super::images::ids_of_owner(id)))
            .all(db)
            .await?,
        album_shares_given: album_share::Entity::find()
            .filter(album_share::Column::AlbumId.in_subquery(super::albums::ids_of_owner(id)))
            .all(db)
            .await?,
        links: share_link::Entity::find()
            .filter(share_link::Column::ImageId.in_subquery(super::images::ids_of_owner(id)))
            .order_by_asc(share_link::Column::Id)
            .all(db)
            .await?,
        sessions: session::Entity::find()
            .filter(session::Column::UserId.eq(id))
            .order_by_asc(session::Column::Id)
            .all(db)
            .await?,
        shares_received,
        album_shares_received,
        owners,
        user,
    }))
}
