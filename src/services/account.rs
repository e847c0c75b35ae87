//! The signed-in holder's own account: changing the password, the sessions signed in to it (list, end
//! one, end all others), an export of everything stored about it, and deleting the account.
//!
//! A session that is ended is announced to every instance in the transaction that deletes it, as a
//! logout is, so no instance keeps answering for it from its cache.

use std::collections::BTreeMap;

use sea_orm::{DatabaseTransaction, TransactionTrait};

use crate::app::AppState;
use crate::auth::{AuthUser, session, throttle};
use crate::db;
use crate::db::account_data::AccountData;
use crate::db::audit::{self, Action};
use crate::db::entity::session as session_row;
use crate::domain::{InvalidInput, Password, UserId};

use super::accounts::Client;
use super::error::{ServiceError, ServiceResult};
use super::images::lifecycle_services;
use crate::images::account_deletion;
use crate::telemetry::Causes;

/// One session of the account, as its holder sees it.
#[derive(Clone, Debug)]
pub struct SessionEntry {
    /// The row.
    pub session: session_row::Model,
    /// Whether it is the session making the request.
    pub current: bool,
}

/// Changes the password of `holder`'s account after checking `current` under the login rules (a
/// wrong password counts as a failed login, and repeated failures are throttled alike). Every other
/// session of the account ends; the current one gets a new token, returned for its cookie.
pub async fn change_password(
    state: &AppState,
    holder: &AuthUser,
    current: &str,
    new: Password,
    client: Client,
) -> ServiceResult<String> {
    let now = state.now();
    let client_label = client.label();
    let attempt = check_password(state, holder, current, client_label.as_deref()).await?;
    let hash = state.passwords.hash(&new).await?;
    let token = session::new_token().map_err(ServiceError::internal)?;
    let txn = state.db.begin().await?;
    attempt.succeeded(&txn).await?;
    db::users::set_password_hash(&txn, holder.id, hash).await?;
    let mut ended = db::sessions::delete_of_user(&txn, holder.id, None, Some(&holder.session_hash)).await?;
    db::sessions::replace_token(&txn, &holder.session_hash, &token.hash).await?;
    ended.push(holder.session_hash.to_vec());
    audit::record(
        &txn,
        Some(holder.id),
        Action::PasswordChanged,
        &holder.id.0.to_string(),
        client_label.as_deref(),
        now,
    )
    .await?;
    announce_ended(state, txn, &ended).await?;
    Ok(token.cookie_value)
}

/// Checks `password` against `holder`'s under the login rules: a wrong one counts as a failed login
/// (401), and repeated failures are throttled alike (429). The attempt returned is still a failure
/// until the caller records it as a success in the transaction of the change.
async fn check_password(
    state: &AppState,
    holder: &AuthUser,
    password: &str,
    client_label: Option<&str>,
) -> ServiceResult<throttle::Attempt> {
    // As at sign-in: no password longer than any account may have is hashed.
    if password.len() > Password::MAX_BYTES {
        return Err(InvalidInput {
            field: "password",
            reason: format!("must be at most {} bytes", Password::MAX_BYTES),
        }
        .into());
    }
    let attempt = match throttle::begin(
        &state.db,
        &state.config.limits,
        holder.email.as_str(),
        client_label,
        state.now(),
    )
    .await?
    {
        Ok(attempt) => attempt,
        Err(throttle::Throttled { retry_after_secs }) => {
            return Err(ServiceError::Throttled { retry_after_secs });
        }
    };
    let account = db::users::find(&state.db, holder.id).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    if !state.passwords.verify(password, stored).await? {
        attempt.failed();
        return Err(ServiceError::InvalidCredentials);
    }
    Ok(attempt)
}

/// How far a deletion got in the request that asked for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// Nothing of the account is left.
    Done,
    /// The account is gone for everyone; some objects are still to be deleted, which the sweep
    /// finishes.
    Continuing,
}

