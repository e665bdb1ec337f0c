//! Findings, severities, tool notifications and the per-root result of a check: the data
//! that flows from evaluation into filtering and reports.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::location::Location;

/// How serious a rule's finding is. Ordered from least to most severe.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Hygiene beyond the guide.
    Note,
    /// The guide recommends it.
    Warning,
    /// The guide says must, always or never.
    Error,
}

impl Severity {
    /// The lowercase name used in policies, CLI flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule violation at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's ID, e.g. `DF005`.
    pub rule: String,
    /// The severity in effect for this finding.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where the finding points.
    pub location: Location,
    /// A stable identity of the finding that survives line shifts: a hash of rule, file and
    /// the text of the line pointed at (plus an occurrence counter for identical lines).
    pub fingerprint: String,
}

/// A problem of the tool itself with one input (an unreadable or skipped file), reported as a
/// SARIF `toolExecutionNotification` beside any SS001 finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// `error` when the file could not be loaded, `note` when it was skipped on purpose.
    pub level: Severity,
    /// What happened, naming the file.
    pub message: String,
    /// The file (and position when known) concerned.
    pub location: Location,
}

/// The outcome of checking one repository root.
#[derive(Debug, Clone, Default)]
pub struct RootReport {
    /// The root as given on the command line (used in human output and SARIF run ids).
    pub root: String,
    /// Kept findings, sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    /// Findings dropped by `--select`/`--ignore` or configuration, counted for the summary.
    pub ignored: usize,
    /// Tool notifications for inputs that could not be loaded or were skipped.
    pub notifications: Vec<Notification>,
    /// Findings silenced by inline suppressions, with the suppression's justification; left
    /// out of reports unless `--show-suppressed` (then SARIF `suppressions`).
    pub suppressed: Vec<(Finding, String)>,
    /// How many kept findings inline suppressions silenced (whether or not `suppressed` is
    /// shown), counted in the summary.
    pub suppressed_count: usize,
    /// How many findings a `--baseline` file already knew (left out of the report).
    pub baselined: usize,
    /// How many policies failed to evaluate on this root (each also a notification): their
    /// rules were not checked.
    pub policy_failures: usize,
    /// The rules whose policy failed to evaluate on this root (unchecked), sorted.
    pub failed_rules: BTreeSet<String>,
    /// Text of every file a finding points at, by relative path, for snippets.
    pub sources: BTreeMap<String, Arc<str>>,
    /// The files of the GitLab CI configuration (`.gitlab-ci.yml`, its includes): findings
    /// there are helped with the rule's GitLab fix.
    pub gitlab_files: BTreeSet<String>,
    /// Where the root sits in its repository: the root's path relative to the repository
    /// root (the git work tree holding it, or `--repo-root`), with `/` separators and no
    /// trailing `/`; empty when the root is the repository root. Reports that point into the
    /// repository (SARIF URIs, annotations, links) prefix file paths with it.
    pub repo_dir: String,
    /// The repository root as an absolute path, when it could be resolved (SARIF
    /// `%SRCROOT%`).
    pub repo_root: Option<std::path::PathBuf>,
    /// Rule severities the root's configuration changed (rule ID → severity in effect);
    /// rules not listed keep their default.
    pub rule_severities: BTreeMap<String, Severity>,
    /// Rules the root's selection (`--select`/`--ignore`, rules the configuration turns off)
    /// left unchecked, sorted: reports that list every rule mark these as skipped.
    pub unchecked_rules: BTreeSet<String>,
}
