//! Configuration files: discovery and precedence, every error with its message and position,
//! `extends` with locked rules, options reaching the policies, and policy directories per
//! root.

use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;

/// A repository whose Dockerfile breaks DF004 (line 1), DF005 (line 2) and DF006 (line 1).
fn repo(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join("Dockerfile"), "FROM node:latest\nUSER root\n").expect("write");
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Runs `check` on `root` with `extra` arguments: exit code, `RULE severity` of each finding
/// of DF004–DF006 and custom rules, and stderr.
fn run(root: &Path, extra: &[&str]) -> (Option<i32>, Vec<String>, String) {
    let out = cargo_bin_cmd!("shipshape")
        .args(["check", root.to_str().expect("utf-8"), "--format", "json"])
        .args(extra)
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let found = doc["roots"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["findings"].as_array().cloned().unwrap_or_default())
        .filter(|f| {
            let r = f["rule"].as_str().unwrap_or("");
            matches!(r, "DF004" | "DF005" | "DF006") || r.starts_with("ACME")
        })
        .map(|f| {
            format!(
                "{} {}",
                f["rule"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or("")
            )
        })
        .collect();
    // miette wraps long messages; the tests read them unwrapped.
    let err = String::from_utf8_lossy(&out.stderr).replace("\n  │ ", " ");
    (out.status.code(), found, err)
}

#[test]
fn discovery_takes_the_first_of_the_three_names_and_flags_override_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    repo(root);
    let (_, all, _) = run(root, &[]);
    assert_eq!(all, ["DF004 error", "DF006 warning", "DF005 error"]);
    write(
        &root.join(".github/shipshape.yaml"),
        "rules: {DF004: {enabled: false}}\n",
    );
    assert_eq!(run(root, &[]).1, ["DF006 warning", "DF005 error"]);
    write(
        &root.join(".shipshape.yaml"),
        "rules: {DF005: {enabled: false}}\n",
    );
    assert_eq!(
        run(root, &[]).1,
        ["DF004 error", "DF006 warning"],
        ".shipshape.yaml comes before .github/shipshape.yaml"
    );
    write(
        &root.join("shipshape.yaml"),
        "rules: {DF006: {enabled: false}}\n",
    );
    assert_eq!(
        run(root, &[]).1,
        ["DF004 error", "DF005 error"],
        "shipshape.yaml comes first"
    );
    assert_eq!(run(root, &["--no-config"]).1, all);
    let other = dir.path().join("elsewhere.yaml");
    write(&other, "rules: {DF004: {severity: note}}\n");
    assert_eq!(
        run(root, &["--config", other.to_str().expect("utf-8")]).1,
        ["DF004 note", "DF006 warning", "DF005 error"],
        "--config replaces the discovered file"
    );
}

