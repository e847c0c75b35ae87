//! One error type for the HTTP API, with one status table.
//!
//! Every error body is JSON `{ "error": code, "message": text }`. Client errors explain themselves; server
//! errors say only "internal error" and the cause goes to the log, once.

use poem::error::ResponseError;
use poem::http::{StatusCode, header};
use poem::{Body, Response};

use crate::aws::cloudfront::InvalidationError;
use crate::aws::s3::StorageError;
use crate::domain::InvalidInput;
use crate::images::lifecycle::LifecycleError;

/// Result type of handlers.
pub type AppResult<T> = Result<T, AppError>;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body parsed but a value is not acceptable.
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// No valid session.
    #[error("sign in first: no valid session")]
    Unauthorized,
    /// Wrong email or password (deliberately not saying which).
    #[error("wrong email or password")]
    InvalidCredentials,
    /// A state-changing request from an origin that is not allowed.
    #[error("cross-origin request refused")]
    CrossOrigin,
    /// The thing does not exist, or is not the caller's to see.
    #[error("not found")]
    NotFound,
    /// The email address already has an account.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Storing more would exceed one of the user's quotas (the message says which).
    #[error("{0}")]
    QuotaExceeded(String),
    /// Completion was asked for before anything was uploaded.
    #[error("{0}")]
    NotUploaded(String),
    /// The uploaded file is not what was declared (the message says how); it was deleted.
    #[error("{0}")]
    UploadRejected(String),
    /// The uploaded file was replaced while it was being checked; nothing was kept from it.
    #[error("{0}")]
    UploadChanged(String),
    /// The upload has not been completed, so the image cannot change yet.
    #[error("the upload has not been completed yet")]
    NotReady,
    /// The thing existed but has ended (an expired or revoked share link).
    #[error("{0}")]
    Gone(String),
    /// Another change to the same image is in progress.
    #[error("another change to this image is in progress; try again shortly")]
    Busy,
    /// Too many failed logins recently.
    #[error("too many failed logins; try again in {retry_after_secs} seconds")]
    Throttled {
        /// Seconds until a login may succeed again.
        retry_after_secs: u64,
    },
    /// Too many registrations from one client address recently.
    #[error("too many accounts registered from this address; try again in {retry_after_secs} seconds")]
    RegistrationThrottled {
        /// Seconds until a registration may succeed again.
        retry_after_secs: u64,
    },
    /// A dependency (the database) is not reachable.
    #[error("service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything unexpected.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// Wraps an unexpected error.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }

    /// The machine-readable code in the body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid_input",
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::InvalidCredentials => "invalid_credentials",
            Self::CrossOrigin => "cross_origin",
            Self::NotFound => "not_found",
            Self::EmailTaken => "email_taken",
            Self::QuotaExceeded(_) => "quota_exceeded",
            Self::NotUploaded(_) => "not_uploaded",
            Self::UploadRejected(_) => "upload_rejected",
            Self::UploadChanged(_) => "upload_changed",
            Self::NotReady => "not_ready",
            Self::Gone(_) => "gone",
            Self::Busy => "busy",
            Self::Throttled { .. } | Self::RegistrationThrottled { .. } => "too_many_requests",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                Self::Unavailable(Box::new(error))
            }
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<StorageError> for AppError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Unavailable { .. } => Self::Unavailable(Box::new(error)),
            StorageError::Failed { .. } => Self::Internal(Box::new(error)),
        }
    }
}

/// CloudFront's API fails mostly by throttling or outage, and every step that calls it is finished by a
/// retry, so the client is told to try again.
impl From<InvalidationError> for AppError {
    fn from(error: InvalidationError) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<LifecycleError> for AppError {
    fn from(error: LifecycleError) -> Self {
        match error {
            LifecycleError::Storage(error) => error.into(),
            LifecycleError::Cdn(error) => error.into(),
            LifecycleError::Db(error) => error.into(),
            LifecycleError::Mismatch(reason) => Self::UploadRejected(reason),
            error @ LifecycleError::Inconsistent { .. } => Self::internal(error),
        }
    }
}

/// The JSON error body.
pub fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": code, "message": message });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_json(&body).unwrap_or_default())
}

