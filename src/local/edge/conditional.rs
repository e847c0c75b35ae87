//! Conditional requests and byte ranges (RFC 9110 §13 and §14), decided from the object's HEAD.

use std::time::{SystemTime, UNIX_EPOCH};

use poem::http::HeaderMap;
use poem::http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE, RANGE};

/// What identifies the stored version of an object.
#[derive(Clone, Copy, Debug)]
pub struct Validators<'a> {
    /// The entity tag, quoted (`"…"`).
    pub etag: Option<&'a str>,
    /// When it was last written.
    pub last_modified: Option<SystemTime>,
}

impl Validators<'_> {
    /// `Last-Modified` in whole seconds, as the header carries it.
    fn modified_secs(&self) -> Option<u64> {
        self.last_modified
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
    }
}

/// The outcome of the preconditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// Answer normally.
    Proceed,
    /// 304: the viewer's copy is current.
    NotModified,
    /// 412: a precondition does not hold.
    Failed,
}

/// The part of the object to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// All of it (no `Range`, a malformed or multi-part one, or an `If-Range` that does not match).
    Whole,
    /// The inclusive byte range `first..=last`.
    Part {
        /// The first byte.
        first: u64,
        /// The last byte.
        last: u64,
    },
    /// 416: no byte of the range exists.
    Unsatisfiable,
}

fn header<'h>(headers: &'h HeaderMap, name: &poem::http::HeaderName) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn epoch_secs(text: &str) -> Option<u64> {
    httpdate::parse_http_date(text.trim())
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

/// Entity tags of an `If-Match` / `If-None-Match` list as (weak, opaque-tag-with-quotes); `None` for `*`.
fn entity_tags(list: &str) -> Option<Vec<(bool, &str)>> {
    if list.trim() == "*" {
        return None;
    }
    let mut tags = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(tags);
        }
        let (weak, tail) = match rest.strip_prefix("W/") {
            Some(tail) => (true, tail),
            None => (false, rest),
        };
        // A malformed member ends the list: what was read so far still counts.
        let Some(after_quote) = tail.strip_prefix('"') else {
            return Some(tags);
        };
        let Some(end) = after_quote.find('"') else {
            return Some(tags);
        };
        tags.push((weak, &tail[..end + 2]));
        rest = &after_quote[end + 1..];
    }
}

/// Strong comparison: both tags strong and equal.
fn strong_match(list: &str, etag: Option<&str>) -> bool {
    match (entity_tags(list), etag) {
        (None, _) => true,
        (Some(tags), Some(etag)) => tags.iter().any(|(weak, tag)| !weak && *tag == etag),
        (Some(_), None) => false,
    }
}

/// Weak comparison: equal opaque tags, weak or not.
fn weak_match(list: &str, etag: Option<&str>) -> bool {
    let bare = |tag: &str| tag.strip_prefix("W/").unwrap_or(tag).to_owned();
    match (entity_tags(list), etag) {
        (None, _) => true,
        (Some(tags), Some(etag)) => tags.iter().any(|(_, tag)| *tag == bare(etag)),
        (Some(_), None) => false,
    }
}