/// Each broken configuration, the message it must produce and where (`line:col`).
const ERRORS: &[(&str, &str, &str)] = &[
    (
        "rules: [\n",
        "invalid config: expected mapping start",
        "1:8",
    ),
    (
        "rules:\n  DF005: {enabled: false\n",
        "invalid config: unclosed bracket",
        "2:10",
    ),
    (
        "rulez: {}\n",
        "invalid config: unknown field `rulez`",
        "1:1",
    ),
    (
        "rules:\n  DF005:\n    enabled: \"no\"\n",
        "invalid config",
        "3:14",
    ),
    (
        "rules:\n  DF005:\n    severity: critical\n",
        "invalid config: unknown variant `critical`",
        "3:15",
    ),
    (
        "rules:\n  DF005:\n    colour: red\n",
        "invalid config: unknown field `colour`",
        "3:5",
    ),
    ("exclude: docs\n", "invalid config", "1:10"),
    (
        "rules:\n  DF999:\n    enabled: false\n",
        "unknown rule DF999",
        "2:3",
    ),
    (
        "rules:\n  DF005:\n    options:\n      usr: node\n",
        "rule DF005 has no option usr (its options: user)",
        "4:7",
    ),
    (
        "rules:\n  DF001:\n    options: {x: 1}\n",
        "rule DF001 has no option x (its options: none)",
        "3:15",
    ),
    (
        "rules:\n  DF005:\n    options:\n      user: 5\n",
        "option DF005.user must be a string, not 5",
        "4:7",
    ),
    (
        "rules:\n  DF004:\n    options:\n      allowed: node:20-alpine\n",
        "option DF004.allowed must be a list of strings, not \"node:20-alpine\"",
        "4:7",
    ),
    (
        "rules:\n  DF004:\n    options:\n      allowed: [1, 2]\n",
        "option DF004.allowed must be a list of strings",
        "4:7",
    ),
    (
        "rules:\n  SS002:\n    options:\n      require_until: \"yes\"\n",
        "option SS002.require_until must be true or false",
        "4:7",
    ),
    (
        "rules:\n  AL001:\n    options:\n      ratio: high\n",
        "option AL001.ratio must be a number, not \"high\"",
        "4:7",
    ),
    (
        "rules:\n  df005: {enabled: false}\n  DF005: {severity: note}\n",
        "rule DF005 is configured twice",
        "2:3",
    ),
    ("policies: [mine]\n", "does not exist", "1:12"),
    (
        "exclude: [\"a/{b\"]\n",
        "exclude pattern \"a/{b\" is not a valid glob",
        "1:11",
    ),
    ("extends: nowhere.yaml\n", "extended config", "1:1"),
    (
        "environments:\n  production: []\n",
        "environments.production must name at least one environment",
        "2:3",
    ),
    (
        "environments:\n  staging: [qa, \"--\"]\n",
        "environments.staging: \"--\" is not a name",
        "2:17",
    ),
    (
        "environments:\n  prod: [live]\n",
        "invalid config: unknown field `prod`",
        "2:3",
    ),
    (
        "definitions:\n  backups: [x]\n",
        "unknown definition list backups",
        "2:3",
    ),
    (
        "definitions:\n  health_paths: [/ok, status]\n",
        "definitions.health_paths: \"status\" is not a path starting with `/`",
        "2:23",
    ),
    (
        "definitions:\n  replace: [backup]\n",
        "definitions.replace: \"backup\" is no definition list",
        "2:13",
    ),
];

#[test]
fn every_configuration_error_is_exit_two_with_its_message_and_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    repo(root);
    for (config, message, at) in ERRORS {
        write(&root.join("shipshape.yaml"), config);
        let (code, found, err) = run(root, &[]);
        assert_eq!(code, Some(2), "{config:?} must be refused: {err}");
        assert!(found.is_empty(), "no report on a config error");
        assert!(
            err.contains(message),
            "{config:?}: expected {message:?} in\n{err}"
        );
        assert!(
            err.contains(&format!("shipshape.yaml:{at}]")),
            "{config:?}: expected the position {at} in\n{err}"
        );
    }
}

#[test]
fn an_option_type_that_exists_is_checked_for_integers() {
    // The integer type is checked too, through a user policy that declares one.
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    repo(root);
    write(
        &root.join("policies/ACME001.yaml"),
        "id: ACME001\ntitle: few stages\nseverity: warning\ndocs: {what: w, why: y, fix: f}\noptions:\n  max:\n    type: int\n    default: 1\n    doc: At most this many stages.\nviolations: repo.dockerfiles.filter(d, d.stages.size() > options.max).map(d, d.loc)\nmessage: too many stages\n",
    );
    write(
        &root.join("shipshape.yaml"),
        "policies: [policies]\nrules:\n  ACME001:\n    options: {max: 1.5}\n",
    );
    let (code, _, err) = run(root, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("option ACME001.max must be an integer, not 1.5")
            && err.contains("shipshape.yaml:4:15]"),
        "{err}"
    );
    write(
        &root.join("shipshape.yaml"),
        "policies: [policies]\nrules:\n  ACME001:\n    options: {max: 0}\n",
    );
    assert_eq!(
        run(root, &[]).1,
        [
            "ACME001 warning",
            "DF004 error",
            "DF006 warning",
            "DF005 error"
        ],
        "the option reaches CEL: 1 stage > 0"
    );
}

