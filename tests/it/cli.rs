//! The CLI contract: subcommands, flags, output formats and exit statuses.

use assert_cmd::cargo::cargo_bin_cmd;

use crate::support::examples;

fn example(name: &str) -> String {
    examples()
        .join(name)
        .to_str()
        .expect("utf-8 path")
        .to_string()
}

#[test]
fn compliant_example_exits_zero_and_legacy_exits_one() {
    for compliant in ["compliant-store", "gitlab-store"] {
        let out = cargo_bin_cmd!("shipshape")
            .args(["check", &example(compliant), "--format", "json"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{compliant}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(
            doc["roots"][0]["findings"],
            serde_json::json!([]),
            "{compliant} has no finding at all"
        );
    }
    cargo_bin_cmd!("shipshape")
        .args(["check", &example("legacy-store"), "--color", "never"])
        .assert()
        .code(1);
}

#[test]
fn fail_on_controls_the_exit_status() {
    let legacy = example("legacy-store");
    cargo_bin_cmd!("shipshape")
        .args(["check", &legacy, "--fail-on", "never"])
        .assert()
        .code(0);
    // DF006 and DF007 are warnings: with only them selected, `error` passes and `warning` fails.
    cargo_bin_cmd!("shipshape")
        .args(["check", &legacy, "--select", "DF006,DF007"])
        .assert()
        .code(0);
    cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &legacy,
            "--select",
            "DF006,DF007",
            "--fail-on",
            "warning",
        ])
        .assert()
        .code(1);
    cargo_bin_cmd!("shipshape")
        .args(["check", &legacy, "--select", "DF006", "--fail-on", "note"])
        .assert()
        .code(1);
}

#[test]
fn usage_errors_exit_two() {
    cargo_bin_cmd!("shipshape")
        .args(["check", "--format", "xml"])
        .assert()
        .code(2);
    cargo_bin_cmd!("shipshape")
        .args(["check", "/nonexistent/root"])
        .assert()
        .code(2);
    cargo_bin_cmd!("shipshape")
        .args(["check", ".", "--select", "NOPE001"])
        .assert()
        .code(2);
    cargo_bin_cmd!("shipshape")
        .args(["frobnicate"])
        .assert()
        .code(2);
    cargo_bin_cmd!("shipshape")
        .args(["explain", "NOPE001"])
        .assert()
        .code(2);
}

#[test]
fn rules_and_explain() {
    let out = cargo_bin_cmd!("shipshape")
        .arg("rules")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.lines()
            .any(|l| l.starts_with("DF005") && l.contains("error") && l.contains("non-root"))
    );
    let out = cargo_bin_cmd!("shipshape")
        .args(["explain", "df005"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("# DF005"));
    assert!(text.contains("## Failing example"));
}

#[test]
fn ignore_drops_and_counts_findings() {
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("legacy-store"),
            "--ignore",
            "DF004",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = doc["roots"][0]["findings"].as_array().expect("findings");
    assert!(findings.iter().all(|f| f["rule"] != "DF004"));
    assert!(doc["summary"]["ignored"].as_u64().expect("ignored") >= 1);
    assert_eq!(doc["schema_version"], 1);
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.sarif");
    cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("legacy-store"),
            "--format",
            "sarif",
            "--output",
            out.to_str().expect("utf-8"),
        ])
        .assert()
        .code(1)
        .stdout("");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).expect("written")).expect("json");
    assert_eq!(doc["version"], "2.1.0");
}

#[test]
fn user_policies_compile_errors_and_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = |id: &str, expr: &str| {
        format!(
            "id: {id}\ntitle: t\nseverity: warning\ndocs:\n  what: w\n  why: y\n  fix: f\nviolations: |\n  {expr}\nmessage: m\n"
        )
    };
    std::fs::write(
        dir.path().join("X.yaml"),
        policy("ACME001", "repo.dockerfiles.filter(d, d.stages.size() > 3"),
    )
    .expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("compliant-store"),
            "--policy",
            dir.path().to_str().expect("utf-8"),
            "--color",
            "never",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("X.yaml") && err.contains("does not compile"),
        "{err}"
    );
    assert!(
        err.contains("repo.dockerfiles.filter"),
        "the diagnostic shows the expression: {err}"
    );

    std::fs::write(dir.path().join("X.yaml"), policy("DF001", "[]")).expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("compliant-store"),
            "--policy",
            dir.path().to_str().expect("utf-8"),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("duplicate policy ID DF001"));

    std::fs::write(
        dir.path().join("X.yaml"),
        policy(
            "ACME001",
            "repo.dockerfiles.filter(d, d.stages.size() > 1).map(d, d.stages[0].from)",
        ),
    )
    .expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("legacy-store"),
            "--policy",
            dir.path().to_str().expect("utf-8"),
            "--no-builtin",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "only a warning policy: exit 0");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules: Vec<&str> = doc["roots"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        !rules.is_empty() && rules.iter().all(|r| *r == "ACME001"),
        "{rules:?}"
    );
}

