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
