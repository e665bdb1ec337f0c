//! Tests of the human report: snapshots of one root, of findings with no line to show, of
//! statistics and several roots; labels and wrapping.
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

/// Renders `reports` with the fixture rules and the given options.
fn render_with(reports: &[RootReport], color: bool, statistics: bool) -> String {
    let rules = testutil::rules();
    let mut ctx = Context::new(&rules, "0.1.0");
    ctx.color = color;
    ctx.statistics = statistics;
    render(reports, &ctx)
}

#[test]
fn renders_header_label_and_help() {
    let out = render_with(&[testutil::report(".")], false, false);
    // Header with severity, rule and title; the snippet header with file:line:col; the
    // labelled line, labelled by the finding's message; help with the fix and the
    // explain hint.
    assert!(
        out.starts_with("error[DF005]: runs as a non-root user\n   ╭─[app/Dockerfile:3:6]\n"),
        "{out}"
    );
    assert!(out.contains(" 3 │ USER root"), "{out}");
    assert!(out.contains("╰── The image runs as root.\n"), "{out}");
    assert!(out.contains("help: Add a `USER` instruction"), "{out}");
    assert!(out.contains("see `shipshape explain DF005`"), "{out}");
    // No severity icon line from miette: the header says it.
    assert!(!out.contains('×'), "{out}");
    // The warning's empty region labels its whole line.
    assert!(
        out.contains("warning[DF010]: pins base images by digest\n   ╭─[app/Dockerfile:1:6]\n"),
        "{out}"
    );
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
    insta::assert_snapshot!("human_one_root", out);
}

#[test]
fn file_level_findings_are_one_line_each_under_their_file() {
    let mut report = testutil::report(".");
    report.notifications.clear();
    let at_start = |rule: &str, file: &str, message: &str| {
        testutil::finding(rule, Severity::Error, file, (1, 1, 1, 1), message)
    };
    report.findings.insert(
        0,
        at_start("AL001", "package.json", "the repository has no alert rules"),
    );
    report
        .findings
        .push(at_start("DF001", "app/Dockerfile", "one stage\nonly"));
    report
        .findings
        .push(at_start("OB001", "package.json", "no @sentry/* dependency"));
    report.sources.insert(
        "package.json".to_string(),
        Arc::from("{\n  \"name\": \"x\"\n}\n"),
    );
    let out = render_with(&[report], false, false);
    // No box over `package.json:1`: the findings follow the diagnostics, grouped by file
    // in order of first appearance, messages on one line.
    assert!(!out.contains("package.json:1"), "{out}");
    assert!(!out.contains("app/Dockerfile:1:1"), "{out}");
    insta::assert_snapshot!("human_file_level", out);
    let boxed = out.find("error[DF005]").unwrap_or(usize::MAX);
    let compact = out.find("package.json (no particular line):").unwrap_or(0);
    assert!(boxed < compact, "{out}");
}

#[test]
fn file_level_is_an_empty_region_at_the_start_of_a_file() {
    let loc = |line, col, end_line, end_col| Location {
        file: "f".to_string(),
        line,
        col,
        end_line,
        end_col,
    };
    assert!(is_file_level(&Location::file_start("package.json")));
    assert!(is_file_level(&loc(1, 0, 1, 0)));
    assert!(is_file_level(&loc(0, 0, 0, 0)));
    // A region at the start (the `FROM` of line 1), or an empty one elsewhere, is shown.
    assert!(!is_file_level(&loc(1, 1, 1, 5)));
    assert!(!is_file_level(&loc(1, 1, 2, 1)));
    assert!(!is_file_level(&loc(1, 6, 1, 6)));
    assert!(!is_file_level(&loc(2, 1, 2, 1)));
}

