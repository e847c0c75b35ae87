//! Request path → object key, and the cache behavior that key falls under.

/// The distribution's cache behaviors, as `infra/` sets them up: the first match wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Behavior {
    /// `users/*`: only with a valid signed URL or signed cookies.
    Users,
    /// `public/*`: no signature needed.
    Public,
    /// Everything else: denied.
    Default,
}

/// What the image behaviors' `Managed-SecurityHeadersPolicy` adds (uploaded files must never be sniffed
/// into something else), except `Strict-Transport-Security`, which means nothing over the edge's plain HTTP.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "SAMEORIGIN"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-xss-protection", "1; mode=block"),
];

/// A private object may sit in the browser's cache as long as a cookie set usually lives.
const USERS_CACHE_CONTROL: &str = "private, max-age=3600";
/// Short, so that making an image private stops shared caches and browsers from showing it soon after.
const PUBLIC_CACHE_CONTROL: &str = "public, max-age=60";

impl Behavior {
    /// The behavior a decoded object key falls under.
    ///
    /// Matching the decoded key rather than the raw path means a percent-encoded `users/` prefix still
    /// needs a signature (and its signature is checked against the raw URL, which then cannot match).
    pub fn of(key: &str) -> Self {
        if key.starts_with("users/") {
            Self::Users
        } else if key.starts_with("public/") {
            Self::Public
        } else {
            Self::Default
        }
    }

    /// The name used in logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Public => "public",
            Self::Default => "default",
        }
    }

    /// Headers the behavior's response headers policy adds to every answer.
    pub fn response_headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Users | Self::Public => SECURITY_HEADERS,
            Self::Default => &[],
        }
    }

    /// `Cache-Control` for objects stored without one.
    pub fn default_cache_control(self) -> &'static str {
        match self {
            Self::Public => PUBLIC_CACHE_CONTROL,
            Self::Users | Self::Default => USERS_CACHE_CONTROL,
        }
    }
}

/// The path holds a malformed percent-escape or does not decode to UTF-8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadPath;

/// The object key a request path names: the path without its leading slash, percent-decoded as S3
/// decodes it (`+` stays a plus sign). The query string never takes part.
pub fn object_key(path: &str) -> Result<String, BadPath> {
    let raw = path.strip_prefix('/').unwrap_or(path).as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = raw.get(i + 1..i + 3).ok_or(BadPath)?;
            // Two hex digits exactly: `from_str_radix` alone would also take a sign (`%+1`).
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(BadPath);
            }
            let text = std::str::from_utf8(hex).map_err(|_| BadPath)?;
            bytes.push(u8::from_str_radix(text, 16).map_err(|_| BadPath)?);
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(bytes).map_err(|_| BadPath)
}

/// Whether `key` can name a stored object.
///
/// S3 keeps keys verbatim, so `users/1/../2/x.png` is simply a key nobody wrote; the embedded store maps
/// keys onto folders, where it would name another user's file. Such keys (and empty segments, a
/// trailing slash, control characters) are therefore answered as missing objects, as S3 would.
pub fn is_servable(key: &str) -> bool {
    !key.chars().any(char::is_control) && key.split('/').all(|segment| !matches!(segment, "" | "." | ".."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaviors_match_the_key_prefix() {
        assert_eq!(Behavior::of("users/42/a.png"), Behavior::Users);
        assert_eq!(Behavior::of("public/a.png"), Behavior::Public);
        for other in [
            "",
            "users",
            "public",
            "usersx/a.png",
            "index.html",
            "Users/1/a.png",
        ] {
            assert_eq!(Behavior::of(other), Behavior::Default, "{other:?}");
        }
    }

    #[test]
    fn keys_are_percent_decoded_strictly() {
        assert_eq!(object_key("/users/1/a.png"), Ok("users/1/a.png".to_owned()));
        assert_eq!(
            object_key("/public/a%20b+c.png"),
            Ok("public/a b+c.png".to_owned())
        );
        assert_eq!(
            object_key("/%75sers/1/%C3%A9.png"),
            Ok("users/1/é.png".to_owned())
        );
        for bad in ["/a%2", "/a%zz", "/a%", "/%ff"] {
            assert_eq!(object_key(bad), Err(BadPath), "{bad}");
        }
    }

    #[test]
    fn a_sign_inside_a_percent_escape_is_a_bad_path() {
        // Caught by the request_target fuzz harness (fuzz/regressions/request_target/): `%+1` decoded as 0x01.
        for bad in ["/public/a%+1.png", "/users/1/%+f.png", "/%-1"] {
            assert_eq!(object_key(bad), Err(BadPath), "{bad}");
        }
    }

    #[test]
    fn dot_segments_and_empty_segments_name_no_object() {
        assert!(is_servable("users/1/a.png"));
        assert!(is_servable("public/a..b.png"));
        for bad in [
            "users/1/../2/a.png",
            "public/../users/2/a.png",
            "users/1/./a.png",
            "users/1//a.png",
            "users/1/",
            "public/a\0.png",
            "",
        ] {
            assert!(!is_servable(bad), "{bad:?}");
        }
    }
}
