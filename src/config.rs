//! Configuration: `shipshape.yaml`, `.shipshape.yaml` or `.github/shipshape.yaml` at a
//! repository root (the first found), or a file given with `--config`. Per rule: `enabled`,
//! `severity` and `options` (validated against the policy's declared option types); `exclude`
//! path globs; extra `policies` directories; `extends` of an organisation file whose `locked`
//! rules cannot be loosened. Errors point at the offending key of the file that says it, found
//! through a positioned YAML tree (exit 2).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;

use crate::finding::Severity;
use crate::load::ytree::{self, YNode, YValue};
use crate::location::LineIndex;
use crate::policy::PolicySet;

/// File names looked for at a root, in order.
pub const CONFIG_NAMES: &[&str] = &[
    "shipshape.yaml",
    ".shipshape.yaml",
    ".github/shipshape.yaml",
];

/// A configuration file, as written.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Per-rule settings, by rule ID.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleConfig>,
    /// Path globs (relative to the root) whose findings are dropped.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Extra policy directories, relative to the config file.
    #[serde(default)]
    pub policies: Vec<String>,
    /// An organisation config this one builds on (path relative to this file). Its rules
    /// marked `locked: true` can be tightened here but not disabled, downgraded or changed.
    #[serde(default)]
    pub extends: Option<String>,
    /// The names that make a deploy job a staging or production deploy (each list replaces
    /// the default one).
    #[serde(default)]
    pub environments: EnvironmentNames,
    /// The catalog's vocabularies (see [`crate::definitions`]): each list, keyed by its name,
    /// extends the default one; the lists named under `replace` replace it instead.
    #[serde(default)]
    pub definitions: BTreeMap<String, Vec<String>>,
}

/// The key under `definitions:` that names the lists replacing their defaults.
pub const REPLACE: &str = "replace";

/// Configured deploy environment names.
#[derive(Debug, Deserialize, Default, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentNames {
    /// Staging names (default: staging, stage, stg, preprod, pre-prod, preproduction,
    /// pre-production, uat).
    #[serde(default)]
    pub staging: Option<Vec<String>>,
    /// Production names (default: production, prod, prd, live).
    #[serde(default)]
    pub production: Option<Vec<String>>,
}

/// Settings of one rule.
#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// `false` disables the rule.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Severity override.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Option values.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
    /// In an organisation config: configs that extend it may raise the severity, but may not
    /// disable the rule, lower its severity or change its options.
    #[serde(default)]
    pub locked: Option<bool>,
}

/// A configuration problem, shown with the file and the offending part.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(shipshape::config))]
pub struct ConfigError {
    /// What is wrong.
    pub message: String,
    /// The file.
    #[source_code]
    pub src: NamedSource<String>,
    /// Where.
    #[label("here")]
    pub span: SourceSpan,
}

/// A validated configuration, ready to apply.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file it came from, when any.
    pub path: Option<PathBuf>,
    /// Disabled rule IDs.
    pub disabled: Vec<String>,
    /// Severity overrides.
    pub severities: HashMap<String, Severity>,
    /// Option values per rule.
    pub options: HashMap<String, BTreeMap<String, serde_json::Value>>,
    /// Excluded path globs, each with the locked rules it may not drop.
    pub exclude: Vec<crate::Exclude>,
    /// Extra policy directories (resolved).
    pub policies: Vec<PathBuf>,
    /// Deploy environment names.
    pub environments: crate::facts::ci::Environments,
    /// The catalog's vocabularies in effect.
    pub definitions: crate::definitions::Definitions,
    /// Rules locked by a config this one extends, with that config's path.
    pub locked: Vec<(String, String)>,
}