#[test]
fn human_output_of_a_failing_case_matches_snapshot() {
    let out = cargo_bin_cmd!("shipshape")
        .current_dir(examples())
        .args(["check", "legacy-store", "--color", "never"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("legacy_store_human", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn test_subcommand_passes_and_fails_user_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = |expect: &str| {
        format!(
            "id: ACME002\ntitle: t\nseverity: warning\ndocs: {{what: w, why: y, fix: f}}\neach: repo.dockerfiles\nviolations: it.stages.filter(s, s.from.kind == 'image' && s.from.image.tag == 'latest').map(s, s.from)\nmessage: latest\ntests:\n  - name: latest\n    files:\n      Dockerfile: \"FROM node:latest\\n\"\n    expect: [{expect}]\n"
        )
    };
    std::fs::write(
        dir.path().join("p.yaml"),
        policy("\"ACME002 Dockerfile:1\""),
    )
    .expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .args(["test", dir.path().to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("PASS ACME002 / latest"));
    std::fs::write(
        dir.path().join("p.yaml"),
        policy("\"ACME002 Dockerfile:2\""),
    )
    .expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .args(["test", dir.path().to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL ACME002 / latest"), "{text}");
    assert!(
        text.contains("expected, not found: ACME002 Dockerfile:2"),
        "{text}"
    );
    assert!(
        text.contains("found, not expected: ACME002 Dockerfile:1"),
        "{text}"
    );
}

#[test]
fn baseline_survives_line_shifts_and_not_content_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let base = dir.path().join("baseline.json");
    std::fs::write(repo.join("Dockerfile"), "FROM node:20\nUSER root\n").expect("write");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            repo.to_str().expect("utf-8"),
            "--format",
            "json",
            "--select",
            "DF005",
        ];
        args.extend_from_slice(extra);
        let out = cargo_bin_cmd!("shipshape")
            .args(&args)
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        doc["roots"][0]["findings"]
            .as_array()
            .expect("findings")
            .len()
    };
    assert_eq!(run(&["--write-baseline", base.to_str().expect("utf-8")]), 1);
    assert_eq!(
        run(&["--baseline", base.to_str().expect("utf-8")]),
        0,
        "known finding is dropped"
    );
    std::fs::write(
        repo.join("Dockerfile"),
        "# a comment\n\nFROM node:20\nUSER root\n",
    )
    .expect("write");
    assert_eq!(
        run(&["--baseline", base.to_str().expect("utf-8")]),
        0,
        "lines inserted above keep the identity"
    );
    std::fs::write(repo.join("Dockerfile"), "FROM node:20\nUSER 0\n").expect("write");
    assert_eq!(
        run(&["--baseline", base.to_str().expect("utf-8")]),
        1,
        "changed content is a new finding"
    );
    std::fs::write(&base, "{\"version\": 9, \"findings\": []}").expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            repo.to_str().expect("utf-8"),
            "--baseline",
            base.to_str().expect("utf-8"),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn config_disables_overrides_severity_sets_options_and_rejects_mistakes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    std::fs::write(repo.join("Dockerfile"), "FROM node:20\nUSER app\n").expect("write");
    let rules = |cfg: &str| {
        std::fs::write(repo.join("shipshape.yaml"), cfg).expect("write");
        let out = cargo_bin_cmd!("shipshape")
            .args([
                "check",
                repo.to_str().expect("utf-8"),
                "--format",
                "json",
                "--select",
                "DF004,DF005,DF006",
            ])
            .output()
            .expect("runs");
        let code = out.status.code();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let found: Vec<String> = doc["roots"][0]["findings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        format!(
                            "{} {}",
                            f["rule"].as_str().unwrap_or(""),
                            f["severity"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        (
            code,
            found,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, found, _) =
        rules("rules:\n  DF004:\n    enabled: false\n  DF005:\n    options:\n      user: node\n");
    assert_eq!(code, Some(1));
    assert_eq!(
        found,
        vec!["DF005 error"],
        "DF004 disabled, DF005 requires node"
    );
    let (code, found, _) =
        rules("rules:\n  DF004:\n    severity: warning\n  DF005:\n    options:\n      user: app\n");
    assert_eq!((code, found), (Some(0), vec!["DF004 warning".to_string()]));
    let (code, _, err) = rules("rules:\n  DF999:\n    enabled: false\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unknown rule DF999") && err.contains("shipshape.yaml"),
        "{err}"
    );
    let (code, _, err) = rules("rules:\n  DF005:\n    options:\n      user: 5\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("DF005.user must be a string"), "{err}");
    let (code, _, err) = rules("rulez: {}\n");
    assert_eq!(code, Some(2));
    assert!(err.contains("invalid config"), "{err}");
    let (code, found, _) = rules("exclude: [\"Docker*\"]\n");
    assert_eq!((code, found.len()), (Some(0), 0));
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            repo.to_str().expect("utf-8"),
            "--no-config",
            "--select",
            "DF004",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "--no-config ignores the exclude"
    );
}

#[test]
fn config_schema_accepts_a_valid_config_and_rejects_typos() {
    let out = cargo_bin_cmd!("shipshape")
        .args(["schema", "config"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let good = serde_json::json!({"rules": {"DF005": {"severity": "warning", "options": {"user": "node"}}}, "exclude": ["x/**"]});
    assert!(validator.is_valid(&good));
    let bad = serde_json::json!({"rules": {"DF005": {"options": {"usr": "node"}}}});
    assert!(!validator.is_valid(&bad));
    cargo_bin_cmd!("shipshape")
        .args(["schema", "nope"])
        .assert()
        .code(2);
}

#[test]
fn suppressed_findings_appear_only_with_show_suppressed() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM node:18-alpine\n# shipshape: ignore[DF005] drops privileges in the entrypoint\nUSER root\n",
    )
    .expect("write");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            dir.path().to_str().expect("utf-8"),
            "--format",
            "sarif",
            "--select",
            "DF005",
        ];
        args.extend_from_slice(extra);
        let out = cargo_bin_cmd!("shipshape")
            .args(&args)
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        (
            out.status.code(),
            doc["runs"][0]["results"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        )
    };
    let (code, results) = run(&[]);
    assert_eq!((code, results.len()), (Some(0), 0));
    let (code, results) = run(&["--show-suppressed"]);
    assert_eq!(code, Some(0), "suppressed findings never fail the run");
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0]["suppressions"][0]["justification"],
        "drops privileges in the entrypoint"
    );
}

#[test]
fn locked_rules_of_an_extended_config_cannot_be_loosened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let org = dir.path().join("org.yaml");
    std::fs::write(
        &org,
        "rules:\n  DF005:\n    locked: true\n    severity: error\n  DF006:\n    severity: note\n",
    )
    .expect("write");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::write(repo.join("Dockerfile"), "FROM node:latest\nUSER root\n").expect("write");
    let run = |cfg: &str| {
        std::fs::write(repo.join("shipshape.yaml"), cfg).expect("write");
        let out = cargo_bin_cmd!("shipshape")
            .args([
                "check",
                repo.to_str().expect("utf-8"),
                "--select",
                "DF005,DF006",
                "--format",
                "json",
            ])
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, _, err) = run("extends: ../org.yaml\nrules:\n  DF005:\n    enabled: false\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("locked by") && err.contains("org.yaml") && err.contains("shipshape.yaml"),
        "{err}"
    );
    let (code, _, err) = run("extends: ../org.yaml\nrules:\n  DF005:\n    severity: warning\n");
    assert_eq!(code, Some(2), "{err}");
    let (code, out, _) = run("extends: ../org.yaml\nrules:\n  DF006:\n    severity: error\n");
    assert_eq!(code, Some(1));
    assert!(out.contains("\"DF006\"") && out.contains("\"DF005\""));
    let (code, out, _) = run("extends: ../org.yaml\n");
    assert_eq!(code, Some(1));
    let doc: serde_json::Value = serde_json::from_str(&out).expect("json");
    let sev: Vec<&str> = doc["roots"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "DF006")
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert_eq!(sev, vec!["note"], "the organisation's severity applies");
}

#[test]
fn explain_shows_options_and_the_settings_in_effect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("shipshape.yaml");
    std::fs::write(
        &cfg,
        "rules:\n  DF005:\n    severity: warning\n    options:\n      user: node\n",
    )
    .expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .args(["explain", "DF005", "--config", cfg.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("## Options") && text.contains("| `user` | string | `null` |"),
        "{text}"
    );
    assert!(
        text.contains("- severity: warning") && text.contains("- option `user`: `\"node\"`"),
        "{text}"
    );
    // Environment names show where the rule reads deploy jobs, and locks name their file.
    let org = dir.path().join("org.yaml");
    std::fs::write(&org, "rules:\n  CD004:\n    locked: true\n").expect("write");
    std::fs::write(
        &cfg,
        "extends: org.yaml\nenvironments:\n  production: [production, customer-facing]\n",
    )
    .expect("write");
    let explain = |rule: &str| {
        let out = cargo_bin_cmd!("shipshape")
            .args(["explain", rule, "--config", cfg.to_str().expect("utf-8")])
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let cd = explain("CD004");
    assert!(
        cd.contains("- production names: production, customer-facing")
            && cd.contains("- locked by ")
            && cd.contains("org.yaml"),
        "{cd}"
    );
    assert!(!explain("DF005").contains("production names"));
}

#[test]
fn baseline_counts_what_it_hides_tolerates_realignment_and_reports_stale_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let base = dir.path().join("baseline.json");
    let base_s = base.to_str().expect("utf-8").to_string();
    let write = |text: &str| std::fs::write(repo.join("Dockerfile"), text).expect("write");
    let run = |extra: &[&str]| {
        let out = cargo_bin_cmd!("shipshape")
            .args(["check", repo.to_str().expect("utf-8"), "--format", "json"])
            .args(["--select", "DF006"])
            .args(extra)
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let lines: Vec<u64> = doc["roots"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter_map(|f| f["line"].as_u64())
            .collect();
        (
            lines,
            doc["summary"]["baselined"].as_u64().unwrap_or(99),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // Two identical unpinned `FROM` lines: two findings with the same text, told apart by
    // their occurrence.
    let two = "FROM node:latest\nRUN npm ci\nFROM node:latest\nUSER node\n";
    write(two);
    let (lines, _, _) = run(&["--write-baseline", &base_s]);
    assert_eq!(lines, [1, 3], "DF006: two unpinned bases");
    let all = dir.path().join("all.json");
    let all_s = all.to_str().expect("utf-8").to_string();
    let status = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            repo.to_str().expect("utf-8"),
            "--fail-on",
            "warning",
        ])
        .args(["--write-baseline", &all_s])
        .output()
        .expect("runs")
        .status
        .code();
    assert_eq!(status, Some(0), "recording a baseline accepts the findings");
    let (lines, baselined, err) = run(&["--baseline", &all_s]);
    assert_eq!((lines.len(), baselined), (0, 2));
    assert!(
        !err.contains("no longer occur"),
        "entries of rules left out by --select are not stale: {err}"
    );
    let (lines, baselined, err) = run(&["--baseline", &base_s]);
    assert_eq!((lines.len(), baselined), (0, 2), "{err}");
    // Re-aligned text and lines shifted down keep the identity; a third identical line is new.
    write(
        "# build\n\nFROM   node:latest\nRUN npm ci\nFROM node:latest\nRUN npm ci\nFROM node:latest\nUSER node\n",
    );
    let (lines, baselined, _) = run(&["--baseline", &base_s]);
    assert_eq!((lines, baselined), (vec![7], 2));
    // Fixing one leaves a stale entry, which is reported on stderr.
    write("FROM node:20.11-alpine\nRUN npm ci\nFROM node:latest\nUSER node\n");
    let (lines, baselined, err) = run(&["--baseline", &base_s]);
    assert_eq!((lines.len(), baselined), (0, 1));
    assert!(
        err.contains("1 finding(s) of baseline") && err.contains("no longer occur"),
        "{err}"
    );
}

#[test]
fn test_subcommand_refuses_empty_dirs_unknown_rules_and_bad_case_options_and_warns_untested() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        let out = cargo_bin_cmd!("shipshape")
            .arg("test")
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).replace("\n  │ ", " "),
        )
    };
    let d = dir.path().to_str().expect("utf-8");
    let (code, _, err) = run(&[d]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no policy files (*.yaml) in"), "{err}");
    let policy = "id: ACME003\ntitle: t\nseverity: note\ndocs: {what: w, why: y, fix: f}\noptions:\n  max:\n    type: int\n    default: 1\n    doc: d\nviolations: repo.dockerfiles.filter(d, d.stages.size() > options.max).map(d, d.loc)\nmessage: m\n";
    std::fs::write(dir.path().join("p.yaml"), policy).expect("write");
    let (code, out, _) = run(&[d]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("WARN ACME003 has no test cases"), "{out}");
    let (code, _, err) = run(&[d, "--rule", "ACME999"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no policy ACME999 to test"), "{err}");
    std::fs::write(
        dir.path().join("p.yaml"),
        format!("{policy}tests:\n  - name: two stages\n    options: {{max: many}}\n    files:\n      Dockerfile: \"FROM a AS b\\nFROM c\\n\"\n    expect: [\"ACME003 Dockerfile:1\"]\n"),
    )
    .expect("write");
    let (code, _, err) = run(&[d]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("test \"two stages\" sets option max to \"many\", which is not an integer"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("p.yaml"),
        format!("{policy}tests:\n  - name: two stages\n    options: {{max: 1}}\n    files:\n      Dockerfile: \"FROM a AS b\\nFROM c\\n\"\n    expect: [\"ACME003 Dockerfile:1\"]\n"),
    )
    .expect("write");
    let (code, out, _) = run(&[d]);
    assert_eq!(
        (code, out.as_str()),
        (
            Some(0),
            "PASS ACME003 / two stages\n1 cases, 1 passed, 0 failed\n"
        )
    );
}

#[test]
fn the_same_root_given_twice_is_checked_once() {
    let root = example("legacy-store");
    let again = format!("{root}/./");
    let out = cargo_bin_cmd!("shipshape")
        .args(["check", &root, &again, "--format", "json"])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let roots = doc["roots"].as_array().expect("roots");
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert_eq!(roots[0]["root"], serde_json::json!(root));
}

/// A root that exists but cannot be read is a usage error like a missing one, not a report
/// of missing evidence at `.`. Skipped where the directory stays readable (as root).
#[test]
fn an_unreadable_root_exits_two() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).expect("mkdir");
    std::fs::write(locked.join("package.json"), "{}").expect("write");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let readable = std::fs::read_dir(&locked).is_ok();
    let out = cargo_bin_cmd!("shipshape")
        .args(["check", locked.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    if readable {
        eprintln!("skipped: the directory is readable despite mode 000 (running as root)");
        return;
    }
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot check") && err.contains("locked"),
        "{err}"
    );
}

/// With several roots, a bad one is named and the run exits 2, but the others are still
/// checked and their report is written.
#[test]
fn a_bad_root_does_not_stop_the_others() {
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            "/nonexistent/root",
            &example("compliant-store"),
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/root"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let roots = json["roots"].as_array().expect("roots");
    assert_eq!(roots.len(), 1);
    assert!(
        roots[0]["root"]
            .as_str()
            .is_some_and(|r| r.ends_with("compliant-store"))
    );
}

/// A report that cannot be written to standard output (here a full device) is an error
/// with a message, exit 2, never lost silently; a reader that stops early (`| head`) is not.
#[test]
fn a_write_error_on_standard_output_exits_two() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // no full device on this system
    };
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .args(["check", &example("legacy-store"), "--format", "json"])
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
}

