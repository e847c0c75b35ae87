//! Validated values that enter through the API; inner code never re-checks them.

use std::fmt;

/// A user's id, as stored and as it appears in CDN paths (`users/{id}/`). It is the column type of
/// every user id in the database (`users.id` and each reference to it), so a `UserId` never turns back
/// into a bare integer on its way to a query or from a row. Any `i64` is a possible id, so the field is
/// public.
// The fuzz crate compiles this file without sea-orm (see fuzz/src/lib.rs); its build script sets
// `edgepass_without_database`, which leaves the column mapping out there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(not(edgepass_without_database), derive(sea_orm::DeriveValueType))]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The decimal form [`UserId`]'s `Display` writes.
impl std::str::FromStr for UserId {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(Self)
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

/// The characters the local part may hold besides ASCII letters and digits.
const LOCAL_PART_SYMBOLS: &str = ".!#$%&'*+/=?^_`{|}~-";

impl Email {
    /// The longest address SMTP can carry.
    pub const MAX_LEN: usize = 254;
    /// The longest local part SMTP can carry.
    const MAX_LOCAL_LEN: usize = 64;
    /// The longest DNS label.
    const MAX_LABEL_LEN: usize = 63;

    /// Accepts addresses of the grammar above, after trimming surrounding whitespace and folding case.
    /// Deliverability is not checked.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let invalid = |why: &str| InvalidInput::new("email", why.to_owned());
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("is required"));
        }
        if let Some(why) = text.chars().find_map(unsafe_character) {
            return Err(invalid(why));
        }
        if !text.is_ascii() {
            return Err(invalid(
                "must be written in ASCII: write an internationalized domain in its xn-- form",
            ));
        }
        if text.len() > Self::MAX_LEN {
            return Err(invalid("is longer than 254 characters"));
        }
        let folded = text.to_ascii_lowercase();
        let Some((local, domain)) = folded.split_once('@') else {
            return Err(invalid("must look like name@example.com"));
        };
        if local.is_empty() || local.len() > Self::MAX_LOCAL_LEN {
            return Err(invalid("must have 1 to 64 characters before the @"));
        }
        if let Some(c) = local
            .chars()
            .find(|&c| !c.is_ascii_alphanumeric() && !LOCAL_PART_SYMBOLS.contains(c))
        {
            return Err(invalid(&format!(
                "must not contain {c:?} before the @ (allowed: letters, digits and {LOCAL_PART_SYMBOLS})"
            )));
        }
        let labels_ok = domain.split('.').all(|label| {
            (1..=Self::MAX_LABEL_LEN).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if !domain.contains('.') || !labels_ok {
            return Err(invalid(
                "must end in a domain such as example.com: dot-separated names of letters, digits and \
                 hyphens",
            ));
        }
        Ok(Self(folded))
    }

    /// An address read back from the database. Accounts made before the grammar above was enforced
    /// keep working with the address they were made with.
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why `c` can never be part of an address: control characters, and the invisible formatting and
/// direction characters (general category Cf) that make one address display as another.
fn unsafe_character(c: char) -> Option<&'static str> {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    if c.is_control() {
        return Some("must not contain control characters");
    }
    if c.general_category() == GeneralCategory::Format {
        return Some("must not contain invisible formatting or text-direction characters");
    }
    if c.is_whitespace() {
        return Some("must not contain spaces");
    }
    None
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
    use proptest::prelude::*;

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
    fn lookalike_and_markup_addresses_are_refused_with_the_reason() {
        for (bad, why) in [
            ("alice@example.com\u{202E}", "text-direction"),
            ("\u{202E}alice@example.com", "text-direction"),
            ("ali\u{200B}ce@example.com", "invisible formatting"),
            ("alice@exam\u{AD}ple.com", "invisible formatting"),
            ("alice@example.com\u{FEFF}", "invisible formatting"),
            ("ali\u{0}ce@example.com", "control characters"),
            ("ali\u{85}ce@example.com", "control characters"),
            ("<script>@example.com", "'<'"),
            ("a\"b@example.com", "'\"'"),
            ("a(b)@example.com", "'('"),
            ("alice@bücher.de", "ASCII"),
            ("аlice@example.com", "ASCII"),
            ("alice@ex_ample.com", "domain"),
            ("alice@example.com.", "domain"),
            ("alice@[127.0.0.1]", "domain"),
        ] {
            let error = Email::parse(bad).expect_err(bad);
            assert_eq!(error.field, "email");
            assert!(error.reason.contains(why), "{bad:?}: {}", error.reason);
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(Email::parse(&format!("a@{}.com", "b".repeat(64))).is_err());
    }

    #[test]
    fn the_whole_html_email_grammar_is_accepted() {
        for good in [
            "o'brien+tag@example.co.uk",
            "a.b@xn--bcher-kva.de",
            "!#$%&'*+/=?^_`{|}~-@a-b.example",
            ".dots..anywhere.@example.com",
            "x@1.2",
        ] {
            assert_eq!(Email::parse(good).expect(good).as_str(), good);
        }
        let longest_label = format!("a@{}.com", "b".repeat(63));
        assert!(Email::parse(&longest_label).is_ok());
    }

    /// Invisible formatting characters (Cf): the bidi controls, zero-width characters, the soft hyphen,
    /// the byte-order mark, Arabic number signs and tags.
    fn format_characters() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            '\u{AD}',
            '\u{600}',
            '\u{61C}',
            '\u{180E}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2060}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{FFF9}',
            '\u{E0001}',
            '\u{E007F}',
        ])
    }

    /// Addresses of the grammar.
    fn grammatical() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,20}@[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?){1,3}"
    }

    fn unsafe_char(c: char) -> bool {
        use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
        c.is_control() || c.general_category() == GeneralCategory::Format
    }

    proptest! {
        #[test]
        fn every_address_of_the_grammar_is_accepted_folded_and_round_trips(text in grammatical()) {
            let email = Email::parse(&text).expect("grammatical");
            prop_assert_eq!(email.as_str(), text.to_ascii_lowercase());
            prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
        }

        #[test]
        fn no_format_character_anywhere_in_an_address_is_accepted(
            text in grammatical(),
            c in format_characters(),
            at in any::<prop::sample::Index>(),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            chars.insert(at.index(chars.len() + 1), c);
            let bad: String = chars.into_iter().collect();
            prop_assert!(Email::parse(&bad).is_err(), "{:?}", bad);
        }

        #[test]
        fn no_accepted_address_holds_a_control_or_format_character_and_each_round_trips(
            text in grammatical(),
            c in any::<char>(),
            at in any::<prop::sample::Index>(),
        ) {
            let mut chars: Vec<char> = text.chars().collect();
            chars.insert(at.index(chars.len() + 1), c);
            let candidate: String = chars.into_iter().collect();
            if let Ok(email) = Email::parse(&candidate) {
                prop_assert!(email.as_str().is_ascii());
                prop_assert!(!email.as_str().chars().any(unsafe_char), "{:?}", email);
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
            }
        }

        #[test]
        fn no_accepted_string_holds_a_control_or_format_character(text in any::<String>()) {
            if let Ok(email) = Email::parse(&text) {
                prop_assert!(!email.as_str().chars().any(unsafe_char), "{:?}", email);
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email));
            }
        }
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
