//! SARIF output: validated against the official SARIF 2.1.0 JSON schema (the copy shipped in
//! the `serde-sarif` crate, located through `cargo metadata`, never committed here) and
//! snapshotted.

use std::path::PathBuf;
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;

use crate::support::examples;

/// The official SARIF 2.1.0 schema, read from the `serde-sarif` package in the cargo registry.
fn sarif_schema() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed");
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let manifest = meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("serde-sarif is a dev-dependency");
    let path = PathBuf::from(manifest)
        .parent()
        .expect("crate dir")
        .join("src/schema.json");
    let text = std::fs::read_to_string(&path).expect("schema.json ships in serde-sarif");
    // The official schema has a stray `]` in one regex pattern that the validator rejects.
    let text = text.replace(
        "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    serde_json::from_str(&text).expect("schema JSON")
}

fn sarif_of(args: &[&str]) -> (serde_json::Value, i32) {
    let out = cargo_bin_cmd!("shipshape")
        .args(args)
        .output()
        .expect("runs");
    let code = out.status.code().expect("exit code");
    (
        serde_json::from_slice(&out.stdout).expect("SARIF is JSON"),
        code,
    )
}

/// SARIF of `examples/legacy-store` checked with the built-in pack and the policies in `dir`.
fn legacy_sarif_with(dir: &std::path::Path) -> (serde_json::Value, i32) {
    let root = crate::support::examples().join("legacy-store");
    sarif_of(&[
        "check",
        root.to_str().expect("utf-8"),
        "--format",
        "sarif",
        "--policy",
        dir.to_str().expect("utf-8"),
    ])
}

pub(crate) fn validate(doc: &serde_json::Value) {
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF does not validate:\n{}",
        errors.join("\n")
    );
}

#[test]
fn noncompliant_example_sarif_validates_and_matches_snapshot() {
    let root = examples().join("legacy-store");
    let root_s = root.to_str().expect("utf-8 path");
    // The checkout's top is the repository root, with or without a `.git` beside it.
    let (doc, code) = sarif_of(&[
        "check",
        root_s,
        "--format",
        "sarif",
        "--repo-root",
        env!("CARGO_MANIFEST_DIR"),
    ]);
    assert_eq!(code, 1);
    validate(&doc);
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    for r in run["results"].as_array().expect("results") {
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(
            !loc["artifactLocation"]["uri"]
                .as_str()
                .expect("uri")
                .contains('\\')
        );
        assert!(loc["region"]["startLine"].as_u64().expect("line") >= 1);
        assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
    }
    // Only the security rules are security alerts; every rule says how precise it is.
    let security: Vec<&str> = rules
        .iter()
        .filter(|r| r["properties"]["security-severity"].is_string())
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(
        security,
        ["CI003", "CI004", "DC004", "DF005", "DF006", "DF007"]
    );
    for r in rules {
        assert!(r["properties"]["precision"].is_string());
    }
    // No zero-width region where the text is known.
    for r in run["results"].as_array().expect("results") {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(
            (region["endLine"].as_u64(), region["endColumn"].as_u64())
                > (region["startLine"].as_u64(), region["startColumn"].as_u64()),
            "zero-width region: {r}"
        );
    }
    insta::assert_json_snapshot!("legacy_store_sarif", doc, {
        ".runs[].tool.driver.version" => "[version]",
        ".runs[].tool.driver.semanticVersion" => "[version]",
        ".runs[].originalUriBaseIds" => "[root]",
        ".runs[].tool.driver.rules[].help" => "[help]",
    });
}

/// A repository in a temporary directory (a `.git` directory marks its top) with a service
/// in `services/api`.
fn service_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = std::collections::BTreeMap::from([
        (
            ".git/HEAD".to_string(),
            "ref: refs/heads/main\n".to_string(),
        ),
        (
            "services/api/Dockerfile".to_string(),
            "FROM node:20\nRUN npm ci\n".to_string(),
        ),
        (
            "services/api/package.json".to_string(),
            r#"{"name": "api"}"#.to_string(),
        ),
    ]);
    crate::support::write_tree(dir.path(), &files);
    dir
}

