//! shipshape: a declarative policy-as-code compliance checker. This crate root wires the
//! one-directional data flow — walk → load → model → evaluate → filter → report — and is the
//! library API that the CLI, the tests and the benchmarks use.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod cli;
pub mod config;
pub mod definitions;
pub mod facts;
pub mod finding;
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::load::yaml::YamlFailure;
use crate::load::{LoadError, Root};
use crate::location::Location;
use crate::model::{InputFile, ParseError, Repo};
use crate::policy::{PolicySet, RawFinding};
use crate::walk::FileKind;

/// The version reported in SARIF and JSON output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

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

/// Everything loaded from one root: the model, its texts, and tool notifications.
pub struct Loaded {
    /// The model policies see.
    pub repo: Repo,
    /// File texts by relative path (for snippets and fingerprints).
    pub sources: BTreeMap<String, Arc<str>>,
    /// Notifications (skipped files, walk problems).
    pub notifications: Vec<Notification>,
    /// Files that failed to load as a whole: no finding other than SS001 may point at them.
    pub unloadable: BTreeSet<String>,
}

/// Discovers and loads every input of `root` (shown as `display`) into the model; deploy jobs
/// are classified by `environments`, and the catalog's vocabularies are `definitions`.
pub fn load_root(
    root: &Path,
    display: &str,
    environments: &facts::ci::Environments,
    definitions: &definitions::Definitions,
) -> Result<Loaded, CheckError> {
    let meta = std::fs::metadata(root)
        .map_err(|e| CheckError::Root(display.to_string(), e.to_string()))?;
    if !meta.is_dir() {
        return Err(CheckError::Root(
            display.to_string(),
            "not a directory".to_string(),
        ));
    }
    // A directory that cannot be listed (permission denied) cannot be checked: the walk
    // would find nothing and report everything missing.
    std::fs::read_dir(root).map_err(|e| CheckError::Root(display.to_string(), e.to_string()))?;
    let discovery = walk::discover(root);
    let root =
        &Root::new(root).map_err(|e| CheckError::Root(display.to_string(), e.to_string()))?;
    let mut repo = Repo {
        root: display.to_string(),
        files: Vec::new(),
        ci: model::ci::Ci::default(),
        compose: Vec::new(),
        app: model::app::AppFacts::default(),
        packages: Vec::new(),
        dockerfiles: Vec::new(),
        alert_files: Vec::new(),
        parse_errors: Vec::new(),
        suppressions: Vec::new(),
        fallback: Location::file_start("."),
    };
    let mut sources = BTreeMap::new();
    let mut notifications = Vec::new();
    let mut unloadable = BTreeSet::new();
    for p in &discovery.problems {
        notifications.push(Notification {
            level: Severity::Note,
            message: format!("skipped while walking: {}", p.message),
            location: Location::file_start(if p.rel.is_empty() { "." } else { &p.rel }),
        });
    }
    // A file that fails is one error, however many loaders read it (on its own and through
    // the files that reference it); notes at references to files that do not parse, each once.
    let mut notes: Vec<LoadError> = Vec::new();
    // Paths that lead outside the root are notes: nothing was read, nothing is wrong with the
    // repository's files.
    let mut outside: Vec<LoadError> = Vec::new();
    // What was recorded already (a set, so that many errors stay linear).
    let mut recorded: BTreeSet<(bool, Location, String)> = BTreeSet::new();
    let mut fail =
        |repo: &mut Repo, unloadable: &mut BTreeSet<String>, e: LoadError, whole: bool| {
            if whole && !e.outside {
                unloadable.insert(e.loc.file.clone());
            }
            if !recorded.insert((e.outside, e.loc.clone(), e.message.clone())) {
                return;
            }
            if e.outside {
                outside.push(e);
                return;
            }
            repo.parse_errors.push(ParseError {
                path: e.loc.file.clone(),
                message: e.message,
                loc: e.loc,
            });
        };
    let compose_files: BTreeSet<&str> = discovery
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Compose)
        .map(|f| f.rel.as_str())
        .collect();
    // Files are read and parsed in parallel, then merged in path order.
    let parsed: Vec<(&walk::Discovered, Parsed)> = discovery
        .files
        .par_iter()
        .filter(|f| f.kind != FileKind::JsSource)
        .map(|f| (f, parse_file(root, f, &compose_files)))
        .collect();
    // GitLab CI files and their local includes are never Compose files, whatever their
    // name or content.
    let gitlab_files: BTreeSet<String> = parsed
        .iter()
        .filter_map(|(_, p)| match p {
            Parsed::Read(_, _, o) => match o.as_ref() {
                FileOutcome::Gitlab(Ok(g)) => Some(g.sources.iter().map(|(p, _)| p.clone())),
                _ => None,
            },
            Parsed::Unreadable(_) => None,
        })
        .flatten()
        .collect();
    for (f, parsed) in parsed {
        let (text, kind, outcome) = match parsed {
            Parsed::Unreadable(e) => {
                if e.outside {
                    fail(&mut repo, &mut unloadable, e, true);
                } else if f.kind != FileKind::YamlCandidate {
                    repo.files.push(InputFile {
                        path: f.rel.clone(),
                        kind: kind_name(f.kind).to_string(),
                        loc: Location::file_start(&f.rel),
                    });
                    fail(&mut repo, &mut unloadable, e, true);
                }
                continue;
            }
            Parsed::Read(_, FileKind::Compose, _) if gitlab_files.contains(&f.rel) => continue,
            Parsed::Read(text, kind, outcome) => (text, kind, outcome),
        };
        if kind != FileKind::YamlCandidate {
            repo.files.push(InputFile {
                path: f.rel.clone(),
                kind: kind_name(kind).to_string(),
                loc: Location::file_start(&f.rel),
            });
        }
        let mut keep = kind != FileKind::YamlCandidate;
        match *outcome {
            FileOutcome::Dockerfile(r) => match r {
                Ok(d) => repo.dockerfiles.push(d),
                Err(e) => fail(&mut repo, &mut unloadable, e, true),
            },
            FileOutcome::Github(r) => match r {
                Ok(w) => {
                    if let Some(p) = w.pipeline {
                        repo.ci.pipelines.push(p);
                    }
                    repo.ci.jobs.extend(w.jobs);
                    repo.ci.external.extend(w.external);
                    for e in w.errors {
                        fail(&mut repo, &mut unloadable, e, false);
                    }
                    notes.extend(w.notes);
                    for (p, t) in w.sources {
                        sources.entry(p).or_insert_with(|| Arc::from(t));
                    }
                }
                Err(e) => fail(&mut repo, &mut unloadable, e, true),
            },
            FileOutcome::Package(r) => match r {
                Ok(p) => repo.packages.push(p),
                Err(e) => fail(&mut repo, &mut unloadable, e, true),
            },
            FileOutcome::Gitlab(r) => match r {
                Ok(g) => {
                    repo.ci.pipelines.push(g.pipeline);
                    repo.ci.jobs.extend(g.jobs);
                    repo.ci.external.extend(g.external);
                    for e in g.errors {
                        let whole = e.loc.file != f.rel;
                        fail(&mut repo, &mut unloadable, e, whole);
                    }
                    notes.extend(g.notes);
                    for (p, t) in g.sources {
                        sources.entry(p).or_insert_with(|| Arc::from(t));
                    }
                }
                Err(e) => fail(&mut repo, &mut unloadable, e, true),
            },
            FileOutcome::Yaml(r) => match r {
                Ok(()) => {}
                Err(YamlFailure::Invalid(e)) => fail(&mut repo, &mut unloadable, e, true),
                Err(YamlFailure::Template(e)) => {
                    unloadable.insert(f.rel.clone());
                    notifications.push(Notification {
                        level: Severity::Note,
                        message: e.message,
                        location: e.loc,
                    });
                }
            },
            FileOutcome::Compose(r) => match r {
                Ok(l) => {
                    repo.compose.push(l.project);
                    for e in l.errors {
                        fail(&mut repo, &mut unloadable, e, false);
                    }
                    notes.extend(l.notes);
                    for (p, t) in l.sources {
                        sources.entry(p).or_insert_with(|| Arc::from(t));
                    }
                }
                Err(e) => fail(&mut repo, &mut unloadable, e, true),
            },
            FileOutcome::Rules(probe) => {
                let whole = probe.file.is_none();
                for e in probe.errors {
                    fail(&mut repo, &mut unloadable, e, whole);
                    keep = true;
                }
                if let Some(s) = probe.skipped {
                    notifications.push(Notification {
                        level: Severity::Note,
                        message: s.message,
                        location: s.loc,
                    });
                }
                if let Some(file) = probe.file {
                    repo.alert_files.push(file);
                    keep = true;
                }
            }
        }
        if kind == FileKind::YamlCandidate && keep {
            repo.files.push(InputFile {
                path: f.rel.clone(),
                kind: kind_name(kind).to_string(),
                loc: Location::file_start(&f.rel),
            });
        }
        if keep {
            sources.insert(f.rel.clone(), Arc::<str>::from(text));
        }
    }
    notes.sort_by(|a, b| a.loc.cmp(&b.loc).then(a.message.cmp(&b.message)));
    notes.dedup();
    // Symlinks the walk found leading outside the root: the same note as any path that does.
    let walked_out = discovery
        .outside
        .iter()
        .filter_map(|rel| root.resolve(rel).err());
    for e in notes
        .into_iter()
        .chain(walked_out.filter(|e| e.outside))
        .chain(outside)
    {
        notifications.push(Notification {
            level: Severity::Note,
            message: e.message,
            location: e.loc,
        });
    }
    // A script that could not be analysed is said, once per position: its commands are
    // unknown, and rules treat its step as possibly running anything.
    let mut unanalysed_seen = BTreeSet::new();
    let scripts = repo
        .ci
        .jobs
        .iter()
        .flat_map(|j| &j.steps)
        .map(|s| (&s.loc, &s.unanalysed))
        .chain(
            repo.dockerfiles
                .iter()
                .flat_map(|d| &d.stages)
                .flat_map(|s| &s.runs)
                .map(|r| (&r.loc, &r.unanalysed)),
        );
    for (loc, why) in scripts {
        if !why.is_empty() && unanalysed_seen.insert((loc.clone(), why)) {
            notifications.push(Notification {
                level: Severity::Warning,
                message: format!(
                    "{}: script not analysed ({why}); what it runs is unknown",
                    loc.file
                ),
                location: Location::point(&loc.file, loc.line, loc.col),
            });
        }
    }
    // References that are recorded and not followed, where that leaves jobs or steps unread.
    for x in &repo.ci.external {
        let why = match x.kind.as_str() {
            "checkout" => {
                "is checked out at run time by an earlier step; its steps are not checked"
            }
            "include" => "is not local and was not followed; its jobs are not checked",
            _ => continue,
        };
        let what = if x.kind == "include" {
            "include"
        } else {
            "local action"
        };
        notifications.push(Notification {
            level: Severity::Note,
            message: format!("{}: {what} {} {why}", x.loc.file, x.target),
            location: x.loc.clone(),
        });
    }
    facts::promql::derive(&mut repo.alert_files);
    let sources_js: Vec<String> = discovery
        .files
        .iter()
        .filter(|f| f.kind == FileKind::JsSource)
        .map(|f| f.rel.clone())
        .collect();
    let aliases = load::tsconfig::Aliases::load(root, &discovery.all_files);
    let (app, js_notes) = load::js::scan(root, &sources_js, &aliases, definitions);
    for e in aliases.notes.iter().chain(&js_notes) {
        notifications.push(Notification {
            level: Severity::Note,
            message: e.message.clone(),
            location: e.loc.clone(),
        });
    }
    repo.app = app;
    facts::app::compute(&mut repo.app);
    repo.packages.sort_by(|a, b| a.path.cmp(&b.path));
    // A package script whose body the shell parser cannot analyse is followed into nothing:
    // say so, once per script (at the package.json, which keeps no script positions).
    for pkg in &repo.packages {
        for (name, body) in &pkg.scripts {
            if let Err(e) = shell::parse_script(body, &pkg.path, 1, 1) {
                notifications.push(Notification {
                    level: Severity::Note,
                    message: format!(
                        "{}: script `{name}` not analysed ({e}); what it runs is unknown",
                        pkg.path
                    ),
                    location: pkg.loc.clone(),
                });
            }
        }
    }
    let nx = load::nx::NxTasks::load(root, &discovery.all_files, &repo.packages);
    facts::ci::compute(
        &mut repo.ci,
        &repo.packages,
        (environments, definitions),
        &nx,
    );
    facts::dockerfile::follow_scripts(&mut repo.dockerfiles, &repo.packages, &nx);
    link_build_targets(&mut repo);
    // Suppression comments are read from every YAML file and Dockerfile loaded (not from
    // package.json, which has no comments, nor from the fallback README added below).
    let today = suppress::today();
    repo.suppressions = sources
        .iter()
        .filter(|(p, _)| !p.ends_with(".json"))
        .flat_map(|(p, t)| suppress::parse_text(p, t, &today))
        .collect();
    repo.fallback = fallback_location(&discovery.all_files);
    if !sources.contains_key(&repo.fallback.file)
        && let Ok(t) = root.read_text(&repo.fallback.file)
    {
        sources.insert(repo.fallback.file.clone(), Arc::from(t));
    }
    Ok(Loaded {
        repo,
        sources,
        notifications,
        unloadable,
    })
}

