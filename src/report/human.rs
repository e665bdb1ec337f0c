//! Human-readable report: one miette diagnostic per finding (rule ID, message, source snippet
//! with the offending region labelled, help on how to fix it), tool notifications as plain
//! lines, and a closing summary line.
//!
//! The output depends only on the inputs and the `color` flag, never on the terminal: the
//! width is fixed and hyperlinks are off, so it is safe to snapshot.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
    SourceSpan,
};

use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::location::{LineIndex, Location};
use crate::policy::meta::RuleMeta;

use super::{Summary, summarize};

/// The fixed width, in columns, that diagnostics are wrapped to.
pub const WIDTH: usize = 100;

/// Renders `reports` for a terminal or a log: every finding as a diagnostic (in the order
/// given: reports in order, findings in order), then every tool notification as one line,
/// then a summary line such as `2 errors, 1 warning, 0 notes (3 ignored) in 1 repository`
/// (the ignored count is left out when it is zero).
///
/// `rules` supplies each finding's title (the label of its snippet) and fix (its help); a
/// finding of a rule missing from `rules` is still rendered. With `color`, ANSI colours are
/// used; without, the output is plain Unicode text. File paths are relative to their root,
/// prefixed with the root when there is more than one report.
pub fn render(reports: &[RootReport], rules: &[RuleMeta], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(WIDTH)
        .with_links(false)
        .with_urls(false)
        // The snippet header names `path:line:col` itself (columns in characters, not bytes).
        .without_primary_span_start();
    let prefix_root = reports.len() > 1;

    let mut out = String::new();
    for report in reports {
        for finding in &report.findings {
            let path = display_path(&report.root, &finding.location.file, prefix_root);
            let rule = rules.iter().find(|r| r.id == finding.rule);
            let source = report.sources.get(&finding.location.file).cloned();
            let gitlab = report.gitlab_files.contains(&finding.location.file);
            let diagnostic = FindingDiagnostic::new(finding, rule, gitlab, &path, source);
            let mut rendered = String::new();
            if handler.render_report(&mut rendered, &diagnostic).is_err() {
                // Only reachable if miette cannot read back a span we checked; fall back to a
                // plain line rather than lose the finding.
                rendered = format!(
                    "{}: {}: {} [{}]\n",
                    location_text(&path, &finding.location),
                    finding.severity,
                    finding.message,
                    finding.rule
                );
            }
            out.push_str(&rendered);
            out.push('\n');
        }
    }

    // Suppressed findings (only present with `--show-suppressed`): one line each.
    for report in reports {
        for (finding, why) in &report.suppressed {
            let path = display_path(&report.root, &finding.location.file, prefix_root);
            out.push_str(&format!(
                "{}: suppressed {}: {} [{}] ({})\n",
                location_text(&path, &finding.location),
                finding.severity,
                finding.message,
                finding.rule,
                if why.is_empty() {
                    "no reason given"
                } else {
                    why.as_str()
                }
            ));
        }
    }
    if reports.iter().any(|r| !r.suppressed.is_empty()) {
        out.push('\n');
    }

    let mut any_notification = false;
    for report in reports {
        for notification in &report.notifications {
            let path = display_path(&report.root, &notification.location.file, prefix_root);
            out.push_str(&notification_line(notification, &path, color));
            out.push('\n');
            any_notification = true;
        }
    }
    if any_notification {
        out.push('\n');
    }

    out.push_str(&summary_line(&summarize(reports), reports.len()));
    out.push('\n');
    out
}

/// The summary line, e.g. `2 errors, 1 warning, 0 notes (3 ignored) in 1 repository`.
pub fn summary_line(summary: &Summary, repositories: usize) -> String {
    let mut line = format!(
        "{}, {}, {}",
        plural(summary.errors, "error", "errors"),
        plural(summary.warnings, "warning", "warnings"),
        plural(summary.notes, "note", "notes"),
    );
    let mut dropped = Vec::new();
    if summary.baselined > 0 {
        dropped.push(format!("{} in baseline", summary.baselined));
    }
    if summary.suppressed > 0 {
        dropped.push(format!("{} suppressed", summary.suppressed));
    }
    if summary.ignored > 0 {
        dropped.push(format!("{} ignored", summary.ignored));
    }
    if !dropped.is_empty() {
        line.push_str(&format!(" ({})", dropped.join(", ")));
    }
    line.push_str(&format!(
        " in {}",
        plural(repositories, "repository", "repositories")
    ));
    line
}

/// `n` followed by the singular or plural noun.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The path shown for `file`: prefixed with `root` when several roots are reported.
fn display_path(root: &str, file: &str, prefix_root: bool) -> String {
    if !prefix_root || root.is_empty() {
        file.to_string()
    } else if root.ends_with('/') || root.ends_with('\\') {
        format!("{root}{file}")
    } else {
        format!("{root}/{file}")
    }
}

/// `path:line:col` of the start of `location`.
fn location_text(path: &str, location: &Location) -> String {
    format!("{path}:{}:{}", location.line, location.col)
}