/// The config file of a root, if one exists. One that is a symlink leading outside the root
/// is refused unread, like any input file that leaves it (given with `--config`, the same file
/// is read).
pub fn discover(root: &Path) -> Result<Option<PathBuf>, Box<ConfigError>> {
    let Some(name) = CONFIG_NAMES.iter().find(|n| root.join(n).is_file()) else {
        return Ok(None);
    };
    let path = root.join(name);
    if let Ok(r) = crate::load::Root::new(root)
        && let Err(e) = r.resolve(name)
        && e.outside
    {
        return Err(Box::new(ConfigError {
            message: format!(
                "{}: not followed: points outside the repository (give it with --config to use it)",
                path.display()
            ),
            src: NamedSource::new(path.display().to_string(), String::new()),
            span: (0, 0).into(),
        }));
    }
    Ok(Some(path))
}

/// One config file's text, with a positioned tree of it for pointing errors at keys.
#[derive(Debug)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    tree: Option<YNode>,
}

impl Source {
    /// The position of the deepest key of `keys` that exists (a sequence item by its index):
    /// `["rules", "DF005", "options", "user"]` points at `user:` when it is written, else at
    /// `options:`, and so on; rule IDs match without regard to case.
    fn pos(&self, keys: &[&str]) -> (u32, u32) {
        let mut at = (1, 1);
        let mut node = self.tree.as_ref();
        for key in keys {
            let Some(n) = node else { break };
            let next = match &n.value {
                YValue::Map(entries) => entries.iter().find_map(|(k, v)| {
                    k.as_str()
                        .is_some_and(|k| k.eq_ignore_ascii_case(key))
                        .then_some((k, v))
                }),
                YValue::Seq(items) => key
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .map(|v| (v, v)),
                _ => None,
            };
            let Some((k, v)) = next else { break };
            at = (k.line, k.col);
            node = Some(v);
        }
        at
    }

    /// An error at `keys` (see [`Source::pos`]).
    fn error(&self, keys: &[&str], message: String) -> Box<ConfigError> {
        let (line, col) = self.pos(keys);
        self.error_at(line, col, message)
    }

    fn error_at(&self, line: u32, col: u32, message: String) -> Box<ConfigError> {
        let text = &self.text;
        let offset = LineIndex::new(text)
            .line_start(line)
            .map_or(0, |s| {
                s + text[s..]
                    .char_indices()
                    .nth(col.saturating_sub(1) as usize)
                    .map_or(0, |(i, _)| i)
            })
            .min(text.len());
        let len = text[offset..].chars().next().map_or(0, char::len_utf8);
        Box::new(ConfigError {
            message: format!("{}: {message}", self.path.display()),
            src: NamedSource::new(self.path.display().to_string(), text.clone()),
            span: (offset, len).into(),
        })
    }
}

/// A configuration as read: the files of its `extends` chain (the organisation's first, the
/// file read last) and their merge, whose `policies` are resolved paths.
#[derive(Debug)]
pub struct Chain {
    /// Each file of the chain with what it says, rule IDs upper-cased.
    pub files: Vec<(Source, ConfigFile)>,
    /// The files merged, locked rules enforced.
    pub merged: ConfigFile,
}

impl Chain {
    /// The file read (the last of the chain).
    pub fn path(&self) -> &Path {
        self.files.last().map_or(Path::new(""), |(s, _)| &s.path)
    }

    /// The extra policy directories of the whole chain, in order.
    pub fn policy_dirs(&self) -> Vec<PathBuf> {
        self.merged.policies.iter().map(PathBuf::from).collect()
    }
}

/// The longest `extends` chain followed.
const MAX_EXTENDS: usize = 4;

/// Reads and parses a config file and what it `extends`, merging them (locked rules are
/// enforced here; rule IDs and options are checked by [`validate`]).
pub fn read(path: &Path) -> Result<Chain, Box<ConfigError>> {
    let mut files = Vec::new();
    read_at(path, &mut files)?;
    files.reverse();
    let mut merged: Option<ConfigFile> = None;
    for i in 0..files.len() {
        let file = files[i].1.clone();
        merged = Some(match merged {
            None => file,
            Some(parent) => merge(&files[i].0, &files[i - 1].0.path, parent, file)?,
        });
    }
    Ok(Chain {
        files,
        merged: merged.unwrap_or_default(),
    })
}