/// One input file, read and parsed (independently of the others).
enum Parsed {
    /// The file could not be read.
    Unreadable(LoadError),
    /// Its text, its kind as confirmed by its content (a YAML candidate can turn out to be a
    /// Compose file, a file named like a Compose file a Kubernetes manifest), and what its
    /// loader made of it.
    Read(String, FileKind, Box<FileOutcome>),
}

/// What a file's loader returned.
enum FileOutcome {
    Dockerfile(Result<model::dockerfile::Dockerfile, LoadError>),
    Github(Result<load::github::Workflow, LoadError>),
    Gitlab(Result<load::gitlab::GitlabCi, LoadError>),
    Package(Result<load::package_json::Package, LoadError>),
    Yaml(Result<(), YamlFailure>),
    Compose(Result<load::compose::Loaded, LoadError>),
    Rules(load::prometheus::Probe),
}

/// Reads and parses one discovered file with the loader of its kind.
fn parse_file(root: &Root, f: &walk::Discovered, compose_files: &BTreeSet<&str>) -> Parsed {
    let text = match root.read_text(&f.rel) {
        Ok(t) => t,
        Err(e) => return Parsed::Unreadable(e),
    };
    let mut kind = f.kind;
    let outcome = match f.kind {
        FileKind::Dockerfile => FileOutcome::Dockerfile(load::dockerfile::load(&f.rel, &text, &[])),
        FileKind::GithubWorkflow => FileOutcome::Github(load::github::load(root, &f.rel, &text)),
        FileKind::GitlabCi => FileOutcome::Gitlab(load::gitlab::load(root, &f.rel, &text)),
        FileKind::PackageJson => FileOutcome::Package(load::package_json::load(&f.rel, &text)),
        FileKind::Compose => {
            compose_outcome(root, f, &text, compose_files, false).unwrap_or_else(|| {
                kind = FileKind::YamlCandidate;
                FileOutcome::Rules(load::prometheus::probe(&f.rel, &text))
            })
        }
        FileKind::GithubAction => FileOutcome::Yaml(load::yaml::check(&f.rel, &text)),
        FileKind::YamlCandidate | FileKind::JsSource => {
            let probe = load::prometheus::probe(&f.rel, &text);
            let nothing =
                probe.file.is_none() && probe.errors.is_empty() && probe.skipped.is_none();
            let name = f
                .rel
                .rsplit('/')
                .next()
                .unwrap_or(&f.rel)
                .to_ascii_lowercase();
            let gitlab_name = name.starts_with(".gitlab-ci.");
            match (nothing && !gitlab_name && load::compose::may_be_compose(&text))
                .then(|| compose_outcome(root, f, &text, compose_files, true))
                .flatten()
            {
                Some(compose) => {
                    kind = FileKind::Compose;
                    compose
                }
                None => FileOutcome::Rules(probe),
            }
        }
    };
    Parsed::Read(text, kind, Box::new(outcome))
}

