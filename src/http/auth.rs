//! Accounts: register, log in, log out, who am I; and re-minting the CloudFront cookies.

use poem::Request;
use poem::web::Data;
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::client::{SessionAuth, client};
use super::cookie_sets::SetCookieHeaders;
use super::dto::{
    CdnGrant, CdnRefresh, Credentials, DeliveryMode, ExpiredCookieSet, MeView, SessionView, UserView,
};
use super::error::{AppError, AppResult};
use crate::app::AppState;
use crate::auth::{AuthUser, session};
use crate::cdn_signer::Minted;
use crate::domain::{Email, Password};
use crate::services::accounts::{self, SignedIn};
use crate::services::albums;

#[derive(Tags)]
enum ApiTags {
    /// Accounts and sessions.
    Auth,
    /// CloudFront cookies.
    Cdn,
}

/// `POST /api/auth/register` answers.
#[derive(ApiResponse)]
enum Registered {
    /// The account exists and this browser is signed in to it.
    #[oai(status = 201)]
    Created(Json<SessionView>),
}

/// `POST /api/auth/logout` answers.
#[derive(ApiResponse)]
enum LoggedOut {
    /// The session is gone and its cookies are expired.
    #[oai(status = 204)]
    Done,
}

/// The account and session endpoints.
pub(crate) struct AuthApi;

/// Adds `Set-Cookie` values rendered by the signer to the response.
pub(super) fn set_cookies(jar: &CookieJar, headers: &[String]) -> AppResult<()> {
    for header in headers {
        jar.add(Cookie::parse(header).map_err(AppError::internal)?);
    }
    Ok(())
}

/// The session cookie carrying `value`.
pub(super) fn session_cookie(state: &AppState, value: &str) -> Cookie {
    let mut cookie = Cookie::new_with_str(session::COOKIE_NAME, value);
    cookie.set_http_only(true);
    cookie.set_secure(state.config.session.cookie_secure);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie
}

/// The session cookie, expired.
pub(super) fn expire_session_cookie(state: &AppState) -> Cookie {
    let mut expired = session_cookie(state, "");
    expired.set_max_age(std::time::Duration::ZERO);
    expired
}

/// Sets the CloudFront cookies and describes them.
fn cdn_grant(jar: &CookieJar, minted: Minted) -> AppResult<CdnGrant> {
    set_cookies(jar, &minted.set_cookies)?;
    Ok(CdnGrant {
        expires_at: minted.expires_at,
        resource: minted.resource,
        cookie_path: minted.path,
    })
}

/// Sets the session and CloudFront cookies of a sign-in and describes it.
fn signed_in(state: &AppState, jar: &CookieJar, signed_in: SignedIn) -> AppResult<SessionView> {
    jar.add(session_cookie(state, &signed_in.session_token));
    Ok(SessionView {
        user: UserView {
            id: signed_in.user.0,
            email: signed_in.email.as_str().to_owned(),
        },
        delivery: DeliveryMode::of(&state.config.delivery),
        cdn: signed_in.cdn.map(|minted| cdn_grant(jar, minted)).transpose()?,
    })
}

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account and sign in to it (sets the session and CloudFront cookies).
    ///
    /// 409 `email_taken` when the address has an account; 422 for an invalid address or a password
    /// shorter than 10 characters or longer than 256 bytes. Each address may try a limited number of
    /// registrations in a window (10 an hour by default); beyond that the answer is 429 with
    /// `Retry-After`.
    #[oai(path = "/auth/register", method = "post")]
    async fn register(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        body: Json<Credentials>,
    ) -> AppResult<Registered> {
        let Credentials { email, password } = body.0;
        let email = Email::parse(&email)?;
        let password = Password::parse(password)?;
        let signed_in_now = accounts::register(&state, email, password, client(&state, req)).await?;
        Ok(Registered::Created(Json(signed_in(&state, jar, signed_in_now)?)))
    }

    /// Sign in (sets the session cookie and the CloudFront cookies for the user's prefix).
    ///
    /// A wrong email and a wrong password get the same answer, 401 `invalid_credentials`. Repeated
    /// failures for one account or from one address are refused for a while with 429 and
    /// `Retry-After`.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        body: Json<Credentials>,
    ) -> AppResult<Json<SessionView>> {
        let Credentials { email, password } = body.0;
        let email = Email::parse(&email)?;
        let signed_in_now = accounts::login(&state, email, &password, client(&state, req)).await?;
        Ok(Json(signed_in(&state, jar, signed_in_now)?))
    }

    /// Sign out: deletes the session and expires the session cookie, the CloudFront cookies and the
    /// album cookie sets the session was given. Idempotent.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        headers: Data<&SetCookieHeaders>,
    ) -> AppResult<LoggedOut> {
        let token = jar.get(session::COOKIE_NAME).map(|c| c.value_str().to_owned());
        if let Some(ended) = accounts::logout(&state, token.as_deref(), client(&state, req)).await? {
            set_cookies(jar, &state.cdn.expire(ended.user))?;
            headers.add(
                ended
                    .album_sets
                    .iter()
                    .flat_map(|prefix| state.cdn.expire_prefix(prefix)),
            );
        }
        jar.add(expire_session_cookie(&state));
        Ok(LoggedOut::Done)
    }

    /// Who is signed in, and when the session and the CloudFront cookies expire.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, state: Data<&AppState>, auth: SessionAuth) -> AppResult<Json<MeView>> {
        let AuthUser {
            id,
            email,
            session_expires_at,
            cdn_expires_at,
            ..
        } = auth.0;
        Ok(Json(MeView {
            user: UserView {
                id: id.0,
                email: email.as_str().to_owned(),
            },
            session_expires_at,
            delivery: DeliveryMode::of(&state.config.delivery),
            cdn_expires_at,
        }))
    }
}

/// The CloudFront cookie endpoint.
pub(crate) struct CdnApi;

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Cdn")]
impl CdnApi {
    /// Mint fresh CloudFront cookies for the signed-in user's prefix (call before they expire).
    ///
    /// With `EDGEPASS_DELIVERY=s3` there are no cookies: the answer says `"delivery": "s3"` and sets
    /// nothing.
    ///
    /// The same answer expires the album cookie sets of this session whose album the caller may no
    /// longer see (revoked, expired or deleted), a few at a time.
    #[oai(path = "/cdn/cookies", method = "post")]
    async fn cookies(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        headers: Data<&SetCookieHeaders>,
        auth: SessionAuth,
    ) -> AppResult<Json<CdnRefresh>> {
        let minted = accounts::refresh_cdn_cookies(&state, &auth.0, client(&state, req)).await?;
        let expired = albums::expire_revoked(&state, &auth.0).await?;
        headers.add(expired.iter().flat_map(|set| set.set_cookies.iter().cloned()));
        let own = minted.map(|minted| cdn_grant(jar, minted)).transpose()?;
        Ok(Json(CdnRefresh {
            delivery: DeliveryMode::of(&state.config.delivery),
            expires_at: own.as_ref().map(|grant| grant.expires_at),
            resource: own.as_ref().map(|grant| grant.resource.clone()),
            cookie_path: own.map(|grant| grant.cookie_path),
            expired_album_sets: expired
                .into_iter()
                .map(|set| ExpiredCookieSet {
                    album_id: set.album.into(),
                    cookie_path: set.path,
                })
                .collect(),
        }))
    }
}
