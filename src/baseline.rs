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
    let mut findings: Vec<Entry> = reports
        .iter()
        .flat_map(|r| r.findings.iter())
        .map(|f| Entry {
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
    report.findings.retain(|f| {
        let entry = Entry {
            rule: f.rule.clone(),
            file: f.location.file.clone(),
            fingerprint: f.fingerprint.clone(),
        };
        let hit = known.contains(&entry);
        if hit {
            matched.insert(entry);
        }
        !hit
    });
    report.baselined += before - report.findings.len();
}