/// The directory holding `examples/`, as a repository root for report paths.
fn repo_root() -> String {
    let examples = examples();
    let root = examples.parent().expect("parent of examples");
    root.to_str().expect("utf-8 path").to_string()
}

#[test]
fn github_format_annotates_findings() {
    let out = cargo_bin_cmd!("shipshape")
        .args(["check", &example("legacy-store"), "--format", "github"])
        .args(["--repo-root", &repo_root()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    let (summary, commands) = lines.split_last().expect("lines");
    assert!(summary.starts_with("shipshape: "), "{text}");
    assert!(!commands.is_empty());
    for line in commands {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file="),
            "{line}"
        );
    }
    // Paths are relative to the repository holding the root; regions are exact.
    assert!(
        commands.contains(
            &"::error file=examples/legacy-store/Dockerfile,line=1,col=1,endLine=1,endColumn=28,\
              title=DF004 alpine base image::base image 'node:latest' is not an allowed base \
              (node:*-alpine*)"
        ),
        "{text}"
    );
}

#[test]
fn several_reports_are_written_in_one_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_string();
    let (sarif, junit, markdown, gitlab) = (
        path("a.sarif"),
        path("b.xml"),
        path("c.md"),
        path("gl-code-quality-report.json"),
    );
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("legacy-store"),
            "--report",
            &format!("sarif={sarif}"),
            "--report",
            &format!("junit={junit}"),
            "--report",
            &format!("markdown={markdown}"),
            "--report",
            &format!("gitlab={gitlab}"),
            "--format",
            "json",
            "--repo-root",
            &repo_root(),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json on stdout");
    let findings = doc["roots"][0]["findings"]
        .as_array()
        .expect("findings")
        .len();
    assert!(findings > 0);
    let read = |p: &str| std::fs::read_to_string(p).expect("written");
    let log: serde_json::Value = serde_json::from_str(&read(&sarif)).expect("sarif");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(
        log["runs"][0]["results"].as_array().expect("results").len(),
        findings
    );
    let xml = read(&junit);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    assert!(xml.contains("<failure message="), "{xml}");
    let md = read(&markdown);
    assert!(md.starts_with("## shipshape\n"), "{md}");
    assert!(
        md.contains("| Severity | Rule | Location | Message |"),
        "{md}"
    );
    let issues: serde_json::Value = serde_json::from_str(&read(&gitlab)).expect("gitlab");
    let issues = issues.as_array().expect("array");
    assert_eq!(issues.len(), findings);
    let prints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().expect("fingerprint"))
        .collect();
    assert_eq!(prints.len(), findings, "fingerprints are unique");
    for i in issues {
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&i["severity"].as_str().expect("severity"))
        );
        assert!(
            i["location"]["path"]
                .as_str()
                .expect("path")
                .starts_with("examples/legacy-store/")
        );
    }
}

