//! Accounts: register, log in, log out, who am I; and re-minting the CloudFront cookies.

use poem::Request;
use poem::web::Data;
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use sea_orm::{DatabaseTransaction, TransactionTrait};

use super::client::{SessionAuth, client_addr};
use super::dto::{CdnGrant, Credentials, MeView, SessionView, UserView};
use crate::app::AppState;
use crate::auth::password::HashingError;
use crate::auth::throttle::{self, Throttled};
use crate::auth::{AuthUser, session};
use crate::db::audit::{self, Action};
use crate::db::{self, users::CreateUserError};
use crate::domain::{Email, InvalidInput, Password, UserId};
use crate::error::{AppError, AppResult};

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

impl From<HashingError> for AppError {
    fn from(error: HashingError) -> Self {
        AppError::internal(error)
    }
}

/// The account and session endpoints.
pub(crate) struct AuthApi;

/// Adds `Set-Cookie` values rendered elsewhere to the response.
fn set_cookies(jar: &CookieJar, headers: &[String]) -> AppResult<()> {
    for header in headers {
        jar.add(Cookie::parse(header).map_err(AppError::internal)?);
    }
    Ok(())
}

fn session_cookie(state: &AppState, value: &str) -> Cookie {
    let mut cookie = Cookie::new_with_str(session::COOKIE_NAME, value);
    cookie.set_http_only(true);
    cookie.set_secure(state.config.session.cookie_secure);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie
}

/// Mints CloudFront cookies for `user`, adds them to the response and records their expiry on the session
/// (`recorded` is the expiry the session already holds: within one expiry window nothing is written).
async fn grant_cdn(
    state: &AppState,
    req: &Request,
    jar: &CookieJar,
    user: UserId,
    session_hash: &[u8],
    recorded: Option<u64>,
) -> AppResult<CdnGrant> {
    let viewer = client_addr(req, state.config.trust_forwarded_for);
    let minted = state
        .cdn
        .mint(user, state.now(), viewer)
        .map_err(AppError::internal)?;
    set_cookies(jar, &minted.set_cookies)?;
    if recorded != Some(minted.expires_at) {
        db::sessions::set_cdn_expiry(&state.db, session_hash, minted.expires_at).await?;
    }
    state.metrics.cookies_minted();
    Ok(CdnGrant {
        expires_at: minted.expires_at,
        resource: minted.resource,
        cookie_path: minted.path,
    })
}

/// Completes a sign-in inside `txn` (session row and cookie, audit event), commits, then sets the
/// CloudFront cookies.
#[allow(clippy::too_many_arguments)]
async fn finish_sign_in(
    state: &AppState,
    req: &Request,
    jar: &CookieJar,
    txn: DatabaseTransaction,
    user: UserId,
    email: &str,
    action: Action,
    client: Option<&str>,
) -> AppResult<SessionView> {
    let session_hash = start_session(state, &txn, jar, user).await?;
    audit::record(&txn, Some(user), action, email, client, state.now()).await?;
    txn.commit().await?;
    let cdn = grant_cdn(state, req, jar, user, &session_hash, None).await?;
    Ok(SessionView {
        user: UserView {
            id: user.0,
            email: email.to_owned(),
        },
        cdn,
    })
}

/// Withdraws a registration that made no account, then answers with `error`.
async fn withdrawn(state: &AppState, registration: throttle::Registration, error: AppError) -> AppError {
    match registration.withdraw(&state.db).await {
        Ok(()) => error,
        Err(db_error) => db_error.into(),
    }
}

