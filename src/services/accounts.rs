//! Accounts and sessions: register, log in, log out, the user behind a session token, and the
//! CloudFront cookie set a session holds.
//!
//! Logins and registrations are throttled from the audit log (`auth::throttle`), so every instance of
//! the service counts the same attempts.

use std::net::IpAddr;

use sea_orm::{DatabaseTransaction, TransactionTrait};

use crate::app::AppState;
use crate::auth::session_cache::Remembered;
use crate::auth::throttle::{self, Throttled};
use crate::auth::{AuthUser, session};
use crate::cdn_signer::Minted;
use crate::db;
use crate::db::audit::{self, Action};
use crate::db::users::CreateUserError;
use crate::domain::{Email, InvalidInput, Password, UserId};
use crate::images::ObjectPrefix;

use super::error::{ServiceError, ServiceResult};

/// Sessions are renewed at most this often, so a busy client does not write on every request.
const RENEW_AFTER_SECS: u64 = 60;

/// A new session for a user, with the CloudFront cookie set minted for it.
#[derive(Debug)]
pub struct SignedIn {
    /// The user.
    pub user: UserId,
    /// Their email address.
    pub email: Email,
    /// The session token, for the session cookie; shown only now, never logged.
    pub session_token: String,
    /// The CloudFront cookie set for the user's prefix; `None` in S3 delivery.
    pub cdn: Option<Minted>,
}

/// Where a request comes from: the client's address (for throttles and the audit log) and, for the
/// CloudFront cookies, the viewer address they may be bound to; and the browser, as its `User-Agent`
/// names it, which a new session records so its holder can tell their sessions apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address, when known.
    pub addr: Option<IpAddr>,
    /// The `User-Agent`, cut to [`CLIENT_LABEL_MAX`] characters without control characters.
    pub agent: Option<String>,
}

/// The longest client label a session keeps.
pub const CLIENT_LABEL_MAX: usize = 200;

impl Client {
    /// The client's address as the audit log and the throttles record it.
    pub(crate) fn label(&self) -> Option<String> {
        self.addr.map(|addr| addr.to_string())
    }

    /// `user_agent` as a session's client label: printable characters only, at most
    /// [`CLIENT_LABEL_MAX`] of them; `None` when nothing is left.
    pub fn agent_label(user_agent: &str) -> Option<String> {
        let label: String = user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(CLIENT_LABEL_MAX)
            .collect();
        let label = label.trim();
        (!label.is_empty()).then(|| label.to_owned())
    }
}

/// Creates an account for `email` and signs in to it. Each client address may register a limited
/// number of accounts in a window.
pub async fn register(
    state: &AppState,
    email: Email,
    password: Password,
    client: Client,
) -> ServiceResult<SignedIn> {
    // A taken address is answered before anything is counted or hashed.
    if db::users::find_by_email(&state.db, &email).await?.is_some() {
        return Err(ServiceError::EmailTaken);
    }
    let client_label = client.label();
    let now = state.now();
    let limits = &state.config.limits;
    let registration =
        match throttle::begin_registration(&state.db, limits, email.as_str(), client_label.as_deref(), now)
            .await?
        {
            Ok(registration) => registration,
            Err(Throttled { retry_after_secs }) => {
                return Err(ServiceError::RegistrationThrottled { retry_after_secs });
            }
        };
    let made = create_account(state, &email, &password, now).await;
    let (txn, user) = match made {
        Ok(made) => made,
        Err(error) => {
            registration.withdraw(&state.db).await?;
            return Err(error);
        }
    };
    // The account's own registration event, recorded in this transaction, takes the provisional one's
    // place.
    registration.withdraw(&txn).await?;
    let signed_in = sign_in(state, txn, user, email, Action::Register, client).await?;
    tracing::info!(user = %user, "account registered");
    Ok(signed_in)
}

