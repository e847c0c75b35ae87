//! `album_shares`: an owner lets another user see every image of one album, until an optional expiry.

use sea_orm::entity::prelude::*;

use crate::domain::UserId;
use crate::images::AlbumId;

/// A grant of one album to one user.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "album_shares")]
pub struct Model {
    /// The shared album.
    #[sea_orm(primary_key, auto_increment = false)]
    pub album_id: AlbumId,
    /// Who may see it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub grantee_id: UserId,
    /// Epoch seconds.
    pub created_at: i64,
    /// When the grant ends (epoch seconds); `None` lasts until it is revoked.
    pub expires_at: Option<i64>,
}

/// Relations of `album_shares`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
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
