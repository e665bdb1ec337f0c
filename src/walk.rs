//! File discovery: the one place that builds the `ignore` walker and classifies every file of
//! a repository root into the input kinds of the catalog (by name, and for alert rules and
//! Compose files not named as such by a cheap content probe that the loader confirms).

use std::path::Path;

use ignore::WalkBuilder;
use serde::Serialize;

/// Directories never descended into, wherever they are.
pub const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    ".git",
    ".hg",
    ".svn",
    "vendor",
    "bower_components",
    ".yarn",
    ".pnpm-store",
];

/// Directories whose JavaScript/TypeScript files are build output or tests, not app sources.
pub const NON_SOURCE_DIRS: &[&str] = &[
    "dist",
    "build",
    "out",
    ".next",
    ".nuxt",
    ".medusa",
    "coverage",
    "__tests__",
    "__mocks__",
    "test",
    "tests",
    "integration-tests",
    "e2e",
    "cypress",
];

/// The kind of input a discovered file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A GitHub Actions workflow: `.github/workflows/*.yml|yaml` under the root only.
    GithubWorkflow,
    /// A local composite action or reusable definition: `action.yml|yaml` outside workflows.
    GithubAction,
    /// The GitLab CI entry file `.gitlab-ci.yml` at the root (local includes are followed by
    /// the GitLab loader).
    GitlabCi,
    /// A Dockerfile: `Dockerfile`, `Dockerfile.*`, `*.Dockerfile`, `Containerfile`,
    /// `Containerfile.*` outside `.devcontainer/`; templates (`.hbs`, `.j2`, ...) excluded.
    Dockerfile,
    /// A Compose file by name: `compose.y*ml`, `docker-compose*.y*ml`, `*compose*.y*ml`
    /// (`docker-compose-dev.yml`, `local.docker-compose.yaml`, `dev.compose.yml`). Other YAML
    /// files can be Compose files by content (see [`FileKind::YamlCandidate`]).
    Compose,
    /// Any other YAML file: a Prometheus rules or Compose candidate, confirmed by content when
    /// loaded.
    YamlCandidate,
    /// A `package.json`.
    PackageJson,
    /// A JavaScript/TypeScript source outside build output and test folders.
    JsSource,
}

/// One discovered input file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Discovered {
    /// Path relative to the root, forward slashes: read through [`crate::load::Root`].
    pub rel: String,
    /// What kind of input it is.
    pub kind: FileKind,
}

/// A problem met while walking (an unreadable directory, a symlink loop).
#[derive(Debug, Clone)]
pub struct WalkProblem {
    /// Path relative to the root when known.
    pub rel: String,
    /// What went wrong.
    pub message: String,
}

/// All files of a root, classified, sorted by the byte order of their relative path.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// The classified inputs.
    pub files: Vec<Discovered>,
    /// Every file seen (classified or not), relative paths, sorted: used for the
    /// missing-evidence fallback ("the first file scanned").
    pub all_files: Vec<String>,
    /// Problems met while walking.
    pub problems: Vec<WalkProblem>,
    /// Symlinks that lead outside the root (relative paths, sorted): neither read nor listed
    /// in `files` or `all_files`.
    pub outside: Vec<String>,
}