/// One notification as a single line: `level: message (path:line:col)`.
fn notification_line(notification: &Notification, path: &str, color: bool) -> String {
    let level = notification.level.as_str();
    let level = if color {
        let code = match notification.level {
            Severity::Error => "31",
            Severity::Warning => "33",
            Severity::Note => "36",
        };
        format!("\u{1b}[{code}m{level}\u{1b}[0m")
    } else {
        level.to_string()
    };
    format!(
        "{level}: {} ({})",
        notification.message,
        location_text(path, &notification.location)
    )
}

/// Maps a finding severity onto miette's.
fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    }
}

/// The byte range `(offset, length)` of `text` that `location` labels: its exact region when
/// that is non-empty and valid, else the whole of its first line. `None` when the first line
/// does not exist in `text`.
fn label_span(text: &str, location: &Location) -> Option<(usize, usize)> {
    let index = LineIndex::new(text);
    let (line_start, line_end) = line_bounds(text, &index, location.line)?;
    let start = column_offset(text, line_start, line_end, location.col);
    let end = if location.end_line >= location.line {
        line_bounds(text, &index, location.end_line)
            .map(|(s, e)| column_offset(text, s, e, location.end_col))
    } else {
        None
    };
    match end {
        Some(end) if end > start => Some((start, end - start)),
        _ => Some((line_start, line_end - line_start)),
    }
}

/// Byte offsets of the start and end (before any `\r\n` or `\n`) of 1-based `line`.
fn line_bounds(text: &str, index: &LineIndex, line: u32) -> Option<(usize, usize)> {
    let start = index.line_start(line)?;
    let rest = text.get(start..)?;
    let len = rest.find('\n').unwrap_or(rest.len());
    let content = rest.get(..len)?;
    let len = content.strip_suffix('\r').map_or(len, str::len);
    Some((start, start + len))
}

/// Byte offset of 1-based character column `col` of the line `start..end`, clamped to the
/// line (column 0 is read as 1, columns past the end as the end).
fn column_offset(text: &str, start: usize, end: usize, col: u32) -> usize {
    let skip = (col as usize).saturating_sub(1);
    text.get(start..end)
        .and_then(|line| line.char_indices().nth(skip).map(|(i, _)| start + i))
        .unwrap_or(end)
}

/// A finding in the shape miette renders.
struct FindingDiagnostic {
    /// The rule ID, shown as the diagnostic code.
    rule: String,
    /// The finding's severity.
    severity: Severity,
    /// The headline: the finding's message, plus its `path:line:col` when there is no
    /// snippet to show it.
    message: String,
    /// The rule's fix and a pointer to `shipshape explain`.
    help: String,
    /// The file's text named `path:line:col`, when a snippet can be shown.
    source: Option<NamedSource<Arc<str>>>,
    /// The labelled region of `source`.
    label: Option<LabeledSpan>,
}

impl FindingDiagnostic {
    /// Builds the diagnostic of `finding` shown under `path`, with a snippet of `source` when
    /// that text is known and holds the finding's line.
    fn new(
        finding: &Finding,
        rule: Option<&RuleMeta>,
        gitlab: bool,
        path: &str,
        source: Option<Arc<str>>,
    ) -> Self {
        let location = &finding.location;
        let here = location_text(path, location);
        let explain = format!("see `shipshape explain {}`", finding.rule);
        let help = match rule.map(|r| r.fix_for(gitlab)) {
            Some(fix) if !fix.is_empty() => format!("{fix} ({explain})"),
            _ => explain,
        };
        let label_text = rule.map_or_else(|| finding.rule.clone(), |r| r.title.clone());

        let snippet = source.and_then(|text| {
            let (offset, len) = label_span(&text, location)?;
            if offset >= text.len() {
                // An empty region at the very end (or an empty file) has nothing to underline.
                return None;
            }
            let span = SourceSpan::from((offset, len));
            let named = NamedSource::new(&here, text);
            // Only keep a snippet miette is able to read back.
            if named.read_span(&span, 1, 1).is_err() || named.read_span(&span, 0, 0).is_err() {
                return None;
            }
            let label = LabeledSpan::new_primary_with_span(Some(label_text), span);
            Some((named, label))
        });
        let (source, label, message) = match snippet {
            Some((named, label)) => (Some(named), Some(label), finding.message.clone()),
            None => (None, None, format!("{}\nat {here}", finding.message)),
        };
        FindingDiagnostic {
            rule: finding.rule.clone(),
            severity: finding.severity,
            message,
            help,
            source,
            label,
        }
    }
}

