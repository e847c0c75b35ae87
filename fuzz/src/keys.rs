//! `edgepass::keys`: key files (their PEM wrapping).

#[path = "../../src/keys/files.rs"]
pub mod files;
