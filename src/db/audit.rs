//! Queries on `audit_events`, including the counts login throttling needs.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entity::audit_event;
use crate::domain::UserId;

/// Audited actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// An account was created (subject: the email). While one is being made, a provisional event
    /// without an actor stands for it, so that registration throttling counts it.
    Register,
    /// A successful login.
    Login,
    /// A failed login (unknown email or wrong password), or one being checked.
    LoginFailed,
    /// A logout.
    Logout,
    /// An image was moved to its public key (subject: the image id).
    ImageMadePublic,
    /// An image was moved back to its private key (subject: the image id).
    ImageMadePrivate,
    /// An image and its objects were deleted (subject: the image id).
    ImageDeleted,
    /// CloudFront was asked to drop cached copies (subject: the path).
    InvalidationRequested,
    /// An image was shared with a user, or a grant's expiry changed (subject: `{image}/{grantee}`).
    Share,
    /// A grant was revoked (subject: `{image}/{grantee}`).
    Unshare,
    /// A share link was created (subject: `{image}/links/{link}`).
    LinkCreated,
    /// A share link was revoked (subject: `{image}/links/{link}`).
    LinkRevoked,
    /// A share link was followed to a signed URL (subject: `{image}/links/{link}`).
    LinkUsed,
    /// An album was created (subject: the album id).
    AlbumCreated,
    /// An album was deleted (subject: the album id).
    AlbumDeleted,
    /// An image's object moved into an album, out of one, or between two (subject: the image id).
    ImageMoved,
    /// The account's password was changed (subject: the user id).
    PasswordChanged,
    /// The holder ended sessions of their account (subject: how many).
    SessionsEnded,
    /// The holder deleted their account (subject: `user:{id}`).
    AccountDeleted,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::Logout => "logout",
            Self::ImageMadePublic => "image_made_public",
            Self::ImageMadePrivate => "image_made_private",
            Self::ImageDeleted => "image_deleted",
            Self::InvalidationRequested => "invalidation_requested",
            Self::Share => "share",
            Self::Unshare => "unshare",
            Self::LinkCreated => "link_created",
            Self::LinkRevoked => "link_revoked",
            Self::LinkUsed => "link_used",
            Self::AlbumCreated => "album_created",
            Self::AlbumDeleted => "album_deleted",
            Self::ImageMoved => "image_moved",
            Self::PasswordChanged => "password_changed",
            Self::SessionsEnded => "sessions_ended",
            Self::AccountDeleted => "account_deleted",
        }
    }
}

/// Appends one event and returns its id.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<UserId>,
    action: Action,
    subject: &str,
    client_addr: Option<&str>,
    now: u64,
) -> Result<i64, DbErr> {
    audit_event::ActiveModel {
        actor_id: Set(actor),
        action: Set(action.as_str().to_owned()),
        subject: Set(subject.to_owned()),
        client_addr: Set(client_addr.map(str::to_owned)),
        at: Set(now as i64),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|row| row.id)
}

/// Removes one event (a provisional failure that turned out not to be one).
pub async fn delete(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    audit_event::Entity::delete_by_id(id).exec(db).await.map(|_| ())
}

/// Events matching one key (failed logins of an account, or one client's failed logins or
/// registrations) within a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recent {
    /// How many.
    pub count: u64,
    /// When the oldest of them happened (epoch seconds), if any.
    pub oldest_at: Option<u64>,
}

/// Which failures to count.
#[derive(Clone, Copy, Debug)]
pub enum FailureKey<'a> {
    /// Failed logins for this (case-folded) email.
    Account(&'a str),
    /// Failed logins from this client address.
    Client(&'a str),
}

/// Counts failed logins for `key` later than `after` (epoch seconds, exclusive).
///
/// For an account only failures recorded after its last successful login count (by event order, so a
/// failure in the same second as that login still counts); a client's failures stay counted, so one
/// correct password does not open a window for guessing at other accounts.
pub async fn recent_failures(
    db: &impl ConnectionTrait,
    key: FailureKey<'_>,
    after: u64,
) -> Result<Recent, DbErr> {
    let (column, value) = match key {
        FailureKey::Account(email) => (audit_event::Column::Subject, email.to_owned()),
        FailureKey::Client(addr) => (audit_event::Column::ClientAddr, addr.to_owned()),
    };
    let mut failures = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(Action::LoginFailed.as_str()))
        .filter(column.eq(value.clone()))
        .filter(audit_event::Column::At.gt(after as i64));
    if let FailureKey::Account(_) = key {
        let last_success: Option<i64> = audit_event::Entity::find()
            .select_only()
            .column(audit_event::Column::Id)
            .filter(audit_event::Column::Action.eq(Action::Login.as_str()))
            .filter(column.eq(value))
            .filter(audit_event::Column::At.gt(after as i64))
            .order_by_desc(audit_event::Column::Id)
            .into_tuple()
            .one(db)
            .await?;
        if let Some(id) = last_success {
            failures = failures.filter(audit_event::Column::Id.gt(id));
        }
    }
    count_and_oldest(db, failures).await
}

/// Counts `action` events from client address `client` later than `after` (epoch seconds, exclusive).
pub async fn recent_from_client(
    db: &impl ConnectionTrait,
    action: Action,
    client: &str,
    after: u64,
) -> Result<Recent, DbErr> {
    let events = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action.as_str()))
        .filter(audit_event::Column::ClientAddr.eq(client))
        .filter(audit_event::Column::At.gt(after as i64));
    count_and_oldest(db, events).await
}

async fn count_and_oldest(
    db: &impl ConnectionTrait,
    events: sea_orm::Select<audit_event::Entity>,
) -> Result<Recent, DbErr> {
    let count = events.clone().count(db).await?;
    let oldest_at: Option<i64> = events
        .select_only()
        .column(audit_event::Column::At)
        .order_by_asc(audit_event::Column::At)
        .into_tuple()
        .one(db)
        .await?;
    Ok(Recent {
        count,
        oldest_at: oldest_at.map(|t| t as u64),
    })
}

/// Replaces `email` wherever it is an event's subject (sign-ins, sign-outs, failed logins,
/// registrations) with `user:{id}`, so the log keeps the events of a deleted account but not its
/// address.
pub async fn forget_email(db: &impl ConnectionTrait, user: UserId, email: &str) -> Result<(), DbErr> {
    audit_event::Entity::update_many()
        .col_expr(
            audit_event::Column::Subject,
            sea_orm::sea_query::Expr::value(format!("user:{}", user.0)),
        )
        .filter(audit_event::Column::Subject.eq(email))
        .exec(db)
        .await
        .map(|_| ())
}
