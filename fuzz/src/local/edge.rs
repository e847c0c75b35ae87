//! `edgepass::local::edge`: the request-target handling of the local edge.

#[path = "../../../src/local/edge/behavior.rs"]
mod behavior;
#[path = "../../../src/local/edge/target.rs"]
mod target;

pub use behavior::{BadPath, Behavior, is_servable, object_key};
pub use target::{BadTarget, Target, resolve};
