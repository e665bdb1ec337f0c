//! Fuzz target `compose`: see `shipshape::fuzzing::compose`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::compose(data));
