//! Loading one root: the root checked and walked, every discovered file read and parsed by
//! the loader of its kind (in parallel), Compose projects with their override files, the
//! model assembled with its facts, build targets linked to Dockerfile stages, and the
//! notifications of files skipped or unloadable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use super::CheckError;
use crate::finding::{Notification, Severity};
use crate::load::yaml::YamlFailure;
use crate::load::{LoadError, Root};
use crate::location::Location;
use crate::model::{InputFile, ParseError, Repo};
use crate::walk::FileKind;
use crate::{definitions, facts, load, model, shell, suppress, walk};

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

/// The directory `root` (shown as `display`) as a source of input files, after checking that
/// it is a directory that can be listed.
pub fn dir_root(root: &Path, display: &str) -> Result<Root, CheckError> {
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
    Root::new(root).map_err(|e| CheckError::Root(display.to_string(), e.to_string()))
}

/// Discovers and loads every input of the directory `root` (shown as `display`), as
/// [`load_source`] does.
pub fn load_root(
    root: &Path,
    display: &str,
    environments: &facts::ci::Environments,
    definitions: &definitions::Definitions,
) -> Result<Loaded, CheckError> {
    load_source(
        &dir_root(root, display)?,
        display,
        environments,
        definitions,
    )
}

/// Discovers and loads every input of `root` (shown as `display`) into the model; deploy jobs
/// are classified by `environments`, and the catalog's vocabularies are `definitions`.
pub fn load_source(
    root: &Root,
    display: &str,
    environments: &facts::ci::Environments,
    definitions: &definitions::Definitions,
) -> Result<Loaded, CheckError> {
    let discovery = root.discover();
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
                if let Some(mut file) = probe.file {
                    facts::promql::describe(&mut file, &probe.exprs);
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
    let today = crate::clock::today();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy;

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
            // Built part by part, consuming the model, the values are the same.
            let consumed = policy::val::from_repo(loaded.repo.clone(), &drop).expect("values");
            assert!(consumed.equals(direct.as_ref()), "{}", root.display());
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
}