#[test]
fn rules_lists_text_or_json() {
    let text = cargo_bin_cmd!("shipshape")
        .args(["rules", "--format", "text"])
        .output()
        .expect("runs");
    assert_eq!(text.status.code(), Some(0));
    let default = cargo_bin_cmd!("shipshape")
        .arg("rules")
        .output()
        .expect("runs");
    assert_eq!(text.stdout, default.stdout, "text is the default");
    let lines = String::from_utf8(text.stdout)
        .expect("utf-8")
        .lines()
        .count();

    let out = cargo_bin_cmd!("shipshape")
        .args(["rules", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules = rules.as_array().expect("array");
    assert_eq!(rules.len(), lines);
    let df005 = rules
        .iter()
        .find(|r| r["id"] == "DF005")
        .expect("DF005 listed");
    assert_eq!(df005["severity"], "error");
    assert!(df005["title"].as_str().expect("title").contains("non-root"));
    assert!(
        df005["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .any(|t| t == "docker")
    );
    assert_eq!(
        df005["help_uri"],
        "https://github.com/shipshape-dev/shipshape/blob/main/docs/rules.md#df005"
    );
    for key in [
        "what",
        "why",
        "failing",
        "passing",
        "decisions",
        "fix",
        "fix_gitlab",
    ] {
        assert!(df005["docs"][key].is_string(), "docs.{key}");
    }
    assert!(!df005["docs"]["fix"].as_str().expect("fix").is_empty());
    let ci004 = rules.iter().find(|r| r["id"] == "CI004").expect("CI004");
    assert_eq!(ci004["security_severity"], 8.0);
    // Never null: optional fields are left out.
    assert!(rules.iter().all(|r| {
        r.as_object()
            .expect("object")
            .values()
            .all(|v| !v.is_null())
    }));
    assert!(rules.iter().all(|r| {
        r.get("security_severity")
            .is_none_or(serde_json::Value::is_f64)
    }));
}

/// A report written to GitHub's job summary file is appended to what the step wrote there.
#[test]
fn the_job_summary_file_is_appended_to() {
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# Earlier step output\n").expect("write");
    let out = cargo_bin_cmd!("shipshape")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args([
            "check",
            &example("legacy-store"),
            "--format",
            "json",
            "--report",
        ])
        .arg(format!("markdown={}", summary.display()))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&summary).expect("summary");
    assert!(text.starts_with("# Earlier step output\n"), "{text}");
    assert!(text.contains("DF005"), "{text}");
    // Any other file is replaced.
    let other = dir.path().join("other.md");
    std::fs::write(&other, "old\n").expect("write");
    cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("legacy-store"),
            "--format",
            "json",
            "--report",
        ])
        .arg(format!("markdown={}", other.display()))
        .output()
        .expect("runs");
    assert!(
        !std::fs::read_to_string(&other)
            .expect("other")
            .starts_with("old")
    );
}

