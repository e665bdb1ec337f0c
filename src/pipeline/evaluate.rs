//! Evaluating one loaded root: the model built once as interpreter values, policies spread
//! over threads by the size of what they read, their findings with severities; then the
//! filter stage (`filter`) sorts them and the root's report is assembled.

use std::collections::{BTreeMap, BTreeSet};

use super::load::Loaded;
use super::{Checked, Settings, filter};
use crate::baseline::Entry;
use crate::finding::{Notification, RootReport, Severity};
use crate::location::Location;
use crate::policy::{self, PolicySet, RawFinding};

/// Evaluates every policy on a loaded root, filters the findings (leaving out those
/// `baseline` knows) and builds its report.
pub fn evaluate(
    loaded: Loaded,
    policies: &PolicySet,
    settings: &Settings,
    baseline: Option<&BTreeSet<Entry>>,
) -> Checked {
    let (rules, options) = (&settings.filter, &settings.options);
    let Loaded {
        repo,
        sources,
        mut notifications,
        unloadable,
    } = loaded;
    let root = repo.root.clone();
    let fallback = repo.fallback.clone();
    // The files of the GitLab CI configuration: findings there get the GitLab fix text.
    let gitlab_files: BTreeSet<String> = repo
        .files
        .iter()
        .filter(|f| f.kind == "gitlab_ci")
        .map(|f| f.path.clone())
        .chain(
            repo.ci
                .pipelines
                .iter()
                .filter(|p| p.provider == "gitlab")
                .map(|p| p.path.clone()),
        )
        .chain(
            repo.ci
                .jobs
                .iter()
                .filter(|j| j.provider == "gitlab")
                .map(|j| j.path.clone()),
        )
        .collect();
    let empty = BTreeMap::new();
    // The model becomes the interpreter's values once, straight from its Rust types; every
    // thread shares them.
    let t = std::time::Instant::now();
    let parse_errors = repo.parse_errors.clone();
    let model_suppressions = repo.suppressions.clone();
    // The Rust model is consumed part by part as its values are built (`from_repo`), so the
    // two are never whole at once; the parts are freed on a thread of their own (freeing
    // large trees takes time) while the values are built and the policies run.
    let (dispose_tx, dispose_rx) = std::sync::mpsc::channel::<Box<dyn std::any::Any + Send>>();
    let disposer = std::thread::spawn(move || dispose_rx.into_iter().for_each(drop));
    let dispose = move |part: Box<dyn std::any::Any + Send>| {
        // The freeing thread only ends when the sender is dropped: a part it cannot take is
        // freed here.
        let _ = dispose_tx.send(part);
    };
    let built = policy::val::from_repo(repo, &dispose);
    drop(dispose);
    let model = match built {
        Ok(v) => v,
        Err(e) => {
            notifications.push(Notification {
                level: Severity::Error,
                message: format!("internal error: the model of {root} could not be built: {e}"),
                location: fallback.clone(),
            });
            return Checked {
                report: RootReport {
                    root,
                    notifications,
                    ..RootReport::default()
                },
                baselined: Vec::new(),
            };
        }
    };
    if std::env::var_os("SHIPSHAPE_TIMINGS").is_some() {
        eprintln!(
            "shipshape: {root}: model {:.1} ms (peak so far {})",
            t.elapsed().as_secs_f64() * 1e3,
            super::peak_rss()
        );
    }
    // Policies are spread over the threads by the size of what they read (largest first,
    // each to the least loaded thread); a thread's context holds the union of its policies'
    // parts, so policies reading small parts stay cheap wherever they land.
    let mut weighted: Vec<(usize, &policy::Policy)> = policies
        .policies
        .iter()
        .map(|p| (policy::heaviest_read(model.as_ref(), &p.needs).0, p))
        .collect();
    weighted.sort_by_key(|(w, p)| (std::cmp::Reverse(*w), p.meta.id.clone()));
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4)
        .min(weighted.len().max(1));
    let mut shares: Vec<Vec<&policy::Policy>> = vec![Vec::new(); threads];
    let mut load: Vec<usize> = vec![0; threads];
    for (weight, p) in weighted {
        let t = (0..threads).min_by_key(|t| load[*t]).unwrap_or(0);
        load[t] = load[t].saturating_add(weight.max(1));
        shares[t].push(p);
    }
    type Outcome<'p> = (
        &'p policy::Policy,
        Result<Vec<RawFinding>, policy::EvalError>,
    );
    let evaluated: Vec<Result<Vec<Outcome>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .iter()
            .map(|share| {
                let (model, root, fallback, empty) = (&model, &root, &fallback, &empty);
                scope.spawn(move || {
                    let t = std::time::Instant::now();
                    let ctx = policies.context(model.as_ref(), &settings.definitions)?;
                    if std::env::var_os("SHIPSHAPE_TIMINGS").is_some() {
                        eprintln!(
                            "shipshape: {root}: context {:.1} ms",
                            t.elapsed().as_secs_f64() * 1e3
                        );
                    }
                    Ok(share
                        .iter()
                        .map(|p| {
                            let opts = options.get(&p.meta.id).unwrap_or(empty);
                            let t = std::time::Instant::now();
                            let r = policies.evaluate(p, &ctx, root, fallback, opts);
                            if std::env::var_os("SHIPSHAPE_TIMINGS").is_some() {
                                eprintln!(
                                    "shipshape: {root}: {} {:.1} ms",
                                    p.meta.id,
                                    t.elapsed().as_secs_f64() * 1e3
                                );
                            }
                            (*p, r)
                        })
                        .collect::<Vec<_>>())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a policy evaluation thread panicked".to_string()))
            })
            .collect()
    });
    std::thread::spawn(move || drop(model));
    let _ = disposer.join();
    let mut results: Vec<Outcome> = Vec::new();
    let mut failures = 0;
    for r in evaluated {
        match r {
            Ok(mut v) => results.append(&mut v),
            Err(e) => {
                failures += 1;
                notifications.push(Notification {
                    level: Severity::Error,
                    message: format!("internal error: no evaluation context for {root}: {e}"),
                    location: fallback.clone(),
                });
            }
        }
    }
    results.sort_by(|a, b| a.0.meta.id.cmp(&b.0.meta.id));
    let mut raw: Vec<(RawFinding, Severity)> = Vec::new();
    let mut failed_rules = BTreeSet::new();
    for (p, r) in results {
        match r {
            Ok(found) => {
                let sev = rules
                    .severities
                    .get(&p.meta.id)
                    .copied()
                    .unwrap_or(p.meta.severity);
                raw.extend(found.into_iter().map(|f| (f, sev)));
            }
            Err(e) => {
                failures += 1;
                failed_rules.insert(p.meta.id.clone());
                notifications.push(Notification {
                    level: Severity::Error,
                    message: e.to_string(),
                    location: Location::file_start(&fallback.file),
                });
            }
        }
    }
    for e in &parse_errors {
        notifications.push(Notification {
            level: Severity::Error,
            message: e.message.clone(),
            location: e.loc.clone(),
        });
    }
    let known: BTreeSet<String> = policies
        .policies
        .iter()
        .map(|p| p.meta.id.clone())
        .collect();
    let filtered = filter::filter(
        raw,
        &filter::Criteria {
            root: &root,
            rules,
            suppressions: &model_suppressions,
            known: &known,
            locked: &settings.locked,
            unloadable: &unloadable,
            sources: &sources,
            baseline,
        },
    );
    notifications.extend(filtered.notes);
    // The texts of the files the report points at, for snippets.
    let mut used = BTreeMap::new();
    let files = (filtered.kept.iter())
        .chain(filtered.suppressed.iter().map(|(f, _)| f))
        .map(|f| &f.location.file)
        .chain(notifications.iter().map(|n| &n.location.file));
    for file in files {
        if let Some(t) = sources.get(file) {
            used.insert(file.clone(), t.clone());
        }
    }
    let report = RootReport {
        root,
        findings: filtered.kept,
        ignored: filtered.ignored.len(),
        notifications,
        suppressed_count: filtered.suppressed.len(),
        baselined: filtered.baselined.len(),
        policy_failures: failures,
        failed_rules,
        suppressed: filtered.suppressed,
        sources: used,
        gitlab_files,
        repo_dir: String::new(),
        repo_root: None,
        rule_severities: rules
            .severities
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect(),
        unchecked_rules: policies
            .policies
            .iter()
            .filter(|p| !rules.keeps(&p.meta.id))
            .map(|p| p.meta.id.clone())
            .collect(),
    };
    Checked {
        report,
        baselined: filtered.baselined,
    }
}