/// A Compose file: an override whose base exists is only checked (its base's project merges
/// it); any other file is a project, with its directory's override merged when it is a base.
/// `None` when the file is no Compose file after all (a Kubernetes manifest; for a file found
/// `by_content`, one without the Compose shape).
fn compose_outcome(
    root: &Root,
    f: &walk::Discovered,
    text: &str,
    compose_files: &BTreeSet<&str>,
    by_content: bool,
) -> Option<FileOutcome> {
    let dir = load::dir_of(&f.rel);
    let in_dir = |name: &str| {
        if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        }
    };
    if load::compose::is_override(&f.rel) {
        let has_base = [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yaml",
            "docker-compose.yml",
        ]
        .iter()
        .any(|b| {
            compose_files.contains(in_dir(b).as_str())
                && load::compose::override_names(b)
                    .iter()
                    .any(|o| in_dir(o) == f.rel)
        });
        if has_base {
            return Some(FileOutcome::Yaml(load::yaml::check(&f.rel, text)));
        }
    }
    let doc = match load::compose::parse_compose(&f.rel, text, by_content) {
        Ok(Some(doc)) => doc,
        Ok(None) => return None,
        Err(e) => return Some(FileOutcome::Compose(Err(e))),
    };
    let over = load::compose::override_names(&f.rel)
        .iter()
        .map(|o| in_dir(o))
        .find(|o| compose_files.contains(o.as_str()));
    let over_text = over.as_ref().and_then(|o| root.read_text(o).ok());
    let over_pair = over.as_deref().zip(over_text.as_deref());
    Some(FileOutcome::Compose(load::compose::load_doc(
        root, &f.rel, doc, over_pair,
    )))
}