#[test]
fn statistics_and_several_roots_extend_the_summary() {
    let mut second = testutil::report("services/api");
    second.findings.push(testutil::finding(
        "DF001",
        Severity::Note,
        "Dockerfile",
        (1, 1, 1, 1),
        "note",
    ));
    second.notifications.clear();
    let mut first = testutil::report(".");
    first.notifications.clear();
    let out = render_with(&[first.clone(), second.clone()], false, true);
    let summary_start = out.find("2  DF005").unwrap_or(0);
    insta::assert_snapshot!(
        "human_statistics_two_roots",
        out.get(summary_start..).unwrap_or_default()
    );
    // Several roots prefix paths with their root; the root's own location is the root.
    assert!(out.contains("[services/api/app/Dockerfile:3:6]"), "{out}");
    assert_eq!(display_path("services/api", ".", true), "services/api");
    assert_eq!(
        display_path("services/api/", "Dockerfile", true),
        "services/api/Dockerfile"
    );
    assert_eq!(
        display_path("services/api", "Dockerfile", false),
        "Dockerfile"
    );
    // Without --statistics, only the per-root lines and the total.
    let out = render_with(&[first, second], false, false);
    assert!(
        out.ends_with(
            "services/api/Dockerfile (no particular line):\n  note[DF001] note\n\n\
             .: 1 error, 1 warning, 0 notes\n\
             services/api: 1 error, 1 warning, 1 note\n\
             2 errors, 2 warnings, 1 note (4 ignored) in 2 repositories\n"
        ),
        "{out}"
    );
}

#[test]
fn statistics_sort_by_count_then_rule() {
    let mut report = testutil::report(".");
    report.findings = ["B", "A", "C", "A", "C", "D"]
        .iter()
        .map(|r| testutil::finding(r, Severity::Note, "f", (2, 1, 2, 2), "m"))
        .collect();
    let rows = statistics(&[report]);
    let want: Vec<(String, usize)> = [("A", 2), ("C", 2), ("B", 1), ("D", 1)]
        .iter()
        .map(|(r, n)| (r.to_string(), *n))
        .collect();
    assert_eq!(rows, want);
    assert!(statistics(&[]).is_empty());
}

#[test]
fn label_underlines_exact_columns() {
    let out = render_with(&[testutil::report(".")], false, false);
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
    let out = render_with(&[report.clone(), report], false, false);
    assert!(
        out.starts_with(
            "error[DF005]: runs as a non-root user\n  \
             at repo/app/Dockerfile:3:6: The image runs as root.\n  help: "
        ),
        "{out}"
    );
    assert!(!out.contains("USER root"), "{out}");
    assert!(out.contains("(repo/ci/broken.yml:4:2)"), "{out}");
    assert!(out.ends_with("in 2 repositories\n"), "{out}");
}

#[test]
fn out_of_range_lines_render_without_snippet() {
    let mut report = testutil::report(".");
    report.findings[0].location = Location::point("app/Dockerfile", 99, 1);
    report.findings[1].location = Location::point("app/Dockerfile", 4, 1);
    let ctx = Context::new(&[], "0.1.0");
    let out = render(&[report], &ctx);
    // Without rule metadata, the header names the message.
    assert!(
        out.starts_with("error[DF005]: The image runs as root.\n  at app/Dockerfile:99:1: "),
        "{out}"
    );
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
fn long_labels_wrap_within_the_width() {
    let mut report = testutil::report(".");
    let long = "word ".repeat(60);
    report.findings[0].message = long.clone();
    // A region over two lines: its label sits at the left.
    report.findings[1].location = Location {
        file: "app/Dockerfile".to_string(),
        line: 1,
        col: 6,
        end_line: 2,
        end_col: 4,
    };
    report.findings[1].message = long;
    let out = render_with(&[report], false, false);
    for line in out.lines() {
        assert!(line.chars().count() <= WIDTH, "{line:?} in\n{out}");
    }
    assert_eq!(out.matches("word").count(), 120, "{out}");
    assert_eq!(wrap("a bb ccc", 1), "a bb ccc");
    assert_eq!(wrap(&"x".repeat(50), 40), "x".repeat(50));
    assert_eq!(
        wrap(&"abcd ".repeat(10), 40),
        format!("{}\nabcd abcd", "abcd ".repeat(8).trim_end())
    );
}

#[test]
fn color_uses_ansi() {
    let out = render_with(&[testutil::report(".")], true, false);
    assert!(
        out.starts_with(
            "\u{1b}[1;31merror[DF005]\u{1b}[0m\u{1b}[1m: runs as a non-root user\u{1b}[0m\n"
        ),
        "{out}"
    );
    assert!(out.contains("\u{1b}[1;33mwarning[DF010]\u{1b}[0m"), "{out}");
}
