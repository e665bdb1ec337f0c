//! The per-root pipeline: how one root is checked ([`Settings`]) and [`check_root`], which
//! loads it (`load`: discovery, the loaders of each file kind, the model and its facts),
//! evaluates the policies on it (`evaluate`: policies spread over threads, the report) and
//! filters their findings (`filter`: selection, exclusion, suppressions, fingerprints, the
//! baseline, and the fail-on verdict). The crate root re-exports what is public here.

pub(crate) mod evaluate;
pub mod filter;
pub(crate) mod load;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use crate::baseline::Entry;
use crate::finding::{Finding, RootReport};
use crate::policy::PolicySet;
use crate::{definitions, facts};
use evaluate::evaluate;
pub use filter::{Exclude, RuleFilter};
use load::load_source;

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

/// One root checked: its report, and the findings the baseline knew (left out of the report;
/// a run counts the baseline's stale entries from them).
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// The root's report.
    pub report: RootReport,
    /// The findings the baseline knew, fingerprinted.
    pub baselined: Vec<Finding>,
}

/// Checks one root end to end, without a baseline.
pub fn check_root(
    root: &Path,
    display: &str,
    policies: &PolicySet,
    settings: &Settings,
) -> Result<RootReport, CheckError> {
    check_root_against(root, display, policies, settings, None).map(|c| c.report)
}

/// Checks one root end to end; the findings `baseline` knows are left out of the report and
/// returned beside it.
pub fn check_root_against(
    root: &Path,
    display: &str,
    policies: &PolicySet,
    settings: &Settings,
    baseline: Option<&BTreeSet<Entry>>,
) -> Result<Checked, CheckError> {
    check_source_against(
        &load::dir_root(root, display)?,
        display,
        policies,
        settings,
        baseline,
    )
}

/// Checks one root read from any source (a directory or a git tree) end to end.
pub fn check_source(
    root: &crate::load::Root,
    display: &str,
    policies: &PolicySet,
    settings: &Settings,
) -> Result<RootReport, CheckError> {
    check_source_against(root, display, policies, settings, None).map(|c| c.report)
}

/// [`check_root_against`] for a root read from any source.
pub fn check_source_against(
    root: &crate::load::Root,
    display: &str,
    policies: &PolicySet,
    settings: &Settings,
    baseline: Option<&BTreeSet<Entry>>,
) -> Result<Checked, CheckError> {
    let timings = std::env::var_os("SHIPSHAPE_TIMINGS").is_some();
    let start = std::time::Instant::now();
    let loaded = load_source(root, display, &settings.environments, &settings.definitions)?;
    let loaded_at = start.elapsed();
    if timings {
        eprintln!("shipshape: {display}: loaded (peak so far {})", peak_rss());
    }
    let checked = evaluate(loaded, policies, settings, baseline);
    if timings {
        eprintln!(
            "shipshape: {display}: load {:.1} ms, evaluate {:.1} ms (peak so far {})",
            loaded_at.as_secs_f64() * 1e3,
            (start.elapsed() - loaded_at).as_secs_f64() * 1e3,
            peak_rss()
        );
    }
    Ok(checked)
}

/// The process's peak resident memory so far (`VmHWM` on Linux), for `SHIPSHAPE_TIMINGS`.
pub(crate) fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}
