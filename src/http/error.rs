//! The HTTP face of failure: one status table and one JSON body for every error, described in the API
//! document.
//!
//! Every error body is JSON `{ "error": code, "message": text }`. Client errors explain themselves; server
//! errors say only "internal error" or "service unavailable", and the cause goes to the log, once.

use poem::error::ResponseError;
use poem::http::{StatusCode, header};
use poem::{Body, Response};
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object};

use crate::domain::InvalidInput;
use crate::services::ServiceError;
use crate::telemetry::Causes;

/// Result type of handlers.
pub type AppResult<T> = Result<T, AppError>;

/// Everything a request can fail with: what a service reported, or what the HTTP layer itself refuses.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A use case failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The request itself is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// A state-changing request from an origin that is not allowed.
    #[error("cross-origin request refused")]
    CrossOrigin,
}

/// For poem's own extension points (security checkers, plain handlers), which speak `poem::Error`.
impl From<ServiceError> for poem::Error {
    fn from(error: ServiceError) -> Self {
        AppError::from(error).into()
    }
}

impl From<InvalidInput> for AppError {
    fn from(error: InvalidInput) -> Self {
        Self::Service(error.into())
    }
}

impl AppError {
    /// Wraps an unexpected error.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Service(ServiceError::internal(error))
    }

    /// The machine-readable code in the body.
    pub fn code(&self) -> &'static str {
        let service = match self {
            Self::BadRequest(_) => return "bad_request",
            Self::CrossOrigin => return "cross_origin",
            Self::Service(service) => service,
        };
        match service {
            ServiceError::Invalid(_) => "invalid_input",
            ServiceError::Unauthorized => "unauthorized",
            ServiceError::InvalidCredentials => "invalid_credentials",
            ServiceError::NotFound => "not_found",
            ServiceError::EmailTaken => "email_taken",
            ServiceError::QuotaExceeded(_) => "quota_exceeded",
            ServiceError::NotUploaded(_) => "not_uploaded",
            ServiceError::UploadRejected(_) => "upload_rejected",
            ServiceError::UploadChanged(_) => "upload_changed",
            ServiceError::NotReady => "not_ready",
            ServiceError::Gone(_) => "gone",
            ServiceError::Busy => "busy",
            ServiceError::Throttled { .. } | ServiceError::RegistrationThrottled { .. } => {
                "too_many_requests"
            }
            ServiceError::Unavailable(_) => "unavailable",
            ServiceError::Internal(_) => "internal",
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Service(
                ServiceError::Throttled { retry_after_secs }
                | ServiceError::RegistrationThrottled { retry_after_secs },
            ) => Some(*retry_after_secs),
            _ => None,
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Object)]
pub(crate) struct ErrorBody {
    /// A stable code for programs: `not_found`, `invalid_input`, `quota_exceeded`, …
    pub error: String,
    /// What went wrong, for people. For server errors only "internal error" or "service unavailable".
    pub message: String,
}

/// The error answers every API operation may give, for the API document. Which one an operation gives
/// for which reason is in the operation's description.
#[derive(ApiResponse)]
#[allow(dead_code)]
enum ErrorAnswers {
    /// The request is malformed (`bad_request`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid session (`unauthorized`), or a wrong email or password (`invalid_credentials`).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// A state-changing request from an origin that is not allowed (`cross_origin`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The thing does not exist, or is not the caller's to see (`not_found`).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request conflicts with the state of things (`email_taken`, `quota_exceeded`,
    /// `not_uploaded`, `upload_changed`, `not_ready`, `busy`).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// The thing has ended: an expired or revoked share link (`gone`).
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// The request body is too large (`payload_too_large`).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The request body is not JSON (`unsupported_media_type`).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// A value is not acceptable (`invalid_input`), or the uploaded file is not what was declared
    /// (`upload_rejected`).
    #[oai(status = 422)]
    UnprocessableEntity(Json<ErrorBody>),
    /// Too many attempts (`too_many_requests`); `Retry-After` says when to try again.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Something unexpected (`internal`).
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// A dependency is not reachable (`unavailable`); try again.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl ApiResponse for AppError {
    fn meta() -> MetaResponses {
        ErrorAnswers::meta()
    }

