//! Hostile-client tests: edge.
