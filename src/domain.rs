//! Validated values that enter through the API; inner code never re-checks them.

use std::fmt;

/// A user's id, as stored and as it appears in CDN paths (`users/{id}/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why an input value was refused; the text is safe to show to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidInput {
    /// The request field.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl InvalidInput {
    fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// The latest time edgepass accepts as an expiry: 9999-12-31T23:59:59Z, epoch seconds. Later times
/// have no four-digit year for clients to show, and every accepted time stays a positive `i64` as stored.
pub const LATEST_EXPIRY: u64 = 253_402_300_799;

/// An expiry given as a time (`at`, epoch seconds) must lie after `now` and not after
/// [`LATEST_EXPIRY`].
pub fn expiry_at(field: &'static str, at: u64, now: u64) -> Result<u64, InvalidInput> {
    if at <= now {
        return Err(InvalidInput::new(field, "must be in the future"));
    }
    if at > LATEST_EXPIRY {
        return Err(InvalidInput::new(
            field,
            format!("must be at most {LATEST_EXPIRY} (9999-12-31T23:59:59Z)"),
        ));
    }
    Ok(at)
}

/// An expiry given as a lifetime (`secs` from `now`) must be at least 1 second and end by
/// [`LATEST_EXPIRY`].
pub fn expiry_in(field: &'static str, secs: u64, now: u64) -> Result<u64, InvalidInput> {
    if secs == 0 {
        return Err(InvalidInput::new(field, "must be at least 1 second"));
    }
    match now.checked_add(secs) {
        Some(at) if at <= LATEST_EXPIRY => Ok(at),
        _ => Err(InvalidInput::new(
            field,
            format!("must end by {LATEST_EXPIRY} (9999-12-31T23:59:59Z)"),
        )),
    }
}

/// An email address, trimmed and case-folded, so one mailbox is one account.
///
/// The grammar is the HTML standard's "valid email address" (what browsers accept in
/// `<input type=email>`), with a dotted domain required:
///
/// ```text
/// email  = local "@" label 1*("." label)
/// local  = 1*64( ALPHA / DIGIT / "." / "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "/" / "="
///               / "?" / "^" / "_" / "`" / "{" / "|" / "}" / "~" / "-" )
/// label  = 1*63( ALPHA / DIGIT / "-" ), neither starting nor ending with "-"
/// ```
///
/// at most 254 characters in all. Only ASCII is accepted: an internationalized domain is written in
/// its `xn--` form, and no invisible or direction-changing character (Unicode general category Cf, such
/// as U+202E) nor any control character can make two accounts look alike.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// The longest address SMTP can carry.
    pub const MAX_LEN: usize = 254;

    /// Accepts `local@domain.tld` shapes: one `@`, a non-empty local part, a dotted domain, no spaces or
    /// control characters. Deliverability is not checked.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let folded = text.trim().to_lowercase();
        let invalid = |why: &str| InvalidInput::new("email", why.to_owned());
        if folded.is_empty() {
            return Err(invalid("is required"));
        }
        if folded.len() > Self::MAX_LEN {
            return Err(invalid("is longer than 254 characters"));
        }
        if folded.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let Some((local, domain)) = folded.split_once('@') else {
            return Err(invalid("must look like name@example.com"));
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(invalid("must look like name@example.com"));
        }
        Ok(Self(folded))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password within the accepted length; never printed.
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// Shortest accepted password, in characters.
    pub const MIN_CHARS: usize = 10;
    /// Longest accepted password, in bytes: it bounds the cost of hashing one.
    pub const MAX_BYTES: usize = 256;

    /// Checks the length bounds.
    pub fn parse(text: String) -> Result<Self, InvalidInput> {
        if text.chars().count() < Self::MIN_CHARS {
            return Err(InvalidInput::new(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if text.len() > Self::MAX_BYTES {
            return Err(InvalidInput::new(
                "password",
                format!("must be at most {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(Self(text))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_case_folded() {
        assert_eq!(
            Email::parse("  Alice@Example.COM ").expect("email").as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "a b@example.com",
            "a@b@c.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords_have_length_bounds_and_hide_in_debug() {
        assert!(Password::parse("short".to_owned()).is_err());
        assert!(Password::parse("x".repeat(257)).is_err());
        let password = Password::parse("correct horse battery".to_owned()).expect("password");
        assert_eq!(format!("{password:?}"), "Password(…)");
        assert!(
            Password::parse("ééééééééééé".to_owned()).is_ok(),
            "length counts characters"
        );
    }
}
