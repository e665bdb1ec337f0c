//! GitHub Actions report: one workflow command per finding (`::error file=…,line=…::message`)
//! so that findings appear as annotations on the pull request, one per tool notification, and
//! a closing plain summary line.
//!
//! This module owns the escaping of workflow commands (as `@actions/core` does it in
//! `command.ts`): the message escapes `%`, `\r` and `\n`; property values also escape `:` and
//! `,`.

use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::location::Location;

use super::{Context, repo_path, summarize};

/// Renders `reports` as GitHub Actions workflow commands: every finding (reports in order,
/// findings in order) as `::error`, `::warning` or `::notice` with its repository path,
/// region and `RULE title` as the annotation's title; then every tool notification the same
/// way (titled `shipshape`); then the summary line of the human report, prefixed with
/// `shipshape: `.
pub fn render(reports: &[RootReport], ctx: &Context<'_>) -> String {
    let mut out = String::new();
    for report in reports {
        for finding in &report.findings {
            out.push_str(&finding_line(report, finding, ctx));
            out.push('\n');
        }
    }
    for report in reports {
        for notification in &report.notifications {
            out.push_str(&notification_line(report, notification));
            out.push('\n');
        }
    }
    out.push_str("shipshape: ");
    out.push_str(&super::human::summary_line(
        &summarize(reports),
        reports.len(),
    ));
    out.push('\n');
    out
}

/// The workflow command of a severity: `error`, `warning` or `notice`.
pub fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// The annotation of one finding.
fn finding_line(report: &RootReport, finding: &Finding, ctx: &Context<'_>) -> String {
    let title = match ctx.rule(&finding.rule) {
        Some(rule) => format!("{} {}", finding.rule, rule.title),
        None => finding.rule.clone(),
    };
    let mut props = position(report, &finding.location);
    props.push(("title", title));
    workflow_command(command(finding.severity), &props, &finding.message)
}

/// The annotation of one tool notification: its file and line when known, no region.
fn notification_line(report: &RootReport, notification: &Notification) -> String {
    let loc = &notification.location;
    let mut props = Vec::new();
    if !loc.file.is_empty() {
        props.push(("file", repo_path(report, &loc.file)));
        if loc.line > 0 {
            props.push(("line", loc.line.to_string()));
        }
    }
    props.push(("title", "shipshape".to_string()));
    workflow_command(command(notification.level), &props, &notification.message)
}

/// `file`, `line`, `col`, `endLine` and `endColumn` of `location`: each left out when unknown
/// (0), and the end left out when the region is zero-width or ends before it starts.
fn position(report: &RootReport, loc: &Location) -> Vec<(&'static str, String)> {
    let loc = &super::widen(loc, report.sources.get(&loc.file).map(|t| &**t));
    let mut props = Vec::new();
    if loc.file.is_empty() {
        return props;
    }
    props.push(("file", repo_path(report, &loc.file)));
    if loc.line == 0 {
        return props;
    }
    props.push(("line", loc.line.to_string()));
    if loc.col > 0 {
        props.push(("col", loc.col.to_string()));
    }
    let has_end = loc.end_line > 0
        && loc.end_col > 0
        && loc.col > 0
        && (loc.end_line, loc.end_col) > (loc.line, loc.col);
    if has_end {
        props.push(("endLine", loc.end_line.to_string()));
        props.push(("endColumn", loc.end_col.to_string()));
    }
    props
}

/// `::name key=value,…::message`, with values and message escaped (`::name::message` without
/// properties).
pub fn workflow_command(name: &str, props: &[(&str, String)], message: &str) -> String {
    let mut line = format!("::{name}");
    for (i, (key, value)) in props.iter().enumerate() {
        line.push(if i == 0 { ' ' } else { ',' });
        line.push_str(key);
        line.push('=');
        line.push_str(&escape_property(value));
    }
    line.push_str("::");
    line.push_str(&escape_data(message));
    line
}

/// Escapes a command's message: `%`, `\r` and `\n`.
pub fn escape_data(s: &str) -> String {
    escape(s, false)
}

/// Escapes a command's property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape(s, true)
}

/// Percent-escapes what GitHub's workflow-command parser reads specially (actions/toolkit
/// `command.ts`): `%`, `\r`, `\n`, and in a property value also `:` and `,`.
fn escape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    fn render_one(report: RootReport) -> String {
        let rules = testutil::rules();
        render(&[report], &Context::new(&rules, "0.1.0"))
    }

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("50% a::b, c\r\nd"), "50%25 a::b, c%0D%0Ad");
        assert_eq!(
            escape_property("50% a::b, c\r\nd"),
            "50%25 a%3A%3Ab%2C c%0D%0Ad"
        );
        // `%` first: an escape sequence in the input is not mistaken for one.
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(escape_property("%3A"), "%253A");
    }

    #[test]
    fn escapes_messages_file_names_and_titles_in_commands() {
        let mut report = testutil::report(".");
        report.notifications.clear();
        report.findings.truncate(1);
        report.findings[0].message = "bad::thing, 100%\nsecond line".to_string();
        report.findings[0].location.file = "we,ird:dir/Docker\nfile".to_string();
        report.findings[0].rule = "X:1,2".to_string();
        let out = render_one(report);
        assert_eq!(
            out.lines().next(),
            Some(
                "::error file=we%2Cird%3Adir/Docker%0Afile,line=3,col=6,endLine=3,endColumn=10,\
                 title=X%3A1%2C2::bad::thing, 100%25%0Asecond line"
            ),
            "{out}"
        );
        // One line per finding: the newline of the message is escaped.
        assert_eq!(out.lines().count(), 2, "{out}");
    }

    #[test]
    fn levels_map_onto_commands() {
        assert_eq!(command(Severity::Error), "error");
        assert_eq!(command(Severity::Warning), "warning");
        assert_eq!(command(Severity::Note), "notice");
        let mut report = testutil::report(".");
        report.findings[0].severity = Severity::Note;
        report.notifications[0].level = Severity::Warning;
        let out = render_one(report);
        let commands: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("::")?.split([' ', ':']).next())
            .collect();
        assert_eq!(commands, ["notice", "warning", "warning"], "{out}");
    }

    #[test]
    fn zero_width_and_unknown_positions_leave_properties_out() {
        let mut report = testutil::report("services/api");
        report.repo_dir = "services/api".to_string();
        report.notifications[0].location = Location::point("", 0, 0);
        report.findings[1].location = Location {
            file: "Dockerfile".to_string(),
            line: 2,
            col: 0,
            end_line: 0,
            end_col: 0,
        };
        let out = render_one(report);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "::error file=services/api/app/Dockerfile,line=3,col=6,endLine=3,endColumn=10,\
             title=DF005 runs as a non-root user::The image runs as root."
        );
        assert_eq!(
            lines[1],
            "::warning file=services/api/Dockerfile,line=2,title=DF010 pins base images by \
             digest::The base image is not pinned by digest."
        );
        assert_eq!(
            lines[2],
            "::error title=shipshape::could not load `broken.yml`: invalid YAML"
        );
    }

    #[test]
    fn full_render_matches_snapshot() {
        insta::assert_snapshot!(render_one(testutil::report(".")));
    }

    #[test]
    fn clean_run_is_the_summary_line_only() {
        let out = render(&[], &Context::new(&[], "0.1.0"));
        assert_eq!(
            out,
            "shipshape: 0 errors, 0 warnings, 0 notes in 0 repositories\n"
        );
    }
}