/// Reads `path` onto `files` (the file read first), then what it extends.
fn read_at(path: &Path, files: &mut Vec<(Source, ConfigFile)>) -> Result<(), Box<ConfigError>> {
    let bare = |message: String| {
        Box::new(ConfigError {
            message,
            src: NamedSource::new(path.display().to_string(), String::new()),
            span: (0, 0).into(),
        })
    };
    let limit = crate::load::MAX_FILE_BYTES;
    if std::fs::metadata(path).is_ok_and(|m| m.len() > limit) {
        return Err(bare(format!(
            "{}: config is larger than {} MiB",
            path.display(),
            limit >> 20
        )));
    }
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| bare(format!("{}: config is not UTF-8 text", path.display())))?,
        Err(e) => return Err(bare(format!("cannot read config {}: {e}", path.display()))),
    };
    parse_onto(path, text, files, true)
}

/// The configuration of a root read from any source ([`crate::load::Root`]: a directory or
/// a git tree), when it has one. Read from a git tree, the file may neither `extends` another
/// nor name `policies` directories (both name files outside the tree's object database).
pub fn discover_in(root: &crate::load::Root) -> Result<Option<Chain>, Box<ConfigError>> {
    if root.commit().is_none() {
        return discover(root.path())?.map(|p| read(&p)).transpose();
    }
    let Some(name) = CONFIG_NAMES.iter().find(|n| root.is_file(n)) else {
        return Ok(None);
    };
    let path = root.path().join(name);
    let text = root.read_text(name).map_err(|e| {
        Box::new(ConfigError {
            message: e.message,
            src: NamedSource::new(path.display().to_string(), String::new()),
            span: (0, 0).into(),
        })
    })?;
    let mut files = Vec::new();
    parse_onto(&path, text, &mut files, false)?;
    Ok(files.pop().map(|(source, file)| Chain {
        files: vec![(source, file.clone())],
        merged: file,
    }))
}

