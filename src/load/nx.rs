//! Nx task names, for the definedness of tasks that `nx run-many -t A`, `nx affected -t A` and
//! `nx run P:A` name: the `targets` of every `project.json`, the `targetDefaults` of `nx.json`,
//! and `nx.targets` of package.json files (already parsed by their loader). Nx plugins infer more targets from tool configs
//! (`@nx/eslint` gives `lint`), so when `nx.json` lists `plugins` any task counts as defined.
//! Files that cannot be read or parsed contribute nothing (they are not catalog inputs).

use crate::load::Root;
use std::collections::BTreeSet;

use serde_json::Value;

use crate::load::package_json::Package;

/// The Nx tasks a repository defines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NxTasks {
    /// Target names found.
    pub names: BTreeSet<String>,
    /// Whether `nx.json` lists plugins that may infer targets not written anywhere.
    pub inferred: bool,
}

impl NxTasks {
    /// Whether an nx invocation's task `name` is defined (or may be, through a plugin).
    pub fn defines(&self, name: &str) -> bool {
        self.inferred || self.names.contains(name)
    }

    /// Reads the Nx files among `files` (root-relative paths) under `root`, and takes the
    /// `nx.targets` of the parsed `packages`.
    pub fn load(root: &Root, files: &[String], packages: &[Package]) -> NxTasks {
        let mut out = NxTasks::default();
        for p in packages {
            out.names.extend(p.nx_targets.iter().cloned());
        }
        for rel in files {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            if !matches!(name, "project.json" | "nx.json") {
                continue;
            }
            let Ok(text) = root.read_text(rel) else {
                continue;
            };
            let Ok(doc) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let keys = |v: Option<&Value>| -> Vec<String> {
                v.and_then(Value::as_object)
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default()
            };
            match name {
                "project.json" => out.names.extend(keys(doc.get("targets"))),
                _ => {
                    out.names.extend(keys(doc.get("targetDefaults")));
                    out.inferred |= doc
                        .get("plugins")
                        .and_then(Value::as_array)
                        .is_some_and(|p| !p.is_empty());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_defaults_and_plugins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            (
                "apps/api/project.json",
                r#"{"targets": {"lint": {}, "test": {}}}"#,
            ),
            ("nx.json", r#"{"targetDefaults": {"typecheck": {}}}"#),
            (
                "libs/ui/package.json",
                r#"{"nx": {"targets": {"storybook": {}}}}"#,
            ),
            ("apps/bad/project.json", "{ not json"),
        ];
        let mut rels = Vec::new();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write");
            rels.push(rel.to_string());
        }
        let packages = [crate::load::package_json::load(
            "libs/ui/package.json",
            r#"{"nx": {"targets": {"storybook": {}}}}"#,
        )
        .expect("parses")];
        let nx = NxTasks::load(
            &crate::load::Root::new(dir.path()).expect("root"),
            &rels,
            &packages,
        );
        let names: Vec<&str> = nx.names.iter().map(String::as_str).collect();
        assert_eq!(names, ["lint", "storybook", "test", "typecheck"]);
        assert!(!nx.inferred && nx.defines("lint") && !nx.defines("e2e"));
        std::fs::write(
            dir.path().join("nx.json"),
            r#"{"plugins": ["@nx/eslint/plugin"]}"#,
        )
        .expect("write");
        let nx = NxTasks::load(
            &crate::load::Root::new(dir.path()).expect("root"),
            &rels,
            &[],
        );
        assert!(nx.inferred && nx.defines("e2e"));
    }
}
