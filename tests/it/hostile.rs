//! Hostile inputs: binary files, invalid UTF-8, oversized files, symlink loops, alias bombs,
//! deep nesting and garbage. Each becomes one SS001 finding (or nothing), nothing panics,
//! and findings from the other files are kept.

use std::collections::BTreeMap;

use crate::support::{check, summary, write_tree};

fn tree(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn every_hostile_file_is_one_ss001_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_tree(
        root,
        &tree(&[
            ("package.json", "{\"name\": \"x\"}\n"),
            ("Dockerfile", "FROM node:20\nUSER root\n"),
            ("docker-compose.yml", "services:\n  a: *undefined_alias\n"),
        ]),
    );
    std::fs::create_dir_all(root.join("bin")).expect("mkdir");
    std::fs::write(
        root.join("bin/Dockerfile"),
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00",
    )
    .expect("write");
    std::fs::write(
        root.join("latin1.Dockerfile"),
        b"FROM node:18-alpine\n# caf\xe9\n",
    )
    .expect("write");
    let big = "# padding\n".repeat(600_000);
    std::fs::write(root.join("big.Dockerfile"), format!("FROM node:20\n{big}")).expect("write");
    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 0..9 {
        let p = if i == 0 {
            "a".to_string()
        } else {
            format!("b{}", i - 1)
        };
        bomb.push_str(&format!(
            "b{i}: &b{i} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
        ));
    }
    std::fs::create_dir_all(root.join(".github/workflows")).expect("mkdir");
    std::fs::write(root.join(".github/workflows/bomb.yml"), bomb).expect("write");
    std::fs::write(root.join(".github/workflows/deep.yml"), "[".repeat(200_000)).expect("write");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("loop.Dockerfile", root.join("loop.Dockerfile"))
            .expect("symlink");
        std::os::unix::fs::symlink(".", root.join("self")).expect("symlink");
    }
    let report = check(root);
    let ss: Vec<String> = summary(&report)
        .into_iter()
        .filter(|s| s.starts_with("SS001"))
        .collect();
    let files: Vec<&str> = ss
        .iter()
        .map(|s| {
            s.split_whitespace()
                .nth(1)
                .expect("loc")
                .split(':')
                .next()
                .expect("file")
        })
        .collect();
    for f in [
        "bin/Dockerfile",
        "latin1.Dockerfile",
        "big.Dockerfile",
        "docker-compose.yml",
        ".github/workflows/bomb.yml",
        ".github/workflows/deep.yml",
    ] {
        assert_eq!(
            files.iter().filter(|x| **x == f).count(),
            1,
            "one SS001 for {f}: {ss:?}"
        );
    }
    #[cfg(unix)]
    assert!(
        files.contains(&"loop.Dockerfile"),
        "symlink loop reported: {ss:?}"
    );
    // The latin-1 file's error is at its second line.
    assert!(
        ss.contains(&"SS001 latin1.Dockerfile:2".to_string()),
        "{ss:?}"
    );
    // The valid Dockerfile is still checked, and no other finding comes from broken files.
    let all = summary(&report);
    assert!(all.contains(&"DF005 Dockerfile:2".to_string()), "{all:?}");
    assert!(
        all.iter()
            .filter(|s| !s.starts_with("SS001"))
            .all(|s| s.contains(" Dockerfile:") || s.contains("package.json")),
        "{all:?}"
    );
    assert_eq!(
        report
            .notifications
            .iter()
            .filter(|n| n.level == shipshape::finding::Severity::Error)
            .count(),
        ss.len()
    );
}

#[test]
fn garbage_never_panics() {
    let samples: Vec<String> = vec![
        String::new(),
        "\u{feff}".into(),
        "FROM".into(),
        "FROM \\\n".into(),
        "RUN <<EOF\n".into(),
        "FROM node\nRUN [\"unterminated\n".into(),
        "FROM node\nRUN echo $(((((\n".into(),
        "FROM node\nCOPY --from= . .\n".into(),
        "FROM node AS\n".into(),
        "# escape=`\nFROM node\nRUN echo `\n  hi\n".into(),
        "FROM ${X:-${Y:-${Z}}}\n".into(),
        "FROM node\nUSER\n".into(),
        "FROM node\nENV\n".into(),
        "ARG A=${A}\nFROM node:$A\n".into(),
        format!("FROM node\nRUN {}\n", "(".repeat(5000)),
        format!("FROM node\nRUN {}\n", "a && ".repeat(3000) + "b"),
        "FROM node\nRUN bash -c \"bash -c 'bash -c \\\"npm ci\\\"'\"\n".into(),
    ];
    for (i, s) in samples.iter().enumerate() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Dockerfile"), s).expect("write");
        std::fs::write(dir.path().join("compose.yaml"), s).expect("write");
        std::fs::create_dir_all(dir.path().join("m")).expect("mkdir");
        std::fs::write(
            dir.path().join("m/rules.yml"),
            format!("groups:\n- rules:\n  - alert: x\n    expr: {s:?}\n"),
        )
        .expect("write");
        let _ = check(dir.path());
        let _ = i;
    }
}

