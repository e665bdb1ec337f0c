//! SARIF 2.1.0 report, in the shape GitHub code scanning accepts: one run per checked root,
//! every rule described in `tool.driver.rules`, one result per finding and one tool execution
//! notification per input that could not be loaded or was skipped.
//!
//! The output never contains `null`: optional properties are left out instead.

use serde_json::{Map, Value, json};

use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::location::Location;
use crate::policy::meta::RuleMeta;
use crate::report::{Context, repo_path};

/// The JSON schema the output declares in `$schema`.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The SARIF version written.
pub const SARIF_VERSION: &str = "2.1.0";
/// The tool's home page, reported as `tool.driver.informationUri`.
pub use crate::policy::meta::INFORMATION_URI;
/// The `uriBaseId` every artifact location is relative to.
pub const SRCROOT: &str = "%SRCROOT%";

/// GitHub code scanning takes at most this many runs in one SARIF file.
pub const MAX_RUNS: usize = 20;

/// Renders `reports` as a SARIF 2.1.0 log with one run per report, each with its own
/// analysis category (see [`run_ids`]).
///
/// `ctx.rules` is listed, in the order given, as every run's `tool.driver.rules`; each
/// result's `ruleIndex` is its rule's position there (left out for a rule missing from it).
/// Artifact URIs are relative to the repository root (`%SRCROOT%`, see
/// [`RootReport::repo_dir`]). More than [`MAX_RUNS`] roots are refused: GitHub would reject
/// the file.
pub fn render(reports: &[RootReport], ctx: &Context<'_>) -> Result<Value, String> {
    if reports.len() > MAX_RUNS {
        return Err(format!(
            "{} roots make {} SARIF runs, and GitHub code scanning accepts at most {MAX_RUNS} \
             per file: write one file per root with --sarif-dir DIR, or all roots as one run \
             with --sarif-single-run",
            reports.len(),
            reports.len()
        ));
    }
    let ids = run_ids(reports, ctx.category);
    let runs: Vec<Value> = reports
        .iter()
        .zip(&ids)
        .map(|(report, id)| run(std::slice::from_ref(report), ctx, id))
        .collect();
    Ok(log(runs))
}

/// Renders all `reports` as one SARIF run (one analysis category: `--category`, else
/// `shipshape/`). The roots must belong to one repository, since the run has one
/// `%SRCROOT%`.
pub fn render_single_run(reports: &[RootReport], ctx: &Context<'_>) -> Result<Value, String> {
    let repos: std::collections::BTreeSet<_> = reports.iter().map(|r| &r.repo_root).collect();
    if repos.len() > 1 {
        return Err(
            "the roots belong to different repositories, and one SARIF run has one source \
             root: drop --sarif-single-run (one run per root) or use --sarif-dir DIR"
                .to_string(),
        );
    }
    let id = match ctx.category {
        Some(c) => category_id(c),
        None => "shipshape/".to_string(),
    };
    Ok(log(vec![run(reports, ctx, &id)]))
}

/// The SARIF log around `runs`.
fn log(runs: Vec<Value>) -> Value {
    json!({
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": runs,
    })
}

