//! The scorecard's text renderings: `scorecard.json`, `scorecard.md` (for an issue or a
//! wiki page) and `scorecard.csv` (one row per repository × rule), and the writing of a
//! whole output directory.

use std::fmt::Write as _;
use std::path::Path;

use crate::report::markdown::cell;

use super::scorecard::{Scorecard, Status, Verdict};

/// `scorecard.json`: the scorecard, pretty-printed, with a final newline.
pub fn json(s: &Scorecard) -> String {
    let mut out = serde_json::to_string_pretty(s).unwrap_or_default();
    out.push('\n');
    out
}

/// `scorecard.csv`: `repository,rule,verdict,findings`, one row per repository × rule,
/// sorted by repository then rule. With a comparison, a fifth column `change` says
/// `improved`, `regressed`, `new` (a repository the older scorecard lacks) or nothing.
pub fn csv(s: &Scorecard) -> String {
    let mut out = String::from("repository,rule,verdict,findings");
    let mut changes: std::collections::BTreeMap<(&str, &str), &str> = Default::default();
    if let Some(c) = &s.compare {
        out.push_str(",change");
        for r in &c.repositories {
            for id in &r.improved {
                changes.insert((&r.name, id), "improved");
            }
            for id in &r.regressed {
                changes.insert((&r.name, id), "regressed");
            }
        }
    }
    out.push('\n');
    let added: std::collections::BTreeSet<&str> = s
        .compare
        .iter()
        .flat_map(|c| c.added.iter().map(String::as_str))
        .collect();
    for r in &s.repositories {
        for (id, cell) in &r.rules {
            let _ = write!(
                out,
                "{},{},{},{}",
                csv_field(&r.name),
                csv_field(id),
                cell.verdict.as_str(),
                cell.findings
            );
            if s.compare.is_some() {
                let change = if added.contains(r.name.as_str()) {
                    "new"
                } else {
                    changes
                        .get(&(r.name.as_str(), id.as_str()))
                        .copied()
                        .unwrap_or("")
                };
                let _ = write!(out, ",{change}");
            }
            out.push('\n');
        }
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// An optional number with one decimal, or `–`.
fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

/// `scorecard.md`: counts, per-rule pass rates, per-team roll-ups, the changes since the
/// compared scorecard, the repositories (worst first), and the errors.
pub fn markdown(s: &Scorecard) -> String {
    let mut out = String::from("# shipshape fleet scorecard\n\n");
    let sum = &s.summary;
    let _ = writeln!(
        out,
        "{} repositories: {} passing every rule, {} with findings, {} could not be checked. {} findings; mean score {:.1}/10.\n",
        sum.repositories,
        sum.passing,
        sum.repositories - sum.passing - sum.errored,
        sum.errored,
        sum.findings,
        sum.mean_score
    );
    if let Some(c) = &s.compare {
        let _ = writeln!(out, "## Since {}\n", cell(&c.against));
        let _ = writeln!(
            out,
            "{} checks improved, {} regressed; {} repositories added, {} removed.\n",
            c.improved,
            c.regressed,
            c.added.len(),
            c.removed.len()
        );
        if !c.repositories.is_empty() {
            out.push_str("| repository | score | improved | regressed |\n|---|---|---|---|\n");
            for r in &c.repositories {
                let _ = writeln!(
                    out,
                    "| {} | {} → {} | {} | {} |",
                    cell(&r.name),
                    num(r.old_score),
                    num(r.new_score),
                    r.improved.join(", "),
                    r.regressed.join(", ")
                );
            }
            out.push('\n');
        }
        if !c.rules.is_empty() {
            out.push_str("| rule | pass rate | improved | regressed |\n|---|---|---|---|\n");
            for r in &c.rules {
                let _ = writeln!(
                    out,
                    "| {} | {}% → {}% | {} | {} |",
                    r.id,
                    num(r.old_pass_rate),
                    num(r.new_pass_rate),
                    r.improved,
                    r.regressed
                );
            }
            out.push('\n');
        }
    }
    out.push_str("## Rules\n\n| rule | title | pass rate | passed | failed | errored | findings |\n|---|---|---|---|---|---|---|\n");
    for r in &s.rules {
        let _ = writeln!(
            out,
            "| {} | {} | {}% | {} | {} | {} | {} |",
            r.id,
            cell(&r.title),
            num(r.pass_rate),
            r.passed,
            r.failed,
            r.errored,
            r.findings
        );
    }
    if !s.teams.is_empty() {
        out.push_str("\n## Teams\n\n| team | repositories | errored | mean score | pass rate | findings |\n|---|---|---|---|---|---|\n");
        for t in &s.teams {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {}% | {} |",
                cell(&t.team),
                t.repositories,
                t.errored,
                num(t.mean_score),
                num(t.pass_rate),
                t.findings
            );
        }
    }
    out.push_str("\n## Repositories\n\n| repository | team | score | failing rules | findings |\n|---|---|---|---|---|\n");
    let mut repos: Vec<_> = s.repositories.iter().collect();
    repos.sort_by(|a, b| {
        let key = |r: &&super::scorecard::Repository| r.score.unwrap_or(-1.0);
        key(a)
            .partial_cmp(&key(b))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.name.cmp(&b.name))
    });
    for r in repos {
        let failing: Vec<&str> = r
            .rules
            .iter()
            .filter(|(_, c)| c.verdict == Verdict::Fail)
            .map(|(id, _)| id.as_str())
            .collect();
        let score = match r.status {
            Status::Error => "error".to_string(),
            Status::Ok => num(r.score),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&r.name),
            cell(r.team.as_deref().unwrap_or("")),
            score,
            failing.join(", "),
            r.findings.len()
        );
    }
    let errored: Vec<_> = s
        .repositories
        .iter()
        .filter(|r| r.status == Status::Error)
        .collect();
    if !errored.is_empty() {
        out.push_str("\n## Could not be checked\n\n");
        for r in errored {
            let _ = writeln!(
                out,
                "- **{}**: {}",
                cell(&r.name),
                cell(r.error.as_deref().unwrap_or("unknown error"))
            );
        }
    }
    out
}

