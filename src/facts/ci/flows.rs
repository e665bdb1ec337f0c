//! Flows: the `needs`/stage graph of the jobs, what each job reaches through it, the
//! triggers that admit a job, job ranks, and the facts folded over flows (operations after a
//! job, unguarded production migrations, mutable pushes).

use super::runs::is_gitlab;
use crate::location::Location;
use crate::model::ci::{Ci, Job, Push, Run, Trigger};
use std::collections::{BTreeMap, BTreeSet};

/// Per job: the operations of its flow and after it; and, for production deploy jobs, the
/// migrations of their flows that no backup precedes (ordered by job rank, then step, then
/// command), each listed under one job only. Computed over the `needs` graph by folding each
/// job's own facts over what it reaches, so the cost grows with the jobs and their `needs`,
/// not with the jobs times their flows.
pub(super) fn flow_facts(jobs: &mut [Job], runs: &[Run], graph: &FlowGraph) {
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
pub(super) fn mutable_pushes(jobs: &mut [Job], pushes: &[Push], graph: &FlowGraph) {
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
pub(super) fn anchor(ci: &Ci) -> Option<Location> {
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

pub(super) fn restrict_by_needs(jobs: &mut [Job]) {
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
pub(super) fn rank_jobs(jobs: &mut [Job]) {
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
pub(super) struct FlowGraph {
    up: Vec<Vec<usize>>,
    down: Vec<Vec<usize>>,
}

pub(super) fn flows(jobs: &[Job], stage_ranks: &[i64]) -> FlowGraph {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
