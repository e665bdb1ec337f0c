//! Reports: turns the per-root results of a check into output for people (`human`, and
//! `concise` one line per finding), for GitHub code scanning and other SARIF consumers
//! (`sarif`), for scripts (`json`), for CI systems (`github` annotations, `markdown` job
//! summaries, `gitlab` Code Quality, `junit` test reports).
//!
//! This module owns the pieces all formats share: the finding [`fingerprint`] and the
//! [`Summary`] counts.

pub mod concise;
pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::finding::{RootReport, Severity};
use crate::policy::meta::RuleMeta;

/// What every format's renderer is given besides the reports.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Every rule of the run, sorted by ID.
    pub rules: &'a [RuleMeta],
    /// shipshape's version.
    pub version: &'a str,
    /// Colour escapes in human output.
    pub color: bool,
    /// Human output: nothing on success, only findings and the summary otherwise.
    pub quiet: bool,
    /// Summaries break counts down per rule.
    pub statistics: bool,
    /// SARIF: the analysis category (`automationDetails.id`) given with `--category`,
    /// instead of the one derived from each root's place in its repository.
    pub category: Option<&'a str>,
    /// SARIF: all roots in one run.
    pub sarif_single_run: bool,
}

impl<'a> Context<'a> {
    /// A context with the given rules and version and every option off.
    pub fn new(rules: &'a [RuleMeta], version: &'a str) -> Self {
        Context {
            rules,
            version,
            color: false,
            quiet: false,
            statistics: false,
            category: None,
            sarif_single_run: false,
        }
    }

