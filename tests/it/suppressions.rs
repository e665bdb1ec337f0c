//! Inline suppressions end to end: which findings they silence (same line, line above, YAML
//! and Dockerfiles), what is reported about them (SS002, unused and unknown-rule
//! notifications), and how the reports count and show them.

use std::collections::BTreeMap;

use assert_cmd::cargo::cargo_bin_cmd;

use crate::support::{check, summary, write_tree};

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: BTreeMap<String, String> = files
        .iter()
        .map(|(p, t)| ((*p).to_string(), (*t).to_string()))
        .collect();
    write_tree(dir.path(), &files);
    dir
}

fn only(report: &shipshape::finding::RootReport, rules: &[&str]) -> Vec<String> {
    summary(report)
        .into_iter()
        .filter(|s| rules.iter().any(|r| s.starts_with(r)))
        .collect()
}

fn notes(report: &shipshape::finding::RootReport) -> Vec<String> {
    report
        .notifications
        .iter()
        .map(|n| {
            format!(
                "{} {}:{} {}",
                n.level.as_str(),
                n.location.file,
                n.location.line,
                n.message
            )
        })
        .collect()
}

const ROOT_DOCKERFILE: &str = "FROM node:18-alpine\nUSER root\n";

#[test]
fn without_a_suppression_the_findings_are_there() {
    let dir = tree(&[
        ("Dockerfile", ROOT_DOCKERFILE),
        ("compose.yaml", "services:\n  db:\n    image: postgres:16\n"),
    ]);
    let report = check(dir.path());
    assert_eq!(
        only(&report, &["DF005", "DC001", "SS002"]),
        ["DC001 compose.yaml:3", "DF005 Dockerfile:2"]
    );
    assert_eq!(report.suppressed_count, 0);
}

#[test]
fn the_line_above_in_a_dockerfile_and_the_same_line_in_yaml_silence_their_rule() {
    let dir = tree(&[
        (
            "Dockerfile",
            "FROM node:18-alpine\n# shipshape: ignore[DF005] entrypoint drops to uid 1000\nUSER root\n",
        ),
        (
            "compose.yaml",
            "services:\n  db:\n    image: postgres:16  # shipshape: ignore[DC001] managed by ops\n",
        ),
    ]);
    let report = check(dir.path());
    assert_eq!(
        only(&report, &["DF005", "DC001", "SS002"]),
        Vec::<String>::new()
    );
    assert_eq!(report.suppressed_count, 2);
    let mut why: Vec<(String, String)> = report
        .suppressed
        .iter()
        .map(|(f, j)| (format!("{} {}", f.rule, f.location.line), j.clone()))
        .collect();
    why.sort();
    assert_eq!(
        why,
        [
            ("DC001 3".to_string(), "managed by ops".to_string()),
            (
                "DF005 3".to_string(),
                "entrypoint drops to uid 1000".to_string()
            ),
        ]
    );
    assert!(notes(&report).is_empty(), "{:?}", notes(&report));
}

#[test]
fn a_suppression_two_lines_above_or_of_another_rule_does_not_apply() {
    let dir = tree(&[(
        "Dockerfile",
        "FROM node:18-alpine\n# shipshape: ignore[DF005] too far away\n\nUSER root\n# shipshape: ignore[DF004] wrong rule\nUSER root\n",
    )]);
    let report = check(dir.path());
    assert_eq!(
        only(&report, &["DF005", "SS002"]),
        ["DF005 Dockerfile:6"],
        "the final stage's last USER is the finding"
    );
    assert_eq!(
        notes(&report),
        [
            "note Dockerfile:2 Dockerfile: unused suppression of DF005: no such finding on this line or the next",
            "note Dockerfile:5 Dockerfile: unused suppression of DF004: no such finding on this line or the next",
        ]
    );
}

#[test]
fn a_suppression_in_a_yaml_workflow_on_the_line_above() {
    let workflow = "on: pull_request\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      # shipshape: ignore[CI001] lint runs in a pre-commit hook\n      - run: npm run lint || true\n      - run: npm test\n";
    let unsuppressed = tree(&[
        (
            ".github/workflows/ci.yml",
            &workflow.replace(
                "      # shipshape: ignore[CI001] lint runs in a pre-commit hook\n",
                "",
            ),
        ),
        (
            "package.json",
            "{\"scripts\": {\"lint\": \"eslint .\", \"test\": \"jest\"}}",
        ),
    ]);
    let suppressed = tree(&[
        (".github/workflows/ci.yml", workflow),
        (
            "package.json",
            "{\"scripts\": {\"lint\": \"eslint .\", \"test\": \"jest\"}}",
        ),
    ]);
    assert_eq!(
        only(&check(unsuppressed.path()), &["CI001"]),
        ["CI001 .github/workflows/ci.yml:7"]
    );
    let report = check(suppressed.path());
    assert_eq!(only(&report, &["CI001", "SS002"]), Vec::<String>::new());
    assert_eq!(report.suppressed_count, 1);
}

