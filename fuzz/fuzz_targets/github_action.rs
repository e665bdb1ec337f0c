//! Fuzz target `github_action`: see `shipshape::fuzzing::github_action`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::github_action(data));
