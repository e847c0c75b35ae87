//! HAR files (HTTP Archive 1.2, as browsers' developer tools export them): the parts an explanation
//! needs, read leniently where browsers differ and strictly where a missing part would mislead.

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Why a HAR file cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HarError {
    /// Not JSON at all.
    #[error("not a HAR file: not JSON ({0})")]
    NotJson(String),
    /// JSON, but without `log.entries`.
    #[error("not a HAR file: no log.entries array")]
    NoEntries,
    /// An entry lacks a part every HAR entry has.
    #[error("HAR entry {index}: {what}")]
    Entry {
        /// The entry's position, from 0.
        index: usize,
        /// What is missing or malformed.
        what: String,
    },
}

/// A cookie of a HAR `response.cookies` list: what the browser parsed from a `Set-Cookie`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HarCookie {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
    /// `Path`, when the HAR states it.
    pub path: Option<String>,
    /// `Domain`, when the HAR states it.
    pub domain: Option<String>,
}

/// One request and its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's position in the file, from 0.
    pub index: usize,
    /// `startedDateTime` in epoch seconds, when it parses.
    pub started: Option<u64>,
    /// The request method.
    pub method: String,
    /// The request URL.
    pub url: String,
    /// Request headers, in order.
    pub request_headers: Vec<(String, String)>,
    /// The response status; 0 when the request got no response.
    pub status: u16,
    /// Response headers, in order.
    pub response_headers: Vec<(String, String)>,
    /// `response.cookies`.
    pub response_cookies: Vec<HarCookie>,
}

impl Entry {
    /// The values of the request headers named `name` (any case).
    pub fn request_header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        header(&self.request_headers, name)
    }

    /// The values of the response headers named `name` (any case).
    pub fn response_header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        header(&self.response_headers, name)
    }

    /// The cookies the request sent, as (name, value) in the order of its `Cookie` header(s).
    pub fn sent_cookies(&self) -> Vec<(String, String)> {
        self.request_header("cookie")
            .flat_map(|line| line.split(';'))
            .filter_map(|pair| {
                let pair = pair.trim();
                let (name, value) = pair.split_once('=')?;
                Some((name.trim().to_owned(), value.trim().to_owned()))
            })
            .collect()
    }

    /// The response's `Set-Cookie` values; some browsers fold several into one header with newlines.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.response_header("set-cookie")
            .flat_map(str::lines)
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect()
    }

    /// The response's `Date` header in epoch seconds, when it parses.
    pub fn response_date(&self) -> Option<u64> {
        let date = self.response_header("date").next()?;
        let time = httpdate::parse_http_date(date.trim()).ok()?;
        time.duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs())
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Parses a HAR file's text into its entries, in file order.
pub fn parse(text: &str) -> Result<Vec<Entry>, HarError> {
    let document: Value = serde_json::from_str(text).map_err(|e| HarError::NotJson(e.to_string()))?;
    let entries = document
        .get("log")
        .and_then(|log| log.get("entries"))
        .and_then(Value::as_array)
        .ok_or(HarError::NoEntries)?;
    entries
        .iter()
        .enumerate()
        .map(|(index, entry)| parse_entry(index, entry))
        .collect()
}

fn parse_entry(index: usize, entry: &Value) -> Result<Entry, HarError> {
    let missing = |what: &str| HarError::Entry {
        index,
        what: format!("no {what}"),
    };
    let request = entry.get("request").ok_or_else(|| missing("request"))?;
    let url = request
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("request.url"))?;
    let method = request.get("method").and_then(Value::as_str).unwrap_or("GET");
    let request_headers = headers(request.get("headers")).ok_or_else(|| HarError::Entry {
        index,
        what: "request.headers is not a list of {name, value}".to_owned(),
    })?;
    let response = entry.get("response");
    let status = response
        .and_then(|r| r.get("status"))
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0);
    let response_headers = match response.map(|r| r.get("headers")) {
        None | Some(None) => Vec::new(),
        Some(list) => headers(list).ok_or_else(|| HarError::Entry {
            index,
            what: "response.headers is not a list of {name, value}".to_owned(),
        })?,
    };
    let response_cookies = response
        .and_then(|r| r.get("cookies"))
        .and_then(Value::as_array)
        .map(|cookies| cookies.iter().filter_map(har_cookie).collect())
        .unwrap_or_default();
    let started = entry
        .get("startedDateTime")
        .and_then(Value::as_str)
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
        .and_then(|time| u64::try_from(time.unix_timestamp()).ok());
    Ok(Entry {
        index,
        started,
        method: method.to_owned(),
        url: url.to_owned(),
        request_headers,
        status,
        response_headers,
        response_cookies,
    })
}

