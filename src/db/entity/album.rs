//! `albums`: an owner's named group of images, shared as a whole.

use sea_orm::entity::prelude::*;

use crate::domain::UserId;
use crate::images::AlbumId;

/// An album.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "albums")]
pub struct Model {
    /// The random album id (26 base32 characters).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: AlbumId,
    /// The owner.
    pub owner_id: UserId,
    /// The owner's name for it, for display only.
    pub name: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// When the owner deleted it (epoch seconds): from then on it is gone for everyone, while the job
    /// that empties it finishes.
    pub deleting_since: Option<i64>,
    /// Whether that job deletes the album's images (or moves them back to the owner's root).
    pub delete_images: bool,
}

/// Relations of `albums`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The owner.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::OwnerId",
        to = "super::user::Column::Id",
        on_delete = "Restrict"
    )]
    Owner,
}

impl ActiveModelBehavior for ActiveModel {}
