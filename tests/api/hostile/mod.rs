//! The hostile client: every finding of the outside review of the release build, each as a regression
//! test that failed before its fix, plus the variants found while fixing them. Each file attacks one
//! promise from the outside, the way the review did: forged headers, other users' ids, repeated
//! parameters, bytes changed after a check.

mod accounts;
mod edge;
mod metrics;
mod privacy;
mod uploads;
