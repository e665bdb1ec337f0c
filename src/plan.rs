//! A check run, planned at library level: which roots, each root's configuration, policy set
//! and settings, the baseline. The command line parses its flags into [`PlanOptions`], builds
//! a [`Plan`] and renders what [`Plan::run`] returns; other drivers (a fleet audit, tests) use
//! the same plan.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use rayon::prelude::*;

use crate::finding::RootReport;
use crate::policy::PolicySet;
use crate::policy::meta::RuleMeta;
use crate::{RuleFilter, Settings, check_root_against, filter};

/// What a run is asked to do (the `check` flags that decide what is checked).
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Repository roots to check (the current directory when empty).
    pub paths: Vec<PathBuf>,
    /// One configuration file for every root, instead of each root's own.
    pub config: Option<PathBuf>,
    /// Use no configuration file at all.
    pub no_config: bool,
    /// Policy directories added to the built-in pack.
    pub policy_dirs: Vec<PathBuf>,
    /// Leave the built-in pack out.
    pub no_builtin: bool,
    /// Keep only these rules.
    pub select: Vec<String>,
    /// Drop these rules.
    pub ignore: Vec<String>,
    /// Keep the findings inline suppressions silenced (to show them as suppressed).
    pub show_suppressed: bool,
    /// Leave out findings this baseline file knows.
    pub baseline: Option<PathBuf>,
    /// The repository the roots belong to (default: the git work tree holding each root).
    pub repo_root: Option<PathBuf>,
}

/// Why a run cannot start: a configuration, policy, baseline or flag that does not hold. The
/// text is ready to print (a rendered diagnostic where there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A diagnostic rendered for the terminal.
fn rendered(e: impl miette::Diagnostic + Send + Sync + 'static) -> PlanError {
    PlanError(format!("{:?}", miette::Report::new(e)))
}

/// The policy directories in effect: the given ones, then those the configuration names (each
/// once).
pub fn policy_dirs(given: &[PathBuf], chain: Option<&crate::config::Chain>) -> Vec<PathBuf> {
    let mut dirs = given.to_vec();
    for d in chain.iter().flat_map(|c| c.policy_dirs()) {
        if !dirs.contains(&d) {
            dirs.push(d);
        }
    }
    dirs
}

/// The configuration file a root is checked with: `given` for every root, none with
/// `no_config`, else the one found at `root` (see [`crate::config::discover`]).
pub fn config_path(
    given: Option<&Path>,
    no_config: bool,
    root: &Path,
) -> Result<Option<PathBuf>, PlanError> {
    if no_config {
        return Ok(None);
    }
    match given {
        Some(c) => Ok(Some(c.to_path_buf())),
        None => crate::config::discover(root).map_err(|e| rendered(*e)),
    }
}

/// One configuration file (or none) made usable: read, the policy set it asks for loaded (the
/// given directories plus its own; the built-in pack unless `no_builtin`), and validated
/// against that set. For commands that work on one configuration (`explain`, `model`).
pub fn configured(
    config: Option<&Path>,
    given: &[PathBuf],
    no_builtin: bool,
) -> Result<(PolicySet, Option<crate::config::Config>), PlanError> {
    let chain = config
        .map(crate::config::read)
        .transpose()
        .map_err(|e| rendered(*e))?;
    let dirs = policy_dirs(given, chain.as_ref());
    let set = PolicySet::load(!no_builtin, &dirs).map_err(|e| rendered(*e))?;
    let cfg = chain
        .map(|c| crate::config::validate(&c, &set))
        .transpose()
        .map_err(|e| rendered(*e))?;
    Ok((set, cfg))
}

/// The settings of a root checked with its configuration `chain` (none: the defaults) and
/// the policy set `set`, under the run's `opts` (`select`/`ignore`).
pub fn settings_for(
    chain: Option<&crate::config::Chain>,
    set: &PolicySet,
    opts: &PlanOptions,
) -> Result<Settings, PlanError> {
    let cfg = match chain {
        Some(c) => crate::config::validate(c, set).map_err(|e| rendered(*e))?,
        None => crate::config::Config::default(),
    };
    Ok(settings_of(cfg, opts))
}

/// The settings of a root checked with the validated configuration `cfg` under the run's
/// `opts` (`select`/`ignore`).
pub fn settings_of(cfg: crate::config::Config, opts: &PlanOptions) -> Settings {
    let filter = RuleFilter {
        select: opts.select.clone(),
        ignore: opts
            .ignore
            .iter()
            .cloned()
            .chain(cfg.disabled.iter().cloned())
            .collect(),
        severities: cfg.severities.clone(),
        exclude: cfg.exclude.clone(),
    };
    Settings {
        filter,
        options: cfg.options,
        environments: cfg.environments,
        definitions: cfg.definitions,
        locked: cfg.locked,
    }
}

