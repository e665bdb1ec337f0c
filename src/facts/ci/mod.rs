//! CI facts: package-script and tool runs (with workspaces, task runners and script bodies
//! followed), gating, deploy jobs per environment, deploy flows ordered by `needs`, the
//! operations each run performs (migrations, backups, health checks, image builds and
//! pushes), image push tags, and the CI anchor.

use crate::definitions::Definitions;
use crate::load::nx::NxTasks;
use crate::load::package_json::Package;
use crate::model::ci::{Ci, Run};

mod commands;
mod environments;
mod expand;
mod flows;
mod images;
mod runs;

pub use crate::pm::runner_tasks;
pub use commands::{container_run, image_tool, is_health_url};
pub use environments::{Environments, PRODUCTION, STAGING, deploy_environments};
pub use expand::expand;
use expand::step_runs;
use flows::{anchor, flow_facts, flows, mutable_pushes, rank_jobs, restrict_by_needs};
pub use images::is_immutable_tag;
use images::{job_image_builds, settle_pushes, step_outputs, step_pushes};
pub use runs::command_runs;
use runs::enter;
use runs::is_gitlab;

/// How deep script bodies are followed.
const MAX_SCRIPT_DEPTH: usize = 6;

/// Computes every CI fact in place.
pub fn compute(
    ci: &mut Ci,
    packages: &[Package],
    (environments, defs): (&Environments, &Definitions),
    nx: &NxTasks,
) {
    ci.pipelines.sort_by(|a, b| a.path.cmp(&b.path));
    // GitLab jobs come ranked by stage; `rank_jobs` then ranks by the `needs` graph.
    let stage_ranks: Vec<i64> = ci.jobs.iter().map(|j| j.rank).collect();
    rank_jobs(&mut ci.jobs);
    restrict_by_needs(&mut ci.jobs);
    for job in &mut ci.jobs {
        job.deploys = deploy_environments(job, environments);
    }
    let graph = flows(&ci.jobs, &stage_ranks);
    let mut runs = Vec::new();
    let mut pushes = Vec::new();
    for job in &ci.jobs {
        // GitLab runs every script line of a job in one shell, so a `cd` carries over to the
        // next lines; each GitHub step starts in the workspace (or its working-directory).
        let one_shell = is_gitlab(job);
        let mut shell_dir = String::new();
        let outputs = step_outputs(job);
        for step in &job.steps {
            let start = if one_shell {
                shell_dir.clone()
            } else {
                enter("", &step.working_directory)
            };
            shell_dir = step_runs(job, step, (packages, nx, defs), &start, &mut runs);
            step_pushes(job, step, &outputs, &mut pushes);
        }
    }
    flow_facts(&mut ci.jobs, &runs, &graph);
    runs.sort_by(|a: &Run, b: &Run| {
        (&a.loc.file, a.loc.line, a.loc.col).cmp(&(&b.loc.file, b.loc.line, b.loc.col))
    });
    ci.runs = runs;
    ci.steps = ci
        .jobs
        .iter()
        .flat_map(|j| {
            j.steps.iter().map(|st| {
                let mut st = st.clone();
                st.job = j.key.clone();
                st
            })
        })
        .collect();
    settle_pushes(&mut pushes);
    mutable_pushes(&mut ci.jobs, &pushes, &graph);
    ci.pushes = pushes;
    ci.image_builds = ci.jobs.iter().flat_map(job_image_builds).collect();
    ci.anchor = anchor(ci);
    ci.provider = ["github", "gitlab"]
        .into_iter()
        .find(|w| ci.pipelines.iter().any(|p| p.provider == *w))
        .unwrap_or_default()
        .to_string();
}
