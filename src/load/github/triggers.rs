//! Triggers: the `on:` forms normalised into triggers, branch globs, pre-merge and
//! default-branch classification, conditions restricting triggers, and the environments a job
//! deploys to per trigger.

use crate::expr::Tri;
use crate::expr::github::{Poss, eval_condition_in, eval_value, tri};
use crate::load::ytree::{YNode, YValue};
use crate::model::ci::Trigger;

pub(super) fn is_true(n: &YNode) -> bool {
    matches!(n.value, YValue::Bool(true)) || n.as_str().as_deref() == Some("true")
}

/// Normalises `on:` (string, list, or map with null or mapping values) into triggers, and
/// returns the `workflow_dispatch` input names.
pub(super) fn triggers(rel: &str, on: &YNode, on_key: &YNode) -> (Vec<Trigger>, Vec<String>) {
    let mut out = Vec::new();
    let mut inputs = Vec::new();
    let mut add = |event: String, key: &YNode, body: Option<&YNode>| {
        let list = |k: &str| {
            body.and_then(|b| b.get(k))
                .map(YNode::strings)
                .unwrap_or_default()
        };
        let mut t = Trigger {
            branches: list("branches"),
            branches_ignore: list("branches-ignore"),
            tags: list("tags"),
            paths: list("paths"),
            types: list("types"),
            workflows: list("workflows"),
            ..Trigger::new(&event, key.loc(rel))
        };
        classify_trigger(&mut t, body.is_some_and(|b| b.get("tags-ignore").is_some()));
        if event == "workflow_dispatch"
            && let Some(i) = body.and_then(|b| b.get("inputs"))
        {
            inputs.extend(i.entries().iter().filter_map(|(k, _)| k.as_str()));
        }
        out.push(t);
    };
    match &on.value {
        YValue::Str(s) => add(s.clone(), on_key, None),
        YValue::Seq(items) => {
            for i in items {
                if let Some(s) = i.as_str() {
                    add(s, i, None);
                }
            }
        }
        YValue::Map(entries) => {
            for (k, v) in entries {
                if let Some(s) = k.as_str() {
                    add(s, k, if v.is_null() { None } else { Some(v) });
                }
            }
        }
        _ => {}
    }
    (out, inputs)
}

/// Whether a branch filter pattern can match a branch other than `main`/`master`.
fn matches_other_branch(pattern: &str) -> bool {
    let p = pattern.trim_start_matches('!');
    !(p == "main" || p == "master")
}

/// Whether a branch filter pattern matches `main` or `master`.
fn matches_default_branch(pattern: &str) -> bool {
    if pattern.starts_with('!') {
        return false;
    }
    ["main", "master"].iter().any(|b| glob_match(pattern, b))
}