/// Parses the config text of `path` onto `files`, then reads what it extends; `on_disk`
/// false (a file read from a git tree) refuses `policies` and `extends`.
fn parse_onto(
    path: &Path,
    text: String,
    files: &mut Vec<(Source, ConfigFile)>,
    on_disk: bool,
) -> Result<(), Box<ConfigError>> {
    let mut source = Source {
        path: path.to_path_buf(),
        text,
        tree: None,
    };
    let text = &source.text;
    let mut file: ConfigFile = if text.trim().is_empty() {
        ConfigFile::default()
    } else {
        let parsed = serde_saphyr::from_str_with_options(text, crate::load::yaml::options())
            .map_err(|e| {
                let (l, c) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
                // An extended file that is no config (any file the extending one names) is
                // refused at that `extends:`, its contents neither quoted nor shown.
                if let Some((extender, _)) = files.last() {
                    return extender.error(
                        &["extends"],
                        format!(
                            "extended config {} is not a shipshape config (invalid at line {l}, column {c}); its contents are not shown",
                            path.display()
                        ),
                    );
                }
                let whole = e.to_string();
                let first = whole.lines().next().unwrap_or("");
                // The position is shown by the diagnostic; the message need not repeat it.
                let first = first
                    .strip_prefix("error: line ")
                    .and_then(|r| r.split_once(": "))
                    .map_or(first, |(_, m)| m)
                    .to_string();
                source.error_at(
                    u32::try_from(l).unwrap_or(1),
                    u32::try_from(c).unwrap_or(1),
                    format!("invalid config: {first}"),
                )
            })?;
        source.tree = ytree::parse(&path.display().to_string(), text)
            .ok()
            .and_then(|mut docs| (!docs.is_empty()).then(|| docs.swap_remove(0)));
        parsed
    };
    // Rule IDs are matched without regard to case; one rule written twice is ambiguous.
    let mut rules = BTreeMap::new();
    for (id, rc) in std::mem::take(&mut file.rules) {
        let upper = id.to_ascii_uppercase();
        if rules.insert(upper.clone(), rc).is_some() {
            return Err(source.error(
                &["rules", &id],
                format!("rule {upper} is configured twice (IDs are not case-sensitive)"),
            ));
        }
    }
    file.rules = rules;
    if !on_disk {
        for key in ["policies", "extends"] {
            if (key == "policies" && !file.policies.is_empty())
                || (key == "extends" && file.extends.is_some())
            {
                return Err(source.error(
                    &[key],
                    format!(
                        "`{key}` is not followed in a configuration read from a git repository's objects; give the configuration with --config"
                    ),
                ));
            }
        }
    }
    // Policy directories are resolved against the file that names them, and must exist.
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut resolved = Vec::new();
    for (i, p) in file.policies.iter().enumerate() {
        let full = dir.join(p);
        if !full.is_dir() {
            return Err(source.error(
                &["policies", &i.to_string()],
                format!("policy directory {} does not exist", full.display()),
            ));
        }
        resolved.push(full.display().to_string());
    }
    file.policies = resolved;
    for (key, list) in [
        ("staging", &file.environments.staging),
        ("production", &file.environments.production),
    ] {
        let Some(list) = list else { continue };
        if list.is_empty() {
            return Err(source.error(
                &["environments", key],
                format!("environments.{key} must name at least one environment"),
            ));
        }
        if let Some(i) = list
            .iter()
            .position(|n| !n.chars().any(char::is_alphanumeric))
        {
            return Err(source.error(
                &["environments", key, &i.to_string()],
                format!("environments.{key}: {:?} is not a name", list[i]),
            ));
        }
    }
    check_definitions(&source, &file.definitions)?;
    let parent = file.extends.clone();
    let depth = files.len();
    files.push((source, file));
    let Some(parent_rel) = parent else {
        return Ok(());
    };
    let parent_path = dir.join(&parent_rel);
    let refuse = |message: String| {
        let (src, _) = &files[depth];
        Err(src.error(&["extends"], message))
    };
    if depth + 1 >= MAX_EXTENDS {
        return refuse(format!("`extends` chains deeper than {MAX_EXTENDS} files"));
    }
    if !parent_path.is_file() {
        return refuse(format!(
            "extended config {} does not exist",
            parent_path.display()
        ));
    }
    let same = |a: &Path, b: &Path| {
        std::fs::canonicalize(a)
            .ok()
            .zip(std::fs::canonicalize(b).ok())
            .is_some_and(|(a, b)| a == b)
    };
    if files.iter().any(|(s, _)| same(&s.path, &parent_path)) {
        return refuse(format!(
            "`extends` cycle: {} is already in the chain",
            parent_path.display()
        ));
    }
    read_at(&parent_path, files)
}