/// Starts a session for `user` (inside `txn`) and sets its cookie.
async fn start_session(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    jar: &CookieJar,
    user: UserId,
) -> AppResult<[u8; 32]> {
    let token = session::new_token().map_err(AppError::internal)?;
    db::sessions::create(txn, user, &token.hash, state.now(), state.config.session.ttl_secs).await?;
    jar.add(session_cookie(state, &token.cookie_value));
    Ok(token.hash)
}

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create an account and sign in to it (sets the session and CloudFront cookies).
    ///
    /// Each address may try a limited number of registrations in a window (10 an hour by default);
    /// beyond that the answer is 429 with `Retry-After`.
    #[oai(path = "/auth/register", method = "post")]
    async fn register(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        body: Json<Credentials>,
    ) -> poem::Result<Registered> {
        let Credentials { email, password } = body.0;
        let email = Email::parse(&email).map_err(AppError::from)?;
        let password = Password::parse(password).map_err(AppError::from)?;
        // A taken address is answered before anything is counted or hashed.
        if db::users::find_by_email(&state.db, &email)
            .await
            .map_err(AppError::from)?
            .is_some()
        {
            return Err(AppError::EmailTaken.into());
        }
        let client = client_addr(req, state.config.trust_forwarded_for).map(|ip| ip.to_string());
        let now = state.now();
        let registration = match throttle::begin_registration(
            &state.db,
            &state.config.limits,
            email.as_str(),
            client.as_deref(),
            now,
        )
        .await
        .map_err(AppError::from)?
        {
            Ok(registration) => registration,
            Err(Throttled { retry_after_secs }) => {
                return Err(AppError::RegistrationThrottled { retry_after_secs }.into());
            }
        };
        let hash = match state.passwords.hash(&password).await {
            Ok(hash) => hash,
            Err(error) => return Err(withdrawn(&state, registration, error.into()).await.into()),
        };
        let txn = state.db.begin().await.map_err(AppError::from)?;
        let user = match db::users::create(&txn, &email, hash, now).await {
            Ok(user) => user,
            Err(error) => {
                txn.rollback().await.map_err(AppError::from)?;
                let error = match error {
                    CreateUserError::EmailTaken => AppError::EmailTaken,
                    CreateUserError::Db(error) => error.into(),
                };
                return Err(withdrawn(&state, registration, error).await.into());
            }
        };
        // The account's own registration event, recorded in this transaction, takes the provisional
        // one's place.
        registration.withdraw(&txn).await.map_err(AppError::from)?;
        let view = finish_sign_in(
            &state,
            req,
            jar,
            txn,
            user,
            email.as_str(),
            Action::Register,
            client.as_deref(),
        )
        .await?;
        tracing::info!(user = %user, "account registered");
        Ok(Registered::Created(Json(view)))
    }

    /// Sign in (sets the session cookie and the CloudFront cookies for the user's prefix).
    ///
    /// A wrong email and a wrong password get the same answer. Repeated failures for one account or from
    /// one address are refused for a while with 429 and `Retry-After`.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        body: Json<Credentials>,
    ) -> poem::Result<Json<SessionView>> {
        let Credentials { email, password } = body.0;
        let email = Email::parse(&email).map_err(AppError::from)?;
        if password.len() > Password::MAX_BYTES {
            return Err(AppError::from(InvalidInput {
                field: "password",
                reason: format!("must be at most {} bytes", Password::MAX_BYTES),
            })
            .into());
        }
        let client = client_addr(req, state.config.trust_forwarded_for).map(|ip| ip.to_string());
        let now = state.now();
        let attempt = match throttle::begin(
            &state.db,
            &state.config.limits,
            email.as_str(),
            client.as_deref(),
            now,
        )
        .await
        .map_err(AppError::from)?
        {
            Ok(attempt) => attempt,
            Err(Throttled { retry_after_secs }) => {
                return Err(AppError::Throttled { retry_after_secs }.into());
            }
        };
        let account = db::users::find_by_email(&state.db, &email)
            .await
            .map_err(AppError::from)?;
        let stored = account.as_ref().map(|a| a.password_hash.clone());
        let matches = state
            .passwords
            .verify(&password, stored)
            .await
            .map_err(AppError::from)?;
        let Some(account) = account.filter(|_| matches) else {
            attempt.failed();
            return Err(AppError::InvalidCredentials.into());
        };
        let user = UserId(account.id);
        let txn = state.db.begin().await.map_err(AppError::from)?;
        attempt.succeeded(&txn).await.map_err(AppError::from)?;
        let view = finish_sign_in(
            &state,
            req,
            jar,
            txn,
            user,
            &account.email,
            Action::Login,
            client.as_deref(),
        )
        .await?;
        Ok(Json(view))
    }

    /// Sign out: deletes the session and expires the session and CloudFront cookies. Idempotent.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
    ) -> poem::Result<LoggedOut> {
        let hash = jar
            .get(session::COOKIE_NAME)
            .and_then(|c| session::hash_cookie_value(c.value_str()));
        if let Some(hash) = hash {
            let now = state.now();
            let found = db::sessions::find_any(&state.db, &hash)
                .await
                .map_err(AppError::from)?;
            db::sessions::delete_by_hash(&state.db, &hash)
                .await
                .map_err(AppError::from)?;
            if let Some((_, user)) = found {
                let user_id = UserId(user.id);
                set_cookies(jar, &state.cdn.expire(user_id))?;
                let client = client_addr(req, state.config.trust_forwarded_for).map(|ip| ip.to_string());
                audit::record(
                    &state.db,
                    Some(user_id),
                    Action::Logout,
                    &user.email,
                    client.as_deref(),
                    now,
                )
                .await
                .map_err(AppError::from)?;
            }
        }
        let mut expired = session_cookie(&state, "");
        expired.set_max_age(std::time::Duration::ZERO);
        jar.add(expired);
        Ok(LoggedOut::Done)
    }

    /// Who is signed in, and when the session and the CloudFront cookies expire.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: SessionAuth) -> Json<MeView> {
        let AuthUser {
            id,
            email,
            session_expires_at,
            cdn_expires_at,
            ..
        } = auth.0;
        Json(MeView {
            user: UserView {
                id: id.0,
                email: email.as_str().to_owned(),
            },
            session_expires_at,
            cdn_expires_at,
        })
    }
}

/// The CloudFront cookie endpoint.
pub(crate) struct CdnApi;

#[OpenApi(tag = "ApiTags::Cdn")]
impl CdnApi {
    /// Mint fresh CloudFront cookies for the signed-in user's prefix (call before they expire).
    #[oai(path = "/cdn/cookies", method = "post")]
    async fn cookies(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        auth: SessionAuth,
    ) -> poem::Result<Json<CdnGrant>> {
        Ok(Json(
            grant_cdn(
                &state,
                req,
                jar,
                auth.0.id,
                &auth.0.session_hash,
                auth.0.cdn_expires_at,
            )
            .await?,
        ))
    }
}
