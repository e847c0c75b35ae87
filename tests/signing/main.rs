//! Signing-core tests: reference vectors, differential checks against AWS's own signers, property
//! tests, key handling and the command line.

mod cli;
mod differential;
mod explain;
mod key_files;
mod keys;
mod roundtrip;
mod support;
mod vectors;
mod verifier;
