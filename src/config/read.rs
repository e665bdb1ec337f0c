//! Reading a configuration: a file and the files it `extends`, each parsed and checked on its
//! own (rule IDs written twice, policy directories, environment names, `definitions:`), then
//! merged with the organisation's locked rules enforced.

use std::collections::BTreeMap;
use std::path::Path;

use miette::NamedSource;

use super::{Chain, ConfigError, ConfigFile, EnvironmentNames, REPLACE, Source};
use crate::load::ytree;

/// The longest `extends` chain followed.
const MAX_EXTENDS: usize = 4;

/// Reads and parses a config file and what it `extends`, merging them (locked rules are
/// enforced here; rule IDs and options are checked by [`validate`](fn@super::validate)).
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
        return super::discover(root.path())?.map(|p| read(&p)).transpose();
    }
    let Some(name) = super::CONFIG_NAMES.iter().find(|n| root.is_file(n)) else {
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
