//! Fleet audits: many repositories checked with the same engine as `check`, each reduced to
//! a scorecard row (per-rule verdicts backed by findings) and a SARIF file as soon as it is
//! checked, so memory stays bounded whatever the count. Owns the run ([`run`]), its
//! sources ([`sources`]), the scorecard ([`scorecard`]), its renderings ([`render`],
//! [`html`]) and the merge of shard outputs ([`merge`]).

pub mod html;
pub mod render;
pub mod scorecard;
pub mod sources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::finding::{RootReport, Severity};
use crate::plan::{PlanError, PlanOptions};
use crate::policy::PolicySet;
use crate::policy::meta::RuleMeta;
use scorecard::{
    FleetFinding, Repository, RuleCell, RuleInfo, RunMeta, Scorecard, Status, Verdict,
};
use sources::{RepoSpec, Shard, SourceKind};

/// What a fleet run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct FleetOptions {
    /// Sources: checkouts, bare repositories, directories of repositories.
    pub sources: Vec<PathBuf>,
    /// A manifest listing repositories (YAML or CSV).
    pub manifest: Option<PathBuf>,
    /// The ref read from bare repositories without a `ref` of their own (default `HEAD`).
    pub rev: Option<String>,
    /// Worker threads (default: the number of cores).
    pub jobs: Option<usize>,
    /// Check only this shard of the repositories.
    pub shard: Option<Shard>,
    /// Configuration, policies and rule selection, as for `check` (`paths` and `baseline`
    /// are not used).
    pub plan: PlanOptions,
}

/// One repository's result, as the run hands it over.
pub struct Checked {
    /// The scorecard row.
    pub row: Repository,
    /// The full report (for the SARIF file), when the repository could be checked.
    pub report: Option<RootReport>,
}

/// Stack of each fleet worker thread (reserved, not committed, memory), as for the global
/// pool's: the parsers of nested input recurse up to their depth budgets.
const WORKER_STACK_BYTES: usize = 64 << 20;

/// The repositories a run checks: sources and manifest expanded, names checked distinct,
/// the shard applied.
pub fn select(opts: &FleetOptions) -> Result<Vec<RepoSpec>, PlanError> {
    let mut specs: Vec<RepoSpec> = Vec::new();
    if let Some(m) = &opts.manifest {
        specs.extend(sources::read_manifest(m).map_err(|e| PlanError(format!("error: {e}")))?);
    }
    for s in &opts.sources {
        specs.extend(sources::expand(s));
    }
    if specs.is_empty() {
        return Err(PlanError(
            "error: no repositories: give sources or --manifest".to_string(),
        ));
    }
    // The same repository given twice (as a source and in the manifest, or as `x` and
    // `./x/`) with the same name and ref is checked once.
    let mut seen = std::collections::BTreeSet::new();
    specs.retain(|s| {
        let path = std::fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone());
        seen.insert((s.name.clone(), path, s.rev.clone()))
    });
    let dups = sources::duplicate_names(specs.iter().map(|s| s.name.as_str()));
    if !dups.is_empty() {
        return Err(PlanError(format!(
            "error: more than one repository is named {}: give each a distinct `name` in a manifest",
            dups.join(", ")
        )));
    }
    let clashes = sources::sarif_clashes(&specs);
    if !clashes.is_empty() {
        return Err(PlanError(format!(
            "error: repositories would write the same SARIF file ({}): give them names that differ in letters or digits",
            clashes.join("; ")
        )));
    }
    if let Some(shard) = opts.shard {
        specs.retain(|s| shard.holds(&s.name));
    }
    Ok(specs)
}

/// Policy sets by the policy directories that make them, loaded once each.
struct Sets {
    builtin: bool,
    loaded: Mutex<Vec<(Vec<PathBuf>, Arc<PolicySet>)>>,
}

impl Sets {
    fn get(&self, dirs: &[PathBuf]) -> Result<Arc<PolicySet>, String> {
        let mut loaded = self
            .loaded
            .lock()
            .map_err(|_| "policy sets unavailable".to_string())?;
        if let Some((_, s)) = loaded.iter().find(|(d, _)| d == dirs) {
            return Ok(s.clone());
        }
        let set = Arc::new(
            PolicySet::load(self.builtin, dirs)
                .map_err(|e| format!("{:?}", miette::Report::new(*e)))?,
        );
        loaded.push((dirs.to_vec(), set.clone()));
        Ok(set)
    }
}