#[test]
fn category_does_not_depend_on_how_the_root_was_typed() {
    let repo = service_repo();
    let api = repo.path().join("services/api");
    let id_of = |cwd: &std::path::Path, root: &str, extra: &[&str]| {
        let out = cargo_bin_cmd!("shipshape")
            .current_dir(cwd)
            .args(["check", root, "--format", "sarif"])
            .args(extra)
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF");
        validate(&doc);
        doc["runs"][0]["automationDetails"]["id"].clone()
    };
    let want = serde_json::json!("shipshape/services/api/");
    assert_eq!(id_of(repo.path(), "services/api", &[]), want);
    assert_eq!(id_of(repo.path(), "./services/api/", &[]), want);
    assert_eq!(id_of(&api, ".", &[]), want);
    assert_eq!(id_of(&api, api.to_str().expect("utf-8"), &[]), want);
    assert_eq!(
        id_of(&api, ".", &["--category", "backend"]),
        serde_json::json!("backend/")
    );
}

#[test]
fn uris_are_relative_to_the_repository_root_from_a_subdirectory() {
    let repo = service_repo();
    let api = repo.path().join("services/api");
    let (doc, _) = sarif_of(&["check", api.to_str().expect("utf-8"), "--format", "sarif"]);
    validate(&doc);
    let run = &doc["runs"][0];
    let uris: std::collections::BTreeSet<&str> = run["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str())
        .collect();
    assert!(uris.contains("services/api/Dockerfile"), "{uris:?}");
    assert!(
        uris.iter().all(|u| u.starts_with("services/api/")),
        "{uris:?}"
    );
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("base uri");
    assert!(!base.contains("services"), "{base}");
    // --repo-root sets the repository root explicitly.
    let (doc, _) = sarif_of(&[
        "check",
        api.to_str().expect("utf-8"),
        "--format",
        "sarif",
        "--repo-root",
        repo.path().join("services").to_str().expect("utf-8"),
    ]);
    let uri = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert!(uri.as_str().is_some_and(|u| u.starts_with("api/")), "{uri}");
}

#[test]
fn more_roots_than_one_file_takes_go_to_a_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut roots = Vec::new();
    for i in 0..21 {
        let root = dir.path().join(format!("svc{i:02}"));
        crate::support::write_tree(
            &root,
            &std::collections::BTreeMap::from([(
                "Dockerfile".to_string(),
                "FROM node:20\n".to_string(),
            )]),
        );
        roots.push(root.to_str().expect("utf-8").to_string());
    }
    std::fs::create_dir(dir.path().join(".git")).expect("mkdir");
    let out = cargo_bin_cmd!("shipshape")
        .arg("check")
        .args(&roots)
        .args(["--format", "sarif"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--sarif-dir"), "{stderr}");
    let sarif_dir = dir.path().join("sarif");
    let out = cargo_bin_cmd!("shipshape")
        .arg("check")
        .args(&roots)
        .args(["--format", "json", "--output"])
        .arg(dir.path().join("report.json"))
        .arg("--sarif-dir")
        .arg(&sarif_dir)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut ids = std::collections::BTreeSet::new();
    let mut files = 0;
    for e in std::fs::read_dir(&sarif_dir).expect("sarif dir") {
        let path = e.expect("entry").path();
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        validate(&doc);
        assert_eq!(doc["runs"].as_array().map(Vec::len), Some(1));
        let id = doc["runs"][0]["automationDetails"]["id"]
            .as_str()
            .expect("id");
        assert_eq!(
            format!(
                "shipshape/{}/",
                path.file_stem().and_then(|s| s.to_str()).expect("stem")
            ),
            id
        );
        ids.insert(id.to_string());
        files += 1;
    }
    assert_eq!((files, ids.len()), (21, 21));
    // All roots as one run instead.
    let out = cargo_bin_cmd!("shipshape")
        .arg("check")
        .args(&roots)
        .args(["--format", "sarif", "--sarif-single-run"])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF");
    validate(&doc);
    assert_eq!(doc["runs"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["runs"][0]["automationDetails"]["id"], "shipshape/");
}

#[test]
fn several_roots_give_one_run_each_and_validate() {
    let a = examples().join("legacy-store");
    let b = examples().join("compliant-store");
    let (doc, code) = sarif_of(&[
        "check",
        a.to_str().expect("utf-8"),
        b.to_str().expect("utf-8"),
        "--format",
        "sarif",
    ]);
    assert_eq!(code, 1);
    validate(&doc);
    assert_eq!(doc["runs"].as_array().expect("runs").len(), 2);
    assert_ne!(
        doc["runs"][0]["automationDetails"]["id"],
        doc["runs"][1]["automationDetails"]["id"]
    );
}

#[test]
fn unreadable_files_become_tool_notifications() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), b"\x7fELF\x00\x00binary").expect("write");
    let (doc, _) = sarif_of(&[
        "check",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "sarif",
    ]);
    validate(&doc);
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(notes.iter().any(|n| {
        n["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("binary"))
    }));
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert!(results.iter().any(|r| r["ruleId"] == "SS001"));
}

#[test]
fn every_help_uri_resolves_to_an_anchor_of_the_rule_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    let policy = |id: &str, extra: &str| {
        format!(
            "id: {id}\ntitle: t\nseverity: note\n{extra}docs: {{what: w, why: y, fix: f}}\nviolations: repo.dockerfiles.map(d, d.loc)\nmessage: m\n"
        )
    };
    std::fs::write(policies.join("a.yaml"), policy("ACME010", "")).expect("write");
    std::fs::write(
        policies.join("b.yaml"),
        policy("ACME011", "help_uri: https://wiki.example/acme011\n"),
    )
    .expect("write");
    let (doc, _) = legacy_sarif_with(&policies);
    validate(&doc);
    let reference = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md"),
    )
    .expect("docs/rules.md");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let mut builtin = 0;
    for r in rules {
        let id = r["id"].as_str().expect("id");
        let uri = r["helpUri"].as_str();
        match id {
            "ACME010" => assert_eq!(uri, None, "no page is invented for a user rule"),
            "ACME011" => assert_eq!(uri, Some("https://wiki.example/acme011")),
            _ => {
                let uri = uri.expect("built-in rules have a helpUri");
                let (page, anchor) = uri.split_once('#').expect("an anchor");
                assert!(page.ends_with("/docs/rules.md"), "{uri}");
                assert!(
                    reference.contains(&format!("<a id=\"{anchor}\"></a>")),
                    "{uri} has no anchor in docs/rules.md"
                );
                builtin += 1;
            }
        }
    }
    assert!(
        builtin >= 40,
        "the rules of the run are described: {builtin}"
    );
}

#[test]
fn a_policy_that_fails_to_evaluate_is_exit_two_and_an_unsuccessful_execution() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).expect("mkdir");
    // `is_final` is a field of stages, not of Dockerfiles: the expression compiles (field
    // names are checked, not types) and fails when evaluated.
    std::fs::write(
        policies.join("broken.yaml"),
        "id: ACME020\ntitle: t\nseverity: note\ndocs: {what: w, why: y, fix: f}\nviolations: repo.dockerfiles.filter(d, d.is_final == 1)\nmessage: m\n",
    )
    .expect("write");
    let (doc, code) = legacy_sarif_with(&policies);
    validate(&doc);
    assert_eq!(code, 2, "the rule was not checked");
    let invocation = &doc["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let said = invocation["toolExecutionNotifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .any(|n| {
            n["level"] == "error"
                && n["message"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("ACME020"))
        });
    assert!(said, "the failure is a notification naming the policy");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert!(
        results.iter().any(|r| r["ruleId"] == "DF005"),
        "the other rules' findings are still reported"
    );
}