#[test]
fn unreadable_oversized_bomb_and_non_utf8_configs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    repo(root);
    let (code, _, err) = run(root, &["--config", "/nonexistent/shipshape.yaml"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("cannot read config /nonexistent/shipshape.yaml"),
        "{err}"
    );
    std::fs::write(root.join("shipshape.yaml"), b"rules: {}\n# \xff\xfe\n").expect("write");
    let (code, _, err) = run(root, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("shipshape.yaml: config is not UTF-8 text"),
        "{err}"
    );
    let huge = format!("rules: {{}}\n{}", "# padding\n".repeat(500_000));
    std::fs::write(root.join("shipshape.yaml"), huge).expect("write");
    let (code, _, err) = run(root, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("shipshape.yaml: config is larger than 4 MiB"),
        "{err}"
    );
    // Anchors nested ten wide and eight deep under `options` (values of any type): 10^8 nodes
    // if expanded.
    let mut bomb = String::from(
        "rules:\n  DF005:\n    options:\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    let mut prev = 'a';
    for n in ['b', 'c', 'd', 'e', 'f', 'g', 'h'] {
        bomb.push_str(&format!(
            "      {n}: &{n} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
        prev = n;
    }
    std::fs::write(root.join("shipshape.yaml"), bomb).expect("write");
    let (code, _, err) = run(root, &[]);
    assert_eq!(code, Some(2), "an alias bomb is refused, not expanded");
    assert!(err.contains("invalid config: budget breached"), "{err}");
    std::fs::write(root.join("shipshape.yaml"), "\n  # only a comment\n").expect("write");
    assert_eq!(run(root, &[]).0, Some(1), "an empty config is no config");
}

#[test]
fn extends_chains_cycles_and_depth_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    repo(&root);
    let cfg = root.join("shipshape.yaml");
    // A cycle: a → b → a.
    write(&dir.path().join("a.yaml"), "extends: b.yaml\n");
    write(&dir.path().join("b.yaml"), "extends: a.yaml\n");
    write(&cfg, "extends: ../a.yaml\n");
    let (code, _, err) = run(&root, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("`extends` cycle") && err.contains("b.yaml:1:1]"),
        "{err}"
    );
    // Too deep: c1 → c2 → c3 → c4 → c5.
    for i in 1..5 {
        write(
            &dir.path().join(format!("c{i}.yaml")),
            &format!("extends: c{}.yaml\n", i + 1),
        );
    }
    write(&dir.path().join("c5.yaml"), "rules: {}\n");
    write(&cfg, "extends: ../c1.yaml\n");
    let (code, _, err) = run(&root, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("`extends` chains deeper than 4 files"),
        "{err}"
    );
    // Three files are fine, and settings flow down the chain.
    write(
        &dir.path().join("c2.yaml"),
        "rules: {DF004: {enabled: false}}\n",
    );
    write(
        &cfg,
        "extends: ../c1.yaml\nrules: {DF006: {severity: note}}\n",
    );
    assert_eq!(run(&root, &[]).1, ["DF006 note", "DF005 error"]);
    // An unknown rule in the organisation's file is pointed at there.
    write(
        &dir.path().join("c2.yaml"),
        "\nrules: {DF998: {enabled: false}}\n",
    );
    let (code, _, err) = run(&root, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("unknown rule DF998") && err.contains("c2.yaml:2:9]"),
        "{err}"
    );
}

#[test]
fn locked_rules_refuse_each_loosening_at_the_key_that_tries() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("org.yaml"),
        "rules:\n  DF005:\n    locked: true\n    severity: warning\n    options: {user: app}\n",
    );
    let root = dir.path().join("repo");
    repo(&root);
    let cfg = root.join("shipshape.yaml");
    let cases: &[(&str, &str, &str)] = &[
        (
            "rules:\n  DF005:\n    enabled: false\n",
            "this file may not disable it",
            "4:5",
        ),
        (
            "rules:\n  df005:\n    severity: note\n",
            "this file may not lower its severity",
            "4:5",
        ),
        (
            "rules:\n  DF005:\n    options:\n      user: root\n",
            "this file may not change its option user",
            "5:7",
        ),
        (
            "rules:\n  DF005:\n    locked: false\n",
            "this file may not unlock it",
            "4:5",
        ),
    ];
    for (rules, message, at) in cases {
        write(&cfg, &format!("extends: ../org.yaml\n{rules}"));
        let (code, _, err) = run(&root, &[]);
        assert_eq!(code, Some(2), "{rules:?}: {err}");
        assert!(
            err.contains("rule DF005 is locked by")
                && err.contains("org.yaml")
                && err.contains(message),
            "{rules:?}: {err}"
        );
        assert!(
            err.contains(&format!("shipshape.yaml:{at}]")),
            "{rules:?}: {err}"
        );
    }
    // Tightening is allowed: a higher severity, the same options, an explicit enable.
    write(
        &cfg,
        "extends: ../org.yaml\nrules:\n  DF005:\n    enabled: true\n    severity: error\n    options: {user: app}\n",
    );
    let (code, found, err) = run(&root, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(found.contains(&"DF005 error".to_string()), "{found:?}");
    // Without a change the organisation's settings apply.
    write(&cfg, "extends: ../org.yaml\n");
    let (_, found, _) = run(&root, &[]);
    assert!(found.contains(&"DF005 warning".to_string()), "{found:?}");
    // Environment names of the organisation can be added to, not removed.
    write(
        &dir.path().join("org.yaml"),
        "rules:\n  DF005:\n    locked: true\n    severity: warning\n    options: {user: app}\nenvironments:\n  production: [production, live]\n",
    );
    write(
        &cfg,
        "extends: ../org.yaml\nenvironments:\n  production: [production]\n",
    );
    let (code, _, err) = run(&root, &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("environments.production of")
            && err.contains("names \"live\": this file may add names, not remove them")
            && err.contains("shipshape.yaml:3:3]"),
        "{err}"
    );
    write(
        &cfg,
        "extends: ../org.yaml\nenvironments:\n  production: [production, live, customer-facing]\n",
    );
    assert_eq!(run(&root, &[]).0, Some(1), "adding a name is fine");
    write(
        &dir.path().join("org.yaml"),
        "rules:\n  DF005:\n    locked: true\n    severity: warning\n    options: {user: app}\n",
    );
    // The repository's excludes do not drop the findings of locked rules.
    write(&cfg, "extends: ../org.yaml\nexclude: [Dockerfile]\n");
    let (_, found, _) = run(&root, &[]);
    assert_eq!(
        found,
        ["DF005 warning"],
        "only the locked rule survives the exclude"
    );
    // Nor do inline suppressions, which say so.
    write(&cfg, "extends: ../org.yaml\n");
    std::fs::write(
        root.join("Dockerfile"),
        "FROM node:latest\n# shipshape: ignore[DF005] entrypoint drops privileges\nUSER root\n",
    )
    .expect("write");
    let (_, found, _) = run(&root, &[]);
    assert!(found.contains(&"DF005 warning".to_string()), "{found:?}");
    let out = cargo_bin_cmd!("shipshape")
        .args(["check", root.to_str().expect("utf-8"), "--color", "never"])
        .output()
        .expect("runs");
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("rule DF005 is locked by")
            && human.contains("inline suppressions do not apply to it"),
        "{human}"
    );
    repo(&root);
    // The organisation's own excludes do.
    write(
        &dir.path().join("org.yaml"),
        "rules:\n  DF005:\n    locked: true\n    severity: warning\nexclude: [Dockerfile]\n",
    );
    write(&cfg, "extends: ../org.yaml\n");
    let (_, found, _) = run(&root, &[]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn policy_directories_of_a_config_apply_to_its_root_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    repo(&a);
    repo(&b);
    write(
        &a.join("policies/ACME002.yaml"),
        "id: ACME002\ntitle: no latest\nseverity: error\ndocs: {what: w, why: y, fix: f}\neach: repo.dockerfiles\nviolations: it.stages.filter(s, s.from.kind == 'image' && s.from.image.tag == 'latest').map(s, s.from)\nmessage: latest\n",
    );
    write(&a.join("shipshape.yaml"), "policies: [policies]\n");
    write(
        &b.join("shipshape.yaml"),
        "rules: {ACME002: {enabled: false}}\n",
    );
    let (code, _, err) = run(&a, &[]);
    assert_eq!(code, Some(1), "{err}");
    let (code, _, err) = run(&b, &[]);
    assert_eq!(code, Some(2), "ACME002 is unknown where no config loads it");
    assert!(err.contains("unknown rule ACME002"), "{err}");
    write(&b.join("shipshape.yaml"), "rules: {}\n");
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            a.to_str().expect("utf-8"),
            b.to_str().expect("utf-8"),
        ])
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let custom = |i: usize| {
        doc["roots"][i]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "ACME002")
            .count()
    };
    assert_eq!((custom(0), custom(1)), (1, 0));
    // SARIF describes the custom rule once, in the run that can report it.
    let out = cargo_bin_cmd!("shipshape")
        .args([
            "check",
            a.to_str().expect("utf-8"),
            b.to_str().expect("utf-8"),
        ])
        .args(["--format", "sarif", "--select", "ACME002"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let rule_ids: Vec<&str> = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(rule_ids.contains(&"ACME002"), "{rule_ids:?}");
}

#[test]
fn environment_names_decide_which_deploy_jobs_the_cd_rules_judge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(&root.join("package.json"), "{\"name\": \"x\"}");
    write(
        &root.join(".github/workflows/deploy.yml"),
        "name: deploy\non:\n  push:\n    branches: [main]\njobs:\n  ship:\n    runs-on: ubuntu-latest\n    environment: customer-facing\n    steps:\n      - run: ./deploy.sh\n",
    );
    let cd = |root: &Path| {
        let out = cargo_bin_cmd!("shipshape")
            .args(["check", root.to_str().expect("utf-8"), "--format", "json"])
            .args(["--select", "CD004,CD005"])
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        doc["roots"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| format!("{} {}", f["rule"].as_str().unwrap_or(""), f["line"]))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        cd(root),
        ["CD004 5"],
        "by default `customer-facing` is no production: CD004 misses a production job"
    );
    write(
        &root.join("shipshape.yaml"),
        "environments:\n  production: [customer-facing]\n",
    );
    assert_eq!(
        cd(root),
        ["CD004 3", "CD005 6"],
        "configured as production, the job deploys on push (CD004) with no backup (CD005)"
    );
}