/// Walks `root` (skipping [`SKIPPED_DIRS`] only) and classifies what it finds. Symlinks are
/// not descended into, so link loops cannot trap the walk; a symlinked file is listed and
/// read through [`crate::load::Root`], which refuses one that leads outside the root.
///
/// Ignore files (`.gitignore`, `.ignore`, `.git/info/exclude`, the global git excludes, and
/// any of them above the root) are not read: the repository under check writes them, so
/// honouring them would let a change that adds `.ignore: Dockerfile` silence every
/// Dockerfile rule. In a fresh checkout, as in CI, the files present are the committed ones.
pub fn discover(root: &Path) -> Discovery {
    let mut out = Discovery::default();
    let canon_root = std::fs::canonicalize(root).ok();
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .parents(false)
        .follow_links(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && SKIPPED_DIRS.iter().any(|d| e.file_name() == *d))
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                out.problems.push(WalkProblem {
                    rel: String::new(),
                    message: err.to_string(),
                });
                continue;
            }
        };
        let is_file = entry
            .file_type()
            .is_some_and(|t| t.is_file() || t.is_symlink());
        if !is_file {
            continue;
        }
        let Some(rel) = relative(root, entry.path()) else {
            continue;
        };
        let outside = entry.path_is_symlink()
            && canon_root.as_ref().is_some_and(|canon_root| {
                std::fs::canonicalize(entry.path()).is_ok_and(|t| !t.starts_with(canon_root))
            });
        out.add(rel, outside);
    }
    out.finish();
    out
}

/// Whether a root-relative path lies under one of the [`SKIPPED_DIRS`] (a directory of that
/// name at any depth).
pub fn is_skipped(rel: &str) -> bool {
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    parts.iter().any(|d| SKIPPED_DIRS.contains(d))
}

impl Discovery {
    /// Adds one file found under the root (any source: a directory walk or a git tree):
    /// `outside` when it is a symlink that leads out of the root (listed apart, never read).
    pub fn add(&mut self, rel: String, outside: bool) {
        if outside {
            self.outside.push(rel);
            return;
        }
        if let Some(kind) = classify(&rel) {
            self.files.push(Discovered {
                rel: rel.clone(),
                kind,
            });
        } else if let Some(suffix) = dockerfile_template_suffix(&rel) {
            self.problems.push(WalkProblem {
                rel: rel.clone(),
                message: format!("{rel} is a template ({suffix}), not a Dockerfile: not checked"),
            });
        }
        self.all_files.push(rel);
    }

    /// Sorts what was added, so that the order does not depend on the source's.
    pub fn finish(&mut self) {
        self.files.sort();
        self.all_files.sort();
        self.outside.sort();
    }
}

/// `path` relative to `root` with forward slashes.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// File-name suffixes of files that look like inputs but are not: docs, backups, ignore
/// files (see also [`RENDERED_TEMPLATE_SUFFIXES`]).
const NON_INPUT_SUFFIXES: &[&str] = &[".md", ".txt", ".bak", ".orig", ".swp", ".dockerignore"];

/// Classifies one relative path (forward slashes) into an input kind, or `None`.
pub fn classify(rel: &str) -> Option<FileKind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    let dirs: Vec<&str> = rel.split('/').collect();
    let dirs = &dirs[..dirs.len().saturating_sub(1)];
    let is_yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");

    if dirs.len() == 2 && dirs[0] == ".github" && dirs[1] == "workflows" && is_yaml {
        return Some(FileKind::GithubWorkflow);
    }
    if rel == ".gitlab-ci.yml" || rel == ".gitlab-ci.yaml" {
        return Some(FileKind::GitlabCi);
    }
    if lower == "action.yml" || lower == "action.yaml" {
        return Some(FileKind::GithubAction);
    }
    if is_dockerfile_name(name) && !dirs.contains(&".devcontainer") {
        return Some(FileKind::Dockerfile);
    }
    if is_compose_name(&lower) {
        return Some(FileKind::Compose);
    }
    if name == "package.json" {
        return Some(FileKind::PackageJson);
    }
    if is_yaml {
        return Some(FileKind::YamlCandidate);
    }
    const JS: &[&str] = &[".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"];
    if JS.iter().any(|e| lower.ends_with(e))
        && !lower.ends_with(".d.ts")
        && !lower.contains(".test.")
        && !lower.contains(".spec.")
        && !lower.ends_with(".min.js")
        && !dirs.iter().any(|d| NON_SOURCE_DIRS.contains(d))
    {
        return Some(FileKind::JsSource);
    }
    None
}

