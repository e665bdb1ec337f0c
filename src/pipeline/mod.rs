//! The per-root pipeline: how one root is checked ([`Settings`], [`RuleFilter`]) and
//! [`check_root`], which loads it (`load`: discovery, the loaders of each file kind, the
//! model and its facts) and evaluates the policies on it (`evaluate`: policies spread over
//! threads, suppressions, filtering and the report). The crate root re-exports what is
//! public here.

pub(crate) mod evaluate;
pub(crate) mod load;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::finding::{RootReport, Severity};
use crate::policy::PolicySet;
use crate::{definitions, facts};
use evaluate::evaluate;
use load::load_source;

/// Which rules a check keeps.
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    /// When non-empty, only these rule IDs are kept.
    pub select: Vec<String>,
    /// These rule IDs are dropped (counted as ignored).
    pub ignore: Vec<String>,
    /// Severity overrides by rule ID (configuration).
    pub severities: HashMap<String, Severity>,
    /// Findings in files matching these globs are dropped (configuration `exclude`).
    pub exclude: Vec<Exclude>,
}

/// One `exclude` glob of a configuration.
#[derive(Debug, Clone)]
pub struct Exclude {
    /// The root-relative path glob.
    pub glob: globset::GlobMatcher,
    /// Rules it may not drop: those an organisation config above the file that wrote the glob
    /// has locked.
    pub spares: Vec<String>,
}

impl Exclude {
    /// An exclude of `pattern` that spares nothing.
    pub fn new(pattern: &str) -> Result<Exclude, globset::Error> {
        globset::Glob::new(pattern).map(|g| Exclude {
            glob: g.compile_matcher(),
            spares: Vec::new(),
        })
    }

    /// Whether it drops a finding of `rule` in `file`.
    pub fn drops(&self, rule: &str, file: &str) -> bool {
        self.glob.is_match(file) && !self.spares.iter().any(|s| s == rule)
    }
}

impl RuleFilter {
    /// Whether findings of `rule` are kept.
    pub fn keeps(&self, rule: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s.eq_ignore_ascii_case(rule)))
            && !self.ignore.iter().any(|s| s.eq_ignore_ascii_case(rule))
    }
}

/// Why a root could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The root does not exist, is not a directory, or cannot be listed.
    #[error("cannot check {0}: {1}")]
    Root(String, String),
}

/// How one root is checked: which findings are kept, the rules' option values, and the model
/// settings of the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Which rules and files are kept, and severity overrides.
    pub filter: RuleFilter,
    /// Option values by rule ID.
    pub options: HashMap<String, BTreeMap<String, serde_json::Value>>,
    /// Staging and production names for deploy jobs.
    pub environments: facts::ci::Environments,
    /// The catalog's vocabularies (migration and backup commands, health paths, ...).
    pub definitions: definitions::Definitions,
    /// Rules an organisation config locked, with that config's path: inline suppressions do
    /// not apply to them.
    pub locked: Vec<(String, String)>,
}

/// Checks one root end to end.
pub fn check_root(
    root: &Path,
    display: &str,
    policies: &PolicySet,
    settings: &Settings,
) -> Result<RootReport, CheckError> {
    check_source(&load::dir_root(root, display)?, display, policies, settings)
}

/// Checks one root read from any source (a directory or a git tree) end to end.
pub fn check_source(
    root: &crate::load::Root,
    display: &str,
    policies: &PolicySet,
    settings: &Settings,
) -> Result<RootReport, CheckError> {
    let timings = std::env::var_os("SHIPSHAPE_TIMINGS").is_some();
    let start = std::time::Instant::now();
    let loaded = load_source(root, display, &settings.environments, &settings.definitions)?;
    let loaded_at = start.elapsed();
    let report = evaluate(loaded, policies, settings);
    if timings {
        eprintln!(
            "shipshape: {display}: load {:.1} ms, evaluate {:.1} ms",
            loaded_at.as_secs_f64() * 1e3,
            (start.elapsed() - loaded_at).as_secs_f64() * 1e3
        );
    }
    Ok(report)
}
