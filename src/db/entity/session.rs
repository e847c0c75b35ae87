//! `sessions`: a signed-in browser; only the SHA-256 of its token is stored.

use sea_orm::entity::prelude::*;

use crate::domain::UserId;

/// A session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whose session.
    pub user_id: UserId,
    /// SHA-256 of the cookie token.
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds; pushed ahead on use.
    pub expires_at: i64,
    /// Epoch seconds of the last renewal.
    pub last_seen_at: i64,
    /// When the CloudFront cookies last minted for this session expire (epoch seconds).
    pub cdn_expires_at: Option<i64>,
    /// Whether an album cookie set was ever minted for this session.
    pub album_sets: bool,
    /// The client it signed in from (its `User-Agent`, cut short), for the account holder's list.
    pub client: Option<String>,
}

/// Relations of `sessions`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The session's user.
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
