//! SARIF 2.1.0 report, in the shape GitHub code scanning accepts: one run per checked root,
//! every rule described in `tool.driver.rules`, one result per finding and one tool execution
//! notification per input that could not be loaded or was skipped.
//!
//! The output never contains `null`: optional properties are left out instead.

use serde_json::{Map, Value, json};

use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::location::Location;
use crate::policy::meta::RuleMeta;

/// The JSON schema the output declares in `$schema`.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The tool's home page, reported as `tool.driver.informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/shipshape-dev/shipshape";
/// The `uriBaseId` every artifact location is relative to.
pub const SRCROOT: &str = "%SRCROOT%";

/// Renders `reports` as a SARIF 2.1.0 log with one run per report.
///
/// `rules` is listed, in the order given, as every run's `tool.driver.rules`; each result's
/// `ruleIndex` is its rule's position there (left out for a rule missing from `rules`).
/// `tool_version` is reported as the driver's `version` and `semanticVersion`.
///
/// `originalUriBaseIds.%SRCROOT%` is the `file://` URI of the report's root made absolute
/// with [`std::fs::canonicalize`]; it is left out when the root cannot be resolved, so the
/// output depends on the file system only there.
pub fn render(reports: &[RootReport], rules: &[RuleMeta], tool_version: &str) -> Value {
    let driver_rules: Vec<Value> = rules.iter().map(rule_descriptor).collect();
    let runs: Vec<Value> = reports
        .iter()
        .map(|report| run(report, rules, &driver_rules, tool_version))
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": runs,
    })
}

/// One run: the results and notifications of `report`.
fn run(report: &RootReport, rules: &[RuleMeta], driver_rules: &[Value], version: &str) -> Value {
    let mut results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| result(finding, rules))
        .collect();
    // Suppressed findings are only present when asked for (`--show-suppressed`); they carry
    // an in-source suppression with its justification.
    for (finding, justification) in &report.suppressed {
        let mut r = result(finding, rules);
        if let Value::Object(o) = &mut r {
            o.insert(
                "suppressions".to_string(),
                json!([{ "kind": "inSource", "justification": justification }]),
            );
        }
        results.push(r);
    }
    let notifications: Vec<Value> = report.notifications.iter().map(notification).collect();

    let mut run = Map::new();
    run.insert(
        "tool".to_string(),
        json!({
            "driver": {
                "name": "shipshape",
                "version": version,
                "semanticVersion": version,
                "informationUri": INFORMATION_URI,
                "rules": driver_rules,
            }
        }),
    );
    run.insert(
        "automationDetails".to_string(),
        json!({ "id": automation_id(&report.root) }),
    );
    if let Some(uri) = root_uri(&report.root) {
        run.insert(
            "originalUriBaseIds".to_string(),
            json!({ SRCROOT: { "uri": uri } }),
        );
    }
    run.insert(
        "invocations".to_string(),
        json!([{
            "executionSuccessful": report.policy_failures == 0,
            "toolExecutionNotifications": notifications,
        }]),
    );
    run.insert("columnKind".to_string(), json!("unicodeCodePoints"));
    run.insert("results".to_string(), Value::Array(results));
    Value::Object(run)
}

/// The web address of a built-in rule's section of the rule reference (`docs/rules.md`).
pub fn rule_reference_uri(id: &str) -> String {
    format!(
        "{INFORMATION_URI}/blob/main/docs/rules.md#{}",
        id.to_ascii_lowercase()
    )
}

/// The `reportingDescriptor` of one rule (`helpUri` only when the rule has one).
fn rule_descriptor(rule: &RuleMeta) -> Value {
    let mut d = json!({
        "id": rule.id,
        "name": pascal_case(&rule.title, &rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": full_description(rule) },
        "help": {
            "text": rule.plain_text(),
            "markdown": rule.markdown(),
        },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": rule.tags,
            "precision": "very-high",
            "problem.severity": problem_severity(rule.severity),
            "security-severity": security_severity(rule),
        },
    });
    if let (Some(uri), Some(o)) = (&rule.help_uri, d.as_object_mut()) {
        o.insert("helpUri".into(), json!(uri));
    }
    d
}

/// The rule's `fullDescription`: what it checks, or its title when that is undocumented.
fn full_description(rule: &RuleMeta) -> &str {
    let what = rule.docs.what.trim();
    if what.is_empty() { &rule.title } else { what }
}

