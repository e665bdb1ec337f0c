//! Loading policies: the built-in pack embedded in the binary and every `*.yaml`/`*.yml`
//! of the `--policy` directories, compiled once, with duplicate IDs refused.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use include_dir::{Dir, include_dir};
use miette::NamedSource;

use super::compile::{Fragments, compile_policy, error_at};
use super::{Policy, PolicyError, PolicySet, environment, meta};

/// The built-in policy pack, embedded at build time.
static BUILTIN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/policies");

impl PolicySet {
    /// Loads the built-in pack (unless `builtin` is false) and every `*.yaml`/`*.yml` in
    /// `dirs`. Fails on the first policy that does not parse or compile, or a duplicate ID.
    pub fn load(builtin: bool, dirs: &[PathBuf]) -> Result<PolicySet, Box<PolicyError>> {
        let env = Arc::new(environment());
        let mut sources: Vec<(String, String)> = Vec::new();
        if builtin {
            let mut files: Vec<_> = BUILTIN
                .files()
                .filter(|f| f.path().extension().is_some_and(|e| e == "yaml"))
                .collect();
            files.sort_by_key(|f| f.path().to_path_buf());
            for f in files {
                let text = f.contents_utf8().unwrap_or("").to_string();
                sources.push((format!("policies/{}", f.path().display()), text));
            }
        }
        let mut fragments = builtin_fragments();
        for dir in dirs {
            read_fragments(&dir.join("include"), &mut fragments)?;
        }
        let mut user_count = 0;
        for dir in dirs {
            let found = read_policy_dir(dir)?;
            user_count += found.len();
            sources.extend(found);
        }
        let mut policies = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let builtin_count = sources.len() - user_count;
        for (i, (path, text)) in sources.into_iter().enumerate() {
            let mut policy = compile_policy(&env, &path, &text, &fragments)?;
            if i < builtin_count && policy.meta.help_uri.is_none() {
                policy.meta.help_uri = Some(meta::rule_reference_uri(&policy.meta.id));
            }
            if !seen.insert(policy.meta.id.clone()) {
                let id = policy.meta.id.clone();
                return Err(error_at(
                    &path,
                    &text,
                    0,
                    2,
                    format!("duplicate policy ID {id}: another policy already uses it"),
                    "duplicate ID",
                ));
            }
            policies.push(policy);
        }
        policies.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
        Ok(PolicySet { policies, env })
    }

    /// Compiles one policy from text (used by tests and `--policy`).
    pub fn compile_one(path: &str, text: &str) -> Result<Policy, Box<PolicyError>> {
        compile_policy(&Arc::new(environment()), path, text, &builtin_fragments())
    }
}

/// The built-in pack's fragments (`policies/include/*.yaml`).
fn builtin_fragments() -> Fragments {
    let mut out = Fragments::default();
    if let Some(dir) = BUILTIN.get_dir("include") {
        for f in dir.files() {
            let (Some(stem), Some(text)) = (
                f.path().file_stem().and_then(|s| s.to_str()),
                f.contents_utf8(),
            ) else {
                continue;
            };
            if f.path().extension().is_some_and(|e| e == "yaml") {
                out.0.insert(
                    stem.to_string(),
                    (format!("policies/{}", f.path().display()), text.to_string()),
                );
            }
        }
    }
    out
}

/// The fragments of a policy directory's `include/` (none when it has no such directory);
/// they replace built-in fragments of the same name.
fn read_fragments(dir: &Path, into: &mut Fragments) -> Result<(), Box<PolicyError>> {
    if !dir.is_dir() {
        return Ok(());
    }
    for (path, text) in read_policy_dir(dir)? {
        let stem = Path::new(&path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        into.0.insert(stem, (path, text));
    }
    Ok(())
}

/// Reads every policy file of a directory (sorted by name).
fn read_policy_dir(dir: &Path) -> Result<Vec<(String, String)>, Box<PolicyError>> {
    let plain = |message: String| {
        Box::new(PolicyError {
            message,
            src: NamedSource::new(dir.display().to_string(), String::new()),
            span: (0, 0).into(),
            label: String::new(),
            path: dir.display().to_string(),
        })
    };
    let entries = std::fs::read_dir(dir).map_err(|e| {
        plain(format!(
            "cannot read policy directory {}: {e}",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| plain(format!("cannot read policy {}: {e}", p.display())))?;
        out.push((p.display().to_string(), text));
    }
    Ok(out)
}
