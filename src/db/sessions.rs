//! Queries on `sessions`.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    sea_query::Expr,
};

use super::entity::{session, user};
use crate::domain::UserId;

/// Stores a new session, signed in from `client` (a label for its holder).
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: UserId,
    token_hash: &[u8],
    now: u64,
    ttl_secs: u64,
    client: Option<&str>,
) -> Result<(), DbErr> {
    session::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token_hash.to_vec()),
        created_at: Set(now as i64),
        expires_at: Set(now.saturating_add(ttl_secs) as i64),
        last_seen_at: Set(now as i64),
        cdn_expires_at: Set(None),
        album_sets: Set(false),
        client: Set(client.map(str::to_owned)),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// The unexpired session with this token hash, and its user.
pub async fn find_active(
    db: &impl ConnectionTrait,
    token_hash: &[u8],
    now: u64,
) -> Result<Option<(session::Model, user::Model)>, DbErr> {
    find_with_user(db, token_hash, Some(now)).await
}

/// The session with this token hash, expired or not, and its user (logout clears cookies either way).
pub async fn find_any(
    db: &impl ConnectionTrait,
    token_hash: &[u8],
) -> Result<Option<(session::Model, user::Model)>, DbErr> {
    find_with_user(db, token_hash, None).await
}

async fn find_with_user(
    db: &impl ConnectionTrait,
    token_hash: &[u8],
    unexpired_at: Option<u64>,
) -> Result<Option<(session::Model, user::Model)>, DbErr> {
    let mut query = session::Entity::find().filter(session::Column::TokenHash.eq(token_hash.to_vec()));
    if let Some(now) = unexpired_at {
        query = query.filter(session::Column::ExpiresAt.gt(now as i64));
    }
    let found = query.find_also_related(user::Entity).one(db).await?;
    Ok(found.and_then(|(session, user)| user.map(|user| (session, user))))
}

/// Pushes the expiry `ttl_secs` past `now` (sliding renewal).
pub async fn renew(db: &impl ConnectionTrait, id: i64, now: u64, ttl_secs: u64) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now as i64))
        .col_expr(
            session::Column::ExpiresAt,
            Expr::value(now.saturating_add(ttl_secs) as i64),
        )
        .filter(session::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records when the CloudFront cookies just minted for the session expire.
pub async fn set_cdn_expiry(
    db: &impl ConnectionTrait,
    token_hash: &[u8],
    expires_at: u64,
) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::CdnExpiresAt, Expr::value(expires_at as i64))
        .filter(session::Column::TokenHash.eq(token_hash.to_vec()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Records that an album cookie set was minted for the session with this token hash.
pub async fn note_album_sets(db: &impl ConnectionTrait, token_hash: &[u8]) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::AlbumSets, Expr::value(true))
        .filter(session::Column::TokenHash.eq(token_hash.to_vec()))
        .exec(db)
        .await
        .map(|_| ())
}

/// Deletes the session with this token hash; returns whether one existed.
pub async fn delete_by_hash(db: &impl ConnectionTrait, token_hash: &[u8]) -> Result<bool, DbErr> {
    let result = session::Entity::delete_many()
        .filter(session::Column::TokenHash.eq(token_hash.to_vec()))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// Deletes sessions that expired before `now`; returns how many.
pub async fn delete_expired(db: &impl ConnectionTrait, now: u64) -> Result<u64, DbErr> {
    let result = session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now as i64))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The unexpired sessions of `user`, most recently seen first.
pub async fn list_active(
    db: &impl ConnectionTrait,
    user: UserId,
    now: u64,
) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user))
        .filter(session::Column::ExpiresAt.gt(now as i64))
        .order_by_desc(session::Column::LastSeenAt)
        .order_by_desc(session::Column::Id)
        .all(db)
        .await
}

/// Deletes `user`'s sessions (all of them, or one by id), except the one with `keep` as token hash;
/// returns the token hashes deleted, for the other instances to forget.
pub async fn delete_of_user(
    db: &impl ConnectionTrait,
    user: UserId,
    only: Option<i64>,
    keep: Option<&[u8]>,
) -> Result<Vec<Vec<u8>>, DbErr> {
    let mut query = session::Entity::find().filter(session::Column::UserId.eq(user));
    if let Some(id) = only {
        query = query.filter(session::Column::Id.eq(id));
    }
    if let Some(keep) = keep {
        query = query.filter(session::Column::TokenHash.ne(keep.to_vec()));
    }
    let doomed: Vec<session::Model> = query.all(db).await?;
    if doomed.is_empty() {
        return Ok(Vec::new());
    }
    session::Entity::delete_many()
        .filter(session::Column::Id.is_in(doomed.iter().map(|s| s.id)))
        .exec(db)
        .await?;
    Ok(doomed.into_iter().map(|s| s.token_hash).collect())
}

/// Gives the session with token hash `old` the token hash `new` (a fresh token after a password change).
pub async fn replace_token(db: &impl ConnectionTrait, old: &[u8], new: &[u8]) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::TokenHash, Expr::value(new.to_vec()))
        .filter(session::Column::TokenHash.eq(old.to_vec()))
        .exec(db)
        .await
        .map(|_| ())
}