/// The rule metadata of every policy set the run used, by ID.
pub fn rule_info(metas: &[RuleMeta]) -> BTreeMap<String, RuleInfo> {
    metas
        .iter()
        .map(|m| {
            (
                m.id.clone(),
                RuleInfo {
                    title: m.title.clone(),
                    severity: m.severity,
                },
            )
        })
        .collect()
}

/// Checks `specs` in parallel (on `opts.jobs` threads); `each` receives every repository's result as it is done (to
/// write its SARIF file and count progress) and the result is then reduced to its row.
pub fn run(
    opts: &FleetOptions,
    specs: Vec<RepoSpec>,
    each: &(dyn Fn(&Checked, &[RuleMeta]) + Sync),
) -> Result<Scorecard, PlanError> {
    let started = Instant::now();
    let started_at = crate::clock::rfc3339_now();
    let sets = Sets {
        builtin: !opts.plan.no_builtin,
        loaded: Mutex::new(Vec::new()),
    };
    // An organisation configuration given for all is read once; a broken one stops the run
    // before anything is checked (it is the run's, not a repository's).
    let shared = match &opts.plan.config {
        Some(c) if !opts.plan.no_config => {
            Some(Arc::new(crate::config::read(c).map_err(|e| {
                PlanError(format!("{:?}", miette::Report::new(*e)))
            })?))
        }
        _ => None,
    };
    let base_dirs = crate::plan::policy_dirs(&opts.plan.policy_dirs, shared.as_deref());
    let base = sets.get(&base_dirs).map_err(PlanError)?;
    crate::plan::check_rule_names(&opts.plan, std::iter::once(base.as_ref()))?;
    // Repositories are handed out one at a time to `jobs` plain threads; each checks its
    // repository with the global pool (whose threads have the stack the parsers need). The
    // outer loop is not a rayon loop: a worker waiting for its repository's files would
    // steal other repositories' jobs onto its own stack, nesting without bound.
    let jobs = opts
        .jobs
        .filter(|&j| j > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .min(specs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let rows: Mutex<Vec<Repository>> = Mutex::new(Vec::with_capacity(specs.len()));
    let worker = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let Some(spec) = specs.get(i) else { break };
            let (checked, set) = check_one(spec, opts, shared.as_deref(), &sets);
            let metas = set.as_ref().map_or_else(|| base.metas(), |s| s.metas());
            each(&checked, &metas);
            if let Ok(mut rows) = rows.lock() {
                rows.push(checked.row);
            }
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs)
            .map(|i| {
                std::thread::Builder::new()
                    .name(format!("shipshape-fleet-{i}"))
                    .stack_size(WORKER_STACK_BYTES)
                    .spawn_scoped(scope, worker)
            })
            .collect();
        // A thread that cannot be started leaves its share to the others; with none
        // started, this thread does the work.
        if handles.iter().all(|h| h.is_err()) {
            worker();
        }
    });
    let rows = rows.into_inner().unwrap_or_default();
    // The rules' titles and severities: those of every policy set the run loaded.
    let info = sets
        .loaded
        .into_inner()
        .map(|loaded| {
            let metas: Vec<RuleMeta> = loaded.iter().flat_map(|(_, s)| s.metas()).collect();
            rule_info(&metas)
        })
        .unwrap_or_default();
    let run = RunMeta {
        tool: "shipshape".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started: started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        shard: opts.shard.map(|s| s.to_string()),
        merged: None,
    };
    Ok(Scorecard::build(rows, &info, run))
}