/// Final stages follow the builds that target each Dockerfile: Compose `build.target` and
/// CI builds (`docker build --target`, a build-push action's `target:`, `buildctl --opt
/// target=`, ...; see `repo.ci.image_builds`).
fn link_build_targets(repo: &mut Repo) {
    let mut builds: BTreeMap<String, (Vec<String>, bool)> = BTreeMap::new();
    for b in &repo.ci.image_builds {
        let entry = builds.entry(b.dockerfile.clone()).or_default();
        if b.target.is_empty() {
            entry.1 = true;
        } else {
            entry.0.push(b.target.clone());
        }
    }
    for p in &repo.compose {
        for s in p.services.iter().filter(|s| s.has_build) {
            let file = if s.build_dockerfile.is_empty() {
                if s.build_context.is_empty() {
                    "Dockerfile".to_string()
                } else {
                    format!("{}/Dockerfile", s.build_context)
                }
            } else {
                s.build_dockerfile.clone()
            };
            let entry = builds.entry(file).or_default();
            if s.build_target.is_empty() {
                entry.1 = true;
            } else {
                entry.0.push(s.build_target.clone());
            }
        }
    }
    for d in &mut repo.dockerfiles {
        let known = builds.get(&d.path).or_else(|| {
            builds
                .iter()
                .find(|(p, _)| p.eq_ignore_ascii_case(&d.path))
                .map(|(_, b)| b)
        });
        if let Some((targets, untargeted)) = known {
            load::dockerfile::set_targets(d, targets, *untargeted);
        }
    }
}

