//! Baselines: a file recording the findings of a run by their identity (rule, file and
//! fingerprint — the hash of the located node's normalised text and its occurrence, the same as
//! SARIF `partialFingerprints`), so that a later run reports only new findings. The identity survives
//! lines inserted elsewhere in the file and changes when the offending content changes.
//! This module owns the file and [`matching`]; the filter stage (`crate::filter`) leaves the
//! findings a baseline knows out of reports.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, RootReport};

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

/// The entry of `known` that `finding`, found in `root`, matches: the one recorded without a
/// root, else the one recorded with this root; `None` when the baseline does not know it.
pub fn matching<'k>(
    known: &'k BTreeSet<Entry>,
    root: &str,
    finding: &Finding,
) -> Option<&'k Entry> {
    let mut entry = Entry {
        root: None,
        rule: finding.rule.clone(),
        file: finding.location.file.clone(),
        fingerprint: finding.fingerprint.clone(),
    };
    known.get(&entry).or_else(|| {
        entry.root = Some(root.to_string());
        known.get(&entry)
    })
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
        let elsewhere = testutil::report("/ci/checkout");
        let matched: Vec<&Entry> = elsewhere
            .findings
            .iter()
            .filter_map(|f| matching(&known, &elsewhere.root, f))
            .collect();
        assert_eq!(matched, known.iter().collect::<Vec<_>>());
    }

    #[test]
    fn several_roots_are_told_apart() {
        let text = render(&[testutil::report("a"), testutil::report("b")]);
        let known = parse(&text).expect("parses");
        assert!(known.iter().all(|e| e.root.is_some()));
        let a = testutil::report("a");
        for f in &a.findings {
            let e = matching(&known, "a", f).expect("known in root a");
            assert_eq!(e.root.as_deref(), Some("a"));
        }
        assert!(
            a.findings
                .iter()
                .all(|f| matching(&known, "c", f).is_none()),
            "root c was not in the baseline"
        );
        let bad = "{\"version\": 2, \"findings\": []}";
        assert_eq!(
            parse(bad).expect_err("refused"),
            "unsupported baseline version 2"
        );
    }
}
