//! `audit_events`: logins, logouts, failed logins, visibility changes, deletions and invalidations.

use sea_orm::entity::prelude::*;

use crate::domain::UserId;

/// One audited event.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The acting user, when known.
    pub actor_id: Option<UserId>,
    /// What happened (`login`, `logout`, `login_failed`, …).
    pub action: String,
    /// What it happened to (for logins: the case-folded email; for images: the image id or CDN path).
    pub subject: String,
    /// The client address, when known.
    pub client_addr: Option<String>,
    /// Epoch seconds.
    pub at: i64,
}

/// `audit_events` has no relations: the log outlives the accounts it mentions.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
