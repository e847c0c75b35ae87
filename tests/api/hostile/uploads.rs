//! Hostile-client tests: uploads.
