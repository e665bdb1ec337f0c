//! The fleet scorecard: one row per repository (status, per-rule verdicts with their
//! findings, a score), per-rule and per-team roll-ups, and, against an older scorecard, what
//! improved and what regressed. It is built from rows alone ([`Scorecard::build`]), so a run,
//! a merge of shard outputs and a re-rendering give the same document; the run's metadata
//! (version, time, shard) is kept apart in [`RunMeta`] so two runs of the same inputs are
//! byte-identical but for it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::finding::Severity;

/// The scorecard format's version: bumped when a field changes meaning or is removed.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole scorecard (`scorecard.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scorecard {
    /// The format's version: 1 for the format described here.
    pub schema_version: u32,
    /// How and when it was made: the one part that differs between two runs of the same
    /// inputs.
    pub run: RunMeta,
    /// Fleet-wide counts.
    pub summary: Summary,
    /// Every repository, sorted by name.
    pub repositories: Vec<Repository>,
    /// Every rule checked in at least one repository, sorted by ID, with its pass rate.
    pub rules: Vec<RuleRollup>,
    /// Per team (the manifest's `team`; repositories without one are not rolled up), sorted
    /// by name.
    pub teams: Vec<TeamRollup>,
    /// What changed since an older scorecard (`--compare`), when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<Comparison>,
}

/// How and when a scorecard was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunMeta {
    /// `shipshape`.
    pub tool: String,
    /// shipshape's version.
    pub version: String,
    /// When the run started (UTC, RFC 3339).
    pub started: String,
    /// Wall-clock time of the run, in milliseconds.
    pub duration_ms: u64,
    /// The shard this run checked (`I/N`), for a sharded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// How many scorecards were merged into this one (`fleet merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<usize>,
}

/// Fleet-wide counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    /// Repositories in the scorecard.
    pub repositories: usize,
    /// Repositories that could not be checked.
    pub errored: usize,
    /// Repositories with no failing rule.
    pub passing: usize,
    /// Findings in all repositories.
    pub findings: usize,
    /// Mean score of the repositories that could be checked (0–10, one decimal).
    pub mean_score: f64,
}

/// Whether a repository could be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Checked.
    Ok,
    /// Not checked: missing path, bad ref, corrupt object, invalid configuration.
    Error,
}

/// A rule's outcome in one repository.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Checked, no finding.
    Pass,
    /// Checked, at least one finding.
    Fail,
    /// Not checked: the repository could not be read, or the rule's policy failed to
    /// evaluate on it.
    Error,
    /// Turned off for this repository (its configuration, `--select`/`--ignore`).
    Skipped,
}

impl Verdict {
    /// The lowercase name used in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One repository's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Repository {
    /// The manifest's `name`, else the directory name without a `.git` suffix.
    pub name: String,
    /// The path it was read from, as given.
    pub source: String,
    /// `checkout` (a work tree) or `mirror` (a bare repository read at a ref).
    pub kind: String,
    /// The ref read (mirrors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    /// The commit checked, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The manifest's `team`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The manifest's `tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The repository's web URL (the manifest's `url`): findings link to
    /// `<url>/blob/<commit or ref>/<file>#L<line>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Whether it could be checked.
    pub status: Status,
    /// Why it could not be checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// 10 × passing rules / rules with a pass or fail verdict, one decimal; absent when
    /// nothing was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Verdict per rule ID.
    pub rules: BTreeMap<String, RuleCell>,
    /// Every finding, in report order.
    pub findings: Vec<FleetFinding>,
    /// Tool notifications at error level (files that could not be loaded, policies that
    /// failed), each a line.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One rule's verdict in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleCell {
    /// The verdict.
    pub verdict: Verdict,
    /// How many findings the rule has there.
    pub findings: usize,
}

/// One finding, as the scorecard keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FleetFinding {
    /// The rule's ID.
    pub rule: String,
    /// The severity in effect.
    pub level: Severity,
    /// Repository-relative file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// What is wrong.
    pub message: String,
}

/// A rule's results across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleRollup {
    /// The rule's ID.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its default severity.
    pub severity: Severity,
    /// Repositories where it passed.
    pub passed: usize,
    /// Repositories where it failed.
    pub failed: usize,
    /// Repositories where it could not be checked.
    pub errored: usize,
    /// passed / (passed + failed), one decimal percent; absent when neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_rate: Option<f64>,
    /// Findings across the fleet.
    pub findings: usize,
}

