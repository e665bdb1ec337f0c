//! The provider-neutral CI part of the CEL-visible model: GitHub Actions workflows and GitLab
//! CI pipelines both become pipelines → jobs → steps → shell commands, with triggers, needs,
//! environments and gating, plus the catalog's shared definitions computed once (script and
//! tool runs, pre-merge jobs, deploy jobs and flows, migrations, backups, health checks, image
//! pushes).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::location::Location;
use crate::shell::Command;

/// The CI configuration of a repository (`repo.ci`).
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct Ci {
    /// One pipeline per GitHub workflow file under the root `.github/workflows/`, and one for
    /// `.gitlab-ci.yml` with its local includes; sorted by path.
    pub pipelines: Vec<Pipeline>,
    /// Every job of every pipeline, in pipeline then file order. Jobs reached through a local
    /// reusable workflow appear under the caller, with the caller's triggers.
    pub jobs: Vec<Job>,
    /// The CI anchor: where "CI does not do X" findings point (the `jobs:` key of the first
    /// pre-merge workflow, else of the first workflow; GitLab: the first job key of
    /// `.gitlab-ci.yml`, else of its includes, else its line 1). Absent without CI config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Location>,
    /// The provider of the anchor's pipeline (`github` or `gitlab`; empty without CI): the
    /// terms that messages pointing at the anchor speak.
    pub provider: String,
    /// Every step of every job, flattened, in job then step order (see [`Step::job`]).
    pub steps: Vec<Step>,
    /// Every run of a package script or tool by any job, flattened (see [`Run`]).
    pub runs: Vec<Run>,
    /// Images that CI steps push (see "image build and push").
    pub pushes: Vec<Push>,
    /// Dockerfile builds by CI steps whose Dockerfile is known: they decide which stages are
    /// final (see `Stage.is_final`).
    pub image_builds: Vec<ImageBuild>,
    /// References that were recorded but not followed (remote actions, remote reusable
    /// workflows, remote GitLab includes).
    pub external: Vec<External>,
}

/// A workflow file (GitHub) or a pipeline configuration (GitLab).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Pipeline {
    /// `github` or `gitlab`.
    pub provider: String,
    /// Path of the file.
    pub path: String,
    /// The workflow's `name:`, else its file name.
    pub name: String,
    /// Line 1 of the file.
    pub loc: Location,
    /// The `on:` key (GitHub); line 1 when absent.
    pub on_loc: Location,
    /// The `jobs:` key (GitHub) or the first job key (GitLab); line 1 when absent.
    pub jobs_loc: Location,
    /// The pipeline's own triggers.
    pub triggers: Vec<Trigger>,
    /// Whether one of its own triggers is pre-merge.
    pub is_pre_merge: bool,
    /// Names of `workflow_dispatch` inputs.
    pub dispatch_inputs: Vec<String>,
    /// Whether the file only defines a reusable workflow (`on: workflow_call` alone).
    pub reusable_only: bool,
}

/// One event that starts a pipeline.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Trigger {
    /// `push`, `pull_request`, `pull_request_target`, `merge_group`, `workflow_dispatch`,
    /// `workflow_call`, `workflow_run`, `release`, `schedule`, `repository_dispatch`, ...
    /// GitLab: `push` (branch pipelines), `merge_request`, `tag`, `schedule`, `web`, `api`.
    pub event: String,
    /// `branches` filter.
    pub branches: Vec<String>,
    /// `branches-ignore` filter.
    pub branches_ignore: Vec<String>,
    /// `tags` filter.
    pub tags: Vec<String>,
    /// `paths` filter.
    pub paths: Vec<String>,
    /// `types` (release, workflow_run, ...).
    pub types: Vec<String>,
    /// `workflows` of a `workflow_run` trigger.
    pub workflows: Vec<String>,
    /// The event's key in the file.
    pub loc: Location,
    /// It runs for changes before they reach the default branch.
    pub pre_merge: bool,
    /// It fires for pushes to `main`/`master`.
    pub default_branch: bool,
    /// A `push` restricted to tags.
    pub tag_only: bool,
}

impl Trigger {
    /// A trigger of `event` at `loc` with no filters and nothing classified yet.
    pub fn new(event: &str, loc: Location) -> Trigger {
        Trigger {
            event: event.to_string(),
            branches: Vec::new(),
            branches_ignore: Vec::new(),
            tags: Vec::new(),
            paths: Vec::new(),
            types: Vec::new(),
            workflows: Vec::new(),
            loc,
            pre_merge: false,
            default_branch: false,
            tag_only: false,
        }
    }
}

