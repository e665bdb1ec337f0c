//! Baselines: a file recording the findings of a run by their identity (rule, file and
//! fingerprint — the hash of the located node's normalised text and its occurrence, the same as
//! SARIF `partialFingerprints`), so that a later run reports only new findings. The identity survives
//! lines inserted elsewhere in the file and changes when the offending content changes.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::finding::RootReport;

/// The baseline file format version.
pub const BASELINE_VERSION: u32 = 1;

/// One recorded finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    /// The root it was found in, as given on the command line, when the run checked several
    /// roots; absent (it matches any root) when it checked one, so a single repository's
    /// baseline does not depend on the path it was checked by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// Rule ID.
    pub rule: String,
    /// File, relative to its root.
    pub file: String,
    /// The finding's fingerprint.
    pub fingerprint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

/// The baseline of a run, as JSON.
pub fn render(reports: &[RootReport]) -> String {
    let several = reports.len() > 1;
    let mut findings: Vec<Entry> = reports
        .iter()
        .flat_map(|r| r.findings.iter().map(move |f| (r, f)))
        .map(|(r, f)| Entry {
            root: several.then(|| r.root.clone()),
            rule: f.rule.clone(),
            file: f.location.file.clone(),
            fingerprint: f.fingerprint.clone(),
        })
        .collect();
    findings.sort();
    findings.dedup();
    let mut s = serde_json::to_string_pretty(&File {
        version: BASELINE_VERSION,
        findings,
    })
    .unwrap_or_default();
    s.push('\n');
    s
}

/// Reads a baseline file.
pub fn parse(text: &str) -> Result<BTreeSet<Entry>, String> {
    let f: File = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if f.version != BASELINE_VERSION {
        return Err(format!("unsupported baseline version {}", f.version));
    }
    Ok(f.findings.into_iter().collect())
}

/// Drops the findings the baseline knows, counting them as baselined; records in `matched`
/// the entries that matched a finding.
pub fn filter(report: &mut RootReport, known: &BTreeSet<Entry>, matched: &mut BTreeSet<Entry>) {
    let before = report.findings.len();
    let root = Some(report.root.clone());
    report.findings.retain(|f| {
        let mut entry = Entry {
            root: None,
            rule: f.rule.clone(),
            file: f.location.file.clone(),
            fingerprint: f.fingerprint.clone(),
        };
        if !known.contains(&entry) {
            entry.root.clone_from(&root);
            if !known.contains(&entry) {
                return true;
            }
        }
        matched.insert(entry);
        false
    });
    report.baselined += before - report.findings.len();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testutil;

    #[test]
    fn one_root_records_no_root_and_matches_any() {
        let text = render(&[testutil::report(".")]);
        assert!(!text.contains("\"root\""), "{text}");
        let known = parse(&text).expect("parses");
        let mut elsewhere = testutil::report("/ci/checkout");
        let n = elsewhere.findings.len();
        let mut matched = BTreeSet::new();
        filter(&mut elsewhere, &known, &mut matched);
        assert_eq!((elsewhere.findings.len(), elsewhere.baselined), (0, n));
        assert_eq!(matched.len(), known.len());
    }

    #[test]
    fn several_roots_are_told_apart() {
        let text = render(&[testutil::report("a"), testutil::report("b")]);
        let known = parse(&text).expect("parses");
        assert!(known.iter().all(|e| e.root.is_some()));
        let mut matched = BTreeSet::new();
        let mut a = testutil::report("a");
        filter(&mut a, &known, &mut matched);
        assert!(a.findings.is_empty());
        let mut c = testutil::report("c");
        let n = c.findings.len();
        filter(&mut c, &known, &mut matched);
        assert_eq!(
            (c.findings.len(), c.baselined),
            (n, 0),
            "root c was not in the baseline"
        );
        let bad = "{\"version\": 2, \"findings\": []}";
        assert_eq!(
            parse(bad).expect_err("refused"),
            "unsupported baseline version 2"
        );
    }
}
