//! The one integration-test binary: every policy's inline cases, the CLI contract, the SARIF
//! schema, rendered-output snapshots, hostile inputs, the fuzz targets, and the examples.

mod action;
mod boundary;
mod cli;
mod config;
mod fleet;
mod fuzz;
mod hostile;
mod install;
mod policies;
mod sarif;
mod support;
mod suppressions;