/// The missing-evidence location: `package.json` (root first), else a `README*`, else the
/// first file scanned, at line 1.
fn fallback_location(all: &[String]) -> Location {
    let pick = all
        .iter()
        .find(|f| *f == "package.json")
        .or_else(|| {
            all.iter()
                .find(|f| f.ends_with("/package.json") || *f == "package.json")
        })
        .or_else(|| {
            all.iter()
                .find(|f| !f.contains('/') && f.to_ascii_lowercase().starts_with("readme"))
        })
        .or_else(|| all.first());
    Location::file_start(pick.map_or(".", String::as_str))
}

fn kind_name(k: FileKind) -> &'static str {
    match k {
        FileKind::GithubWorkflow => "github_workflow",
        FileKind::GithubAction => "github_action",
        FileKind::GitlabCi => "gitlab_ci",
        FileKind::Dockerfile => "dockerfile",
        FileKind::Compose => "compose",
        FileKind::YamlCandidate => "alert_rules",
        FileKind::PackageJson => "package_json",
        FileKind::JsSource => "js_source",
    }
}

/// Evaluates every policy on a loaded root and builds its report.
pub fn evaluate(loaded: Loaded, policies: &PolicySet, settings: &Settings) -> RootReport {
    let (filter, options) = (&settings.filter, &settings.options);
    let Loaded {
        mut repo,
        sources,
        mut notifications,
        unloadable,
    } = loaded;
    let root = repo.root.clone();
    let fallback = repo.fallback.clone();
    // The files of the GitLab CI configuration: findings there get the GitLab fix text.
    let gitlab_files: BTreeSet<String> = repo
        .files
        .iter()
        .filter(|f| f.kind == "gitlab_ci")
        .map(|f| f.path.clone())
        .chain(
            repo.ci
                .pipelines
                .iter()
                .filter(|p| p.provider == "gitlab")
                .map(|p| p.path.clone()),
        )
        .chain(
            repo.ci
                .jobs
                .iter()
                .filter(|j| j.provider == "gitlab")
                .map(|j| j.path.clone()),
        )
        .collect();
    let empty = BTreeMap::new();
    // The model becomes the interpreter's values once, straight from its Rust types; every
    // thread shares them.
    let t = std::time::Instant::now();
    let model = match policy::val::from_model(&repo) {
        Ok(v) => v,
        Err(e) => {
            notifications.push(Notification {
                level: Severity::Error,
                message: format!("internal error: the model of {root} could not be built: {e}"),
                location: fallback.clone(),
            });
            return RootReport {
                root,
                notifications,
                ..RootReport::default()
            };
        }
    };
    let parse_errors = std::mem::take(&mut repo.parse_errors);
    let model_suppressions = std::mem::take(&mut repo.suppressions);
    // Freeing large trees takes time of its own: the Rust model goes on a thread of its own
    // while policies run, and the interpreter's values after them.
    let repo_drop = std::thread::spawn(move || drop(repo));
    if std::env::var_os("SHIPSHAPE_TIMINGS").is_some() {
        eprintln!(
            "shipshape: {root}: model {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    // Policies are spread over the threads by the size of what they read (largest first,
    // each to the least loaded thread); a thread's context holds the union of its policies'
    // parts, so policies reading small parts stay cheap wherever they land.
    let mut weighted: Vec<(usize, &policy::Policy)> = policies
        .policies
        .iter()
        .map(|p| (policy::heaviest_read(model.as_ref(), &p.needs).0, p))
        .collect();
    weighted.sort_by_key(|(w, p)| (std::cmp::Reverse(*w), p.meta.id.clone()));
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4)
        .min(weighted.len().max(1));
    let mut shares: Vec<Vec<&policy::Policy>> = vec![Vec::new(); threads];
    let mut load: Vec<usize> = vec![0; threads];
    for (weight, p) in weighted {
        let t = (0..threads).min_by_key(|t| load[*t]).unwrap_or(0);
        load[t] = load[t].saturating_add(weight.max(1));
        shares[t].push(p);
    }
    type Outcome<'p> = (
        &'p policy::Policy,
        Result<Vec<RawFinding>, policy::EvalError>,
    );
    let evaluated: Vec<Result<Vec<Outcome>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .map(|share| {
                let (model, root, fallback, empty) = (&model, &root, &fallback, &empty);
                scope.spawn(move || {
                    let t = std::time::Instant::now();
                    let ctx = policies.context(model.as_ref(), &settings.definitions)?;
                    if std::env::var_os("SHIPSHAPE_TIMINGS").is_some() {
                        eprintln!(
                            "shipshape: {root}: context {:.1} ms",
                            t.elapsed().as_secs_f64() * 1e3
                        );
                    }
                    Ok(share
                        .iter()
                        .map(|p| {
                            let opts = options.get(&p.meta.id).unwrap_or(empty);
                            let t = std::time::Instant::now();
                            let r = policies.evaluate(p, &ctx, root, fallback, opts);
                            if std::env::var_os("SHIPSHAPE_TIMINGS").is_some() {
                                eprintln!(
                                    "shipshape: {root}: {} {:.1} ms",
                                    p.meta.id,
                                    t.elapsed().as_secs_f64() * 1e3
                                );
                            }
                            (*p, r)
                        })
                        .collect::<Vec<_>>())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a policy evaluation thread panicked".to_string()))
            })
            .collect()
    });
    std::thread::spawn(move || drop(model));
    let _ = repo_drop.join();
    let mut results: Vec<Outcome> = Vec::new();
    let mut failures = 0;
    for r in evaluated {
        match r {
            Ok(mut v) => results.append(&mut v),
            Err(e) => {
                failures += 1;
                notifications.push(Notification {
                    level: Severity::Error,
                    message: format!("internal error: no evaluation context for {root}: {e}"),
                    location: fallback.clone(),
                });
            }
        }
    }
    results.sort_by(|a, b| a.0.meta.id.cmp(&b.0.meta.id));
    let mut raw: Vec<(RawFinding, Severity)> = Vec::new();
    for (p, r) in results {
        match r {
            Ok(found) => {
                let sev = filter
                    .severities
                    .get(&p.meta.id)
                    .copied()
                    .unwrap_or(p.meta.severity);
                raw.extend(found.into_iter().map(|f| (f, sev)));
            }
            Err(e) => {
                failures += 1;
                notifications.push(Notification {
                    level: Severity::Error,
                    message: e.to_string(),
                    location: Location::file_start(&fallback.file),
                });
            }
        }
    }
    for e in &parse_errors {
        notifications.push(Notification {
            level: Severity::Error,
            message: e.message.clone(),
            location: e.loc.clone(),
        });
    }
    let known: BTreeSet<String> = policies
        .policies
        .iter()
        .map(|p| p.meta.id.clone())
        .collect();
    let suppressions = suppress::apply(
        &raw_keys(&raw),
        &model_suppressions,
        &known,
        &settings.locked,
    );
    let mut report = build_report(
        root,
        raw,
        suppressions,
        sources,
        notifications,
        &unloadable,
        filter,
    );
    report.policy_failures = failures;
    report.gitlab_files = gitlab_files;
    report.rule_severities = filter
        .severities
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    report
}

