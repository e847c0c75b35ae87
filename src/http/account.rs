//! The signed-in holder's own account: change the password, list the sessions signed in to it, end
//! one or all the others, export everything stored about it, delete it.

use poem::Request;
use poem::web::Data;
use poem::web::cookie::CookieJar;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use super::account_export::{export_view, secs};
use super::auth::{expire_session_cookie, session_cookie, set_cookies};
use super::client::{SessionAuth, client};
use super::dto::{
    AccountExport, AccountSessionView, AccountSessions, DeletionStatus, EndedSessions, PasswordChange,
    PasswordCheck,
};
use super::error::{AppError, AppResult};
use crate::app::AppState;
use crate::domain::Password;
use crate::services::ServiceError;
use crate::services::account::{self, Deletion, SessionEntry};

#[derive(Tags)]
enum ApiTags {
    /// The signed-in holder's own account.
    Account,
}

/// `POST /api/account/password` and `DELETE /api/account/sessions/{id}` answers.
#[derive(ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// `DELETE /api/account` answers.
#[derive(ApiResponse)]
enum AccountDeleted {
    /// Nothing of the account is left.
    #[oai(status = 204)]
    Done,
    /// The account is gone for everyone; some of its objects are still being deleted (the store
    /// failed, or a change held an image), which the service's sweep finishes.
    #[oai(status = 202)]
    Continuing(Json<DeletionStatus>),
}

/// The account endpoints.
pub(crate) struct AccountApi;

pub(super) fn session_view(entry: SessionEntry) -> AccountSessionView {
    let SessionEntry { session, current } = entry;
    AccountSessionView {
        id: session.id,
        created_at: secs(session.created_at),
        last_seen_at: secs(session.last_seen_at),
        expires_at: secs(session.expires_at),
        client: session.client,
        current,
    }
}

#[OpenApi(prefix_path = "/api", tag = "ApiTags::Account")]
impl AccountApi {
    /// Change the password: `current_password` must be right (401 `invalid_credentials` otherwise,
    /// counted like a failed login, and throttled alike with 429). Every other session of the account
    /// ends; this one goes on with a new session cookie set in the answer. 422 for a new password
    /// shorter than 10 characters or longer than 256 bytes.
    #[oai(path = "/account/password", method = "post")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        auth: SessionAuth,
        body: Json<PasswordChange>,
    ) -> AppResult<Done> {
        let PasswordChange {
            current_password,
            new_password,
        } = body.0;
        let new = Password::parse(new_password)?;
        let token =
            account::change_password(&state, &auth.0, &current_password, new, client(&state, req)).await?;
        jar.add(session_cookie(&state, &token));
        Ok(Done::Done)
    }

    /// The sessions signed in to the account and not expired, most recently seen first: when each was
    /// created and last seen, the client it signed in from, and which one is this.
    #[oai(path = "/account/sessions", method = "get")]
    async fn sessions(&self, state: Data<&AppState>, auth: SessionAuth) -> AppResult<Json<AccountSessions>> {
        let sessions = account::sessions(&state, &auth.0).await?;
        Ok(Json(AccountSessions {
            sessions: sessions.into_iter().map(session_view).collect(),
        }))
    }

    /// End every session of the account but this one.
    #[oai(path = "/account/sessions", method = "delete")]
    async fn end_other_sessions(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: SessionAuth,
    ) -> AppResult<Json<EndedSessions>> {
        let ended = account::end_other_sessions(&state, &auth.0, client(&state, req)).await?;
        Ok(Json(EndedSessions { ended }))
    }

    /// Everything stored about the account, as one JSON document (the holder's right of access):
    /// the account, every image with its metadata, the albums, grants given and received, share
    /// links without their tokens, and the sessions.
    #[oai(path = "/account/export", method = "get")]
    async fn export(&self, state: Data<&AppState>, auth: SessionAuth) -> AppResult<Json<AccountExport>> {
        let export = account::export(&state, &auth.0).await?;
        Ok(Json(export_view(&export, state.now())))
    }

    /// Delete the account: `password` must be right (401 `invalid_credentials` otherwise, counted like
    /// a failed login and throttled alike with 429; nothing changes). Every image and its objects
    /// (private, public, staging, album copies; public copies are invalidated), the albums, the
    /// grants given and received, the links and every session go; the audit log keeps its events
    /// under the user id but not the email, which may be registered again as a new account. 204 when
    /// all is gone; 202 while the service's sweep still has objects to delete. Both expire this
    /// browser's cookies.
    #[oai(path = "/account", method = "delete")]
    async fn delete_account(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        auth: SessionAuth,
        body: Json<PasswordCheck>,
    ) -> AppResult<AccountDeleted> {
        let deletion =
            account::delete_account(&state, &auth.0, &body.0.password, client(&state, req)).await?;
        jar.add(expire_session_cookie(&state));
        set_cookies(jar, &state.cdn.expire(auth.0.id))?;
        Ok(match deletion {
            Deletion::Done => AccountDeleted::Done,
            Deletion::Continuing => AccountDeleted::Continuing(Json(DeletionStatus {
                status: "deleting".to_owned(),
            })),
        })
    }

    /// End one session of the account (this one too, which then also expires the session cookie);
    /// another account's session, like an unknown id, is 404.
    #[oai(path = "/account/sessions/:id", method = "delete")]
    async fn end_session(
        &self,
        state: Data<&AppState>,
        req: &Request,
        jar: &CookieJar,
        auth: SessionAuth,
        id: Path<String>,
    ) -> AppResult<Done> {
        let id: i64 =
            id.0.trim()
                .parse()
                .map_err(|_| AppError::Service(ServiceError::NotFound))?;
        account::end_session(&state, &auth.0, id, client(&state, req)).await?;
        if id == auth.0.session_id {
            jar.add(expire_session_cookie(&state));
        }
        Ok(Done::Done)
    }
}