/// A team's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TeamRollup {
    /// The team's name.
    pub team: String,
    /// Its repositories.
    pub repositories: usize,
    /// Those that could not be checked.
    pub errored: usize,
    /// Mean score of the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_score: Option<f64>,
    /// Passing cells / (passing + failing cells), one decimal percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_rate: Option<f64>,
    /// Findings in its repositories.
    pub findings: usize,
}

/// What changed since an older scorecard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// When the older scorecard was made (its `run.started`).
    pub against: String,
    /// Repositories in this scorecard only.
    pub added: Vec<String>,
    /// Repositories in the older one only.
    pub removed: Vec<String>,
    /// Per repository in both whose verdicts or score changed, sorted by name.
    pub repositories: Vec<RepoChange>,
    /// Per rule whose pass rate changed, sorted by ID.
    pub rules: Vec<RuleChange>,
    /// Cells that went from fail or error to pass.
    pub improved: usize,
    /// Cells that went from pass to fail or error.
    pub regressed: usize,
}

/// One repository's changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RepoChange {
    /// The repository.
    pub name: String,
    /// Its old score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_score: Option<f64>,
    /// Its new score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_score: Option<f64>,
    /// Rules that now pass and did not.
    pub improved: Vec<String>,
    /// Rules that passed and now do not.
    pub regressed: Vec<String>,
}

/// One rule's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleChange {
    /// The rule.
    pub id: String,
    /// Its old pass rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_pass_rate: Option<f64>,
    /// Its new pass rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_pass_rate: Option<f64>,
    /// Repositories where it now passes and did not.
    pub improved: usize,
    /// Repositories where it passed and now does not.
    pub regressed: usize,
}

/// What a rule's roll-up names besides its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// The title.
    pub title: String,
    /// The default severity.
    pub severity: Severity,
}

/// `x` rounded to one decimal.
fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `part / whole` as a percentage with one decimal, when `whole` is not zero.
fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| round1(100.0 * part as f64 / whole as f64))
}

impl Repository {
    /// The score from the verdicts: 10 × passing / (passing + failing), one decimal.
    pub fn compute_score(&self) -> Option<f64> {
        let pass = self.count(Verdict::Pass);
        let fail = self.count(Verdict::Fail);
        (self.status == Status::Ok && pass + fail > 0)
            .then(|| round1(10.0 * pass as f64 / (pass + fail) as f64))
    }

    /// How many rules have `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.rules.values().filter(|c| c.verdict == verdict).count()
    }
}

impl Scorecard {
    /// The scorecard of `repositories` (any order; names must be distinct), with the rules'
    /// titles and severities from `info`.
    pub fn build(
        mut repositories: Vec<Repository>,
        info: &BTreeMap<String, RuleInfo>,
        run: RunMeta,
    ) -> Scorecard {
        repositories.sort_by(|a, b| a.name.cmp(&b.name));
        let ok: Vec<&Repository> = repositories
            .iter()
            .filter(|r| r.status == Status::Ok)
            .collect();
        let scores: Vec<f64> = ok.iter().filter_map(|r| r.score).collect();
        let summary = Summary {
            repositories: repositories.len(),
            errored: repositories.len() - ok.len(),
            passing: ok.iter().filter(|r| r.count(Verdict::Fail) == 0).count(),
            findings: repositories.iter().map(|r| r.findings.len()).sum(),
            mean_score: mean(&scores).unwrap_or(0.0),
        };
        let ids: BTreeSet<&String> = repositories.iter().flat_map(|r| r.rules.keys()).collect();
        let rules = ids
            .into_iter()
            .map(|id| {
                let cells: Vec<&RuleCell> = repositories
                    .iter()
                    .filter_map(|r| r.rules.get(id))
                    .collect();
                let n = |v: Verdict| cells.iter().filter(|c| c.verdict == v).count();
                let (passed, failed) = (n(Verdict::Pass), n(Verdict::Fail));
                let meta = info.get(id);
                RuleRollup {
                    id: id.clone(),
                    title: meta.map(|m| m.title.clone()).unwrap_or_default(),
                    severity: meta.map_or(Severity::Error, |m| m.severity),
                    passed,
                    failed,
                    errored: n(Verdict::Error),
                    pass_rate: percent(passed, passed + failed),
                    findings: cells.iter().map(|c| c.findings).sum(),
                }
            })
            .collect();
        let mut by_team: BTreeMap<&str, Vec<&Repository>> = BTreeMap::new();
        for r in &repositories {
            if let Some(t) = &r.team {
                by_team.entry(t).or_default().push(r);
            }
        }
        let teams = by_team
            .into_iter()
            .map(|(team, repos)| {
                let scores: Vec<f64> = repos.iter().filter_map(|r| r.score).collect();
                let pass: usize = repos.iter().map(|r| r.count(Verdict::Pass)).sum();
                let fail: usize = repos.iter().map(|r| r.count(Verdict::Fail)).sum();
                TeamRollup {
                    team: team.to_string(),
                    repositories: repos.len(),
                    errored: repos.iter().filter(|r| r.status == Status::Error).count(),
                    mean_score: mean(&scores),
                    pass_rate: percent(pass, pass + fail),
                    findings: repos.iter().map(|r| r.findings.len()).sum(),
                }
            })
            .collect();
        Scorecard {
            schema_version: SCHEMA_VERSION,
            run,
            summary,
            repositories,
            rules,
            teams,
            compare: None,
        }
    }