/// Hashes the password and inserts the account, in a transaction left open for the sign-in.
async fn create_account(
    state: &AppState,
    email: &Email,
    password: &Password,
    now: u64,
) -> ServiceResult<(DatabaseTransaction, UserId)> {
    let hash = state.passwords.hash(password).await?;
    let txn = state.db.begin().await?;
    match db::users::create(&txn, email, hash, now).await {
        Ok(user) => Ok((txn, user)),
        Err(error) => {
            txn.rollback().await?;
            Err(match error {
                CreateUserError::EmailTaken => ServiceError::EmailTaken,
                CreateUserError::Db(error) => error.into(),
            })
        }
    }
}

/// Signs in with `email` and `password`. A wrong email and a wrong password fail alike; repeated
/// failures for one account or from one address are refused for a while.
pub async fn login(
    state: &AppState,
    email: Email,
    password: &str,
    client: Client,
) -> ServiceResult<SignedIn> {
    if password.len() > Password::MAX_BYTES {
        return Err(InvalidInput {
            field: "password",
            reason: format!("must be at most {} bytes", Password::MAX_BYTES),
        }
        .into());
    }
    let client_label = client.label();
    let now = state.now();
    let limits = &state.config.limits;
    let attempt =
        match throttle::begin(&state.db, limits, email.as_str(), client_label.as_deref(), now).await? {
            Ok(attempt) => attempt,
            Err(Throttled { retry_after_secs }) => return Err(ServiceError::Throttled { retry_after_secs }),
        };
    let account = db::users::find_by_email(&state.db, &email).await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let matches = state.passwords.verify(password, stored).await?;
    let Some(account) = account.filter(|_| matches) else {
        attempt.failed();
        return Err(ServiceError::InvalidCredentials);
    };
    let txn = state.db.begin().await?;
    attempt.succeeded(&txn).await?;
    let email = Email::from_stored(account.email);
    sign_in(state, txn, account.id, email, Action::Login, client).await
}

/// Completes a sign-in inside `txn` (session row, audit event), commits, then mints the CloudFront
/// cookie set.
async fn sign_in(
    state: &AppState,
    txn: DatabaseTransaction,
    user: UserId,
    email: Email,
    action: Action,
    client: Client,
) -> ServiceResult<SignedIn> {
    let now = state.now();
    let token = session::new_token().map_err(ServiceError::internal)?;
    db::sessions::create(
        &txn,
        user,
        &token.hash,
        now,
        state.config.session.ttl_secs,
        client.agent.as_deref(),
    )
    .await?;
    audit::record(
        &txn,
        Some(user),
        action,
        email.as_str(),
        client.label().as_deref(),
        now,
    )
    .await?;
    txn.commit().await?;
    let cdn = mint_cdn_cookies(state, user, &token.hash, None, client).await?;
    Ok(SignedIn {
        user,
        email,
        session_token: token.cookie_value,
        cdn,
    })
}

/// Mints the CloudFront cookie set for `user` and records its expiry on the session (`recorded` is the
/// expiry the session holds already: within one expiry window nothing is written). S3 delivery has no
/// cookies: `None`.
async fn mint_cdn_cookies(
    state: &AppState,
    user: UserId,
    session_hash: &[u8; 32],
    recorded: Option<u64>,
    client: Client,
) -> ServiceResult<Option<Minted>> {
    if state.config.delivery.is_s3() {
        return Ok(None);
    }
    let minted = state.cdn.mint(user, state.now(), client.addr).await?;
    if recorded != Some(minted.expires_at) {
        // The other instances forget the session, so that none keeps its old cookie expiry.
        let txn = state.db.begin().await?;
        db::sessions::set_cdn_expiry(&txn, session_hash, minted.expires_at).await?;
        let echo = state.session_events.announce_in(&txn, session_hash).await?;
        txn.commit().await?;
        state
            .sessions
            .update(session_hash, |s| s.user.cdn_expires_at = Some(minted.expires_at));
        state.session_events.heard(echo).await;
    }
    state.metrics.cookies_minted();
    Ok(Some(minted))
}