/// One `result` for `finding`.
fn result(finding: &Finding, rules: &[RuleMeta]) -> Value {
    let mut result = Map::new();
    result.insert("ruleId".to_string(), json!(finding.rule));
    if let Some(index) = rules.iter().position(|r| r.id == finding.rule) {
        result.insert("ruleIndex".to_string(), json!(index));
    }
    result.insert("level".to_string(), json!(level(finding.severity)));
    result.insert("message".to_string(), json!({ "text": finding.message }));
    result.insert(
        "locations".to_string(),
        json!([{
            "physicalLocation": {
                "artifactLocation": artifact_location(&finding.location.file),
                "region": region(&finding.location),
            }
        }]),
    );
    result.insert(
        "partialFingerprints".to_string(),
        json!({ "primaryLocationLineHash": finding.fingerprint }),
    );
    Value::Object(result)
}

/// One `toolExecutionNotification` for `notification`.
fn notification(notification: &Notification) -> Value {
    json!({
        "level": level(notification.level),
        "message": { "text": notification.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact_location(&notification.location.file),
                "region": { "startLine": notification.location.line.max(1) },
            }
        }],
    })
}

/// The `artifactLocation` of `file`, relative to `%SRCROOT%`.
fn artifact_location(file: &str) -> Value {
    json!({ "uri": relative_uri(file), "uriBaseId": SRCROOT })
}

/// The SARIF region of `location`: every value at least 1, and the end never before the
/// start (an end before the start is moved onto the start).
fn region(location: &Location) -> Value {
    let start_line = location.line.max(1);
    let start_col = location.col.max(1);
    let end_line = location.end_line.max(1);
    let end_col = location.end_col.max(1);
    let (end_line, end_col) = if (end_line, end_col) < (start_line, start_col) {
        (start_line, start_col)
    } else {
        (end_line, end_col)
    };
    json!({
        "startLine": start_line,
        "startColumn": start_col,
        "endLine": end_line,
        "endColumn": end_col,
    })
}

/// The SARIF `level` of a severity.
fn level(severity: Severity) -> &'static str {
    severity.as_str()
}

/// GitHub's `problem.severity` of a severity.
fn problem_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "recommendation",
    }
}

/// The rule's effective `security-severity`, formatted with one decimal (`"7.0"`) and kept
/// within 0.0–10.0 (a value that is not a number falls back to the default by severity).
fn security_severity(rule: &RuleMeta) -> String {
    let value = rule.effective_security_severity();
    let value = if value.is_finite() {
        value.clamp(0.0, 10.0)
    } else {
        RuleMeta {
            security_severity: None,
            ..rule.clone()
        }
        .effective_security_severity()
    };
    format!("{value:.1}")
}

