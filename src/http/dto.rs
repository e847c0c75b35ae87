//! Request and response bodies of the JSON API, kept apart from the database entities.

use poem_openapi::Object;

/// `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Debug, Object)]
pub(crate) struct Credentials {
    /// Email address (case does not matter).
    pub email: String,
    /// Password: at least 10 characters, at most 256 bytes.
    pub password: String,
}

/// A user.
#[derive(Debug, Object)]
pub(crate) struct UserView {
    /// The user id; the user's images live under `users/{id}/` on the CDN.
    pub id: i64,
    /// The case-folded email address.
    pub email: String,
}

/// The CloudFront cookies just set.
#[derive(Debug, Object)]
pub(crate) struct CdnGrant {
    /// When the cookies stop working (epoch seconds); refresh with `POST /api/cdn/cookies` before then.
    pub expires_at: u64,
    /// The resource pattern they grant, e.g. `https://cdn.example.com/users/42/*`.
    pub resource: String,
    /// The cookie path they are scoped to, e.g. `/users/42/`.
    pub cookie_path: String,
}

/// A signed-in session.
#[derive(Debug, Object)]
pub(crate) struct SessionView {
    /// Who is signed in.
    pub user: UserView,
    /// The CloudFront cookies set with this response.
    pub cdn: CdnGrant,
}

/// `GET /api/me`.
#[derive(Debug, Object)]
pub(crate) struct MeView {
    /// Who is signed in.
    pub user: UserView,
    /// When the session ends unless used again (epoch seconds).
    pub session_expires_at: u64,
    /// When the CloudFront cookies last set for this session expire (epoch seconds), if any were set.
    pub cdn_expires_at: Option<u64>,
}

/// A plain status.
#[derive(Debug, Object)]
pub(crate) struct Status {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
}