/// The `automationDetails.id` of each report's run, distinct within one file: `shipshape/`
/// and the root's path in its repository (independent of how the root was typed:
/// `.`, `./` and an absolute path to the same directory give the same id), or `--category`
/// (followed by that path when several roots share the file). Ids ending in `/` make the
/// whole id GitHub's analysis category.
pub fn run_ids(reports: &[RootReport], category: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = reports
        .iter()
        .map(|r| match category {
            Some(c) if reports.len() == 1 => category_id(c),
            Some(c) => format!("{}{}", category_id(c), path_id(&r.repo_dir)),
            None => format!("shipshape/{}", path_id(&r.repo_dir)),
        })
        .collect();
    // Roots at the top of different repositories share a path: they are told apart by the
    // root as given, then by position.
    let first = ids.clone();
    for (id, report) in ids.iter_mut().zip(reports) {
        if first.iter().filter(|x| *x == id).count() > 1 {
            id.push_str(&path_id(&report.root));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, id) in ids.iter_mut().enumerate() {
        if !seen.insert(id.clone()) {
            id.push_str(&format!("{}/", i + 1));
            seen.insert(id.clone());
        }
    }
    ids
}

/// A `--category` as a run id: ending in `/`, so all of it is the category.
fn category_id(category: &str) -> String {
    let c = category.trim();
    if c.ends_with('/') {
        c.to_string()
    } else {
        format!("{c}/")
    }
}

/// One run: the results and notifications of `reports` (one root, or several with
/// `--sarif-single-run`).
fn run(reports: &[RootReport], ctx: &Context<'_>, id: &str) -> Value {
    let driver_rules: Vec<Value> = ctx
        .rules
        .iter()
        .map(|rule| {
            // The severity in effect: the configuration's (the highest, when roots differ).
            let severity = reports
                .iter()
                .filter_map(|r| r.rule_severities.get(&rule.id).copied())
                .max()
                .unwrap_or(rule.severity);
            rule_descriptor(rule, severity)
        })
        .collect();
    let mut results: Vec<Value> = Vec::new();
    let mut notifications: Vec<Value> = Vec::new();
    for report in reports {
        results.extend(
            report
                .findings
                .iter()
                .map(|finding| result(report, finding, ctx.rules)),
        );
        // Suppressed findings are only present when asked for (`--show-suppressed`); they
        // carry an in-source suppression with its justification.
        for (finding, justification) in &report.suppressed {
            let mut r = result(report, finding, ctx.rules);
            if let Value::Object(o) = &mut r {
                o.insert(
                    "suppressions".to_string(),
                    json!([{ "kind": "inSource", "justification": justification }]),
                );
            }
            results.push(r);
        }
        notifications.extend(report.notifications.iter().map(|n| notification(report, n)));
    }

    let mut run = Map::new();
    run.insert(
        "tool".to_string(),
        json!({
            "driver": {
                "name": "shipshape",
                "version": ctx.version,
                "semanticVersion": ctx.version,
                "informationUri": INFORMATION_URI,
                "rules": driver_rules,
            }
        }),
    );
    run.insert("automationDetails".to_string(), json!({ "id": id }));
    if let Some(uri) = reports
        .first()
        .and_then(|r| r.repo_root.as_deref())
        .and_then(dir_uri)
    {
        run.insert(
            "originalUriBaseIds".to_string(),
            json!({ SRCROOT: { "uri": uri } }),
        );
    }
    run.insert(
        "invocations".to_string(),
        json!([{
            "executionSuccessful": reports.iter().all(|r| r.policy_failures == 0),
            "toolExecutionNotifications": notifications,
        }]),
    );
    run.insert("columnKind".to_string(), json!("unicodeCodePoints"));
    run.insert("results".to_string(), Value::Array(results));
    Value::Object(run)
}

/// The `reportingDescriptor` of one rule whose severity in effect is `severity` (`helpUri`
/// only when the rule has one; `security-severity` only for security rules).
fn rule_descriptor(rule: &RuleMeta, severity: Severity) -> Value {
    let mut properties = json!({
        "tags": rule.tags,
        "precision": rule.precision.as_str(),
        "problem.severity": problem_severity(severity),
    });
    if let (Some(value), Some(p)) = (
        rule.security_severity_at(severity),
        properties.as_object_mut(),
    ) {
        p.insert("security-severity".into(), json!(format!("{value:.1}")));
    }
    let mut d = json!({
        "id": rule.id,
        "name": pascal_case(&rule.title, &rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": full_description(rule) },
        "help": {
            "text": rule.plain_text(),
            "markdown": rule.markdown(),
        },
        "defaultConfiguration": { "level": level(severity) },
        "properties": properties,
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

/// One `result` for `finding` of `report`.
fn result(report: &RootReport, finding: &Finding, rules: &[RuleMeta]) -> Value {
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
                "artifactLocation": artifact_location(report, &finding.location.file),
                "region": region(&finding.location, report.sources.get(&finding.location.file).map(|t| &**t)),
            }
        }]),
    );
    result.insert(
        "partialFingerprints".to_string(),
        json!({ "primaryLocationLineHash": finding.fingerprint }),
    );
    Value::Object(result)
}

/// One `toolExecutionNotification` for `notification` of `report`.
fn notification(report: &RootReport, notification: &Notification) -> Value {
    json!({
        "level": level(notification.level),
        "message": { "text": notification.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact_location(report, &notification.location.file),
                "region": { "startLine": notification.location.line.max(1) },
            }
        }],
    })
}

/// The `artifactLocation` of `file` (relative to the root of `report`), relative to
/// `%SRCROOT%`, the repository root.
fn artifact_location(report: &RootReport, file: &str) -> Value {
    json!({ "uri": relative_uri(&repo_path(report, file)), "uriBaseId": SRCROOT })
}

