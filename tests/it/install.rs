//! The ways shipshape is installed and run besides the binary: the pre-commit hook.

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
