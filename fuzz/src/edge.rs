//! `edgepass::edge`: the request-target handling of the local edge.

#[path = "../../src/edge/behavior.rs"]
mod behavior;

pub use behavior::{BadPath, Behavior, is_servable, object_key};
