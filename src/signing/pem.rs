//! A forgiving PEM reader for keys that arrive through files or environment variables.
//!
//! Keys pasted into environment variables often lose their line breaks or carry a literal `\n`;
//! both are accepted, because base64 needs no line structure. What is refused is named precisely.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::KeyError;

/// One decoded PEM block.
#[derive(Debug)]
pub(crate) struct PemBlock {
    /// The label between `BEGIN ` and the closing dashes, e.g. `RSA PRIVATE KEY`.
    pub(crate) label: String,
    /// The decoded body.
    pub(crate) der: Vec<u8>,
}

/// Labels that precede a key but are not one (`openssl ecparam -genkey` writes `EC PARAMETERS` first).
const SKIPPED_LABELS: &[&str] = &["EC PARAMETERS"];

/// Returns the first PEM block of `text` that is not a parameters block.
pub(crate) fn first_block(text: &str) -> Result<PemBlock, KeyError> {
    let text = text.replace("\\r", "").replace("\\n", "\n");
    let mut rest = text.as_str();
    loop {
        let begin = rest.find("-----BEGIN ").ok_or(KeyError::NoPem)?;
        let after_begin = &rest[begin + "-----BEGIN ".len()..];
        let label_end = after_begin
            .find("-----")
            .ok_or(KeyError::MalformedPem("unterminated BEGIN line"))?;
        let label = after_begin[..label_end].trim().to_owned();
        let body_and_rest = &after_begin[label_end + "-----".len()..];
        let end_marker = format!("-----END {label}-----");
        let end = body_and_rest
            .find(&end_marker)
            .ok_or(KeyError::MalformedPem("missing END line"))?;
        let body = &body_and_rest[..end];
        rest = &body_and_rest[end + end_marker.len()..];
        if SKIPPED_LABELS.contains(&label.as_str()) {
            continue;
        }
        // Legacy OpenSSL encryption announces itself in RFC 1421 headers inside the block.
        if label.contains("ENCRYPTED") || body.contains("Proc-Type") || body.contains("DEK-Info") {
            return Err(KeyError::Encrypted);
        }
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD
            .decode(compact)
            .map_err(|_| KeyError::MalformedPem("body is not base64"))?;
        return Ok(PemBlock { label, der });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PEM block around `body`; the tests use short fake bodies, not keys.
    fn block(label: &str, body: &str) -> String {
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    }

    fn key_block() -> String {
        block("PRIVATE KEY", "AAEC\nAwQ=")
    }

    #[test]
    fn reads_a_block_with_line_breaks() {
        let block = first_block(&key_block()).expect("block");
        assert_eq!(block.label, "PRIVATE KEY");
        assert_eq!(block.der, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn reads_a_block_whose_line_breaks_were_lost_or_escaped() {
        let flat = key_block().replace('\n', " ");
        let escaped = key_block().replace('\n', "\\n");
        assert_eq!(first_block(&flat).expect("flat").der, vec![0, 1, 2, 3, 4]);
        assert_eq!(first_block(&escaped).expect("escaped").der, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn skips_ec_parameters_before_the_key() {
        let text = format!("{}{}", block("EC PARAMETERS", "BggqhkjOPQMBBw=="), key_block());
        assert_eq!(first_block(&text).expect("key").label, "PRIVATE KEY");
    }

    #[test]
    fn refuses_encrypted_and_broken_blocks() {
        let legacy = block(
            "RSA PRIVATE KEY",
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAEC",
        );
        assert_eq!(first_block(&legacy).unwrap_err(), KeyError::Encrypted);
        let pkcs8 = block("ENCRYPTED PRIVATE KEY", "AAEC");
        assert_eq!(first_block(&pkcs8).unwrap_err(), KeyError::Encrypted);
        assert_eq!(first_block("hello").unwrap_err(), KeyError::NoPem);
        let cut = key_block().replace("-----END PRIVATE KEY-----\n", "");
        assert_eq!(
            first_block(&cut).unwrap_err(),
            KeyError::MalformedPem("missing END line")
        );
        assert_eq!(
            first_block(&block("PRIVATE KEY", "!!")).unwrap_err(),
            KeyError::MalformedPem("body is not base64")
        );
    }
}
