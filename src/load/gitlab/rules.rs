//! Pipeline sources and the evaluation of `workflow: rules`, job `rules:` and
//! `only:`/`except:` per source, with three-valued logic.

use super::tree::{allow_failure_of, flatten_rules, variables};
use crate::expr::Tri;
use crate::expr::gitlab::{Expr, Source, eval_expr, parse_expr, ref_matches};
use crate::load::ytree::YNode;
use std::collections::HashMap;

// ---------------------------------------------------------------------------------------
// Rules and only/except

/// How a job may be added to a pipeline of one source.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    pub(super) when: String,
    pub(super) allow_failure: Option<bool>,
    /// The matching rule's `variables:`.
    pub(super) variables: Vec<(String, String)>,
}

/// Evaluates rules and expressions, caching parsed expressions.
#[derive(Default)]
pub(super) struct Evaluator {
    exprs: HashMap<String, Option<Expr>>,
}

impl Evaluator {
    /// The ways `rules` may add the job for `src` (empty: never). First matching rule wins;
    /// an unknown condition may match or fall through.
    pub(super) fn rules(
        &mut self,
        rules: &[&YNode],
        src: Source,
        job_when: Option<&str>,
        job_af: Option<bool>,
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        for rule in rules {
            let cond = self.rule_condition(rule, src);
            if cond == Tri::F {
                continue;
            }
            let when = rule
                .str_of("when")
                .or_else(|| job_when.map(str::to_string))
                .unwrap_or_else(|| "on_success".to_string());
            if when != "never" {
                out.push(Outcome {
                    when,
                    allow_failure: allow_failure_of(rule).or(job_af),
                    variables: rule.get_set("variables").map(variables).unwrap_or_default(),
                });
            }
            if cond == Tri::T {
                break;
            }
        }
        out
    }

    fn rule_condition(&mut self, rule: &YNode, src: Source) -> Tri {
        if !rule.is_map() {
            return Tri::F;
        }
        let mut t = Tri::T;
        if let Some(cond) = rule.get("if") {
            t = t.and(match cond.as_str() {
                Some(s) => self.expr(&s, src),
                None => Tri::U,
            });
        }
        if rule.get("changes").is_some() || rule.get("exists").is_some() {
            t = t.and(Tri::U);
        }
        t
    }

    /// The ways the job may be added for `src`, from its `rules`, else `only`/`except`.
    pub(super) fn job(
        &mut self,
        eff: &YNode,
        src: Source,
        workflow_rules: bool,
        job_when: Option<&str>,
        job_af: Option<bool>,
    ) -> Vec<Outcome> {
        if let Some(rules) = eff.get_set("rules") {
            return self.rules(&flatten_rules(rules), src, job_when, job_af);
        }
        let only = eff.get_set("only");
        let except = eff.get_set("except");
        let only_t = match only {
            Some(o) => self.only_except(o, src),
            // Without workflow rules, GitLab's default is `only: [branches, tags]`.
            None if workflow_rules => Tri::T,
            None => ref_matches("branches", src).or(ref_matches("tags", src)),
        };
        let except_t = match except {
            Some(e) => self.only_except(e, src),
            None => Tri::F,
        };
        if only_t.and(!except_t) == Tri::F || job_when == Some("never") {
            return Vec::new();
        }
        vec![Outcome {
            when: job_when.unwrap_or("on_success").to_string(),
            allow_failure: job_af,
            variables: Vec::new(),
        }]
    }

    /// Whether an `only:`/`except:` value matches for `src`: a list of refs, or a mapping
    /// whose keys must all match.
    fn only_except(&mut self, n: &YNode, src: Source) -> Tri {
        let any_ref = |refs: Vec<String>| {
            refs.iter()
                .fold(Tri::F, |acc, r| acc.or(ref_matches(r, src)))
        };
        if !n.is_map() {
            return any_ref(n.strings());
        }
        let mut t = Tri::T;
        if let Some(refs) = n.get_set("refs") {
            t = t.and(any_ref(refs.strings()));
        }
        if let Some(vars) = n.get_set("variables") {
            let v = vars
                .strings()
                .iter()
                .fold(Tri::F, |acc, e| acc.or(self.expr(e, src)));
            t = t.and(v);
        }
        if n.get("changes").is_some() || n.get("kubernetes").is_some() {
            t = t.and(Tri::U);
        }
        t
    }

