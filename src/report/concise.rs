//! Concise report (`--concise`, `--format concise`): one line per finding,
//! `path:line:col: severity[RULE] message`, for editors' problem matchers, `grep` and quick
//! reading; then the same summary as the human report.
//!
//! Paths are the ones a user can open from where shipshape was run: the root as given on the
//! command line joined with the file (`services/api/Dockerfile` for `check services/api`),
//! the file alone when the root is `.`, as ruff and compilers print them. They are not
//! relative to the repository root (that is what SARIF and annotations use), since an editor
//! resolves them against the working directory.

use crate::finding::RootReport;

use super::Context;
use super::human::{one_line, severity_code, summary};

/// Renders `reports` one line per kept finding (reports in order, findings in order), then
/// one line per suppressed finding (`--show-suppressed`) and per tool notification, then the
/// summary after an empty line. With `ctx.color`, the severity and rule are coloured.
pub fn render(reports: &[RootReport], ctx: &Context<'_>) -> String {
    let mut out = String::new();
    for report in reports {
        for finding in &report.findings {
            out.push_str(&format!(
                "{}:{}:{}: {} {}\n",
                path(&report.root, &finding.location.file),
                finding.location.line,
                finding.location.col,
                severity_code(finding.severity, &finding.rule, ctx.color),
                one_line(&finding.message)
            ));
        }
        for (finding, why) in &report.suppressed {
            out.push_str(&format!(
                "{}:{}:{}: suppressed {}[{}] {} ({})\n",
                path(&report.root, &finding.location.file),
                finding.location.line,
                finding.location.col,
                finding.severity,
                finding.rule,
                one_line(&finding.message),
                if why.is_empty() {
                    "no reason given"
                } else {
                    why.as_str()
                }
            ));
        }
        for notification in &report.notifications {
            out.push_str(&format!(
                "{}:{}:{}: {}: {}\n",
                path(&report.root, &notification.location.file),
                notification.location.line,
                notification.location.col,
                notification.level,
                one_line(&notification.message)
            ));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(reports, ctx));
    out
}

/// `file` (relative to `root`) as a path from the working directory: `root/file`, or `file`
/// when the root is `.`; the root itself for the root's own location (`.`).
pub fn path(root: &str, file: &str) -> String {
    let root = root.trim_end_matches(['/', '\\']);
    let mut file = file;
    while let Some(rest) = file.strip_prefix("./") {
        file = rest;
    }
    let root_is_here = root.is_empty() || root == ".";
    match (root_is_here, file.is_empty() || file == ".") {
        (true, true) => ".".to_string(),
        (true, false) => file.to_string(),
        (false, true) => root.to_string(),
        (false, false) => format!("{root}/{file}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::report::testutil;

    #[test]
    fn paths_are_openable_from_the_working_directory() {
        assert_eq!(path(".", "Dockerfile"), "Dockerfile");
        assert_eq!(path("./", "./app/Dockerfile"), "app/Dockerfile");
        assert_eq!(path("", "Dockerfile"), "Dockerfile");
        assert_eq!(
            path("services/api/", "Dockerfile"),
            "services/api/Dockerfile"
        );
        assert_eq!(path("services/api", "."), "services/api");
        assert_eq!(path(".", "."), ".");
        assert_eq!(path("/abs/repo", "ci.yml"), "/abs/repo/ci.yml");
    }

    #[test]
    fn one_line_per_finding_then_the_summary() {
        let rules = testutil::rules();
        let ctx = Context::new(&rules, "0.1.0");
        let mut second = testutil::report("svc/worker");
        second.findings.push(testutil::finding(
            "AL001",
            Severity::Error,
            "package.json",
            (1, 1, 1, 1),
            "the repository has no alert rules\n",
        ));
        second.notifications.clear();
        let out = render(&[testutil::report("."), second], &ctx);
        insta::assert_snapshot!("concise_two_roots", out);
    }

    #[test]
    fn statistics_and_colour() {
        let rules = testutil::rules();
        let mut ctx = Context::new(&rules, "0.1.0");
        ctx.statistics = true;
        let out = render(&[testutil::report(".")], &ctx);
        insta::assert_snapshot!("concise_statistics", out);
        ctx.color = true;
        let out = render(&[testutil::report(".")], &ctx);
        assert!(
            out.contains("\u{1b}[1;31merror[DF005]\u{1b}[0m The image runs as root."),
            "{out}"
        );
    }

    #[test]
    fn nothing_found_is_the_summary_alone() {
        let ctx = Context::new(&[], "0.1.0");
        let report = RootReport {
            root: ".".to_string(),
            ..RootReport::default()
        };
        assert_eq!(
            render(&[report], &ctx),
            "0 errors, 0 warnings, 0 notes in 1 repository\n"
        );
    }
}
