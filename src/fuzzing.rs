//! Fuzz targets: one function per loader and embedded language, plus one that checks a whole
//! repository built from the input.
//!
//! Each target takes arbitrary bytes and must return without panicking, whatever they are.
//! The same functions are called by the cargo-fuzz harness in `fuzz/` (libFuzzer, nightly)
//! and by the bounded property test `tests/it/fuzz.rs` (stable, inside `cargo test`), so a
//! crash found by either is a crash of the other. This module is part of the public API only
//! for those two callers; it exposes no model type and nothing else depends on it.
//!
//! Targets that read several files take a *bundle*: sections that each start with a line
//! `@@@ <path>`; text before the first such line belongs to the target's main file. Paths are
//! mapped onto a fixed set ([`PATHS`]) so that any input names only files the loaders look
//! for, inside a fresh temporary directory.

use std::path::Path;
use std::sync::OnceLock;

use crate::load;
use crate::model::ci::Trigger;
use crate::policy::PolicySet;

/// The line prefix that starts a bundle section.
pub const SECTION: &str = "@@@ ";

/// The files a bundle may hold: every name a loader discovers or follows in a small
/// repository.
pub const PATHS: &[&str] = &[
    ".github/workflows/ci.yml",
    ".github/workflows/deploy.yml",
    ".github/workflows/reusable.yml",
    ".github/actions/setup/action.yml",
    "action.yml",
    ".gitlab-ci.yml",
    "ci/build.yml",
    "ci/deploy.yml",
    "templates/jobs.yml",
    "Dockerfile",
    "app/Dockerfile",
    "compose.yaml",
    "compose.override.yaml",
    "docker-compose.yml",
    "common.yml",
    ".env",
    "app.env",
    "rules/alerts.yml",
    "k8s/rules.yaml",
    "package.json",
    "app/package.json",
    "tsconfig.json",
    "tsconfig.base.json",
    "app/tsconfig.json",
    "src/index.ts",
    "src/server.js",
    "app/src/main.ts",
    "nx.json",
    "project.json",
    "pnpm-workspace.yaml",
    ".shipshape.yaml",
    "base.shipshape.yaml",
    ".gitignore",
];

/// A fuzz target: its name (the `fuzz/` binary and corpus directory) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("github_workflow", github_workflow),
    ("github_action", github_action),
    ("gitlab_ci", gitlab_ci),
    ("dockerfile", dockerfile),
    ("compose", compose),
    ("prometheus", prometheus),
    ("package_json", package_json),
    ("tsconfig", tsconfig),
    ("js_scan", js_scan),
    ("shell", shell),
    ("promql", promql),
    ("github_expression", github_expression),
    ("gitlab_expression", gitlab_expression),
    ("config", config),
    ("repository", repository),
];

/// The main file of each bundle target (where text before the first section goes).
pub fn main_path(target: &str) -> Option<&'static str> {
    Some(match target {
        "github_workflow" => ".github/workflows/ci.yml",
        "github_action" => ".github/actions/setup/action.yml",
        "gitlab_ci" => ".gitlab-ci.yml",
        "compose" => "compose.yaml",
        "tsconfig" => "tsconfig.json",
        "js_scan" => "src/index.ts",
        "config" => ".shipshape.yaml",
        _ => return None,
    })
}

/// The path of [`PATHS`] that `name` stands for: itself, else the first with the same file
/// name, else one picked by a hash of it.
pub fn map_path(name: &str) -> &'static str {
    let name = name.trim();
    if let Some(p) = PATHS.iter().find(|p| **p == name) {
        return p;
    }
    let base = name.rsplit('/').next().unwrap_or(name);
    if let Some(p) = PATHS.iter().find(|p| p.rsplit('/').next() == Some(base)) {
        return p;
    }
    let h = name
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
    PATHS[h % PATHS.len()]
}

/// Splits a bundle into (path, contents); text before the first section goes to `main`
/// (dropped when there is none). A later section for the same path replaces an earlier one.
pub fn split_bundle(data: &[u8], main: Option<&'static str>) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut current = main;
    let mut body: Vec<u8> = Vec::new();
    let mut push = |path: Option<&'static str>, body: &mut Vec<u8>| {
        if let Some(p) = path {
            out.retain(|(q, _)| *q != p);
            out.push((p, std::mem::take(body)));
        }
        body.clear();
    };
    for line in data.split_inclusive(|b| *b == b'\n') {
        if let Some(rest) = line.strip_prefix(SECTION.as_bytes()) {
            push(current, &mut body);
            current = Some(map_path(&String::from_utf8_lossy(rest)));
        } else {
            body.extend_from_slice(line);
        }
    }
    push(current, &mut body);
    out
}

