//! The `shipshape` binary: parses the command line and maps the run to an exit status
//! (0 clean, 1 findings at or above `--fail-on`, 2 usage error). Never any other status.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

/// The allocator: the model and the interpreter's values are many small allocations, freed
/// together at the end; glibc's allocator spent a quarter of a large check consolidating
/// and unlinking free chunks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Stack of each worker thread of the global pool.
const WORKER_STACK_BYTES: usize = 64 << 20;

fn main() -> ExitCode {
    let cli = match shipshape::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // Parsers of nested input recurse up to their depth budgets: give the worker threads that
    // load files the stack a main thread has (and more), so no budgeted input can overflow
    // them. Reserved, not committed, memory. If the pool cannot be set, rayon's default stays.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .thread_name(|i| format!("shipshape-{i}"))
        .build_global();
    ExitCode::from(shipshape::cli::run(cli))
}