#[test]
fn deeply_nested_github_expressions_are_ss001_not_a_stack_overflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deep_if = format!("{}true{}", "(".repeat(18_000), ")".repeat(18_000));
    let deep_not = format!("${{{{ {}true }}}}", "!".repeat(47_000));
    let workflow = format!(
        "on: pull_request\njobs:\n  a:\n    runs-on: x\n    if: {deep_if}\n    environment: \"{deep_not}\"\n    steps:\n      - run: npm run lint\n"
    );
    write_tree(
        dir.path(),
        &tree(&[
            ("package.json", "{\"scripts\": {\"lint\": \"eslint .\"}}\n"),
            (".github/workflows/a.yml", &workflow),
        ]),
    );
    let report = check(dir.path());
    let ss001: Vec<String> = summary(&report)
        .into_iter()
        .filter(|f| f.starts_with("SS001"))
        .collect();
    assert_eq!(
        ss001,
        [
            "SS001 .github/workflows/a.yml:5",
            "SS001 .github/workflows/a.yml:6"
        ]
    );
}

/// A script the shell parser cannot analyse is a warning notification at the script (also in
/// SARIF), and its job may run anything: no false "no job runs the linter".
#[test]
fn an_unanalysable_script_is_a_notification_not_a_silent_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deep = format!("{}npm run lint; {}}}", "{ ".repeat(40), "}; ".repeat(39));
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"scripts": {"lint": "eslint ."}}"#,
    )
    .expect("write");
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM node:20-alpine\nRUN {deep}\n"),
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join(".github/workflows")).expect("mkdir");
    std::fs::write(
        dir.path().join(".github/workflows/ci.yml"),
        format!(
            "on: pull_request\njobs:\n  checks:\n    runs-on: x\n    steps:\n      - run: \"{deep}\"\n"
        ),
    )
    .expect("write");
    let out = assert_cmd::cargo::cargo_bin_cmd!("shipshape")
        .args([
            "check",
            dir.path().to_str().expect("utf-8"),
            "--format",
            "sarif",
            "--select",
            "CI001",
        ])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    let notes = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    let note = notes
        .as_array()
        .expect("notifications")
        .iter()
        .find(|n| {
            n["message"]["text"]
                .as_str()
                .is_some_and(|m| m.starts_with(".github/workflows/ci.yml: script not analysed"))
        })
        .expect("a notification for the script");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
}

/// A broken file is one SS001 (and one error notification) at its own error; a file that
/// references it (a `uses:` of a local action, a Compose `include:`) gets a note at the
/// reference, not a second SS001; a GitLab glob include that matches a file twice is read once.
#[test]
fn a_broken_referenced_file_is_one_ss001_and_a_note_at_the_reference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_tree(
        root,
        &tree(&[
            ("package.json", "{\"name\": \"x\"}\n"),
            (
                ".github/workflows/ci.yml",
                "on: pull_request\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: ./act\n",
            ),
            ("act/action.yml", "runs: [1,\n"),
            (
                "compose.yml",
                "include:\n  - other.yml\nservices:\n  app:\n    image: node:20\n",
            ),
            ("other.yml", "services:\n  db: [1,\n"),
            (
                ".gitlab-ci.yml",
                "include:\n  - local: ci/*.yml\n  - local: 'ci/a*.yml'\njob:\n  script: [echo]\n",
            ),
            ("ci/a.yml", "a: [1,\n"),
        ]),
    );
    let report = check(root);
    let ss001: Vec<String> = summary(&report)
        .into_iter()
        .filter(|s| s.starts_with("SS001"))
        .collect();
    assert_eq!(
        ss001,
        [
            "SS001 act/action.yml:1",
            "SS001 ci/a.yml:1",
            "SS001 other.yml:2"
        ]
    );
    let errors: Vec<String> = report
        .notifications
        .iter()
        .filter(|n| n.level == shipshape::finding::Severity::Error)
        .map(|n| format!("{}:{}", n.location.file, n.location.line))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    let notes: Vec<String> = report
        .notifications
        .iter()
        .filter(|n| n.level == shipshape::finding::Severity::Note)
        .map(|n| format!("{}:{}", n.location.file, n.location.line))
        .collect();
    assert!(
        notes.contains(&".github/workflows/ci.yml:6".to_string()),
        "{notes:?}"
    );
    assert!(notes.contains(&"compose.yml:2".to_string()), "{notes:?}");
    assert!(notes.contains(&".gitlab-ci.yml:2".to_string()), "{notes:?}");
    assert!(
        !notes.contains(&".gitlab-ci.yml:3".to_string()),
        "{notes:?}"
    );
}

#[test]
fn a_script_of_thousands_of_commands_is_reported_not_modelled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let chain = vec!["npm run lint"; 2_500].join(" && ");
    write_tree(
        dir.path(),
        &tree(&[
            ("package.json", "{\"scripts\": {\"lint\": \"eslint .\"}}\n"),
            (
                ".github/workflows/ci.yml",
                &format!(
                    "on: pull_request\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: {chain}\n"
                ),
            ),
        ]),
    );
    let report = check(dir.path());
    let warned = report.notifications.iter().any(|n| {
        n.location.line == 6
            && n.message
                .contains("2500 commands is more than the 2000 analysed")
    });
    assert!(warned, "{:?}", report.notifications);
    assert!(
        report.findings.iter().all(|f| f.rule != "SS001"),
        "{:?}",
        summary(&report)
    );
}

#[test]
fn a_package_script_the_shell_parser_cannot_read_is_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &tree(&[(
            "package.json",
            "{\"scripts\": {\"lint\": \"eslint .\", \"broken\": \"echo $(\"}}\n",
        )]),
    );
    let report = check(dir.path());
    let notes: Vec<&str> = report
        .notifications
        .iter()
        .filter(|n| n.message.contains("script `"))
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("script `broken` not analysed"),
        "{notes:?}"
    );
}
