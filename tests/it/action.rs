//! The GitHub Action (`action.yml`): its structure, that the inputs its steps read are the
//! ones it declares, that inputs reach scripts only through `env:`, and that every action it
//! uses is pinned to a commit.

use std::collections::BTreeSet;

use serde_json::Value;

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
        .expect("file at the repository root")
}

fn action() -> (String, Value) {
    let text = repo_file("action.yml");
    let doc: Value = serde_saphyr::from_str(&text).expect("action.yml is YAML");
    (text, doc)
}

fn steps(doc: &Value) -> &Vec<Value> {
    doc["runs"]["steps"].as_array().expect("runs.steps")
}

/// Names after `prefix` in `${{ }}` expressions of `text` (`inputs.` → input names).
fn references(text: &str, prefix: &str) -> BTreeSet<String> {
    let re =
        regex::Regex::new(&format!(r"\b{}([A-Za-z0-9_-]+)", regex::escape(prefix))).expect("regex");
    text.split("${{")
        .skip(1)
        .filter_map(|s| s.split_once("}}").map(|(expr, _)| expr))
        .chain(
            // `if:` conditions are expressions without `${{ }}`.
            text.lines()
                .filter_map(|l| l.trim_start().strip_prefix("if:")),
        )
        .flat_map(|expr| {
            re.captures_iter(expr)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn action_is_a_composite_action_with_the_documented_inputs() {
    let (_, doc) = action();
    assert_eq!(doc["name"], "shipshape");
    assert!(doc["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(doc["runs"]["using"], "composite");
    let inputs = doc["inputs"].as_object().expect("inputs");
    let mut names: Vec<&str> = inputs.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "baseline",
            "category",
            "config",
            "fail-on",
            "paths",
            "reports",
            "sarif-file",
            "upload-sarif",
        ]
    );
    let default = |name: &str| inputs[name]["default"].as_str().expect("a string default");
    assert_eq!(default("paths"), ".");
    assert_eq!(default("fail-on"), "error");
    assert_eq!(default("reports"), "sarif,github,markdown");
    assert_eq!(default("upload-sarif"), "true");
    assert_eq!(default("sarif-file"), "shipshape.sarif");
    assert_eq!(default("category"), "");
    for (name, spec) in inputs {
        assert!(
            spec["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input {name} has a description"
        );
        assert_eq!(spec["required"], false, "input {name} is optional");
    }
}

#[test]
fn action_reads_only_declared_inputs_and_uses_every_one() {
    let (text, doc) = action();
    let declared: BTreeSet<String> = doc["inputs"]
        .as_object()
        .expect("inputs")
        .keys()
        .cloned()
        .collect();
    assert_eq!(references(&text, "inputs."), declared);
    // Step outputs read are those of steps that have that id.
    let ids: BTreeSet<String> = steps(&doc)
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    let read: BTreeSet<String> = references(&text, "steps.");
    assert!(!read.is_empty());
    assert!(read.is_subset(&ids), "{read:?} ⊄ {ids:?}");
}

#[test]
fn action_scripts_take_values_from_env_only() {
    let (_, doc) = action();
    let mut scripts = 0;
    for step in steps(&doc) {
        if let Some(run) = step["run"].as_str() {
            scripts += 1;
            assert!(
                !run.contains("${{"),
                "a `run:` script splices an expression (script injection):\n{run}"
            );
            assert_eq!(
                step["shell"], "bash",
                "a composite run step names its shell"
            );
        }
    }
    assert_eq!(scripts, 4);
}

#[test]
fn action_pins_the_actions_it_uses_to_commits() {
    let (text, doc) = action();
    let pinned = regex::Regex::new(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$").expect("re");
    let uses: Vec<&str> = steps(&doc)
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect();
    assert_eq!(uses.len(), 2);
    let version = regex::Regex::new(r"# v\d+\.\d+\.\d+$").expect("re");
    for u in uses {
        assert!(pinned.is_match(u), "{u} is pinned to a full commit SHA");
        let line = text.lines().find(|l| l.contains(u)).expect("the line");
        assert!(version.is_match(line), "{line}: the version is named");
    }
}

#[test]
fn action_install_and_check_commands() {
    let (_, doc) = action();
    let runs: Vec<&str> = steps(&doc)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains("cargo install --locked --path \"$GITHUB_ACTION_PATH\""))
    );
    let check = steps(&doc)
        .iter()
        .find(|s| s["id"] == "check")
        .expect("the check step");
    for flag in [
        "--fail-on",
        "--config",
        "--baseline",
        "--category",
        "--report \"sarif=$IN_SARIF_FILE\"",
        "--report \"markdown=$GITHUB_STEP_SUMMARY\"",
    ] {
        assert!(
            check["run"].as_str().is_some_and(|r| r.contains(flag)),
            "{flag}"
        );
    }
    let upload = steps(&doc)
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("the upload step");
    assert!(
        upload["if"].as_str().is_some_and(
            |c| c.starts_with("always()") && c.contains("inputs.upload-sarif == 'true'")
        )
    );
    let last = steps(&doc).last().expect("a last step");
    assert!(
        last["run"]
            .as_str()
            .is_some_and(|r| r.contains("exit \"$SHIPSHAPE_STATUS\""))
    );
}