/// Writes a bundle's files under `root`; the paths written.
fn write_bundle(root: &Path, files: &[(&'static str, Vec<u8>)]) -> Vec<String> {
    let mut written = Vec::new();
    for (rel, bytes) in files {
        let path = root.join(rel);
        if let Some(dir) = path.parent()
            && std::fs::create_dir_all(dir).is_err()
        {
            continue;
        }
        if std::fs::write(&path, bytes).is_ok() {
            written.push((*rel).to_string());
        }
    }
    written.sort();
    written
}

/// A temporary directory holding a bundle, with the main file's text.
struct Tree {
    dir: tempfile::TempDir,
    /// The directory as the loaders read it.
    root: load::Root,
    files: Vec<String>,
    main: String,
}

/// Writes the bundle of `data` for `target` into a fresh temporary directory; `None` when no
/// directory can be made (nothing to test then).
fn tree(target: &str, data: &[u8]) -> Option<Tree> {
    let main = main_path(target);
    let files = split_bundle(data, main);
    let main_text = main
        .and_then(|m| files.iter().find(|(p, _)| *p == m))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let dir = tempfile::tempdir().ok()?;
    let files = write_bundle(dir.path(), &files);
    let root = load::Root::new(dir.path()).ok()?;
    Some(Tree {
        dir,
        root,
        files,
        main: main_text,
    })
}

/// The built-in policies, compiled once.
fn policies() -> Option<&'static PolicySet> {
    static SET: OnceLock<Option<PolicySet>> = OnceLock::new();
    SET.get_or_init(|| PolicySet::load(true, &[]).ok()).as_ref()
}

/// A GitHub workflow (with the local actions and reusable workflows of the bundle).
pub fn github_workflow(data: &[u8]) {
    let Some(t) = tree("github_workflow", data) else {
        return;
    };
    let _ = load::github::load(&t.root, ".github/workflows/ci.yml", &t.main);
}

/// A local action, used by a fixed workflow (unless the bundle brings its own).
pub fn github_action(data: &[u8]) {
    let Some(t) = tree("github_action", data) else {
        return;
    };
    let _ = load::yaml::check(".github/actions/setup/action.yml", &t.main);
    let rel = ".github/workflows/ci.yml";
    let workflow = if t.files.iter().any(|f| f == rel) {
        std::fs::read_to_string(t.dir.path().join(rel)).unwrap_or_default()
    } else {
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: ./.github/actions/setup\n      - run: npm test\n".to_string()
    };
    let _ = load::github::load(&t.root, rel, &workflow);
}

/// A GitLab CI configuration with the local includes of the bundle.
pub fn gitlab_ci(data: &[u8]) {
    let Some(t) = tree("gitlab_ci", data) else {
        return;
    };
    let _ = load::gitlab::load(&t.root, ".gitlab-ci.yml", &t.main);
}

/// A Dockerfile.
pub fn dockerfile(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(mut d) = load::dockerfile::load("Dockerfile", &text, &[]) {
        let targets: Vec<String> = d.stages.iter().filter_map(|s| s.name.clone()).collect();
        load::dockerfile::set_targets(&mut d, &targets, true);
    }
}

/// A Compose file with its override and the files it includes or extends.
pub fn compose(data: &[u8]) {
    let Some(t) = tree("compose", data) else {
        return;
    };
    let over = "compose.override.yaml";
    let over_text = t
        .files
        .iter()
        .any(|f| f == over)
        .then(|| std::fs::read_to_string(t.dir.path().join(over)).unwrap_or_default());
    let _ = load::compose::may_be_compose(&t.main);
    let _ = load::compose::load(
        &t.root,
        "compose.yaml",
        &t.main,
        over_text.as_deref().map(|o| (over, o)),
    );
}

/// A Prometheus rule file or PrometheusRule resource (their PromQL included).
pub fn prometheus(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = load::prometheus::may_hold_rules(&text);
    let probe = load::prometheus::probe("rules/alerts.yml", &text);
    if let Some(mut file) = probe.file {
        crate::facts::promql::describe(&mut file, &probe.exprs);
        crate::facts::promql::derive(std::slice::from_mut(&mut file));
    }
}

/// A `package.json`.
pub fn package_json(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = load::package_json::load("package.json", &text);
}

/// A `tsconfig.json` (and the configs it extends), then alias resolution through it.
pub fn tsconfig(data: &[u8]) {
    let Some(t) = tree("tsconfig", data) else {
        return;
    };
    let aliases = load::tsconfig::Aliases::load(&t.root, &t.files);
    for (importer, spec) in [
        ("src/index.ts", "@/server"),
        ("src/index.ts", "@app/db"),
        ("app/src/main.ts", "~/lib/x"),
        ("src/index.ts", "server"),
    ] {
        let _ = aliases.candidates(importer, spec);
    }
}

/// JS/TS sources (with the tsconfig of the bundle), scanned for app facts.
pub fn js_scan(data: &[u8]) {
    let Some(t) = tree("js_scan", data) else {
        return;
    };
    let aliases = load::tsconfig::Aliases::load(&t.root, &t.files);
    let sources: Vec<String> = t
        .files
        .iter()
        .filter(|f| f.ends_with(".ts") || f.ends_with(".js"))
        .cloned()
        .collect();
    let (mut app, _) = load::js::scan(&t.root, &sources, &aliases, &Default::default());
    crate::facts::app::compute(&mut app);
}

/// A shell script, with each command classified as a package-manager command.
pub fn shell(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(commands) = crate::shell::parse_script(&text, "script.sh", 3, 7) {
        for c in &commands {
            let _ = crate::pm::classify(&c.program, &c.args, &c.env);
        }
    }
}

/// A PromQL expression and its facts.
pub fn promql(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(expr) = load::prometheus::parse_promql(&text) {
        let _ = crate::facts::promql::facts(&expr);
    }
}

/// A GitHub `if:` expression, evaluated for a few triggers.
pub fn github_expression(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::expr::github::expression_nesting(&text);
    let trigger = |event: &str, tags: &[&str], pre_merge: bool| Trigger {
        branches: vec!["main".to_string()],
        tags: tags.iter().map(|t| (*t).to_string()).collect(),
        pre_merge,
        default_branch: !pre_merge && tags.is_empty(),
        tag_only: !tags.is_empty(),
        ..Trigger::new(
            event,
            crate::location::Location::file_start(".github/workflows/ci.yml"),
        )
    };
    let push = trigger("push", &[], false);
    let pr = trigger("pull_request", &[], true);
    let tag = trigger("push", &["v*"], false);
    for t in [&push, &pr, &tag] {
        let _ = crate::expr::github::eval_condition(&text, t);
    }
}

/// A GitLab `rules: if:` expression, evaluated for every pipeline source.
pub fn gitlab_expression(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::expr::gitlab::parse_and_evaluate(&text);
}

/// A configuration file (with the config it extends), validated against the built-in rules.
pub fn config(data: &[u8]) {
    let Some(t) = tree("config", data) else {
        return;
    };
    let Ok(chain) = crate::config::read(&t.dir.path().join(".shipshape.yaml")) else {
        return;
    };
    if let Some(set) = policies() {
        let _ = crate::config::validate(&chain, set);
    }
}

/// A whole repository built from a bundle, checked with the built-in policies and rendered in
/// every format.
pub fn repository(data: &[u8]) {
    let Some(t) = tree("repository", data) else {
        return;
    };
    let Some(set) = policies() else {
        return;
    };
    let Ok(report) = crate::check_root(t.dir.path(), "repo", set, &crate::Settings::default())
    else {
        return;
    };
    let reports = [report];
    let metas = set.metas();
    let _ = crate::report::human::render(
        &reports,
        &crate::report::Context::new(&metas, crate::VERSION),
    );
    let _ = crate::report::concise::render(
        &reports,
        &crate::report::Context::new(&metas, crate::VERSION),
    );
    let _ = crate::report::json::render(&reports, crate::VERSION);
    let _ = crate::report::sarif::render(
        &reports,
        &crate::report::Context::new(&metas, crate::VERSION),
    );
}