    fn register(registry: &mut Registry) {
        ErrorAnswers::register(registry);
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

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        let service = match self {
            Self::BadRequest(_) => return StatusCode::BAD_REQUEST,
            Self::CrossOrigin => return StatusCode::FORBIDDEN,
            Self::Service(service) => service,
        };
        match service {
            ServiceError::Invalid(_) | ServiceError::UploadRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Unauthorized | ServiceError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ServiceError::NotFound => StatusCode::NOT_FOUND,
            ServiceError::EmailTaken
            | ServiceError::QuotaExceeded(_)
            | ServiceError::NotUploaded(_)
            | ServiceError::UploadChanged(_)
            | ServiceError::NotReady
            | ServiceError::Busy => StatusCode::CONFLICT,
            ServiceError::Gone(_) => StatusCode::GONE,
            ServiceError::Throttled { .. } | ServiceError::RegistrationThrottled { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), cause = %Causes(self), "request failed");
            let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                "service unavailable"
            } else {
                "internal error"
            };
            return error_body(status, self.code(), message);
        }
        let mut response = error_body(status, self.code(), &self.to_string());
        if let Some(seconds) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
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
    use crate::aws::s3::StorageError;

    #[test]
    fn every_variant_has_its_status_and_code() {
        let invalid = InvalidInput {
            field: "email",
            reason: "is required".to_owned(),
        };
        let io = || std::io::Error::other("disk on fire");
        let service = |error: ServiceError| AppError::from(error);
        let table: Vec<(AppError, u16, &str)> = vec![
            (invalid.into(), 422, "invalid_input"),
            (AppError::BadRequest("x".to_owned()), 400, "bad_request"),
            (service(ServiceError::Unauthorized), 401, "unauthorized"),
            (
                service(ServiceError::InvalidCredentials),
                401,
                "invalid_credentials",
            ),
            (AppError::CrossOrigin, 403, "cross_origin"),
            (service(ServiceError::NotFound), 404, "not_found"),
            (service(ServiceError::EmailTaken), 409, "email_taken"),
            (
                service(ServiceError::QuotaExceeded("x".to_owned())),
                409,
                "quota_exceeded",
            ),
            (
                service(ServiceError::NotUploaded("x".to_owned())),
                409,
                "not_uploaded",
            ),
            (
                service(ServiceError::UploadRejected("x".to_owned())),
                422,
                "upload_rejected",
            ),
            (
                service(ServiceError::UploadChanged("x".to_owned())),
                409,
                "upload_changed",
            ),
            (service(ServiceError::NotReady), 409, "not_ready"),
            (service(ServiceError::Busy), 409, "busy"),
            (service(ServiceError::Gone("x".to_owned())), 410, "gone"),
            (
                service(
                    StorageError::Unavailable {
                        operation: "HeadObject",
                        source: "connection refused".into(),
                    }
                    .into(),
                ),
                503,
                "unavailable",
            ),
            (
                service(StorageError::failed("HeadObject", "AccessDenied").into()),
                500,
                "internal",
            ),
            (
                service(ServiceError::Throttled { retry_after_secs: 3 }),
                429,
                "too_many_requests",
            ),
            (
                service(ServiceError::RegistrationThrottled { retry_after_secs: 3 }),
                429,
                "too_many_requests",
            ),
            (
                service(ServiceError::Unavailable(Box::new(io()))),
                503,
                "unavailable",
            ),
            (AppError::internal(io()), 500, "internal"),
        ];
        let documented: Vec<u16> = AppError::meta()
            .responses
            .iter()
            .filter_map(|response| response.status)
            .collect();
        for (error, status, code) in table {
            assert_eq!(error.status().as_u16(), status, "{error:?}");
            assert_eq!(error.code(), code);
            assert!(
                documented.contains(&status),
                "{status} is not in the API document"
            );
        }
    }

    #[tokio::test]
    async fn server_errors_hide_their_cause_and_throttling_says_when() {
        let response = AppError::internal(std::io::Error::other("password=hunter2")).as_response();
        let body = response.into_body().into_string().await.expect("body");
        assert_eq!(body, r#"{"error":"internal","message":"internal error"}"#);
        let response = AppError::from(ServiceError::Throttled { retry_after_secs: 42 }).as_response();
        assert_eq!(
            response.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
            Some(&b"42"[..])
        );
    }
}