/// A job (`repo.ci.jobs[]`).
///
/// Its deploy flow is itself, what it needs and what needs it (transitively); "after" it is
/// itself and what needs it. A GitLab job that declares no `needs:` waits for the jobs of
/// earlier stages that run in the same pipelines and are not `when: manual`, so it counts as
/// needing them; it is not added to their upstream.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Job {
    /// The job's key. Jobs of a local reusable workflow are `caller/inner`, with the
    /// caller's triggers and `needs`, and `${{ inputs.X }}` replaced by the caller's literal
    /// `with:` value (else the input's `default`) in environment names, commands and `with:`
    /// values.
    pub id: String,
    /// A key unique in the repository: `<pipeline path>#<id>`. A job whose environment takes
    /// different names for different sources (GitLab `rules:` `variables:`; GitHub
    /// `${{ COND && 'A' || 'B' }}`) is one job per environment, keyed
    /// `<pipeline path>#<id>@<environment>`, each with the triggers that reach it that way.
    pub key: String,
    /// Rank in its pipeline's `needs` graph (0 for jobs that need nothing; GitLab: stage
    /// order where no `needs` is given): orders deploy flows.
    pub rank: i64,
    /// `name:`, else the id.
    pub name: String,
    /// Path of the pipeline (the caller's, for jobs reached through a reusable workflow).
    pub pipeline: String,
    /// The pipeline's name.
    pub pipeline_name: String,
    /// `github` or `gitlab`: the provider whose terms messages about the job speak.
    pub provider: String,
    /// Path of the file that defines the job.
    pub path: String,
    /// The job's key in its file.
    pub loc: Location,
    /// Ids of the jobs it needs.
    pub needs: Vec<String>,
    /// Whether it declares `needs:` (also `needs: []`). A GitLab job that does not waits for
    /// the jobs of earlier stages.
    pub needs_declared: bool,
    /// The environment name (`environment:` string or `environment.name`), empty when none.
    pub environment: String,
    /// The names the environment can take when an input chooses it
    /// (`environment: ${{ inputs.target }}` with a `workflow_dispatch` choice input lists its
    /// `options`); empty otherwise.
    pub environment_choices: Vec<String>,
    /// Whether it declares `environment:`.
    pub has_environment: bool,
    /// GitLab `environment.action` (`start`, `prepare`, `stop`, `verify`, `access`), lower
    /// case; empty when not given (GitHub: always empty). A job whose action is `stop`,
    /// `prepare`, `verify` or `access` records no deployment and is not a deploy job.
    pub environment_action: String,
    /// The job condition as written (`if:`; GitLab rules/only/except summarised).
    pub condition: String,
    /// The triggers that reach the job (the pipeline's, restricted by the condition).
    pub triggers: Vec<Trigger>,
    /// Whether it runs for changes before they reach the default branch and gates them.
    pub is_pre_merge: bool,
    /// `continue-on-error: true` (GitHub) or `allow_failure: true` (GitLab).
    pub allow_failure: bool,
    /// GitLab `when: manual` (also inside its rules).
    pub manual: bool,
    /// GitLab stage.
    pub stage: String,
    /// `strategy.matrix` lists and the values its `include:` entries add (GitHub; GitLab `parallel.matrix`): name → values, so that
    /// `${{ matrix.service }}` in a path means each listed value.
    pub matrix: BTreeMap<String, Vec<String>>,
    /// The steps (GitLab: one step per script line). In the policy model they are in
    /// `repo.ci.steps` (with their job's key), so that iterating jobs stays cheap.
    #[serde(skip)]
    pub steps: Vec<Step>,
    /// The local reusable workflow it comes from, empty when defined in the pipeline itself.
    pub via: String,
    /// Environments it deploys to: `staging` and/or `production` (see the catalog).
    pub deploys: Vec<String>,
    /// The operations (see [`Run::ops`]) that some run of the job's deploy flow performs.
    pub flow_ops: Vec<String>,
    /// The operations that some run of the job itself or of a job that needs it performs.
    pub after_ops: Vec<String>,
    /// Production deploy jobs: migration commands of the job's deploy flow that no backup
    /// command precedes, each listed under one production job only (of those whose flow it is
    /// unprotected in, the one whose first backup comes latest; ties: the first job).
    pub unprotected_migrations: Vec<Location>,
    /// Whether an image push that is not immutable is deployed by the job: pushed by a job of
    /// its deploy flow, or, when it has no `needs:`, by a job of its pipeline ranked at or
    /// before it.
    pub deploys_mutable_push: bool,
}

