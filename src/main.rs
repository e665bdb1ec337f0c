//! The `shipshape` binary: parses the command line and maps the run to an exit status
//! (0 clean, 1 findings at or above `--fail-on`, 2 usage error). Never any other status.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match shipshape::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    ExitCode::from(shipshape::cli::run(cli))
}