/// The full cause chain of an error, for the log.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::EmailTaken
            | Self::QuotaExceeded(_)
            | Self::NotUploaded(_)
            | Self::UploadChanged(_)
            | Self::NotReady
            | Self::Busy => StatusCode::CONFLICT,
            Self::UploadRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Gone(_) => StatusCode::GONE,
            Self::Throttled { .. } | Self::RegistrationThrottled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), cause = %chain(self), "request failed");
            let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                "service unavailable"
            } else {
                "internal error"
            };
            return error_body(status, self.code(), message);
        }
        let mut response = error_body(status, self.code(), &self.to_string());
        if let Self::Throttled { retry_after_secs } | Self::RegistrationThrottled { retry_after_secs } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, (*retry_after_secs).into());
        }
        response
    }
}

/// Turns any error that reached the top (poem's own parse, size and routing errors included) into the JSON
/// body; used with `catch_all_error`.
pub async fn json_error(error: poem::Error) -> Response {
    if let Some(app) = error.downcast_ref::<AppError>() {
        return app.as_response();
    }
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(cause = %error, "request failed");
        return error_body(status, "internal", "internal error");
    }
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "client_error",
    };
    let message = match status {
        StatusCode::UNAUTHORIZED => "sign in first: no valid session".to_owned(),
        StatusCode::NOT_FOUND => "not found".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => "request body too large".to_owned(),
        _ => error.to_string(),
    };
    error_body(status, code, &message)
}

/// A handler panicked: answer 500 with the generic body instead of dropping the connection, and log it.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "request handler panicked");
    error_body(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_status_and_code() {
        let invalid = InvalidInput {
            field: "email",
            reason: "is required".to_owned(),
        };
        let io = || std::io::Error::other("disk on fire");
        let table: Vec<(AppError, u16, &str)> = vec![
            (AppError::Invalid(invalid), 422, "invalid_input"),
            (AppError::BadRequest("x".to_owned()), 400, "bad_request"),
            (AppError::Unauthorized, 401, "unauthorized"),
            (AppError::InvalidCredentials, 401, "invalid_credentials"),
            (AppError::CrossOrigin, 403, "cross_origin"),
            (AppError::NotFound, 404, "not_found"),
            (AppError::EmailTaken, 409, "email_taken"),
            (AppError::QuotaExceeded("x".to_owned()), 409, "quota_exceeded"),
            (AppError::NotUploaded("x".to_owned()), 409, "not_uploaded"),
            (AppError::UploadRejected("x".to_owned()), 422, "upload_rejected"),
            (AppError::UploadChanged("x".to_owned()), 409, "upload_changed"),
            (AppError::NotReady, 409, "not_ready"),
            (AppError::Busy, 409, "busy"),
            (AppError::Gone("x".to_owned()), 410, "gone"),
            (
                StorageError::Unavailable {
                    operation: "HeadObject",
                    source: "connection refused".into(),
                }
                .into(),
                503,
                "unavailable",
            ),
            (
                StorageError::failed("HeadObject", "AccessDenied").into(),
                500,
                "internal",
            ),
            (
                AppError::Throttled { retry_after_secs: 3 },
                429,
                "too_many_requests",
            ),
            (
                AppError::RegistrationThrottled { retry_after_secs: 3 },
                429,
                "too_many_requests",
            ),
            (AppError::Unavailable(Box::new(io())), 503, "unavailable"),
            (AppError::internal(io()), 500, "internal"),
        ];
        for (error, status, code) in table {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.code(), code);
        }
    }

    #[tokio::test]
    async fn server_errors_hide_their_cause_and_throttling_says_when() {
        let response = AppError::internal(std::io::Error::other("password=hunter2")).as_response();
        let body = response.into_body().into_string().await.expect("body");
        assert_eq!(body, r#"{"error":"internal","message":"internal error"}"#);
        let response = AppError::Throttled { retry_after_secs: 42 }.as_response();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"42"[..])
        );
    }
}
