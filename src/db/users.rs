//! Queries on `users`.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set, SqlErr};

use super::entity::user;
use crate::domain::{Email, UserId};

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The (case-folded) email already has an account.
    #[error("email already registered")]
    EmailTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Inserts an account and returns its id.
pub async fn create(
    db: &impl ConnectionTrait,
    email: &Email,
    password_hash: String,
    now: u64,
) -> Result<UserId, CreateUserError> {
    let row = user::ActiveModel {
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        created_at: Set(now as i64),
        ..Default::default()
    };
    match row.insert(db).await {
        Ok(model) => Ok(model.id),
        Err(error) if matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(CreateUserError::EmailTaken)
        }
        Err(error) => Err(error.into()),
    }
}

/// The account with this email, if any.
pub async fn find_by_email(db: &impl ConnectionTrait, email: &Email) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await
}

/// The account with this id, if any.
pub async fn find(db: &impl ConnectionTrait, id: UserId) -> Result<Option<user::Model>, DbErr> {
    user::Entity::find_by_id(id).one(db).await
}

/// The email addresses of the accounts `ids` that exist.
pub async fn emails_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = UserId>,
) -> Result<BTreeMap<UserId, String>, DbErr> {
    let ids: BTreeSet<UserId> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|user| (user.id, user.email)).collect())
}

/// Stores a new password hash for `id`.
pub async fn set_password_hash(
    db: &impl ConnectionTrait,
    id: UserId,
    password_hash: String,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::PasswordHash,
            sea_orm::sea_query::Expr::value(password_hash),
        )
        .filter(user::Column::Id.eq(id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Begins deleting account `id`: records when, and replaces the email with a tombstone that is no
/// address, so the email is gone from the row and can be registered again at once.
pub async fn start_delete(db: &impl ConnectionTrait, id: UserId, now: u64) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(
            user::Column::DeletingSince,
            sea_orm::sea_query::Expr::value(now as i64),
        )
        .col_expr(
            user::Column::Email,
            sea_orm::sea_query::Expr::value(format!("deleted:{}", id.0)),
        )
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::DeletingSince.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Up to `limit` accounts whose deletion began and is unfinished.
pub async fn deleting(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<UserId>, DbErr> {
    use sea_orm::{QueryOrder, QuerySelect};
    user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::DeletingSince.is_not_null())
        .order_by_asc(user::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// Removes the account row (its sessions and received grants go with it).
pub async fn delete(db: &impl ConnectionTrait, id: UserId) -> Result<(), DbErr> {
    user::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}
