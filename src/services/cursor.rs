//! The listing cursor: the opaque `?cursor=` that continues a listing after the last image of a page.
//!
//! It is unpadded URL-safe base64 of `<created_at>.<image id>`. Decoding is strict, since the text comes
//! from the query string: anything that is not a cursor this API could have returned is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::db::images::Position;
use crate::images::ImageId;

/// The cursor that continues a listing after `position`.
pub fn encode(position: &Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}.{}", position.created_at, position.id))
}

/// The position a cursor names; `None` when `text` is not a cursor (surrounding whitespace is ignored).
pub fn decode(text: &str) -> Option<Position> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
    let decoded = String::from_utf8(bytes).ok()?;
    let (created_at, id) = decoded.split_once('.')?;
    Some(Position {
        created_at: created_at.parse().ok()?,
        id: ImageId::parse(id)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_names_the_position_it_was_made_from() {
        let position = Position {
            created_at: 1_767_225_600,
            id: ImageId::parse("abcdefghijklmnopqrstuvwxyz").expect("id"),
        };
        assert_eq!(decode(&encode(&position)), Some(position.clone()));
        assert_eq!(decode(&format!(" {} ", encode(&position))), Some(position));
    }

    #[test]
    fn anything_but_a_cursor_is_refused() {
        for bad in [
            "",
            "not base64!",
            &URL_SAFE_NO_PAD.encode("1767225600"),
            &URL_SAFE_NO_PAD.encode("soon.abcdefghijklmnopqrstuvwxyz"),
            &URL_SAFE_NO_PAD.encode("1767225600.not-an-image-id"),
            &URL_SAFE_NO_PAD.encode("1767225600.abcdefghijklmnopqrstuvwxyz' OR 1=1"),
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