    /// The rules' titles and severities, as a scorecard records them (for merging).
    pub fn rule_info(&self) -> BTreeMap<String, RuleInfo> {
        self.rules
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    RuleInfo {
                        title: r.title.clone(),
                        severity: r.severity,
                    },
                )
            })
            .collect()
    }

    /// Records what changed since `old`.
    pub fn compare_with(&mut self, old: &Scorecard) {
        let old_repos: BTreeMap<&str, &Repository> = old
            .repositories
            .iter()
            .map(|r| (r.name.as_str(), r))
            .collect();
        let new_names: BTreeSet<&str> = self.repositories.iter().map(|r| r.name.as_str()).collect();
        let mut cmp = Comparison {
            against: old.run.started.clone(),
            added: self
                .repositories
                .iter()
                .filter(|r| !old_repos.contains_key(r.name.as_str()))
                .map(|r| r.name.clone())
                .collect(),
            removed: old_repos
                .keys()
                .filter(|n| !new_names.contains(*n))
                .map(|n| n.to_string())
                .collect(),
            ..Comparison::default()
        };
        let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for new in &self.repositories {
            let Some(old) = old_repos.get(new.name.as_str()) else {
                continue;
            };
            let (mut improved, mut regressed) = (Vec::new(), Vec::new());
            for (id, cell) in &new.rules {
                let before = old.rules.get(id).map(|c| c.verdict);
                let was_pass = before == Some(Verdict::Pass);
                let is_pass = cell.verdict == Verdict::Pass;
                let was_bad = matches!(before, Some(Verdict::Fail | Verdict::Error));
                let is_bad = matches!(cell.verdict, Verdict::Fail | Verdict::Error);
                if was_bad && is_pass {
                    improved.push(id.clone());
                    per_rule.entry(id.clone()).or_default().0 += 1;
                } else if was_pass && is_bad {
                    regressed.push(id.clone());
                    per_rule.entry(id.clone()).or_default().1 += 1;
                }
            }
            cmp.improved += improved.len();
            cmp.regressed += regressed.len();
            if !improved.is_empty() || !regressed.is_empty() || old.score != new.score {
                cmp.repositories.push(RepoChange {
                    name: new.name.clone(),
                    old_score: old.score,
                    new_score: new.score,
                    improved,
                    regressed,
                });
            }
        }
        let old_rates: BTreeMap<&str, Option<f64>> = old
            .rules
            .iter()
            .map(|r| (r.id.as_str(), r.pass_rate))
            .collect();
        for rule in &self.rules {
            let old_rate = old_rates.get(rule.id.as_str()).copied().flatten();
            let (improved, regressed) = per_rule.get(&rule.id).copied().unwrap_or_default();
            if old_rate != rule.pass_rate || improved + regressed > 0 {
                cmp.rules.push(RuleChange {
                    id: rule.id.clone(),
                    old_pass_rate: old_rate,
                    new_pass_rate: rule.pass_rate,
                    improved,
                    regressed,
                });
            }
        }
        self.compare = Some(cmp);
    }

    /// The scorecard without its run metadata, for comparing two runs.
    pub fn without_run(&self) -> Scorecard {
        let mut s = self.clone();
        s.run = RunMeta {
            tool: String::new(),
            version: String::new(),
            started: String::new(),
            duration_ms: 0,
            shard: None,
            merged: None,
        };
        s
    }
}

