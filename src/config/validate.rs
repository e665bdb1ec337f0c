//! Validating a configuration against the loaded policies (rule IDs, option names and types)
//! and turning it into the [`Config`] in effect.

use std::collections::BTreeMap;

use super::{Chain, Config, ConfigError, REPLACE};
use crate::policy::PolicySet;

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

/// The definitions in effect: each configured list extends its default, unless `replace`
/// names it (then it replaces it). Lists were checked when read (`read::check_definitions`).
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
