//! Fuzz target `prometheus`: see `shipshape::fuzzing::prometheus`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::prometheus(data));