/// The mean of `xs` with one decimal, when there are any.
fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| round1(xs.iter().sum::<f64>() / xs.len() as f64))
}

/// The JSON Schema of `scorecard.json`, from the types and their doc comments.
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Scorecard)).unwrap_or_default()
}

/// A field reference of `scorecard.json` in Markdown (`docs/scorecard.md`), from its schema:
/// one table per object type, the top level first.
pub fn markdown() -> String {
    let schema = json_schema();
    let mut out = String::from(
        "# Scorecard format\n\nGenerated from the scorecard's types (`src/fleet/scorecard.rs`); a test keeps it\nin sync (regenerate with `SHIPSHAPE_BLESS=1 cargo test`). The JSON Schema is\n[scorecard.schema.json](scorecard.schema.json). `schema_version` is bumped when a field\nchanges meaning or is removed; fields may be added within a version.\n",
    );
    let empty = serde_json::Map::new();
    let defs = schema
        .get("$defs")
        .and_then(|d| d.as_object())
        .unwrap_or(&empty);
    let mut types: Vec<(&str, &serde_json::Value)> = vec![("Scorecard", &schema)];
    types.extend(defs.iter().map(|(k, v)| (k.as_str(), v)));
    for (name, ty) in types {
        let desc = ty.get("description").and_then(|d| d.as_str()).unwrap_or("");
        out.push_str(&format!("\n## {name}\n\n{}\n", desc.replace('\n', " ")));
        if let Some(props) = ty.get("properties").and_then(|p| p.as_object()) {
            out.push_str("\n| field | type | meaning |\n|---|---|---|\n");
            for (field, p) in props {
                let d = p.get("description").and_then(|d| d.as_str()).unwrap_or("");
                out.push_str(&format!(
                    "| `{field}` | {} | {} |\n",
                    type_name(p),
                    d.replace('\n', " ").replace('|', "\\|")
                ));
            }
        } else if let Some(values) = ty.get("oneOf").and_then(|o| o.as_array()) {
            out.push_str("\n| value | meaning |\n|---|---|\n");
            for v in values {
                let value = v
                    .get("const")
                    .or_else(|| v.get("enum").and_then(|e| e.get(0)))
                    .and_then(|c| c.as_str())
                    .unwrap_or("");
                let d = v.get("description").and_then(|d| d.as_str()).unwrap_or("");
                out.push_str(&format!("| `{value}` | {} |\n", d.replace('\n', " ")));
            }
        }
    }
    out
}

