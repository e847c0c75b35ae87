//! `shares`: an owner lets another user see one image, until an optional expiry.

use sea_orm::entity::prelude::*;

use crate::domain::UserId;
use crate::images::ImageId;

/// A grant of one image to one user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shares")]
pub struct Model {
    /// The shared image.
    #[sea_orm(primary_key, auto_increment = false)]
    pub image_id: ImageId,
    /// Who may see it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub grantee_id: UserId,
    /// Epoch seconds.
    pub created_at: i64,
    /// When the grant ends (epoch seconds); `None` lasts until it is revoked.
    pub expires_at: Option<i64>,
}

/// Relations of `shares`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The shared image.
    #[sea_orm(
        belongs_to = "super::image::Entity",
        from = "Column::ImageId",
        to = "super::image::Column::Id",
        on_delete = "Cascade"
    )]
    Image,
    /// The grantee.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::GranteeId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    Grantee,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grantee.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