/// Checks one repository: its source opened, its configuration (or the shared one) applied,
/// the same pipeline as `check`; any failure is an error row.
fn check_one(
    spec: &RepoSpec,
    opts: &FleetOptions,
    shared: Option<&crate::config::Chain>,
    sets: &Sets,
) -> (Checked, Option<Arc<PolicySet>>) {
    let mut row = Repository {
        name: spec.name.clone(),
        source: spec.path.display().to_string(),
        kind: spec.kind.as_str().to_string(),
        r#ref: None,
        commit: None,
        team: spec.team.clone(),
        tags: spec.tags.clone(),
        url: spec.url.clone(),
        status: Status::Error,
        error: None,
        score: None,
        rules: BTreeMap::new(),
        findings: Vec::new(),
        problems: Vec::new(),
    };
    // Rules the run's `--select`/`--ignore` leave out are skipped in an error row too, as in
    // a row that could be checked.
    let filter = crate::pipeline::RuleFilter {
        select: opts.plan.select.clone(),
        ignore: opts.plan.ignore.clone(),
        ..Default::default()
    };
    let fail = |mut row: Repository, why: String, set: Option<Arc<PolicySet>>| {
        if let Some(s) = &set {
            for m in s.metas() {
                let verdict = if filter.keeps(&m.id) {
                    Verdict::Error
                } else {
                    Verdict::Skipped
                };
                let findings = row.findings.iter().filter(|f| f.rule == m.id).count();
                row.rules.insert(m.id, RuleCell { verdict, findings });
            }
        }
        row.error = Some(why);
        (Checked { row, report: None }, set)
    };
    let (root, tree) = match open(spec, opts, &mut row) {
        Ok(r) => r,
        Err(why) => {
            let set = sets
                .get(&crate::plan::policy_dirs(&opts.plan.policy_dirs, shared))
                .ok();
            return fail(row, why, set);
        }
    };
    let own = if shared.is_some() || opts.plan.no_config {
        None
    } else {
        match repo_config(&root) {
            Ok(c) => c,
            Err(why) => {
                let set = sets.get(&opts.plan.policy_dirs).ok();
                return fail(row, why, set);
            }
        }
    };
    let chain = shared.or(own.as_ref());
    let dirs = crate::plan::policy_dirs(&opts.plan.policy_dirs, chain);
    let set = match sets.get(&dirs) {
        Ok(s) => s,
        Err(why) => return fail(row, why, None),
    };
    // Problems of a repository's configuration are one line of its row (the file and the
    // message), not a rendered diagnostic.
    let cfg = match chain.map(|c| crate::config::validate(c, &set)).transpose() {
        Ok(c) => c.unwrap_or_default(),
        Err(e) => return fail(row, e.to_string(), Some(set)),
    };
    let settings = crate::plan::settings_of(cfg, &opts.plan);
    let mut report = match crate::check_source(&root, &spec.name, &set, &settings) {
        Ok(r) => r,
        Err(e) => return fail(row, e.to_string(), Some(set)),
    };
    // A damaged object database (a missing or corrupt object) makes the whole row an error:
    // what could not be read may have changed any verdict. Its findings are kept.
    let damaged = tree.map(|t| t.odb_errors()).unwrap_or_default();
    if let Some(first) = damaged.first() {
        row.findings = findings_of(&report);
        let why = format!(
            "the repository is damaged: {} object(s) could not be read ({first})",
            damaged.len()
        );
        return fail(row, why, Some(set));
    }
    report.suppressed.clear();
    report.repo_dir = String::new();
    report.repo_root = (spec.kind == SourceKind::Checkout)
        .then(|| std::fs::canonicalize(&spec.path).ok())
        .flatten();
    row.status = Status::Ok;
    for m in set.metas() {
        let verdict = if report.unchecked_rules.contains(&m.id) {
            Verdict::Skipped
        } else if report.failed_rules.contains(&m.id) {
            Verdict::Error
        } else if report.findings.iter().any(|f| f.rule == m.id) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        let findings = report.findings.iter().filter(|f| f.rule == m.id).count();
        row.rules.insert(m.id, RuleCell { verdict, findings });
    }
    row.findings = findings_of(&report);
    row.problems = report
        .notifications
        .iter()
        .filter(|n| n.level == Severity::Error)
        .map(|n| format!("{}:{}: {}", n.location.file, n.location.line, n.message))
        .collect();
    row.score = row.compute_score();
    (
        Checked {
            row,
            report: Some(report),
        },
        Some(set),
    )
}

/// A report's findings as the scorecard keeps them.
fn findings_of(report: &RootReport) -> Vec<FleetFinding> {
    report
        .findings
        .iter()
        .map(|f| FleetFinding {
            rule: f.rule.clone(),
            level: f.severity,
            file: f.location.file.clone(),
            line: f.location.line,
            message: f.message.clone(),
        })
        .collect()
}

