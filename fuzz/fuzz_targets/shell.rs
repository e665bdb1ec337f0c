//! Fuzz target `shell`: see `shipshape::fuzzing::shell`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::shell(data));
