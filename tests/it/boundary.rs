//! The checked root is a boundary: no file outside it is read, whether a symlink the walker
//! finds or a reference a loader follows leads there. A path that leaves the root is a note
//! ("not followed: points outside the repository"); a symlink that stays inside is followed.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::Path;

use shipshape::finding::{RootReport, Severity};

use crate::support::{check, summary};

/// Text of every file outside the root: each line would be quoted in an SS001 if it were read.
const SECRET: &str = "SECRET_MARKER root:x:0:0 {{ [\n";

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// Everything a report can show: findings, notifications and the texts kept for snippets.
fn everything(report: &RootReport) -> String {
    format!("{report:?}")
}

fn notes(report: &RootReport) -> Vec<String> {
    report
        .notifications
        .iter()
        .filter(|n| n.level == Severity::Note)
        .map(|n| format!("{}:{} {}", n.location.file, n.location.line, n.message))
        .collect()
}

/// `<tmp>/repo` is the root; `<tmp>/secret` is outside it.
fn layout() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("secret");
    for rel in [
        "passwd",
        "compose.yaml",
        "ci.yml",
        "wf.yml",
        "action/action.yml",
        "tsconfig.json",
        ".env",
    ] {
        write(&secret, rel, SECRET);
    }
    let root = dir.path().join("repo");
    std::fs::create_dir_all(&root).expect("mkdir");
    (dir, root)
}

#[test]
fn a_symlinked_file_leaving_the_root_is_a_note_and_never_read() {
    let (dir, root) = layout();
    symlink(dir.path().join("secret/passwd"), root.join("Dockerfile")).expect("symlink");
    symlink("../secret/compose.yaml", root.join("docker-compose.yml")).expect("symlink");
    symlink("/etc/passwd", root.join("alerts.yml")).expect("symlink");
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    symlink("../../secret/passwd", root.join("src/app.ts")).expect("symlink");
    symlink("../secret/passwd", root.join("nx.json")).expect("symlink");
    symlink("../secret/passwd", root.join("notes.txt")).expect("symlink");
    let report = check(&root);
    assert!(!everything(&report).contains("SECRET_MARKER"), "{report:?}");
    assert!(!everything(&report).contains("root:x:0:0"), "{report:?}");
    let all = summary(&report);
    assert!(!all.iter().any(|s| s.starts_with("SS001")), "{all:?}");
    let notes = notes(&report);
    for f in [
        "Dockerfile",
        "docker-compose.yml",
        "alerts.yml",
        "src/app.ts",
        "nx.json",
        "notes.txt",
    ] {
        assert!(
            notes.contains(&format!(
                "{f}:1 {f}: not followed: points outside the repository"
            )),
            "{f}: {notes:?}"
        );
    }
}

#[test]
fn a_symlink_that_stays_inside_the_root_is_followed() {
    let (_dir, root) = layout();
    write(&root, "docker/real", "FROM node:20\nUSER root\n");
    symlink("docker/real", root.join("Dockerfile")).expect("symlink");
    symlink("docker", root.join("linked")).expect("symlink");
    write(
        &root,
        "docker-compose.yml",
        "include:\n  - linked/inc.yml\nservices:\n  web:\n    image: nginx:1\n",
    );
    write(
        &root,
        "docker/inc.yml",
        "services:\n  db:\n    image: postgres:16\n    privileged: true\n",
    );
    let report = check(&root);
    let all = summary(&report);
    assert!(all.contains(&"DF005 Dockerfile:2".to_string()), "{all:?}");
    assert!(!all.iter().any(|s| s.starts_with("SS001")), "{all:?}");
    assert!(notes(&report).iter().all(|n| !n.contains("not followed")));
}

#[test]
fn references_leaving_the_root_are_notes_and_never_read() {
    let (dir, root) = layout();
    symlink(dir.path().join("secret"), root.join("linked")).expect("symlink");
    write(
        &root,
        "docker-compose.yml",
        "include:\n  - ../secret/compose.yaml\n  - linked/compose.yaml\nservices:\n  web:\n    image: nginx:1\n    env_file: ../secret/.env\n  api:\n    extends:\n      file: linked/compose.yaml\n      service: a\n",
    );
    write(
        &root,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  call:\n    uses: ./linked/wf.yml\n  up:\n    uses: ./../secret/wf.yml\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./linked/action\n      - uses: ./../secret/action\n",
    );
    write(
        &root,
        ".gitlab-ci.yml",
        "include:\n  - local: ../secret/ci.yml\n  - local: /linked/ci.yml\n  - local: linked/*.yml\njob:\n  script: [echo]\n",
    );
    write(
        &root,
        "tsconfig.json",
        "{ \"extends\": \"./linked/tsconfig.json\" }\n",
    );
    write(
        &root,
        "web/tsconfig.json",
        "{ \"extends\": \"../../secret/tsconfig.json\" }\n",
    );
    write(&root, "src/app.ts", "import x from '@/y';\n");
    let report = check(&root);
    assert!(!everything(&report).contains("SECRET_MARKER"), "{report:?}");
    let all = summary(&report);
    assert!(!all.iter().any(|s| s.starts_with("SS001")), "{all:?}");
    let notes = notes(&report);
    let outside: Vec<&String> = notes
        .iter()
        .filter(|n| n.contains("points outside the repository"))
        .collect();
    for at in [
        "docker-compose.yml:2",
        "docker-compose.yml:3",
        "docker-compose.yml:7",
        "docker-compose.yml:10",
        ".github/workflows/ci.yml:4",
        ".github/workflows/ci.yml:6",
        ".github/workflows/ci.yml:10",
        ".github/workflows/ci.yml:11",
        ".gitlab-ci.yml:2",
        ".gitlab-ci.yml:3",
        "tsconfig.json:1",
        "web/tsconfig.json:1",
    ] {
        assert!(
            outside.iter().any(|n| n.starts_with(&format!("{at} "))),
            "{at}: {notes:?}"
        );
    }
}

#[test]
fn ignore_files_cannot_hide_committed_inputs() {
    let (dir, root) = layout();
    std::fs::write(dir.path().join(".gitignore"), "Dockerfile\n").expect("write");
    write(&root, "Dockerfile", "FROM node:20\nUSER root\n");
    write(&root, "api/Dockerfile", "FROM node:20\nUSER root\n");
    write(&root, ".ignore", "Dockerfile\n");
    write(&root, ".gitignore", "api/\n");
    let all = summary(&check(&root));
    for f in ["Dockerfile", "api/Dockerfile"] {
        assert!(all.contains(&format!("DF005 {f}:2")), "{f}: {all:?}");
    }
}
