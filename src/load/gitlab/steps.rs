//! A job's steps (its `before_script`/`script` lines and `run:` steps, parsed at their file
//! lines), its `variables:` and `parallel: matrix:`, variable expansion, and the short text
//! of its conditions.

use super::MAX_REFERENCE_DEPTH;
use super::tree::{SrcFile, flatten_rules};
use crate::load::ytree::{YNode, YValue};
use crate::location::Location;
use crate::model::ci::Step;
use crate::shell;
use std::collections::{BTreeMap, HashMap};

/// `parallel: matrix:` as variable → every value it takes in some entry (each entry of the
/// list is a product of its variables; the union over entries is what a script can see).
pub(super) fn parallel_matrix(job: &YNode) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    let entries = job.get("parallel").and_then(|p| p.get("matrix"));
    for entry in entries.map(YNode::items).unwrap_or_default() {
        for (k, v) in entry.entries() {
            let Some(name) = k.as_str().filter(|n| !n.is_empty()) else {
                continue;
            };
            let values = out.entry(name).or_default();
            for value in v.strings() {
                if !values.contains(&value) {
                    values.push(value);
                }
            }
        }
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// Expands `$VAR` and `${VAR}` whose values are known; the rest stays as written.
pub(super) fn expand(s: &str, vars: &BTreeMap<String, String>, depth: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        let (name, end) = match chars.get(i + 1) {
            Some('$') => {
                out.push_str("$$");
                i += 2;
                continue;
            }
            Some('{') => {
                let close = chars[i + 2..].iter().position(|c| *c == '}');
                match close {
                    Some(p) => (
                        chars[i + 2..i + 2 + p].iter().collect::<String>(),
                        i + 3 + p,
                    ),
                    None => (String::new(), i + 1),
                }
            }
            _ => {
                let len = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                (chars[i + 1..i + 1 + len].iter().collect(), i + 1 + len)
            }
        };
        match vars.get(&name) {
            Some(value) if !name.is_empty() && depth < 5 => {
                out.push_str(&expand(value, vars, depth + 1));
            }
            _ => out.extend(&chars[i..end.max(i + 1)]),
        }
        i = end.max(i + 1);
    }
    out
}

/// Commands of the script lines already parsed (or why they could not be), by file, line,
/// column and text: a line shared through `extends:`/`!reference` is parsed once.
pub(super) type ParseCache =
    HashMap<(usize, u32, u32, String), Result<Vec<shell::Command>, String>>;

/// The steps: one per line of `before_script` + `script` (and per `run:` step).
pub(super) fn steps(
    files: &[SrcFile],
    eff: &YNode,
    gating: bool,
    env: &BTreeMap<String, String>,
    parsed: &mut ParseCache,
) -> Vec<Step> {
    let mut items: Vec<(&YNode, String)> = Vec::new();
    for key in ["before_script", "script"] {
        if let Some(n) = eff.get(key) {
            let mut lines = Vec::new();
            script_items(n, &mut lines, 0);
            items.extend(lines.into_iter().map(|l| (l, String::new())));
        }
    }
    if let Some(run) = eff.get("run") {
        for item in run.items() {
            if let Some(script) = item.get("script").filter(|s| s.as_str().is_some()) {
                items.push((script, item.str_of("name").unwrap_or_default()));
            }
        }
    }
    items
        .into_iter()
        .enumerate()
        .filter_map(|(index, (item, name))| {
            let run = item.as_str()?;
            let file = files.get(item.file)?;
            let quoted = file
                .line(item.line)
                .chars()
                .nth(item.col.saturating_sub(1) as usize)
                .is_some_and(|c| c == '"' || c == '\'');
            let col = if quoted {
                item.col.saturating_add(1)
            } else {
                item.col
            };
            let (commands, unanalysed) = match parsed
                .entry((item.file, item.line, col, run.clone()))
                .or_insert_with(|| {
                    shell::parse_script(&run, &file.rel, item.line, col).map_err(|e| e.to_string())
                }) {
                Ok(c) => (c.clone(), String::new()),
                Err(e) => (Vec::new(), e.clone()),
            };
            Some(Step {
                job: String::new(),
                index: i64::try_from(index).unwrap_or(i64::MAX),
                name,
                id: String::new(),
                uses: String::new(),
                uses_ref: String::new(),
                with: BTreeMap::new(),
                with_locs: BTreeMap::new(),
                run,
                working_directory: String::new(),
                continue_on_error: false,
                gating,
                env: env.clone(),
                commands,
                unanalysed,
                loc: Location::point(&file.rel, item.line, item.col),
            })
        })
        .collect()
}

