//! Queries on `albums`, `album_shares` and `album_cookie_sets`. Reads on behalf of a user filter by
//! owner or by a grant that counts at the time of the request, so another user's album id finds nothing;
//! an album being deleted is found by nobody.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::{album, album_cookie_set, album_share, user};
use crate::domain::UserId;
use crate::images::AlbumId;

/// Stores a new album.
pub async fn create(
    db: &impl ConnectionTrait,
    id: &AlbumId,
    owner: UserId,
    name: &str,
    now: u64,
) -> Result<album::Model, DbErr> {
    album::ActiveModel {
        id: Set(id.clone()),
        owner_id: Set(owner),
        name: Set(name.to_owned()),
        created_at: Set(now as i64),
        deleting_since: Set(None),
        delete_images: Set(false),
    }
    .insert(db)
    .await
}

/// The album `id`, unless it is being deleted.
pub async fn find_live(db: &impl ConnectionTrait, id: &AlbumId) -> Result<Option<album::Model>, DbErr> {
    album::Entity::find_by_id(id.clone())
        .filter(album::Column::DeletingSince.is_null())
        .one(db)
        .await
}

/// The owner's album `id`, unless it is being deleted.
pub async fn find_owned(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: &AlbumId,
) -> Result<Option<album::Model>, DbErr> {
    Ok(find_live(db, id).await?.filter(|album| album.owner_id == owner))
}

/// A grant that counts at `now`.
fn counts_at(now: u64) -> Condition {
    Condition::any()
        .add(album_share::Column::ExpiresAt.is_null())
        .add(album_share::Column::ExpiresAt.gt(now as i64))
}

/// The grant of `album` to `grantee` that counts at `now`, if any.
pub async fn live_grant(
    db: &impl ConnectionTrait,
    album: &AlbumId,
    grantee: UserId,
    now: u64,
) -> Result<Option<album_share::Model>, DbErr> {
    album_share::Entity::find_by_id((album.clone(), grantee))
        .filter(counts_at(now))
        .one(db)
        .await
}

/// How many albums `owner` has, those being deleted included.
pub async fn count_owned(db: &impl ConnectionTrait, owner: UserId) -> Result<u64, DbErr> {
    album::Entity::find()
        .filter(album::Column::OwnerId.eq(owner))
        .count(db)
        .await
}

/// The caller's albums, oldest first.
pub async fn list_owned(db: &impl ConnectionTrait, owner: UserId) -> Result<Vec<album::Model>, DbErr> {
    album::Entity::find()
        .filter(album::Column::OwnerId.eq(owner))
        .filter(album::Column::DeletingSince.is_null())
        .order_by_asc(album::Column::CreatedAt)
        .order_by_asc(album::Column::Id)
        .all(db)
        .await
}

/// Albums shared with `grantee` by grants that count at `now`, with their grants, oldest grant first
/// (grants of the same second by album id).
pub async fn list_shared_with(
    db: &impl ConnectionTrait,
    grantee: UserId,
    now: u64,
) -> Result<Vec<(album_share::Model, album::Model)>, DbErr> {
    let grants = album_share::Entity::find()
        .filter(album_share::Column::GranteeId.eq(grantee))
        .filter(counts_at(now))
        .order_by_asc(album_share::Column::CreatedAt)
        .order_by_asc(album_share::Column::AlbumId)
        .all(db)
        .await?;
    let ids: Vec<AlbumId> = grants.iter().map(|g| g.album_id.clone()).collect();
    let albums = album::Entity::find()
        .filter(album::Column::Id.is_in(&ids))
        .filter(album::Column::DeletingSince.is_null())
        .filter(album::Column::OwnerId.ne(grantee))
        .all(db)
        .await?;
    Ok(grants
        .into_iter()
        .filter_map(|grant| {
            let album = albums.iter().find(|a| a.id == grant.album_id)?.clone();
            Some((grant, album))
        })
        .collect())
}