/// `RULE line message` of each finding of `rules` on `root`.
fn findings(root: &Path, rules: &str) -> Vec<String> {
    let out = cargo_bin_cmd!("shipshape")
        .args(["check", root.to_str().expect("utf-8"), "--format", "json"])
        .args(["--select", rules])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    doc["roots"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap_or(""),
                f["line"],
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn configured_backup_and_migration_commands_reach_the_cd_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(&root.join("package.json"), "{\"name\": \"x\"}");
    write(
        &root.join(".github/workflows/deploy.yml"),
        "name: deploy\non:\n  workflow_dispatch: {}\njobs:\n  ship:\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - run: ./scripts/snapshot-db.sh\n      - run: npx prisma migrate deploy\n      - run: bash scripts/db-upgrade.sh\n",
    );
    let none: Vec<String> = Vec::new();
    let default = findings(root, "CD005,CD006");
    assert_eq!(default.len(), 2, "{default:?}");
    assert!(default[0].starts_with("CD005 5 "), "{default:?}");
    assert!(default[1].starts_with("CD006 10 "), "{default:?}");
    write(
        &root.join("shipshape.yaml"),
        "definitions:\n  backup_commands: [./scripts/snapshot-db.sh]\n",
    );
    assert_eq!(
        findings(root, "CD005,CD006"),
        none,
        "the snapshot script is a backup, taken before the migration"
    );
    // An extra migration command is a migration: after the backup it is fine, before it not.
    write(
        &root.join("shipshape.yaml"),
        "definitions:\n  backup_commands: [./scripts/snapshot-db.sh]\n  migration_commands: [scripts/db-upgrade.sh]\n",
    );
    assert_eq!(findings(root, "CD005,CD006"), none);
    write(
        &root.join(".github/workflows/deploy.yml"),
        "name: deploy\non:\n  workflow_dispatch: {}\njobs:\n  ship:\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - run: bash scripts/db-upgrade.sh\n      - run: ./scripts/snapshot-db.sh\n",
    );
    let found = findings(root, "CD005,CD006");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("CD006 9 "), "{found:?}");
    // Replacing the list drops the default `pg_dump`.
    write(
        &root.join(".github/workflows/deploy.yml"),
        "name: deploy\non:\n  workflow_dispatch: {}\njobs:\n  ship:\n    runs-on: ubuntu-latest\n    environment: production\n    steps:\n      - run: pg_dump -Fc app > db.dump\n",
    );
    write(&root.join("shipshape.yaml"), "");
    assert_eq!(findings(root, "CD005"), none);
    write(
        &root.join("shipshape.yaml"),
        "definitions:\n  replace: [backup_commands]\n  backup_commands: [./scripts/snapshot-db.sh]\n",
    );
    let found = findings(root, "CD005");
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn a_configured_health_path_counts_for_ob006() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        &root.join("package.json"),
        "{\"dependencies\": {\"express\": \"4.0.0\", \"ioredis\": \"5.0.0\", \"pg\": \"8.0.0\"}}",
    );
    write(
        &root.join("src/server.ts"),
        "import express from 'express';\nimport { Pool } from 'pg';\nimport Redis from 'ioredis';\nconst app = express();\napp.get('/status', async (req, res) => { await new Pool().query('SELECT 1'); await new Redis().ping(); res.send('ok'); });\n",
    );
    assert_eq!(
        findings(root, "OB006"),
        ["OB006 1 no /health route: expected one that checks the database and Redis"]
    );
    write(
        &root.join("shipshape.yaml"),
        "definitions:\n  health_paths: [/status]\n",
    );
    assert_eq!(findings(root, "OB006"), Vec::<String>::new());
}

