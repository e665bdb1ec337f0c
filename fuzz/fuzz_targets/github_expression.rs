//! Fuzz target `github_expression`: see `shipshape::fuzzing::github_expression`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::github_expression(data));