#[test]
fn an_expired_suppression_stops_silencing_and_says_so() {
    let dir = tree(&[(
        "Dockerfile",
        "FROM node:18-alpine\n# shipshape: ignore[DF005] temporary until=2001-02-03\nUSER root\n",
    )]);
    let report = check(dir.path());
    assert_eq!(
        only(&report, &["DF005", "SS002"]),
        ["DF005 Dockerfile:3", "SS002 Dockerfile:2"]
    );
    let ss002 = report
        .findings
        .iter()
        .find(|f| f.rule == "SS002")
        .expect("SS002");
    assert_eq!(
        ss002.message,
        "suppression of DF005 expired on 2001-02-03; its findings are reported again"
    );
    assert_eq!(report.suppressed_count, 0);
    assert!(notes(&report).is_empty(), "expired is not also unused");
}

#[test]
fn no_reason_still_silences_but_is_a_warning() {
    let dir = tree(&[(
        "Dockerfile",
        "FROM node:18-alpine\n# shipshape: ignore[DF005]\nUSER root\n",
    )]);
    let report = check(dir.path());
    assert_eq!(only(&report, &["DF005", "SS002"]), ["SS002 Dockerfile:2"]);
    let ss002 = &report
        .findings
        .iter()
        .find(|f| f.rule == "SS002")
        .expect("SS002");
    assert_eq!(ss002.severity.as_str(), "warning");
    assert_eq!(ss002.message, "suppression of DF005 gives no reason");
    assert_eq!(report.suppressed_count, 1);
}

#[test]
fn unused_suppressions_are_found_in_files_without_findings_and_unknown_rules_warned() {
    let dir = tree(&[
        (
            "Dockerfile",
            "FROM node:18-alpine\n# shipshape: ignore[DF005] was root once\nUSER node\n",
        ),
        (
            "compose.yaml",
            "services:\n  db:\n    # shipshape: ignore[DC009] typo in the ID\n    image: postgres:16-alpine\n",
        ),
    ]);
    let report = check(dir.path());
    assert_eq!(
        notes(&report),
        [
            "note Dockerfile:2 Dockerfile: unused suppression of DF005: no such finding on this line or the next",
            "warning compose.yaml:3 compose.yaml: suppression names unknown rule DC009; `shipshape rules` lists them",
        ]
    );
}

#[test]
fn a_suppression_of_a_rule_left_out_by_select_is_still_used() {
    let dir = tree(&[(
        "Dockerfile",
        "FROM node:18-alpine\n# shipshape: ignore[DF005] drops privileges\nUSER root\n",
    )]);
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            dir.path().to_str().expect("utf-8"),
            "--select",
            "DF004",
        ])
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["roots"][0]["notifications"], serde_json::json!([]));
    assert_eq!(
        doc["summary"]["suppressed"], 0,
        "DF005 is not reported at all"
    );
}

#[test]
fn reports_count_suppressed_findings_and_show_them_on_request() {
    let dir = tree(&[(
        "Dockerfile",
        "FROM node:18-alpine\n# shipshape: ignore[DF005] drops privileges\nUSER root\n# shipshape: ignore[DF007] nothing here\n",
    )]);
    let run = |extra: &[&str]| {
        let out = cargo_bin_cmd!("shipshape")
            .args(["check", dir.path().to_str().expect("utf-8")])
            .args(["--select", "DF005", "--color", "never"])
            .args(extra)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, human) = run(&[]);
    assert_eq!(code, Some(0));
    assert!(
        human.contains("\n0 errors, 0 warnings, 0 notes (1 suppressed, ")
            && human.ends_with(" ignored) in 1 repository\n"),
        "{human}"
    );
    assert!(
        human.contains("unused suppression of DF007"),
        "unused suppressions are shown: {human}"
    );
    let (_, human) = run(&["--show-suppressed"]);
    assert!(
        human.contains("Dockerfile:3:1: suppressed error: ")
            && human.contains("[DF005] (drops privileges)"),
        "{human}"
    );
    let (_, json) = run(&["--format", "json", "--show-suppressed"]);
    let doc: serde_json::Value = serde_json::from_str(&json).expect("json");
    let s = &doc["roots"][0]["suppressed"][0];
    assert_eq!((&s["rule"], &s["line"]), (&"DF005".into(), &3.into()));
    assert_eq!(s["justification"], "drops privileges");
    assert_eq!(doc["summary"]["suppressed"], 1);
    let (_, sarif) = run(&["--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&sarif).expect("sarif");
    let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    let unused = notes
        .as_array()
        .and_then(|a| {
            a.iter().find(|n| {
                n["message"]["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("DF007"))
            })
        })
        .expect("the unused suppression is a SARIF notification");
    assert_eq!(unused["level"], "note");
    assert_eq!(
        unused["locations"][0]["physicalLocation"]["region"]["startLine"],
        4
    );
}
