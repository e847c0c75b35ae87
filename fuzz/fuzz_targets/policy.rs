//! Fuzz target: see `edgepass_fuzz::harness::policy`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| edgepass_fuzz::harness::policy(data));
