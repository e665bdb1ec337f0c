//! CI facts: package-script and tool runs (with workspaces, task runners and script bodies
//! followed), gating, deploy jobs per environment, deploy flows ordered by `needs`, the
//! operations each run performs (migrations, backups, health checks, image builds and
//! pushes), image push tags, and the CI anchor.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::definitions::{self, Definitions};
use crate::load::nx::NxTasks;
use crate::load::package_json::Package;
use crate::location::Location;
use crate::model::ci::{Ci, ImageBuild, Job, Push, Run, Step, Trigger};
use crate::shell::{self, Command};

/// How deep script bodies are followed.
const MAX_SCRIPT_DEPTH: usize = 6;

/// Staging environment names (matched as words).
pub const STAGING: &[&str] = &[
    "staging",
    "stage",
    "stg",
    "preprod",
    "pre-prod",
    "preproduction",
    "pre-production",
    "uat",
];
/// Production environment names (matched as words).
pub const PRODUCTION: &[&str] = &["production", "prod", "prd", "live"];

/// The names that make a deploy job a staging or a production deploy (configuration
/// `environments`; the defaults are [`STAGING`] and [`PRODUCTION`]). A name matches when its
/// words appear together in an environment, job or workflow name: `eu-prod` matches
/// `deploy-eu-prod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environments {
    /// Staging names.
    pub staging: Vec<String>,
    /// Production names.
    pub production: Vec<String>,
}

impl Default for Environments {
    fn default() -> Self {
        let own = |l: &[&str]| l.iter().map(|s| (*s).to_string()).collect();
        Environments {
            staging: own(STAGING),
            production: own(PRODUCTION),
        }
    }
}

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

/// Per job: the operations of its flow and after it; and, for production deploy jobs, the
/// migrations of their flows that no backup precedes (ordered by job rank, then step, then
/// command), each listed under one job only. Computed over the `needs` graph by folding each
/// job's own facts over what it reaches, so the cost grows with the jobs and their `needs`,
/// not with the jobs times their flows.
fn flow_facts(jobs: &mut [Job], runs: &[Run], graph: &FlowGraph) {
    let index: BTreeMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.key.as_str(), i))
        .collect();
    let n = jobs.len();
    let mut own_ops: Vec<BTreeSet<String>> = vec![BTreeSet::new(); n];
    let mut own_backup: Vec<Option<i64>> = vec![None; n];
    for r in runs {
        let Some(&i) = index.get(r.job.as_str()) else {
            continue;
        };
        own_ops[i].extend(r.ops.iter().cloned());
        if r.ops.iter().any(|o| o == "backup") {
            own_backup[i] = Some(own_backup[i].map_or(r.seq, |b| b.min(r.seq)));
        }
    }
    let union = |a: &mut BTreeSet<String>, b: &BTreeSet<String>| a.extend(b.iter().cloned());
    let up_ops = reach_fold(&graph.up, &own_ops, union);
    let down_ops = reach_fold(&graph.down, &own_ops, union);
    let min = |a: &mut Option<i64>, b: &Option<i64>| {
        if let Some(b) = *b {
            *a = Some(a.map_or(b, |a| a.min(b)));
        }
    };
    let up_backup = reach_fold(&graph.up, &own_backup, min);
    let down_backup = reach_fold(&graph.down, &own_backup, min);
    // A production job whose flow holds a job is a job that job reaches backwards: the
    // production job whose first backup comes latest (no backup: last of all; ties: the
    // first job) is the one under which that job's unprotected migrations are listed.
    let key: Vec<Option<(i64, std::cmp::Reverse<usize>)>> = (0..n)
        .map(|i| {
            jobs[i].deploys.iter().any(|d| d == "production").then(|| {
                let mut first = up_backup[i];
                min(&mut first, &down_backup[i]);
                (first.unwrap_or(i64::MAX), std::cmp::Reverse(i))
            })
        })
        .collect();
    let max = |a: &mut Option<(i64, std::cmp::Reverse<usize>)>,
               b: &Option<(i64, std::cmp::Reverse<usize>)>| {
        if *b > *a {
            *a = *b;
        }
    };
    let by_up = reach_fold(&reverse(&graph.up), &key, max);
    let by_down = reach_fold(&reverse(&graph.down), &key, max);
    let mut unprotected: Vec<Vec<Location>> = vec![Vec::new(); n];
    for r in runs {
        let Some(&i) = index.get(r.job.as_str()) else {
            continue;
        };
        if !r.ops.iter().any(|o| o == "migration") {
            continue;
        }
        let mut best = by_up[i];
        max(&mut best, &by_down[i]);
        if let Some((first_backup, std::cmp::Reverse(p))) = best
            && first_backup >= r.seq
        {
            unprotected[p].push(r.loc.clone());
        }
    }
    for (i, j) in jobs.iter_mut().enumerate() {
        let mut flow: BTreeSet<String> = up_ops[i].clone();
        flow.extend(down_ops[i].iter().cloned());
        j.flow_ops = flow.into_iter().collect();
        j.after_ops = down_ops[i].iter().cloned().collect();
        let mut locs = std::mem::take(&mut unprotected[i]);
        locs.sort();
        locs.dedup();
        j.unprotected_migrations = locs;
    }
}

/// Per job: whether an image push that is not immutable is deployed by it: pushed by a job
/// of its deploy flow, or, when it has no `needs:`, by a job of its pipeline ranked at or
/// before it.
fn mutable_pushes(jobs: &mut [Job], pushes: &[Push], graph: &FlowGraph) {
    let index: BTreeMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.key.as_str(), i))
        .collect();
    let mut own = vec![false; jobs.len()];
    for x in pushes.iter().filter(|x| !x.immutable) {
        if let Some(&i) = index.get(x.job.as_str()) {
            own[i] = true;
        }
    }
    let or = |a: &mut bool, b: &bool| *a |= *b;
    let up = reach_fold(&graph.up, &own, or);
    let down = reach_fold(&graph.down, &own, or);
    let mut earliest: BTreeMap<String, i64> = BTreeMap::new();
    for (i, j) in jobs.iter().enumerate().filter(|(i, _)| own[*i]) {
        let e = earliest.entry(j.pipeline.clone()).or_insert(jobs[i].rank);
        *e = (*e).min(j.rank);
    }
    for (i, j) in jobs.iter_mut().enumerate() {
        let by_stage =
            j.needs.is_empty() && earliest.get(&j.pipeline).is_some_and(|r| *r <= j.rank);
        j.deploys_mutable_push = up[i] || down[i] || by_stage;
    }
}

/// For every node of a graph, `init` of the node joined with `init` of every node it reaches.
/// Strongly connected components (a `needs` cycle) share one value; each component is joined
/// once with the components it points at, so the cost grows with the nodes and edges.
fn reach_fold<T: Clone>(adj: &[Vec<usize>], init: &[T], join: impl Fn(&mut T, &T)) -> Vec<T> {
    const UNSEEN: usize = usize::MAX;
    let n = adj.len().min(init.len());
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut comp = vec![UNSEEN; n];
    let mut values: Vec<T> = Vec::new();
    let mut next = 0;
    for s in 0..n {
        if order[s] != UNSEEN {
            continue;
        }
        order[s] = next;
        low[s] = next;
        next += 1;
        stack.push(s);
        on_stack[s] = true;
        let mut calls: Vec<(usize, usize)> = vec![(s, 0)];
        while let Some(&(v, e)) = calls.last() {
            if let Some(&w) = adj[v].get(e).filter(|w| **w < n) {
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                if order[w] == UNSEEN {
                    order[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            if e < adj[v].len() {
                // An edge out of range: skip it.
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] != order[v] {
                continue;
            }
            let c = values.len();
            let mut members = Vec::new();
            while let Some(w) = stack.pop() {
                on_stack[w] = false;
                comp[w] = c;
                members.push(w);
                if w == v {
                    break;
                }
            }
            let mut value = init[v].clone();
            for &m in &members {
                if m != v {
                    join(&mut value, &init[m]);
                }
                for &w in adj[m].iter().filter(|w| **w < n) {
                    if comp[w] != c
                        && let Some(theirs) = values.get(comp[w])
                    {
                        join(&mut value, theirs);
                    }
                }
            }
            values.push(value);
        }
    }
    (0..n)
        .map(|i| values.get(comp[i]).unwrap_or(&init[i]).clone())
        .collect()
}

/// The graph with every edge turned around.
fn reverse(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); adj.len()];
    for (v, ws) in adj.iter().enumerate() {
        for &w in ws {
            if let Some(o) = out.get_mut(w) {
                o.push(v);
            }
        }
    }
    out
}

/// The CI anchor (see the catalog's conventions).
fn anchor(ci: &Ci) -> Option<Location> {
    let github: Vec<_> = ci
        .pipelines
        .iter()
        .filter(|p| p.provider == "github")
        .collect();
    if let Some(p) = github.iter().find(|p| p.is_pre_merge).or(github.first()) {
        return Some(p.jobs_loc.clone());
    }
    ci.pipelines
        .iter()
        .find(|p| p.provider == "gitlab")
        .map(|p| p.jobs_loc.clone())
}

/// A job runs only for the triggers that reach every job it needs (GitHub skips a job whose
/// needed job was skipped, unless its `if:` uses `always()`; GitLab refuses a pipeline whose
/// job needs a job that is not in it). Jobs are visited in `needs` rank order.
/// The jobs a `needs:` entry names, by `<pipeline>#<id>`: usually one, several when a GitLab
/// job became one job per environment.
fn by_id(jobs: &[Job]) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, j) in jobs.iter().enumerate() {
        out.entry(format!("{}#{}", j.pipeline, j.id))
            .or_default()
            .push(i);
    }
    out
}