/// A fresh CloudFront cookie set for the signed-in `user` (frontends ask before the last one expires);
/// `None` in S3 delivery, which has no cookies.
pub async fn refresh_cdn_cookies(
    state: &AppState,
    user: &AuthUser,
    client: Client,
) -> ServiceResult<Option<Minted>> {
    mint_cdn_cookies(state, user.id, &user.session_hash, user.cdn_expires_at, client).await
}

/// A session that was ended: whose it was and the album cookie sets it was given, so that the
/// CloudFront cookies can be expired too.
#[derive(Clone, Debug)]
pub struct Ended {
    /// The session's user.
    pub user: UserId,
    /// The prefixes of the album sets minted for the session and not yet expired.
    pub album_sets: Vec<ObjectPrefix>,
}

/// Ends the session with `token`, if there is one; returns whose it was. Ending no session, or one
/// already ended, is not an error.
pub async fn logout(state: &AppState, token: Option<&str>, client: Client) -> ServiceResult<Option<Ended>> {
    let Some(hash) = token.and_then(session::hash_cookie_value) else {
        return Ok(None);
    };
    let found = db::sessions::find_any(&state.db, &hash).await?;
    let album_sets = match &found {
        Some((session, _)) if session.album_sets => {
            db::albums::cookie_sets(&state.db, session.id, state.now())
                .await?
                .into_iter()
                .map(|set| ObjectPrefix::album(set.owner_id, &set.album_id))
                .collect()
        }
        _ => Vec::new(),
    };
    // The end of the session and the news of it to every instance commit together.
    let txn = state.db.begin().await?;
    db::sessions::delete_by_hash(&txn, &hash).await?;
    let echo = state.session_events.announce_in(&txn, &hash).await?;
    txn.commit().await?;
    state.sessions.forget(&hash);
    state.session_events.heard(echo).await;
    let Some((_, user)) = found else {
        return Ok(None);
    };
    let now = state.now();
    audit::record(
        &state.db,
        Some(user.id),
        Action::Logout,
        &user.email,
        client.label().as_deref(),
        now,
    )
    .await?;
    Ok(Some(Ended {
        user: user.id,
        album_sets,
    }))
}

/// The user behind a session token, renewing the session when it was last renewed a while ago. The
/// session comes from this instance's cache when it is there (see `auth::session_cache`).
pub async fn current_user(state: &AppState, token: &str) -> ServiceResult<AuthUser> {
    let hash = session::hash_cookie_value(token).ok_or(ServiceError::Unauthorized)?;
    let now = state.now();
    let found = match state.sessions.get(&hash, now) {
        Some(remembered) => {
            state.metrics.session_lookup("cache");
            remembered
        }
        None => {
            state.metrics.session_lookup("database");
            let read_in = state.sessions.generation();
            let (row, user) = db::sessions::find_active(&state.db, &hash, now)
                .await?
                .ok_or(ServiceError::Unauthorized)?;
            let remembered = Remembered {
                session_id: row.id,
                user: AuthUser {
                    id: user.id,
                    email: Email::from_stored(user.email),
                    session_id: row.id,
                    session_hash: hash,
                    session_expires_at: row.expires_at as u64,
                    cdn_expires_at: row.cdn_expires_at.map(|t| t as u64),
                    album_sets: row.album_sets,
                },
                last_seen_at: row.last_seen_at as u64,
            };
            state.sessions.keep(hash, remembered.clone(), read_in, now);
            remembered
        }
    };
    let mut user = found.user;
    if now.saturating_sub(found.last_seen_at) >= RENEW_AFTER_SECS {
        let ttl = state.config.session.ttl_secs;
        db::sessions::renew(&state.db, found.session_id, now, ttl).await?;
        user.session_expires_at = now.saturating_add(ttl);
        state.sessions.update(&hash, |s| {
            s.last_seen_at = now;
            s.user.session_expires_at = user.session_expires_at;
        });
    }
    Ok(user)
}
