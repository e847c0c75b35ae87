//! The CloudFront signing configurations the benchmarks measure, shared by them (`#[path]` module).

use std::path::PathBuf;

/// One signing configuration: a label and the `EDGEPASS_*` settings that select it.
pub(crate) struct Algorithm {
    pub(crate) label: &'static str,
    pub(crate) settings: Vec<(&'static str, String)>,
}

/// RSA-SHA1 with the vectors' RSA key, and ECDSA-SHA256 with local mode's generated P-256 key.
pub(crate) fn algorithms() -> Vec<Algorithm> {
    let rsa_key =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors/rsa2048_private_pkcs1.pem");
    vec![
        Algorithm {
            label: "RSA-SHA1 (default)",
            settings: vec![
                ("EDGEPASS_CDN_KEY_PAIR_ID", "K2JCJMDEHXQW5F".to_owned()),
                ("EDGEPASS_CDN_PRIVATE_KEY_FILE", rsa_key.display().to_string()),
            ],
        },
        Algorithm {
            label: "ECDSA-SHA256",
            settings: vec![],
        },
    ]
}
