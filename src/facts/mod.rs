//! Facts: the catalog's shared definitions, computed once in Rust over the loaded model so
//! that policies stay short (script and tool runs, deploy jobs and flows, image pushes).

pub mod app;
pub mod ci;
pub mod dockerfile;
pub mod promql;
