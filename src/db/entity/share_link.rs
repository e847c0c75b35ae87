//! `share_links`: an expiring, revocable link to one image; only the SHA-256 of its token is stored.

use sea_orm::entity::prelude::*;

use crate::images::ImageId;

/// A share link.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "share_links")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The image it opens.
    pub image_id: ImageId,
    /// SHA-256 of the token in the link.
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    /// Epoch seconds.
    pub created_at: i64,
    /// When the link stops working (epoch seconds).
    pub expires_at: i64,
    /// When the owner revoked it (epoch seconds), if they did.
    pub revoked_at: Option<i64>,
}

/// Relations of `share_links`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The image.
    #[sea_orm(
        belongs_to = "super::image::Entity",
        from = "Column::ImageId",
        to = "super::image::Column::Id",
        on_delete = "Cascade"
    )]
    Image,
}

impl Related<super::image::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Image.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
