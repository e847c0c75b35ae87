//! `edgepass::services`: the listing cursor.

#[path = "../../src/services/cursor.rs"]
pub mod cursor;