    /// The metadata of rule `id`.
    pub fn rule(&self, id: &str) -> Option<&'a RuleMeta> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// `location` with a zero-width point on a line whose text is known (`source`, the file's
/// text) widened to the rest of that line's text (trailing whitespace left out), so viewers
/// underline what the finding is about. Other locations are returned as they are.
pub fn widen(
    location: &crate::location::Location,
    source: Option<&str>,
) -> crate::location::Location {
    let mut loc = location.clone();
    let point = (loc.end_line, loc.end_col) <= (loc.line, loc.col);
    if !point || loc.line == 0 {
        return loc;
    }
    let start_col = loc.col.max(1);
    let text = source.and_then(|s| s.lines().nth(usize::try_from(loc.line - 1).ok()?));
    if let Some(text) = text {
        let width = u32::try_from(text.trim_end().chars().count()).unwrap_or(u32::MAX);
        if width >= start_col {
            loc.col = start_col;
            loc.end_line = loc.line;
            loc.end_col = width.saturating_add(1);
        }
    }
    loc
}

/// `file` (relative to its root) as a path relative to the repository root: the root's
/// [`RootReport::repo_dir`] joined with it, `/`-separated, without `./`.
pub fn repo_path(report: &RootReport, file: &str) -> String {
    let file = file.replace('\\', "/");
    let mut file = file.as_str();
    while let Some(rest) = file.strip_prefix("./") {
        file = rest;
    }
    if report.repo_dir.is_empty() || file.is_empty() || file == "." {
        if file.is_empty() || file == "." {
            return if report.repo_dir.is_empty() {
                ".".to_string()
            } else {
                report.repo_dir.clone()
            };
        }
        return file.to_string();
    }
    format!("{}/{file}", report.repo_dir)
}

/// The repository `root` belongs to and the root's path inside it (see
/// [`RootReport::repo_dir`]): `repo_root` when given, else the nearest directory at or above
/// the root holding `.git` (a directory, or a file for worktrees and submodules), else the
/// root itself. Only the existence of `.git` entries is looked at above the root; nothing
/// there is read.
pub fn locate(root: &Path, repo_root: Option<&Path>) -> (Option<PathBuf>, String) {
    let Ok(abs) = std::fs::canonicalize(root) else {
        return (None, String::new());
    };
    let repo = match repo_root {
        Some(r) => std::fs::canonicalize(r).ok(),
        None => abs
            .ancestors()
            .find(|d| d.join(".git").symlink_metadata().is_ok())
            .map(Path::to_path_buf),
    };
    let Some(repo) = repo else {
        return (Some(abs), String::new());
    };
    match abs.strip_prefix(&repo) {
        Ok(rel) => {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            (Some(repo), parts.join("/"))
        }
        // A --repo-root that does not hold the root: the root is its own repository.
        Err(_) => (Some(abs), String::new()),
    }
}

/// FNV-1a 64-bit offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Feeds `bytes` into a running FNV-1a 64-bit hash.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// A line's content as identities see it: runs of whitespace become one space, and the ends
/// are trimmed, so re-indenting or re-aligning a line keeps its findings' identity.
pub fn normalise_line(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A stable identity for a finding that survives line shifts: a 16-digit lowercase hex FNV-1a
/// 64-bit hash of the rule ID, the file path, the text of the node pointed at (normalised by
/// [`normalise_line`]; see `located_text` in the crate root) and `occurrence`, the 0-based
/// count of earlier findings of the same rule in the same file with identical normalised text.
///
/// The value is the same on every platform and in every release; it is reported as SARIF
/// `partialFingerprints.primaryLocationLineHash` and as `fingerprint` in JSON output.
pub fn fingerprint(rule: &str, file: &str, line_text: &str, occurrence: usize) -> String {
    let mut hash = FNV_OFFSET;
    // A 0xff byte never occurs in UTF-8, so it separates the fields unambiguously.
    for field in [rule, file, normalise_line(line_text).as_str()] {
        hash = fnv1a(hash, field.as_bytes());
        hash = fnv1a(hash, &[0xff]);
    }
    hash = fnv1a(hash, &(occurrence as u64).to_le_bytes());
    format!("{hash:016x}")
}

/// Counts of kept findings by severity, plus the findings dropped by selection or
/// configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Kept findings of severity `error`.
    pub errors: usize,
    /// Kept findings of severity `warning`.
    pub warnings: usize,
    /// Kept findings of severity `note`.
    pub notes: usize,
    /// Findings dropped by `--select`/`--ignore` or configuration.
    pub ignored: usize,
    /// Findings silenced by inline suppressions.
    pub suppressed: usize,
    /// Findings left out because the baseline knows them.
    pub baselined: usize,
}

impl Summary {
    /// The number of kept findings (errors, warnings and notes).
    pub fn findings(&self) -> usize {
        self.errors + self.warnings + self.notes
    }
}

/// Totals the findings of all `reports` by severity, and their ignored counts.
pub fn summarize(reports: &[RootReport]) -> Summary {
    let mut summary = Summary::default();
    for report in reports {
        for finding in &report.findings {
            match finding.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Note => summary.notes += 1,
            }
        }
        summary.ignored += report.ignored;
        summary.suppressed += report.suppressed_count;
        summary.baselined += report.baselined;
    }
    summary
}

/// Test fixtures shared by the report tests.
#[cfg(test)]
pub(crate) mod testutil {
    use std::sync::Arc;

    use crate::finding::{Finding, Notification, RootReport, Severity};
    use crate::location::Location;
    use crate::policy::meta::{RuleDocs, RuleMeta};

    /// A rule with the given ID, title and severity and some documentation.
    pub fn rule(id: &str, title: &str, severity: Severity) -> RuleMeta {
        RuleMeta {
            id: id.to_string(),
            title: title.to_string(),
            severity,
            tags: vec!["docker".to_string(), "security".to_string()],
            security: id == "DF005",
            security_severity: None,
            precision: crate::policy::schema::Precision::VeryHigh,
            help_uri: Some(crate::policy::meta::rule_reference_uri(id)),
            docs: RuleDocs {
                what: format!("Checks that the image {title}."),
                why: "Because it matters.".to_string(),
                failing: "USER root\n".to_string(),
                passing: "USER app\n".to_string(),
                decisions: String::new(),
                fix: "Add a `USER` instruction naming an unprivileged user.".to_string(),
                fix_gitlab: String::new(),
            },
        }
    }

