//! Human-readable report, the one a person reads first: one diagnostic per finding (a
//! `error[DF005]: runs as a non-root user` header naming severity, rule and title, the source
//! snippet with the region labelled by what is wrong there, and help on how to fix it), then
//! the file-level findings one line each under their file, tool notifications as plain lines,
//! and the summary (per-rule statistics with `--statistics`, a line per root when there are
//! several, and the total line).
//!
//! The output depends only on the inputs and the context's `color` flag, never on the
//! terminal: the width is fixed and hyperlinks are off, so it is safe to snapshot.

use std::fmt;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
    SourceSpan,
};

use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::location::{LineIndex, Location};
use crate::policy::meta::RuleMeta;

use super::{Context, Summary, summarize};

/// The fixed width, in columns, that diagnostics are wrapped to.
pub const WIDTH: usize = 100;

/// Whether `location` is a file-level place rather than a region: an empty region at the very
/// start of its file. Missing-evidence findings (a rule found nothing to point at, so the
/// finding lands on the root's fallback file, e.g. `package.json`) and findings about a whole
/// file (a node whose location is the file itself) have such locations; there is no source
/// worth showing for them.
pub fn is_file_level(location: &Location) -> bool {
    location.line <= 1
        && location.col <= 1
        && (location.end_line, location.end_col) <= (location.line, location.col)
}

/// Renders `reports` for a terminal or a log:
///
/// 1. every finding with a region as a diagnostic, in the order given (reports in order,
///    findings in order);
/// 2. the file-level findings (see [`is_file_level`]) one line each, `error[AL001] message`,
///    under a heading naming their file, files in order of first appearance;
/// 3. suppressed findings (`--show-suppressed`) and tool notifications, one line each;
/// 4. the summary (see [`summary`]).
///
/// `ctx.rules` supplies each finding's title (its header) and fix (its help); a finding of a
/// rule missing from them is still rendered, headed by its message. With `ctx.color`, ANSI
/// colours are used; without, the output is plain Unicode text. File paths are relative to
/// their root, prefixed with the root when there is more than one report.
pub fn render(reports: &[RootReport], ctx: &Context<'_>) -> String {
    let color = ctx.color;
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
    // File-level findings by displayed path, in order of first appearance.
    let mut file_level: Vec<(String, Vec<&Finding>)> = Vec::new();
    for report in reports {
        for finding in &report.findings {
            let path = display_path(&report.root, &finding.location.file, prefix_root);
            if is_file_level(&finding.location) {
                match file_level.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, list)) => list.push(finding),
                    None => file_level.push((path, vec![finding])),
                }
                continue;
            }
            let rule = ctx.rule(&finding.rule);
            let source = report.sources.get(&finding.location.file).cloned();
            let gitlab = report.gitlab_files.contains(&finding.location.file);
            out.push_str(&header(finding, rule, color));
            let diagnostic = FindingDiagnostic::new(finding, rule, gitlab, &path, source);
            if diagnostic.source.is_none() {
                out.push_str(&format!(
                    "  at {}: {}\n",
                    location_text(&path, &finding.location),
                    one_line(&finding.message)
                ));
            }
            let mut rendered = String::new();
            match handler.render_report(&mut rendered, &diagnostic) {
                // The diagnostic's own message is empty: its line (miette's severity icon
                // and nothing else) is dropped, as the header above says it all.
                Ok(()) => {
                    let body = rendered.split_once('\n').map_or("", |(_, rest)| rest);
                    out.push_str(body);
                }
                // Only reachable if miette cannot read back a span we checked; fall back to a
                // plain line rather than lose the finding.
                Err(_) => out.push_str(&format!(
                    "  at {}: {}\n",
                    location_text(&path, &finding.location),
                    one_line(&finding.message)
                )),
            }
            out.push('\n');
        }
    }

    for (path, findings) in &file_level {
        let heading = format!("{path} (no particular line):");
        out.push_str(&bold(&heading, color));
        out.push('\n');
        for finding in findings {
            out.push_str(&format!(
                "  {} {}\n",
                severity_code(finding.severity, &finding.rule, color),
                one_line(&finding.message)
            ));
        }
        out.push('\n');
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

    out.push_str(&summary(reports, ctx));
    out
}

/// The closing summary of a human or concise report, each part ending in a newline:
///
/// - with `ctx.statistics`, a table of the kept findings per rule (count, rule, title),
///   most frequent first, then by rule ID, followed by an empty line;
/// - with several reports, one line per root: `root: 2 errors, 1 warning, 0 notes`;
/// - the total line (see [`summary_line`]).
pub fn summary(reports: &[RootReport], ctx: &Context<'_>) -> String {
    let mut out = String::new();
    if ctx.statistics {
        let rows = statistics(reports);
        if !rows.is_empty() {
            let count_width = rows.iter().map(|(_, n)| n.to_string().len()).max();
            let rule_width = rows.iter().map(|(r, _)| r.len()).max();
            let (count_width, rule_width) = (count_width.unwrap_or(1), rule_width.unwrap_or(0));
            for (rule, n) in &rows {
                let title = ctx.rule(rule).map_or("", |m| m.title.as_str());
                let line = format!("{n:>count_width$}  {rule:<rule_width$}  {title}");
                out.push_str(line.trim_end());
                out.push('\n');
            }
            out.push('\n');
        }
    }
    if reports.len() > 1 {
        for report in reports {
            let s = summarize(std::slice::from_ref(report));
            out.push_str(&format!(
                "{}: {}, {}, {}\n",
                report.root,
                plural(s.errors, "error", "errors"),
                plural(s.warnings, "warning", "warnings"),
                plural(s.notes, "note", "notes"),
            ));
        }
    }
    out.push_str(&summary_line(&summarize(reports), reports.len()));
    out.push('\n');
    out
}