/// GitHub filter glob: `*` (no `/`), `**`, `?`, literal otherwise.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let p = pattern.replace("**", "\u{1}");
    let mut re = String::from("^");
    for c in p.chars() {
        match c {
            '\u{1}' => re.push_str(".*"),
            '*' => re.push_str("[^/]*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).is_ok_and(|r| r.is_match(s))
}

fn classify_trigger(t: &mut Trigger, tags_ignore: bool) {
    match t.event.as_str() {
        "pull_request" | "pull_request_target" | "merge_group" => t.pre_merge = true,
        "push" => {
            let has_branch_filter = !t.branches.is_empty() || !t.branches_ignore.is_empty();
            let tag_filter = !t.tags.is_empty() || tags_ignore;
            if !has_branch_filter && tag_filter {
                t.tag_only = true;
            } else if !t.branches_ignore.is_empty() {
                t.pre_merge = true;
                t.default_branch = !t.branches_ignore.iter().any(|b| matches_default_branch(b));
            } else if t.branches.is_empty() {
                t.pre_merge = true;
                t.default_branch = true;
            } else {
                t.pre_merge = t.branches.iter().any(|b| matches_other_branch(b));
                t.default_branch = t.branches.iter().any(|b| matches_default_branch(b));
            }
        }
        _ => {}
    }
}

/// A trigger cut into the parts that expressions can tell apart: a `push` on several
/// branches becomes one part per literal branch, plus one for its patterns (`[main, develop,
/// 'feature/**']` is `main`, `develop` and `feature/**`); other triggers are one part.
fn split_branches(t: &Trigger) -> Vec<Trigger> {
    let literal = |b: &String| !b.contains(['*', '?', '!', '[']);
    if t.event != "push" || t.branches.len() < 2 || !t.tags.is_empty() {
        return vec![t.clone()];
    }
    let mut out: Vec<Trigger> = Vec::new();
    let patterns: Vec<String> = t.branches.iter().filter(|b| !literal(b)).cloned().collect();
    for b in t.branches.iter().filter(|b| literal(b)) {
        let mut one = t.clone();
        one.branches = vec![b.clone()];
        out.push(one);
    }
    if !patterns.is_empty() {
        let mut rest = t.clone();
        rest.branches = patterns;
        out.push(rest);
    }
    out
}

/// The trigger `t` restricted to the branches of `parts` (parts of `t` from
/// [`split_branches`]): `None` without parts, `t` itself when every part is kept.
fn join_parts(t: &Trigger, parts: &[&Trigger]) -> Option<Trigger> {
    if parts.is_empty() {
        return None;
    }
    let kept: Vec<String> = t
        .branches
        .iter()
        .filter(|b| parts.iter().any(|p| p.branches.contains(b)))
        .cloned()
        .collect();
    Some(with_branches(t, kept))
}

/// A `push` trigger narrowed to `kept` (some of its branch patterns), classified again.
pub fn with_branches(t: &Trigger, kept: Vec<String>) -> Trigger {
    if kept == t.branches {
        return t.clone();
    }
    let mut out = t.clone();
    out.branches = kept;
    out.pre_merge = false;
    out.default_branch = false;
    classify_trigger(&mut out, false);
    out
}

/// The part of a trigger that a job condition admits: `None` when the condition is false for
/// it. A `push` on several branches is judged branch by branch (see [`split_branches`]), so
/// that `github.ref == 'refs/heads/main'` keeps only `main` (and the trigger stops being
/// pre-merge).
pub(super) fn restrict(t: &Trigger, condition: &str, in_call: bool) -> Option<Trigger> {
    if condition.is_empty() {
        return Some(t.clone());
    }
    let parts = split_branches(t);
    let kept: Vec<&Trigger> = parts
        .iter()
        .filter(|p| eval_condition_in(condition, p, in_call) != Tri::F)
        .collect();
    join_parts(t, &kept)
}

/// The environments a job's `environment:` names, per trigger: an expression
/// (`${{ github.ref_name == 'main' && 'production' || github.ref_name }}`) is evaluated for
/// each part of each trigger (see [`split_branches`]) and the job's triggers are grouped by the
/// environment they give. A value not known for some part keeps the text as written for it.
pub(super) fn environments_by_trigger(
    environment: &str,
    reaching: &[Trigger],
    in_call: bool,
) -> Vec<(Option<String>, Vec<Trigger>)> {
    let whole = environment.trim();
    let is_expression =
        whole.starts_with("${{") && whole.ends_with("}}") && whole.matches("${{").count() == 1;
    if !is_expression {
        return vec![(None, reaching.to_vec())];
    }
    // (environment, trigger index, part).
    let mut found: Vec<(Option<String>, usize, Trigger)> = Vec::new();
    for (i, t) in reaching.iter().enumerate() {
        for part in split_branches(t) {
            let values = eval_value(whole, &part, in_call).unwrap_or_else(|| tri(Tri::U));
            let names: Vec<Option<String>> = if values.iter().any(|v| matches!(v, Poss::Any(_))) {
                vec![None]
            } else {
                values
                    .iter()
                    .map(|v| match v {
                        Poss::Str(s) => Some(s.clone()),
                        Poss::Bool(b) => Some(b.to_string()),
                        Poss::Any(_) => None,
                    })
                    .collect()
            };
            for n in names {
                found.push((n, i, part.clone()));
            }
        }
    }
    let mut order: Vec<Option<String>> = Vec::new();
    for (n, _, _) in &found {
        if !order.contains(n) {
            order.push(n.clone());
        }
    }
    order
        .into_iter()
        .map(|n| {
            let triggers = reaching
                .iter()
                .enumerate()
                .filter_map(|(i, t)| {
                    let parts: Vec<&Trigger> = found
                        .iter()
                        .filter(|(m, j, _)| *m == n && *j == i)
                        .map(|(_, _, p)| p)
                        .collect();
                    join_parts(t, &parts)
                })
                .collect();
            (n, triggers)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::load::github::tests::load_tree;

    #[test]
    fn environments_are_evaluated_per_trigger() {
        let (_d, wf) = load_tree(&[(
            ".github/workflows/d.yml",
            "on:\n  push: {branches: [main, uat, 'feature/**']}\n  pull_request:\n  workflow_dispatch:\njobs:\n  a:\n    environment: ${{ github.ref_name == 'main' && 'production' || github.ref_name }}\n    steps: [{run: x}]\n  b:\n    environment: ${{ inputs.env || 'staging' }}\n    steps: [{run: x}]\n",
        )]);
        let summary = |id: &str| -> Vec<(String, Vec<String>)> {
            wf.jobs
                .iter()
                .filter(|j| j.id == id)
                .map(|j| {
                    (
                        j.environment.clone(),
                        j.triggers
                            .iter()
                            .map(|t| format!("{}{:?}", t.event, t.branches))
                            .collect(),
                    )
                })
                .collect()
        };
        let own = |v: &[(&str, &[&str])]| -> Vec<(String, Vec<String>)> {
            v.iter()
                .map(|(e, t)| (e.to_string(), t.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        let raw_a = "${{ github.ref_name == 'main' && 'production' || github.ref_name }}";
        assert_eq!(
            summary("a"),
            own(&[
                ("production", &["push[\"main\"]"]),
                ("uat", &["push[\"uat\"]"]),
                (
                    raw_a,
                    &[
                        "push[\"feature/**\"]",
                        "pull_request[]",
                        "workflow_dispatch[]"
                    ]
                ),
            ])
        );
        assert_eq!(
            summary("b"),
            own(&[
                (
                    "staging",
                    &["push[\"main\", \"uat\", \"feature/**\"]", "pull_request[]"]
                ),
                ("${{ inputs.env || 'staging' }}", &["workflow_dispatch[]"]),
            ])
        );
    }

    #[test]
    fn on_forms_normalise() {
        for (on, events) in [
            ("on: push", vec!["push"]),
            ("on: [push, pull_request]", vec!["push", "pull_request"]),
            (
                "on:\n  - push\n  - workflow_dispatch",
                vec!["push", "workflow_dispatch"],
            ),
            (
                "on:\n  push:\n  pull_request:\n    branches: [main]",
                vec!["push", "pull_request"],
            ),
        ] {
            let text =
                format!("{on}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n");
            let (_d, w) = load_tree(&[(".github/workflows/a.yml", &text)]);
            let p = w.pipeline.expect("pipeline");
            let got: Vec<&str> = p.triggers.iter().map(|t| t.event.as_str()).collect();
            assert_eq!(got, events, "{on}");
        }
    }

    #[test]
    fn pre_merge_and_default_branch_classification() {
        let t = |yaml: &str| {
            let text = format!("on:\n{yaml}\njobs: {{}}\n");
            let (_d, w) = load_tree(&[(".github/workflows/a.yml", &text)]);
            let tr = w.pipeline.expect("p").triggers[0].clone();
            (tr.pre_merge, tr.default_branch, tr.tag_only)
        };
        assert_eq!(t("  push:"), (true, true, false));
        assert_eq!(t("  push:\n    branches: [main]"), (false, true, false));
        assert_eq!(
            t("  push:\n    branches: [main, 'feature/**']"),
            (true, true, false)
        );
        assert_eq!(
            t("  push:\n    branches-ignore: [main]"),
            (true, false, false)
        );
        assert_eq!(t("  push:\n    tags: ['v*']"), (false, false, true));
        assert_eq!(t("  pull_request:"), (true, false, false));
        assert_eq!(t("  merge_group:"), (true, false, false));
    }

    #[test]
    fn a_ref_condition_keeps_only_matching_branches_and_defaults_apply() {
        let (_d, w) = load_tree(&[(
            ".github/workflows/a.yml",
            "on:\n  push:\n    branches: [main, develop]\ndefaults:\n  run:\n    working-directory: web\njobs:\n  image:\n    if: github.event_name == 'push' && github.ref == 'refs/heads/main'\n    runs-on: x\n    steps:\n      - run: npm run build\n  all:\n    runs-on: x\n    defaults:\n      run:\n        working-directory: api\n    steps:\n      - run: npm test\n",
        )]);
        let image = &w.jobs[0];
        assert_eq!(image.triggers[0].branches, vec!["main"]);
        assert!(!image.is_pre_merge);
        assert_eq!(image.steps[0].working_directory, "web");
        assert!(w.jobs[1].is_pre_merge);
        assert_eq!(w.jobs[1].steps[0].working_directory, "api");
    }
}