/// Checks that every rule `--select`/`--ignore` name is a rule of one of `sets`.
pub fn check_rule_names<'s>(
    opts: &PlanOptions,
    sets: impl Iterator<Item = &'s PolicySet> + Clone,
) -> Result<(), PlanError> {
    for r in opts.select.iter().chain(&opts.ignore) {
        let known = sets
            .clone()
            .any(|s| s.policies.iter().any(|p| p.meta.id.eq_ignore_ascii_case(r)));
        if !known {
            return Err(PlanError(format!(
                "error: unknown rule {r} in --select/--ignore; `shipshape rules` lists them"
            )));
        }
    }
    Ok(())
}

/// A planned run: the roots, each with the policy set and settings it is checked with.
pub struct Plan {
    /// The roots, each once (`x` and `./x/` are one root), in the order given.
    roots: Vec<PathBuf>,
    /// The distinct policy sets, by the policy directories that make them.
    sets: Vec<(Vec<PathBuf>, PolicySet)>,
    /// Per root: the index of its policy set and its settings.
    setups: Vec<(usize, Settings)>,
    /// The baseline's known findings and its path, when one is given.
    baseline: Option<(PathBuf, std::collections::BTreeSet<crate::baseline::Entry>)>,
    /// Whether suppressed findings are kept in reports.
    show_suppressed: bool,
    /// The repository root given for all roots.
    repo_root: Option<PathBuf>,
}

/// What a run found.
pub struct Outcome {
    /// One report per root that could be checked, in the order of the roots.
    pub reports: Vec<RootReport>,
    /// Roots that could not be checked (missing, unreadable), each with the reason.
    pub root_errors: Vec<String>,
    /// Baseline entries that no longer occur (rules this run reports only).
    pub stale_baseline: usize,
}

