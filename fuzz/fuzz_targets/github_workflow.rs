//! Fuzz target `github_workflow`: see `shipshape::fuzzing::github_workflow`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::github_workflow(data));