/// `--concise`: one line per finding with paths openable from the working directory, then
/// the per-rule statistics, a line per root and the total; nothing on standard error (no
/// progress line when it is not a terminal).
#[test]
fn concise_output_with_statistics_and_several_roots_matches_snapshot() {
    let out = cargo_bin_cmd!("shipshape")
        .current_dir(examples())
        .args([
            "check",
            "legacy-store",
            "compliant-store",
            "--concise",
            "--statistics",
        ])
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    insta::assert_snapshot!("legacy_store_concise_statistics", stdout);
    // `--format concise` is the same report; `--concise` with another format is refused.
    let same = cargo_bin_cmd!("shipshape")
        .current_dir(examples())
        .args([
            "check",
            "legacy-store",
            "compliant-store",
            "--format",
            "concise",
        ])
        .args(["--statistics"])
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&same.stdout), stdout);
    cargo_bin_cmd!("shipshape")
        .args([
            "check",
            &example("legacy-store"),
            "--concise",
            "--format",
            "json",
        ])
        .assert()
        .code(2);
}

/// The human report of several roots: diagnostics, the file-level findings one line each
/// under their file, the statistics, a line per root and the total.
#[test]
fn human_output_of_several_roots_with_statistics_matches_snapshot() {
    let out = cargo_bin_cmd!("shipshape")
        .current_dir(examples())
        .args([
            "check",
            "legacy-store",
            "compliant-store",
            "--select",
            "DF005,OB001,OB006,AL003",
            "--statistics",
            "--color",
            "never",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    insta::assert_snapshot!(
        "several_roots_human_statistics",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Colour on a pipe: off by default, forced by `CLICOLOR_FORCE`, which `NO_COLOR` and
/// `--color never` override; a report file is coloured only with `--color always`.
#[test]
fn colour_follows_the_environment_and_the_flag() {
    let run = |env: &[(&str, &str)], extra: &[&str]| {
        let mut cmd = cargo_bin_cmd!("shipshape");
        cmd.args(["check", &example("legacy-store"), "--select", "DF005"])
            .args(extra)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env("TERM", "xterm");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("runs");
        String::from_utf8_lossy(&out.stdout).contains('\u{1b}')
    };
    assert!(!run(&[], &[]));
    assert!(run(&[("CLICOLOR_FORCE", "1")], &[]));
    assert!(run(&[("CLICOLOR_FORCE", "1")], &["--concise"]));
    assert!(!run(&[("CLICOLOR_FORCE", "0")], &[]));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]));
    assert!(!run(&[("CLICOLOR_FORCE", "1")], &["--color", "never"]));
    assert!(run(&[("NO_COLOR", "1")], &["--color", "always"]));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.txt");
    let file_arg = format!("human={}", file.display());
    let _ = run(
        &[("CLICOLOR_FORCE", "1")],
        &["--report", &file_arg, "--report", "json"],
    );
    let text = std::fs::read_to_string(&file).expect("report written");
    assert!(
        text.starts_with("error[DF005]: runs as a non-root user\n"),
        "{text}"
    );
    let _ = run(
        &[],
        &[
            "--color", "always", "--report", &file_arg, "--report", "json",
        ],
    );
    let text = std::fs::read_to_string(&file).expect("report written");
    assert!(text.contains('\u{1b}'), "{text}");
}

#[test]
fn model_prints_what_policies_see_as_json() {
    for name in ["compliant-store", "gitlab-store", "legacy-store"] {
        let out = cargo_bin_cmd!("shipshape")
            .args(["model", &example(name)])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{name}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        for field in [
            "root",
            "files",
            "ci",
            "packages",
            "compose",
            "app",
            "dockerfiles",
            "alert_files",
            "parse_errors",
            "suppressions",
            "fallback",
        ] {
            assert!(doc.get(field).is_some(), "{name}: no {field}");
        }
        assert!(doc["ci"]["jobs"].is_array(), "{name}");
        // Fields left out of the policy model are left out here too.
        assert!(doc["ci"]["jobs"][0].get("steps").is_none(), "{name}");
    }
    let out = cargo_bin_cmd!("shipshape")
        .args(["model", &example("legacy-store"), "--format", "yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("root: "), "{text}");
    assert!(text.contains("\ndockerfiles:\n"), "{text}");
}

#[test]
fn model_query_evaluates_cel_over_the_model() {
    let legacy = example("legacy-store");
    cargo_bin_cmd!("shipshape")
        .args(["model", &legacy, "--query", "repo.dockerfiles.size()"])
        .assert()
        .code(0)
        .stdout("2\n");
    // The functions policies use are there.
    cargo_bin_cmd!("shipshape")
        .args([
            "model",
            &legacy,
            "--query",
            "repo.dockerfiles.map(d, basename(d.path))",
        ])
        .assert()
        .code(0)
        .stdout("[\n  \"Dockerfile\",\n  \"Dockerfile\"\n]\n");
    // Field names are checked as in policies.
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "model",
            &legacy,
            "--query",
            "repo.dockerfiles.map(d, d.stagez)",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[--query:1:27]"), "{err}");
    assert!(err.contains("did you mean `stages`?"), "{err}");
}

#[test]
fn model_query_that_does_not_compile_exits_2_pointing_into_it() {
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "model",
            &example("legacy-store"),
            "--query",
            "repo.dockerfiles.map(d, d.path",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert!(err.contains("does not compile"), "{err}");
    assert!(err.contains("[--query:1:30]"), "{err}");
}

#[test]
fn schema_model_prints_the_published_model_schema() {
    let published = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/model.schema.json"),
    )
    .expect("docs/model.schema.json");
    cargo_bin_cmd!("shipshape")
        .args(["schema", "model"])
        .assert()
        .code(0)
        .stdout(published);
    cargo_bin_cmd!("shipshape")
        .args(["schema", "nothing"])
        .assert()
        .code(2);
}

/// A policy that selects a field no model type has does not load: the diagnostic points at
/// the name inside the YAML file and suggests the closest field; `options.X` is checked
/// against the declared options.
#[test]
fn policies_selecting_unknown_fields_do_not_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = |violations: &str| {
        format!(
            "id: ACME002\ntitle: t\nseverity: warning\ndocs:\n  what: w\n  why: y\n  fix: f\n\
             options:\n  allowed:\n    type: bool\n    default: true\n    doc: d\n\
             each: repo.dockerfiles.map(d, d.stages[0])\n\
             violations: |\n  [it].filter(s,\n    {violations})\nmessage: 'stage {{{{ v.index }}}}'\n"
        )
    };
    let run = |violations: &str| {
        std::fs::write(dir.path().join("X.yaml"), policy(violations)).expect("write");
        let out = cargo_bin_cmd!("shipshape")
            .args(["rules", "--policy", dir.path().to_str().expect("utf-8")])
            .env("NO_COLOR", "1")
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run("!it.is_finale");
    assert_eq!(code, Some(2), "{err}");
    // (miette wraps the message; the label is one line.)
    assert!(
        err.contains("does not compile: no model type has a"),
        "{err}"
    );
    assert!(
        err.contains("`is_finale`; did you mean `is_final`?"),
        "{err}"
    );
    assert!(err.contains("╰── did you mean `is_final`?"), "{err}");
    // Line 16 of the file, at the name.
    assert!(err.contains("X.yaml:16:9]"), "{err}");
    let (code, err) = run("!it.is_final && options.alowed");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("the policy declares"), "{err}");
    assert!(
        err.contains("no option `alowed`; did you mean `allowed`?"),
        "{err}"
    );
    assert!(err.contains("X.yaml:16:29]"), "{err}");
    // Map keys (`env`), comprehension variables and the policy's own map keys are fine.
    let (code, err) = run(
        "!it.is_final && options.allowed && it.envs.all(e, e.name != '') && \
         [{'at': it.loc, 'why': 1}].all(w, w.why == 1)",
    );
    assert_eq!(code, Some(0), "{err}");
}