/// Checks a file's `definitions:`: known list names, and entries of the right form.
fn check_definitions(
    source: &Source,
    defs: &BTreeMap<String, Vec<String>>,
) -> Result<(), Box<ConfigError>> {
    use crate::definitions::{LISTS, ListKind};
    let known = || {
        LISTS
            .iter()
            .map(|(k, _, _)| *k)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (key, list) in defs {
        if key == REPLACE {
            if let Some(i) = list
                .iter()
                .position(|n| !LISTS.iter().any(|(k, _, _)| k == n))
            {
                return Err(source.error(
                    &["definitions", key, &i.to_string()],
                    format!(
                        "definitions.replace: {:?} is no definition list (the lists: {})",
                        list[i],
                        known()
                    ),
                ));
            }
            continue;
        }
        let Some((_, kind, _)) = LISTS.iter().find(|(k, _, _)| k == key) else {
            return Err(source.error(
                &["definitions", key],
                format!("unknown definition list {key} (the lists: {})", known()),
            ));
        };
        for (i, entry) in list.iter().enumerate() {
            let problem = if entry.trim().is_empty() {
                Some("is empty")
            } else if *kind == ListKind::Paths && !entry.starts_with('/') {
                Some("is not a path starting with `/`")
            } else if matches!(
                kind,
                ListKind::Programs | ListKind::Packages | ListKind::Paths
            ) && entry.contains(char::is_whitespace)
            {
                Some("contains a space")
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(source.error(
                    &["definitions", key, &i.to_string()],
                    format!("definitions.{key}: {entry:?} {problem}"),
                ));
            }
        }
    }
    Ok(())
}

/// The definitions in effect: each configured list extends its default, unless `replace`
/// names it (then it replaces it). Lists are checked by [`check_definitions`].
fn effective_definitions(defs: &BTreeMap<String, Vec<String>>) -> crate::definitions::Definitions {
    let mut out = crate::definitions::Definitions::default();
    let replaced = defs.get(REPLACE).cloned().unwrap_or_default();
    for (key, list) in defs {
        let Some(target) = out.list_mut(key) else {
            continue;
        };
        if replaced.contains(key) {
            target.clear();
        }
        for entry in list {
            if !target.contains(entry) {
                target.push(entry.clone());
            }
        }
    }
    for key in &replaced {
        if !defs.contains_key(key)
            && let Some(target) = out.list_mut(key)
        {
            target.clear();
        }
    }
    out
}

/// Merges `child` (the file of `src`) onto `parent` (from `parent_path`), refusing to loosen
/// the parent's locked rules.
fn merge(
    src: &Source,
    parent_path: &Path,
    parent: ConfigFile,
    child: ConfigFile,
) -> Result<ConfigFile, Box<ConfigError>> {
    let mut rules = parent.rules;
    for (id, rc) in child.rules {
        let refuse = |field: &str, what: &str| {
            src.error(
                &["rules", &id, field],
                format!(
                    "rule {id} is locked by {}: this file may not {what}",
                    parent_path.display()
                ),
            )
        };
        let base = rules.remove(&id);
        if let Some(b) = base.as_ref().filter(|b| b.locked == Some(true)) {
            if rc.enabled == Some(false) {
                return Err(refuse("enabled", "disable it"));
            }
            if let Some(sev) = rc.severity
                && b.severity.is_some_and(|bs| sev < bs)
            {
                return Err(refuse("severity", "lower its severity"));
            }
            if rc.locked == Some(false) {
                return Err(refuse("locked", "unlock it"));
            }
            if let Some(name) = rc
                .options
                .iter()
                .find(|(k, v)| b.options.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
            {
                return Err(src.error(
                    &["rules", &id, "options", &name],
                    format!(
                        "rule {id} is locked by {}: this file may not change its option {name}",
                        parent_path.display()
                    ),
                ));
            }
        }
        let mut m = base.unwrap_or_default();
        if rc.enabled.is_some() {
            m.enabled = rc.enabled;
        }
        if rc.severity.is_some() {
            m.severity = rc.severity;
        }
        if rc.locked == Some(true) {
            m.locked = Some(true);
        }
        m.options.extend(rc.options);
        rules.insert(id, m);
    }
    let mut exclude = parent.exclude;
    exclude.extend(child.exclude);
    let mut policies = parent.policies;
    policies.extend(child.policies);
    // A repository may add environment names to the organisation's lists, not remove any:
    // renaming production would take jobs away from the CD rules.
    for (key, theirs, ours) in [
        (
            "staging",
            &parent.environments.staging,
            &child.environments.staging,
        ),
        (
            "production",
            &parent.environments.production,
            &child.environments.production,
        ),
    ] {
        if let (Some(theirs), Some(ours)) = (theirs, ours)
            && let Some(missing) = theirs.iter().find(|n| !ours.contains(n))
        {
            return Err(src.error(
                &["environments", key],
                format!(
                    "environments.{key} of {} names {missing:?}: this file may add names, not remove them",
                    parent_path.display()
                ),
            ));
        }
    }
    let environments = EnvironmentNames {
        staging: child.environments.staging.or(parent.environments.staging),
        production: child
            .environments
            .production
            .or(parent.environments.production),
    };
    // Definitions add up along the chain; a file may not replace a list the file it
    // extends sets (that would drop the organisation's entries).
    let mut definitions = parent.definitions;
    let child_replaces = child.definitions.get(REPLACE).cloned().unwrap_or_default();
    for (i, key) in child_replaces.iter().enumerate() {
        let parent_sets = definitions.contains_key(key)
            || definitions.get(REPLACE).is_some_and(|r| r.contains(key));
        if parent_sets {
            return Err(src.error(
                &["definitions", REPLACE, &i.to_string()],
                format!(
                    "definitions.{key} is set by {}: this file may add to it, not replace it",
                    parent_path.display()
                ),
            ));
        }
    }
    for (key, list) in child.definitions {
        let merged = definitions.entry(key).or_default();
        for entry in list {
            if !merged.contains(&entry) {
                merged.push(entry);
            }
        }
    }
    Ok(ConfigFile {
        rules,
        exclude,
        policies,
        extends: None,
        environments,
        definitions,
    })
}

/// Checks every file of a chain against the loaded policies (rule IDs, option names and
/// types, each error pointing into the file that says it) and returns the configuration in
/// effect.
pub fn validate(chain: &Chain, set: &PolicySet) -> Result<Config, Box<ConfigError>> {
    for (src, file) in &chain.files {
        for (id, rc) in &file.rules {
            let Some(policy) = set.policies.iter().find(|p| p.meta.id == *id) else {
                return Err(src.error(&["rules", id], format!("unknown rule {id}")));
            };
            for (name, value) in &rc.options {
                let at = ["rules", id.as_str(), "options", name.as_str()];
                let Some(spec) = policy.options.get(name) else {
                    let known: Vec<&str> = policy.options.keys().map(String::as_str).collect();
                    return Err(src.error(
                        &at,
                        format!(
                            "rule {id} has no option {name} (its options: {})",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ));
                };
                if !spec.kind.accepts(value) {
                    return Err(src.error(
                        &at,
                        format!(
                            "option {id}.{name} must be {}, not {value}",
                            spec.kind.described()
                        ),
                    ));
                }
            }
        }
    }
    let merged = &chain.merged;
    let mut cfg = Config {
        path: Some(chain.path().to_path_buf()),
        policies: chain.policy_dirs(),
        ..Config::default()
    };
    // An exclude written below the file that locked a rule does not drop that rule's findings.
    let mut locked_above: Vec<String> = Vec::new();
    let last = chain.files.len().saturating_sub(1);
    for (src, file) in &chain.files[..last] {
        for (id, r) in &file.rules {
            if r.locked == Some(true) && !cfg.locked.iter().any(|(l, _)| l == id) {
                cfg.locked
                    .push((id.clone(), src.path.display().to_string()));
            }
        }
    }
    for (src, file) in &chain.files {
        for (i, g) in file.exclude.iter().enumerate() {
            let mut x = crate::Exclude::new(g).map_err(|e| {
                src.error(
                    &["exclude", &i.to_string()],
                    format!("exclude pattern {g:?} is not a valid glob: {}", e.kind()),
                )
            })?;
            x.spares.clone_from(&locked_above);
            cfg.exclude.push(x);
        }
        locked_above.extend(
            file.rules
                .iter()
                .filter(|(_, r)| r.locked == Some(true))
                .map(|(id, _)| id.clone()),
        );
    }
    if let Some(s) = &merged.environments.staging {
        cfg.environments.staging = s.clone();
    }
    if let Some(p) = &merged.environments.production {
        cfg.environments.production = p.clone();
    }
    cfg.definitions = effective_definitions(&merged.definitions);
    for (id, rc) in &merged.rules {
        if rc.enabled == Some(false) {
            cfg.disabled.push(id.clone());
        }
        if let Some(sev) = rc.severity {
            cfg.severities.insert(id.clone(), sev);
        }
        cfg.options.insert(id.clone(), rc.options.clone());
    }
    Ok(cfg)
}

/// A JSON Schema (draft 2020-12) of the configuration file, for editors.
pub fn json_schema(set: &PolicySet) -> serde_json::Value {
    let mut rules = serde_json::Map::new();
    for p in &set.policies {
        let mut options = serde_json::Map::new();
        for (name, spec) in &p.options {
            let mut ty = spec.kind.json_schema();
            if let Some(o) = ty.as_object_mut() {
                o.insert(
                    "description".into(),
                    serde_json::Value::String(spec.doc.trim().to_string()),
                );
                o.insert("default".into(), spec.default.clone());
            }
            options.insert(name.clone(), ty);
        }
        rules.insert(
            p.meta.id.clone(),
            serde_json::json!({
                "description": p.meta.title,
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "severity": {"enum": ["error", "warning", "note"]},
                    "locked": {"type": "boolean", "description": "In an organisation config: configs that extend this one may raise the severity but not disable the rule, lower its severity or change its options."},
                    "options": {"type": "object", "additionalProperties": false, "properties": options}
                }
            }),
        );
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "shipshape configuration",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "rules": {"type": "object", "additionalProperties": false, "properties": rules},
            "exclude": {"type": "array", "items": {"type": "string"}, "description": "Path globs (relative to the root) whose findings are dropped."},
            "policies": {"type": "array", "items": {"type": "string"}, "description": "Extra policy directories, relative to this file."},
            "extends": {"type": "string", "description": "An organisation config this one builds on, relative to this file."},
            "environments": {
                "type": "object",
                "additionalProperties": false,
                "description": "The names that make a deploy job a staging or production deploy, matched as words in environment, job and workflow names; each list replaces its default.",
                "properties": {
                    "staging": {"type": "array", "minItems": 1, "items": {"type": "string"}, "default": crate::facts::ci::STAGING},
                    "production": {"type": "array", "minItems": 1, "items": {"type": "string"}, "default": crate::facts::ci::PRODUCTION}
                }
            },
            "definitions": definitions_schema()
        }
    })
}

