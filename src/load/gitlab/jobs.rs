//! Building the model: the pipeline and its jobs, one variant per environment and set of
//! variables, reached by the pipeline sources their rules allow.

use super::extends::{Resolver, apply_defaults};
use super::includes::Loader;
use super::rules::{Evaluator, Outcome};
use super::steps::{ParseCache, condition_text, expand, parallel_matrix, steps};
use super::tree::{SrcFile, allow_failure_of, deep_merge, flatten_rules, variables};
use super::{GitlabCi, LEGACY_GLOBALS, RESERVED, WORK_BUDGET};
use crate::expr::gitlab::Source;
use crate::load::LoadError;
use crate::load::ytree::{YNode, YValue};
use crate::location::Location;
use crate::model::ci::{Job, Pipeline, Trigger};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A job that is drafted before the pipeline's sources are known.
pub(super) struct Draft {
    pub(super) id: String,
    pub(super) loc: Location,
    eff: YNode,
}

pub(super) fn build(loader: Loader<'_>, rel: &str) -> GitlabCi {
    let Loader {
        files,
        layers,
        mut errors,
        notes,
        external,
        sources,
        ..
    } = loader;

    // The merged configuration.
    let mut merged = YNode::empty_map(0);
    for idx in &layers {
        if let Some(f) = files.get(*idx)
            && f.root.is_map()
        {
            merged = deep_merge(merged, f.root.clone());
        }
    }
    let mut config: HashMap<String, YNode> = HashMap::new();
    if let YValue::Map(entries) = merged.value {
        for (k, v) in entries {
            if let Some(name) = k.as_str() {
                config.insert(name, v);
            }
        }
    }

    // Top-level keys in display order: `.gitlab-ci.yml` first, then includes as read.
    let mut seen = HashSet::new();
    let mut order: Vec<(String, Location)> = Vec::new();
    for f in &files {
        for (k, _) in f.root.entries() {
            if let Some(name) = k.as_str()
                && seen.insert(name.clone())
            {
                order.push((name, Location::point(&f.rel, k.line, k.col)));
            }
        }
    }

    let mut resolver = Resolver {
        config: &config,
        extended: HashMap::new(),
        budget: WORK_BUDGET,
        cycles: Vec::new(),
        expanding: Vec::new(),
        ref_cycles: Vec::new(),
    };
    let default = resolver.resolved("default");
    let workflow = resolver.resolved("workflow");
    let global_vars = resolver.resolved("variables");
    let mut globals = HashMap::new();
    for key in LEGACY_GLOBALS {
        if let Some(v) = resolver.resolved(key) {
            globals.insert((*key).to_string(), v);
        }
    }
    let mut drafts = Vec::new();
    for (id, loc) in order {
        if !config.get(&id).is_some_and(|v| is_job(&id, v)) {
            continue;
        }
        let Some(eff) = resolver.resolved(&id) else {
            continue;
        };
        let eff = apply_defaults(eff, default.as_ref(), &globals);
        drafts.push(Draft { id, loc, eff });
    }
    if resolver.budget == 0 {
        errors.push(LoadError::at_file(
            rel,
            format!("{rel}: `extends:`/`!reference` expansion is too large; it was cut short"),
        ));
    }
    for (file, line, col, key, parent) in std::mem::take(&mut resolver.cycles) {
        let at = files.get(file).map_or(rel, |f| f.rel.as_str());
        let what = if key == parent {
            format!("`{key}` extends itself")
        } else {
            format!("`{key}` extends `{parent}`, which extends it back")
        };
        let e = LoadError {
            message: format!("{at}: `extends:` cycle: {what}"),
            loc: Location::point(at, line, col),
            outside: false,
        };
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    for (_, (file, line, col), path) in std::mem::take(&mut resolver.ref_cycles) {
        let at = files.get(file).map_or(rel, |f| f.rel.as_str());
        let e = LoadError {
            outside: false,
            message: format!(
                "{at}: `!reference` cycle: `!reference [{path}]` names a value that refers back to it; it was left out"
            ),
            loc: Location::point(at, line, col),
        };
        if !errors.contains(&e) {
            errors.push(e);
        }
    }

    // Pipeline sources and what `workflow: rules` admits.
    let mut eval = Evaluator::default();
    let wf_rules: Option<Vec<&YNode>> = workflow
        .as_ref()
        .and_then(|w| w.get_set("rules"))
        .map(flatten_rules);
    let mut texts = Vec::new();
    if let Some(rules) = &wf_rules {
        rule_texts(rules, &mut texts);
    }
    for d in &drafts {
        if let Some(rules) = d.eff.get_set("rules") {
            rule_texts(&flatten_rules(rules), &mut texts);
        }
        for key in ["only", "except"] {
            if let Some(n) = d.eff.get(key) {
                texts.extend(n.strings());
                for sub in ["refs", "variables"] {
                    if let Some(s) = n.get(sub) {
                        texts.extend(s.strings());
                    }
                }
            }
        }
    }
    let mut all_sources = vec![
        Source::PushDefault,
        Source::PushOther,
        Source::MergeRequest,
        Source::Tag,
    ];
    for (src, word, keyword) in [
        (Source::Schedule, "schedule", "schedules"),
        (Source::Web, "web", "web"),
        (Source::Api, "api", "api"),
    ] {
        let quoted = [format!("\"{word}\""), format!("'{word}'")];
        if texts.iter().any(|t| {
            t == keyword
                || (t.contains("CI_PIPELINE_SOURCE") && quoted.iter().any(|q| t.contains(q)))
        }) {
            all_sources.push(src);
        }
    }
    let admitted: Vec<Source> = all_sources
        .into_iter()
        .filter(|s| match &wf_rules {
            Some(rules) => !eval.rules(rules, *s, None, None).is_empty(),
            None => true,
        })
        .collect();

    // Stage order: `.pre`, the declared stages (else GitLab's defaults), `.post`.
    let declared = config
        .get("stages")
        .or_else(|| config.get("types"))
        .map(YNode::strings)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            ["build", "test", "deploy"]
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        });
    let mut stages = vec![".pre".to_string()];
    stages.extend(declared.into_iter().filter(|s| s != ".pre" && s != ".post"));
    stages.push(".post".to_string());

    let file_start = Location::file_start(rel);
    let name = workflow
        .as_ref()
        .and_then(|w| w.str_of("name"))
        .unwrap_or_else(|| rel.to_string());
    let triggers: Vec<Trigger> = admitted
        .iter()
        .map(|s| s.trigger(file_start.clone()))
        .collect();
    let jobs_loc = drafts
        .first()
        .map_or_else(|| file_start.clone(), |d| d.loc.clone());
    let pipeline = Pipeline {
        provider: "gitlab".to_string(),
        path: rel.to_string(),
        name: name.clone(),
        loc: file_start.clone(),
        on_loc: file_start.clone(),
        jobs_loc,
        is_pre_merge: triggers.iter().any(|t| t.pre_merge),
        triggers,
        dispatch_inputs: Vec::new(),
        reusable_only: false,
    };

    let mut parsed = ParseCache::new();
    let jobs: Vec<Job> = drafts
        .into_iter()
        .flat_map(|d| {
            job(
                &files,
                d,
                &mut eval,
                &admitted,
                wf_rules.is_some(),
                global_vars.as_ref(),
                &stages,
                &mut parsed,
                rel,
                &name,
            )
        })
        .collect();

    GitlabCi {
        pipeline,
        jobs,
        external,
        errors,
        notes,
        sources,
    }
}