/// `title` in PascalCase: each run of letters and digits starts with a capital, everything
/// else is dropped ("runs as a non-root user" → "RunsAsANonRootUser"). Falls back to `id`
/// when nothing is left.
pub fn pascal_case(title: &str, id: &str) -> String {
    let mut out = String::new();
    for word in title.split(|c: char| !c.is_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() { id.to_string() } else { out }
}

/// `file` as a relative URI reference: forward slashes, no leading `./`, and characters that
/// may not appear in a URI path percent-encoded.
fn relative_uri(file: &str) -> String {
    let slashed = file.replace('\\', "/");
    let mut path = slashed.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    percent_encode_path(path)
}

/// Percent-encodes every byte of `path` that is not allowed verbatim in a URI path segment
/// (RFC 3986 `pchar`) or is not a `/`.
fn percent_encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let verbatim = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b);
        if verbatim {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `file://` URI, ending in `/`, of `root` made absolute; `None` when it cannot be
/// resolved or is not valid Unicode.
fn root_uri(root: &str) -> Option<String> {
    let root = if root.is_empty() { "." } else { root };
    let absolute = std::fs::canonicalize(root).ok()?;
    let text = absolute.to_str()?;
    // Windows verbatim paths (`\\?\C:\x`) lose their prefix; separators become `/`.
    let text = text
        .strip_prefix(r"\\?\")
        .unwrap_or(text)
        .replace('\\', "/");
    let mut uri = String::from("file://");
    if !text.starts_with('/') {
        uri.push('/');
    }
    uri.push_str(&percent_encode_path(&text));
    if !uri.ends_with('/') {
        uri.push('/');
    }
    Some(uri)
}

/// The `automationDetails.id` of a run for `root`: `shipshape/`, the root's path components
/// (`.` and empty ones dropped, characters other than letters, digits, `.`, `_` and `-`
/// replaced by `_`) and a closing `/`, e.g. `shipshape/examples/compliant/`. The trailing `/`
/// makes the whole id GitHub's analysis category, distinct per root.
pub fn automation_id(root: &str) -> String {
    let mut id = String::from("shipshape/");
    for part in root.split(['/', '\\']) {
        if part.is_empty() || part == "." {
            continue;
        }
        id.extend(part.chars().map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        }));
        id.push('/');
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    fn has_null(value: &Value) -> bool {
        match value {
            Value::Null => true,
            Value::Array(items) => items.iter().any(has_null),
            Value::Object(map) => map.values().any(has_null),
            _ => false,
        }
    }

    #[test]
    fn log_has_schema_version_and_one_run_per_root() {
        let reports = [
            testutil::report("."),
            testutil::report("examples/compliant"),
        ];
        let log = render(&reports, &testutil::rules(), "1.2.3");
        assert_eq!(log["$schema"], SARIF_SCHEMA);
        assert_eq!(log["version"], "2.1.0");
        let runs = log["runs"].as_array().cloned().unwrap_or_default();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0]["automationDetails"]["id"], "shipshape/");
        assert_eq!(
            runs[1]["automationDetails"]["id"],
            "shipshape/examples/compliant/"
        );
        assert_eq!(runs[0]["columnKind"], "unicodeCodePoints");
        let driver = &runs[0]["tool"]["driver"];
        assert_eq!(driver["name"], "shipshape");
        assert_eq!(driver["version"], "1.2.3");
        assert_eq!(driver["semanticVersion"], "1.2.3");
        assert_eq!(driver["informationUri"], INFORMATION_URI);
        assert!(!has_null(&log));
    }

    #[test]
    fn rules_are_described_in_given_order() {
        let log = render(&[testutil::report(".")], &testutil::rules(), "0.1.0");
        let rules = &log["runs"][0]["tool"]["driver"]["rules"];
        assert_eq!(rules[0]["id"], "DF001");
        let df005 = &rules[1];
        assert_eq!(df005["id"], "DF005");
        assert_eq!(df005["name"], "RunsAsANonRootUser");
        assert_eq!(df005["shortDescription"]["text"], "runs as a non-root user");
        assert_eq!(
            df005["fullDescription"]["text"],
            "Checks that the image runs as a non-root user."
        );
        assert!(
            df005["help"]["markdown"]
                .as_str()
                .is_some_and(|m| m.starts_with("# DF005"))
        );
        assert!(
            df005["help"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("Fix:"))
        );
        assert!(
            df005["helpUri"]
                .as_str()
                .is_some_and(|u| u.ends_with("docs/rules.md#df005"))
        );
        assert_eq!(df005["defaultConfiguration"]["level"], "error");
        let props = &df005["properties"];
        assert_eq!(props["tags"], json!(["docker", "security"]));
        assert_eq!(props["precision"], "very-high");
        assert_eq!(props["problem.severity"], "error");
        assert_eq!(props["security-severity"], "7.0");
        assert_eq!(rules[0]["properties"]["problem.severity"], "recommendation");
        assert_eq!(rules[0]["properties"]["security-severity"], "1.0");
        assert_eq!(rules[2]["properties"]["security-severity"], "4.0");
        let mut bare = testutil::rule("X1", "has a title", Severity::Warning);
        bare.docs.what.clear();
        assert_eq!(full_description(&bare), "has a title");
    }

    #[test]
    fn security_severity_uses_policy_value() {
        let mut rule = testutil::rule("X1", "x", Severity::Error);
        rule.security_severity = Some(8.25);
        assert_eq!(security_severity(&rule), "8.2");
        rule.security_severity = Some(42.0);
        assert_eq!(security_severity(&rule), "10.0");
        rule.security_severity = Some(f64::NAN);
        assert_eq!(security_severity(&rule), "7.0");
    }

    #[test]
    fn results_point_at_rules_and_regions() {
        let rules = testutil::rules();
        let log = render(&[testutil::report(".")], &rules, "0.1.0");
        let results = log["runs"][0]["results"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(results.len(), 2);
        for r in &results {
            let index = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
            assert_eq!(
                rules.get(index).map(|m| m.id.as_str()),
                r["ruleId"].as_str()
            );
        }
        let first = &results[0];
        assert_eq!(first["ruleId"], "DF005");
        assert_eq!(first["ruleIndex"], 1);
        assert_eq!(first["level"], "error");
        assert_eq!(first["message"]["text"], "The image runs as root.");
        let physical = &first["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "app/Dockerfile");
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(
            physical["region"],
            json!({"startLine": 3, "startColumn": 6, "endLine": 3, "endColumn": 10})
        );
        assert_eq!(
            first["partialFingerprints"]["primaryLocationLineHash"],
            json!(testutil::report(".").findings[0].fingerprint)
        );
        assert_eq!(results[1]["ruleIndex"], 2);
        assert_eq!(results[1]["level"], "warning");
    }

    #[test]
    fn unknown_rules_have_no_rule_index() {
        let log = render(&[testutil::report(".")], &[], "0.1.0");
        let result = &log["runs"][0]["results"][0];
        assert_eq!(result["ruleId"], "DF005");
        assert!(result.get("ruleIndex").is_none());
        assert!(!has_null(&log));
    }

    #[test]
    fn paths_use_forward_slashes() {
        let mut report = testutil::report(".");
        report.findings[0].location.file = r".\app\sub dir\Dockerfile".to_string();
        report.notifications[0].location.file = r"ci\broken.yml".to_string();
        let log = render(&[report], &testutil::rules(), "0.1.0");
        let run = &log["runs"][0];
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "app/sub%20dir/Dockerfile"
        );
        let note = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(
            note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "ci/broken.yml"
        );
    }

    #[test]
    fn regions_are_clamped() {
        let loc = |line, col, end_line, end_col| Location {
            file: "f".to_string(),
            line,
            col,
            end_line,
            end_col,
        };
        assert_eq!(
            region(&loc(0, 0, 0, 0)),
            json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1})
        );
        assert_eq!(
            region(&loc(5, 4, 5, 2)),
            json!({"startLine": 5, "startColumn": 4, "endLine": 5, "endColumn": 4})
        );
        assert_eq!(
            region(&loc(5, 4, 3, 9)),
            json!({"startLine": 5, "startColumn": 4, "endLine": 5, "endColumn": 4})
        );
        assert_eq!(
            region(&loc(5, 4, 7, 1)),
            json!({"startLine": 5, "startColumn": 4, "endLine": 7, "endColumn": 1})
        );
    }

    #[test]
    fn notifications_are_invocation_notes() {
        let log = render(&[testutil::report(".")], &testutil::rules(), "0.1.0");
        let invocation = &log["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], true);
        let note = &invocation["toolExecutionNotifications"][0];
        assert_eq!(note["level"], "error");
        assert_eq!(
            note["message"]["text"],
            "could not load `broken.yml`: invalid YAML"
        );
        assert_eq!(
            note["locations"][0]["physicalLocation"]["region"],
            json!({"startLine": 4})
        );
    }

    #[test]
    fn src_root_is_an_absolute_file_uri() {
        let log = render(&[testutil::report(".")], &[], "0.1.0");
        let uri = log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(uri.starts_with("file:///"), "{uri}");
        assert!(uri.ends_with('/'), "{uri}");
        let missing = render(&[testutil::report("/no/such/shipshape/root")], &[], "0.1.0");
        assert!(missing["runs"][0].get("originalUriBaseIds").is_none());
    }

    #[test]
    fn names_and_ids_are_sanitised() {
        assert_eq!(
            pascal_case("runs as a non-root user", "DF005"),
            "RunsAsANonRootUser"
        );
        assert_eq!(
            pascal_case("pins `apt-get` v2 packages", "X"),
            "PinsAptGetV2Packages"
        );
        assert_eq!(pascal_case(" -- ", "DF009"), "DF009");
        assert_eq!(
            automation_id("examples/compliant"),
            "shipshape/examples/compliant/"
        );
        assert_eq!(
            automation_id("./examples/compliant/"),
            "shipshape/examples/compliant/"
        );
        assert_eq!(
            automation_id(r"C:\src\my repo"),
            "shipshape/C_/src/my_repo/"
        );
        assert_eq!(automation_id("."), "shipshape/");
    }
}
