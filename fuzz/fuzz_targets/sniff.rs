//! Fuzz target: see `edgepass_fuzz::harness::sniff`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| edgepass_fuzz::harness::sniff(data));
