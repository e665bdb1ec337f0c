#!/bin/sh
# Writes each target's seed corpus to fuzz/corpus/<target>/ from the examples and the
# policies' inline test cases (the same seeds the stable property test mutates).
set -eu
cd "$(dirname "$0")/.."
cargo test -q --test it fuzz::write_fuzz_corpus -- --ignored --exact
ls fuzz/corpus