fn restrict_by_needs(jobs: &mut [Job]) {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|i| jobs[*i].rank);
    let index = by_id(jobs);
    for i in order {
        if jobs[i].needs.is_empty() || jobs[i].condition.contains("always()") {
            continue;
        }
        let gitlab = is_gitlab(&jobs[i]);
        let mut triggers = jobs[i].triggers.clone();
        for n in &jobs[i].needs {
            let Some(ds) = index.get(&format!("{}#{n}", jobs[i].pipeline)) else {
                continue;
            };
            if ds.contains(&i) {
                continue;
            }
            // The triggers of the needed job (of all its variants).
            let theirs: Vec<&Trigger> = ds.iter().flat_map(|d| &jobs[*d].triggers).collect();
            triggers = triggers
                .into_iter()
                .filter_map(|t| admitted(&t, &theirs, gitlab))
                .collect();
        }
        let job = &mut jobs[i];
        job.triggers = triggers;
        job.is_pre_merge = job.is_pre_merge && job.triggers.iter().any(|t| t.pre_merge);
    }
}

/// The part of trigger `t` that a needed job whose triggers are `theirs` also runs for.
/// GitHub: the same trigger of the workflow (its event at the same key), with the branches
/// both keep (`push: [main, staging]` narrowed to `main` by an `if:` is admitted by a needed
/// job that runs for both). GitLab: a source of the same kind.
fn admitted(t: &Trigger, theirs: &[&Trigger], gitlab: bool) -> Option<Trigger> {
    if gitlab {
        let sig = |t: &Trigger| (t.event.clone(), t.default_branch, t.tag_only, t.pre_merge);
        return theirs.iter().any(|u| sig(u) == sig(t)).then(|| t.clone());
    }
    let same: Vec<&&Trigger> = theirs
        .iter()
        .filter(|u| u.event == t.event && u.loc == t.loc)
        .collect();
    if same.is_empty() {
        return None;
    }
    if t.branches.is_empty() || same.iter().any(|u| u.branches.is_empty()) {
        return Some(t.clone());
    }
    let kept: Vec<String> = t
        .branches
        .iter()
        .filter(|b| same.iter().any(|u| u.branches.contains(b)))
        .cloned()
        .collect();
    (!kept.is_empty()).then(|| crate::load::github::with_branches(t, kept))
}

/// Ranks jobs in their pipeline's `needs` graph (longest chain of needs; GitLab jobs without
/// needs keep the stage rank the loader gave them).
fn rank_jobs(jobs: &mut [Job]) {
    let index = by_id(jobs);
    let mut ranks: Vec<Option<i64>> = vec![None; jobs.len()];
    fn rank(
        i: usize,
        jobs: &[Job],
        index: &BTreeMap<String, Vec<usize>>,
        ranks: &mut Vec<Option<i64>>,
        depth: usize,
    ) -> i64 {
        if let Some(r) = ranks[i] {
            return r;
        }
        if depth > 64 {
            return 0;
        }
        let mut r = jobs[i].rank;
        for n in &jobs[i].needs {
            for &d in index
                .get(&format!("{}#{n}", jobs[i].pipeline))
                .into_iter()
                .flatten()
            {
                if d != i {
                    r = r.max(rank(d, jobs, index, ranks, depth + 1) + 1);
                }
            }
        }
        ranks[i] = Some(r);
        r
    }
    for i in 0..jobs.len() {
        rank(i, jobs, &index, &mut ranks, 0);
    }
    for (j, r) in jobs.iter_mut().zip(ranks) {
        j.rank = r.unwrap_or(0);
    }
}

/// GitLab's implicit order: a job that declares no `needs:` waits for the jobs of earlier
/// stages of its pipeline that run in the same pipelines (share a trigger) and are not manual
/// (a manual job does not hold the later stages back). By key: the jobs that wait for each.
fn stage_followers(jobs: &[Job], stage_ranks: &[i64]) -> BTreeMap<String, Vec<String>> {
    let sig = |t: &crate::model::ci::Trigger| (t.event.clone(), t.default_branch, t.tag_only);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (d, dj) in jobs.iter().enumerate() {
        if !is_gitlab(dj) || dj.manual {
            continue;
        }
        let dsigs: BTreeSet<_> = dj.triggers.iter().map(sig).collect();
        for (f, fj) in jobs.iter().enumerate() {
            let later = stage_ranks.get(f) > stage_ranks.get(d);
            if f != d
                && later
                && !fj.needs_declared
                && fj.pipeline == dj.pipeline
                && fj.triggers.iter().any(|t| dsigs.contains(&sig(t)))
            {
                out.entry(dj.key.clone()).or_default().push(fj.key.clone());
            }
        }
    }
    out
}

/// The edges of deploy flows, by job index: `up`, the jobs each job needs; `down`, the jobs
/// that need it and, on GitLab, the jobs of later stages that wait for it (see
/// [`stage_followers`]; they are not added to its own upstream: a deploy job's flow holds the
/// jobs of earlier stages only when it needs them). A job's deploy flow is itself and what it
/// reaches through either; "after" it is itself and what it reaches through `down`.
struct FlowGraph {
    up: Vec<Vec<usize>>,
    down: Vec<Vec<usize>>,
}

fn flows(jobs: &[Job], stage_ranks: &[i64]) -> FlowGraph {
    let followers = stage_followers(jobs, stage_ranks);
    let index = by_id(jobs);
    let by_key: BTreeMap<&str, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| (j.key.as_str(), i))
        .collect();
    let up: Vec<Vec<usize>> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            j.needs
                .iter()
                .flat_map(|n| {
                    index
                        .get(&format!("{}#{n}", j.pipeline))
                        .into_iter()
                        .flatten()
                        .copied()
                })
                .filter(|d| *d != i)
                .collect()
        })
        .collect();
    let mut down = reverse(&up);
    for (k, fs) in followers {
        if let Some(&d) = by_key.get(k.as_str()) {
            down[d].extend(fs.iter().filter_map(|f| by_key.get(f.as_str()).copied()));
        }
    }
    FlowGraph { up, down }
}

/// Lower-case words of a text (`deploy-prod` → `deploy`, `prod`), with `pre` joined to a
/// following `prod`/`production` whatever separates them (`pre-prod`, `pre_prod` and
/// `Pre Production` are the words `preprod` and `preproduction`, never `prod`).
fn words(text: &str) -> Vec<String> {
    let lower = text.to_ascii_lowercase();
    let mut out: Vec<String> = Vec::new();
    for w in lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        match out.last_mut() {
            Some(last) if last == "pre" && (w == "prod" || w == "production") => {
                last.push_str(w);
            }
            _ => out.push(w.to_string()),
        }
    }
    out
}

/// Whether the words of one of `names` appear together, in order, among the words of `text`.
fn names_env(text: &str, names: &[String]) -> bool {
    let text = words(text);
    names.iter().any(|n| {
        let n = words(n);
        !n.is_empty() && text.windows(n.len()).any(|w| w == n.as_slice())
    })
}

/// The environments a job deploys to (catalog: "deploy job / environment").
pub fn deploy_environments(job: &Job, environments: &Environments) -> Vec<String> {
    let mut out = Vec::new();
    // A GitLab job whose environment action is one of these records no deployment: an
    // `on_stop` job, a job that only prepares, verifies or accesses the environment.
    if matches!(
        job.environment_action.as_str(),
        "stop" | "prepare" | "verify" | "access"
    ) {
        return out;
    }
    let envs = [
        ("staging", environments.staging.as_slice()),
        ("production", environments.production.as_slice()),
    ];
    if job.has_environment && !job.environment.is_empty() {
        // `environment: ${{ matrix.target }}` names each listed value; an input choosing the
        // environment names each of its choices.
        let mut names = expand_matrix(&job.environment, job);
        names.extend(job.environment_choices.iter().cloned());
        // One environment is one kind: a name that matches a staging name is staging even
        // when it also holds a production word.
        for environment in names {
            let kind = envs
                .iter()
                .find(|(_, list)| names_env(&environment, list))
                .map(|(name, _)| *name);
            if let Some(kind) = kind
                && !out.iter().any(|o| o == kind)
            {
                out.push(kind.to_string());
            }
        }
        return out;
    }
    let label = format!("{} {}", job.id, job.name).to_ascii_lowercase();
    let deployish = ["deploy", "release", "rollout", "promote"]
        .iter()
        .any(|w| label.contains(w));
    let file = job.pipeline.rsplit('/').next().unwrap_or(&job.pipeline);
    for (name, list) in envs {
        let by_name = deployish && names_env(&label, list);
        let by_workflow = label.contains("deploy")
            && (names_env(&job.pipeline_name, list) || names_env(file, list));
        if by_name || by_workflow {
            out.push(name.to_string());
        }
    }
    out
}

/// Variables that hold the repository root: GitLab's `$CI_PROJECT_DIR`, GitHub's
/// `$GITHUB_WORKSPACE` and `${{ github.workspace }}`.
const ROOT_VARIABLES: &[&str] = &[
    "${{ github.workspace }}",
    "${{github.workspace}}",
    "${CI_PROJECT_DIR}",
    "$CI_PROJECT_DIR",
    "${GITHUB_WORKSPACE}",
    "$GITHUB_WORKSPACE",
];

