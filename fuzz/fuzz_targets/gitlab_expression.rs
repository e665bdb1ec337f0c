//! Fuzz target `gitlab_expression`: see `shipshape::fuzzing::gitlab_expression`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::gitlab_expression(data));
