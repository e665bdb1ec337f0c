//! Fuzz target `dockerfile`: see `shipshape::fuzzing::dockerfile`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::dockerfile(data));
