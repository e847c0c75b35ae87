//! Fuzz target: see `edgepass_fuzz::harness::request_target`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| edgepass_fuzz::harness::request_target(data));
