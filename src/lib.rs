//! shipshape: a declarative policy-as-code compliance checker. This crate root wires the
//! one-directional data flow — walk → load → model → evaluate → filter → report — and is the
//! library API that the CLI, the tests and the benchmarks use.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod cli;
pub mod clock;
pub mod config;
pub mod definitions;
pub mod expr;
pub mod facts;
pub mod finding;
pub mod fleet;
pub mod fuzzing;
pub mod load;
pub mod location;
pub mod model;
pub mod plan;
pub mod pm;
pub mod policy;
pub mod policy_cases;
pub mod progress;
pub mod report;
pub mod shell;
pub mod suppress;
pub mod walk;

mod pipeline;

pub use pipeline::evaluate::evaluate;
pub use pipeline::filter;
pub use pipeline::load::{Loaded, load_root, load_source};
pub use pipeline::{
    CheckError, Checked, Exclude, RuleFilter, Settings, check_root, check_root_against,
    check_source, check_source_against,
};

/// The version reported in SARIF and JSON output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
