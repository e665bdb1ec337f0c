//! Configuration: `shipshape.yaml`, `.shipshape.yaml` or `.github/shipshape.yaml` at a
//! repository root (the first found), or a file given with `--config`. Per rule: `enabled`,
//! `severity` and `options` (validated against the policy's declared option types); `exclude`
//! path globs; extra `policies` directories. Errors point into the file (exit 2).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;

use crate::finding::Severity;
use crate::location::LineIndex;
use crate::policy::PolicySet;
use crate::policy::schema::OptionType;

/// File names looked for at a root, in order.
pub const CONFIG_NAMES: &[&str] = &[
    "shipshape.yaml",
    ".shipshape.yaml",
    ".github/shipshape.yaml",
];

/// A configuration file, as written.
#[derive(Debug, Deserialize, Default)]
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
}

/// Settings of one rule.
#[derive(Debug, Deserialize, Default)]
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
    /// Excluded path globs.
    pub exclude: Vec<String>,
    /// Extra policy directories (resolved).
    pub policies: Vec<PathBuf>,
}

/// The config file of a root, if one exists.
pub fn discover(root: &Path) -> Option<PathBuf> {
    CONFIG_NAMES
        .iter()
        .map(|n| root.join(n))
        .find(|p| p.is_file())
}

/// The (line, column) where `key:` is written, searching from `from_line` (1-based).
fn key_pos(text: &str, key: &str, from_line: u64) -> (u64, u64) {
    let skip = usize::try_from(from_line.saturating_sub(1)).unwrap_or(0);
    text.lines()
        .enumerate()
        .skip(skip)
        .find_map(|(i, l)| {
            let t = l.trim_start();
            let bare = t.trim_start_matches(['"', '\'']);
            (bare.starts_with(key)
                && bare[key.len()..]
                    .trim_start_matches(['"', '\''])
                    .starts_with(':'))
            .then(|| ((i + 1) as u64, (l.len() - t.len() + 1) as u64))
        })
        .unwrap_or((1, 1))
}

fn err(path: &Path, text: &str, line: u64, col: u64, message: String) -> Box<ConfigError> {
    let idx = LineIndex::new(text);
    let offset = idx
        .line_start(u32::try_from(line).unwrap_or(1))
        .map_or(0, |s| {
            s + usize::try_from(col.saturating_sub(1)).unwrap_or(0)
        })
        .min(text.len());
    Box::new(ConfigError {
        message: format!("{}: {message}", path.display()),
        src: NamedSource::new(path.display().to_string(), text.to_string()),
        span: (offset, 1.min(text.len() - offset)).into(),
    })
}

/// Reads and parses a config file and what it `extends` (without checking rule IDs).
pub fn read(path: &Path) -> Result<(ConfigFile, String), Box<ConfigError>> {
    read_at(path, 0)
}

fn read_at(path: &Path, depth: usize) -> Result<(ConfigFile, String), Box<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Box::new(ConfigError {
            message: format!("cannot read config {}: {e}", path.display()),
            src: NamedSource::new(path.display().to_string(), String::new()),
            span: (0, 0).into(),
        })
    })?;
    let file: ConfigFile = if text.trim().is_empty() {
        ConfigFile::default()
    } else {
        serde_saphyr::from_str_with_options(&text, crate::load::yaml::options()).map_err(|e| {
            let (l, c) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            err(path, &text, l, c, format!("invalid config: {first}"))
        })?
    };
    let Some(parent_rel) = file.extends.clone() else {
        return Ok((file, text));
    };
    let parent_path = path.parent().unwrap_or(Path::new(".")).join(&parent_rel);
    if depth >= 4 {
        let (l, c) = key_pos(&text, "extends", 1);
        return Err(err(
            path,
            &text,
            l,
            c,
            "`extends` chains deeper than 4 files".to_string(),
        ));
    }
    let (parent, _) = read_at(&parent_path, depth + 1)?;
    let merged = merge(path, &text, &parent_path, parent, file)?;
    Ok((merged, text))
}

