//! Fuzz target `tsconfig`: see `shipshape::fuzzing::tsconfig`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzzing::tsconfig(data));
