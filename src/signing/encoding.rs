//! CloudFront's base64 variant: standard base64, then `+`→`-`, `=`→`_`, `/`→`~`.
//!
//! This is not RFC 4648 base64url (which maps `/` to `_`); every AWS signer uses this mapping, and all
//! three substitutes are URL-unreserved and valid cookie octets, so values travel without escaping.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Encodes bytes as CloudFront base64.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = STANDARD.encode(bytes).into_bytes();
    for byte in &mut out {
        *byte = match *byte {
            b'+' => b'-',
            b'=' => b'_',
            b'/' => b'~',
            other => other,
        };
    }
    // Only ASCII substitutions were made on base64 output.
    String::from_utf8(out).unwrap_or_default()
}

/// Decodes CloudFront base64; `None` when the text is not canonical CloudFront base64.
///
/// Characters of the standard alphabet that CloudFront substitutes (`+`, `/`, `=`) are refused, so
/// there is exactly one accepted spelling of every value.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut standard = Vec::with_capacity(text.len());
    for &byte in text.as_bytes() {
        standard.push(match byte {
            b'-' => b'+',
            b'_' => b'=',
            b'~' => b'/',
            b'+' | b'/' | b'=' => return None,
            other => other,
        });
    }
    STANDARD.decode(standard).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encode_substitutes_the_three_cloudfront_characters() {
        // 0xfb 0xff 0xbf is "+/+/" in standard base64; a lone byte gets "==" padding.
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "-~-~");
        assert_eq!(encode(&[0xff]), "~w__");
    }

    #[test]
    fn decode_refuses_standard_alphabet_characters_and_garbage() {
        assert_eq!(decode("~w__"), Some(vec![0xff]));
        assert_eq!(decode("/w=="), None);
        assert_eq!(decode("+w__"), None);
        assert_eq!(decode("not base64!"), None);
        // Non-canonical trailing bits are refused, so a changed last character never decodes to the same bytes.
        assert_eq!(decode("~x__"), None);
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = encode(&bytes);
            prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_~".contains(&b)));
            prop_assert_eq!(decode(&text), Some(bytes));
        }
    }
}