/// Merges a config onto the one it extends, refusing to loosen locked rules.
fn merge(
    path: &Path,
    text: &str,
    parent_path: &Path,
    parent: ConfigFile,
    child: ConfigFile,
) -> Result<ConfigFile, Box<ConfigError>> {
    let mut rules = parent.rules;
    for (id, rc) in child.rules {
        let (l, c) = key_pos(text, &id, 1);
        let refuse = |what: &str| {
            err(
                path,
                text,
                l,
                c,
                format!(
                    "rule {id} is locked by {}: this file may not {what}",
                    parent_path.display()
                ),
            )
        };
        let base = rules.remove(&id);
        if let Some(b) = base.as_ref().filter(|b| b.locked == Some(true)) {
            if rc.enabled == Some(false) {
                return Err(refuse("disable it"));
            }
            if let Some(sev) = rc.severity
                && b.severity.is_some_and(|bs| sev < bs)
            {
                return Err(refuse("lower its severity"));
            }
            if !rc.options.is_empty() && rc.options != b.options {
                return Err(refuse("change its options"));
            }
        }
        let mut m = base.unwrap_or_default();
        if rc.enabled.is_some() {
            m.enabled = rc.enabled;
        }
        if rc.severity.is_some() {
            m.severity = rc.severity;
        }
        m.options.extend(rc.options);
        rules.insert(id, m);
    }
    let mut exclude = parent.exclude;
    exclude.extend(child.exclude);
    let base_dir = parent_path.parent().unwrap_or(Path::new("."));
    let base_dir = std::fs::canonicalize(base_dir).unwrap_or_else(|_| base_dir.to_path_buf());
    let mut policies: Vec<String> = parent
        .policies
        .iter()
        .map(|p| base_dir.join(p).display().to_string())
        .collect();
    policies.extend(child.policies);
    Ok(ConfigFile {
        rules,
        exclude,
        policies,
        extends: None,
    })
}

/// Validates a config file against the loaded policies.
pub fn validate(
    path: &Path,
    file: ConfigFile,
    text: &str,
    set: &PolicySet,
) -> Result<Config, Box<ConfigError>> {
    let mut cfg = Config {
        path: Some(path.to_path_buf()),
        exclude: file.exclude,
        policies: file
            .policies
            .iter()
            .map(|p| path.parent().unwrap_or(Path::new(".")).join(p))
            .collect(),
        ..Config::default()
    };
    for (id, rc) in file.rules {
        let (id_line, id_col) = key_pos(text, &id, 1);
        let Some(policy) = set
            .policies
            .iter()
            .find(|p| p.meta.id.eq_ignore_ascii_case(&id))
        else {
            return Err(err(
                path,
                text,
                id_line,
                id_col,
                format!("unknown rule {id}"),
            ));
        };
        let rid = policy.meta.id.clone();
        if rc.enabled == Some(false) {
            cfg.disabled.push(rid.clone());
        }
        if let Some(sev) = rc.severity {
            cfg.severities.insert(rid.clone(), sev);
        }
        let mut opts = BTreeMap::new();
        for (name, value) in rc.options {
            let (n_line, n_col) = key_pos(text, &name, id_line);
            let Some(spec) = policy.options.get(&name) else {
                return Err(err(
                    path,
                    text,
                    n_line,
                    n_col,
                    format!("rule {rid} has no option {name}"),
                ));
            };
            let ok = match spec.kind {
                OptionType::String => value.is_string() || value.is_null(),
                OptionType::Int => value.is_i64() || value.is_u64(),
                OptionType::Float => value.is_number(),
                OptionType::Bool => value.is_boolean(),
                OptionType::List => value
                    .as_array()
                    .is_some_and(|a| a.iter().all(serde_json::Value::is_string)),
            };
            if !ok {
                return Err(err(
                    path,
                    text,
                    n_line,
                    n_col,
                    format!(
                        "option {rid}.{name} must be a {}",
                        format!("{:?}", spec.kind).to_lowercase()
                    ),
                ));
            }
            opts.insert(name, value);
        }
        cfg.options.insert(rid, opts);
    }
    Ok(cfg)
}

/// A JSON Schema (draft 2020-12) of the configuration file, for editors.
pub fn json_schema(set: &PolicySet) -> serde_json::Value {
    let mut rules = serde_json::Map::new();
    for p in &set.policies {
        let mut options = serde_json::Map::new();
        for (name, spec) in &p.options {
            let ty = match spec.kind {
                OptionType::String => serde_json::json!({"type": ["string", "null"]}),
                OptionType::Int => serde_json::json!({"type": "integer"}),
                OptionType::Float => serde_json::json!({"type": "number"}),
                OptionType::Bool => serde_json::json!({"type": "boolean"}),
                OptionType::List => {
                    serde_json::json!({"type": "array", "items": {"type": "string"}})
                }
            };
            let mut ty = ty;
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
            "exclude": {"type": "array", "items": {"type": "string"}},
            "policies": {"type": "array", "items": {"type": "string"}}
        }
    })
}
