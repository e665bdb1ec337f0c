//! Fuzz target `package_json`: see `shipshape::fuzzing::package_json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::package_json(data));
