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
    /// An account was created.
    Register,
    /// A successful login.
    Login,
    /// A failed login (unknown email or wrong password).
    LoginFailed,
    /// A logout.
    Logout,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::Logout => "logout",
        }
    }
}

/// Appends one event.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<UserId>,
    action: Action,
    subject: &str,
    client_addr: Option<&str>,
    now: u64,
) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        actor_id: Set(actor.map(|id| id.0)),
        action: Set(action.as_str().to_owned()),
        subject: Set(subject.to_owned()),
        client_addr: Set(client_addr.map(str::to_owned)),
        at: Set(now as i64),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Failed logins matching one key (an account or a client address) since a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failures {
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

/// Counts failed logins for `key` at or after `since`, and since the last successful login for that key.
pub async fn recent_failures(
    db: &impl ConnectionTrait,
    key: FailureKey<'_>,
    since: u64,
) -> Result<Failures, DbErr> {
    let column = match key {
        FailureKey::Account(_) => audit_event::Column::Subject,
        FailureKey::Client(_) => audit_event::Column::ClientAddr,
    };
    let value = match key {
        FailureKey::Account(v) | FailureKey::Client(v) => v.to_owned(),
    };
    // A successful login clears the account's earlier failures; a client's failures stay counted, so one
    // correct password does not open a window for guessing at other accounts.
    let mut since = since as i64;
    if let FailureKey::Account(_) = key {
        let last_success: Option<i64> = audit_event::Entity::find()
            .select_only()
            .column(audit_event::Column::At)
            .filter(audit_event::Column::Action.eq(Action::Login.as_str()))
            .filter(column.eq(value.clone()))
            .filter(audit_event::Column::At.gte(since))
            .order_by_desc(audit_event::Column::At)
            .into_tuple()
            .one(db)
            .await?;
        if let Some(at) = last_success {
            since = at + 1;
        }
    }
    let failures = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(Action::LoginFailed.as_str()))
        .filter(column.eq(value))
        .filter(audit_event::Column::At.gte(since));
    let count = failures.clone().count(db).await?;
    let oldest_at: Option<i64> = failures
        .select_only()
        .column(audit_event::Column::At)
        .order_by_asc(audit_event::Column::At)
        .into_tuple()
        .one(db)
        .await?;
    Ok(Failures {
        count,
        oldest_at: oldest_at.map(|t| t as u64),
    })
}