/// Deletes `holder`'s account after checking `password` as [`change_password`] does. At once, in one
/// transaction: the email becomes a tombstone (so it can be registered again, as a new account) and
/// leaves the audit log, which keeps the events under the user id; every session ends; the grants
/// given and received, and the links to the account's images, end. Then every object and row of the account goes,
/// each image under its lease, public copies invalidated ([`account_deletion`]); what a failing store
/// leaves, the sweep finishes.
pub async fn delete_account(
    state: &AppState,
    holder: &AuthUser,
    password: &str,
    client: Client,
) -> ServiceResult<Deletion> {
    let now = state.now();
    let client_label = client.label();
    let attempt = check_password(state, holder, password, client_label.as_deref()).await?;
    let txn = state.db.begin().await?;
    attempt.succeeded(&txn).await?;
    db::users::start_delete(&txn, holder.id, now).await?;
    audit::forget_email(&txn, holder.id, holder.email.as_str()).await?;
    let ended = db::sessions::delete_of_user(&txn, holder.id, None, None).await?;
    db::shares::revoke_received(&txn, holder.id).await?;
    db::shares::revoke_given(&txn, holder.id).await?;
    db::albums::revoke_received(&txn, holder.id).await?;
    db::albums::revoke_given(&txn, holder.id).await?;
    db::share_links::delete_of_owner(&txn, holder.id).await?;
    audit::record(
        &txn,
        Some(holder.id),
        Action::AccountDeleted,
        &format!("user:{}", holder.id.0),
        client_label.as_deref(),
        now,
    )
    .await?;
    announce_ended(state, txn, &ended).await?;
    match account_deletion::finish(lifecycle_services(state), holder.id, now).await {
        Ok(true) => Ok(Deletion::Done),
        Ok(false) => Ok(Deletion::Continuing),
        Err(error) => {
            tracing::warn!(
                user = holder.id.0,
                error = %Causes(&error),
                "an account deletion stopped short; the sweep finishes it"
            );
            Ok(Deletion::Continuing)
        }
    }
}

/// Everything stored about an account, with the addresses of the other accounts it names.
#[derive(Clone, Debug)]
pub struct Export {
    /// The rows.
    pub data: AccountData,
    /// The email of each other account the rows name (grantees, owners of what was shared with it).
    pub emails: BTreeMap<UserId, String>,
    /// The session making the request.
    pub current_session: i64,
}

/// Everything stored about `holder`'s account, for its holder (their right of access).
pub async fn export(state: &AppState, holder: &AuthUser) -> ServiceResult<Export> {
    let data = db::account_data::read(&state.db, holder.id)
        .await?
        .ok_or(ServiceError::Unauthorized)?;
    let others = data
        .shares_given
        .iter()
        .map(|s| s.grantee_id)
        .chain(data.album_shares_given.iter().map(|s| s.grantee_id))
        .chain(data.owners.iter().map(|(_, owner)| *owner));
    let emails = db::users::emails_of(&state.db, others).await?;
    Ok(Export {
        data,
        emails,
        current_session: holder.session_id,
    })
}

/// The unexpired sessions of `holder`'s account, most recently seen first.
pub async fn sessions(state: &AppState, holder: &AuthUser) -> ServiceResult<Vec<SessionEntry>> {
    let rows = db::sessions::list_active(&state.db, holder.id, state.now()).await?;
    Ok(rows
        .into_iter()
        .map(|session| SessionEntry {
            current: session.id == holder.session_id,
            session,
        })
        .collect())
}

/// Ends the session `id` of `holder`'s account (which may be the current one); another account's
/// session, like one that does not exist, is not found.
pub async fn end_session(state: &AppState, holder: &AuthUser, id: i64, client: Client) -> ServiceResult<()> {
    let txn = state.db.begin().await?;
    let ended = db::sessions::delete_of_user(&txn, holder.id, Some(id), None).await?;
    if ended.is_empty() {
        txn.rollback().await?;
        return Err(ServiceError::NotFound);
    }
    record_ended(state, &txn, holder, ended.len(), &client).await?;
    announce_ended(state, txn, &ended).await
}

/// Ends every session of `holder`'s account but the current one; returns how many ended.
pub async fn end_other_sessions(state: &AppState, holder: &AuthUser, client: Client) -> ServiceResult<usize> {
    let txn = state.db.begin().await?;
    let ended = db::sessions::delete_of_user(&txn, holder.id, None, Some(&holder.session_hash)).await?;
    if !ended.is_empty() {
        record_ended(state, &txn, holder, ended.len(), &client).await?;
    }
    let count = ended.len();
    announce_ended(state, txn, &ended).await?;
    Ok(count)
}

async fn record_ended(
    state: &AppState,
    txn: &DatabaseTransaction,
    holder: &AuthUser,
    count: usize,
    client: &Client,
) -> ServiceResult<()> {
    let client_label = client.label();
    audit::record(
        txn,
        Some(holder.id),
        Action::SessionsEnded,
        &count.to_string(),
        client_label.as_deref(),
        state.now(),
    )
    .await?;
    Ok(())
}

/// Announces the end of the sessions `ended` (token hashes) to every instance in `txn`, commits, and
/// forgets them here.
async fn announce_ended(state: &AppState, txn: DatabaseTransaction, ended: &[Vec<u8>]) -> ServiceResult<()> {
    let mut echoes = Vec::with_capacity(ended.len());
    let mut hashes = Vec::with_capacity(ended.len());
    for hash in ended {
        let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) else {
            continue;
        };
        echoes.push(state.session_events.announce_in(&txn, &hash).await?);
        hashes.push(hash);
    }
    txn.commit().await?;
    for hash in &hashes {
        state.sessions.forget(hash);
    }
    for echo in echoes {
        state.session_events.heard(echo).await;
    }
    Ok(())
}