/// Whether a file name is a Dockerfile name (see [`FileKind::Dockerfile`]).
pub fn is_dockerfile_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if NON_INPUT_SUFFIXES
        .iter()
        .chain(RENDERED_TEMPLATE_SUFFIXES)
        .any(|s| lower.ends_with(s))
    {
        return false;
    }
    !is_source_named_dockerfile(name) && dockerfile_pattern(&lower)
}

/// Whether a name is a program's source file named after Dockerfiles (`dockerfile.rs`,
/// `dockerfile.go`, `dockerfile.ts`): all lowercase, as source files are, with one
/// source-code extension. `Dockerfile.go` stays a Dockerfile (for a Go build).
fn is_source_named_dockerfile(name: &str) -> bool {
    const SOURCE: &[&str] = &[
        "rs", "go", "py", "rb", "java", "kt", "c", "h", "cc", "cpp", "cs", "php", "swift", "js",
        "mjs", "cjs", "ts", "mts", "cts", "jsx", "tsx",
    ];
    name.strip_prefix("dockerfile.")
        .is_some_and(|ext| SOURCE.contains(&ext))
}

/// Whether a lowercase name has a Dockerfile's shape: `Dockerfile`, `Containerfile`,
/// `Dockerfile.*`, `Containerfile.*` or `*.Dockerfile`.
fn dockerfile_pattern(lower: &str) -> bool {
    lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.starts_with("containerfile.")
        || (lower.ends_with(".dockerfile") && lower.len() > ".dockerfile".len())
}

/// Suffixes of generated-file templates: a Dockerfile name ending in one of them is a
/// template that some tool renders, skipped with a notification.
const RENDERED_TEMPLATE_SUFFIXES: &[&str] = &[
    ".hbs",
    ".j2",
    ".jinja",
    ".jinja2",
    ".tmpl",
    ".tpl",
    ".template",
    ".erb",
    ".mustache",
    ".sample",
    ".example",
];

/// The template suffix of a path whose name is a Dockerfile name but for it
/// (`templates/Dockerfile.backend.hbs` → `.hbs`), outside `.devcontainer/`.
fn dockerfile_template_suffix(rel: &str) -> Option<&'static str> {
    if rel.split('/').any(|d| d == ".devcontainer") {
        return None;
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let lower = name.to_ascii_lowercase();
    let suffix = RENDERED_TEMPLATE_SUFFIXES
        .iter()
        .find(|s| lower.ends_with(*s))?;
    dockerfile_pattern(&lower[..lower.len() - suffix.len()]).then_some(*suffix)
}

