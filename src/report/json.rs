//! JSON report for scripts: a small, documented and versioned format (see
//! `docs/json-format.md`), independent of SARIF.
//!
//! Versioning promise: adding fields keeps [`JSON_SCHEMA_VERSION`]; removing, renaming or
//! changing the meaning or type of a field increments it.

use serde_json::{Value, json};

use crate::finding::{Finding, Notification, RootReport};

use super::{Summary, summarize};

/// The version of the JSON report format, written as `schema_version`.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// Renders `reports` as the versioned JSON report:
///
/// ```json
/// {"schema_version": 1,
///  "tool": {"name": "shipshape", "version": "0.1.0"},
///  "roots": [{"root": ".", "findings": [...], "notifications": [...], "summary": {...}}],
///  "summary": {"errors": 0, "warnings": 0, "notes": 0, "ignored": 0}}
/// ```
///
/// Roots, findings and notifications keep the order given. Every field is always present and
/// never `null`; `docs/json-format.md` describes each one.
pub fn render(reports: &[RootReport], tool_version: &str) -> Value {
    let roots: Vec<Value> = reports.iter().map(root).collect();
    json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": { "name": "shipshape", "version": tool_version },
        "roots": roots,
        "summary": summary(&summarize(reports)),
    })
}

/// The entry of one root.
fn root(report: &RootReport) -> Value {
    let findings: Vec<Value> = report.findings.iter().map(finding).collect();
    let notifications: Vec<Value> = report.notifications.iter().map(notification).collect();
    let suppressed: Vec<Value> = report
        .suppressed
        .iter()
        .map(|(f, why)| {
            let mut v = finding(f);
            if let Some(o) = v.as_object_mut() {
                o.insert("justification".into(), Value::String(why.clone()));
            }
            v
        })
        .collect();
    json!({
        "root": report.root,
        "findings": findings,
        "suppressed": suppressed,
        "notifications": notifications,
        "policy_failures": report.policy_failures,
        "summary": summary(&summarize(std::slice::from_ref(report))),
    })
}

/// The entry of one finding.
fn finding(finding: &Finding) -> Value {
    let loc = &finding.location;
    json!({
        "rule": finding.rule,
        "severity": finding.severity.as_str(),
        "message": finding.message,
        "file": loc.file,
        "line": loc.line,
        "column": loc.col,
        "end_line": loc.end_line,
        "end_column": loc.end_col,
        "fingerprint": finding.fingerprint,
    })
}

/// The entry of one tool notification.
fn notification(notification: &Notification) -> Value {
    json!({
        "level": notification.level.as_str(),
        "message": notification.message,
        "file": notification.location.file,
        "line": notification.location.line,
    })
}

/// The counts object of a summary.
fn summary(summary: &Summary) -> Value {
    json!({
        "errors": summary.errors,
        "warnings": summary.warnings,
        "notes": summary.notes,
        "ignored": summary.ignored,
        "suppressed": summary.suppressed,
        "baselined": summary.baselined,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::report::testutil;

    #[test]
    fn document_has_version_tool_and_roots() {
        let out = render(&[testutil::report(".")], "0.1.0");
        assert_eq!(out["schema_version"], 1);
        assert_eq!(
            out["tool"],
            json!({"name": "shipshape", "version": "0.1.0"})
        );
        let root = &out["roots"][0];
        assert_eq!(root["root"], ".");
        let first = &root["findings"][0];
        let report = testutil::report(".");
        assert_eq!(
            first,
            &json!({
                "rule": "DF005",
                "severity": "error",
                "message": "The image runs as root.",
                "file": "app/Dockerfile",
                "line": 3,
                "column": 6,
                "end_line": 3,
                "end_column": 10,
                "fingerprint": report.findings[0].fingerprint,
            })
        );
        assert_eq!(
            root["notifications"],
            json!([{
                "level": "error",
                "message": "could not load `broken.yml`: invalid YAML",
                "file": "ci/broken.yml",
                "line": 4,
            }])
        );
    }

    #[test]
    fn summaries_count_per_root_and_in_total() {
        let mut second = testutil::report("other");
        second.findings.push(testutil::finding(
            "DF001",
            Severity::Note,
            "Dockerfile",
            (1, 1, 1, 1),
            "A note.",
        ));
        second.ignored = 5;
        let out = render(&[testutil::report("."), second], "0.1.0");
        assert_eq!(
            out["roots"][0]["summary"],
            json!({"errors": 1, "warnings": 1, "notes": 0, "ignored": 2, "suppressed": 0, "baselined": 0})
        );
        assert_eq!(
            out["roots"][1]["summary"],
            json!({"errors": 1, "warnings": 1, "notes": 1, "ignored": 5, "suppressed": 0, "baselined": 0})
        );
        assert_eq!(
            out["summary"],
            json!({"errors": 2, "warnings": 2, "notes": 1, "ignored": 7, "suppressed": 0, "baselined": 0})
        );
    }

    #[test]
    fn empty_input_is_a_valid_document() {
        let out = render(&[], "0.1.0");
        assert_eq!(out["roots"], json!([]));
        assert_eq!(
            out["summary"],
            json!({"errors": 0, "warnings": 0, "notes": 0, "ignored": 0, "suppressed": 0, "baselined": 0})
        );
    }
}
