//! The filter stage: which of a root's evaluated findings its report keeps, and what a run's
//! kept findings decide about its exit. It owns the rule selection (`--select`/`--ignore`,
//! rules a configuration turns off), the configuration's `exclude` globs, inline suppressions
//! (parsed by `suppress`, applied here), findings in files that failed to load, ordering and
//! de-duplication, fingerprints, the baseline (its file format is `baseline`'s), the count of
//! stale baseline entries and the fail-on verdict. [`filter`] puts every raw finding of a root
//! in one bucket of a [`Filtered`]; [`verdict`] is a pure function of reports and a threshold.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::baseline::{self, Entry};
use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::location::Location;
use crate::model::Suppression;
use crate::policy::RawFinding;
use crate::{report, suppress};

/// Which rules a check keeps.
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    /// When non-empty, only these rule IDs are kept.
    pub select: Vec<String>,
    /// These rule IDs are dropped (counted as ignored).
    pub ignore: Vec<String>,
    /// Severity overrides by rule ID (configuration).
    pub severities: HashMap<String, Severity>,
    /// Findings in files matching these globs are dropped (configuration `exclude`).
    pub exclude: Vec<Exclude>,
}

/// One `exclude` glob of a configuration.
#[derive(Debug, Clone)]
pub struct Exclude {
    /// The root-relative path glob.
    pub glob: globset::GlobMatcher,
    /// Rules it may not drop: those an organisation config above the file that wrote the glob
    /// has locked.
    pub spares: Vec<String>,
}

impl Exclude {
    /// An exclude of `pattern` that spares nothing.
    pub fn new(pattern: &str) -> Result<Exclude, globset::Error> {
        globset::Glob::new(pattern).map(|g| Exclude {
            glob: g.compile_matcher(),
            spares: Vec::new(),
        })
    }

    /// Whether it drops a finding of `rule` in `file`.
    pub fn drops(&self, rule: &str, file: &str) -> bool {
        self.glob.is_match(file) && !self.spares.iter().any(|s| s == rule)
    }
}

impl RuleFilter {
    /// Whether findings of `rule` are kept.
    pub fn keeps(&self, rule: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s.eq_ignore_ascii_case(rule)))
            && !self.ignore.iter().any(|s| s.eq_ignore_ascii_case(rule))
    }
}

/// What filtering one root's findings needs besides the findings.
#[derive(Debug, Clone, Copy)]
pub struct Criteria<'a> {
    /// The root as given (baseline entries recorded with a root match only that root).
    pub root: &'a str,
    /// Rule selection and `exclude` globs.
    pub rules: &'a RuleFilter,
    /// The root's inline suppression comments.
    pub suppressions: &'a [Suppression],
    /// The IDs of the loaded rules (a suppression naming another is reported).
    pub known: &'a BTreeSet<String>,
    /// Rules an organisation config locked, with that config's path: suppressions do not
    /// apply to them.
    pub locked: &'a [(String, String)],
    /// Files that failed to load as a whole: only SS001 findings may point at them.
    pub unloadable: &'a BTreeSet<String>,
    /// The root's file texts by relative path, for fingerprints.
    pub sources: &'a BTreeMap<String, Arc<str>>,
    /// The baseline's known findings, when a baseline is used.
    pub baseline: Option<&'a BTreeSet<Entry>>,
}

/// Why a finding was ignored (counted in a report's `ignored`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// Its file matches an `exclude` glob that does not spare its rule.
    Excluded,
    /// Its rule is not selected (`--select`/`--ignore`, turned off by the configuration).
    Unselected,
}

/// One root's raw findings sorted into buckets: each raw finding lands in exactly one, except
/// that `kept` holds one finding per rule and location however many raw findings led to it.
#[derive(Debug, Clone, Default)]
pub struct Filtered {
    /// The findings the report shows: sorted by file, line, column, rule and message,
    /// fingerprinted.
    pub kept: Vec<Finding>,
    /// Findings an inline suppression silenced, fingerprinted, each with the suppression's
    /// justification (empty when it gives none).
    pub suppressed: Vec<(Finding, String)>,
    /// Findings the baseline knew, in the order of `kept`.
    pub baselined: Vec<Finding>,
    /// Findings dropped by `exclude` or the rule selection, with the reason, in evaluation
    /// order.
    pub ignored: Vec<(RawFinding, Ignored)>,
    /// Findings in files that failed to load (their rules saw a partial model; SS001 reports
    /// the file instead). Not counted anywhere.
    pub unloadable: Vec<RawFinding>,
    /// Notifications about the suppressions: unknown or locked rules, unused suppressions.
    pub notes: Vec<Notification>,
}