impl fmt::Debug for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic")
            .field("rule", &self.rule)
            .field("severity", &self.severity)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.rule))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(miette_severity(self.severity))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.label
            .as_ref()
            .map(|l| Box::new(std::iter::once(l.clone())) as Box<dyn Iterator<Item = _>>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    #[test]
    fn summary_line_counts_suppressed_and_ignored_apart() {
        let line = |suppressed, ignored| {
            summary_line(
                &Summary {
                    errors: 1,
                    warnings: 0,
                    notes: 2,
                    ignored,
                    suppressed,
                    baselined: 0,
                },
                1,
            )
        };
        assert_eq!(line(0, 0), "1 error, 0 warnings, 2 notes in 1 repository");
        assert_eq!(
            line(3, 0),
            "1 error, 0 warnings, 2 notes (3 suppressed) in 1 repository"
        );
        assert_eq!(
            line(3, 4),
            "1 error, 0 warnings, 2 notes (3 suppressed, 4 ignored) in 1 repository"
        );
        assert_eq!(
            line(0, 4),
            "1 error, 0 warnings, 2 notes (4 ignored) in 1 repository"
        );
    }

    #[test]
    fn renders_rule_location_label_and_help() {
        let out = render(&[testutil::report(".")], &testutil::rules(), false);
        // Rule ID as the code, message, snippet header with file:line:col, the labelled line
        // and the label, help with the fix and the explain hint.
        assert!(out.contains("DF005"), "{out}");
        assert!(out.contains("× The image runs as root."), "{out}");
        assert!(out.contains("[app/Dockerfile:3:6]"), "{out}");
        assert!(out.contains(" 3 │ USER root"), "{out}");
        assert!(out.contains("runs as a non-root user"), "{out}");
        assert!(out.contains("help: Add a `USER` instruction"), "{out}");
        assert!(out.contains("see `shipshape explain DF005`"), "{out}");
        // The warning's empty region labels its whole line.
        assert!(
            out.contains("⚠ The base image is not pinned by digest."),
            "{out}"
        );
        assert!(out.contains("[app/Dockerfile:1:6]"), "{out}");
        assert!(out.contains(" 1 │ FROM alpine:3.20"), "{out}");
        // The notification and the summary.
        assert!(
            out.contains("error: could not load `broken.yml`: invalid YAML (ci/broken.yml:4:2)"),
            "{out}"
        );
        assert!(
            out.ends_with("1 error, 1 warning, 0 notes (2 ignored) in 1 repository\n"),
            "{out}"
        );
        // No colour codes without colour.
        assert!(!out.contains('\u{1b}'), "{out}");
        // Findings keep their order.
        let first = out.find("DF005").unwrap_or(usize::MAX);
        let second = out.find("DF010").unwrap_or(0);
        assert!(first < second, "{out}");
    }

    #[test]
    fn label_underlines_exact_columns() {
        let out = render(&[testutil::report(".")], &testutil::rules(), false);
        // `root` sits at columns 6..10 of `USER root`: the underline starts under column 6.
        let line = out
            .lines()
            .skip_while(|l| !l.contains(" 3 │ USER root"))
            .nth(1)
            .unwrap_or_default();
        let gutter = line.find('·').unwrap_or(0);
        let underline = line.get(gutter..).unwrap_or_default();
        assert!(underline.starts_with("·      ──┬─"), "{out}");
    }

    #[test]
    fn missing_source_still_names_the_location() {
        let mut report = testutil::report("repo");
        report.sources.clear();
        let out = render(&[report.clone(), report], &testutil::rules(), false);
        assert!(out.contains("at repo/app/Dockerfile:3:6"), "{out}");
        assert!(!out.contains("USER root"), "{out}");
        assert!(out.contains("(repo/ci/broken.yml:4:2)"), "{out}");
        assert!(out.ends_with("in 2 repositories\n"), "{out}");
    }

    #[test]
    fn out_of_range_lines_render_without_snippet() {
        let mut report = testutil::report(".");
        report.findings[0].location = Location::point("app/Dockerfile", 99, 1);
        report.findings[1].location = Location::point("app/Dockerfile", 4, 1);
        let out = render(&[report], &[], false);
        assert!(out.contains("at app/Dockerfile:99:1"), "{out}");
        // Line 4 is the empty line after the final newline: either a snippet or a location.
        assert!(out.contains("app/Dockerfile:4:1"), "{out}");
        // Without rule metadata the help still points at `explain`.
        assert!(out.contains("help: see `shipshape explain DF005`"), "{out}");
        assert!(!out.contains("Failed to read"), "{out}");
    }

    #[test]
    fn spans_follow_characters_and_lines() {
        let text = "é = 1\r\nab\n";
        let loc = |line, col, end_line, end_col| Location {
            file: "f".to_string(),
            line,
            col,
            end_line,
            end_col,
        };
        // Column 3 is after `é ` (3 bytes).
        assert_eq!(label_span(text, &loc(1, 3, 1, 4)), Some((3, 1)));
        // Invalid end (before start): the whole first line, without `\r`.
        assert_eq!(label_span(text, &loc(1, 3, 1, 1)), Some((0, 6)));
        // A multi-line region.
        assert_eq!(label_span(text, &loc(1, 1, 2, 2)), Some((0, 9)));
        // Columns past the end clamp to the end of the line.
        assert_eq!(label_span(text, &loc(2, 1, 2, 50)), Some((8, 2)));
        assert_eq!(label_span(text, &loc(9, 1, 9, 1)), None);
        assert_eq!(label_span(text, &loc(0, 1, 0, 1)), None);
    }

    #[test]
    fn color_uses_ansi() {
        let out = render(&[testutil::report(".")], &testutil::rules(), true);
        assert!(out.contains('\u{1b}'), "{out}");
        assert!(out.contains("DF005"), "{out}");
    }
}
