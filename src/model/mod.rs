//! The CEL-visible model: what policies see as `repo`. Every type and field here is part of
//! the policy authors' API and is documented in `docs/model.md`. Each node a finding can
//! point at has a `loc` field ([`crate::location::Location`]).

pub mod alerts;
pub mod app;
pub mod ci;
pub mod compose;
pub mod dockerfile;
pub mod image;
pub mod package;
pub mod schema;

use serde::Serialize;

use crate::location::Location;
use crate::model::alerts::AlertFile;

/// Model fields whose objects have data for keys (package names, script names, inputs),
/// not field names: they become CEL maps, so that `k in m`, `m.exists(k, ...)` and
/// `m['@sentry/node']` work.
pub const MAP_FIELDS: &[&str] = &[
    "scripts",
    "dependencies",
    "dev_dependencies",
    "dependency_locs",
    "with",
    "with_locs",
    "env",
    "matrix",
    "labels",
    "annotations",
];

/// One repository root, as policies see it (the variable `repo`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Repo {
    /// The root as given on the command line.
    pub root: String,
    /// Every input file discovered, with its kind.
    pub files: Vec<InputFile>,
    /// The CI configuration (GitHub Actions and GitLab CI, one model).
    pub ci: ci::Ci,
    /// Every `package.json` that parsed, sorted by path.
    pub packages: Vec<package::Package>,
    /// Compose projects (a file with the override of its directory merged in).
    pub compose: Vec<compose::ComposeProject>,
    /// Facts from the repository's JavaScript/TypeScript sources (Sentry, metrics, routes).
    pub app: app::AppFacts,
    /// Application Dockerfiles that parsed (unparseable ones are only in `parse_errors`).
    pub dockerfiles: Vec<dockerfile::Dockerfile>,
    /// Prometheus rule files that parsed.
    pub alert_files: Vec<AlertFile>,
    /// Inputs that could not be read or parsed: one entry each (and one per invalid alert
    /// expression). SS001 reports them.
    pub parse_errors: Vec<ParseError>,
    /// Inline suppression comments in YAML files and Dockerfiles, by file and line.
    pub suppressions: Vec<Suppression>,
    /// Where "missing evidence" findings point: line 1 of `package.json`, else of a
    /// `README*`, else of the first file scanned.
    pub fallback: Location,
}

/// A discovered input file.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InputFile {
    /// Path relative to the root.
    pub path: String,
    /// `github_workflow`, `github_action`, `gitlab_ci`, `dockerfile`, `compose`,
    /// `yaml_candidate`, `package_json` or `js_source`.
    pub kind: String,
    /// Line 1 of the file.
    pub loc: Location,
}

/// An input that could not be loaded.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ParseError {
    /// Path relative to the root.
    pub path: String,
    /// What went wrong.
    pub message: String,
    /// The error's position (line 1 when unknown).
    pub loc: Location,
}

/// An inline suppression comment, `# shipshape: ignore[DF005,DF006] reason until=YYYY-MM-DD`,
/// found in a YAML file or a Dockerfile. It silences findings of the rules it names on its own
/// line and on the line below it. SS002 reports the ones without a reason, expired or with an
/// unreadable date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Suppression {
    /// The rule IDs it names, upper-cased.
    pub rules: Vec<String>,
    /// The reason written after the IDs (without `until=`); empty when none is given.
    pub reason: String,
    /// The `until=` value as written; empty when none is given.
    pub until: String,
    /// Whether `until` is a valid `YYYY-MM-DD` date.
    pub until_valid: bool,
    /// Whether `until` is a valid date before today (UTC): the suppression no longer applies.
    pub expired: bool,
    /// Where the comment starts (its `shipshape:` marker).
    pub loc: Location,
}