/// (rule, file, line) of each raw finding.
fn raw_keys(raw: &[(RawFinding, Severity)]) -> Vec<(String, String, u32)> {
    raw.iter()
        .map(|(f, _)| (f.rule.clone(), f.location.file.clone(), f.location.line))
        .collect()
}

/// Filters, sorts, de-duplicates and fingerprints raw findings into a report.
fn build_report(
    root: String,
    raw: Vec<(RawFinding, Severity)>,
    (suppressed, notes): (Vec<Option<String>>, Vec<Notification>),
    sources: BTreeMap<String, Arc<str>>,
    notifications: Vec<Notification>,
    unloadable: &BTreeSet<String>,
    filter: &RuleFilter,
) -> RootReport {
    let mut ignored = 0;
    let mut notifications = notifications;
    notifications.extend(notes);
    let mut kept: Vec<(RawFinding, Severity)> = Vec::new();
    let mut silenced: Vec<(RawFinding, Severity, String)> = Vec::new();
    for ((f, sev), justification) in raw.into_iter().zip(suppressed) {
        let excluded = filter
            .exclude
            .iter()
            .any(|x| x.drops(&f.rule, &f.location.file));
        if excluded {
            ignored += 1;
            continue;
        }
        if let Some(j) = justification {
            if filter.keeps(&f.rule) {
                silenced.push((f, sev, j));
            } else {
                ignored += 1;
            }
            continue;
        }
        if f.rule != "SS001" && unloadable.contains(&f.location.file) {
            continue;
        }
        if filter.keeps(&f.rule) {
            kept.push((f, sev));
        } else {
            ignored += 1;
        }
    }
    kept.sort_by(|a, b| {
        (
            &a.0.location.file,
            a.0.location.line,
            a.0.location.col,
            &a.0.rule,
            &a.0.message,
        )
            .cmp(&(
                &b.0.location.file,
                b.0.location.line,
                b.0.location.col,
                &b.0.rule,
                &b.0.message,
            ))
    });
    // One rule at one location is one finding (the first message in the order above), however
    // many subjects (deploy jobs sharing a flow, ...) lead to it.
    kept.dedup_by(|a, b| a.0.rule == b.0.rule && a.0.location == b.0.location);
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut used = BTreeMap::new();
    let mut make = |f: RawFinding, severity: Severity| {
        let text = sources.get(&f.location.file);
        let line_text = report::normalise_line(located_text(
            text.map(AsRef::as_ref).unwrap_or(""),
            &f.location,
        ));
        let key = (f.rule.clone(), f.location.file.clone(), line_text.clone());
        let n = seen.entry(key).or_insert(0);
        let fingerprint = report::fingerprint(&f.rule, &f.location.file, &line_text, *n);
        *n += 1;
        if let Some(t) = text {
            used.insert(f.location.file.clone(), t.clone());
        }
        Finding {
            rule: f.rule,
            severity,
            message: f.message,
            location: f.location,
            fingerprint,
        }
    };
    let findings: Vec<Finding> = kept.into_iter().map(|(f, s)| make(f, s)).collect();
    let suppressed: Vec<(Finding, String)> = silenced
        .into_iter()
        .map(|(f, s, j)| (make(f, s), j))
        .collect();
    for n in &notifications {
        if let Some(t) = sources.get(&n.location.file) {
            used.insert(n.location.file.clone(), t.clone());
        }
    }
    RootReport {
        root,
        findings,
        ignored,
        notifications,
        suppressed_count: suppressed.len(),
        baselined: 0,
        policy_failures: 0,
        suppressed,
        sources: used,
        gitlab_files: BTreeSet::new(),
        repo_dir: String::new(),
        repo_root: None,
        rule_severities: BTreeMap::new(),
    }
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

/// The text of the node a finding points at, for its identity: the region when it lies within
/// one line, else the rest of the line from the start column.
fn located_text<'t>(text: &'t str, loc: &Location) -> &'t str {
    let Some(line) = text.lines().nth(loc.line.saturating_sub(1) as usize) else {
        return "";
    };
    let byte = |col: u32| {
        line.char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map_or(line.len(), |(i, _)| i)
    };
    let start = byte(loc.col);
    let end = if loc.end_line == loc.line && loc.end_col > loc.col {
        byte(loc.end_col)
    } else {
        line.len()
    };
    &line[start..end.max(start)]
}

