//! Who is asking: the client address, and the session behind the cookie.

use std::net::IpAddr;

use poem::Request;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::ApiKey;

use super::error::AppError;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::services::accounts::{self, Client};

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

/// The client of `req`, as the services know it.
pub(crate) fn client(state: &AppState, req: &Request) -> Client {
    Client {
        addr: client_addr(req, state.config.trust_forwarded_for),
        agent: req.header("user-agent").and_then(Client::agent_label),
    }
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
    Ok(accounts::current_user(state, &key.key).await?)
}
