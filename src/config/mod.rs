//! Configuration: `shipshape.yaml`, `.shipshape.yaml` or `.github/shipshape.yaml` at a
//! repository root (the first found), or a file given with `--config`. Per rule: `enabled`,
//! `severity` and `options` (validated against the policy's declared option types); `exclude`
//! path globs; extra `policies` directories; `extends` of an organisation file whose `locked`
//! rules cannot be loosened. Errors point at the offending key of the file that says it, found
//! through a positioned YAML tree (exit 2).
//!
//! This module holds the types (the file as written, the chain as read, the configuration in
//! effect, the error) and finding a root's file; `read` reads and merges an `extends` chain,
//! `validate` checks it against the loaded policies, `schema` describes the file for editors.

mod read;
mod schema;
mod validate;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;

use crate::finding::Severity;
use crate::load::ytree::{YNode, YValue};
use crate::location::LineIndex;

pub use read::{discover_in, read};
pub use schema::json_schema;
pub use validate::validate;

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