/// A top-level key that is a job: not reserved, not hidden, a mapping with `script`,
/// `trigger`, `extends` or `run`.
fn is_job(name: &str, value: &YNode) -> bool {
    !name.starts_with('.')
        && !RESERVED.contains(&name)
        && ["script", "trigger", "extends", "run"]
            .iter()
            .any(|k| value.get(k).is_some())
}

fn rule_texts(rules: &[&YNode], out: &mut Vec<String>) {
    for r in rules {
        if let Some(s) = r.str_of("if") {
            out.push(s);
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn job(
    files: &[SrcFile],
    d: Draft,
    eval: &mut Evaluator,
    admitted: &[Source],
    workflow_rules: bool,
    global_vars: Option<&YNode>,
    stages: &[String],
    parsed: &mut ParseCache,
    pipeline: &str,
    pipeline_name: &str,
) -> Vec<Job> {
    let Draft { id, loc, eff } = d;
    let job_when = eff.str_of("when");
    let job_af = allow_failure_of(&eff);

    // Variables in effect (global, as `inherit:` allows, then the job's own).
    let mut vars = BTreeMap::new();
    let inherit = eff.get("inherit").and_then(|i| i.get("variables"));
    let inherited: Option<Vec<String>> = match inherit {
        Some(YNode {
            value: YValue::Bool(false),
            ..
        }) => Some(Vec::new()),
        Some(
            n @ YNode {
                value: YValue::Seq(_),
                ..
            },
        ) => Some(n.strings()),
        _ => None,
    };
    if let Some(g) = global_vars {
        for (k, v) in variables(g) {
            if inherited.as_ref().is_none_or(|list| list.contains(&k)) {
                vars.insert(k, v);
            }
        }
    }
    if let Some(own) = eff.get("variables") {
        vars.extend(variables(own));
    }

    let env_node = eff.get_set("environment");
    let env_text = env_node.and_then(|e| match &e.value {
        YValue::Map(_) => e.str_of("name"),
        _ => e.as_str(),
    });
    let environment_action = env_node
        .and_then(|e| e.str_of("action"))
        .map(|a| a.trim().to_ascii_lowercase())
        .unwrap_or_default();

    // Which sources reach the job, and how. A rule's `variables:` apply when it matches, so
    // an environment named by such a variable can differ by source: the job then becomes one
    // job per environment, each reached by its own sources.
    let mut groups: Vec<Variant> = Vec::new();
    for src in admitted {
        for o in eval.job(&eff, *src, workflow_rules, job_when.as_deref(), job_af) {
            let mut v = vars.clone();
            v.extend(o.variables.iter().cloned());
            let environment = env_text
                .as_deref()
                .map(|e| expand(e, &v, 0))
                .unwrap_or_default();
            let at = match groups.iter().position(|g| g.environment == environment) {
                Some(i) => i,
                None => {
                    groups.push(Variant {
                        environment,
                        vars: v,
                        reached: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            groups[at].reached.push((*src, o));
        }
    }
    if groups.is_empty() {
        groups.push(Variant {
            environment: env_text
                .as_deref()
                .map(|e| expand(e, &vars, 0))
                .unwrap_or_default(),
            vars,
            reached: Vec::new(),
        });
    }

    let needs: Vec<String> = eff
        .get("needs")
        .map(|n| {
            n.items()
                .iter()
                .filter_map(|item| match &item.value {
                    YValue::Map(_)
                        if item.get("project").is_none() && item.get("pipeline").is_none() =>
                    {
                        item.str_of("job")
                    }
                    YValue::Map(_) => None,
                    _ => item.as_str(),
                })
                .collect()
        })
        .unwrap_or_default();
    let stage = eff.str_of("stage").unwrap_or_else(|| "test".to_string());
    let rank = stages
        .iter()
        .position(|s| *s == stage)
        .and_then(|i| i64::try_from(i).ok())
        .unwrap_or(0);
    let split = groups.len() > 1;
    let condition = condition_text(&eff);
    let matrix = parallel_matrix(&eff);
    groups
        .into_iter()
        .map(|g| {
            let mut triggers: Vec<Trigger> = Vec::new();
            let mut seen: Vec<Source> = Vec::new();
            let mut pre_merge = false;
            for (src, o) in &g.reached {
                if !seen.contains(src) {
                    seen.push(*src);
                    triggers.push(src.trigger(loc.clone()));
                }
                if src.pre_merge() && (o.when != "manual" || o.allow_failure == Some(false)) {
                    pre_merge = true;
                }
            }
            let outcomes: Vec<&Outcome> = g.reached.iter().map(|(_, o)| o).collect();
            let manual = if outcomes.is_empty() {
                job_when.as_deref() == Some("manual")
            } else {
                outcomes.iter().all(|o| o.when == "manual")
            };
            let allow_failure = if outcomes.is_empty() {
                job_af == Some(true)
            } else {
                outcomes.iter().all(|o| o.allow_failure == Some(true))
            };
            let steps = steps(files, &eff, !allow_failure, &g.vars, parsed);
            Job {
                name: id.clone(),
                key: if split {
                    format!("{pipeline}#{id}@{}", g.environment)
                } else {
                    format!("{pipeline}#{id}")
                },
                rank,
                id: id.clone(),
                pipeline: pipeline.to_string(),
                pipeline_name: pipeline_name.to_string(),
                provider: "gitlab".to_string(),
                path: loc.file.clone(),
                loc: loc.clone(),
                needs: needs.clone(),
                needs_declared: eff.get("needs").is_some(),
                has_environment: env_node.is_some(),
                environment_action: environment_action.clone(),
                environment: g.environment,
                environment_choices: Vec::new(),
                condition: condition.clone(),
                triggers,
                is_pre_merge: pre_merge,
                allow_failure,
                manual,
                stage: stage.clone(),
                matrix: matrix.clone(),
                steps,
                via: String::new(),
                deploys: Vec::new(),
                flow_ops: Vec::new(),
                after_ops: Vec::new(),
                unprotected_migrations: Vec::new(),
                deploys_mutable_push: false,
            }
        })
        .collect()
}

/// One way a job runs: the environment it deploys to, the variables in effect, and the
/// sources that reach it this way (with the rule outcome of each).
struct Variant {
    pub(super) environment: String,
    vars: BTreeMap<String, String>,
    reached: Vec<(Source, Outcome)>,
}

#[cfg(test)]
mod tests {

    use crate::load::gitlab::tests::{ci, ids, job};

    #[test]
    fn job_names_with_colons_spaces_and_slashes() {
        let ci = ci(
            "test:unit:\n  script: [npm run test:unit]\n\"deploy prod\":\n  script: [echo]\nbuild/app:\n  script: [echo]\npages:\n  script: [echo]\n.hidden:\n  script: [echo]\nstages: [build]\nvariables: {A: b}\nnot-a-job:\n  image: x\n",
        );
        assert_eq!(
            ids(&ci),
            vec!["test:unit", "deploy prod", "build/app", "pages"]
        );
        assert_eq!(job(&ci, "deploy prod").loc.line, 3);
        assert_eq!(job(&ci, "build/app").key, ".gitlab-ci.yml#build/app");
    }

    #[test]
    fn needs_forms() {
        let ci = ci(
            "a:\n  script: [x]\nb:\n  needs:\n    - a\n    - job: c\n      optional: true\n    - pipeline: $PARENT\n      job: d\n    - project: g/p\n      job: e\n      ref: main\n  script: [x]\nc:\n  script: [x]\n",
        );
        assert_eq!(job(&ci, "b").needs, vec!["a", "c"]);
    }
}