/// Whether a lowercase file name is a Compose file name (see [`FileKind::Compose`]).
pub fn is_compose_name(lower: &str) -> bool {
    let Some(stem) = lower
        .strip_suffix(".yml")
        .or_else(|| lower.strip_suffix(".yaml"))
    else {
        return false;
    };
    stem.contains("compose")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_the_catalog_names() {
        let table = [
            (".github/workflows/ci.yml", Some(FileKind::GithubWorkflow)),
            (
                ".github/workflows/deploy.yaml",
                Some(FileKind::GithubWorkflow),
            ),
            (
                "sub/.github/workflows/ci.yml",
                Some(FileKind::YamlCandidate),
            ),
            (
                ".github/workflows/nested/x.yml",
                Some(FileKind::YamlCandidate),
            ),
            (
                ".github/actions/setup/action.yml",
                Some(FileKind::GithubAction),
            ),
            (".gitlab-ci.yml", Some(FileKind::GitlabCi)),
            ("Dockerfile", Some(FileKind::Dockerfile)),
            (
                "services/api/Dockerfile.production",
                Some(FileKind::Dockerfile),
            ),
            ("prod.Dockerfile", Some(FileKind::Dockerfile)),
            ("Containerfile", Some(FileKind::Dockerfile)),
            (".devcontainer/Dockerfile", None),
            ("templates/Dockerfile.backend.hbs", None),
            ("Dockerfile.dockerignore", None),
            ("src/load/dockerfile.rs", None),
            ("src/facts/dockerfile.ts", Some(FileKind::JsSource)),
            ("Dockerfile.go", Some(FileKind::Dockerfile)),
            ("dockerfile.prod", Some(FileKind::Dockerfile)),
            (".dockerignore", None),
            ("compose.yaml", Some(FileKind::Compose)),
            ("docker-compose.yml", Some(FileKind::Compose)),
            ("docker-compose.prod.yml", Some(FileKind::Compose)),
            ("compose.override.yaml", Some(FileKind::Compose)),
            ("my-compose.yml", Some(FileKind::Compose)),
            ("docker-compose-dev.yml", Some(FileKind::Compose)),
            ("local.docker-compose.yaml", Some(FileKind::Compose)),
            ("dev.compose.yml", Some(FileKind::Compose)),
            ("compose.json", None),
            ("stack.yml", Some(FileKind::YamlCandidate)),
            ("monitoring/alerts.yml", Some(FileKind::YamlCandidate)),
            ("package.json", Some(FileKind::PackageJson)),
            ("src/api/health/route.ts", Some(FileKind::JsSource)),
            ("src/app.test.ts", None),
            ("dist/main.js", None),
            ("types.d.ts", None),
            ("README.md", None),
        ];
        for (path, want) in table {
            assert_eq!(classify(path), want, "{path}");
        }
    }

    #[test]
    fn walks_everything_but_vendored_dirs_whatever_ignore_files_say() {
        let dir = tempfile::tempdir().expect("tempdir");
        // Ignore files above the root are not read either.
        std::fs::write(dir.path().join(".gitignore"), "Dockerfile\n").expect("write");
        std::fs::write(dir.path().join(".ignore"), "*.yaml\n").expect("write");
        let root = dir.path().join("repo");
        for (p, c) in [
            ("Dockerfile", "FROM scratch\n"),
            ("node_modules/x/Dockerfile", "FROM scratch\n"),
            ("ignored/Dockerfile", "FROM scratch\n"),
            (".gitignore", "ignored/\n"),
            (".ignore", "Dockerfile\nb/\n"),
            (".git/info/exclude", "*\n"),
            ("b/compose.yaml", "services: {}\n"),
        ] {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, c).expect("write");
        }
        let d = discover(&root);
        let rels: Vec<&str> = d.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            rels,
            vec!["Dockerfile", "b/compose.yaml", "ignored/Dockerfile"]
        );
        assert_eq!(
            d.all_files,
            vec![
                ".gitignore",
                ".ignore",
                "Dockerfile",
                "b/compose.yaml",
                "ignored/Dockerfile"
            ]
        );
    }

    #[test]
    fn dockerfile_templates_are_skipped_with_a_notification() {
        assert_eq!(
            dockerfile_template_suffix("t/Dockerfile.backend.hbs"),
            Some(".hbs")
        );
        assert_eq!(dockerfile_template_suffix("Dockerfile.j2"), Some(".j2"));
        assert_eq!(
            dockerfile_template_suffix("api.Dockerfile.tmpl"),
            Some(".tmpl")
        );
        assert_eq!(dockerfile_template_suffix("Dockerfile"), None);
        assert_eq!(dockerfile_template_suffix("Dockerfile.md"), None);
        assert_eq!(dockerfile_template_suffix("notes.hbs"), None);
        assert_eq!(
            dockerfile_template_suffix(".devcontainer/Dockerfile.hbs"),
            None
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("templates/Dockerfile.hbs");
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "FROM node:{{version}}\n").expect("write");
        let d = discover(dir.path());
        assert!(d.files.is_empty());
        let problems: Vec<(&str, &str)> = d
            .problems
            .iter()
            .map(|p| (p.rel.as_str(), p.message.as_str()))
            .collect();
        assert_eq!(
            problems,
            [(
                "templates/Dockerfile.hbs",
                "templates/Dockerfile.hbs is a template (.hbs), not a Dockerfile: not checked"
            )]
        );
    }
}
