//! The file name a browser sends with an upload: shown to its owner, never used in keys or headers.

use std::fmt;

use crate::domain::InvalidInput;

/// An original file name, fit for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageName(String);

/// Characters that reorder text: a name such as `photo\u{202E}gpj.exe` would display as `photoexe.jpg`.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

impl ImageName {
    /// The longest accepted name, in characters (what file systems commonly allow).
    pub const MAX_CHARS: usize = 255;

    /// Accepts a non-blank name of at most [`ImageName::MAX_CHARS`] characters without control or
    /// text-direction characters. It is kept as given otherwise.
    pub fn parse(text: &str) -> Result<Self, InvalidInput> {
        let invalid = |reason: String| InvalidInput {
            field: "name",
            reason,
        };
        if text.trim().is_empty() {
            return Err(invalid("is required".to_owned()));
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(invalid(format!("must be at most {} characters", Self::MAX_CHARS)));
        }
        if text.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err(invalid(
                "must not contain control or text-direction characters".to_owned(),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_are_kept_as_given() {
        for name in ["holiday.jpg", "  spaced out.png ", "été à Paris.webp", "写真.gif"] {
            assert_eq!(ImageName::parse(name).map(|n| n.0), Ok(name.to_owned()));
        }
        assert!(ImageName::parse(&"é".repeat(ImageName::MAX_CHARS)).is_ok());
    }

    #[test]
    fn blank_long_and_control_laden_names_are_refused() {
        for bad in [
            String::new(),
            "   ".to_owned(),
            "a".repeat(ImageName::MAX_CHARS + 1),
            "line\nbreak.jpg".to_owned(),
            "nul\0.png".to_owned(),
            "tab\t.png".to_owned(),
            "escape\u{1b}[31m.png".to_owned(),
            "photo\u{202E}gpj.exe".to_owned(),
            "isolate\u{2067}.png".to_owned(),
        ] {
            let error = ImageName::parse(&bad).expect_err(&bad);
            assert_eq!(error.field, "name");
        }
    }
}
