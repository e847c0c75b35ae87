//! Local mode's parts: what `cargo run` starts in place of AWS, beside the service.
//!
//! - [`store`]: the embedded S3-compatible store, over a folder;
//! - [`key`]: the signing key generated on first start;
//! - [`data_dir`]: the data folder that holds them (and the SQLite file), owner-only;
//! - [`edge`]: the local edge, the CloudFront distribution's stand-in.

pub mod data_dir;
pub mod edge;
pub mod key;
pub mod store;