/// The published schema, `docs/shipshape.schema.json`, is what `shipshape schema config`
/// prints (regenerate with `SHIPSHAPE_BLESS=1 cargo test`).
#[test]
fn the_published_schema_is_in_sync_and_accepts_every_documented_config() {
    let set = crate::support::builtin();
    let want = format!(
        "{}\n",
        serde_json::to_string_pretty(&shipshape::config::json_schema(&set)).expect("json")
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = dir.join("docs/shipshape.schema.json");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
            std::fs::write(&path, &want).expect("write the schema");
        } else {
            panic!("docs/shipshape.schema.json is out of date: run `SHIPSHAPE_BLESS=1 cargo test`");
        }
    }
    let schema: serde_json::Value = serde_json::from_str(&want).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    // Every YAML block of the configuration docs and of the README's adoption steps is a
    // configuration the schema and shipshape itself accept.
    let mut blocks = 0;
    for doc in ["docs/configuration.md", "README.md"] {
        let text = std::fs::read_to_string(dir.join(doc)).expect("doc");
        let mut in_block: Option<String> = None;
        let mut fence = 0;
        for line in text.lines() {
            let t = line.trim_start();
            match in_block.as_mut() {
                None if t == "```yaml" => {
                    fence = line.len() - t.len();
                    in_block = Some(String::new());
                }
                Some(b) if t == "```" => {
                    let block = std::mem::take(b);
                    in_block = None;
                    let value: serde_json::Value =
                        serde_saphyr::from_str(&block).expect("the block is YAML");
                    let is_config = value.as_object().is_some_and(|o| {
                        o.contains_key("rules")
                            || o.contains_key("extends")
                            || o.contains_key("environments")
                            || o.contains_key("definitions")
                    });
                    if !is_config {
                        continue;
                    }
                    let errors: Vec<String> = validator
                        .iter_errors(&value)
                        .map(|e| e.to_string())
                        .collect();
                    assert!(errors.is_empty(), "{doc}: {block}\n{errors:?}");
                    if !value.as_object().is_some_and(|o| o.contains_key("extends")) {
                        let tmp = tempfile::tempdir().expect("tempdir");
                        let cfg = tmp.path().join("shipshape.yaml");
                        std::fs::write(&cfg, block.replace("./policies", ".")).expect("write");
                        let checked = shipshape::config::read(&cfg)
                            .and_then(|c| shipshape::config::validate(&c, &set));
                        assert!(checked.is_ok(), "{doc}: {block}\n{checked:?}");
                    }
                    blocks += 1;
                }
                Some(b) => {
                    let strip = fence.min(line.len() - t.len());
                    b.push_str(&line[strip..]);
                    b.push('\n');
                }
                None => {}
            }
        }
    }
    assert!(
        blocks >= 4,
        "the documented configurations were found: {blocks}"
    );
}

