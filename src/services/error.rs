//! What a use case can fail with, in the application's own terms. The HTTP layer gives each case its
//! status and body (`http::error`); nothing here knows of requests or status codes.

use crate::auth::password::HashingError;
use crate::aws::cloudfront::InvalidationError;
use crate::aws::kms::KmsError;
use crate::aws::s3::StorageError;
use crate::cdn_signer::CdnSignError;
use crate::domain::InvalidInput;
use crate::images::lifecycle::LifecycleError;

/// Result type of the services.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Everything a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A value is not acceptable.
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    /// No valid session.
    #[error("sign in first: no valid session")]
    Unauthorized,
    /// Wrong email or password (deliberately not saying which).
    #[error("wrong email or password")]
    InvalidCredentials,
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
    /// A dependency (the database, the store, CloudFront) is not reachable.
    #[error("service unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything unexpected.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// Wraps an unexpected error.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }

    /// An unexpected state described in words.
    pub(crate) fn broken(what: &str) -> Self {
        Self::internal(std::io::Error::other(what.to_owned()))
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                Self::Unavailable(Box::new(error))
            }
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<CdnSignError> for ServiceError {
    fn from(error: CdnSignError) -> Self {
        match error {
            // KMS throttled past its retries, or could not be reached: try again later.
            CdnSignError::Kms(KmsError::Throttled { .. } | KmsError::Unavailable { .. }) => {
                Self::Unavailable(Box::new(error))
            }
            _ => Self::Internal(Box::new(error)),
        }
    }
}

impl From<StorageError> for ServiceError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Unavailable { .. } => Self::Unavailable(Box::new(error)),
            StorageError::Failed { .. } => Self::Internal(Box::new(error)),
        }
    }
}

/// CloudFront's API fails mostly by throttling or outage, and every step that calls it is finished by a
/// retry, so the client is told to try again.
impl From<InvalidationError> for ServiceError {
    fn from(error: InvalidationError) -> Self {
        Self::Unavailable(Box::new(error))
    }
}

impl From<LifecycleError> for ServiceError {
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

impl From<HashingError> for ServiceError {
    fn from(error: HashingError) -> Self {
        Self::internal(error)
    }
}
