//! Shared helpers: temporary repositories and running checks through the library.

use std::collections::BTreeMap;
use std::path::Path;

use shipshape::finding::RootReport;
use shipshape::policy::PolicySet;
use shipshape::{Settings, check_root};

/// Writes `files` (relative path → contents) under `root`.
pub fn write_tree(root: &Path, files: &BTreeMap<String, String>) {
    for (rel, text) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write fixture");
    }
}

/// The built-in policy set (loaded once per call; cheap).
pub fn builtin() -> PolicySet {
    match PolicySet::load(true, &[]) {
        Ok(s) => s,
        Err(e) => panic!("built-in policies must load: {:?}", miette::Report::new(*e)),
    }
}

/// Checks `root` with the built-in policies and no filter.
pub fn check(root: &Path) -> RootReport {
    check_root(root, "repo", &builtin(), &Settings::default()).expect("root is checkable")
}

/// `RULE file:line` for every finding of a report, sorted.
pub fn summary(report: &RootReport) -> Vec<String> {
    let mut v: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {}:{}", f.rule, f.location.file, f.location.line))
        .collect();
    v.sort();
    v
}

/// Path of the repository's `examples/` directory.
pub fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}
