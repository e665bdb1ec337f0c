//! Runs every policy's inline test cases and checks the meta-rules every policy must meet
//! (documentation present, at least one failing and one passing case).

use std::collections::{BTreeMap, HashMap};

use shipshape::policy::parse_expectation;
use shipshape::{RuleFilter, check_root};

use crate::support::{builtin, write_tree};

#[test]
fn every_inline_case_produces_exactly_its_findings() {
    let set = builtin();
    assert!(!set.policies.is_empty());
    let mut failures = Vec::new();
    let mut cases = 0;
    for policy in &set.policies {
        let id = policy.meta.id.clone();
        for case in &policy.tests {
            cases += 1;
            let dir = tempfile::tempdir().expect("tempdir");
            write_tree(dir.path(), &case.files);
            let filter = RuleFilter {
                select: vec![id.clone()],
                ignore: vec![],
            };
            let mut options = HashMap::new();
            options.insert(
                id.clone(),
                case.options.clone().into_iter().collect::<BTreeMap<_, _>>(),
            );
            let report = match check_root(dir.path(), "case", &set, &filter, &options) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{id} / {}: {e}", case.name));
                    continue;
                }
            };
            let eval_errors: Vec<_> = report
                .notifications
                .iter()
                .filter(|n| n.message.contains("policy "))
                .map(|n| n.message.clone())
                .collect();
            let mut got: Vec<String> = report
                .findings
                .iter()
                .map(|f| format!("{} {}:{}", f.rule, f.location.file, f.location.line))
                .collect();
            got.sort();
            let mut want: Vec<String> = case
                .expect
                .iter()
                .map(|e| {
                    let (r, f, l) = parse_expectation(e).expect("validated at load");
                    format!("{r} {f}:{l}")
                })
                .collect();
            want.sort();
            if got != want || !eval_errors.is_empty() {
                let messages: Vec<_> = report.findings.iter().map(|f| f.message.clone()).collect();
                failures.push(format!(
                    "{id} / {}:\n    want {want:?}\n    got  {got:?}\n    messages {messages:?}\n    errors {eval_errors:?}",
                    case.name
                ));
            }
        }
    }
    assert!(cases > 0);
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_policy_is_documented_and_has_failing_and_passing_cases() {
    let set = builtin();
    for p in &set.policies {
        let d = &p.meta.docs;
        for (name, text) in [
            ("what", &d.what),
            ("why", &d.why),
            ("fix", &d.fix),
            ("failing", &d.failing),
            ("passing", &d.passing),
        ] {
            assert!(
                !text.trim().is_empty(),
                "{}: docs.{name} is empty",
                p.meta.id
            );
        }
        assert!(
            p.tests.iter().any(|t| !t.expect.is_empty()),
            "{}: no failing case",
            p.meta.id
        );
        assert!(
            p.tests.iter().any(|t| t.expect.is_empty()),
            "{}: no passing case",
            p.meta.id
        );
        for t in &p.tests {
            for e in &t.expect {
                let (rule, _, _) = parse_expectation(e).expect("validated");
                assert_eq!(
                    rule, p.meta.id,
                    "{}: case {:?} expects another rule",
                    p.meta.id, t.name
                );
            }
        }
    }
}

#[test]
fn the_catalog_rules_of_this_family_exist() {
    let set = builtin();
    let ids: Vec<&str> = set.policies.iter().map(|p| p.meta.id.as_str()).collect();
    for id in [
        "DF001", "DF002", "DF003", "DF004", "DF005", "DF006", "DF007", "SS001",
    ] {
        assert!(ids.contains(&id), "missing built-in policy {id}");
    }
}
