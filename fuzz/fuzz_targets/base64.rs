//! Fuzz target: see `edgepass_fuzz::harness::base64`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| edgepass_fuzz::harness::base64(data));
