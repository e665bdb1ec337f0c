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
use crate::model::ci::{External, Job, Pipeline};

mod jobs;
mod steps;
mod triggers;

use jobs::dispatch_choices;
pub use steps::without_expressions;
use triggers::triggers;
pub use triggers::{glob_match, with_branches};

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
        opened: BTreeMap::new(),
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
    /// Local files referenced (reusable workflows, local actions) read and parsed so far:
    /// each is read and parsed once however many jobs or steps use it.
    opened: BTreeMap<String, std::rc::Rc<(String, Vec<YNode>)>>,
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

    /// Opens the local file `target` that `file` references at `at` (`what`: a reusable
    /// workflow or a local action): its text and documents. Refused, as an error, past the
    /// nesting bound or when it leads back into a file being read; a file that cannot be read
    /// or does not parse is recorded (see [`Ctx::broken_reference`]).
    fn open_local(
        &mut self,
        file: &str,
        what: &str,
        target: &str,
        at: &Location,
        depth: usize,
    ) -> Option<std::rc::Rc<(String, Vec<YNode>)>> {
        if depth >= MAX_DEPTH || self.stack.iter().any(|s| s == target) {
            self.out.errors.push(LoadError {
                message: format!("{file}: {what} cycle through {target}"),
                loc: at.clone(),
                outside: false,
            });
            return None;
        }
        if let Some(hit) = self.opened.get(target) {
            return Some(hit.clone());
        }
        let text = self.read_local(target, at)?;
        match ytree::parse(target, &text) {
            Ok(docs) => {
                let opened = std::rc::Rc::new((text, docs));
                self.opened.insert(target.to_string(), opened.clone());
                Some(opened)
            }
            Err(failure) => {
                self.broken_reference(target, at, failure);
                None
            }
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn load_tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Workflow) {
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
    fn commented_out_workflows_hold_nothing() {
        let (_d, w) = load_tree(&[(".github/workflows/a.yml", "# on: push\n# jobs: {}\n")]);
        assert!(w.pipeline.is_none());
    }
}
