//! `edgepass::http`: the listing cursor.

#[path = "../../src/http/cursor.rs"]
pub mod cursor;
