//! Hostile-client tests: metrics.