/// Opens a repository as a root: a checkout's work tree, or a commit's tree (a bare
/// repository's, or a checkout's at a manifest ref), which is returned too. Records the ref
/// and commit on the row.
fn open(
    spec: &RepoSpec,
    opts: &FleetOptions,
    row: &mut Repository,
) -> Result<(crate::load::Root, Option<Arc<crate::load::git::GitTree>>), String> {
    match spec.kind {
        // A checkout whose manifest entry names a ref is read at that ref from its own
        // objects, like a mirror; otherwise its work tree is read as it is on disk.
        SourceKind::Checkout if spec.rev.is_none() => {
            let root = crate::pipeline::load::dir_root(&spec.path, &spec.name)
                .map_err(|e| e.to_string())?;
            row.commit = head_commit(&spec.path);
            Ok((root, None))
        }
        SourceKind::Checkout | SourceKind::Mirror => {
            let rev = spec
                .rev
                .clone()
                .or_else(|| opts.rev.clone())
                .unwrap_or_else(|| "HEAD".to_string());
            let tree = crate::load::git::GitTree::open(&spec.path, &rev)
                .map_err(|e| format!("cannot read {}: {e}", spec.path.display()))?;
            row.commit = Some(tree.commit().to_string());
            row.r#ref = Some(rev);
            let tree = Arc::new(tree);
            Ok((crate::load::Root::git(&spec.path, tree.clone()), Some(tree)))
        }
        SourceKind::Unknown => Err(if spec.path.exists() {
            format!(
                "{} is neither a git checkout nor a bare repository",
                spec.path.display()
            )
        } else {
            format!("{}: no such directory", spec.path.display())
        }),
    }
}

/// The commit a checkout's HEAD points at, when it can be read.
fn head_commit(path: &Path) -> Option<String> {
    let repo = gix::open_opts(path, gix::open::Options::isolated()).ok()?;
    let id = repo.head_id().ok()?;
    Some(id.to_string())
}

/// A repository's own configuration, read through its root (so a bare repository's is read
/// from its tree).
fn repo_config(root: &crate::load::Root) -> Result<Option<crate::config::Chain>, String> {
    crate::config::discover_in(root).map_err(|e| e.to_string())
}

/// Combines the output directories of shard runs into one scorecard: the same document an
/// unsharded run of the same repositories gives (but for its run metadata), with every
/// shard's SARIF files copied into `out/sarif/`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Scorecard, PlanError> {
    let mut repos: Vec<Repository> = Vec::new();
    let mut info = BTreeMap::new();
    let started = Instant::now();
    let started_at = crate::clock::rfc3339_now();
    let sarif_out = out.join("sarif");
    for d in dirs {
        let file = d.join("scorecard.json");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| PlanError(format!("error: cannot read {}: {e}", file.display())))?;
        let s: Scorecard = serde_json::from_str(&text)
            .map_err(|e| PlanError(format!("error: {} is no scorecard: {e}", file.display())))?;
        if s.schema_version != scorecard::SCHEMA_VERSION {
            return Err(PlanError(format!(
                "error: {} has scorecard format {}, this shipshape writes {}",
                file.display(),
                s.schema_version,
                scorecard::SCHEMA_VERSION
            )));
        }
        info.extend(s.rule_info());
        repos.extend(s.repositories);
        let sarif_in = d.join("sarif");
        if let Ok(entries) = std::fs::read_dir(&sarif_in) {
            std::fs::create_dir_all(&sarif_out).map_err(|e| {
                PlanError(format!("error: cannot create {}: {e}", sarif_out.display()))
            })?;
            for e in entries.flatten() {
                let to = sarif_out.join(e.file_name());
                std::fs::copy(e.path(), &to).map_err(|err| {
                    PlanError(format!("error: cannot copy {}: {err}", e.path().display()))
                })?;
            }
        }
    }
    let dups = sources::duplicate_names(repos.iter().map(|r| r.name.as_str()));
    if !dups.is_empty() {
        return Err(PlanError(format!(
            "error: {} occur in more than one shard: were the shards run with the same N?",
            dups.join(", ")
        )));
    }
    let run = RunMeta {
        tool: "shipshape".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started: started_at,
        duration_ms: started.elapsed().as_millis() as u64,
        shard: None,
        merged: Some(dirs.len()),
    };
    Ok(Scorecard::build(repos, &info, run))
}

/// Reads an older scorecard to compare with.
pub fn read_scorecard(file: &Path) -> Result<Scorecard, PlanError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| PlanError(format!("error: cannot read {}: {e}", file.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| PlanError(format!("error: {} is no scorecard: {e}", file.display())))
}

/// The exit status of a fleet: 2 when a repository errored, else 1 when a finding is at or
/// above `threshold`, else 0.
pub fn exit_status(s: &Scorecard, threshold: Option<Severity>) -> u8 {
    let failing = threshold.is_some_and(|t| {
        s.repositories
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.level >= t)
    });
    if s.summary.errored > 0 {
        2
    } else if failing {
        1
    } else {
        0
    }
}
