//! `edgepass::local`: local mode's parts that see outside input.

pub mod edge;
