//! Who is asking: the client address, and the session behind the cookie.

use std::net::IpAddr;

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;

use crate::app::AppState;
use crate::auth::{AuthUser, session};
use crate::db;
use crate::domain::{Email, UserId};
use crate::error::AppError;

/// Sessions are renewed at most this often, so a busy client does not write on every request.
const RENEW_AFTER_SECS: u64 = 60;

/// The client's address: the connection's peer, or the last `X-Forwarded-For` hop when the service runs
/// behind a trusted load balancer.
pub(crate) fn client_addr(req: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for
        && let Some(forwarded) = req.header("x-forwarded-for")
        && let Some(last) = forwarded.rsplit(',').next()
        && let Ok(ip) = last.trim().parse()
    {
        return Some(ip);
    }
    req.remote_addr().as_socket_addr().map(|addr| addr.ip())
}

fn state(req: &Request) -> Result<&AppState, AppError> {
    req.data::<AppState>()
        .ok_or_else(|| AppError::internal(std::io::Error::other("application state missing")))
}

/// The signed-in user, from the `edgepass_session` cookie.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "edgepass_session",
    key_in = "cookie",
    checker = "check_session"
)]
pub(crate) struct SessionAuth(pub AuthUser);

async fn check_session(req: &Request, key: ApiKey) -> poem::Result<AuthUser> {
    let state = state(req)?;
    let hash = session::hash_cookie_value(&key.key).ok_or(AppError::Unauthorized)?;
    let now = state.now();
    let (row, user) = db::sessions::find_active(&state.db, &hash, now)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::Unauthorized)?;
    let mut session_expires_at = row.expires_at as u64;
    if now.saturating_sub(row.last_seen_at as u64) >= RENEW_AFTER_SECS {
        db::sessions::renew(&state.db, row.id, now, state.config.session.ttl_secs)
            .await
            .map_err(AppError::from)?;
        session_expires_at = now.saturating_add(state.config.session.ttl_secs);
    }
    let email = Email::from_stored(user.email);
    Ok(AuthUser {
        id: UserId(user.id),
        email,
        session_hash: hash,
        session_expires_at,
        cdn_expires_at: row.cdn_expires_at.map(|t| t as u64),
    })
}