/// The rule reporting files that could not be loaded; its findings may point at them.
const UNLOADABLE_RULE: &str = "SS001";

/// Sorts a root's raw findings (each with the severity in effect) into [`Filtered`]'s buckets.
/// In order: an `exclude` glob ignores a finding; then a suppression silences it (or, for an
/// unselected rule, it is ignored); then a finding in an unloadable file is dropped; then the
/// rule selection ignores it. The rest are sorted, de-duplicated and fingerprinted (the
/// occurrence counter running over kept findings, then suppressed ones), and those the
/// baseline knows are moved to `baselined`.
pub fn filter(raw: Vec<(RawFinding, Severity)>, criteria: &Criteria<'_>) -> Filtered {
    let rules = criteria.rules;
    let keys: Vec<(String, String, u32)> = raw
        .iter()
        .map(|(f, _)| (f.rule.clone(), f.location.file.clone(), f.location.line))
        .collect();
    let (justifications, notes) = suppress::apply(
        &keys,
        criteria.suppressions,
        criteria.known,
        criteria.locked,
    );
    let mut ignored = Vec::new();
    let mut unloadable = Vec::new();
    let mut kept: Vec<(RawFinding, Severity)> = Vec::new();
    let mut silenced: Vec<(RawFinding, Severity, String)> = Vec::new();
    for ((f, sev), justification) in raw.into_iter().zip(justifications) {
        if rules
            .exclude
            .iter()
            .any(|x| x.drops(&f.rule, &f.location.file))
        {
            ignored.push((f, Ignored::Excluded));
        } else if let Some(j) = justification {
            if rules.keeps(&f.rule) {
                silenced.push((f, sev, j));
            } else {
                ignored.push((f, Ignored::Unselected));
            }
        } else if f.rule != UNLOADABLE_RULE && criteria.unloadable.contains(&f.location.file) {
            unloadable.push(f);
        } else if rules.keeps(&f.rule) {
            kept.push((f, sev));
        } else {
            ignored.push((f, Ignored::Unselected));
        }
    }
    kept.sort_by(|a, b| {
        (
            &a.0.location.file,
            a.0.location.line,
            a.0.location.col,
            &a.0.rule,
            &a.0.message,
        )
            .cmp(&(
                &b.0.location.file,
                b.0.location.line,
                b.0.location.col,
                &b.0.rule,
                &b.0.message,
            ))
    });
    // One rule at one location is one finding (the first message in the order above), however
    // many subjects (deploy jobs sharing a flow, ...) lead to it.
    kept.dedup_by(|a, b| a.0.rule == b.0.rule && a.0.location == b.0.location);
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut make = |f: RawFinding, severity: Severity| {
        let text = criteria.sources.get(&f.location.file);
        let line_text = report::normalise_line(located_text(
            text.map(AsRef::as_ref).unwrap_or(""),
            &f.location,
        ));
        let key = (f.rule.clone(), f.location.file.clone(), line_text.clone());
        let n = seen.entry(key).or_insert(0);
        let fingerprint = report::fingerprint(&f.rule, &f.location.file, &line_text, *n);
        *n += 1;
        Finding {
            rule: f.rule,
            severity,
            message: f.message,
            location: f.location,
            fingerprint,
        }
    };
    let findings: Vec<Finding> = kept.into_iter().map(|(f, s)| make(f, s)).collect();
    let suppressed: Vec<(Finding, String)> = silenced
        .into_iter()
        .map(|(f, s, j)| (make(f, s), j))
        .collect();
    let (baselined, kept) = match criteria.baseline {
        Some(known) => findings
            .into_iter()
            .partition(|f| baseline::matching(known, criteria.root, f).is_some()),
        None => (Vec::new(), findings),
    };
    Filtered {
        kept,
        suppressed,
        baselined,
        ignored,
        unloadable,
        notes,
    }
}

/// How many entries of the baseline `known` no baselined finding of the run matched (each
/// given with its root), leaving out entries of rules the run does not report (`reported`):
/// those findings were fixed or changed.
pub fn stale_baseline<'f>(
    known: &BTreeSet<Entry>,
    baselined: impl IntoIterator<Item = (&'f str, &'f Finding)>,
    reported: impl Fn(&str) -> bool,
) -> usize {
    let matched: BTreeSet<&Entry> = baselined
        .into_iter()
        .filter_map(|(root, f)| baseline::matching(known, root, f))
        .collect();
    known
        .iter()
        .filter(|e| !matched.contains(e) && reported(&e.rule))
        .count()
}

