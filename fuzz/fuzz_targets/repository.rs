//! Fuzz target `repository`: see `shipshape::fuzzing::repository`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::repository(data));