    /// Evaluates a CI/CD variable expression for `src`.
    pub(super) fn expr(&mut self, text: &str, src: Source) -> Tri {
        let parsed = self
            .exprs
            .entry(text.to_string())
            .or_insert_with(|| parse_expr(text));
        match parsed {
            Some(e) => eval_expr(e, src),
            None => Tri::U,
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::load::gitlab::tests::{ci, job, sources, trigger_name};

    #[test]
    fn only_and_except() {
        let ci = ci(r#"
plain:
  script: [echo]
main-only:
  only: [main]
  script: [echo]
tags-only:
  only: [tags]
  script: [echo]
mrs:
  only: [merge_requests]
  script: [echo]
release:
  only: [/^release\/.*$/]
  script: [echo]
not-tags:
  except: [tags]
  script: [echo]
default-branch:
  only:
    refs: [$CI_DEFAULT_BRANCH]
  script: [echo]
"#);
        assert_eq!(sources(job(&ci, "plain")), vec!["main", "branch", "tag"]);
        assert!(job(&ci, "plain").is_pre_merge);
        assert_eq!(sources(job(&ci, "main-only")), vec!["main"]);
        assert!(!job(&ci, "main-only").is_pre_merge);
        assert_eq!(sources(job(&ci, "tags-only")), vec!["tag"]);
        assert!(!job(&ci, "tags-only").is_pre_merge);
        assert_eq!(sources(job(&ci, "mrs")), vec!["mr"]);
        assert_eq!(sources(job(&ci, "release")), vec!["branch", "tag"]);
        assert_eq!(sources(job(&ci, "not-tags")), vec!["main", "branch"]);
        assert_eq!(sources(job(&ci, "default-branch")), vec!["main"]);
        assert_eq!(
            ci.pipeline
                .triggers
                .iter()
                .map(trigger_name)
                .collect::<Vec<_>>(),
            vec!["main", "branch", "mr", "tag"]
        );
    }

    #[test]
    fn rules_when_manual_never_and_tags() {
        let ci = ci(r#"
manual:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      when: manual
  script: [echo]
manual-gating:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      when: manual
      allow_failure: false
  script: [echo]
job-manual:
  when: manual
  script: [echo]
never-mr:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      when: never
    - when: on_success
  script: [echo]
tag:
  rules:
    - if: $CI_COMMIT_TAG
  script: [echo]
semver:
  rules:
    - if: $CI_COMMIT_TAG =~ /^v\d+/
  script: [echo]
on-default:
  rules:
    - if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
  script: [echo]
main-literal:
  rules:
    - if: $CI_COMMIT_REF_NAME == "main" && $CI_PIPELINE_SOURCE != "merge_request_event"
  script: [echo]
develop:
  rules:
    - if: $CI_COMMIT_BRANCH == "develop"
  script: [echo]
unknown:
  rules:
    - if: ($DEPLOY == "yes" || $X) && $CI_PIPELINE_SOURCE == "merge_request_event"
  script: [echo]
empty-rules:
  rules: []
  script: [echo]
mixed:
  rules:
    - if: $CI_COMMIT_TAG
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
  script: [echo]
soft:
  allow_failure:
    exit_codes: [1]
  script: [npm run lint]
"#);
        let m = job(&ci, "manual");
        assert_eq!(sources(m), vec!["mr"]);
        assert!(m.manual && !m.is_pre_merge);
        let g = job(&ci, "manual-gating");
        assert!(g.manual && g.is_pre_merge);
        let jm = job(&ci, "job-manual");
        assert!(jm.manual && !jm.is_pre_merge);
        assert_eq!(sources(job(&ci, "never-mr")), vec!["main", "branch", "tag"]);
        assert_eq!(sources(job(&ci, "tag")), vec!["tag"]);
        assert!(!job(&ci, "tag").is_pre_merge);
        assert_eq!(sources(job(&ci, "semver")), vec!["tag"]);
        assert_eq!(sources(job(&ci, "on-default")), vec!["main"]);
        assert_eq!(sources(job(&ci, "main-literal")), vec!["main"]);
        assert_eq!(sources(job(&ci, "develop")), vec!["branch"]);
        assert_eq!(sources(job(&ci, "unknown")), vec!["mr"]);
        assert!(job(&ci, "unknown").is_pre_merge);
        assert!(sources(job(&ci, "empty-rules")).is_empty());
        let mixed = job(&ci, "mixed");
        assert_eq!(sources(mixed), vec!["main", "tag"]);
        assert!(!mixed.manual);
        let soft = job(&ci, "soft");
        assert!(soft.allow_failure && !soft.steps[0].gating);
        assert!(soft.is_pre_merge);
        assert!(job(&ci, "on-default").steps[0].gating);
    }

    #[test]
    fn workflow_rules_restrict_the_pipeline_and_unruled_jobs() {
        let ci = ci(r#"
workflow:
  name: My pipeline
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never
    - if: $CI_COMMIT_BRANCH
    - if: $CI_PIPELINE_SOURCE == "schedule"
plain:
  script: [echo]
nightly:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
  script: [echo]
"#);
        assert_eq!(ci.pipeline.name, "My pipeline");
        assert_eq!(
            ci.pipeline
                .triggers
                .iter()
                .map(trigger_name)
                .collect::<Vec<_>>(),
            vec!["main", "branch", "mr", "schedule"]
        );
        assert_eq!(
            sources(job(&ci, "plain")),
            vec!["main", "branch", "mr", "schedule"]
        );
        assert_eq!(sources(job(&ci, "nightly")), vec!["schedule"]);
        assert!(!job(&ci, "nightly").is_pre_merge);
        assert_eq!(job(&ci, "plain").pipeline_name, "My pipeline");

        let ci = super::tests::ci(
            "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\njob:\n  script: [echo]\n",
        );
        assert_eq!(
            ci.pipeline
                .triggers
                .iter()
                .map(trigger_name)
                .collect::<Vec<_>>(),
            vec!["tag"]
        );
        assert!(!ci.pipeline.is_pre_merge);
        assert!(!job(&ci, "job").is_pre_merge);
    }
}
