//! GitHub Actions loader: workflows under the root `.github/workflows/` become pipelines of
//! the neutral CI model. Triggers are normalised from every `on:` form; job `if:` conditions
//! are evaluated per trigger with three-valued logic; local reusable workflows and local
//! composite actions are followed (cycles and missing targets are errors, not crashes);
//! remote actions and workflows are recorded, never fetched.

use std::collections::BTreeMap;

use crate::load::yaml::YamlFailure;
use crate::load::ytree::{self, YNode, YValue};
use crate::load::{LoadError, Root};
use crate::location::{LineIndex, Location};
use crate::model::ci::{External, Job, Pipeline, Step, Trigger};
use crate::shell;

/// How deep local reusable workflows and composite actions are followed.
const MAX_DEPTH: usize = 8;

/// Result of loading one workflow file.
#[derive(Debug, Default)]
pub struct Workflow {
    /// The pipeline, absent for files that hold no workflow (e.g. fully commented out).
    pub pipeline: Option<Pipeline>,
    /// Its jobs, reusable-workflow jobs expanded.
    pub jobs: Vec<Job>,
    /// Remote references recorded.
    pub external: Vec<External>,
    /// Problems with files it references (missing, invalid, cycles).
    pub errors: Vec<LoadError>,
    /// Notes at references to local files that do not parse: the file's own SS001 is at its
    /// error, and the reference is told here (a related location, not a second SS001).
    pub notes: Vec<LoadError>,
    /// Texts of the other local files read (for snippets).
    pub sources: Vec<(String, String)>,
}

/// Loads the workflow `rel` (text `text`) of the repository at `root`.
pub fn load(root: &Root, rel: &str, text: &str) -> Result<Workflow, LoadError> {
    let docs = ytree::parse(rel, text).map_err(|e| match e {
        YamlFailure::Invalid(e) | YamlFailure::Template(e) => e,
    })?;
    let mut out = Workflow::default();
    let Some(doc) = docs.into_iter().find(|d| !d.is_null()) else {
        return Ok(out);
    };
    if !matches!(doc.value, YValue::Map(_)) {
        return Err(LoadError {
            message: format!("{rel}: a workflow must be a mapping"),
            loc: doc.loc(rel),
            outside: false,
        });
    }
    let file_name = rel.rsplit('/').next().unwrap_or(rel).to_string();
    let name = doc.get("name").and_then(YNode::as_str).unwrap_or(file_name);
    let (on_loc, triggers, inputs) = match doc.entry("on") {
        Some((k, v)) => {
            let (t, i) = triggers(rel, v, k);
            (k.loc(rel), t, i)
        }
        None => (Location::file_start(rel), Vec::new(), Vec::new()),
    };
    let jobs_loc = doc
        .entry("jobs")
        .map_or_else(|| Location::file_start(rel), |(k, _)| k.loc(rel));
    let reusable_only = !triggers.is_empty() && triggers.iter().all(|t| t.event == "workflow_call");
    let pipeline = Pipeline {
        provider: "github".to_string(),
        path: rel.to_string(),
        name: name.clone(),
        loc: Location::file_start(rel),
        on_loc,
        jobs_loc,
        is_pre_merge: triggers.iter().any(|t| t.pre_merge),
        triggers: triggers.clone(),
        dispatch_inputs: inputs,
        reusable_only,
    };
    let dispatch_choices = dispatch_choices(&doc);
    let mut ctx = Ctx {
        dispatch_choices,
        root,
        workflow_env: doc.get("env").map(YNode::string_map).unwrap_or_default(),
        workflow_dir: doc
            .get("defaults")
            .and_then(|d| d.get("run"))
            .and_then(|r| r.get("working-directory"))
            .and_then(YNode::as_str)
            .unwrap_or_default(),
        default_dir: String::new(),
        pipeline: rel.to_string(),
        pipeline_name: name,
        out: &mut out,
        stack: vec![rel.to_string()],
        inputs: BTreeMap::new(),
        caller_matrix: BTreeMap::new(),
        line_indexes: BTreeMap::new(),
    };
    if let Some(jobs) = doc.get("jobs") {
        ctx.jobs(rel, text, jobs, &triggers, "", &[], 0);
    }
    out.pipeline = Some(pipeline);
    Ok(out)
}

struct Ctx<'a> {
    root: &'a Root,
    workflow_env: BTreeMap<String, String>,
    /// `defaults.run.working-directory` of the workflow.
    workflow_dir: String,
    /// `defaults.run.working-directory` in effect for the job being read.
    default_dir: String,
    pipeline: String,
    pipeline_name: String,
    out: &'a mut Workflow,
    stack: Vec<String>,
    /// `workflow_dispatch` inputs of the workflow read, with the values each can take.
    dispatch_choices: BTreeMap<String, Vec<String>>,
    /// Inside an inlined reusable workflow: its `inputs` with literal values (the caller's
    /// `with:`, else the input's `default`), substituted for `${{ inputs.X }}`.
    inputs: BTreeMap<String, String>,
    /// Inside an inlined reusable workflow: the calling job's `strategy.matrix`.
    caller_matrix: BTreeMap<String, Vec<String>>,
    /// Line starts of the texts read, by file: the text's address and length, and its index
    /// (so that finding a step's line does not rescan the file for every step).
    line_indexes: BTreeMap<String, (usize, usize, LineIndex)>,
}

