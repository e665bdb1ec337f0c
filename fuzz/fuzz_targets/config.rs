//! Fuzz target `config`: see `shipshape::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::config(data));
