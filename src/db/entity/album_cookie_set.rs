//! `album_cookie_sets`: the album cookie sets minted for each session, which is what a browser holds
//! (edgepass cannot read the CloudFront cookies back: their Path keeps them away from the API).

use sea_orm::entity::prelude::*;

use crate::domain::UserId;
use crate::images::AlbumId;

/// One album's cookie set, as minted for one session.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "album_cookie_sets")]
pub struct Model {
    /// The session it was minted for.
    #[sea_orm(primary_key, auto_increment = false)]
    pub session_id: i64,
    /// The album.
    #[sea_orm(primary_key, auto_increment = false)]
    pub album_id: AlbumId,
    /// The album's owner, part of the set's Path (kept here: the album may be gone when the set is
    /// expired).
    pub owner_id: UserId,
    /// The order in which the session's sets were last minted: past the limit the lowest goes first.
    pub seq: i64,
    /// When the minted set stops working (epoch seconds).
    pub expires_at: i64,
}

/// `album_cookie_sets` has no relations that queries follow.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