/// A HAR `headers` list; `None` when it is not one (an absent list is an empty one).
fn headers(list: Option<&Value>) -> Option<Vec<(String, String)>> {
    let Some(list) = list else {
        return Some(Vec::new());
    };
    list.as_array()?
        .iter()
        .map(|header| {
            let name = header.get("name")?.as_str()?;
            let value = header.get("value")?.as_str()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

fn har_cookie(cookie: &Value) -> Option<HarCookie> {
    let text = |field: &str| cookie.get(field).and_then(Value::as_str).map(str::to_owned);
    Some(HarCookie {
        name: text("name")?,
        value: text("value").unwrap_or_default(),
        path: text("path"),
        domain: text("domain"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_ENTRY: &str = r#"{"log": {"entries": [{
        "startedDateTime": "2026-03-01T10:00:00.250Z",
        "request": {"method": "GET", "url": "http://cdn.test/users/1/a.png",
                    "headers": [{"name": "Cookie", "value": "a=1; CloudFront-Policy=eyJ_"},
                                {"name": "cookie", "value": "b=2"}]},
        "response": {"status": 403,
                     "headers": [{"name": "date", "value": "Sun, 01 Mar 2026 10:00:01 GMT"},
                                 {"name": "Set-Cookie", "value": "x=1; Path=/\ny=2"}],
                     "cookies": [{"name": "x", "value": "1", "path": "/"}]}
    }]}}"#;

    #[test]
    fn an_entry_gives_its_cookies_times_and_set_cookies() {
        let entries = parse(ONE_ENTRY).expect("parses");
        let [entry] = entries.as_slice() else {
            panic!("one entry: {entries:?}");
        };
        assert_eq!(entry.started, Some(1_772_359_200));
        assert_eq!(entry.response_date(), Some(1_772_359_201));
        assert_eq!(entry.status, 403);
        assert_eq!(
            entry.sent_cookies(),
            [("a", "1"), ("CloudFront-Policy", "eyJ_"), ("b", "2")]
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
        assert_eq!(entry.set_cookies(), ["x=1; Path=/", "y=2"]);
        assert_eq!(entry.response_cookies[0].path.as_deref(), Some("/"));
    }

    #[test]
    fn what_is_not_a_har_file_is_refused_with_the_reason() {
        assert!(matches!(parse("GET / HTTP/1.1"), Err(HarError::NotJson(_))));
        assert_eq!(parse(r#"{"log": {}}"#), Err(HarError::NoEntries));
        assert_eq!(parse("[]"), Err(HarError::NoEntries));
        assert_eq!(
            parse(r#"{"log": {"entries": [{"response": {}}]}}"#),
            Err(HarError::Entry {
                index: 0,
                what: "no request".to_owned()
            })
        );
        assert_eq!(
            parse(r#"{"log": {"entries": [{"request": {"method": "GET"}}]}}"#),
            Err(HarError::Entry {
                index: 0,
                what: "no request.url".to_owned()
            })
        );
        let bad_headers =
            r#"{"log": {"entries": [{"request": {"url": "http://a/", "headers": "Cookie: a=1"}}]}}"#;
        assert!(
            parse(bad_headers)
                .expect_err("refused")
                .to_string()
                .contains("request.headers")
        );
    }

    #[test]
    fn an_entry_without_a_response_or_times_is_kept() {
        let entries = parse(r#"{"log": {"entries": [{"request": {"url": "http://a/"}}]}}"#).expect("parses");
        assert_eq!(entries[0].status, 0);
        assert_eq!(entries[0].started, None);
        assert_eq!(entries[0].response_date(), None);
    }
}