/// A step of a job.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Step {
    /// The key of the step's job (`<pipeline path>#<id>`); filled when facts are computed.
    pub job: String,
    /// Position in the job, from 0.
    pub index: i64,
    /// `name:`, empty when none.
    pub name: String,
    /// `id:`, empty when none.
    pub id: String,
    /// The action (`docker/build-push-action`), empty for `run` steps.
    pub uses: String,
    /// The action's ref (`v5`), empty when none.
    pub uses_ref: String,
    /// `with:` inputs as strings.
    pub with: BTreeMap<String, String>,
    /// Where each `with:` input's key is.
    pub with_locs: BTreeMap<String, Location>,
    /// The script (`run:`, a GitLab script line).
    pub run: String,
    /// `working-directory`, empty when none.
    pub working_directory: String,
    /// `continue-on-error: true` on the step.
    pub continue_on_error: bool,
    /// Whether a failure of the step fails the job (no continue-on-error / allow_failure).
    pub gating: bool,
    /// The environment in effect: workflow, job and step `env:` values (GitLab: variables).
    pub env: BTreeMap<String, String>,
    /// The shell commands of the script, each at its own line. Not part of the policy model
    /// (`repo.ci.runs` holds what they run, with job facts attached); kept for the facts.
    #[serde(skip)]
    pub commands: Vec<Command>,
    /// Why the script could not be analysed (a shell syntax error of the parser, nesting or
    /// length past what is analysed), empty when it was or there is no script. Its commands
    /// are then unknown, not absent: rules that ask whether a job runs something treat such
    /// a step as possibly running it.
    pub unanalysed: String,
    /// The step (its first key), or the `uses:` line for action steps.
    pub loc: Location,
}

/// A run of a package script or a tool by a CI job: the catalog's "package script run" and
/// "tool run", with gating and pre-merge facts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Run {
    /// `script` (a package script run: `npm run X`, `yarn X` when X is defined, task
    /// runners' tasks, the scripts a script's body runs), `tool` (a binary: `eslint`,
    /// `npm audit`, `pg_dump`, `./scripts/backup.sh`; `docker run IMAGE` also runs the tool
    /// the image is named after) or `action` (a `uses:` step).
    pub kind: String,
    /// The script or tool name (`lint`, `eslint`, `trufflesecurity/trufflehog`).
    pub name: String,
    /// Arguments given to it.
    pub args: Vec<String>,
    /// `name` and `args` joined by spaces (`biome check .`, `npm audit --audit-level=high`):
    /// what tool lists match against.
    pub invocation: String,
    /// The program as written (`./scripts/backup-db.sh`, `npx`), for tools.
    pub program: String,
    /// Explicit script-run form (`npm run X`, `npm test`, ...), for CI009.
    pub explicit: bool,
    /// For audits: the level asked for (`--audit-level`, `--severity`), empty when unset.
    pub level: String,
    /// What the run does, from the catalog's shared definitions: `migration`, `backup`,
    /// `health` (health check or smoke test), `image_build`, `image_push`.
    pub ops: Vec<String>,
    /// Order of the run in its job's deploy flow: job rank, then step, then command.
    pub seq: i64,
    /// Whether the script is defined where it runs (true when that cannot be resolved).
    pub defined: bool,
    /// Directory of the package.json in effect, relative to the root ("" = root).
    pub package_dir: String,
    /// The job's key (`<pipeline path>#<id>`).
    pub job: String,
    /// The job's id.
    pub job_id: String,
    /// Whether the job is pre-merge.
    pub pre_merge: bool,
    /// Whether a failure fails the job (not neutralised, not continue-on-error/allow_failure).
    pub gating: bool,
    /// The command's own line (the `uses:` line for actions).
    pub loc: Location,
}

/// A reference that was not followed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct External {
    /// `action`, `workflow`, `include`, or `checkout` (a local action that an earlier
    /// `actions/checkout` step with `path:` fills at run time).
    pub kind: String,
    /// What is referenced (`actions/checkout@v4`, a remote URL).
    pub target: String,
    /// Where.
    pub loc: Location,
}

/// An image push by a CI step.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Push {
    /// The tags pushed, with the literal values of `env:` (GitHub workflow, job, step) and
    /// `variables:` (GitLab global and job, through `extends`) resolved.
    pub tags: Vec<String>,
    /// Whether some tag is not `latest` and derives from the commit or release.
    pub immutable: bool,
    /// True for a mutable push that only adds `latest` to an image the same job already
    /// pushed: the first push of the image holds every tag, so the image is judged once.
    pub repeats: bool,
    /// The job's key.
    pub job: String,
    /// The pushing step's `tags:` line, or the push command's line.
    pub loc: Location,
}

/// A Dockerfile build by a CI step (`docker build`, `docker buildx build`, `buildah bud`,
/// kaniko's `executor`, `buildctl build`, a `build-push-action` step), with its variables
/// resolved where their values are literal.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImageBuild {
    /// The Dockerfile built, relative to the root: `-f`/`--file`/`file:`/`--dockerfile`/
    /// `--opt filename=` (against the shell's directory, kaniko's against the context), else
    /// `Dockerfile` in the build context.
    pub dockerfile: String,
    /// The build context, relative to the root.
    pub context: String,
    /// The stage targeted (`--target`, `target:`, `--opt target=`), empty when none is named.
    pub target: String,
    /// The job's key.
    pub job: String,
    /// The build command's line (the `uses:` line for actions).
    pub loc: Location,
}
