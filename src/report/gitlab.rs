//! GitLab Code Quality report (`artifacts:reports:codequality`): a JSON array of issues in
//! the subset of the Code Climate format GitLab reads, shown in merge request widgets and
//! diffs.
//!
//! This module owns the mapping of severities onto GitLab's and the issue fingerprints, which
//! GitLab compares between the source and target branches to tell new issues from old ones.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::finding::{Finding, RootReport, Severity};

use super::{Context, FNV_OFFSET, fnv1a, repo_path};

/// Renders `reports` as a Code Quality JSON array: one issue per finding (reports in order,
/// findings in order) with `description` (`RULE: message`), `check_name` (the rule ID),
/// `fingerprint` (see [`fingerprints`]), `severity` (see [`severity`]), `location.path`
/// (relative to the repository root) and `location.lines.begin`, and the Code Climate
/// `type` and `categories` (`Security` for rules tagged `security`, else `Bug Risk`).
pub fn render(reports: &[RootReport], ctx: &Context<'_>) -> Value {
    let prints = fingerprints(reports);
    let mut issues = Vec::new();
    let pairs = reports
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)));
    for ((report, finding), print) in pairs.zip(prints) {
        issues.push(issue(report, finding, print, ctx));
    }
    Value::Array(issues)
}

/// GitLab's severity of a finding: `major` for errors, `minor` for warnings, `info` for
/// notes.
pub fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "major",
        Severity::Warning => "minor",
        Severity::Note => "info",
    }
}

/// One issue.
fn issue(report: &RootReport, finding: &Finding, fingerprint: String, ctx: &Context<'_>) -> Value {
    let security = ctx
        .rule(&finding.rule)
        .is_some_and(|r| r.tags.iter().any(|t| t == "security"));
    json!({
        "type": "issue",
        "description": format!("{}: {}", finding.rule, finding.message),
        "check_name": finding.rule,
        "fingerprint": fingerprint,
        "severity": severity(finding.severity),
        "categories": [if security { "Security" } else { "Bug Risk" }],
        "location": {
            "path": repo_path(report, &finding.location.file),
            "lines": { "begin": finding.location.line.max(1) },
        },
    })
}

/// The fingerprint of every finding of `reports`, in order: 16 hex digits of a hash of the
/// finding's own fingerprint (which survives line shifts), its repository path and its rule,
/// so it is the same from one pipeline to the next. Two findings of different roots that
/// would share one (two roots that are each their own repository, with the same file) are
/// told apart by the root's name, and any remaining duplicate by a counter: every value is
/// unique.
pub fn fingerprints(reports: &[RootReport]) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for report in reports {
        for finding in &report.findings {
            let path = repo_path(report, &finding.location.file);
            let mut hash = FNV_OFFSET;
            for field in [finding.fingerprint.as_str(), &path, &finding.rule] {
                hash = fnv1a(hash, field.as_bytes());
                hash = fnv1a(hash, &[0xff]);
            }
            let mut print = format!("{hash:016x}");
            if !seen.insert(print.clone()) {
                hash = fnv1a(hash, report.root.as_bytes());
                hash = fnv1a(hash, &[0xff]);
                let mut n = 0u64;
                loop {
                    print = format!("{:016x}", fnv1a(hash, &n.to_le_bytes()));
                    if seen.insert(print.clone()) {
                        break;
                    }
                    n += 1;
                }
            }
            out.push(print);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    #[test]
    fn matches_snapshot() {
        let rules = testutil::rules();
        let mut report = testutil::report("services/api");
        report.repo_dir = "services/api".to_string();
        let out = render(&[report], &Context::new(&rules, "0.1.0"));
        insta::assert_json_snapshot!(out);
    }

    #[test]
    fn severities_are_gitlab_ones() {
        let allowed = ["info", "minor", "major", "critical", "blocker"];
        for s in [Severity::Error, Severity::Warning, Severity::Note] {
            assert!(allowed.contains(&severity(s)));
        }
        assert_eq!(severity(Severity::Error), "major");
        assert_eq!(severity(Severity::Warning), "minor");
        assert_eq!(severity(Severity::Note), "info");
    }

    #[test]
    fn fingerprints_are_unique_and_stable() {
        // Two roots that are each their own repository hold the same file with the same
        // findings; a third root inside a repository; and a finding repeated verbatim.
        let a = testutil::report("a");
        let b = testutil::report("b");
        let mut c = testutil::report("c");
        c.repo_dir = "c".to_string();
        c.findings.push(c.findings[0].clone());
        let reports = [a, b, c];
        let prints = fingerprints(&reports);
        assert_eq!(prints.len(), 7);
        let unique: HashSet<&String> = prints.iter().collect();
        assert_eq!(unique.len(), prints.len(), "{prints:?}");
        assert!(
            prints
                .iter()
                .all(|p| p.len() == 16 && p.chars().all(|c| c.is_ascii_hexdigit()))
        );
        // The first root's values do not depend on the others or on its name.
        assert_eq!(fingerprints(&reports[..1]), prints[..2]);
        assert_eq!(fingerprints(&[testutil::report("x")]), prints[..2]);
        // The path inside the repository matters.
        assert_ne!(fingerprints(&reports[2..])[0], prints[0]);
    }
}