/// The number of kept findings of each rule, most frequent first, ties by rule ID.
pub fn statistics(reports: &[RootReport]) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for finding in reports.iter().flat_map(|r| &r.findings) {
        *counts.entry(finding.rule.as_str()).or_default() += 1;
    }
    let mut rows: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(rule, n)| (rule.to_string(), n))
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
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

/// A diagnostic's first line: `error[DF005]: runs as a non-root user` (the finding's message
/// instead of the title when the rule is unknown), ending in a newline.
fn header(finding: &Finding, rule: Option<&RuleMeta>, color: bool) -> String {
    let title = rule.map_or_else(|| one_line(&finding.message), |r| one_line(&r.title));
    let code = severity_code(finding.severity, &finding.rule, color);
    if color {
        format!("{code}\u{1b}[1m: {title}\u{1b}[0m\n")
    } else {
        format!("{code}: {title}\n")
    }
}

/// `error[DF005]`, in the severity's colour (bold) with `color`.
pub(crate) fn severity_code(severity: Severity, rule: &str, color: bool) -> String {
    let text = format!("{severity}[{rule}]");
    if color {
        format!("\u{1b}[1;{}m{text}\u{1b}[0m", severity_color(severity))
    } else {
        text
    }
}

/// The ANSI colour code of a severity: red errors, yellow warnings, cyan notes.
fn severity_color(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "31",
        Severity::Warning => "33",
        Severity::Note => "36",
    }
}

/// `text` in bold with `color`.
fn bold(text: &str, color: bool) -> String {
    if color {
        format!("\u{1b}[1m{text}\u{1b}[0m")
    } else {
        text.to_string()
    }
}

/// `text` on one line: line breaks (and the spaces around them) become one space.
pub(crate) fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `n` followed by the singular or plural noun.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The path shown for `file`: prefixed with `root` when several roots are reported.
fn display_path(root: &str, file: &str, prefix_root: bool) -> String {
    if !prefix_root || root.is_empty() {
        file.to_string()
    } else if file == "." {
        // The root's own location (a root without any file).
        root.to_string()
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
        let code = severity_color(notification.level);
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

/// The column at which miette starts the label of the region `offset..offset + len` of
/// `text` (an estimate: characters counted one column wide, tabs four): the gutter, then
/// for a one-line region the middle of its underline and `╰── `, for a region over several
/// lines the multi-line marker.
fn label_indent(text: &str, offset: usize, len: usize) -> usize {
    let before = text.get(..offset).unwrap_or_default();
    let region = text.get(offset..offset + len).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let width = |s: &str| {
        s.chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum::<usize>()
    };
    // The last line shown is the one after the region's last line, when there is one.
    let first_line = before.matches('\n').count() + 1;
    let last_line = first_line + region.matches('\n').count();
    let lines = text.lines().count();
    let gutter = (last_line + 1).min(lines.max(1)).to_string().len() + 4;
    if region.contains('\n') {
        return gutter + 6;
    }
    let start = width(before.get(line_start..).unwrap_or_default());
    let end = (start + width(region)).max(start + 1);
    gutter + (start + end) / 2 + 4
}

/// `text` broken at spaces into lines of at most `width` characters (never narrower than 40;
/// a longer word stays whole), joined by newlines.
fn wrap(text: &str, width: usize) -> String {
    let width = width.max(40);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
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

/// A finding in the shape miette renders: the snippet with its label and the help. Its
/// message is empty (the report writes the header line itself), and it has no code.
struct FindingDiagnostic {
    /// The finding's severity.
    severity: Severity,
    /// The rule's fix and a pointer to `shipshape explain`.
    help: String,
    /// The file's text named `path:line:col`, when a snippet can be shown.
    source: Option<NamedSource<Arc<str>>>,
    /// The labelled region of `source`: what is wrong there (the finding's message).
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

        let snippet = source.and_then(|text| {
            let (offset, len) = label_span(&text, location)?;
            if offset >= text.len() {
                // An empty region at the very end (or an empty file) has nothing to underline.
                return None;
            }
            let indent = label_indent(&text, offset, len);
            let span = SourceSpan::from((offset, len));
            let named = NamedSource::new(&here, text);
            // Only keep a snippet miette is able to read back.
            if named.read_span(&span, 1, 1).is_err() || named.read_span(&span, 0, 0).is_err() {
                return None;
            }
            let message = wrap(&one_line(&finding.message), WIDTH.saturating_sub(indent));
            let label = LabeledSpan::new_primary_with_span(Some(message), span);
            Some((named, label))
        });
        let (source, label) = snippet.unzip();
        FindingDiagnostic {
            severity: finding.severity,
            help,
            source,
            label,
        }
    }
}

impl fmt::Debug for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic")
            .field("severity", &self.severity)
            .field("help", &self.help)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
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
mod tests;
