//! `package.json` loader: validity (as JSON, with the JSON error's position) and the facts
//! the rules need — name, scripts, dependencies with the line each is declared on,
//! workspaces — read through the positioned YAML tree (JSON is YAML) for locations.

use std::collections::BTreeMap;

use crate::load::LoadError;
use crate::load::ytree::{self, YNode};
use crate::location::Location;
pub use crate::model::package::Package;

/// Parses a `package.json`.
pub fn load(rel: &str, text: &str) -> Result<Package, LoadError> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let line = u32::try_from(e.line()).unwrap_or(1).max(1);
        let col = u32::try_from(e.column()).unwrap_or(1).max(1);
        return Err(LoadError {
            message: format!("{rel}: invalid JSON: {e}"),
            loc: Location::point(rel, line, col),
            outside: false,
        });
    }
    let dir = rel
        .rsplit_once('/')
        .map_or(String::new(), |(d, _)| d.to_string());
    let mut pkg = Package {
        path: rel.to_string(),
        dir,
        name: String::new(),
        scripts: BTreeMap::new(),
        dependencies: BTreeMap::new(),
        dev_dependencies: BTreeMap::new(),
        dependency_locs: BTreeMap::new(),
        workspaces: Vec::new(),
        nx_targets: Vec::new(),
        loc: Location::file_start(rel),
    };
    // Valid JSON that the positioned YAML tree refuses (tabs, odd escapes, nesting past its
    // budget in some unrelated `config` object) is read with the JSON parser instead: the
    // same facts, located at line 1.
    let Ok(docs) = ytree::parse(rel, text) else {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            facts_from_json(&mut pkg, &value);
        }
        return Ok(pkg);
    };
    let Some(root) = docs.first() else {
        return Ok(pkg);
    };
    pkg.name = root.get("name").and_then(YNode::as_str).unwrap_or_default();
    let map = |n: Option<&YNode>| n.map(YNode::string_map).unwrap_or_default();
    pkg.scripts = map(root.get("scripts"));
    pkg.dependencies = map(root.get("dependencies"));
    pkg.dev_dependencies = map(root.get("devDependencies"));
    for key in ["dependencies", "devDependencies"] {
        for (k, _) in root.get(key).map(YNode::entries).unwrap_or_default() {
            if let Some(name) = k.as_str() {
                pkg.dependency_locs
                    .entry(name)
                    .or_insert_with(|| k.loc(rel));
            }
        }
    }
    pkg.workspaces = match root.get("workspaces") {
        Some(w) if !w.items().is_empty() => w.strings(),
        Some(w) => w.get("packages").map(YNode::strings).unwrap_or_default(),
        None => Vec::new(),
    };
    pkg.nx_targets = root
        .get("nx")
        .and_then(|n| n.get("targets"))
        .map(|t| t.entries().iter().filter_map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    Ok(pkg)
}

/// The facts of a package.json read as plain JSON (no positions: every dependency is located
/// at line 1).
fn facts_from_json(pkg: &mut Package, v: &serde_json::Value) {
    let strings = |m: Option<&serde_json::Value>| -> BTreeMap<String, String> {
        m.and_then(serde_json::Value::as_object)
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let list = |m: Option<&serde_json::Value>| -> Vec<String> {
        m.and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    pkg.name = v
        .get("name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_string();
    pkg.scripts = strings(v.get("scripts"));
    pkg.dependencies = strings(v.get("dependencies"));
    pkg.dev_dependencies = strings(v.get("devDependencies"));
    for key in ["dependencies", "devDependencies"] {
        for name in v
            .get(key)
            .and_then(serde_json::Value::as_object)
            .into_iter()
            .flat_map(|o| o.keys())
        {
            pkg.dependency_locs
                .entry(name.clone())
                .or_insert_with(|| pkg.loc.clone());
        }
    }
    pkg.workspaces = match v.get("workspaces") {
        Some(w) if w.is_array() => list(Some(w)),
        Some(w) => list(w.get("packages")),
        None => Vec::new(),
    };
    pkg.nx_targets = v
        .get("nx")
        .and_then(|n| n.get("targets"))
        .and_then(serde_json::Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scripts_dependencies_and_their_lines() {
        let text = "{\n  \"name\": \"app\",\n  \"scripts\": {\"lint\": \"eslint .\"},\n  \"dependencies\": {\n    \"@sentry/node\": \"^8\"\n  },\n  \"workspaces\": [\"packages/*\"]\n}\n";
        let p = load("svc/package.json", text).expect("loads");
        assert_eq!(p.dir, "svc");
        assert_eq!(p.scripts.get("lint").map(String::as_str), Some("eslint ."));
        assert_eq!(
            p.dependency_locs.get("@sentry/node").map(|l| l.line),
            Some(5)
        );
        assert_eq!(p.workspaces, vec!["packages/*"]);
        let nx = load(
            "a/package.json",
            r#"{"nx": {"targets": {"storybook": {}}}}"#,
        )
        .expect("loads");
        assert_eq!(nx.nx_targets, vec!["storybook"]);
        let err = load("package.json", "{\n  \"a\": 1,\n}\n").unwrap_err();
        assert_eq!(err.loc.line, 3);
    }

    #[test]
    fn valid_json_nested_past_the_tree_budget_keeps_its_facts() {
        // Unoptimised parser frames are large: run on a stack the size of a main thread's.
        std::thread::Builder::new()
            .stack_size(16 << 20)
            .spawn(deep_package_json)
            .expect("thread")
            .join()
            .expect("no panic");
    }

    fn deep_package_json() {
        let deep = format!("{}1{}", "{\"a\": ".repeat(70), "}".repeat(70));
        let text = format!(
            "{{\"name\": \"x\", \"scripts\": {{\"lint\": \"eslint .\"}}, \"dependencies\": {{\"@sentry/node\": \"8\"}}, \"workspaces\": {{\"packages\": [\"apps/*\"]}}, \"config\": {deep}}}"
        );
        let p = load("package.json", &text).expect("valid JSON loads");
        assert_eq!(p.name, "x");
        assert_eq!(p.scripts.get("lint").map(String::as_str), Some("eslint ."));
        assert_eq!(
            p.dependency_locs.get("@sentry/node").map(|l| l.line),
            Some(1)
        );
        assert_eq!(p.workspaces, vec!["apps/*"]);
    }
}
