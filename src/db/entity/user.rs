//! `users`: one row per account.

use sea_orm::entity::prelude::*;

use crate::domain::UserId;

/// An account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// The user id (also the CDN prefix `users/{id}/`).
    #[sea_orm(primary_key)]
    pub id: UserId,
    /// Case-folded email address, unique.
    #[sea_orm(unique)]
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Epoch seconds.
    pub created_at: i64,
    /// When the account's deletion began (epoch seconds); the email is a tombstone from then on.
    pub deleting_since: Option<i64>,
}

/// Relations of `users`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// A user's sessions.
    #[sea_orm(has_many = "super::session::Entity")]
    Sessions,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
