//! Hostile-client tests: accounts.