impl Plan {
    /// Plans a run: reads each root's configuration, loads the policy sets they need, checks
    /// `select`/`ignore` against the rules, reads the baseline.
    pub fn new(opts: &PlanOptions) -> Result<Plan, PlanError> {
        let paths = if opts.paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            opts.paths.clone()
        };
        // The same root given twice (also as `x` and `./x/`) is checked once, in first
        // position.
        let mut seen = std::collections::BTreeSet::new();
        let roots: Vec<PathBuf> = paths
            .into_iter()
            .filter(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())))
            .collect();
        // The configuration of each root: `config` for all, else the file found at the root.
        // A root's policy set is the given directories plus those its configuration names;
        // roots that name the same directories share one set.
        let mut chains: Vec<Option<Rc<crate::config::Chain>>> = Vec::new();
        let mut read: Vec<(PathBuf, Rc<crate::config::Chain>)> = Vec::new();
        for p in &roots {
            let found = config_path(opts.config.as_deref(), opts.no_config, p)?;
            let Some(cp) = found else {
                chains.push(None);
                continue;
            };
            if let Some((_, c)) = read.iter().find(|(q, _)| *q == cp) {
                chains.push(Some(c.clone()));
                continue;
            }
            let c = Rc::new(crate::config::read(&cp).map_err(|e| rendered(*e))?);
            read.push((cp, c.clone()));
            chains.push(Some(c));
        }
        let mut sets: Vec<(Vec<PathBuf>, PolicySet)> = Vec::new();
        let mut set_of = Vec::new();
        for chain in &chains {
            let dirs = policy_dirs(&opts.policy_dirs, chain.as_deref());
            let i = match sets.iter().position(|(d, _)| *d == dirs) {
                Some(i) => i,
                None => {
                    let set = PolicySet::load(!opts.no_builtin, &dirs).map_err(|e| rendered(*e))?;
                    sets.push((dirs, set));
                    sets.len() - 1
                }
            };
            set_of.push(i);
        }
        check_rule_names(opts, sets.iter().map(|(_, s)| s))?;
        let mut setups = Vec::new();
        for (chain, &si) in chains.iter().zip(&set_of) {
            setups.push((si, settings_for(chain.as_deref(), &sets[si].1, opts)?));
        }
        let baseline = match &opts.baseline {
            Some(path) => {
                let known = std::fs::read_to_string(path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| crate::baseline::parse(&t))
                    .map_err(|e| {
                        PlanError(format!(
                            "error: cannot use baseline {}: {e}",
                            path.display()
                        ))
                    })?;
                Some((path.clone(), known))
            }
            None => None,
        };
        Ok(Plan {
            roots,
            sets,
            setups,
            baseline,
            show_suppressed: opts.show_suppressed,
            repo_root: opts.repo_root.clone(),
        })
    }

    /// The roots the run checks.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The baseline file in use, if any.
    pub fn baseline_path(&self) -> Option<&Path> {
        self.baseline.as_ref().map(|(p, _)| p.as_path())
    }

    /// The metadata of every rule of every policy set, each ID once, sorted by ID.
    pub fn metas(&self) -> Vec<RuleMeta> {
        let mut metas: Vec<RuleMeta> = Vec::new();
        for (_, set) in &self.sets {
            for m in set.metas() {
                if !metas.iter().any(|x| x.id == m.id) {
                    metas.push(m);
                }
            }
        }
        metas.sort_by(|a, b| a.id.cmp(&b.id));
        metas
    }

    /// Checks every root (in parallel; `finished` is called as each root is done), leaving out
    /// the findings the baseline knows, and places each root in its repository.
    pub fn run(&self, finished: &(dyn Fn() + Sync)) -> Outcome {
        let known = self.baseline.as_ref().map(|(_, k)| k);
        let results: Vec<_> = self
            .roots
            .par_iter()
            .zip(self.setups.par_iter())
            .map(|(p, (si, settings))| {
                let display = p.display().to_string();
                let result = check_root_against(p, &display, &self.sets[*si].1, settings, known);
                finished();
                result
            })
            .collect();
        let mut checked = Vec::new();
        let mut root_errors = Vec::new();
        for r in results {
            match r {
                Ok(c) => checked.push(c),
                Err(e) => root_errors.push(e.to_string()),
            }
        }
        // Entries of rules this run does not report are not stale.
        let stale_baseline = known.map_or(0, |known| {
            filter::stale_baseline(
                known,
                checked
                    .iter()
                    .flat_map(|c| c.baselined.iter().map(|f| (c.report.root.as_str(), f))),
                |rule| self.setups.iter().any(|(_, s)| s.filter.keeps(rule)),
            )
        });
        let mut reports: Vec<RootReport> = checked.into_iter().map(|c| c.report).collect();
        if !self.show_suppressed {
            for r in &mut reports {
                r.suppressed.clear();
            }
        }
        for r in &mut reports {
            let (repo_root, repo_dir) =
                crate::report::locate(Path::new(&r.root), self.repo_root.as_deref());
            r.repo_root = repo_root;
            r.repo_dir = repo_dir;
        }
        Outcome {
            reports,
            root_errors,
            stale_baseline,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name)
    }

    #[test]
    fn a_root_given_twice_is_planned_once_and_checked() {
        let legacy = example("legacy-store");
        let opts = PlanOptions {
            paths: vec![legacy.clone(), legacy.join("."), example("compliant-store")],
            repo_root: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
            ..PlanOptions::default()
        };
        let plan = Plan::new(&opts).expect("plans");
        assert_eq!(plan.roots().len(), 2);
        let outcome = plan.run(&|| {});
        assert!(outcome.root_errors.is_empty());
        assert_eq!(outcome.reports.len(), 2);
        assert!(!outcome.reports[0].findings.is_empty());
        assert!(outcome.reports[1].findings.is_empty());
        assert_eq!(outcome.reports[0].repo_dir, "examples/legacy-store");
        assert!(plan.metas().windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn what_cannot_hold_is_refused_before_the_run() {
        let unknown = PlanOptions {
            select: vec!["XX999".to_string()],
            ..PlanOptions::default()
        };
        let err = Plan::new(&unknown).err().expect("refused");
        assert!(err.0.contains("unknown rule XX999"), "{err}");
        let no_baseline = PlanOptions {
            baseline: Some(PathBuf::from("/no/such/baseline.json")),
            ..PlanOptions::default()
        };
        let err = Plan::new(&no_baseline).err().expect("refused");
        assert!(err.0.contains("cannot use baseline"), "{err}");
        // A missing root is not a planning error: it is reported by the run.
        let missing = PlanOptions {
            paths: vec![PathBuf::from("/no/such/root")],
            no_config: true,
            ..PlanOptions::default()
        };
        let outcome = Plan::new(&missing).expect("plans").run(&|| {});
        assert_eq!((outcome.reports.len(), outcome.root_errors.len()), (0, 1));
    }
}