/// The lines of a script value, nested arrays flattened (as GitLab does).
fn script_items<'n>(n: &'n YNode, out: &mut Vec<&'n YNode>, depth: usize) {
    match &n.value {
        YValue::Seq(items) => {
            for item in items {
                if depth < MAX_REFERENCE_DEPTH {
                    script_items(item, out, depth + 1);
                }
            }
        }
        YValue::Str(_) | YValue::Int(_) | YValue::Float(_) | YValue::Bool(_) => out.push(n),
        _ => {}
    }
}

/// A short text for the job's `rules`/`only`/`except`/`when`.
pub(super) fn condition_text(eff: &YNode) -> String {
    let mut parts = Vec::new();
    if let Some(rules) = eff.get_set("rules") {
        let texts: Vec<String> = flatten_rules(rules)
            .into_iter()
            .map(|r| {
                let mut bits = Vec::new();
                if let Some(i) = r.str_of("if") {
                    bits.push(format!("if {i}"));
                }
                for k in ["changes", "exists"] {
                    if r.get(k).is_some() {
                        bits.push(k.to_string());
                    }
                }
                if let Some(w) = r.str_of("when") {
                    bits.push(format!("when {w}"));
                }
                if bits.is_empty() {
                    "always".to_string()
                } else {
                    bits.join(", ")
                }
            })
            .collect();
        parts.push(format!("rules: {}", texts.join("; ")));
    }
    for key in ["only", "except"] {
        if let Some(n) = eff.get_set(key) {
            let text = if n.is_map() {
                n.entries()
                    .iter()
                    .filter_map(|(k, v)| {
                        Some(format!("{}: {}", k.as_str()?, v.strings().join(", ")))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            } else {
                n.strings().join(", ")
            };
            parts.push(format!("{key}: {text}"));
        }
    }
    if let Some(w) = eff.str_of("when") {
        parts.push(format!("when: {w}"));
    }
    parts.join(" | ")
}

#[cfg(test)]
mod tests {

    use crate::load::gitlab::tests::{ci, job, load_tree};

    #[test]
    fn environments_expand_literal_variables() {
        let ci = ci(r#"
variables:
  ENV_NAME: production
  NESTED: $ENV_NAME
deploy-a:
  environment: $ENV_NAME
  script: [echo]
deploy-b:
  variables:
    TARGET: staging
  environment:
    name: deploy/${TARGET}
  script: [echo]
deploy-c:
  environment: {name: production}
  script: [echo]
review:
  environment: review/$CI_COMMIT_REF_SLUG
  script: [echo]
nested:
  environment: $NESTED
  script: [echo]
no-inherit:
  inherit:
    variables: false
  environment: $ENV_NAME
  script: [echo]
none:
  script: [echo]
"#);
        assert_eq!(job(&ci, "deploy-a").environment, "production");
        assert_eq!(job(&ci, "deploy-b").environment, "deploy/staging");
        assert_eq!(job(&ci, "deploy-c").environment, "production");
        assert!(job(&ci, "deploy-c").has_environment);
        assert_eq!(job(&ci, "review").environment, "review/$CI_COMMIT_REF_SLUG");
        assert_eq!(job(&ci, "nested").environment, "production");
        assert_eq!(job(&ci, "no-inherit").environment, "$ENV_NAME");
        assert!(!job(&ci, "none").has_environment);
        assert_eq!(job(&ci, "none").environment, "");
    }

    #[test]
    fn block_scalar_lines_map_to_their_file_lines() {
        let (_d, ci) = load_tree(&[
            (
                ".gitlab-ci.yml",
                "include: ci/x.yml\nbuild:\n  script:\n    - |\n      npm ci\n      npm run build\n    - \"echo 'quoted'\"\n",
            ),
            (
                "ci/x.yml",
                "\n\ntest:\n  script:\n    - >-\n      npm\n      test\n    - |\n      echo one\n      npm run test:e2e || true\n",
            ),
        ]);
        let b = job(&ci, "build");
        assert_eq!(b.steps[0].commands.len(), 2);
        assert_eq!(b.steps[0].commands[1].loc.line, 6);
        assert_eq!(b.steps[0].commands[1].argv, vec!["npm", "run", "build"]);
        assert_eq!(b.steps[1].commands[0].loc.line, 7);
        assert_eq!(b.steps[1].commands[0].loc.col, 8);
        let t = job(&ci, "test");
        assert_eq!(t.path, "ci/x.yml");
        assert_eq!(t.loc.line, 3);
        let last = &t.steps[1].commands[1];
        assert_eq!((last.loc.file.as_str(), last.loc.line), ("ci/x.yml", 10));
        assert!(last.neutralised);
    }
}