/// Evaluates `If-Match`, `If-Unmodified-Since`, `If-None-Match` and `If-Modified-Since` in RFC 9110's
/// order (§13.2.2) for a GET or HEAD of an existing object.
pub fn preconditions(headers: &HeaderMap, object: Validators<'_>) -> Precondition {
    if let Some(list) = header(headers, &IF_MATCH) {
        if !strong_match(list, object.etag) {
            return Precondition::Failed;
        }
    } else if let Some(since) = header(headers, &IF_UNMODIFIED_SINCE).and_then(epoch_secs)
        && object.modified_secs().is_some_and(|modified| modified > since)
    {
        return Precondition::Failed;
    }
    if let Some(list) = header(headers, &IF_NONE_MATCH) {
        if weak_match(list, object.etag) {
            return Precondition::NotModified;
        }
    } else if let Some(since) = header(headers, &IF_MODIFIED_SINCE).and_then(epoch_secs)
        && object.modified_secs().is_some_and(|modified| modified <= since)
    {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

/// Whether an `If-Range` validator names the stored version (strong tag, or exactly its date).
fn if_range_holds(value: &str, object: Validators<'_>) -> bool {
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return !value.starts_with("W/") && object.etag == Some(value);
    }
    epoch_secs(value).is_some_and(|date| object.modified_secs() == Some(date))
}

/// The span a `Range` header asks for out of `size` bytes. Only one range is served, as S3 does;
/// anything else (other units, several ranges, bad syntax) gets the whole object.
pub fn span(headers: &HeaderMap, size: u64, object: Validators<'_>) -> Span {
    let Some(range) = header(headers, &RANGE) else {
        return Span::Whole;
    };
    if header(headers, &IF_RANGE).is_some_and(|value| !if_range_holds(value, object)) {
        return Span::Whole;
    }
    let Some((unit, spec)) = range.trim().split_once('=') else {
        return Span::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return Span::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Span::Whole;
    };
    let number = |text: &str| {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    match (
        number(first),
        first.trim().is_empty(),
        number(last),
        last.trim().is_empty(),
    ) {
        // bytes=first-last and bytes=first-
        (Some(first), _, last, last_empty) if last.is_some() || last_empty => {
            if last.is_some_and(|last| last < first) {
                return Span::Whole;
            }
            if first >= size {
                return Span::Unsatisfiable;
            }
            let last = last.map_or(size - 1, |last| last.min(size - 1));
            Span::Part { first, last }
        }
        // bytes=-suffix
        (None, true, Some(suffix), _) => {
            if suffix == 0 || size == 0 {
                return Span::Unsatisfiable;
            }
            Span::Part {
                first: size - suffix.min(size),
                last: size - 1,
            }
        }
        _ => Span::Whole,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use poem::http::HeaderValue;

    use super::*;

    const ETAG: &str = "\"0123abcd\"";
    const MODIFIED: u64 = 1_800_000_000;

    fn object() -> Validators<'static> {
        Validators {
            etag: Some(ETAG),
            last_modified: Some(UNIX_EPOCH + Duration::from_millis(MODIFIED * 1000 + 250)),
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    fn date(secs: u64) -> String {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn if_none_match_compares_weakly_and_if_match_strongly() {
        for (list, expected) in [
            (ETAG, Precondition::NotModified),
            ("W/\"0123abcd\"", Precondition::NotModified),
            ("\"other\", \"0123abcd\"", Precondition::NotModified),
            ("*", Precondition::NotModified),
            ("\"other\"", Precondition::Proceed),
        ] {
            assert_eq!(
                preconditions(&headers(&[("if-none-match", list)]), object()),
                expected,
                "If-None-Match: {list}"
            );
        }
        for (list, expected) in [
            (ETAG, Precondition::Proceed),
            ("*", Precondition::Proceed),
            ("W/\"0123abcd\"", Precondition::Failed),
            ("\"other\"", Precondition::Failed),
        ] {
            assert_eq!(
                preconditions(&headers(&[("if-match", list)]), object()),
                expected,
                "If-Match: {list}"
            );
        }
    }

    #[test]
    fn dates_compare_in_whole_seconds() {
        let at = date(MODIFIED);
        let before = date(MODIFIED - 1);
        assert_eq!(
            preconditions(&headers(&[("if-modified-since", &at)]), object()),
            Precondition::NotModified
        );
        assert_eq!(
            preconditions(&headers(&[("if-modified-since", &before)]), object()),
            Precondition::Proceed
        );
        assert_eq!(
            preconditions(&headers(&[("if-unmodified-since", &at)]), object()),
            Precondition::Proceed
        );
        assert_eq!(
            preconditions(&headers(&[("if-unmodified-since", &before)]), object()),
            Precondition::Failed
        );
        assert_eq!(
            preconditions(&headers(&[("if-modified-since", "yesterday")]), object()),
            Precondition::Proceed,
            "an unreadable date is ignored"
        );
    }

    #[test]
    fn tags_win_over_dates() {
        let at = date(MODIFIED);
        let before = date(MODIFIED - 1);
        // If-None-Match present: If-Modified-Since is not looked at.
        assert_eq!(
            preconditions(
                &headers(&[("if-none-match", "\"other\""), ("if-modified-since", &at)]),
                object()
            ),
            Precondition::Proceed
        );
        // If-Match present: If-Unmodified-Since is not looked at.
        assert_eq!(
            preconditions(
                &headers(&[("if-match", ETAG), ("if-unmodified-since", &before)]),
                object()
            ),
            Precondition::Proceed
        );
        // A failed If-Match wins over a matching If-None-Match.
        assert_eq!(
            preconditions(
                &headers(&[("if-match", "\"other\""), ("if-none-match", ETAG)]),
                object()
            ),
            Precondition::Failed
        );
    }

    #[test]
    fn single_byte_ranges_are_served() {
        let span_of = |range: &str| span(&headers(&[("range", range)]), 100, object());
        assert_eq!(span_of("bytes=0-9"), Span::Part { first: 0, last: 9 });
        assert_eq!(span_of("bytes=90-"), Span::Part { first: 90, last: 99 });
        assert_eq!(span_of("bytes=90-500"), Span::Part { first: 90, last: 99 });
        assert_eq!(span_of("bytes=-10"), Span::Part { first: 90, last: 99 });
        assert_eq!(span_of("bytes=-500"), Span::Part { first: 0, last: 99 });
        assert_eq!(span_of("BYTES = 5-5"), Span::Part { first: 5, last: 5 });
        assert_eq!(span_of("bytes=100-"), Span::Unsatisfiable);
        assert_eq!(span_of("bytes=100-200"), Span::Unsatisfiable);
        assert_eq!(span_of("bytes=-0"), Span::Unsatisfiable);
        for ignored in [
            "bytes=9-0",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=a-b",
            "bytes=-",
            "bytes",
        ] {
            assert_eq!(span_of(ignored), Span::Whole, "{ignored}");
        }
        assert_eq!(
            span(&headers(&[("range", "bytes=-1")]), 0, object()),
            Span::Unsatisfiable
        );
        assert_eq!(span(&headers(&[]), 100, object()), Span::Whole);
    }

    #[test]
    fn if_range_keeps_the_range_only_for_the_same_version() {
        let with = |if_range: &str| {
            span(
                &headers(&[("range", "bytes=0-9"), ("if-range", if_range)]),
                100,
                object(),
            )
        };
        assert_eq!(with(ETAG), Span::Part { first: 0, last: 9 });
        assert_eq!(with(&date(MODIFIED)), Span::Part { first: 0, last: 9 });
        assert_eq!(with("\"other\""), Span::Whole);
        assert_eq!(with("W/\"0123abcd\""), Span::Whole);
        assert_eq!(with(&date(MODIFIED - 1)), Span::Whole);
    }
}