/// Renames the album.
pub async fn rename(db: &impl ConnectionTrait, id: &AlbumId, name: &str) -> Result<(), DbErr> {
    album::Entity::update_many()
        .col_expr(album::Column::Name, Expr::value(name))
        .filter(album::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Marks the album as being deleted (with its images, or not); false when it already was.
pub async fn start_delete(
    db: &impl ConnectionTrait,
    id: &AlbumId,
    delete_images: bool,
    now: u64,
) -> Result<bool, DbErr> {
    let result = album::Entity::update_many()
        .col_expr(album::Column::DeletingSince, Expr::value(now as i64))
        .col_expr(album::Column::DeleteImages, Expr::value(delete_images))
        .filter(album::Column::Id.eq(id))
        .filter(album::Column::DeletingSince.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// The owner's album `id` that is being deleted, if it is.
pub async fn find_deleting(
    db: &impl ConnectionTrait,
    owner: UserId,
    id: &AlbumId,
) -> Result<Option<album::Model>, DbErr> {
    album::Entity::find_by_id(id.clone())
        .filter(album::Column::OwnerId.eq(owner))
        .filter(album::Column::DeletingSince.is_not_null())
        .one(db)
        .await
}

/// Up to `limit` albums being deleted (the sweeper finishes them).
pub async fn deleting(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<album::Model>, DbErr> {
    album::Entity::find()
        .filter(album::Column::DeletingSince.is_not_null())
        .order_by_asc(album::Column::DeletingSince)
        .limit(limit)
        .all(db)
        .await
}

/// Removes the album row (its shares go with it).
pub async fn delete(db: &impl ConnectionTrait, id: &AlbumId) -> Result<(), DbErr> {
    revoke_all(db, id).await?;
    album::Entity::delete_by_id(id.clone()).exec(db).await.map(|_| ())
}

/// Grants `album` to `grantee` until `expires_at` (none: until revoked); granting again replaces the
/// expiry and keeps the original creation time.
pub async fn grant(
    db: &impl ConnectionTrait,
    album: &AlbumId,
    grantee: UserId,
    now: u64,
    expires_at: Option<u64>,
) -> Result<album_share::Model, DbErr> {
    album_share::Entity::insert(album_share::ActiveModel {
        album_id: Set(album.clone()),
        grantee_id: Set(grantee),
        created_at: Set(now as i64),
        expires_at: Set(expires_at.map(|t| t as i64)),
    })
    .on_conflict(
        OnConflict::columns([album_share::Column::AlbumId, album_share::Column::GranteeId])
            .update_column(album_share::Column::ExpiresAt)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    album_share::Entity::find_by_id((album.clone(), grantee))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the album grant just written".to_owned()))
}

/// Revokes the grant of `album` to `grantee`; false when there was none.
pub async fn revoke(db: &impl ConnectionTrait, album: &AlbumId, grantee: UserId) -> Result<bool, DbErr> {
    let result = album_share::Entity::delete_many()
        .filter(album_share::Column::AlbumId.eq(album))
        .filter(album_share::Column::GranteeId.eq(grantee))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Removes every grant of `album`.
pub async fn revoke_all(db: &impl ConnectionTrait, album: &AlbumId) -> Result<(), DbErr> {
    album_share::Entity::delete_many()
        .filter(album_share::Column::AlbumId.eq(album))
        .exec(db)
        .await
        .map(|_| ())
}

/// Every grant of `album` with its grantee, oldest first (expired ones included, so the owner sees
/// them).
pub async fn grants_of(
    db: &impl ConnectionTrait,
    album: &AlbumId,
) -> Result<Vec<(album_share::Model, user::Model)>, DbErr> {
    let rows = album_share::Entity::find()
        .find_also_related(user::Entity)
        .filter(album_share::Column::AlbumId.eq(album))
        .order_by_asc(album_share::Column::CreatedAt)
        .order_by_asc(album_share::Column::GranteeId)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(grant, user)| user.map(|user| (grant, user)))
        .collect())
}

/// A set just minted for a session.
#[derive(Clone, Copy, Debug)]
pub struct MintedSet<'a> {
    /// The session.
    pub session: i64,
    /// The album.
    pub album: &'a AlbumId,
    /// The album's owner.
    pub owner: UserId,
    /// Its place among the session's mints (one more than the latest).
    pub seq: i64,
    /// When it stops working (epoch seconds).
    pub expires_at: u64,
}

/// Records that a session holds an album's set (minting it again moves it to the end).
pub async fn note_cookie_set(db: &impl ConnectionTrait, set: MintedSet<'_>) -> Result<(), DbErr> {
    album_cookie_set::Entity::insert(album_cookie_set::ActiveModel {
        session_id: Set(set.session),
        album_id: Set(set.album.clone()),
        owner_id: Set(set.owner),
        seq: Set(set.seq),
        expires_at: Set(set.expires_at as i64),
    })
    .on_conflict(
        OnConflict::columns([
            album_cookie_set::Column::SessionId,
            album_cookie_set::Column::AlbumId,
        ])
        .update_columns([album_cookie_set::Column::Seq, album_cookie_set::Column::ExpiresAt])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

/// The album cookie sets minted for `session` that have not expired at `now`, minted least recently
/// first.
pub async fn cookie_sets(
    db: &impl ConnectionTrait,
    session: i64,
    now: u64,
) -> Result<Vec<album_cookie_set::Model>, DbErr> {
    album_cookie_set::Entity::find()
        .filter(album_cookie_set::Column::SessionId.eq(session))
        .filter(album_cookie_set::Column::ExpiresAt.gt(now as i64))
        .order_by_asc(album_cookie_set::Column::Seq)
        .order_by_asc(album_cookie_set::Column::AlbumId)
        .all(db)
        .await
}

/// Forgets `session`'s set for `album` (it was expired in the browser), and any of its sets that
/// have run out by `now`.
pub async fn forget_cookie_set(
    db: &impl ConnectionTrait,
    session: i64,
    album: &AlbumId,
    now: u64,
) -> Result<(), DbErr> {
    album_cookie_set::Entity::delete_many()
        .filter(album_cookie_set::Column::SessionId.eq(session))
        .filter(
            Condition::any()
                .add(album_cookie_set::Column::AlbumId.eq(album))
                .add(album_cookie_set::Column::ExpiresAt.lte(now as i64)),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// Ends every album grant `grantee` received.
pub async fn revoke_received(db: &impl ConnectionTrait, grantee: UserId) -> Result<(), DbErr> {
    album_share::Entity::delete_many()
        .filter(album_share::Column::GranteeId.eq(grantee))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes every album of `owner` (with their grants), once none holds an image.
pub async fn delete_owned(db: &impl ConnectionTrait, owner: UserId) -> Result<(), DbErr> {
    let owned: Vec<AlbumId> = album::Entity::find()
        .filter(album::Column::OwnerId.eq(owner))
        .all(db)
        .await?
        .into_iter()
        .map(|album| album.id)
        .collect();
    if owned.is_empty() {
        return Ok(());
    }
    album_share::Entity::delete_many()
        .filter(album_share::Column::AlbumId.is_in(owned.clone()))
        .exec(db)
        .await?;
    album::Entity::delete_many()
        .filter(album::Column::Id.is_in(owned))
        .exec(db)
        .await
        .map(|_| ())
}

/// Ends every grant of an album of `owner`.
pub async fn revoke_given(db: &impl ConnectionTrait, owner: UserId) -> Result<(), DbErr> {
    album_share::Entity::delete_many()
        .filter(album_share::Column::AlbumId.in_subquery(ids_of_owner(owner)))
        .exec(db)
        .await
        .map(|_| ())
}

/// The ids of `owner`'s albums, as a subquery.
pub fn ids_of_owner(owner: UserId) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(album::Column::Id)
        .from(album::Entity)
        .and_where(album::Column::OwnerId.eq(owner))
        .to_owned()
}
