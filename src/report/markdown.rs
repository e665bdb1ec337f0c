//! Markdown report for a GitHub job summary (`$GITHUB_STEP_SUMMARY`) or a pull/merge request
//! comment: counts by severity, a table of counts per rule, a table of findings linking to
//! their lines, and the tool notifications; one section per root when there are several.
//!
//! This module owns the escaping of table cells and link targets.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::finding::{Finding, RootReport, Severity};

use super::{Context, repo_path, summarize};

/// Findings (or notifications) beyond this many are listed in a collapsed `<details>` block.
pub const COLLAPSE_OVER: usize = 50;

/// Renders `reports` as Markdown: a `## shipshape` heading and the counts line, then for
/// every root (under a `### \`root\`` heading when there are several) a table of findings per
/// rule, a table of the findings and a list of the tool notifications, or a "No findings."
/// line when the root is clean. Lists longer than [`COLLAPSE_OVER`] are collapsed.
pub fn render(reports: &[RootReport], ctx: &Context<'_>) -> String {
    let mut out = String::from("## shipshape\n\n");
    let summary = summarize(reports);
    let _ = writeln!(
        out,
        "{}\n",
        super::human::summary_line(&summary, reports.len())
    );
    let several = reports.len() > 1;
    for report in reports {
        let level = if several {
            let _ = writeln!(out, "### `{}`\n", report.root.replace('`', "'"));
            let counts = super::human::summary_line(&summarize(std::slice::from_ref(report)), 1);
            let counts = counts.strip_suffix(" in 1 repository").unwrap_or(&counts);
            let _ = writeln!(out, "{counts}\n");
            "####"
        } else {
            "###"
        };
        root(&mut out, report, ctx, level);
    }
    out
}

/// The sections of one root, with headings of `level` (`###` or `####`).
fn root(out: &mut String, report: &RootReport, ctx: &Context<'_>, level: &str) {
    if report.findings.is_empty() {
        out.push_str("No findings.\n\n");
    } else {
        // Rule ID -> (highest severity, count).
        let mut per_rule: BTreeMap<&str, (Severity, usize)> = BTreeMap::new();
        for f in &report.findings {
            let entry = per_rule.entry(&f.rule).or_insert((f.severity, 0));
            entry.0 = entry.0.max(f.severity);
            entry.1 += 1;
        }
        let _ = writeln!(out, "{level} Rules\n");
        out.push_str("| Rule | Title | Severity | Findings |\n|---|---|---|---:|\n");
        for (id, (severity, count)) in &per_rule {
            let title = ctx.rule(id).map_or("", |r| r.title.as_str());
            let _ = writeln!(
                out,
                "| {} | {} | {severity} | {count} |",
                cell(id),
                cell(title)
            );
        }
        out.push('\n');

        let _ = writeln!(out, "{level} Findings\n");
        let mut table =
            String::from("| Severity | Rule | Location | Message |\n|---|---|---|---|\n");
        for f in &report.findings {
            let _ = writeln!(
                table,
                "| {} | {} | {} | {} |",
                f.severity,
                cell(&f.rule),
                location_link(report, f),
                cell(&f.message)
            );
        }
        collapsible(out, &table, report.findings.len(), "findings");
    }

    if !report.notifications.is_empty() {
        let _ = writeln!(out, "{level} Notifications\n");
        let mut list = String::new();
        for n in &report.notifications {
            let loc = &n.location;
            let path = repo_path(report, &loc.file);
            let place = if loc.line > 0 {
                format!("{path}:{}", loc.line)
            } else {
                path
            };
            let _ = writeln!(
                list,
                "- {}: {} ({})",
                n.level,
                one_line(&n.message),
                one_line(&place)
            );
        }
        collapsible(out, &list, report.notifications.len(), "notifications");
    }
}

/// Appends `body` (ending in a newline) and a blank line, inside a collapsed `<details>`
/// block summarised as `count what` when `count` exceeds [`COLLAPSE_OVER`].
fn collapsible(out: &mut String, body: &str, count: usize, what: &str) {
    if count > COLLAPSE_OVER {
        // The blank lines let Markdown inside the HTML block render.
        let _ = write!(
            out,
            "<details><summary>{count} {what}</summary>\n\n{body}\n</details>\n\n"
        );
    } else {
        out.push_str(body);
        out.push('\n');
    }
}

/// `[file:line](file#Lline)`: the finding's place, linked relative to the repository root.
fn location_link(report: &RootReport, finding: &Finding) -> String {
    let loc = &finding.location;
    let path = repo_path(report, &loc.file);
    let text = if loc.line > 0 {
        format!("{path}:{}", loc.line)
    } else {
        path.clone()
    };
    let text = cell(&text).replace('[', "\\[").replace(']', "\\]");
    let mut target = link_target(&path);
    if loc.line > 0 {
        let _ = write!(target, "#L{}", loc.line);
    }
    format!("[{text}]({target})")
}

/// A path as a link target: every byte but ASCII letters, digits and `/ . - _ ~`
/// percent-encoded, so spaces, parentheses, `#` and `|` cannot end the link or the cell.
fn link_target(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `text` as one line: line breaks become spaces.
fn one_line(text: &str) -> String {
    text.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

/// `text` as the content of a table cell: `|` escaped, line breaks as `<br>`.
pub fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\r', '\n'], "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    fn render_all(reports: &[RootReport]) -> String {
        let rules = testutil::rules();
        render(reports, &Context::new(&rules, "0.1.0"))
    }

    #[test]
    fn one_root_matches_snapshot() {
        insta::assert_snapshot!(render_all(&[testutil::report(".")]));
    }

    #[test]
    fn several_roots_have_a_section_each() {
        let mut api = testutil::report("services/api");
        api.repo_dir = "services/api".to_string();
        let mut clean = testutil::report("services/web");
        clean.findings.clear();
        clean.notifications.clear();
        insta::assert_snapshot!(render_all(&[api, clean]));
    }

    #[test]
    fn clean_run_says_so() {
        let mut report = testutil::report(".");
        report.findings.clear();
        report.notifications.clear();
        report.ignored = 0;
        assert_eq!(
            render_all(&[report]),
            "## shipshape\n\n0 errors, 0 warnings, 0 notes in 1 repository\n\nNo findings.\n\n"
        );
    }

    #[test]
    fn cells_and_links_are_escaped() {
        let mut report = testutil::report(".");
        report.notifications.clear();
        report.findings.truncate(1);
        report.findings[0].message = "a | b\nc".to_string();
        report.findings[0].location.file = "my dir/Docker(file)|[x]".to_string();
        let out = render_all(&[report]);
        assert!(
            out.contains(
                "| error | DF005 | [my dir/Docker(file)\\|\\[x\\]:3]\
                 (my%20dir/Docker%28file%29%7C%5Bx%5D#L3) | a \\| b<br>c |\n"
            ),
            "{out}"
        );
    }

    #[test]
    fn long_lists_are_collapsed() {
        let mut report = testutil::report(".");
        report.notifications.clear();
        let f = report.findings[0].clone();
        report.findings = vec![f; COLLAPSE_OVER];
        let out = render_all(std::slice::from_ref(&report));
        assert!(!out.contains("<details>"), "{out}");
        report.findings.push(report.findings[0].clone());
        let out = render_all(&[report]);
        assert!(
            out.contains("<details><summary>51 findings</summary>\n\n| Severity |"),
            "{out}"
        );
        assert!(out.contains(" |\n\n</details>\n"), "{out}");
        assert!(out.contains("| DF005 | runs as a non-root user | error | 51 |"));
    }
}
