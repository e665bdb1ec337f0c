//! Fuzz target `js_scan`: see `shipshape::fuzzing::js_scan`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::js_scan(data));