/// Marks each result of a repository's SARIF log against the repository's row in an older
/// scorecard (`--compare`): `baselineState` `unchanged` when the old row has a finding of the
/// same rule, file, line and message, else `new` (every result is new when the repository is
/// not in the old scorecard). Findings that went away are counted in the scorecard, not added
/// as `absent` results, so the log stays ready for upload.
pub fn mark_baseline(sarif: &mut serde_json::Value, old: Option<&super::scorecard::Repository>) {
    let known: std::collections::BTreeSet<(&str, &str, u32, &str)> = old
        .iter()
        .flat_map(|r| &r.findings)
        .map(|f| (f.rule.as_str(), f.file.as_str(), f.line, f.message.as_str()))
        .collect();
    fn text(v: Option<&serde_json::Value>) -> &str {
        v.and_then(|x| x.as_str()).unwrap_or("")
    }
    let Some(runs) = sarif.get_mut("runs").and_then(|r| r.as_array_mut()) else {
        return;
    };
    for run in runs {
        let Some(results) = run.get_mut("results").and_then(|r| r.as_array_mut()) else {
            continue;
        };
        for result in results {
            let rule = text(result.get("ruleId"));
            let message = text(result.pointer("/message/text"));
            let location = result.pointer("/locations/0/physicalLocation");
            let file = text(location.and_then(|l| l.pointer("/artifactLocation/uri")));
            let line = location
                .and_then(|l| l.pointer("/region/startLine"))
                .and_then(|l| l.as_u64())
                .and_then(|l| u32::try_from(l).ok())
                .unwrap_or(0);
            let state = if known.contains(&(rule, file, line, message)) {
                "unchanged"
            } else {
                "new"
            };
            if let Some(obj) = result.as_object_mut() {
                obj.insert("baselineState".to_string(), state.into());
            }
        }
    }
}

/// Writes `scorecard.json`, `.html`, `.md` and `.csv` into `dir` (created if needed).
pub fn write_all(s: &Scorecard, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("scorecard.json"), json(s))?;
    std::fs::write(dir.join("scorecard.html"), super::html::render(s))?;
    std::fs::write(dir.join("scorecard.md"), markdown(s))?;
    std::fs::write(dir.join("scorecard.csv"), csv(s))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("svc"), "svc");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
