//! Request target → (the URL whose signature is checked, the object key that is served).
//!
//! Both come from one place, so the edge decides on exactly what it serves: the URL is the CDN base URL
//! followed by the request's path and query byte for byte, and the key is that same path, percent-decoded.
//! Nothing else the viewer sends (the `Host` header, an absolute-form authority) takes part.

use super::behavior::object_key;

/// What a request target names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The URL signatures are checked against: the CDN base URL, then the path and query as received.
    pub checked_url: String,
    /// The object key the path names: without its leading `/`, percent-decoded as S3 decodes it.
    pub key: String,
}

/// Why a request target names nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadTarget {
    /// Not origin-form (`/path?query`) nor absolute-form (`http://authority/path?query`): asterisk-form,
    /// authority-form, an absolute form without a path, or another scheme.
    Form,
    /// A fragment (`#…`), which browsers never send and which would make the checked URL mean something
    /// other than what is served.
    Fragment,
    /// A byte outside printable ASCII (spaces, controls, raw UTF-8), which a request line cannot carry.
    Character,
    /// The path holds a malformed percent-escape or does not decode to UTF-8.
    Path,
}

/// Resolves the request target `target` (as the request line carries it) against the CDN base URL
/// `cdn_base` (`scheme://host[:port][/prefix]`, no query, no trailing slash).
///
/// An absolute-form target (`GET http://other/users/1/a.png`) is answered as its origin form: its
/// authority is ignored, like the `Host` header, because the edge only ever serves its own objects.
pub fn resolve(cdn_base: &str, target: &str) -> Result<Target, BadTarget> {
    if target.bytes().any(|b| !(b'!'..=b'~').contains(&b)) {
        return Err(BadTarget::Character);
    }
    if target.contains('#') {
        return Err(BadTarget::Fragment);
    }
    let path_and_query = origin_form(target)?;
    let path = path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path);
    let key = object_key(path).map_err(|_| BadTarget::Path)?;
    Ok(Target {
        checked_url: format!("{cdn_base}{path_and_query}"),
        key,
    })
}

/// The path and query of an origin-form or absolute-form target.
fn origin_form(target: &str) -> Result<&str, BadTarget> {
    if target.starts_with('/') {
        return Ok(target);
    }
    let (scheme, rest) = target.split_once("://").ok_or(BadTarget::Form)?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(BadTarget::Form);
    }
    // The authority ends at the first `/` or `?` (RFC 3986 §3.2); without a path there is no object.
    let path_start = rest.find(['/', '?']).ok_or(BadTarget::Form)?;
    let path_and_query = &rest[path_start..];
    if path_and_query.starts_with('/') {
        Ok(path_and_query)
    } else {
        Err(BadTarget::Form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:8081";

    fn resolved(target: &str) -> (String, String) {
        let Target { checked_url, key } = resolve(BASE, target).expect(target);
        (checked_url, key)
    }

    #[test]
    fn the_checked_url_is_the_base_and_the_target_byte_for_byte() {
        assert_eq!(
            resolved("/users/1/a.png?Expires=1&Signature=x"),
            (
                format!("{BASE}/users/1/a.png?Expires=1&Signature=x"),
                "users/1/a.png".to_owned()
            )
        );
        assert_eq!(
            resolved("/users/1/%61.png?"),
            (format!("{BASE}/users/1/%61.png?"), "users/1/a.png".to_owned())
        );
        // A percent-encoded `?` is part of the path on both sides.
        assert_eq!(
            resolved("/users/1/a.png%3FExpires=1"),
            (
                format!("{BASE}/users/1/a.png%3FExpires=1"),
                "users/1/a.png?Expires=1".to_owned()
            )
        );
        let prefixed = resolve("https://cdn.example.com/media", "/users/1/a.png").expect("target");
        assert_eq!(
            prefixed.checked_url,
            "https://cdn.example.com/media/users/1/a.png"
        );
        assert_eq!(prefixed.key, "users/1/a.png");
    }

    #[test]
    fn an_absolute_form_authority_takes_no_part() {
        for target in [
            "http://other.example/users/1/a.png?x=1",
            "HTTPS://127.0.0.1:8081/users/1/a.png?x=1",
            "http://a@b:1/users/1/a.png?x=1",
        ] {
            assert_eq!(
                resolved(target),
                (format!("{BASE}/users/1/a.png?x=1"), "users/1/a.png".to_owned()),
                "{target}"
            );
        }
    }

    #[test]
    fn other_forms_fragments_and_odd_bytes_name_nothing() {
        for (target, why) in [
            ("*", BadTarget::Form),
            ("", BadTarget::Form),
            ("127.0.0.1:8081", BadTarget::Form),
            ("users/1/a.png", BadTarget::Form),
            ("http://host", BadTarget::Form),
            ("http://host?Expires=1", BadTarget::Form),
            ("ftp://host/users/1/a.png", BadTarget::Form),
            ("/users/1/a.png#x", BadTarget::Fragment),
            ("/users/1/#/../2/a.png", BadTarget::Fragment),
            ("/users/1/a b.png", BadTarget::Character),
            ("/users/1/\u{e9}.png", BadTarget::Character),
            ("/users/1/a\n.png", BadTarget::Character),
            ("/users/1/a%zz.png", BadTarget::Path),
            ("/users/1/%ff.png", BadTarget::Path),
        ] {
            assert_eq!(resolve(BASE, target), Err(why), "{target:?}");
        }
    }
}