/// What reports decide about a run's exit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every rule was checked and no kept finding reaches the threshold.
    Pass,
    /// A kept finding is at or above the threshold.
    Fail,
    /// A policy failed to evaluate on some root: its rules were not checked there, so the
    /// reports cannot vouch for it (whatever the findings).
    Unchecked,
}

/// The verdict of `reports` (one repository's roots, or a whole run) at `threshold`: the
/// least severity that fails, `None` for never (`--fail-on never`, or a run that records a
/// baseline and so accepts today's findings). Only kept findings count: suppressed, baselined
/// and ignored ones do not.
pub fn verdict(reports: &[RootReport], threshold: Option<Severity>) -> Verdict {
    if reports.iter().any(|r| r.policy_failures > 0) {
        return Verdict::Unchecked;
    }
    let failing = threshold.is_some_and(|t| {
        reports
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.severity >= t)
    });
    if failing {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}

/// The text of the node a finding points at, for its identity: the region when it lies within
/// one line, else the rest of the line from the start column.
fn located_text<'t>(text: &'t str, loc: &Location) -> &'t str {
    let Some(line) = text.lines().nth(loc.line.saturating_sub(1) as usize) else {
        return "";
    };
    let byte = |col: u32| {
        line.char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map_or(line.len(), |(i, _)| i)
    };
    let start = byte(loc.col);
    let end = if loc.end_line == loc.line && loc.end_col > loc.col {
        byte(loc.end_col)
    } else {
        line.len()
    };
    &line[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    const DOCKERFILE: &str = "FROM node:latest\n# shipshape: ignore[DF005] the entrypoint drops privileges\nUSER root\nRUN curl x | sh\n# shipshape: ignore[DF011] nothing here\n";

    fn raw(
        rule: &str,
        file: &str,
        (line, col, end_col): (u32, u32, u32),
        message: &str,
    ) -> RawFinding {
        RawFinding {
            rule: rule.to_string(),
            message: message.to_string(),
            location: Location {
                file: file.to_string(),
                line,
                col,
                end_line: line,
                end_col,
            },
        }
    }

    /// (rule, file, line, message, severity) of findings, for comparing.
    fn brief(findings: &[Finding]) -> Vec<(&str, &str, u32, &str, Severity)> {
        findings
            .iter()
            .map(|f| {
                let l = &f.location;
                (
                    f.rule.as_str(),
                    l.file.as_str(),
                    l.line,
                    f.message.as_str(),
                    f.severity,
                )
            })
            .collect()
    }

    /// Filters `found` for root `.` with the Dockerfile above, `vendor/**` excluded, CI001
    /// ignored, `broken.yml` unloadable.
    fn run(
        found: Vec<(RawFinding, Severity)>,
        rules: &RuleFilter,
        baseline: Option<&BTreeSet<Entry>>,
    ) -> Filtered {
        let suppressions = suppress::parse_text("Dockerfile", DOCKERFILE, "2026-01-01");
        let known: BTreeSet<String> = [
            "CI001", "DF001", "DF004", "DF005", "DF010", "DF011", "GH001", "SS001",
        ]
        .map(String::from)
        .into();
        let unloadable: BTreeSet<String> = ["broken.yml".to_string()].into();
        let sources: BTreeMap<String, Arc<str>> =
            [("Dockerfile".to_string(), Arc::from(DOCKERFILE))].into();
        filter(
            found,
            &Criteria {
                root: ".",
                rules,
                suppressions: &suppressions,
                known: &known,
                locked: &[],
                unloadable: &unloadable,
                sources: &sources,
                baseline,
            },
        )
    }

    fn rules() -> RuleFilter {
        RuleFilter {
            ignore: vec!["ci001".to_string()],
            exclude: vec![Exclude::new("vendor/**").expect("glob")],
            ..RuleFilter::default()
        }
    }

    #[test]
    fn every_finding_lands_in_its_bucket() {
        let found = vec![
            (
                raw("DF005", "Dockerfile", (3, 6, 10), "root"),
                Severity::Error,
            ),
            (
                raw("DF010", "Dockerfile", (1, 6, 17), "unpinned"),
                Severity::Warning,
            ),
            (
                raw("DF001", "vendor/Dockerfile", (1, 1, 1), "old"),
                Severity::Note,
            ),
            (
                raw("CI001", "ci.yml", (1, 1, 1), "no timeout"),
                Severity::Warning,
            ),
            (
                raw("DF004", "Dockerfile", (4, 1, 1), "pipe b"),
                Severity::Warning,
            ),
            (
                raw("DF004", "Dockerfile", (4, 1, 1), "pipe a"),
                Severity::Warning,
            ),
            (
                raw("GH001", "broken.yml", (2, 1, 1), "partial"),
                Severity::Error,
            ),
            (
                raw("SS001", "broken.yml", (1, 1, 1), "unloadable"),
                Severity::Error,
            ),
        ];
        let unpinned = report::fingerprint("DF010", "Dockerfile", "node:latest", 0);
        let baseline: BTreeSet<Entry> = [
            Entry {
                root: None,
                rule: "DF010".to_string(),
                file: "Dockerfile".to_string(),
                fingerprint: unpinned.clone(),
            },
            Entry {
                root: Some("elsewhere".to_string()),
                rule: "DF004".to_string(),
                file: "Dockerfile".to_string(),
                fingerprint: report::fingerprint("DF004", "Dockerfile", "RUN curl x | sh", 0),
            },
        ]
        .into();
        let out = run(found, &rules(), Some(&baseline));
        // Sorted by file then line; the two DF004 findings at one place are one (the first
        // message in order).
        assert_eq!(
            brief(&out.kept),
            [
                ("DF004", "Dockerfile", 4, "pipe a", Severity::Warning),
                ("SS001", "broken.yml", 1, "unloadable", Severity::Error),
            ]
        );
        assert_eq!(
            out.kept[0].fingerprint,
            report::fingerprint("DF004", "Dockerfile", "RUN curl x | sh", 0),
            "the baseline entry of another root does not match"
        );
        let suppressed: Vec<_> = out
            .suppressed
            .iter()
            .map(|(f, j)| (&f.rule, j.as_str()))
            .collect();
        assert_eq!(
            suppressed,
            [(&"DF005".to_string(), "the entrypoint drops privileges")]
        );
        assert_eq!(
            out.suppressed[0].0.fingerprint,
            report::fingerprint("DF005", "Dockerfile", "root", 0)
        );
        assert_eq!(
            brief(&out.baselined),
            [("DF010", "Dockerfile", 1, "unpinned", Severity::Warning)]
        );
        assert_eq!(out.baselined[0].fingerprint, unpinned);
        let ignored: Vec<(&str, &str, Ignored)> = out
            .ignored
            .iter()
            .map(|(f, why)| (f.rule.as_str(), f.location.file.as_str(), *why))
            .collect();
        assert_eq!(
            ignored,
            [
                ("DF001", "vendor/Dockerfile", Ignored::Excluded),
                ("CI001", "ci.yml", Ignored::Unselected),
            ]
        );
        assert_eq!(
            out.unloadable,
            [raw("GH001", "broken.yml", (2, 1, 1), "partial")]
        );
        let notes: Vec<(Severity, u32, &str)> = out
            .notes
            .iter()
            .map(|n| (n.level, n.location.line, n.message.as_str()))
            .collect();
        assert_eq!(
            notes,
            [(
                Severity::Note,
                5,
                "Dockerfile: unused suppression of DF011: no such finding on this line or the next"
            )]
        );
        // Without a baseline the baselined finding is kept, in its place.
        let found = vec![(
            raw("DF010", "Dockerfile", (1, 6, 17), "unpinned"),
            Severity::Warning,
        )];
        let out = run(found, &rules(), None);
        assert_eq!(
            brief(&out.kept),
            [("DF010", "Dockerfile", 1, "unpinned", Severity::Warning)]
        );
        assert!(out.baselined.is_empty());
    }

    #[test]
    fn exclusion_comes_before_suppression_and_suppression_before_selection() {
        // DF005 and DF011 are suppressed by the comments above their lines, DF004 is not.
        let found = || {
            vec![
                (
                    raw("DF005", "Dockerfile", (3, 6, 10), "root"),
                    Severity::Error,
                ),
                (
                    raw("DF011", "Dockerfile", (6, 1, 1), "other"),
                    Severity::Note,
                ),
                (
                    raw("DF004", "Dockerfile", (4, 1, 1), "pipe"),
                    Severity::Warning,
                ),
            ]
        };
        // Excluded and suppressed: excluded (the suppressions still count as used).
        let mut excluding = rules();
        excluding.exclude = vec![Exclude::new("Dockerfile").expect("glob")];
        let out = run(found(), &excluding, None);
        let why: Vec<Ignored> = out.ignored.iter().map(|(_, w)| *w).collect();
        assert_eq!(why, [Ignored::Excluded; 3]);
        assert!(out.kept.is_empty() && out.suppressed.is_empty());
        assert!(out.notes.is_empty(), "{:?}", out.notes);
        // Suppressed but not selected: ignored, not suppressed.
        let selecting = RuleFilter {
            select: vec!["DF011".to_string(), "DF004".to_string()],
            ..RuleFilter::default()
        };
        let out = run(found(), &selecting, None);
        assert_eq!(
            out.ignored,
            [(
                raw("DF005", "Dockerfile", (3, 6, 10), "root"),
                Ignored::Unselected
            )]
        );
        let suppressed: Vec<_> = out
            .suppressed
            .iter()
            .map(|(f, j)| (f.rule.as_str(), j.as_str()))
            .collect();
        assert_eq!(suppressed, [("DF011", "nothing here")]);
        assert_eq!(
            brief(&out.kept),
            [("DF004", "Dockerfile", 4, "pipe", Severity::Warning)]
        );
        // An exclude that spares a locked rule keeps its findings.
        let mut sparing = rules();
        let mut x = Exclude::new("Dockerfile").expect("glob");
        x.spares = vec!["DF004".to_string()];
        sparing.exclude = vec![x];
        let out = run(found(), &sparing, None);
        assert_eq!(
            brief(&out.kept),
            [("DF004", "Dockerfile", 4, "pipe", Severity::Warning)]
        );
        let ignored: Vec<&str> = out.ignored.iter().map(|(f, _)| f.rule.as_str()).collect();
        assert_eq!(ignored, ["DF005", "DF011"]);
    }

    #[test]
    fn stale_entries_are_those_no_finding_matched_of_reported_rules() {
        let entry = |root: Option<&str>, rule: &str| Entry {
            root: root.map(String::from),
            rule: rule.to_string(),
            file: "app/Dockerfile".to_string(),
            fingerprint: report::fingerprint(rule, "app/Dockerfile", "", 0),
        };
        let known: BTreeSet<Entry> = [
            entry(None, "DF005"),
            entry(Some("a"), "DF010"),
            entry(Some("b"), "DF010"),
            entry(None, "CI001"),
        ]
        .into();
        let report = testutil::report("a");
        let reported = |rule: &str| rule != "CI001";
        let all = report.findings.iter().map(|f| ("a", f));
        assert_eq!(stale_baseline(&known, all, reported), 1, "b's DF010");
        let none = std::iter::empty();
        assert_eq!(stale_baseline(&known, none, reported), 3);
        assert_eq!(stale_baseline(&known, std::iter::empty(), |_| true), 4);
    }

    #[test]
    fn the_verdict_at_each_threshold() {
        let warning = |root: &str| {
            let mut r = testutil::report(root);
            r.findings.retain(|f| f.severity == Severity::Warning);
            r
        };
        let reports = [warning("a"), RootReport::default()];
        let at = |t| verdict(&reports, t);
        assert_eq!(at(Some(Severity::Note)), Verdict::Fail);
        assert_eq!(at(Some(Severity::Warning)), Verdict::Fail);
        assert_eq!(at(Some(Severity::Error)), Verdict::Pass);
        assert_eq!(at(None), Verdict::Pass);
        assert_eq!(
            verdict(&[testutil::report("a")], Some(Severity::Error)),
            Verdict::Fail
        );
        assert_eq!(verdict(&[], Some(Severity::Note)), Verdict::Pass);
        // Suppressed and baselined findings do not count.
        let quiet = RootReport {
            suppressed: testutil::report("a")
                .findings
                .into_iter()
                .map(|f| (f, String::new()))
                .collect(),
            baselined: 2,
            ..RootReport::default()
        };
        assert_eq!(verdict(&[quiet], Some(Severity::Note)), Verdict::Pass);
        // A failed policy leaves rules unchecked, whatever the threshold.
        let mut failed = warning("b");
        failed.policy_failures = 1;
        for t in [None, Some(Severity::Error), Some(Severity::Note)] {
            assert_eq!(
                verdict(&[RootReport::default(), failed.clone()], t),
                Verdict::Unchecked
            );
        }
    }

    #[test]
    fn located_text_is_the_region_or_the_rest_of_the_line() {
        let text =
            "services:\n  db:\n    image: postgres:16  # pinned later\nFROM node:latest AS build\n";
        let at = |line, col, end_line, end_col| Location {
            file: "f".to_string(),
            line,
            col,
            end_line,
            end_col,
        };
        assert_eq!(
            located_text(text, &at(3, 12, 3, 12)),
            "postgres:16  # pinned later"
        );
        assert_eq!(located_text(text, &at(4, 6, 4, 17)), "node:latest");
        assert_eq!(
            located_text(text, &at(4, 1, 5, 1)),
            "FROM node:latest AS build"
        );
        assert_eq!(located_text(text, &at(9, 1, 9, 1)), "");
        assert_eq!(located_text(text, &at(2, 40, 2, 50)), "", "past the end");
    }
}
