//! A workflow's jobs, reusable workflows called by local path followed (with their inputs),
//! `strategy: matrix:` values and `workflow_dispatch` input choices.

use super::Ctx;
use super::steps::with_inputs;
use super::triggers::{environments_by_trigger, is_true, restrict};
use crate::expr::MAX_DEPTH;
use crate::expr::github::expression_nesting;
use crate::load::LoadError;
use crate::load::ytree::{YNode, YValue};
use crate::model::ci::{External, Job, Trigger};
use std::collections::BTreeMap;

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn jobs(
        &mut self,
        file: &str,
        text: &str,
        jobs: &YNode,
        triggers: &[Trigger],
        prefix: &str,
        outer_needs: &[String],
        depth: usize,
    ) {
        for (key, job) in jobs.entries() {
            let Some(id) = key.as_str() else { continue };
            let full_id = if prefix.is_empty() {
                id.clone()
            } else {
                format!("{prefix}/{id}")
            };
            let mut needs: Vec<String> = outer_needs.to_vec();
            if let Some(n) = job.get("needs") {
                for s in n.strings() {
                    needs.push(if prefix.is_empty() {
                        s
                    } else {
                        format!("{prefix}/{s}")
                    });
                }
            }
            let mut condition = job.get("if").and_then(YNode::as_str).unwrap_or_default();
            // An expression nested past what is evaluated is reported and read as unknown.
            for key in ["if", "environment"] {
                let Some((k, v)) = job.entry(key) else {
                    continue;
                };
                let text = v
                    .as_str()
                    .or_else(|| v.get("name").and_then(YNode::as_str))
                    .unwrap_or_default();
                if expression_nesting(&text) > MAX_DEPTH {
                    self.out.errors.push(LoadError {
                        message: format!(
                            "{file}: the `{key}:` expression nests deeper than {MAX_DEPTH} levels; it is not evaluated"
                        ),
                        loc: k.loc(file),
                        outside: false,
                    });
                    if key == "if" {
                        condition = String::new();
                    }
                }
            }
            let in_call = !prefix.is_empty();
            let reaching: Vec<Trigger> = triggers
                .iter()
                .filter_map(|t| restrict(t, &condition, in_call))
                .collect();
            // A local reusable workflow: its jobs count as this job's, with these triggers.
            if let Some(uses) = job.get("uses").and_then(YNode::as_str) {
                let at = job
                    .get("uses")
                    .map_or_else(|| key.loc(file), |u| u.loc(file));
                if let Some(local) = uses.strip_prefix("./") {
                    let target = local.to_string();
                    let Some(opened) =
                        self.open_local(file, "reusable workflow", &target, &at, depth)
                    else {
                        continue;
                    };
                    let (inner_text, docs) = (&opened.0, &opened.1);
                    if let Some(inner_jobs) = docs.first().and_then(|d| d.get("jobs")) {
                        let inputs = call_inputs(docs.first(), job.get("with"), &self.inputs);
                        let outer = std::mem::replace(&mut self.inputs, inputs);
                        let mut matrix = self.caller_matrix.clone();
                        matrix.extend(matrix_of(job));
                        let outer_matrix = std::mem::replace(&mut self.caller_matrix, matrix);
                        self.stack.push(target.clone());
                        self.jobs(
                            &target,
                            inner_text,
                            inner_jobs,
                            &reaching,
                            &full_id,
                            &needs,
                            depth + 1,
                        );
                        self.stack.pop();
                        self.inputs = outer;
                        self.caller_matrix = outer_matrix;
                    }
                } else {
                    self.out.external.push(External {
                        kind: "workflow".to_string(),
                        target: uses.clone(),
                        loc: at,
                    });
                }
                continue;
            }
            let (environment, has_environment) = match job.get("environment") {
                Some(e) => match &e.value {
                    YValue::Map(_) => (
                        e.get("name").and_then(YNode::as_str).unwrap_or_default(),
                        true,
                    ),
                    _ => (e.as_str().unwrap_or_default(), !e.is_null()),
                },
                None => (String::new(), false),
            };
            let environment = with_inputs(&environment, &self.inputs);
            // `${{ inputs.target }}` / `${{ github.event.inputs.target }}` of a choice input.
            let environment_choices: Vec<String> = self
                .dispatch_choices
                .iter()
                .filter(|(k, _)| {
                    [format!("inputs.{k}"), format!("github.event.inputs.{k}")]
                        .iter()
                        .any(|r| environment.contains(r.as_str()))
                })
                .flat_map(|(_, values)| values.iter().cloned())
                .collect();
            let allow_failure = job.get("continue-on-error").is_some_and(is_true);
            let mut steps = Vec::new();
            if let Some(list) = job.get("steps") {
                let mut env = self.workflow_env.clone();
                env.extend(job.get("env").map(YNode::string_map).unwrap_or_default());
                let default_dir = job
                    .get("defaults")
                    .and_then(|d| d.get("run"))
                    .and_then(|r| r.get("working-directory"))
                    .and_then(YNode::as_str)
                    .unwrap_or_else(|| self.workflow_dir.clone());
                self.default_dir = with_inputs(&default_dir, &self.inputs);
                self.steps(&env, file, text, list, allow_failure, &mut steps, depth);
            }
            for (i, s) in steps.iter_mut().enumerate() {
                s.index = i as i64;
            }
            // `environment: ${{ COND && 'production' || 'staging' }}`, `${{ inputs.env ||
            // 'staging' }}`: each environment with the triggers that give it; one job per
            // environment. Where the value is not known, the text as written, with the
            // values a choice input offers.
            let variants: Vec<(String, Vec<String>, Vec<Trigger>)> =
                environments_by_trigger(&environment, &reaching, in_call)
                    .into_iter()
                    .map(|(known, t)| match known {
                        Some(e) => (e, Vec::new(), t),
                        None => (environment.clone(), environment_choices.clone(), t),
                    })
                    .collect();
            let variants = if variants.is_empty() {
                vec![(environment.clone(), environment_choices.clone(), Vec::new())]
            } else {
                variants
            };
            let split = variants.len() > 1;
            for (environment, environment_choices, reaching) in variants {
                let is_pre_merge = reaching.iter().any(|t| t.pre_merge);
                self.out.jobs.push(Job {
                    key: if split {
                        format!("{}#{full_id}@{environment}", self.pipeline)
                    } else {
                        format!("{}#{full_id}", self.pipeline)
                    },
                    rank: 0,
                    flow_ops: Vec::new(),
                    after_ops: Vec::new(),
                    unprotected_migrations: Vec::new(),
                    deploys_mutable_push: false,
                    id: full_id.clone(),
                    name: job
                        .get("name")
                        .and_then(YNode::as_str)
                        .unwrap_or_else(|| id.clone()),
                    pipeline: self.pipeline.clone(),
                    pipeline_name: self.pipeline_name.clone(),
                    provider: "github".to_string(),
                    path: file.to_string(),
                    loc: key.loc(file),
                    needs: needs.clone(),
                    needs_declared: !needs.is_empty(),
                    environment,
                    environment_choices,
                    has_environment,
                    environment_action: String::new(),
                    condition: condition.clone(),
                    triggers: reaching,
                    is_pre_merge,
                    allow_failure,
                    manual: false,
                    stage: String::new(),
                    matrix: {
                        // A caller's matrix reaches the reusable workflow's jobs through inputs.
                        let mut m = self.caller_matrix.clone();
                        m.extend(matrix_of(job));
                        m
                    },
                    steps: steps.clone(),
                    via: if prefix.is_empty() {
                        String::new()
                    } else {
                        file.to_string()
                    },
                    deploys: Vec::new(),
                });
            }
        }
    }
}