#[test]
fn an_extended_file_that_is_no_config_is_refused_without_quoting_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    repo(&root);
    for (name, text) in [
        ("passwd", "root:x:0:0:SECRET_MARKER:/root:/bin/bash\n"),
        ("keys", "SECRET_MARKER: 1\n"),
        ("list", "- SECRET_MARKER\n- [\n"),
    ] {
        write(&dir.path().join(name), text);
        write(
            &root.join("shipshape.yaml"),
            &format!("extends: ../{name}\n"),
        );
        let (code, _, err) = run(&root, &[]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(!err.contains("SECRET_MARKER"), "{name}: {err}");
        assert!(err.contains("is not a shipshape config"), "{name}: {err}");
        assert!(err.contains("shipshape.yaml:1:1]"), "{name}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn a_discovered_config_that_is_a_symlink_out_of_the_root_is_refused_unread() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    repo(&root);
    write(
        &dir.path().join("passwd"),
        "root:x:0:0:SECRET_MARKER:/root:/bin/bash\n",
    );
    std::os::unix::fs::symlink("../passwd", root.join("shipshape.yaml")).expect("symlink");
    let (code, _, err) = run(&root, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(!err.contains("SECRET_MARKER"), "{err}");
    assert!(
        err.contains("not followed: points outside the repository"),
        "{err}"
    );
    // Given explicitly, the same file is the user's choice: read (and not a config).
    write(&dir.path().join("org.yaml"), "rules: {}\n");
    let org = dir.path().join("org.yaml");
    let (code, _, err) = run(&root, &["--config", org.to_str().expect("utf-8")]);
    assert_eq!(code, Some(1), "{err}");
}
