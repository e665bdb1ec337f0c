//! Evaluating one loaded root: the model built once as interpreter values, policies spread
//! over threads by the size of what they read, their findings with severities, inline
//! suppressions applied, then filtering, ordering, de-duplication and fingerprints into the
//! root's report.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::load::Loaded;
use super::{RuleFilter, Settings};
use crate::finding::{Finding, Notification, RootReport, Severity};
use crate::location::Location;
use crate::policy::{self, PolicySet, RawFinding};
use crate::{report, suppress};

/// Evaluates every policy on a loaded root and builds its report.
pub fn evaluate(loaded: Loaded, policies: &PolicySet, settings: &Settings) -> RootReport {
    let (filter, options) = (&settings.filter, &settings.options);
    let Loaded {
        mut repo,
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
    let model = match policy::val::from_model(&repo) {
        Ok(v) => v,
        Err(e) => {
            notifications.push(Notification {
                level: Severity::Error,
                message: format!("internal error: the model of {root} could not be built: {e}"),
                location: fallback.clone(),
            });
            return RootReport {
                root,
                notifications,
                ..RootReport::default()
            };
        }
    };
    let parse_errors = std::mem::take(&mut repo.parse_errors);
    let model_suppressions = std::mem::take(&mut repo.suppressions);
    // Freeing large trees takes time of its own: the Rust model goes on a thread of its own
    // while policies run, and the interpreter's values after them.
    let repo_drop = std::thread::spawn(move || drop(repo));
    if std::env::var_os("SHIPSHAPE_TIMINGS").is_some() {
        eprintln!(
            "shipshape: {root}: model {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
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
    let _ = repo_drop.join();
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
                let sev = filter
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
    let suppressions = suppress::apply(
        &raw_keys(&raw),
        &model_suppressions,
        &known,
        &settings.locked,
    );
    let mut report = build_report(
        root,
        raw,
        suppressions,
        sources,
        notifications,
        &unloadable,
        filter,
    );
    report.policy_failures = failures;
    report.failed_rules = failed_rules;
    report.gitlab_files = gitlab_files;
    report.rule_severities = filter
        .severities
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    report.unchecked_rules = policies
        .policies
        .iter()
        .filter(|p| !filter.keeps(&p.meta.id))
        .map(|p| p.meta.id.clone())
        .collect();
    report
}

/// (rule, file, line) of each raw finding.
fn raw_keys(raw: &[(RawFinding, Severity)]) -> Vec<(String, String, u32)> {
    raw.iter()
        .map(|(f, _)| (f.rule.clone(), f.location.file.clone(), f.location.line))
        .collect()
}

/// Filters, sorts, de-duplicates and fingerprints raw findings into a report.
fn build_report(
    root: String,
    raw: Vec<(RawFinding, Severity)>,
    (suppressed, notes): (Vec<Option<String>>, Vec<Notification>),
    sources: BTreeMap<String, Arc<str>>,
    notifications: Vec<Notification>,
    unloadable: &BTreeSet<String>,
    filter: &RuleFilter,
) -> RootReport {
    let mut ignored = 0;
    let mut notifications = notifications;
    notifications.extend(notes);
    let mut kept: Vec<(RawFinding, Severity)> = Vec::new();
    let mut silenced: Vec<(RawFinding, Severity, String)> = Vec::new();
    for ((f, sev), justification) in raw.into_iter().zip(suppressed) {
        let excluded = filter
            .exclude
            .iter()
            .any(|x| x.drops(&f.rule, &f.location.file));
        if excluded {
            ignored += 1;
            continue;
        }
        if let Some(j) = justification {
            if filter.keeps(&f.rule) {
                silenced.push((f, sev, j));
            } else {
                ignored += 1;
            }
            continue;
        }
        if f.rule != "SS001" && unloadable.contains(&f.location.file) {
            continue;
        }
        if filter.keeps(&f.rule) {
            kept.push((f, sev));
        } else {
            ignored += 1;
        }
    }
    kept.sort_by(|a, b| {
        (
            &a.0.location.file,
            a.0.location.line,
            a.0.location.col,
            &a.0.rule,
            &a.0.message,
        )
            .cmp(&(
                &b.0.location.file,
                b.0.location.line,
                b.0.location.col,
                &b.0.rule,
                &b.0.message,
            ))
    });
    // One rule at one location is one finding (the first message in the order above), however
    // many subjects (deploy jobs sharing a flow, ...) lead to it.
    kept.dedup_by(|a, b| a.0.rule == b.0.rule && a.0.location == b.0.location);
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut used = BTreeMap::new();
    let mut make = |f: RawFinding, severity: Severity| {
        let text = sources.get(&f.location.file);
        let line_text = report::normalise_line(located_text(
            text.map(AsRef::as_ref).unwrap_or(""),
            &f.location,
        ));
        let key = (f.rule.clone(), f.location.file.clone(), line_text.clone());
        let n = seen.entry(key).or_insert(0);
        let fingerprint = report::fingerprint(&f.rule, &f.location.file, &line_text, *n);
        *n += 1;
        if let Some(t) = text {
            used.insert(f.location.file.clone(), t.clone());
        }
        Finding {
            rule: f.rule,
            severity,
            message: f.message,
            location: f.location,
            fingerprint,
        }
    };
    let findings: Vec<Finding> = kept.into_iter().map(|(f, s)| make(f, s)).collect();
    let suppressed: Vec<(Finding, String)> = silenced
        .into_iter()
        .map(|(f, s, j)| (make(f, s), j))
        .collect();
    for n in &notifications {
        if let Some(t) = sources.get(&n.location.file) {
            used.insert(n.location.file.clone(), t.clone());
        }
    }
    RootReport {
        root,
        findings,
        ignored,
        notifications,
        suppressed_count: suppressed.len(),
        baselined: 0,
        policy_failures: 0,
        failed_rules: BTreeSet::new(),
        suppressed,
        sources: used,
        gitlab_files: BTreeSet::new(),
        repo_dir: String::new(),
        repo_root: None,
        rule_severities: BTreeMap::new(),
        unchecked_rules: BTreeSet::new(),
    }
}

/// The text of the node a finding points at, for its identity: the region when it lies within
/// one line, else the rest of the line from the start column.
fn located_text<'t>(text: &'t str, loc: &Location) -> &'t str {
    let Some(line) = text.lines().nth(loc.line.saturating_sub(1) as usize) else {
        return "";
    };
    let byte = |col: u32| {
        line.char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map_or(line.len(), |(i, _)| i)
    };
    let start = byte(loc.col);
    let end = if loc.end_line == loc.line && loc.end_col > loc.col {
        byte(loc.end_col)
    } else {
        line.len()
    };
    &line[start..end.max(start)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn located_text_is_the_region_or_the_rest_of_the_line() {
        let text =
            "services:\n  db:\n    image: postgres:16  # pinned later\nFROM node:latest AS build\n";
        let at = |line, col, end_line, end_col| Location {
            file: "f".to_string(),
            line,
            col,
            end_line,
            end_col,
        };
        assert_eq!(
            located_text(text, &at(3, 12, 3, 12)),
            "postgres:16  # pinned later"
        );
        assert_eq!(located_text(text, &at(4, 6, 4, 17)), "node:latest");
        assert_eq!(
            located_text(text, &at(4, 1, 5, 1)),
            "FROM node:latest AS build"
        );
        assert_eq!(located_text(text, &at(9, 1, 9, 1)), "");
        assert_eq!(located_text(text, &at(2, 40, 2, 50)), "", "past the end");
    }
}