impl Ctx<'_> {
    /// Records a referenced local file `target` (referenced at `at`) that does not parse:
    /// its own error (once, however many references; a templated file is a note), and a note
    /// at the reference.
    fn broken_reference(&mut self, target: &str, at: &Location, failure: YamlFailure) {
        match failure {
            YamlFailure::Invalid(e) => {
                if !self.out.errors.contains(&e) {
                    self.out.errors.push(e);
                }
            }
            YamlFailure::Template(_) => {}
        }
        self.out.notes.push(LoadError {
            outside: false,
            message: format!(
                "{}: {target} does not parse (reported there); its steps and jobs are not checked",
                at.file
            ),
            loc: at.clone(),
        });
    }

    /// Line `line` (1-based) of `text`, the text of `file`, without its line end.
    fn line_text<'t>(&mut self, file: &str, text: &'t str, line: u32) -> &'t str {
        let id = (text.as_ptr() as usize, text.len());
        let fresh = !matches!(self.line_indexes.get(file), Some((p, l, _)) if (*p, *l) == id);
        if fresh {
            self.line_indexes
                .insert(file.to_string(), (id.0, id.1, LineIndex::new(text)));
        }
        let Some((_, _, index)) = self.line_indexes.get(file) else {
            return "";
        };
        let Some(start) = index.line_start(line.max(1)) else {
            return "";
        };
        let end = index
            .line_start(line.max(1).saturating_add(1))
            .unwrap_or(text.len());
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// Reads a local file referenced from `from` (at `at`), recording problems.
    fn read_local(&mut self, rel: &str, at: &Location) -> Option<String> {
        match self.root.read_text(rel) {
            Ok(t) => {
                if !self.out.sources.iter().any(|(p, _)| p == rel) {
                    self.out.sources.push((rel.to_string(), t.clone()));
                }
                Some(t)
            }
            Err(e) => {
                self.out.errors.push(e.referenced_from(at));
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn jobs(
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
                if expression_nesting(&text) > MAX_EXPR_DEPTH {
                    self.out.errors.push(LoadError {
                        message: format!(
                            "{file}: the `{key}:` expression nests deeper than {MAX_EXPR_DEPTH} levels; it is not evaluated"
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
                    if depth >= MAX_DEPTH || self.stack.contains(&target) {
                        self.out.errors.push(LoadError {
                            message: format!("{file}: reusable workflow cycle through {target}"),
                            loc: at,
                            outside: false,
                        });
                        continue;
                    }
                    let Some(inner_text) = self.read_local(&target, &at) else {
                        continue;
                    };
                    match ytree::parse(&target, &inner_text) {
                        Ok(docs) => {
                            if let Some(inner_jobs) = docs.first().and_then(|d| d.get("jobs")) {
                                let inputs =
                                    call_inputs(docs.first(), job.get("with"), &self.inputs);
                                let outer = std::mem::replace(&mut self.inputs, inputs);
                                let mut matrix = self.caller_matrix.clone();
                                matrix.extend(matrix_of(job));
                                let outer_matrix =
                                    std::mem::replace(&mut self.caller_matrix, matrix);
                                self.stack.push(target.clone());
                                self.jobs(
                                    &target,
                                    &inner_text,
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
                        }
                        Err(failure) => self.broken_reference(&target, &at, failure),
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

    #[allow(clippy::too_many_arguments)]
    fn steps(
        &mut self,
        inherited_env: &BTreeMap<String, String>,
        file: &str,
        text: &str,
        list: &YNode,
        job_allows_failure: bool,
        out: &mut Vec<Step>,
        depth: usize,
    ) {
        // Directories that earlier `actions/checkout` steps with `path:` fill at run time.
        let mut checked_out: Vec<String> = Vec::new();
        for item in list.items() {
            if let Some(uses) = item.get("uses").and_then(YNode::as_str)
                && uses.starts_with("actions/checkout@")
                && let Some(path) = item
                    .get("with")
                    .and_then(|w| w.get("path"))
                    .and_then(YNode::as_str)
            {
                checked_out.push(
                    path.trim_start_matches("./")
                        .trim_end_matches('/')
                        .to_string(),
                );
            }
            let continue_on_error = item.get("continue-on-error").is_some_and(is_true);
            let gating = !continue_on_error && !job_allows_failure;
            let name = item.get("name").and_then(YNode::as_str).unwrap_or_default();
            let mut env: BTreeMap<String, String> = inherited_env.clone();
            let own: BTreeMap<String, String> =
                item.get("env").map(YNode::string_map).unwrap_or_default();
            env.extend(own);
            let working_directory = item
                .get("working-directory")
                .and_then(YNode::as_str)
                .map_or_else(
                    || self.default_dir.clone(),
                    |d| with_inputs(&d, &self.inputs),
                );
            if let Some(uses_node) = item.get("uses") {
                let uses = uses_node.as_str().unwrap_or_default();
                let at = uses_node.loc(file);
                if let Some(local) = uses.strip_prefix("./") {
                    // A local composite action: its steps count as this job's.
                    let dir = local.trim_end_matches('/');
                    if let Err(e) = self.root.resolve(dir)
                        && e.outside
                    {
                        self.out.errors.push(e.referenced_from(&at));
                        continue;
                    }
                    // `uses: ./` is the action at the repository root.
                    let prefix = if dir.is_empty() {
                        String::new()
                    } else {
                        format!("{dir}/")
                    };
                    let candidates = [
                        format!("{prefix}action.yml"),
                        format!("{prefix}action.yaml"),
                    ];
                    let Some(target) = candidates.iter().find(|c| self.root.is_file(c)).cloned()
                    else {
                        // An earlier checkout step fills this directory at run time: the
                        // action is not in the repository to check (a note, not an error).
                        if checked_out.iter().any(|p| {
                            !p.is_empty() && (dir == p || dir.starts_with(&format!("{p}/")))
                        }) {
                            self.out.external.push(External {
                                kind: "checkout".to_string(),
                                target: uses.to_string(),
                                loc: at,
                            });
                            continue;
                        }
                        self.out.errors.push(LoadError {
                            message: format!("{file}: local action {uses} has no action.yml"),
                            loc: at,
                            outside: false,
                        });
                        continue;
                    };
                    if depth >= MAX_DEPTH || self.stack.contains(&target) {
                        self.out.errors.push(LoadError {
                            message: format!("{file}: local action cycle through {target}"),
                            loc: at,
                            outside: false,
                        });
                        continue;
                    }
                    let Some(inner_text) = self.read_local(&target, &at) else {
                        continue;
                    };
                    match ytree::parse(&target, &inner_text) {
                        Ok(docs) => {
                            if let Some(inner) = docs
                                .first()
                                .and_then(|d| d.get("runs"))
                                .and_then(|r| r.get("steps"))
                            {
                                self.stack.push(target.clone());
                                self.steps(
                                    inherited_env,
                                    &target,
                                    &inner_text,
                                    inner,
                                    !gating,
                                    out,
                                    depth + 1,
                                );
                                self.stack.pop();
                            }
                        }
                        Err(failure) => self.broken_reference(&target, &at, failure),
                    }
                    continue;
                }
                let (action, uses_ref) = match uses.split_once('@') {
                    Some((a, r)) => (a.to_string(), r.to_string()),
                    None => (uses.clone(), String::new()),
                };
                if !uses.starts_with("docker://") {
                    self.out.external.push(External {
                        kind: "action".to_string(),
                        target: uses.clone(),
                        loc: at.clone(),
                    });
                }
                let mut with = BTreeMap::new();
                let mut with_locs = BTreeMap::new();
                if let Some(w) = item.get("with") {
                    for (k, v) in w.entries() {
                        if let Some(k_s) = k.as_str() {
                            let value = v.as_str().unwrap_or_default();
                            with.insert(k_s.clone(), with_inputs(&value, &self.inputs));
                            with_locs.insert(k_s, k.loc(file));
                        }
                    }
                }
                out.push(Step {
                    job: String::new(),
                    index: 0,
                    name,
                    id: item.get("id").and_then(YNode::as_str).unwrap_or_default(),
                    uses: action,
                    uses_ref,
                    with,
                    with_locs,
                    run: String::new(),
                    working_directory,
                    continue_on_error,
                    gating,
                    env,
                    commands: Vec::new(),
                    unanalysed: String::new(),
                    loc: at,
                });
                continue;
            }
            let Some(run_node) = item.get("run") else {
                continue;
            };
            let run = run_node.as_str().unwrap_or_default();
            let line_text = self.line_text(file, text, run_node.line);
            let shell_name = item
                .get("shell")
                .and_then(YNode::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let (mut commands, unanalysed) = if is_posix_shell(&shell_name) {
                match script_commands(file, line_text, run_node, &run) {
                    Ok(c) => (c, String::new()),
                    Err(e) => (Vec::new(), e.to_string()),
                }
            } else {
                // PowerShell and cmd scripts are not shell: their lines that read as simple
                // commands (`pnpm install`, `npm run lint`) are kept, the rest (blocks,
                // cmdlets with script blocks) is left out without a warning.
                let simple = simple_command_lines(&run);
                (
                    script_commands(file, line_text, run_node, &simple).unwrap_or_default(),
                    String::new(),
                )
            };
            if !self.inputs.is_empty() {
                for c in &mut commands {
                    substitute_inputs(c, &self.inputs);
                }
            }
            out.push(Step {
                job: String::new(),
                index: 0,
                name,
                id: item.get("id").and_then(YNode::as_str).unwrap_or_default(),
                uses: String::new(),
                uses_ref: String::new(),
                with: BTreeMap::new(),
                with_locs: BTreeMap::new(),
                run,
                working_directory,
                continue_on_error,
                gating,
                env,
                commands,
                unanalysed,
                loc: run_node.loc(file),
            });
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
fn dispatch_choices(doc: &YNode) -> BTreeMap<String, Vec<String>> {
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

/// `text` with `${{ inputs.X }}` replaced by the literal value of input X, where known.
fn with_inputs(text: &str, inputs: &BTreeMap<String, String>) -> String {
    if !text.contains("inputs.") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        let Some(j) = rest[i..].find("}}") else { break };
        out.push_str(&rest[..i]);
        let expr = &rest[i + 3..i + j];
        match input_value(expr, inputs) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..i + j + 2]),
        }
        rest = &rest[i + j + 2..];
    }
    out.push_str(rest);
    out
}

/// The value of an expression made of known inputs and literals joined by `||` (the default
/// idiom `inputs.dir || '.'`): the first non-empty alternative. `None` when an alternative is
/// anything else or names an input whose value is not known.
fn input_value(expr: &str, inputs: &BTreeMap<String, String>) -> Option<String> {
    for alt in expr.split("||").map(str::trim) {
        let value = if let Some(name) = alt.strip_prefix("inputs.") {
            inputs.get(name)?.clone()
        } else if alt.len() >= 2
            && ((alt.starts_with('\'') && alt.ends_with('\''))
                || (alt.starts_with('"') && alt.ends_with('"')))
        {
            alt[1..alt.len() - 1].to_string()
        } else {
            return None;
        };
        if !value.is_empty() {
            return Some(value);
        }
    }
    Some(String::new())
}

/// A command with the known inputs substituted in its words (its package-manager reading
/// redone).
fn substitute_inputs(c: &mut shell::Command, inputs: &BTreeMap<String, String>) {
    let before = (c.program.clone(), c.args.clone());
    c.program = with_inputs(&c.program, inputs);
    for a in c.args.iter_mut().chain(c.argv.iter_mut()) {
        *a = with_inputs(a, inputs);
    }
    if (c.program.as_str(), &c.args) != (before.0.as_str(), &before.1) {
        c.pm = crate::pm::classify(&c.program, &c.args, &c.env);
    }
}

/// The commands of a `run:` script; `line_text` is the text of the line its value starts on.
fn script_commands(
    file: &str,
    line_text: &str,
    node: &YNode,
    run: &str,
) -> Result<Vec<shell::Command>, shell::ShellError> {
    let at: String = line_text
        .chars()
        .skip(node.col.saturating_sub(1) as usize)
        .take(1)
        .collect();
    let col = if at == "\"" || at == "'" {
        node.col + 1
    } else {
        node.col
    };
    shell::parse_script(run, file, node.line, col)
}

/// `text` without its `${{ ... }}` expressions (an unclosed one runs to the end).
pub fn without_expressions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        match rest[i..].find("}}") {
            Some(j) => rest = &rest[i + j + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Whether a step's `shell:` runs a POSIX shell script (`bash`, `sh`, a custom `bash {0}`, or
/// the default); `pwsh`, `powershell`, `cmd` and `python` do not.
fn is_posix_shell(shell: &str) -> bool {
    let program = shell.split_whitespace().next().unwrap_or("");
    !matches!(program, "pwsh" | "powershell" | "cmd" | "python")
}

/// A non-POSIX script with each line that is not a simple command on its own blanked (line
/// positions kept): what remains parses as shell.
fn simple_command_lines(script: &str) -> String {
    script
        .lines()
        .map(|l| {
            // `${{ ... }}` expressions are GitHub's, not the script's: they do not count.
            let bare = without_expressions(l);
            let simple = !l.trim().is_empty()
                && !bare.contains(['{', '}', '$', '|', '`', '(', ')', ';'])
                && shell::parse_script(l, "", 1, 1).is_ok();
            if simple { l } else { "" }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_true(n: &YNode) -> bool {
    matches!(n.value, YValue::Bool(true)) || n.as_str().as_deref() == Some("true")
}

/// Normalises `on:` (string, list, or map with null or mapping values) into triggers, and
/// returns the `workflow_dispatch` input names.
fn triggers(rel: &str, on: &YNode, on_key: &YNode) -> (Vec<Trigger>, Vec<String>) {
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
fn restrict(t: &Trigger, condition: &str, in_call: bool) -> Option<Trigger> {
    if condition.is_empty() {
        return Some(t.clone());
    }
    let parts = split_branches(t);
    let kept: Vec<&Trigger> = parts
        .iter()
        .filter(|p| eval_condition_in(condition, p, in_call) != Some(false))
        .collect();
    join_parts(t, &kept)
}

/// The environments a job's `environment:` names, per trigger: an expression
/// (`${{ github.ref_name == 'main' && 'production' || github.ref_name }}`) is evaluated for
/// each part of each trigger (see [`split_branches`]) and the job's triggers are grouped by the
/// environment they give. A value not known for some part keeps the text as written for it.
fn environments_by_trigger(
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
            let values = eval_value(whole, &part, in_call).unwrap_or_else(|| tri(None));
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

/// What a trigger tells about `github.*` values: `Some(v)` when known for every run it
/// starts.
fn known_value(var: &str, t: &Trigger, in_call: bool) -> Option<String> {
    let dispatch = t.event == "workflow_dispatch";
    // Inputs are empty for the triggers that give none (inside a reusable workflow, `inputs`
    // are the caller's).
    if var.starts_with("github.event.inputs.") && !dispatch {
        return Some(String::new());
    }
    if var.starts_with("inputs.") && !in_call && !dispatch && t.event != "workflow_call" {
        return Some(String::new());
    }
    match var {
        "github.event_name" => Some(t.event.clone()),
        "github.ref" | "github.ref_name" => {
            let single = |list: &[String]| {
                (list.len() == 1 && !list[0].contains(['*', '?', '!'])).then(|| list[0].clone())
            };
            if t.event == "push" && !t.tag_only && !t.tags.is_empty() {
                // Branch and tag filters together: the ref may be either.
                return None;
            }
            let (prefix, name) = if t.event == "push" && t.tag_only {
                ("refs/tags/", single(&t.tags)?)
            } else if t.event == "push" {
                ("refs/heads/", single(&t.branches)?)
            } else {
                return None;
            };
            Some(if var == "github.ref" {
                format!("{prefix}{name}")
            } else {
                name
            })
        }
        "github.base_ref" if t.pre_merge && t.event.starts_with("pull_request") => {
            (t.branches.len() == 1 && !t.branches[0].contains(['*', '?']))
                .then(|| t.branches[0].clone())
        }
        _ => None,
    }
}

/// What a trigger rules out for `github.ref`: a pull request's ref is never a branch or tag
/// ref; a tag push's never a branch; a branch push's never a tag.
fn ref_kind(t: &Trigger) -> Option<&'static str> {
    match t.event.as_str() {
        "pull_request" | "pull_request_target" => Some("refs/pull/"),
        "push" if t.tag_only => Some("refs/tags/"),
        "push" if t.tags.is_empty() => Some("refs/heads/"),
        _ => None,
    }
}

/// The deepest nesting of an expression text: parentheses open at once plus a run of `!`
/// (read without recursion, so any input is safe to measure).
pub fn expression_nesting(text: &str) -> usize {
    let (mut depth, mut deepest, mut bangs) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        bangs = if c == '!' {
            bangs + 1
        } else if c.is_whitespace() {
            bangs
        } else {
            0
        };
        deepest = deepest.max(depth + bangs);
    }
    deepest
}

/// Evaluates a job `if:` for one trigger: `Some(true/false)` when known, `None` when not.
pub fn eval_condition(cond: &str, t: &Trigger) -> Option<bool> {
    eval_condition_in(cond, t, false)
}

/// [`eval_condition`]; `in_call` tells that the expression is read inside a reusable workflow
/// called from the trigger's workflow, where `inputs.*` come from the caller.
fn eval_condition_in(cond: &str, t: &Trigger, in_call: bool) -> Option<bool> {
    truthiness(&eval_value(cond, t, in_call)?)
}

/// The values an expression (`${{ ... }}` or its inside) can take for one trigger, `None` when
/// it does not parse.
fn eval_value(expr: &str, t: &Trigger, in_call: bool) -> Option<Vec<Poss>> {
    let c = expr.trim();
    let c = c
        .strip_prefix("${{")
        .and_then(|s| s.strip_suffix("}}"))
        .unwrap_or(c);
    let tokens = tokenize(c)?;
    let mut p = CondParser {
        tokens,
        pos: 0,
        depth: 0,
        trigger: t,
        in_call,
    };
    let v = p.or()?;
    (p.pos == p.tokens.len()).then_some(v)
}

/// One value an expression can take: a string, a boolean, or a value not known (whose
/// truthiness may still be known: `x || 'a'` is truthy whatever `x` is).
#[derive(Debug, Clone, PartialEq)]
enum Poss {
    Str(String),
    Bool(bool),
    Any(Option<bool>),
}

/// The most values one expression is followed with; beyond, it is unknown.
const MAX_POSS: usize = 16;

fn truthy(p: &Poss) -> Option<bool> {
    match p {
        Poss::Str(s) => Some(!s.is_empty()),
        Poss::Bool(b) => Some(*b),
        Poss::Any(t) => *t,
    }
}

/// Whether every value is truthy (`Some(true)`), none is (`Some(false)`), or it is unknown.
fn truthiness(values: &[Poss]) -> Option<bool> {
    let mut it = values.iter().map(truthy);
    let first = it.next()??;
    it.all(|t| t == Some(first)).then_some(first)
}

/// Adds `p` to `out` unless present; past [`MAX_POSS`] values the whole is unknown.
fn push_poss(out: &mut Vec<Poss>, p: Poss) {
    if !out.contains(&p) {
        out.push(p);
    }
    if out.len() > MAX_POSS {
        *out = vec![Poss::Any(None)];
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let mut v = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        v.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        v.push(*ch);
                        i += 1;
                    }
                    None => return None,
                }
            }
            out.push(Tok::Str(v));
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = match two.as_str() {
                "==" => Some("=="),
                "!=" => Some("!="),
                "&&" => Some("&&"),
                "||" => Some("||"),
                ">=" => Some(">="),
                "<=" => Some("<="),
                _ => None,
            };
            if let Some(op) = op {
                out.push(Tok::Op(op));
                i += 2;
            } else if matches!(c, '!' | '<' | '>') {
                out.push(Tok::Op(match c {
                    '!' => "!",
                    '<' => "<",
                    _ => ">",
                }));
                i += 1;
            } else {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || "._-*[]".contains(chars[i]))
                {
                    i += 1;
                }
                if start == i {
                    return None;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
        }
    }
    Some(out)
}

/// An operand: a literal, a variable (kept by name: `github.ref` rules out other ref kinds
/// even when its value is unknown), or the values of a sub-expression.
#[derive(Debug, Clone)]
enum Val {
    Known(String),
    Var(String),
    Values(Vec<Poss>),
}

/// How deeply an expression may nest (parentheses, `!`, call arguments) before it is not
/// evaluated: the parser recurses once per level.
const MAX_EXPR_DEPTH: usize = 64;

struct CondParser<'t> {
    tokens: Vec<Tok>,
    pos: usize,
    /// Current nesting, bounded by [`MAX_EXPR_DEPTH`].
    depth: usize,
    trigger: &'t Trigger,
    /// Inside a reusable workflow: `inputs.*` come from the caller.
    in_call: bool,
}

/// Three-valued truth: `None` is unknown.
type Tri = Option<bool>;

fn tri(t: Tri) -> Vec<Poss> {
    vec![t.map_or(Poss::Any(None), Poss::Bool)]
}

impl CondParser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }
    /// `a || b`: `a` when truthy, else `b`. The outer `Option` is a syntax error (or an
    /// expression nested deeper than [`MAX_EXPR_DEPTH`]).
    fn or(&mut self) -> Option<Vec<Poss>> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return None;
        }
        let v = self.or_inner();
        self.depth -= 1;
        v
    }

    fn or_inner(&mut self) -> Option<Vec<Poss>> {
        self.short_circuit("||", true, Self::and)
    }
    /// `a && b`: `a` when falsy, else `b`.
    fn and(&mut self) -> Option<Vec<Poss>> {
        self.short_circuit("&&", false, Self::not)
    }
    /// A chain of `op` over operands read by `operand`: each value of the left side whose
    /// truthiness is `keep` is the result, one of the opposite truthiness gives way to the
    /// right side, and an unknown one may be either.
    fn short_circuit(
        &mut self,
        op: &'static str,
        keep: bool,
        operand: fn(&mut Self) -> Option<Vec<Poss>>,
    ) -> Option<Vec<Poss>> {
        let mut v = operand(self)?;
        while self.peek() == Some(&Tok::Op(op)) {
            self.pos += 1;
            let r = operand(self)?;
            let mut out = Vec::new();
            for p in v {
                match truthy(&p) {
                    Some(t) if t == keep => push_poss(&mut out, p),
                    Some(_) => r.iter().for_each(|q| push_poss(&mut out, q.clone())),
                    None => {
                        push_poss(&mut out, Poss::Any(Some(keep)));
                        r.iter().for_each(|q| push_poss(&mut out, q.clone()));
                    }
                }
            }
            v = out;
        }
        Some(v)
    }
    fn not(&mut self) -> Option<Vec<Poss>> {
        if self.peek() == Some(&Tok::Op("!")) {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_EXPR_DEPTH {
                return None;
            }
            let v = self.not();
            self.depth -= 1;
            let v = v?;
            let mut out = Vec::new();
            for p in &v {
                push_poss(
                    &mut out,
                    truthy(p).map_or(Poss::Any(None), |b| Poss::Bool(!b)),
                );
            }
            return Some(out);
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Option<Vec<Poss>> {
        let left = self.atom()?;
        if let Some(Tok::Op(op @ ("==" | "!=" | "<" | ">" | "<=" | ">="))) = self.peek().cloned() {
            self.pos += 1;
            let right = self.atom()?;
            if op != "==" && op != "!=" {
                return Some(tri(None));
            }
            let eq = self.equals(&left, &right);
            return Some(tri(if op == "==" { eq } else { eq.map(|b| !b) }));
        }
        Some(self.values(&left))
    }
    /// The values an operand can take for the trigger.
    fn values(&self, v: &Val) -> Vec<Poss> {
        match v {
            Val::Known(s) => vec![Poss::Str(s.clone())],
            Val::Var(name) => vec![
                known_value(name, self.trigger, self.in_call).map_or(Poss::Any(None), Poss::Str),
            ],
            Val::Values(p) => p.clone(),
        }
    }
    /// The single string an operand has, when known.
    fn resolve(&self, v: &Val) -> Option<String> {
        match self.values(v).as_slice() {
            [Poss::Str(s)] => Some(s.clone()),
            _ => None,
        }
    }
    fn equals(&self, a: &Val, b: &Val) -> Tri {
        match (self.resolve(a), self.resolve(b)) {
            (Some(x), Some(y)) => Some(x == y),
            (None, Some(lit)) | (Some(lit), None) => {
                let var = match (a, b) {
                    (Val::Var(n), _) | (_, Val::Var(n)) => n.as_str(),
                    _ => return self.equals_values(a, b),
                };
                if var == "github.ref" {
                    let kind = ref_kind(self.trigger)?;
                    (!lit.starts_with(kind)).then_some(false)
                } else {
                    self.equals_values(a, b)
                }
            }
            _ => self.equals_values(a, b),
        }
    }
    /// Equality over every pair of values the operands can take.
    fn equals_values(&self, a: &Val, b: &Val) -> Tri {
        let (xs, ys) = (self.values(a), self.values(b));
        let mut seen: Option<bool> = None;
        for x in &xs {
            for y in &ys {
                let eq = match (x, y) {
                    (Poss::Str(x), Poss::Str(y)) => x == y,
                    (Poss::Bool(x), Poss::Bool(y)) => x == y,
                    _ => return None,
                };
                if seen.is_some_and(|s| s != eq) {
                    return None;
                }
                seen = Some(eq);
            }
        }
        seen
    }
    fn atom(&mut self) -> Option<Val> {
        let tok = self.peek()?.clone();
        self.pos += 1;
        match tok {
            Tok::Str(s) => Some(Val::Known(s)),
            Tok::LParen => {
                let v = self.or()?;
                (self.peek() == Some(&Tok::RParen)).then(|| self.pos += 1)?;
                Some(Val::Values(v))
            }
            Tok::Ident(name) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    while self.peek() != Some(&Tok::RParen) {
                        let a = self.or_value()?;
                        args.push(a);
                        if self.peek() == Some(&Tok::Comma) {
                            self.pos += 1;
                        } else if self.peek() != Some(&Tok::RParen) {
                            return None;
                        }
                    }
                    self.pos += 1;
                    return Some(Val::Values(tri(self.call(&name, &args))));
                }
                Some(match name.as_str() {
                    "true" => Val::Values(vec![Poss::Bool(true)]),
                    "false" => Val::Values(vec![Poss::Bool(false)]),
                    _ => Val::Var(name),
                })
            }
            _ => None,
        }
    }
    /// A function argument: a plain atom (strings and variables keep their identity).
    /// A function argument; nesting counts against [`MAX_EXPR_DEPTH`] as in [`Self::or`].
    fn or_value(&mut self) -> Option<Val> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return None;
        }
        let v = self.atom();
        self.depth -= 1;
        v
    }
    fn call(&self, name: &str, args: &[Val]) -> Tri {
        match (name.to_ascii_lowercase().as_str(), args) {
            ("startswith", [a, b]) => {
                let lit = self.resolve(b)?;
                match self.resolve(a) {
                    Some(v) => Some(v.starts_with(&lit)),
                    None => match a {
                        Val::Var(n) if n == "github.ref" => {
                            let kind = ref_kind(self.trigger)?;
                            if lit.starts_with(kind) || kind.starts_with(&lit) {
                                None
                            } else {
                                Some(false)
                            }
                        }
                        _ => None,
                    },
                }
            }
            ("success" | "always", []) => Some(true),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arguments_nested_deeply_are_unknown_not_a_stack_overflow() {
        let n = 20_000;
        let cond = format!(
            "startsWith({}x{}, 'refs/tags/')",
            "f(".repeat(n),
            ")".repeat(n)
        );
        let t = Trigger {
            default_branch: true,
            ..Trigger::new("push", Location::file_start("w.yml"))
        };
        assert_eq!(eval_condition(&cond, &t), None);
        assert_eq!(
            eval_condition("startsWith(github.ref, 'refs/tags/')", &t),
            Some(false)
        );
    }

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

    fn load_tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Workflow) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (p, c) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, c).expect("write");
        }
        let (rel, text) = files[0];
        let w = load(
            &crate::load::Root::new(dir.path()).expect("root"),
            rel,
            text,
        )
        .expect("loads");
        (dir, w)
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
    fn job_conditions_are_three_valued() {
        let push_main = Trigger {
            branches: vec!["main".into()],
            default_branch: true,
            ..Trigger::new("push", Location::file_start("a"))
        };
        let mut pr = push_main.clone();
        pr.event = "pull_request".into();
        let mut dispatch = push_main.clone();
        dispatch.event = "workflow_dispatch".into();
        dispatch.branches.clear();
        assert_eq!(
            eval_condition("github.ref == 'refs/heads/develop'", &push_main),
            Some(false)
        );
        assert_eq!(
            eval_condition("github.ref == 'refs/heads/main'", &push_main),
            Some(true)
        );
        assert_eq!(
            eval_condition("${{ github.event_name == 'push' }}", &pr),
            Some(false)
        );
        assert_eq!(
            eval_condition("github.ref == 'refs/heads/main'", &pr),
            Some(false)
        );
        assert_eq!(
            eval_condition(
                "github.event_name == 'workflow_dispatch' && inputs.env == 'production'",
                &dispatch
            ),
            None
        );
        assert_eq!(
            eval_condition(
                "github.event_name == 'workflow_dispatch' && inputs.env == 'production'",
                &push_main
            ),
            Some(false)
        );
        assert_eq!(
            eval_condition("!startsWith(github.ref, 'refs/tags/')", &push_main),
            Some(true)
        );
        assert_eq!(
            eval_condition(
                "contains(github.event.head_commit.message, 'x')",
                &push_main
            ),
            None
        );
        assert_eq!(eval_condition("(((", &push_main), None);
    }

    #[test]
    fn local_reusable_workflows_and_composite_actions_are_followed() {
        let (_d, w) = load_tree(&[
            (
                ".github/workflows/ci.yml",
                "on: pull_request\njobs:\n  call:\n    uses: ./.github/workflows/reusable.yml\n    secrets: inherit\n  own:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/setup\n      - run: |\n          npm ci\n          npm run lint || true\n",
            ),
            (
                ".github/workflows/reusable.yml",
                "on: workflow_call\njobs:\n  test:\n    runs-on: x\n    steps:\n      - run: npm test\n",
            ),
            (
                ".github/actions/setup/action.yml",
                "runs:\n  using: composite\n  steps:\n    - run: npm run typecheck\n      shell: bash\n",
            ),
        ]);
        let ids: Vec<&str> = w.jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, vec!["call/test", "own"]);
        assert!(w.jobs[0].is_pre_merge, "inherits the caller's triggers");
        assert_eq!(w.jobs[0].path, ".github/workflows/reusable.yml");
        let own = &w.jobs[1];
        assert_eq!(
            own.steps[0].commands[0].loc.file,
            ".github/actions/setup/action.yml"
        );
        assert_eq!(own.steps[0].commands[0].loc.line, 4);
        let lint = &own.steps[1].commands[1];
        assert_eq!((lint.loc.line, lint.neutralised), (12, true));
        assert!(w.errors.is_empty(), "{:?}", w.errors);
    }

    #[test]
    fn the_action_at_the_repository_root_is_followed() {
        let (_d, w) = load_tree(&[
            (
                ".github/workflows/ci.yml",
                "on: pull_request\njobs:\n  own:\n    runs-on: x\n    steps:\n      - uses: ./\n",
            ),
            (
                "action.yml",
                "runs:\n  using: composite\n  steps:\n    - run: npm run typecheck\n      shell: bash\n",
            ),
        ]);
        assert!(w.errors.is_empty(), "{:?}", w.errors);
        let cmd = &w.jobs[0].steps[0].commands[0];
        assert_eq!((cmd.loc.file.as_str(), cmd.loc.line), ("action.yml", 4));
    }

    #[test]
    fn cycles_and_missing_targets_are_errors() {
        let (_d, w) = load_tree(&[(
            ".github/workflows/a.yml",
            "on: push\njobs:\n  x:\n    uses: ./.github/workflows/a.yml\n  y:\n    runs-on: x\n    steps:\n      - uses: ./missing\n      - uses: actions/checkout@v4\n",
        )]);
        assert_eq!(w.errors.len(), 2, "{:?}", w.errors);
        assert_eq!(w.external.len(), 1);
        assert_eq!(w.jobs[0].steps[0].uses, "actions/checkout");
        assert_eq!(w.jobs[0].steps[0].uses_ref, "v4");
    }

    #[test]
    fn a_local_action_an_earlier_checkout_fills_is_recorded_not_an_error() {
        let (_d, w) = load_tree(&[(
            ".github/workflows/a.yml",
            "on: pull_request\njobs:\n  y:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        with: {repository: acme/review, path: ./.github/actions/review/}\n      - uses: ./.github/actions/review\n      - uses: ./.github/actions/other\n",
        )]);
        let kinds: Vec<(&str, &str)> = w
            .external
            .iter()
            .map(|x| (x.kind.as_str(), x.target.as_str()))
            .collect();
        assert!(
            kinds.contains(&("checkout", "./.github/actions/review")),
            "{kinds:?}"
        );
        assert_eq!(w.errors.len(), 1, "{:?}", w.errors);
        assert!(w.errors[0].message.contains("./.github/actions/other"));
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

    #[test]
    fn commented_out_workflows_hold_nothing() {
        let (_d, w) = load_tree(&[(".github/workflows/a.yml", "# on: push\n# jobs: {}\n")]);
        assert!(w.pipeline.is_none());
    }
}