/// The rest of `path` after a leading root variable (`$CI_PROJECT_DIR/api` → `/api`), `None`
/// when it does not start with one.
fn after_root_variable(path: &str) -> Option<&str> {
    ROOT_VARIABLES.iter().find_map(|v| {
        path.strip_prefix(v)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The directory that `cd PATH` (or a working directory) enters from `base`: relative to
/// `base`, or to the root when `path` starts with a root variable.
fn enter(base: &str, path: &str) -> String {
    let path = path.trim();
    match after_root_variable(path) {
        Some(rest) => crate::load::join_relative("", rest),
        // `/tmp/app`, `~/app`: outside the repository, so no package.json there is known; the
        // directory is kept as an unresolved one (it holds a `$`).
        None if path.starts_with('/') || path.starts_with('~') => format!("$OUTSIDE{path}"),
        None => crate::load::join_relative(base, path),
    }
}

/// The package.json in effect in `dir`: the nearest at or above it.
fn package_in<'p>(dir: &str, packages: &'p [Package]) -> Option<&'p Package> {
    let mut d = dir.to_string();
    loop {
        if let Some(p) = packages.iter().find(|p| p.dir == d) {
            return Some(p);
        }
        if d.is_empty() {
            return None;
        }
        d = d
            .rsplit_once('/')
            .map_or(String::new(), |(a, _)| a.to_string());
    }
}

/// One run found in a command, before job facts are attached.
struct Found {
    kind: &'static str,
    name: String,
    program: String,
    args: Vec<String>,
    explicit: bool,
    defined: bool,
    package_dir: String,
    level: String,
}

/// Walks one command (and the script bodies it runs) into runs.
struct Walker<'p> {
    packages: &'p [Package],
    /// Nx targets, for the tasks `nx` runs.
    nx: &'p NxTasks,
    visited: HashSet<(String, String)>,
    out: Vec<Found>,
}

impl Walker<'_> {
    fn command(&mut self, c: &Command, cwd: &str, unresolved: bool, depth: usize) {
        let program = c.program.clone();
        let base = program.rsplit('/').next().unwrap_or(&program).to_string();
        if let Some(pm) = &c.pm {
            let dir = match &pm.dir {
                Some(d) => enter(cwd, d),
                None => cwd.to_string(),
            };
            let unresolved = unresolved || dir.contains('$');
            // In a directory that cannot be resolved, no package.json is known to be in
            // effect: the run counts as defined, and no body (not the root's) is followed.
            let pkg = if unresolved {
                None
            } else {
                package_in(&dir, self.packages)
            };
            let pkg_dir = pkg.map(|p| p.dir.clone()).unwrap_or_default();
            let any_defines =
                |name: &str| self.packages.iter().any(|p| p.scripts.contains_key(name));
            match pm.action.as_str() {
                "script" | "short" => {
                    let name = pm.script.clone().unwrap_or_default();
                    let wide = pm.workspace.is_some() || pm.recursive;
                    let defined_here = pkg.is_some_and(|p| p.scripts.contains_key(&name));
                    let is_script = pm.action == "script"
                        || defined_here
                        || (wide && any_defines(&name))
                        || (unresolved && !wide);
                    if is_script {
                        // A name still holding an expansion (`$SCRIPT`, `${{ x }}`) is
                        // not known, so it is not judged.
                        let defined = unresolved
                            || name.contains('$')
                            || pkg.is_none()
                            || defined_here
                            || (wide && any_defines(&name));
                        self.out.push(Found {
                            kind: "script",
                            name: name.clone(),
                            program: program.clone(),
                            args: pm.args.clone(),
                            explicit: pm.action == "script",
                            defined,
                            package_dir: pkg_dir,
                            level: String::new(),
                        });
                        let bodies: Vec<(String, String)> = if wide {
                            self.packages
                                .iter()
                                .filter_map(|p| {
                                    Some((p.dir.clone(), p.scripts.get(&name)?.clone()))
                                })
                                .collect()
                        } else {
                            pkg.and_then(|p| Some((p.dir.clone(), p.scripts.get(&name)?.clone())))
                                .into_iter()
                                .collect()
                        };
                        for (d, body) in bodies {
                            self.body(&d, &name, &body, &pm.args, depth);
                        }
                    } else {
                        self.tool(&name, &program, &pm.args, &dir, depth);
                    }
                }
                "tool" => {
                    let tool = pm.tool.clone().unwrap_or_default();
                    self.tool(&tool, &program, &pm.args, &dir, depth);
                }
                // Audits and other subcommands: a tool run named after the subcommand. An
                // audit is named `npm audit` (`yarn npm audit`); other subcommands keep
                // their first word too, so `npm audit signatures` is not `npm audit`.
                action => {
                    let sub = c.args.first().cloned().unwrap_or_default();
                    let name = match (action, pm.args.first()) {
                        ("audit", _) if sub == "npm" => format!("{} npm audit", pm.manager),
                        ("audit", _) => format!("{} audit", pm.manager),
                        (_, Some(what)) if sub == "audit" => {
                            format!("{} audit {what}", pm.manager)
                        }
                        _ => format!("{} {sub}", pm.manager),
                    };
                    self.out.push(Found {
                        kind: "tool",
                        name,
                        program,
                        args: c.args.clone(),
                        explicit: false,
                        defined: true,
                        package_dir: pkg_dir,
                        level: pm.audit_level.clone().unwrap_or_default(),
                    });
                }
            }
            return;
        }
        self.tool(&base, &program, &c.args, cwd, depth);
    }

    /// A binary run; task runners count as script runs of each task they name.
    fn tool(&mut self, name: &str, program: &str, args: &[String], cwd: &str, depth: usize) {
        // `npx @biomejs/biome` runs the package's binary, `biome`.
        let name = match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((_, bin)) => bin,
            None => name,
        };
        let pkg_dir = package_in(cwd, self.packages)
            .map(|p| p.dir.clone())
            .unwrap_or_default();
        self.out.push(Found {
            kind: "tool",
            name: name.to_string(),
            program: program.to_string(),
            args: args.to_vec(),
            explicit: false,
            defined: true,
            package_dir: pkg_dir.clone(),
            level: String::new(),
        });
        // `docker run IMAGE ARGS` runs the image's tool: `zricethezav/gitleaks detect`.
        if let Some((tool, rest)) = container_run(name, args)
            && depth < MAX_SCRIPT_DEPTH
        {
            self.tool(&tool, program, &rest, cwd, depth + 1);
        }
        for task in runner_tasks(name, args) {
            let defined = self.packages.iter().any(|p| p.scripts.contains_key(&task))
                || self.packages.is_empty()
                || (name == "nx" && self.nx.defines(&task));
            self.out.push(Found {
                kind: "script",
                name: task.clone(),
                program: program.to_string(),
                args: Vec::new(),
                explicit: false,
                defined,
                package_dir: pkg_dir.clone(),
                level: String::new(),
            });
            let bodies: Vec<(String, String)> = self
                .packages
                .iter()
                .filter_map(|p| Some((p.dir.clone(), p.scripts.get(&task)?.clone())))
                .collect();
            for (d, body) in bodies {
                self.body(&d, &task, &body, &[], depth);
            }
        }
    }

    /// Follows a script's body (its commands run in the package's directory). The run's own
    /// arguments are appended to the body, as package managers do (`npm run lint -- --fix`
    /// runs `<body> --fix`; `yarn @app verify` with `"@app": "yarn workspace @acme/app"`
    /// runs `yarn workspace @acme/app verify`).
    fn body(&mut self, dir: &str, name: &str, body: &str, args: &[String], depth: usize) {
        let text = std::iter::once(body.trim_end().to_string())
            .chain(args.iter().map(|a| shell::quote_word(a)))
            .collect::<Vec<_>>()
            .join(" ");
        let key = std::iter::once(name)
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        if depth >= MAX_SCRIPT_DEPTH || !self.visited.insert((dir.to_string(), key)) {
            return;
        }
        let Ok(cmds) = shell::parse_script(&text, "package.json", 1, 1) else {
            return;
        };
        let mut cwd = dir.to_string();
        for c in &cmds {
            if c.program == "cd" {
                if let Some(d) = c.args.first() {
                    cwd = crate::load::join_relative(&cwd, d);
                }
                continue;
            }
            self.command(c, &cwd, false, depth + 1);
        }
    }
}

/// The package scripts and tools one command runs in `cwd` (relative to the root), following
/// script bodies as CI runs are followed: `(kind, name, args)` with kind `script` or `tool`.
/// Used for commands outside CI (a Dockerfile's `RUN npm run web:build`).
pub fn command_runs(
    c: &Command,
    cwd: &str,
    packages: &[Package],
    nx: &NxTasks,
) -> Vec<(&'static str, String, Vec<String>)> {
    let mut w = Walker {
        packages,
        nx,
        visited: HashSet::new(),
        out: Vec::new(),
    };
    w.command(c, cwd, false, 0);
    w.out
        .into_iter()
        .map(|f| (f.kind, f.name, f.args))
        .collect()
}

