//! Fuzz target `gitlab_ci`: see `shipshape::fuzzing::gitlab_ci`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::gitlab_ci(data));