    /// A finding of `rule` at the given place, with a fingerprint computed from `text`.
    pub fn finding(
        rule: &str,
        severity: Severity,
        file: &str,
        (line, col, end_line, end_col): (u32, u32, u32, u32),
        message: &str,
    ) -> Finding {
        Finding {
            rule: rule.to_string(),
            severity,
            message: message.to_string(),
            location: Location {
                file: file.to_string(),
                line,
                col,
                end_line,
                end_col,
            },
            fingerprint: super::fingerprint(rule, file, "", 0),
        }
    }

    /// A report for `root` with two findings in `app/Dockerfile`, one notification and two
    /// ignored findings.
    pub fn report(root: &str) -> RootReport {
        let dockerfile = "FROM alpine:3.20\nRUN apk add curl\nUSER root\n";
        let mut report = RootReport {
            root: root.to_string(),
            findings: vec![
                finding(
                    "DF005",
                    Severity::Error,
                    "app/Dockerfile",
                    (3, 6, 3, 10),
                    "The image runs as root.",
                ),
                finding(
                    "DF010",
                    Severity::Warning,
                    "app/Dockerfile",
                    (1, 6, 1, 6),
                    "The base image is not pinned by digest.",
                ),
            ],
            ignored: 2,
            notifications: vec![Notification {
                level: Severity::Error,
                message: "could not load `broken.yml`: invalid YAML".to_string(),
                location: Location::point("ci/broken.yml", 4, 2),
            }],
            ..RootReport::default()
        };
        report
            .sources
            .insert("app/Dockerfile".to_string(), Arc::from(dockerfile));
        report
    }

    /// The rules the fixture report refers to, plus one without findings.
    pub fn rules() -> Vec<RuleMeta> {
        vec![
            rule("DF001", "uses a supported base image", Severity::Note),
            rule("DF005", "runs as a non-root user", Severity::Error),
            rule("DF010", "pins base images by digest", Severity::Warning),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_hex() {
        let a = fingerprint("DF005", "app/Dockerfile", "  USER root  ", 0);
        assert_eq!(a.len(), 16);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        // The same inputs always give the same value, and surrounding whitespace of the line
        // (indentation changes) does not matter.
        assert_eq!(a, fingerprint("DF005", "app/Dockerfile", "USER root", 0));
        assert_eq!(
            a,
            fingerprint("DF005", "app/Dockerfile", "\tUSER root\r", 0)
        );
        assert_eq!(
            a,
            fingerprint("DF005", "app/Dockerfile", "USER   \t root", 0),
            "re-aligned text keeps its identity"
        );
        // Pinned values: the hash must never change between releases, or every finding
        // already known to code scanning would reappear as new.
        assert_eq!(a, "9344144bc5298bb8");
        assert_eq!(
            fingerprint("DF005", "app/Dockerfile", "USER root", 1),
            "b23edb54d018d5d9"
        );
        assert_eq!(fingerprint("", "", "", 0), fingerprint("", "", "", 0));
    }

    #[test]
    fn fingerprint_differs_by_each_input() {
        let base = fingerprint("DF005", "app/Dockerfile", "USER root", 0);
        assert_ne!(base, fingerprint("DF005", "app/Dockerfile", "USER root", 1));
        assert_ne!(base, fingerprint("DF006", "app/Dockerfile", "USER root", 0));
        assert_ne!(base, fingerprint("DF005", "Dockerfile", "USER root", 0));
        assert_ne!(base, fingerprint("DF005", "app/Dockerfile", "USER app", 0));
        // Field boundaries matter: moving text between fields changes the hash.
        assert_ne!(fingerprint("ab", "c", "", 0), fingerprint("a", "bc", "", 0));
    }

    #[test]
    fn summarize_counts_by_severity() {
        let mut second = testutil::report("other");
        second.findings.push(testutil::finding(
            "DF001",
            Severity::Note,
            "Dockerfile",
            (1, 1, 1, 1),
            "note",
        ));
        second.ignored = 1;
        second.suppressed_count = 4;
        let summary = summarize(&[testutil::report("."), second]);
        assert_eq!(
            summary,
            Summary {
                errors: 2,
                warnings: 2,
                notes: 1,
                ignored: 3,
                suppressed: 4,
                baselined: 0,
            }
        );
        assert_eq!(summary.findings(), 5);
        assert_eq!(summarize(&[]), Summary::default());
    }
}
