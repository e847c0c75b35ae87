//! What the edge's log may show of a request target or `Host` header: all of it, except the values of
//! signatures and policies, which become their length.

/// `text` with the value of every `name=value` parameter whose name mentions a signature or a policy
/// (`Signature`, `Policy`, `CloudFront-Signature`, in any case) replaced by `<N chars>`.
///
/// Parameters are looked for after `?`, `&`, `;` and `/` as well as at the start, because the text may be
/// anything a viewer sent (a `Host` holding a query, cookies pasted into a path).
pub(super) fn redacted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let part_end = rest.find(SEPARATORS).unwrap_or(rest.len());
        match rest[..part_end].split_once('=') {
            Some((name, _)) if is_secret(name) => {
                // The value runs to the next parameter, even across `/` or `?` (standard base64 has `/`).
                let value_start = name.len() + 1;
                let value_end = rest[value_start..]
                    .find(['&', ';'])
                    .map_or(rest.len(), |i| value_start + i);
                out.push_str(name);
                out.push_str(&format!("=<{} chars>", value_end - value_start));
                rest = &rest[value_end..];
            }
            _ => {
                out.push_str(&rest[..part_end]);
                rest = &rest[part_end..];
            }
        }
        if let Some(separator) = rest.chars().next() {
            out.push(separator);
            rest = &rest[separator.len_utf8()..];
        }
    }
    out
}

const SEPARATORS: [char; 4] = ['?', '&', ';', '/'];

fn is_secret(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    name.contains("signature") || name.contains("policy")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_policies_become_their_length() {
        assert_eq!(
            redacted("/users/1/a.png?Expires=1&Signature=abc~_&Key-Pair-Id=K1&Policy=eyJ9"),
            "/users/1/a.png?Expires=1&Signature=<5 chars>&Key-Pair-Id=K1&Policy=<4 chars>"
        );
        assert_eq!(
            redacted("127.0.0.1:8081?Expires=1&signature=zz&Hash-Algorithm=SHA256&Expires="),
            "127.0.0.1:8081?Expires=1&signature=<2 chars>&Hash-Algorithm=SHA256&Expires="
        );
        assert_eq!(
            redacted("/x/CloudFront-Policy=abc;CloudFront-Signature=de/y"),
            "/x/CloudFront-Policy=<3 chars>;CloudFront-Signature=<4 chars>"
        );
        assert_eq!(redacted("Signature="), "Signature=<0 chars>");
        assert_eq!(redacted("?Signature=a/b?c&x"), "?Signature=<5 chars>&x");
    }

    #[test]
    fn everything_else_is_kept_as_sent() {
        for text in [
            "",
            "/users/1/a.png",
            "127.0.0.1:8081/users/2/",
            "/a?b&c=d&&e=?",
            "http://h/p?x=%41",
        ] {
            assert_eq!(redacted(text), text);
        }
    }
}
