//! Matching a custom policy's `Resource` against a request URL, with CloudFront's wildcards.
//!
//! `*` matches zero or more characters and `?` exactly one. CloudFront bounds wildcards by URL section
//! (scheme, host, path, query): a `*` does not run across `://`, the `/` that starts the path or the
//! `?` that starts the query — except a `*` that ends the pattern, which matches everything after it
//! (so `https://cdn/users/42/*` also covers any query string). A `?` matches any one character,
//! including the query's `?`, because signers write the query delimiter unescaped; `\?` is a literal `?`.
//! Patterns of the form `/users/42/*` behave identically under this and a plain whole-string glob.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Star,
    AnyOne,
    Literal(u8),
}

fn tokenize(pattern: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        let token = match pattern[i] {
            b'\\' if matches!(pattern.get(i + 1), Some(b'?' | b'*')) => {
                i += 1;
                Token::Literal(pattern[i])
            }
            b'*' => Token::Star,
            b'?' => Token::AnyOne,
            other => Token::Literal(other),
        };
        tokens.push(token);
        i += 1;
    }
    tokens
}

/// Marks the characters that separate URL sections: `://`, the path's first `/`, the query's `?`.
fn section_boundaries(url: &[u8]) -> Vec<bool> {
    let mut boundary = vec![false; url.len()];
    let Some(scheme_end) = url.windows(3).position(|w| w == b"://") else {
        return boundary;
    };
    boundary[scheme_end..scheme_end + 3].fill(true);
    let host_start = scheme_end + 3;
    let Some(host_len) = url[host_start..].iter().position(|&b| b == b'/' || b == b'?') else {
        return boundary;
    };
    let path_start = host_start + host_len;
    if url[path_start] == b'/' {
        boundary[path_start] = true;
    }
    if let Some(query) = url[path_start..].iter().position(|&b| b == b'?') {
        boundary[path_start + query] = true;
    }
    boundary
}

/// Whether the policy resource `pattern` grants the request `url`.
pub fn resource_matches(pattern: &str, url: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    // A pattern without a scheme that starts with `*` in the host (`*example.com`) means any scheme.
    let owned;
    let pattern = if !pattern.contains("://") && pattern.starts_with('*') {
        owned = format!("*://{pattern}");
        owned.as_str()
    } else {
        pattern
    };
    let tokens = tokenize(pattern.as_bytes());
    let url = url.as_bytes();
    let boundary = section_boundaries(url);
    let (t, m) = (tokens.len(), url.len());
    // matches[i][j]: tokens[i..] match url[j..]; filled from the end, one row at a time.
    let mut next = vec![false; m + 1];
    next[m] = true;
    for i in (0..t).rev() {
        let mut row = vec![false; m + 1];
        for j in (0..=m).rev() {
            row[j] = match tokens[i] {
                Token::Star => {
                    let may_consume = j < m && (i == t - 1 || !boundary[j]);
                    next[j] || (may_consume && row[j + 1])
                }
                Token::AnyOne => j < m && next[j + 1],
                Token::Literal(c) => j < m && url[j] == c && next[j + 1],
            };
        }
        next = row;
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "https://d111111abcdef8.cloudfront.net/users/alice/*";

    #[test]
    fn a_trailing_star_covers_everything_below_the_prefix_and_any_query() {
        for url in [
            "https://d111111abcdef8.cloudfront.net/users/alice/photo.jpg",
            "https://d111111abcdef8.cloudfront.net/users/alice/",
            "https://d111111abcdef8.cloudfront.net/users/alice/a/b/c.webp?w=100&h=2",
        ] {
            assert!(resource_matches(PREFIX, url), "{url}");
        }
    }

    #[test]
    fn a_prefix_does_not_cover_other_users_hosts_or_schemes() {
        for url in [
            "https://d111111abcdef8.cloudfront.net/users/alice2/photo.jpg",
            "https://d111111abcdef8.cloudfront.net/users/bob/photo.jpg",
            "https://d111111abcdef8.cloudfront.net/users/alice",
            "http://d111111abcdef8.cloudfront.net/users/alice/photo.jpg",
            "https://evil.example/users/alice/photo.jpg",
            "https://d111111abcdef8.cloudfront.net/public/users/alice/photo.jpg",
        ] {
            assert!(!resource_matches(PREFIX, url), "{url}");
        }
    }

    #[test]
    fn an_inner_star_stays_within_its_section() {
        let pattern = "https://www.example.com/hello*world";
        assert!(resource_matches(pattern, "https://www.example.com/hello-world"));
        assert!(!resource_matches(pattern, "https://www.example.com/hello?world"));
        assert!(resource_matches(
            "https://*.example.com/a.jpg",
            "https://cdn.example.com/a.jpg"
        ));
        assert!(!resource_matches(
            "https://*.example.com/a.jpg",
            "https://x/y.example.com/a.jpg"
        ));
        assert!(!resource_matches("https://*/a.jpg", "https://h/b/a.jpg"));
    }

    #[test]
    fn question_mark_matches_one_character_including_the_query_delimiter() {
        assert!(resource_matches("https://h/photo?.jpg", "https://h/photo1.jpg"));
        assert!(!resource_matches("https://h/photo?.jpg", "https://h/photo12.jpg"));
        assert!(resource_matches(
            "https://h/a.jpg?size=large",
            "https://h/a.jpg?size=large"
        ));
        assert!(resource_matches(
            r"https://h/a.jpg\?size=large",
            "https://h/a.jpg?size=large"
        ));
        assert!(!resource_matches(
            r"https://h/a.jpg\?size=large",
            "https://h/a.jpgXsize=large"
        ));
    }

    #[test]
    fn exact_resources_match_only_themselves() {
        let exact = "https://h/users/alice/photo.jpg";
        assert!(resource_matches(exact, exact));
        assert!(!resource_matches(exact, "https://h/users/alice/photo.jpg?x=1"));
        assert!(!resource_matches(exact, "https://h/users/alice/photo.jpeg"));
    }

    #[test]
    fn star_alone_and_schemeless_host_patterns() {
        assert!(resource_matches("*", "https://anything/at/all?x"));
        assert!(resource_matches("*example.com/*", "http://cdn.example.com/a"));
        assert!(!resource_matches("*example.com/*", "http://cdn.example.org/a"));
        assert!(resource_matches("https://*", "https://h/a/b?c"));
    }
}
