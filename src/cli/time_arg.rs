//! Times on the command line: epoch seconds, RFC 3339, or a bare date (midnight UTC).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// Parses a time argument into epoch seconds.
pub(crate) fn parse_time(text: &str) -> Result<u64, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map_err(|_| format!("time {text:?} is too large"));
    }
    let parsed = OffsetDateTime::parse(text, &Rfc3339).or_else(|_| {
        Date::parse(text, format_description!("[year]-[month]-[day]")).map(|d| d.midnight().assume_utc())
    });
    let moment =
        parsed.map_err(|_| format!("invalid time {text:?}: use epoch seconds, RFC 3339 or YYYY-MM-DD"))?;
    u64::try_from(moment.unix_timestamp()).map_err(|_| format!("time {text:?} is before 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_epochs_rfc3339_and_dates() {
        assert_eq!(parse_time("1893456000"), Ok(1_893_456_000));
        assert_eq!(parse_time("2030-01-01T00:00:00Z"), Ok(1_893_456_000));
        assert_eq!(parse_time("2030-01-01T01:00:00+01:00"), Ok(1_893_456_000));
        assert_eq!(parse_time("2030-01-01"), Ok(1_893_456_000));
    }

    #[test]
    fn refuses_other_text() {
        for bad in [
            "",
            "soon",
            "-5",
            "1969-12-31T00:00:00Z",
            "2030-13-01",
            "99999999999999999999999",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
