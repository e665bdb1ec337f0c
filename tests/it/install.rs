//! The ways shipshape is installed and run besides the binary: the pre-commit hook, shell
//! completions and the man page.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

#[test]
fn pre_commit_hook_checks_the_whole_repository_once() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(path).expect(".pre-commit-hooks.yaml");
    let hooks: Value = serde_saphyr::from_str(&text).expect("YAML");
    assert_eq!(
        hooks,
        serde_json::json!([{
            "id": "shipshape",
            "name": "shipshape",
            "description": "Check CI, Dockerfiles, Compose files, alert rules and app facts against CEL policies.",
            "entry": "shipshape check",
            "language": "rust",
            "pass_filenames": false,
            "always_run": true,
            "require_serial": true,
        }])
    );
}

#[test]
fn completions_for_every_shell() {
    let bash = cargo_bin_cmd!("shipshape")
        .args(["completions", "bash"])
        .output()
        .expect("runs");
    assert_eq!(bash.status.code(), Some(0));
    let text = String::from_utf8(bash.stdout).expect("utf-8");
    assert!(text.contains("complete -F _shipshape"), "{text}");
    // Subcommands and their flags are completed.
    assert!(text.contains("check"));
    assert!(text.contains("--fail-on"));
    for (shell, marker) in [
        ("zsh", "#compdef shipshape"),
        ("fish", "complete -c shipshape"),
        ("elvish", "edit:completion:arg-completer[shipshape]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = cargo_bin_cmd!("shipshape")
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("check"), "{shell}");
    }
    cargo_bin_cmd!("shipshape")
        .args(["completions", "tcsh"])
        .assert()
        .code(2);
}

#[test]
fn man_page_is_roff() {
    let out = cargo_bin_cmd!("shipshape")
        .arg("man")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with(".ie \\n(.g .ds Aq"), "{text}");
    assert!(
        text.contains(&format!(
            ".TH shipshape 1  \"shipshape {}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert!(text.contains(".SH NAME"));
    assert!(text.contains(".SH SUBCOMMANDS"));
    assert!(text.contains("shipshape\\-check(1)"), "{text}");
    // The pages the main page refers to.
    let out = cargo_bin_cmd!("shipshape")
        .args(["man", "check"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains(&format!(
            ".TH shipshape-check 1  \"shipshape {}\"",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    assert!(text.contains("\\-\\-fail\\-on"), "{text}");
    cargo_bin_cmd!("shipshape")
        .args(["man", "nope"])
        .assert()
        .code(2);
}
