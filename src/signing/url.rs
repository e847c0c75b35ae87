//! Signed-URL assembly: the caller's URL is kept byte for byte and the signing parameters appended.

use super::error::SignError;

/// Query parameters CloudFront reads as a signature; a URL carrying any of them is judged as a signed URL.
pub const RESERVED_QUERY_PARAMETERS: [&str; 5] =
    ["Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"];

/// Checks that `url` can be signed as given: absolute http(s), printable ASCII, no fragment, and no
/// reserved parameter already in its query.
///
/// The URL is never re-encoded: CloudFront compares the bytes the viewer sends with the bytes that
/// were signed, so the caller's encoding is the one that must survive.
pub(crate) fn check_url(url: &str) -> Result<(), SignError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or(SignError::InvalidUrl("not an absolute http:// or https:// URL"))?;
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    if host_end == 0 {
        return Err(SignError::InvalidUrl("no host"));
    }
    if !url.is_ascii() {
        return Err(SignError::InvalidUrl(
            "non-ASCII characters; percent-encode the path and use punycode for the host",
        ));
    }
    if url
        .bytes()
        .any(|b| b.is_ascii_control() || matches!(b, b' ' | b'"' | b'\\' | b'<' | b'>'))
    {
        return Err(SignError::InvalidUrl(
            "spaces, quotes, backslashes or control characters",
        ));
    }
    if url.contains('#') {
        return Err(SignError::InvalidUrl(
            "it has a fragment (#…), which browsers never send",
        ));
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            if RESERVED_QUERY_PARAMETERS
                .iter()
                .any(|r| r.eq_ignore_ascii_case(name))
            {
                return Err(SignError::ReservedParameter(name.to_owned()));
            }
        }
    }
    Ok(())
}

/// Appends `params` to `url` with `?` or `&`, as every AWS signer does; values are emitted raw because
/// CloudFront base64 and key ids contain only URL-unreserved characters.
pub(crate) fn append_query(url: &str, params: &[(&str, &str)]) -> String {
    let extra: usize = params.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(url.len() + extra);
    out.push_str(url);
    let mut separator = if url.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        out.push(separator);
        out.push_str(name);
        out.push('=');
        out.push_str(value);
        separator = '&';
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_urls_with_their_own_query_and_percent_encoding() {
        assert_eq!(check_url("https://h.example/a%20b/~c-d_e.f?x=%3D1&y"), Ok(()));
        assert_eq!(check_url("http://h.example"), Ok(()));
    }

    #[test]
    fn refuses_reserved_parameters_fragments_and_odd_urls() {
        for name in RESERVED_QUERY_PARAMETERS {
            let url = format!("https://h/a?x=1&{name}=2");
            assert_eq!(
                check_url(&url),
                Err(SignError::ReservedParameter(name.to_owned()))
            );
        }
        assert_eq!(
            check_url("https://h/a?expires"),
            Err(SignError::ReservedParameter("expires".to_owned()))
        );
        assert!(matches!(
            check_url("https://h/a#x"),
            Err(SignError::InvalidUrl(_))
        ));
        assert!(matches!(check_url("ftp://h/a"), Err(SignError::InvalidUrl(_))));
        assert!(matches!(check_url("https:///a"), Err(SignError::InvalidUrl(_))));
        assert!(matches!(
            check_url("https://h/a b"),
            Err(SignError::InvalidUrl(_))
        ));
        assert!(matches!(check_url("https://h/é"), Err(SignError::InvalidUrl(_))));
    }

    #[test]
    fn appends_with_the_right_separator() {
        assert_eq!(
            append_query("https://h/a", &[("A", "1"), ("B", "2")]),
            "https://h/a?A=1&B=2"
        );
        assert_eq!(
            append_query("https://h/a?x=~", &[("A", "1")]),
            "https://h/a?x=~&A=1"
        );
    }
}
