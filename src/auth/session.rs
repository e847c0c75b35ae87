//! Session tokens: 256 random bits in an HttpOnly cookie; only their SHA-256 is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "edgepass_session";

/// A new session token: the cookie value and the hash to store.
pub struct NewToken {
    /// The cookie value (URL-safe base64 of 32 random bytes). Never logged.
    pub cookie_value: String,
    /// SHA-256 of the raw token.
    pub hash: [u8; 32],
}

/// Makes a fresh token.
pub fn new_token() -> Result<NewToken, aws_lc_rs::error::Unspecified> {
    let mut raw = [0u8; 32];
    aws_lc_rs::rand::fill(&mut raw)?;
    Ok(NewToken {
        cookie_value: URL_SAFE_NO_PAD.encode(raw),
        hash: digest(&raw),
    })
}

/// The stored hash for a cookie value; `None` if the value cannot be a token.
pub fn hash_cookie_value(value: &str) -> Option<[u8; 32]> {
    let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
    (raw.len() == 32).then(|| digest(&raw))
}

fn digest(raw: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, raw).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_hashes_to_what_is_stored_and_garbage_does_not() {
        let token = new_token().expect("token");
        assert_eq!(token.cookie_value.len(), 43);
        assert_eq!(hash_cookie_value(&token.cookie_value), Some(token.hash));
        assert_ne!(new_token().expect("token").cookie_value, token.cookie_value);
        assert_eq!(hash_cookie_value("not a token"), None);
        assert_eq!(hash_cookie_value("c2hvcnQ"), None);
    }
}
