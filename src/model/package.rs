//! A `package.json` as policies see it (`repo.packages[]`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::location::Location;

/// One `package.json` (`repo.packages[]`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Package {
    /// Path of the file.
    pub path: String,
    /// Its directory relative to the root ("" for the root).
    pub dir: String,
    /// `name`, empty when none.
    pub name: String,
    /// `scripts`: name → command line.
    pub scripts: BTreeMap<String, String>,
    /// `dependencies`: name → version range.
    pub dependencies: BTreeMap<String, String>,
    /// `devDependencies`: name → version range.
    pub dev_dependencies: BTreeMap<String, String>,
    /// Where each dependency (either kind) is declared.
    pub dependency_locs: BTreeMap<String, Location>,
    /// `workspaces` globs (array form or `{packages: [...]}`).
    pub workspaces: Vec<String>,
    /// Nx targets the package defines (`nx.targets` keys).
    pub nx_targets: Vec<String>,
    /// Line 1 of the file.
    pub loc: Location,
}
