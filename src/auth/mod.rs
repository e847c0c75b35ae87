//! Accounts and sessions: password hashing, session tokens, login throttling, and the signed-in user.

pub mod password;
pub mod session;
pub mod session_cache;
pub mod throttle;

use crate::domain::{Email, UserId};

/// The signed-in user of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthUser {
    /// The user's id.
    pub id: UserId,
    /// The user's email.
    pub email: Email,
    /// The session row's id.
    pub session_id: i64,
    /// The SHA-256 of the session token that authenticated the request.
    pub session_hash: [u8; 32],
    /// When the session ends unless used again (epoch seconds).
    pub session_expires_at: u64,
    /// When the CloudFront cookies last minted for this session expire, if any were.
    pub cdn_expires_at: Option<u64>,
    /// Whether an album cookie set was ever minted for this session.
    pub album_sets: bool,
}
