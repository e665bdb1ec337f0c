//! Fuzz target `promql`: see `shipshape::fuzzing::promql`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::promql(data));
