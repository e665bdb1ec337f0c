//! Runs policies' inline test cases (a driver above the engine, like `plan`): each case's
//! files are written to a temporary repository, checked with that policy alone, and the
//! findings (rule, file, line) compared with the case's `expect` list. Used by
//! `shipshape test` and by the test suite.

use std::collections::{BTreeMap, HashMap};

use crate::policy::{PolicySet, parse_expectation};
use crate::{RuleFilter, check_root};

/// The outcome of one inline case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The policy's ID.
    pub policy: String,
    /// The case's name.
    pub case: String,
    /// Expected findings the run did not produce (`RULE file:line`).
    pub missing: Vec<String>,
    /// Findings the run produced that were not expected.
    pub unexpected: Vec<String>,
    /// Evaluation or setup errors.
    pub errors: Vec<String>,
}

impl CaseResult {
    /// Whether the case produced exactly its expected findings, without errors.
    pub fn passed(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.errors.is_empty()
    }
}

/// Runs every inline case of every policy of `set` (only `only` when given).
pub fn run_cases(set: &PolicySet, only: Option<&str>) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for policy in &set.policies {
        let id = policy.meta.id.clone();
        if only.is_some_and(|o| !o.eq_ignore_ascii_case(&id)) {
            continue;
        }
        for case in &policy.tests {
            let mut result = CaseResult {
                policy: id.clone(),
                case: case.name.clone(),
                missing: Vec::new(),
                unexpected: Vec::new(),
                errors: Vec::new(),
            };
            let dir = match tempfile::tempdir() {
                Ok(d) => d,
                Err(e) => {
                    result
                        .errors
                        .push(format!("cannot create a temporary directory: {e}"));
                    out.push(result);
                    continue;
                }
            };
            for (rel, text) in &case.files {
                let path = dir.path().join(rel);
                let written = path
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| std::fs::write(&path, text));
                if let Err(e) = written {
                    result.errors.push(format!("cannot write {rel}: {e}"));
                }
            }
            let filter = RuleFilter {
                select: vec![id.clone()],
                ..RuleFilter::default()
            };
            let mut options = HashMap::new();
            options.insert(
                id.clone(),
                case.options.clone().into_iter().collect::<BTreeMap<_, _>>(),
            );
            let settings = crate::Settings {
                filter,
                options,
                ..crate::Settings::default()
            };
            match check_root(dir.path(), "case", set, &settings) {
                Ok(report) => {
                    result.errors.extend(
                        report
                            .notifications
                            .iter()
                            .filter(|n| n.message.contains("policy "))
                            .map(|n| n.message.clone()),
                    );
                    let mut got: Vec<String> = report
                        .findings
                        .iter()
                        .map(|f| format!("{} {}:{}", f.rule, f.location.file, f.location.line))
                        .collect();
                    let mut want: Vec<String> = case
                        .expect
                        .iter()
                        .filter_map(|e| parse_expectation(e))
                        .map(|(r, f, l)| format!("{r} {f}:{l}"))
                        .collect();
                    got.sort();
                    want.sort();
                    // Multiset difference both ways.
                    let mut rest = got.clone();
                    for w in &want {
                        match rest.iter().position(|g| g == w) {
                            Some(i) => {
                                rest.remove(i);
                            }
                            None => result.missing.push(w.clone()),
                        }
                    }
                    result.unexpected = rest;
                }
                Err(e) => result.errors.push(e.to_string()),
            }
            out.push(result);
        }
    }
    out
}