/// Checks one root end to end.
pub fn check_root(
    root: &Path,
    display: &str,
    policies: &PolicySet,
    settings: &Settings,
) -> Result<RootReport, CheckError> {
    let timings = std::env::var_os("SHIPSHAPE_TIMINGS").is_some();
    let start = std::time::Instant::now();
    let loaded = load_root(root, display, &settings.environments, &settings.definitions)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The interpreter's values serialised straight from the model are the values its JSON
    /// form gave (every example and test repository, all kinds of model object).
    #[test]
    fn model_values_match_their_json_form() {
        let envs = facts::ci::Environments::default();
        let mut roots: Vec<std::path::PathBuf> = Vec::new();
        let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        for e in std::fs::read_dir(examples).expect("examples").flatten() {
            if e.path().is_dir() {
                roots.push(e.path());
            }
        }
        assert!(roots.len() >= 3, "examples found: {roots:?}");
        for root in roots {
            let loaded =
                load_root(&root, "r", &envs, &definitions::Definitions::default()).expect("loads");
            let json = serde_json::to_value(&loaded.repo).expect("JSON form");
            let direct = policy::val::from_model(&loaded.repo).expect("values");
            assert!(
                direct.equals(policy::val::to_val(&json).as_ref()),
                "{}",
                root.display()
            );
            // The comparison sees a difference deep in the model.
            let mut changed = json.clone();
            if let Some(line) = changed.pointer_mut("/fallback/line") {
                *line = serde_json::json!(99_999);
            }
            assert!(!direct.equals(policy::val::to_val(&changed).as_ref()));
        }
    }

    #[test]
    fn located_text_is_the_region_or_the_rest_of_the_line() {
        let text =
            "services:\n  db:\n    image: postgres:16  # pinned later\nFROM node:latest AS build\n";
        let at = |line, col, end_line, end_col| Location {
            file: "f".to_string(),
            line,
            col,
            end_line,
            end_col,
        };
        assert_eq!(
            located_text(text, &at(3, 12, 3, 12)),
            "postgres:16  # pinned later"
        );
        assert_eq!(located_text(text, &at(4, 6, 4, 17)), "node:latest");
        assert_eq!(
            located_text(text, &at(4, 1, 5, 1)),
            "FROM node:latest AS build"
        );
        assert_eq!(located_text(text, &at(9, 1, 9, 1)), "");
        assert_eq!(located_text(text, &at(2, 40, 2, 50)), "", "past the end");
    }
}