/// The commands of a `run:` value, located at their own lines. A quoted scalar shifts the
/// first column by its quote.
/// The literal inputs of a reusable workflow called with `with` (from a caller whose own
/// inputs are `outer`): the caller's values, else the inputs' `default`s. Values that are
/// still expressions after substituting `outer` are left out (unknown).
fn call_inputs(
    workflow: Option<&YNode>,
    with: Option<&YNode>,
    outer: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let declared = workflow
        .and_then(|d| d.get("on"))
        .and_then(|o| o.get("workflow_call"))
        .and_then(|c| c.get("inputs"));
    for (k, v) in declared.map(YNode::entries).unwrap_or_default() {
        if let (Some(name), Some(default)) = (k.as_str(), v.get("default").and_then(YNode::as_str))
        {
            out.insert(name, default);
        }
    }
    for (k, v) in with.map(YNode::entries).unwrap_or_default() {
        if let (Some(name), Some(value)) = (k.as_str(), v.as_str()) {
            out.insert(name, with_inputs(&value, outer));
        }
    }
    // Matrix values stay as expressions: the inlined jobs carry the caller's matrix.
    out.retain(|_, v| {
        v.match_indices("${{")
            .all(|(i, _)| v[i + 3..].trim_start().starts_with("matrix."))
    });
    out
}

/// A job's `strategy.matrix` as name → every value it takes: the lists, plus the values that
/// `include:` entries add (`include: [{task: lint}, {task: test}]` alone is a matrix too);
/// `exclude:` only removes combinations, so it is left out.
fn matrix_of(job: &YNode) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(m) = job.get("strategy").and_then(|st| st.get("matrix")) else {
        return out;
    };
    let mut add = |k: &YNode, v: &YNode| {
        let Some(name) = k.as_str().filter(|n| !n.is_empty()) else {
            return;
        };
        let values = out.entry(name).or_default();
        for value in v.strings() {
            if !values.contains(&value) {
                values.push(value);
            }
        }
    };
    for (k, v) in m.entries() {
        match k.as_str().as_deref() {
            Some("exclude") => {}
            Some("include") => {
                for entry in v.items() {
                    for (ik, iv) in entry.entries() {
                        add(ik, iv);
                    }
                }
            }
            _ => add(k, v),
        }
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// The `workflow_dispatch` inputs of a workflow with the values each can take: a choice
/// input's `options`, else its `default`.
pub(super) fn dispatch_choices(doc: &YNode) -> BTreeMap<String, Vec<String>> {
    let inputs = doc
        .get("on")
        .and_then(|o| o.get("workflow_dispatch"))
        .and_then(|d| d.get("inputs"));
    inputs
        .map(YNode::entries)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let options = v.get("options").map(YNode::strings).unwrap_or_default();
            let values = if options.is_empty() {
                v.get("default")
                    .and_then(YNode::as_str)
                    .into_iter()
                    .collect()
            } else {
                options
            };
            Some((k.as_str()?, values)).filter(|(_, v)| !v.is_empty())
        })
        .collect()
}