/// Tasks named by a task runner invocation: `turbo run A B`, `turbo A`, `nx run-many -t A,B`,
/// `nx affected -t A B`, `nx run P:A`, `lerna run A`.
pub fn runner_tasks(tool: &str, args: &[String]) -> Vec<String> {
    let positional = |skip_values: &[&str]| -> Vec<String> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "--" {
                break;
            }
            if a.starts_with('-') {
                if !a.contains('=') && skip_values.contains(&a.as_str()) {
                    i += 1;
                }
            } else {
                out.push(a.clone());
            }
            i += 1;
        }
        out
    };
    let split = |v: &str| -> Vec<String> {
        v.split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    match tool {
        "turbo" => {
            let words = positional(&[
                "--filter",
                "-F",
                "--concurrency",
                "--cache-dir",
                "--log-order",
                "--output-logs",
            ]);
            let words = if words.first().map(String::as_str) == Some("run") {
                &words[1..]
            } else {
                &words[..]
            };
            words
                .iter()
                .filter(|w| !matches!(w.as_str(), "prune" | "login" | "link" | "gen" | "daemon"))
                .cloned()
                .collect()
        }
        "lerna" => {
            let words = positional(&["--scope", "--ignore", "--since", "--concurrency"]);
            if words.first().map(String::as_str) == Some("run") {
                words[1..].iter().take(1).cloned().collect()
            } else {
                Vec::new()
            }
        }
        "nx" => {
            let mut out = Vec::new();
            let mut i = 0;
            while i < args.len() {
                let a = &args[i];
                if let Some(v) = a
                    .strip_prefix("--targets=")
                    .or_else(|| a.strip_prefix("--target="))
                    .or_else(|| a.strip_prefix("-t="))
                {
                    out.extend(split(v));
                } else if a == "-t" || a == "--targets" || a == "--target" {
                    i += 1;
                    while i < args.len() && !args[i].starts_with('-') {
                        out.extend(split(&args[i]));
                        i += 1;
                    }
                    continue;
                }
                i += 1;
            }
            if out.is_empty() {
                let words = positional(&[
                    "--projects",
                    "-p",
                    "--base",
                    "--head",
                    "--configuration",
                    "-c",
                    "--parallel",
                ]);
                match words.first().map(String::as_str) {
                    Some("run") => {
                        if let Some(t) = words.get(1) {
                            out.push(t.rsplit(':').next().unwrap_or(t).to_string());
                        }
                    }
                    Some(
                        "run-many" | "affected" | "graph" | "reset" | "show" | "init" | "migrate"
                        | "format:check" | "format:write",
                    )
                    | None => {}
                    Some(t) if t.contains(':') => {
                        out.push(t.split(':').nth(1).unwrap_or(t).to_string())
                    }
                    Some(t) => out.push(t.to_string()),
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The name a run's command goes by for "a step whose name contains `smoke`": its step's
/// name; GitLab script lines have no names, so there it is the job's name.
fn command_label<'a>(job: &'a Job, step: &'a Step) -> &'a str {
    if is_gitlab(job) {
        &job.name
    } else {
        &step.name
    }
}

/// The operations a run performs (catalog shared definitions); `label` names the command
/// (see [`command_label`]).
fn ops_of(f: &Found, label: &str, defs: &Definitions) -> Vec<String> {
    let mut ops = Vec::new();
    let name = f.name.to_ascii_lowercase();
    let program = f.program.to_ascii_lowercase();
    let script = f.kind == "script";
    let script_file = program.contains('/')
        || program.ends_with(".sh")
        || program.ends_with(".mjs")
        || program.ends_with(".js");
    let file_args: Vec<String> = if matches!(
        name.as_str(),
        "bash" | "sh" | "node" | "zx" | "tsx" | "ts-node"
    ) {
        f.args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .take(1)
            .map(|a| a.to_ascii_lowercase())
            .collect()
    } else {
        Vec::new()
    };
    let file_named = |fragments: &[String]| {
        (script_file && definitions::names_match(fragments, &program))
            || file_args
                .iter()
                .any(|a| definitions::names_match(fragments, a))
    };
    // The command's words: the program and its arguments, and a script file run through an
    // interpreter (`bash scripts/x.sh a` is `scripts/x.sh a`).
    let mut words: Vec<&str> = std::iter::once(name.as_str())
        .chain(f.args.iter().map(String::as_str))
        .collect();
    let program_words: Vec<&str> = std::iter::once(f.program.as_str())
        .chain(f.args.iter().map(String::as_str))
        .collect();
    let file_words: Vec<&str> = f
        .args
        .iter()
        .position(|a| !a.starts_with('-'))
        .filter(|_| !file_args.is_empty())
        .map(|i| f.args[i..].iter().map(String::as_str).collect())
        .unwrap_or_default();
    if words.is_empty() {
        words.push("");
    }
    // A pattern naming a path (`./scripts/snapshot-db.sh`) also matches the script file
    // however it is started.
    let command_is = |patterns: &[String]| {
        Definitions::command_matches(patterns, &words)
            || patterns
                .iter()
                .filter(|p| p.split_whitespace().next().is_some_and(|w| w.contains('/')))
                .any(|p| {
                    (script_file && definitions::command_matches(p, &program_words))
                        || definitions::command_matches(p, &file_words)
                })
    };
    // Migrations.
    let migration = command_is(&defs.migration_commands)
        || (script && definitions::names_match(&defs.migration_scripts, &name));
    if migration {
        ops.push("migration".to_string());
    }
    if command_is(&defs.backup_commands)
        || (script && definitions::names_match(&defs.backup_scripts, &name))
        || file_named(&defs.backup_scripts)
    {
        ops.push("backup".to_string());
    }
    // Programs that request the URLs they are given (HTTPie is `http`/`https`; `wait-on`
    // polls until its URLs answer).
    let health_url = defs
        .http_clients
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&name))
        && f.args.iter().any(|a| is_health_url(a, defs));
    let smoke_step = definitions::names_match(&defs.smoke_test_steps, label);
    if health_url
        || command_is(&defs.smoke_test_commands)
        || (script && definitions::names_match(&defs.smoke_test_scripts, &name))
        || file_named(&defs.smoke_test_scripts)
        || smoke_step
    {
        ops.push("health".to_string());
    }
    let docker = docker_command(&name, &f.args);
    let docker_is = |path: &[&str]| {
        docker.as_ref().is_some_and(|w| {
            w.len() >= path.len() && w.iter().zip(path).all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
    };
    let build = defs.image_build_commands.iter().any(|p| {
        let pw: Vec<&str> = p.split_whitespace().collect();
        match pw.split_first() {
            Some((first, rest)) if first.eq_ignore_ascii_case("docker") && !rest.is_empty() => {
                docker_is(rest)
            }
            _ => command_is(std::slice::from_ref(p)),
        }
    })
        // `docker compose up --build` (also `run --build`) builds the services' images first.
        || ((docker_is(&["compose", "up"]) || docker_is(&["compose", "run"]))
            && docker
                .as_ref()
                .is_some_and(|w| w.iter().any(|a| a == "--build")));
    if build {
        ops.push("image_build".to_string());
    }
    // `docker image inspect` / `docker inspect` reads the image size only through a format
    // template that names it; without one it is an existence check.
    if let Some(words) = docker
        .as_ref()
        .filter(|_| docker_is(&["inspect"]) || docker_is(&["image", "inspect"]))
    {
        let mut it = words.iter();
        let mut reads_size = false;
        while let Some(w) = it.next() {
            let template = match w.split_once('=') {
                Some(("--format" | "-f", v)) => Some(v.to_string()),
                None if w == "--format" || w == "-f" => it.next().cloned(),
                _ => None,
            };
            reads_size |= template.is_some_and(|t| t.contains("Size"));
        }
        if reads_size {
            ops.push("image_size".to_string());
        }
    }
    ops
}

/// Options of `docker` itself (before the subcommand) that take a value.
const DOCKER_GLOBAL_VALUE_FLAGS: &[&str] = &[
    "-c",
    "--context",
    "--config",
    "-H",
    "--host",
    "-l",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// Options of `docker compose` / `docker-compose` (before its subcommand) that take a value.
const COMPOSE_GLOBAL_VALUE_FLAGS: &[&str] = &[
    "-f",
    "--file",
    "-p",
    "--project-name",
    "--profile",
    "--env-file",
    "--project-directory",
    "--ansi",
    "--progress",
    "--parallel",
    "-c",
    "--context",
    "-H",
    "--host",
    "--log-level",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// Options of `docker buildx` (before its subcommand) that take a value.
const BUILDX_GLOBAL_VALUE_FLAGS: &[&str] = &["--builder"];

/// The words after the leading options: `-f x --ansi never build api` → `build api`.
fn skip_global_options<'a>(args: &'a [String], value_flags: &[&str]) -> &'a [String] {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') {
            break;
        }
        let takes_value = !a.contains('=') && value_flags.contains(&a.as_str());
        i += if takes_value { 2 } else { 1 };
    }
    args.get(i..).unwrap_or_default()
}

/// The subcommand path of a `docker` or `docker-compose` command, with the global options of
/// `docker`, `docker compose` and `docker buildx` skipped: `docker --context ci compose -f
/// x.yml -p app build api` → `compose build api`; `docker-compose -f x build` → `compose
/// build`. `None` for other programs.
fn docker_command(name: &str, args: &[String]) -> Option<Vec<String>> {
    let (group, rest) = match name {
        "docker" => {
            let rest = skip_global_options(args, DOCKER_GLOBAL_VALUE_FLAGS);
            match rest.split_first() {
                Some((sub, tail)) if sub == "compose" => ("compose", tail),
                Some((sub, tail)) if sub == "buildx" => ("buildx", tail),
                _ => return Some(rest.to_vec()),
            }
        }
        "docker-compose" => ("compose", args),
        _ => return None,
    };
    let flags = if group == "compose" {
        COMPOSE_GLOBAL_VALUE_FLAGS
    } else {
        BUILDX_GLOBAL_VALUE_FLAGS
    };
    Some(
        std::iter::once(group.to_string())
            .chain(skip_global_options(rest, flags).iter().cloned())
            .collect(),
    )
}

/// `docker run` / `podman run` flags that take a value.
const CONTAINER_VALUE_FLAGS: &[&str] = &[
    "-v",
    "--volume",
    "-e",
    "--env",
    "--env-file",
    "-w",
    "--workdir",
    "--name",
    "--entrypoint",
    "-p",
    "--publish",
    "--network",
    "--net",
    "--mount",
    "-u",
    "--user",
    "--platform",
    "-l",
    "--label",
    "--add-host",
    "--cpus",
    "-m",
    "--memory",
    "--pull",
    "--hostname",
    "-h",
    "--cap-add",
    "--cap-drop",
    "--security-opt",
    "--ulimit",
    "--tmpfs",
    "--shm-size",
];

/// The tool a `docker run` / `podman run` runs, named after the image (`trufflesecurity/
/// trufflehog:latest` → `trufflehog`), with the words after the image.
pub fn container_run(program: &str, args: &[String]) -> Option<(String, Vec<String>)> {
    if !matches!(program, "docker" | "podman") || args.first().map(String::as_str) != Some("run") {
        return None;
    }
    let rest = skip_global_options(&args[1..], CONTAINER_VALUE_FLAGS);
    let (image, tool_args) = rest.split_first()?;
    Some((image_tool(image)?, tool_args.to_vec()))
}

/// The tool an image is named after: its repository's last segment, without tag or digest.
pub fn image_tool(image: &str) -> Option<String> {
    let image = image.trim_start_matches("docker://");
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    let name = last.split(':').next().unwrap_or(last);
    (!name.is_empty() && !name.contains('$')).then(|| name.to_ascii_lowercase())
}

/// A URL whose path ends in one of the health or ready paths of `defs` (by default
/// `/health`, `/healthz`, `/_health` or `/ready`).
pub fn is_health_url(arg: &str, defs: &Definitions) -> bool {
    let a = arg.trim_matches(['"', '\'']);
    if !(a.contains("://") || a.starts_with('/') || a.contains("localhost") || a.contains('$')) {
        return false;
    }
    let path = a
        .split(['?', '#'])
        .next()
        .unwrap_or(a)
        .trim_end_matches('/');
    defs.health_paths
        .iter()
        .chain(&defs.ready_paths)
        .any(|s| path.ends_with(s.as_str()))
}

/// The runs of one step: its action, or its commands (and the script bodies they run).
/// A run of a job's step from what the walker found.
fn make_run(
    (job, step): (&Job, &Step),
    f: Found,
    gating: bool,
    loc: Location,
    seq: i64,
    defs: &Definitions,
) -> Run {
    let mut ops = ops_of(&f, command_label(job, step), defs);
    ops.dedup();
    Run {
        kind: f.kind.to_string(),
        invocation: std::iter::once(f.name.as_str())
            .chain(f.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        name: f.name,
        args: f.args,
        program: f.program,
        explicit: f.explicit,
        level: f.level,
        ops,
        seq,
        defined: f.defined,
        package_dir: f.package_dir,
        job: job.key.clone(),
        job_id: job.id.clone(),
        pre_merge: job.is_pre_merge,
        gating,
        loc,
    }
}

/// Returns the directory the step's shell ends in.
fn step_runs(
    job: &Job,
    step: &Step,
    (packages, nx, defs): (&[Package], &NxTasks, &Definitions),
    start_dir: &str,
    out: &mut Vec<Run>,
) -> String {
    let seq_base = job.rank * 1_000_000 + step.index * 1_000;
    if !step.uses.is_empty() {
        let lower = step.uses.to_ascii_lowercase();
        let mut ops = Vec::new();
        if definitions::names_match(&defs.backup_scripts, &lower) {
            ops.push("backup".to_string());
        }
        if step
            .with
            .iter()
            .any(|(k, v)| k.contains("url") && is_health_url(v, defs))
        {
            ops.push("health".to_string());
        }
        if lower.ends_with("/build-push-action")
            || lower == "build-push-action"
            || lower.ends_with("/bake-action")
        {
            ops.push("image_build".to_string());
        }
        out.push(Run {
            kind: "action".to_string(),
            invocation: step.uses.clone(),
            name: step.uses.clone(),
            args: step.with.values().cloned().collect(),
            program: step.uses.clone(),
            explicit: false,
            level: String::new(),
            ops,
            seq: seq_base,
            defined: true,
            package_dir: String::new(),
            job: job.key.clone(),
            job_id: job.id.clone(),
            pre_merge: job.is_pre_merge,
            gating: step.gating,
            loc: step.loc.clone(),
        });
        // `uses: docker://IMAGE` with `args:` runs the image's tool, as `docker run` does.
        if let Some(tool) = step.uses.strip_prefix("docker://").and_then(image_tool) {
            let args: Vec<String> = step
                .with
                .get("args")
                .map(|a| a.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            out.push(make_run(
                (job, step),
                Found {
                    kind: "tool",
                    name: tool.clone(),
                    program: tool,
                    args,
                    explicit: false,
                    defined: true,
                    package_dir: String::new(),
                    level: String::new(),
                },
                step.gating,
                step.loc.clone(),
                seq_base,
                defs,
            ));
        }
        return start_dir.to_string();
    }
    // `${{ matrix.x }}`, `${{ env.X }}`, `$X`: each literal value the path can take.
    let dirs = expand(start_dir, job, step);
    if dirs.len() > 1 {
        let mut end = start_dir.to_string();
        for d in dirs {
            end = step_runs_in(job, step, (packages, nx, defs), &d, out);
        }
        return end;
    }
    step_runs_in(
        job,
        step,
        (packages, nx, defs),
        dirs.first().map_or(start_dir, String::as_str),
        out,
    )
}

/// The most variants one text expands to.
const MAX_VARIANTS: usize = 64;

/// Whether the job is a GitLab job, whose matrix values are shell variables.
fn is_gitlab(job: &Job) -> bool {
    job.pipeline.ends_with(".gitlab-ci.yml") || job.pipeline.ends_with(".gitlab-ci.yaml")
}

/// Replaces the shell variable `name` (`$name` not followed by an identifier character, and
/// `${name}`) with `value`.
fn subst_var(text: &str, name: &str, value: &str) -> String {
    let braced = format!("${{{name}}}");
    let text = text.replace(&braced, value);
    let bare = format!("${name}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(&bare) {
        let after = &rest[i + bare.len()..];
        let joined = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..i]);
        out.push_str(if joined { &bare } else { value });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Substitutes matrix values (`${{ matrix.x }}`; on GitLab, `$X` of `parallel: matrix`) and
/// literal environment values into a text; one result per matrix combination (at most
/// [`MAX_VARIANTS`]), the text unchanged when nothing applies.
pub fn expand(text: &str, job: &Job, step: &Step) -> Vec<String> {
    let mut out = expand_matrix(text, job);
    for p in &mut out {
        for (k, v) in &step.env {
            // Literal values only; a value starting from the repository root
            // (`${{ github.workspace }}/web`) is literal enough for a path.
            let literal = after_root_variable(v.trim()).unwrap_or(v);
            if literal.contains('$') {
                continue;
            }
            *p = subst_var(&p.replace(&format!("${{{{ env.{k} }}}}"), v), k, v);
        }
    }
    out
}

/// The matrix part of [`expand`]: one text per combination of the matrix values it names.
fn expand_matrix(text: &str, job: &Job) -> Vec<String> {
    let mut out = vec![text.to_string()];
    let gitlab = is_gitlab(job);
    for (k, values) in &job.matrix {
        let expr = [
            format!("${{{{ matrix.{k} }}}}"),
            format!("${{{{matrix.{k}}}}}"),
        ];
        let shell = [format!("${k}"), format!("${{{k}}}")];
        let uses = |p: &String| {
            expr.iter().any(|e| p.contains(e.as_str()))
                || (gitlab && shell.iter().any(|s| p.contains(s.as_str())))
        };
        if !out.iter().any(uses) {
            continue;
        }
        let mut next = Vec::new();
        for p in &out {
            for v in values {
                let mut q = p.clone();
                for e in &expr {
                    q = q.replace(e.as_str(), v);
                }
                if gitlab {
                    q = subst_var(&q, k, v);
                }
                next.push(q);
            }
        }
        next.truncate(MAX_VARIANTS);
        out = next;
    }
    out
}

/// The variants of a command under [`expand`]: the command itself when nothing in its words
/// refers to the matrix or a literal environment value, else one per value (duplicates
/// dropped).
fn expand_command(c: &Command, job: &Job, step: &Step) -> Vec<Command> {
    const SEP: char = '\u{1f}';
    let mut words = vec![c.program.clone()];
    words.extend(c.args.iter().cloned());
    let joined = words.join(&SEP.to_string());
    if !joined.contains('$') {
        return vec![c.clone()];
    }
    let mut variants: Vec<Command> = Vec::new();
    let mut add = |v: Command| {
        if !variants
            .iter()
            .any(|x| x.program == v.program && x.args == v.args)
        {
            variants.push(v);
        }
    };
    let mut texts: Vec<String> = expand(&joined, job, step)
        .into_iter()
        .filter(|t| *t != joined)
        .collect();
    // A value holding several words (`run: ${{ matrix.script }}` with `yarn lint`) is split
    // into words like any command line: the expanded source text is parsed again.
    let spaced = |t: &str| {
        crate::load::github::without_expressions(t)
            .split(SEP)
            .any(|w| w.contains(char::is_whitespace))
    };
    if !spaced(&joined) && texts.iter().any(|t| spaced(t)) {
        let reparsed: Option<Vec<Vec<Command>>> = expand(&c.text, job, step)
            .iter()
            .map(|t| shell::parse_script(t, &c.loc.file, c.loc.line, c.loc.col).ok())
            .collect();
        if let Some(lists) = reparsed {
            for mut x in lists.into_iter().flatten() {
                x.loc = c.loc.clone();
                x.neutralised |= c.neutralised;
                add(x);
            }
            texts.clear();
        }
    }
    for text in texts {
        let mut parts = text.split(SEP).map(str::to_string);
        let mut v = c.clone();
        v.program = parts.next().unwrap_or_default();
        v.args = parts.collect();
        v.pm = crate::pm::classify(&v.program, &v.args, &v.env);
        add(v);
    }
    if variants.is_empty() {
        vec![c.clone()]
    } else {
        variants
    }
}

/// The runs of one step with its shell starting in `start_dir`.
fn step_runs_in(
    job: &Job,
    step: &Step,
    (packages, nx, defs): (&[Package], &NxTasks, &Definitions),
    start_dir: &str,
    out: &mut Vec<Run>,
) -> String {
    let seq_base = job.rank * 1_000_000 + step.index * 1_000;
    let unresolved = start_dir.contains('$');
    let mut cwd = start_dir.to_string();
    for (ci, c) in step.commands.iter().enumerate() {
        if c.program == "cd" {
            if let Some(d) = c.args.first() {
                cwd = enter(&cwd, d);
            }
            continue;
        }
        let mut w = Walker {
            packages,
            nx,
            visited: HashSet::new(),
            out: Vec::new(),
        };
        for v in expand_command(c, job, step) {
            w.command(&v, &cwd, unresolved || cwd.contains('$'), 0);
        }
        let gating = step.gating && !c.neutralised;
        for f in w.out {
            out.push(make_run(
                (job, step),
                f,
                gating,
                c.loc.clone(),
                seq_base + ci as i64,
                defs,
            ));
        }
    }
    cwd
}

/// Whether a tag expression derives from the commit or release.
pub fn is_immutable_tag(tag: &str, tag_trigger: bool) -> bool {
    let t = tag.trim();
    if t.ends_with(":latest") || t == "latest" {
        return false;
    }
    const REFS: &[&str] = &[
        "github.sha",
        "GITHUB_SHA",
        "github.event.workflow_run.head_sha",
        "github.event.release.tag_name",
        "CI_COMMIT_SHA",
        "CI_COMMIT_SHORT_SHA",
        "CI_COMMIT_TAG",
        "outputs.tags",
        "outputs.version",
        // `fromJSON(steps.meta.outputs.json).tags`
        "outputs.json",
        // The environment `docker/metadata-action` exports to later steps.
        "DOCKER_METADATA_OUTPUT_TAGS",
        "DOCKER_METADATA_OUTPUT_JSON",
        "DOCKER_METADATA_OUTPUT_VERSION",
    ];
    // A shell variable named like a commit SHA (`$GIT_SHA`, `${SHORT_SHA}`) or a
    // `git rev-parse` substitution also derives from the commit.
    let sha_var = regex_lite_sha(t);
    REFS.iter().any(|r| t.contains(r))
        || sha_var
        || t.contains("git rev-parse")
        || (tag_trigger && (t.contains("github.ref_name") || t.contains("GITHUB_REF_NAME")))
}

/// The repository part of an image tag (`ghcr.io/o/app:sha` → `ghcr.io/o/app`).
fn tag_repository(tag: &str) -> &str {
    let t = tag.trim_matches(['"', '\'']);
    let slash = t.rfind('/').map_or(0, |i| i + 1);
    match t[slash..].rfind(':') {
        Some(i) => &t[..slash + i],
        None => t,
    }
}

/// Whether a tag is nothing but one variable reference (`$tag`, `${TAG}`, `${{ x }}`): its
/// value is unknown, so no rule judges it.
fn is_opaque_tag(tag: &str) -> bool {
    let t = tag.trim().trim_matches(['"', '\'']);
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let substitution = (t.starts_with("$(") && t.ends_with(')'))
        || (t.len() > 1 && t.starts_with('`') && t.ends_with('`'));
    substitution
        || (t.starts_with("${{") && t.ends_with("}}") && t.matches("${{").count() == 1)
        || t.strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .is_some_and(ident)
        || t.strip_prefix('$').is_some_and(ident)
}

/// An image is tagged immutably when some push of the same repository by the same job is:
/// `latest` pushed beside `:${{ github.sha }}` in another command is fine. Pushes whose every
/// tag is an opaque variable are not judged.
fn settle_pushes(pushes: &mut [Push]) {
    let good: BTreeSet<(String, String)> = pushes
        .iter()
        .filter(|p| p.immutable)
        .flat_map(|p| {
            p.tags
                .iter()
                .map(|t| (p.job.clone(), tag_repository(t).to_string()))
        })
        .collect();
    for p in pushes.iter_mut() {
        let opaque = !p.tags.is_empty() && p.tags.iter().all(|t| is_opaque_tag(t));
        let sibling = p
            .tags
            .iter()
            .any(|t| good.contains(&(p.job.clone(), tag_repository(t).to_string())));
        if opaque || sibling {
            p.immutable = true;
        }
    }
    // One image, one finding: a later push that only adds `latest` to a repository the job
    // already pushed (an extra latest tag of that image) repeats the first, which takes its
    // tags. Pushes of other tags are other images of the repository (`app:migrate`,
    // `app:studio`), each judged.
    let mut first_of: BTreeMap<(String, String), usize> = BTreeMap::new();
    for i in 0..pushes.len() {
        if pushes[i].immutable {
            continue;
        }
        let keys: Vec<(String, String)> = pushes[i]
            .tags
            .iter()
            .map(|t| (pushes[i].job.clone(), tag_repository(t).to_string()))
            .collect();
        let only_latest = pushes[i].tags.iter().all(|t| {
            let t = t.trim_matches(['"', '\'']);
            let slash = t.rfind('/').map_or(0, |i| i + 1);
            t[slash..]
                .rsplit_once(':')
                .is_none_or(|(_, tag)| tag == "latest")
        });
        match keys
            .iter()
            .find_map(|k| first_of.get(k).copied())
            .filter(|_| only_latest)
        {
            Some(first) => {
                let tags = pushes[i].tags.clone();
                for t in tags {
                    if !pushes[first].tags.contains(&t) {
                        pushes[first].tags.push(t);
                    }
                }
                pushes[i].repeats = true;
            }
            None => {
                for k in keys {
                    first_of.entry(k).or_insert(i);
                }
            }
        }
    }
}

/// The values of `-t`/`--tag`/`--tag=` in a command's arguments.
fn tag_flags(a: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < a.len() {
        if (a[i] == "-t" || a[i] == "--tag") && i + 1 < a.len() {
            out.push(a[i + 1].to_string());
            i += 1;
        } else if let Some(v) = a[i].strip_prefix("--tag=") {
            out.push(v.to_string());
        }
        i += 1;
    }
    out
}

/// Tags given with `-t`/`--tag` to the image builds of a job.
fn job_build_tags(job: &Job) -> Vec<String> {
    let mut out = Vec::new();
    for c in job.steps.iter().flat_map(|s| &s.commands) {
        let a: Vec<&str> = c.args.iter().map(String::as_str).collect();
        if matches!(a.as_slice(), ["build", ..] | ["buildx", "build", ..]) {
            out.extend(tag_flags(&a));
        }
    }
    out
}

/// Whether the text holds a `$NAME`/`${NAME}` reference whose name ends in `SHA`.
fn regex_lite_sha(t: &str) -> bool {
    let bytes: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == '$' {
            let mut j = i + 1;
            if bytes.get(j) == Some(&'{') {
                j += 1;
            }
            let start = j;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == '_') {
                j += 1;
            }
            let name: String = bytes[start..j].iter().collect();
            if name.to_ascii_uppercase().ends_with("SHA") {
                return true;
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    false
}

/// The Dockerfile builds of a job's steps (see [`ImageBuild`]). Paths follow the step's
/// working directory and the `cd`s of its script (GitLab: of the job's script so far); a
/// build whose Dockerfile or target still holds an unresolved variable is left out.
fn job_image_builds(job: &Job) -> Vec<ImageBuild> {
    let mut out = Vec::new();
    let mut shell_dir = String::new();
    let one_shell = is_gitlab(job);
    for step in &job.steps {
        if !one_shell {
            shell_dir = ci_path("", &step.working_directory).unwrap_or_else(|| "$".to_string());
        }
        let lower = step.uses.to_ascii_lowercase();
        if lower.ends_with("/build-push-action") || lower == "build-push-action" {
            let get = |k: &str| step.with.get(k).map(|v| expand(v, job, step));
            let contexts = get("context").unwrap_or_else(|| vec![String::new()]);
            let files = get("file").unwrap_or_else(|| vec![String::new()]);
            let targets = get("target").unwrap_or_else(|| vec![String::new()]);
            for context in &contexts {
                for file in &files {
                    for target in &targets {
                        let spec = BuildSpec {
                            dockerfile: (!file.trim().is_empty()).then(|| file.clone()),
                            context: Some(context.clone()),
                            target: target.trim().to_string(),
                            dockerfile_in_context: false,
                        };
                        out.extend(spec.resolve(&shell_dir, job, &step.loc));
                    }
                }
            }
            continue;
        }
        for c in &step.commands {
            for v in expand_command(c, job, step) {
                if v.program == "cd" {
                    if let Some(d) = v.args.first() {
                        shell_dir = ci_path(&shell_dir, d).unwrap_or_else(|| "$".to_string());
                    }
                    continue;
                }
                if let Some(spec) = build_spec(&v) {
                    out.extend(spec.resolve(&shell_dir, job, &v.loc));
                }
            }
        }
    }
    out
}

/// What a build command names, before paths are resolved.
#[derive(Debug, Default, PartialEq)]
struct BuildSpec {
    /// The Dockerfile as given, when given.
    dockerfile: Option<String>,
    /// The context as given (`None`: unknown, e.g. `-` for stdin).
    context: Option<String>,
    /// The target stage, empty when none.
    target: String,
    /// Whether a relative `dockerfile` is relative to the context (kaniko, buildctl).
    dockerfile_in_context: bool,
}

impl BuildSpec {
    /// The build with paths made relative to the root; `None` when a path or the target
    /// holds an unresolved variable or points outside the repository.
    fn resolve(&self, cwd: &str, job: &Job, loc: &Location) -> Option<ImageBuild> {
        if self.target.contains('$') {
            return None;
        }
        let context = ci_path(cwd, self.context.as_deref()?)?;
        let dockerfile = match &self.dockerfile {
            Some(f) => ci_path(
                if self.dockerfile_in_context {
                    &context
                } else {
                    cwd
                },
                f,
            )?,
            None => crate::load::join_relative(&context, "Dockerfile"),
        };
        Some(ImageBuild {
            dockerfile,
            context,
            target: self.target.clone(),
            job: job.key.clone(),
            loc: loc.clone(),
        })
    }
}

/// A path written in CI, against the directory `base` (relative to the root): the root
/// variables (`$CI_PROJECT_DIR`, `$GITHUB_WORKSPACE`, `${{ github.workspace }}`) start it from
/// the root. `None` for other absolute paths, URLs and paths still holding a variable.
fn ci_path(base: &str, p: &str) -> Option<String> {
    let p = p.trim();
    let (base, p) = match after_root_variable(p) {
        Some(rest) => ("", rest.trim_start_matches('/')),
        None => (base, p),
    };
    if p.contains('$') || p.contains("://") || p.starts_with('/') || base.contains('$') {
        return None;
    }
    Some(crate::load::join_relative(base, p))
}

/// `docker build` flags (also of `buildx build`, `podman build`, `buildah bud`) that take no
/// value; every other long flag written without `=` takes the next word.
const BUILD_BOOL_FLAGS: &[&str] = &[
    "push",
    "load",
    "no-cache",
    "pull",
    "quiet",
    "rm",
    "force-rm",
    "squash",
    "compress",
    "disable-content-trust",
    "check",
    "layers",
    "no-hosts",
    "debug",
];

/// The Dockerfile build a command runs, if any: `docker|podman build`, `docker buildx build`,
/// `docker image build`, `buildah bud|build`, kaniko's `executor`, `buildctl build`.
fn build_spec(c: &Command) -> Option<BuildSpec> {
    let base = c.program.rsplit('/').next().unwrap_or(&c.program);
    let a: Vec<&str> = c.args.iter().map(String::as_str).collect();
    match base {
        "docker" | "podman" | "buildah" => {
            let rest = match a.as_slice() {
                ["build" | "bud", rest @ ..] => rest,
                ["buildx" | "image" | "builder", "build", rest @ ..] => rest,
                _ => return None,
            };
            if base != "buildah" && a.first() == Some(&"bud") {
                return None;
            }
            let mut spec = BuildSpec::default();
            let mut i = 0;
            while i < rest.len() {
                let w = rest[i];
                if w == "--" {
                    break;
                }
                if let Some(flag) = w.strip_prefix("--") {
                    let (name, value) = match flag.split_once('=') {
                        Some((n, v)) => (n, Some(v.to_string())),
                        None if BUILD_BOOL_FLAGS.contains(&flag) => (flag, None),
                        None => {
                            i += 1;
                            (flag, rest.get(i).map(|v| (*v).to_string()))
                        }
                    };
                    match name {
                        "file" => spec.dockerfile = value,
                        "target" => spec.target = value.unwrap_or_default(),
                        _ => {}
                    }
                } else if let Some(short) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
                    // `-q` takes no value; `-f`, `-t`, `-o`, `-m` ... take one (attached or next).
                    let (name, attached) = short.split_at(1);
                    if name != "q" {
                        let value = if attached.is_empty() {
                            i += 1;
                            rest.get(i).map(|v| (*v).to_string())
                        } else {
                            Some(attached.trim_start_matches('=').to_string())
                        };
                        if name == "f" {
                            spec.dockerfile = value;
                        }
                    }
                } else {
                    spec.context = (w != "-").then(|| w.to_string());
                }
                i += 1;
            }
            Some(spec)
        }
        "executor" => {
            let mut spec = BuildSpec {
                dockerfile_in_context: true,
                ..BuildSpec::default()
            };
            for (name, value) in long_options(&a) {
                match name {
                    "context" | "c" => {
                        spec.context = value.map(|v| v.trim_start_matches("dir://").to_string());
                    }
                    "dockerfile" | "f" => spec.dockerfile = value,
                    "target" => spec.target = value.unwrap_or_default(),
                    _ => {}
                }
            }
            Some(spec)
        }
        "buildctl" | "buildctl-daemonless.sh" => {
            if !a.contains(&"build") {
                return None;
            }
            let mut spec = BuildSpec {
                dockerfile_in_context: true,
                ..BuildSpec::default()
            };
            let mut dockerfile_dir: Option<String> = None;
            let mut filename = "Dockerfile".to_string();
            for (name, value) in long_options(&a) {
                let kv = value.as_deref().and_then(|v| v.split_once('='));
                match (name, kv) {
                    ("local", Some(("context", d))) => spec.context = Some(d.to_string()),
                    ("local", Some(("dockerfile", d))) => dockerfile_dir = Some(d.to_string()),
                    ("opt", Some(("filename", f))) => filename = f.to_string(),
                    ("opt", Some(("target", t))) => spec.target = t.to_string(),
                    _ => {}
                }
            }
            // `--local dockerfile=DIR` names the Dockerfile's directory (the context when
            // not given); the path is made relative to the context by `resolve`, so express
            // the file against the shell's directory instead.
            let ctx = spec.context.clone()?;
            let dir = dockerfile_dir.unwrap_or_else(|| ctx.clone());
            let dir = dir.trim_end_matches('/');
            spec.dockerfile = Some(if dir.is_empty() {
                filename
            } else {
                format!("{dir}/{filename}")
            });
            spec.dockerfile_in_context = false;
            Some(spec)
        }
        _ => None,
    }
}

/// The outputs that `run` steps of a job write, by step id and name, with the value as
/// written: `echo "SHORT_SHA=$(echo $GITHUB_SHA | cut -c1-7)" >> $GITHUB_OUTPUT` gives
/// `(vars, SHORT_SHA) → $(echo $GITHUB_SHA | cut -c1-7)`; the legacy
/// `echo "::set-output name=N::V"` counts too. Only `echo`/`printf` words of steps that
/// mention `GITHUB_OUTPUT` or `set-output` are read.
fn step_outputs(job: &Job) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for step in &job.steps {
        if step.id.is_empty()
            || !(step.run.contains("GITHUB_OUTPUT") || step.run.contains("set-output"))
        {
            continue;
        }
        for c in &step.commands {
            if !matches!(c.program.as_str(), "echo" | "printf") {
                continue;
            }
            for a in &c.args {
                let pair = match a.strip_prefix("::set-output name=") {
                    Some(rest) => rest.split_once("::"),
                    None => a.split_once('='),
                };
                let Some((name, value)) = pair else { continue };
                let ident = !name.is_empty()
                    && name
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
                if ident {
                    out.insert((step.id.clone(), name.to_string()), value.to_string());
                }
            }
        }
    }
    out
}

/// The long options of a command line, in order: `--name=value` and `--name value` (the
/// next word is taken as the value of any long option written without `=`); other words
/// are skipped.
fn long_options<'a>(a: &[&'a str]) -> Vec<(&'a str, Option<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < a.len() {
        if let Some(flag) = a[i].strip_prefix("--") {
            match flag.split_once('=') {
                Some((n, v)) => out.push((n, Some(v.to_string()))),
                None => {
                    out.push((flag, a.get(i + 1).map(|v| (*v).to_string())));
                    i += 1;
                }
            }
        }
        i += 1;
    }
    out
}

/// Image pushes of one step.
fn step_pushes(
    job: &Job,
    step: &Step,
    outputs: &BTreeMap<(String, String), String>,
    out: &mut Vec<Push>,
) {
    let tag_trigger = job
        .triggers
        .iter()
        .any(|t| t.tag_only || t.event == "release");
    let resolve = |t: &str| -> String {
        // `$NAME`/`${NAME}`/`${{ env.NAME }}` from the step's env (GitHub workflow, job and
        // step `env:`; GitLab global and job `variables:`), and `${{ steps.ID.outputs.NAME }}`
        // from what an earlier step of the job writes to `$GITHUB_OUTPUT`, a few levels deep.
        let mut s = t.to_string();
        for _ in 0..4 {
            let before = s.clone();
            for ((id, name), v) in outputs {
                s = s
                    .replace(&format!("${{{{ steps.{id}.outputs.{name} }}}}"), v)
                    .replace(&format!("${{{{steps.{id}.outputs.{name}}}}}"), v);
            }
            for (k, v) in &step.env {
                s = s
                    .replace(&format!("${{{{ env.{k} }}}}"), v)
                    .replace(&format!("${{{{env.{k}}}}}"), v);
                s = subst_var(&s, k, v);
            }
            if s == before {
                break;
            }
        }
        s
    };
    let lower = step.uses.to_ascii_lowercase();
    if lower.ends_with("/build-push-action") || lower == "build-push-action" {
        let push = step
            .with
            .get("push")
            .map(|v| v.trim() != "false")
            .unwrap_or(false)
            || step
                .with
                .get("outputs")
                .is_some_and(|o| o.contains("push=true"));
        if !push {
            return;
        }
        if step
            .with
            .get("outputs")
            .is_some_and(|o| o.contains("push-by-digest=true"))
        {
            return;
        }
        let tags: Vec<String> = step
            .with
            .get("tags")
            .map(|t| {
                t.split(['\n', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(resolve)
                    .collect()
            })
            .unwrap_or_default();
        let immutable = tags.iter().any(|t| is_immutable_tag(t, tag_trigger));
        out.push(Push {
            tags,
            immutable,
            repeats: false,
            job: job.key.clone(),
            loc: step
                .with_locs
                .get("tags")
                .cloned()
                .unwrap_or_else(|| step.loc.clone()),
        });
        return;
    }
    for c in &step.commands {
        let base = c.program.rsplit('/').next().unwrap_or(&c.program);
        if base != "docker" && base != "podman" {
            continue;
        }
        let a: Vec<&str> = c.args.iter().map(String::as_str).collect();
        let tags = match a.as_slice() {
            ["push", rest @ ..] if rest.iter().any(|x| *x == "--all-tags" || *x == "-a") => {
                // Pushes every local tag of the repository: those the job's builds gave it.
                let repo = rest
                    .iter()
                    .find(|x| !x.starts_with('-'))
                    .map(|x| x.to_string())
                    .unwrap_or_default();
                job_build_tags(job)
                    .into_iter()
                    .filter(|t| t.rsplit_once(':').map_or(t.as_str(), |(r, _)| r) == repo)
                    .collect()
            }
            ["push", rest @ ..] => rest
                .iter()
                .filter(|x| !x.starts_with('-'))
                .take(1)
                .map(|s| s.to_string())
                .collect(),
            ["build", rest @ ..] | ["buildx", "build", rest @ ..] if rest.contains(&"--push") => {
                tag_flags(rest)
            }
            ["buildx", "imagetools", "create", rest @ ..] => tag_flags(rest),
            _ => continue,
        };
        // A word that is a command substitution (`$(jq ... <<< "$DOCKER_METADATA_OUTPUT_JSON")`)
        // can expand into the tag flags themselves: a tag list made at run time is not judged.
        let tag_values = tag_flags(&a);
        // So can a bash array expansion (`"${args[@]}"` built from `-t "$t"` pairs).
        if a.iter().any(|w| {
            (w.starts_with("$(") || w.starts_with('`') || w.contains("[@]}") || w.contains("[*]}"))
                && !tag_values.iter().any(|t| t == w)
        }) {
            continue;
        }
        let tags: Vec<String> = tags.iter().map(|t| resolve(t)).collect();
        let immutable = tags.iter().any(|t| is_immutable_tag(t, tag_trigger));
        out.push(Push {
            tags,
            immutable,
            repeats: false,
            job: job.key.clone(),
            loc: c.loc.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_global_options_are_skipped() {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let cmd = |n: &str, s: &str| docker_command(n, &words(s)).map(|w| w.join(" "));
        assert_eq!(
            cmd(
                "docker",
                "--context ci compose -f a.yml -p app --profile x build api"
            )
            .as_deref(),
            Some("compose build api")
        );
        assert_eq!(
            cmd("docker-compose", "--file=a.yml --ansi never build").as_deref(),
            Some("compose build")
        );
        assert_eq!(
            cmd("docker", "buildx --builder b build .").as_deref(),
            Some("buildx build .")
        );
        assert_eq!(
            cmd("docker", "compose -f build.yml up").as_deref(),
            Some("compose up")
        );
        assert_eq!(cmd("podman", "build ."), None);
    }

    #[test]
    fn build_commands_name_their_dockerfile_context_and_target() {
        let spec = |script: &str| {
            let cmds = shell::parse_script(script, "ci.yml", 1, 1).unwrap_or_default();
            cmds.first().and_then(build_spec).map(|b| {
                let dockerfile = b.dockerfile.unwrap_or_default();
                let context = b.context.unwrap_or_default();
                (dockerfile, context, b.target, b.dockerfile_in_context)
            })
        };
        let s = |a: &str, b: &str, c: &str, d: bool| Some((a.into(), b.into(), c.into(), d));
        let table = [
            (
                "docker build -t x:1 --build-arg A=1 --target=prod -f a/Dockerfile --push ctx",
                s("a/Dockerfile", "ctx", "prod", false),
            ),
            (
                "docker buildx build --platform linux/amd64 --target runner -fDockerfile.web .",
                s("Dockerfile.web", ".", "runner", false),
            ),
            ("podman build -q .", s("", ".", "", false)),
            (
                "buildah bud --file=x/Containerfile x",
                s("x/Containerfile", "x", "", false),
            ),
            ("docker bud .", None),
            ("docker compose build", None),
            (
                "/kaniko/executor --context dir://api --dockerfile=Dockerfile.prod --target prod",
                s("Dockerfile.prod", "api", "prod", true),
            ),
            (
                "buildctl build --frontend dockerfile.v0 --local context=. --local dockerfile=docker --opt filename=api.Dockerfile --opt target=final",
                s("docker/api.Dockerfile", ".", "final", false),
            ),
        ];
        for (script, want) in table {
            assert_eq!(spec(script), want, "{script}");
        }
        assert_eq!(
            ci_path("web", "$CI_PROJECT_DIR/api").as_deref(),
            Some("api")
        );
        assert_eq!(
            ci_path("web", "${{ github.workspace }}").as_deref(),
            Some("")
        );
        assert_eq!(ci_path("web", "../api").as_deref(), Some("api"));
        assert_eq!(ci_path("web", "/srv/api"), None);
        assert_eq!(ci_path("web", "$DIR/api"), None);
    }

    #[test]
    fn container_runs_name_the_image_tool() {
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            container_run(
                "docker",
                &words(
                    "run --rm -v a:/b -e X=1 --entrypoint sh trufflesecurity/trufflehog:3.1 git file:///b"
                )
            ),
            Some(("trufflehog".to_string(), words("git file:///b")))
        );
        assert_eq!(
            container_run(
                "podman",
                &words("run --volume=a:/b ghcr.io/gitleaks/gitleaks@sha256:ab detect")
            ),
            Some(("gitleaks".to_string(), words("detect")))
        );
        assert_eq!(container_run("docker", &words("build -t x .")), None);
        assert_eq!(container_run("docker", &words("run --rm")), None);
        assert_eq!(image_tool("${IMAGE}"), None);
    }

    #[test]
    fn shell_variables_are_replaced_whole() {
        assert_eq!(subst_var("npm run $TASK", "TASK", "lint"), "npm run lint");
        assert_eq!(subst_var("run ${TASK}:ci", "TASK", "lint"), "run lint:ci");
        assert_eq!(
            subst_var("$TASK_NAME ${TASK_NAME} $TASK.", "TASK", "x"),
            "$TASK_NAME ${TASK_NAME} x."
        );
        assert_eq!(subst_var("$TASK$TASK", "TASK", "a"), "aa");
    }

    #[test]
    fn reach_folds_join_what_each_node_reaches_through_chains_and_cycles() {
        // 0 -> 1 -> 2 <-> 3, 4 alone; a long chain does not recurse.
        let adj = vec![vec![1], vec![2], vec![3], vec![2], vec![]];
        let init = vec![1u32, 2, 4, 8, 16];
        let or = |a: &mut u32, b: &u32| *a |= *b;
        assert_eq!(reach_fold(&adj, &init, or), vec![15, 14, 12, 12, 16]);
        assert_eq!(
            reverse(&adj),
            vec![vec![], vec![0], vec![1, 3], vec![2], vec![]]
        );
        let n = 200_000;
        let chain: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let ones = vec![1u64; n];
        let sum_max = |a: &mut u64, b: &u64| *a = (*a).max(*b + 1);
        let folded = reach_fold(&chain, &ones, sum_max);
        assert_eq!(folded[0], n as u64);
    }

    #[test]
    fn environment_names_match_as_whole_words_in_order() {
        let names = |l: &[&str]| l.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        let prod = names(&["prod", "eu-live"]);
        assert!(names_env("deploy-prod", &prod));
        assert!(names_env("Deploy EU live", &prod));
        assert!(!names_env("live-eu", &prod), "words in order");
        assert!(!names_env("production", &prod), "whole words, not prefixes");
        assert!(!names_env("deploy-pre-prod", &prod), "pre-prod is one word");
        assert!(names_env("pre-prod", &names(&["pre-prod"])));
        assert!(
            !names_env("pre_prod", &prod),
            "pre joins prod whatever the separator"
        );
        assert!(!names_env("Pre Production", &names(&["production"])));
        assert!(names_env("pre_production-eu", &names(&["pre-production"])));
    }
}