/// The SARIF region of `location`: every value at least 1, and the end never before the
/// start (an end before the start is moved onto the start). A zero-width location on a line
/// whose text is known (`source`) spans the rest of that line's text, so code scanning
/// underlines what the finding is about.
fn region(location: &Location, source: Option<&str>) -> Value {
    let start_line = location.line.max(1);
    let start_col = location.col.max(1);
    let end_line = location.end_line.max(1);
    let end_col = location.end_col.max(1);
    let (mut end_line, mut end_col) = if (end_line, end_col) <= (start_line, start_col) {
        (start_line, start_col)
    } else {
        (end_line, end_col)
    };
    if (end_line, end_col) == (start_line, start_col) {
        let wide = super::widen(
            &Location::point(&location.file, start_line, start_col),
            source,
        );
        (end_line, end_col) = (wide.end_line.max(start_line), wide.end_col.max(start_col));
    }
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

/// The `file://` URI, ending in `/`, of the absolute directory `dir`; `None` when it is not
/// valid Unicode.
fn dir_uri(dir: &std::path::Path) -> Option<String> {
    let text = dir.to_str()?;
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

/// A path as run-id components: `.` and empty components dropped, characters other than
/// letters, digits, `.`, `_` and `-` replaced by `_`, each followed by `/`
/// (`services/api` → `services/api/`, `.` → ``).
pub fn path_id(path: &str) -> String {
    let mut id = String::new();
    for part in path.split(['/', '\\']) {
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
        let mut second = testutil::report("./examples/compliant/");
        second.repo_dir = "examples/compliant".to_string();
        let reports = [testutil::report("."), second];
        let log = render(&reports, &Context::new(&testutil::rules(), "1.2.3")).expect("renders");
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
        let log = render(
            &[testutil::report(".")],
            &Context::new(&testutil::rules(), "0.1.0"),
        )
        .expect("renders");
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
        // Only security rules are security alerts.
        assert!(rules[0]["properties"].get("security-severity").is_none());
        assert!(rules[2]["properties"].get("security-severity").is_none());
        let mut bare = testutil::rule("X1", "has a title", Severity::Warning);
        bare.docs.what.clear();
        assert_eq!(full_description(&bare), "has a title");
    }

    #[test]
    fn security_severity_follows_the_severity_in_effect() {
        let mut rule = testutil::rule("X1", "x", Severity::Error);
        assert_eq!(rule.security_severity_at(Severity::Error), None);
        rule.security = true;
        assert_eq!(rule.security_severity_at(Severity::Error), Some(7.0));
        assert_eq!(rule.security_severity_at(Severity::Warning), Some(4.0));
        assert_eq!(rule.security_severity_at(Severity::Note), Some(1.0));
        rule.security_severity = Some(8.25);
        assert_eq!(rule.security_severity_at(Severity::Error), Some(8.25));
        // Lowered by configuration: the policy's value was for its default severity.
        assert_eq!(rule.security_severity_at(Severity::Warning), Some(4.0));
        rule.security_severity = Some(42.0);
        assert_eq!(rule.security_severity_at(Severity::Error), Some(10.0));
        rule.security_severity = Some(f64::NAN);
        assert_eq!(rule.security_severity_at(Severity::Error), Some(7.0));
        // In the log: a root whose configuration lowers DF005 reports it lowered.
        let mut report = testutil::report(".");
        report
            .rule_severities
            .insert("DF005".to_string(), Severity::Warning);
        let log = render(&[report], &Context::new(&testutil::rules(), "0.1.0")).expect("renders");
        let df005 = &log["runs"][0]["tool"]["driver"]["rules"][1];
        assert_eq!(df005["properties"]["security-severity"], "4.0");
        assert_eq!(df005["defaultConfiguration"]["level"], "warning");
        assert_eq!(df005["properties"]["problem.severity"], "warning");
    }

    #[test]
    fn uris_are_relative_to_the_repository_root() {
        let mut report = testutil::report("services/api");
        report.repo_dir = "services/api".to_string();
        report.repo_root = Some(std::path::PathBuf::from("/repo"));
        let log = render(&[report], &Context::new(&testutil::rules(), "0.1.0")).expect("renders");
        let run = &log["runs"][0];
        assert_eq!(
            run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "services/api/app/Dockerfile"
        );
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///repo/"
        );
        assert_eq!(run["automationDetails"]["id"], "shipshape/services/api/");
    }

    #[test]
    fn run_ids_are_distinct_and_follow_the_category() {
        let at = |root: &str, dir: &str| {
            let mut r = testutil::report(root);
            r.repo_dir = dir.to_string();
            r
        };
        assert_eq!(run_ids(&[at(".", "")], None), ["shipshape/"]);
        assert_eq!(run_ids(&[at("/abs/x", "")], Some("infra")), ["infra/"]);
        assert_eq!(
            run_ids(&[at("a", "a"), at("b c", "b c")], Some("infra/")),
            ["infra/a/", "infra/b_c/"]
        );
        // Two repositories' roots: told apart by the root as given.
        assert_eq!(
            run_ids(&[at("repos/one", ""), at("repos/two", "")], None),
            ["shipshape/repos/one/", "shipshape/repos/two/"]
        );
        assert_eq!(
            run_ids(&[at("x", ""), at("x", "")], None),
            ["shipshape/x/", "shipshape/x/2/"]
        );
    }

    #[test]
    fn more_runs_than_github_takes_are_refused() {
        let reports: Vec<RootReport> = (0..=MAX_RUNS)
            .map(|i| testutil::report(&format!("r{i}")))
            .collect();
        let ctx = Context::new(&[], "0.1.0");
        let err = render(&reports, &ctx).expect_err("refused");
        assert!(err.contains("--sarif-dir"), "{err}");
        assert!(render(&reports[..MAX_RUNS], &ctx).is_ok());
        let one = render_single_run(&reports, &ctx).expect("one run");
        assert_eq!(one["runs"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            one["runs"][0]["results"].as_array().map(Vec::len),
            Some(2 * (MAX_RUNS + 1))
        );
        let mut other = testutil::report("elsewhere");
        other.repo_root = Some(std::path::PathBuf::from("/other"));
        assert!(render_single_run(&[testutil::report("."), other], &ctx).is_err());
    }

    #[test]
    fn zero_width_regions_span_the_line_text() {
        let loc = |line, col| Location::point("f", line, col);
        let text = Some("FROM node:20\n  image: x   \n\n");
        assert_eq!(
            region(&loc(1, 1), text),
            json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 13})
        );
        assert_eq!(
            region(&loc(2, 3), text),
            json!({"startLine": 2, "startColumn": 3, "endLine": 2, "endColumn": 11})
        );
        // An empty line, or no text, leaves the point as it is.
        assert_eq!(
            region(&loc(3, 1), text),
            json!({"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 1})
        );
        assert_eq!(
            region(&loc(1, 1), None),
            json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1})
        );
    }

    #[test]
    fn results_point_at_rules_and_regions() {
        let rules = testutil::rules();
        let log =
            render(&[testutil::report(".")], &Context::new(&rules, "0.1.0")).expect("renders");
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
        let log = render(&[testutil::report(".")], &Context::new(&[], "0.1.0")).expect("renders");
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
        let log = render(&[report], &Context::new(&testutil::rules(), "0.1.0")).expect("renders");
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

    fn region_of(location: &Location) -> Value {
        region(location, None)
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
            region_of(&loc(0, 0, 0, 0)),
            json!({"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1})
        );
        assert_eq!(
            region_of(&loc(5, 4, 5, 2)),
            json!({"startLine": 5, "startColumn": 4, "endLine": 5, "endColumn": 4})
        );
        assert_eq!(
            region_of(&loc(5, 4, 3, 9)),
            json!({"startLine": 5, "startColumn": 4, "endLine": 5, "endColumn": 4})
        );
        assert_eq!(
            region_of(&loc(5, 4, 7, 1)),
            json!({"startLine": 5, "startColumn": 4, "endLine": 7, "endColumn": 1})
        );
    }

    #[test]
    fn notifications_are_invocation_notes() {
        let log = render(
            &[testutil::report(".")],
            &Context::new(&testutil::rules(), "0.1.0"),
        )
        .expect("renders");
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
    fn src_root_is_the_repository_root_as_a_file_uri() {
        let ctx = Context::new(&[], "0.1.0");
        let mut report = testutil::report(".");
        report.repo_root = Some(std::path::PathBuf::from("/work/my repo"));
        let log = render(&[report], &ctx).expect("renders");
        assert_eq!(
            log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///work/my%20repo/"
        );
        let unresolved = render(&[testutil::report("/no/such/root")], &ctx).expect("renders");
        assert!(unresolved["runs"][0].get("originalUriBaseIds").is_none());
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
        assert_eq!(path_id("examples/compliant"), "examples/compliant/");
        assert_eq!(path_id("./examples/compliant/"), "examples/compliant/");
        assert_eq!(path_id(r"C:\src\my repo"), "C_/src/my_repo/");
        assert_eq!(path_id("."), "");
    }
}
