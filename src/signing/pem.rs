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

    const BLOCK: &str = "-----BEGIN PRIVATE KEY-----\nAAEC\nAwQ=\n-----END PRIVATE KEY-----\n";

    #[test]
    fn reads_a_block_with_line_breaks() {
        let block = first_block(BLOCK).expect("block");
        assert_eq!(block.label, "PRIVATE KEY");
        assert_eq!(block.der, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn reads_a_block_whose_line_breaks_were_lost_or_escaped() {
        let flat = BLOCK.replace('\n', " ");
        let escaped = BLOCK.replace('\n', "\\n");
        assert_eq!(first_block(&flat).expect("flat").der, vec![0, 1, 2, 3, 4]);
        assert_eq!(first_block(&escaped).expect("escaped").der, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn skips_ec_parameters_before_the_key() {
        let text =
            format!("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{BLOCK}");
        assert_eq!(first_block(&text).expect("key").label, "PRIVATE KEY");
    }

    #[test]
    fn refuses_encrypted_and_broken_blocks() {
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAEC\n-----END RSA PRIVATE KEY-----";
        assert_eq!(first_block(legacy).unwrap_err(), KeyError::Encrypted);
        let pkcs8 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAEC\n-----END ENCRYPTED PRIVATE KEY-----";
        assert_eq!(first_block(pkcs8).unwrap_err(), KeyError::Encrypted);
        assert_eq!(first_block("hello").unwrap_err(), KeyError::NoPem);
        assert_eq!(
            first_block("-----BEGIN PRIVATE KEY-----\nAAEC").unwrap_err(),
            KeyError::MalformedPem("missing END line")
        );
        assert_eq!(
            first_block("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----").unwrap_err(),
            KeyError::MalformedPem("body is not base64")
        );
    }
}