/// The schema of `definitions:`: each list with its default, and `replace`.
fn definitions_schema() -> serde_json::Value {
    let defaults = serde_json::to_value(crate::definitions::Definitions::default())
        .unwrap_or(serde_json::Value::Null);
    let mut props = serde_json::Map::new();
    for (key, kind, doc) in crate::definitions::LISTS {
        let mut items = serde_json::json!({"type": "string", "minLength": 1});
        if *kind == crate::definitions::ListKind::Paths {
            items["pattern"] = serde_json::json!("^/\\S*$");
        }
        props.insert(
            (*key).to_string(),
            serde_json::json!({
                "type": "array",
                "items": items,
                "description": format!("{doc} Extends the default unless `replace` names it."),
                "default": defaults.get(*key).cloned().unwrap_or(serde_json::Value::Null),
            }),
        );
    }
    let names: Vec<&str> = crate::definitions::LISTS
        .iter()
        .map(|(k, _, _)| *k)
        .collect();
    props.insert(
        REPLACE.to_string(),
        serde_json::json!({
            "type": "array",
            "items": {"enum": names},
            "description": "Lists that replace their default instead of extending it.",
        }),
    );
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "description": "The rule catalog's vocabularies (migration and backup commands, health paths, database packages, ...). Each list extends its default; the lists named in `replace` replace it.",
        "properties": props,
    })
}