/// A schema's type in words: `string`, `integer`, `[RuleCell]`, `{string: RuleCell}`, ...
fn type_name(p: &serde_json::Value) -> String {
    if let Some(r) = p.get("$ref").and_then(|r| r.as_str()) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(any) = p.get("anyOf").and_then(|a| a.as_array()) {
        let parts: Vec<String> = any
            .iter()
            .filter(|x| x.get("type").and_then(|t| t.as_str()) != Some("null"))
            .map(type_name)
            .collect();
        return format!("{} or null", parts.join(" or "));
    }
    match p.get("type") {
        Some(serde_json::Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        Some(serde_json::Value::String(t)) if t == "array" => {
            format!("[{}]", p.get("items").map(type_name).unwrap_or_default())
        }
        Some(serde_json::Value::String(t)) if t == "object" => {
            match p.get("additionalProperties") {
                Some(v) if v.is_object() => format!("{{string: {}}}", type_name(v)),
                _ => "object".to_string(),
            }
        }
        Some(serde_json::Value::String(t)) => t.clone(),
        _ => "any".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn repo(
        name: &str,
        team: Option<&str>,
        cells: &[(&str, Verdict, usize)],
    ) -> Repository {
        let mut r = Repository {
            name: name.to_string(),
            source: format!("/src/{name}"),
            kind: "checkout".to_string(),
            r#ref: None,
            commit: None,
            team: team.map(str::to_string),
            tags: Vec::new(),
            url: None,
            status: Status::Ok,
            error: None,
            score: None,
            rules: cells
                .iter()
                .map(|(id, v, n)| {
                    (
                        id.to_string(),
                        RuleCell {
                            verdict: *v,
                            findings: *n,
                        },
                    )
                })
                .collect(),
            findings: Vec::new(),
            problems: Vec::new(),
        };
        r.score = r.compute_score();
        r
    }

    fn meta() -> RunMeta {
        RunMeta {
            tool: "shipshape".into(),
            version: "0".into(),
            started: "2026-01-01T00:00:00Z".into(),
            duration_ms: 1,
            shard: None,
            merged: None,
        }
    }

    #[test]
    fn scores_rollups_and_order() {
        use Verdict::*;
        let a = repo(
            "b-svc",
            Some("pay"),
            &[
                ("DF001", Pass, 0),
                ("DF002", Fail, 2),
                ("DF003", Skipped, 0),
            ],
        );
        let b = repo(
            "a-svc",
            Some("pay"),
            &[("DF001", Pass, 0), ("DF002", Pass, 0)],
        );
        let mut c = repo("c-svc", None, &[("DF001", Error, 0), ("DF002", Error, 0)]);
        c.status = Status::Error;
        c.score = c.compute_score();
        assert_eq!(a.score, Some(5.0));
        assert_eq!(b.score, Some(10.0));
        assert_eq!(c.score, None);
        let s = Scorecard::build(vec![a, b, c], &BTreeMap::new(), meta());
        let names: Vec<&str> = s.repositories.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a-svc", "b-svc", "c-svc"]);
        assert_eq!(s.summary.errored, 1);
        assert_eq!(s.summary.passing, 1);
        assert_eq!(s.summary.mean_score, 7.5);
        let df002 = &s.rules[1];
        assert_eq!(
            (df002.passed, df002.failed, df002.errored, df002.findings),
            (1, 1, 1, 2)
        );
        assert_eq!(df002.pass_rate, Some(50.0));
        assert_eq!(s.teams.len(), 1);
        assert_eq!(s.teams[0].pass_rate, Some(75.0));
        assert_eq!(s.teams[0].mean_score, Some(7.5));
    }

    /// `docs/scorecard.schema.json` and `docs/scorecard.md` are generated from the types
    /// (regenerate with `SHIPSHAPE_BLESS=1 cargo test`).
    #[test]
    fn the_scorecard_docs_are_in_sync_with_the_types() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let schema = format!(
            "{}\n",
            serde_json::to_string_pretty(&json_schema()).expect("json")
        );
        for (file, want) in [
            ("docs/scorecard.schema.json", schema),
            ("docs/scorecard.md", markdown()),
        ] {
            let path = dir.join(file);
            let have = std::fs::read_to_string(&path).unwrap_or_default();
            if have != want {
                if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
                    std::fs::write(&path, &want).expect("write");
                } else {
                    panic!("{file} is out of date: run `SHIPSHAPE_BLESS=1 cargo test`");
                }
            }
        }
        assert!(markdown().contains("| `repositories` | [Repository] |"));
    }

    #[test]
    fn comparison_counts_improvements_and_regressions() {
        use Verdict::*;
        let old = Scorecard::build(
            vec![
                repo("a", None, &[("R1", Fail, 1), ("R2", Pass, 0)]),
                repo("gone", None, &[("R1", Pass, 0)]),
            ],
            &BTreeMap::new(),
            meta(),
        );
        let mut new = Scorecard::build(
            vec![
                repo("a", None, &[("R1", Pass, 0), ("R2", Fail, 3)]),
                repo("new", None, &[("R1", Pass, 0)]),
            ],
            &BTreeMap::new(),
            meta(),
        );
        new.compare_with(&old);
        let c = new.compare.expect("compared");
        assert_eq!(c.added, ["new"]);
        assert_eq!(c.removed, ["gone"]);
        assert_eq!((c.improved, c.regressed), (1, 1));
        assert_eq!(c.repositories[0].improved, ["R1"]);
        assert_eq!(c.repositories[0].regressed, ["R2"]);
        let r2 = c.rules.iter().find(|r| r.id == "R2").expect("R2 changed");
        assert_eq!(
            (r2.old_pass_rate, r2.new_pass_rate),
            (Some(100.0), Some(0.0))
        );
    }
}
