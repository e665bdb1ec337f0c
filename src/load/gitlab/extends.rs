//! `extends:` and `!reference` expansion over the merged configuration (depth-limited and
//! budgeted), and `default:`/legacy global keys applied to jobs as `inherit:` allows.

use super::tree::deep_merge;
use super::{
    DEFAULT_KEYS, LEGACY_GLOBALS, MAX_EXTENDS_DEPTH, MAX_REFERENCE_DEPTH, MAX_TREE_DEPTH, RESERVED,
};
use crate::load::ytree::{YNode, YValue};
use std::collections::HashMap;

/// A position in the configuration: file index, line, column.
type At = (usize, u32, u32);

/// Expands `extends:` and `!reference` over the merged configuration, within a budget.
pub(super) struct Resolver<'a> {
    pub(super) config: &'a HashMap<String, YNode>,
    pub(super) extended: HashMap<String, YNode>,
    pub(super) budget: usize,
    /// `extends` cycles met: the `extends:` node that closes one (its file index, line and
    /// column), the key that has it, and the parent it names.
    pub(super) cycles: Vec<(usize, u32, u32, String, String)>,
    /// The values being expanded by [`Resolver::refs`], outermost first: the key path of
    /// the value (`[job, script]`) and the `!reference` that led to it (file index, line,
    /// column; none for the job itself). A reference to a path that contains one of them
    /// (is a prefix of it) is a cycle.
    pub(super) expanding: Vec<(Vec<String>, Option<At>)>,
    /// `!reference` cycles met: the references of the cycle (sorted, to report each cycle
    /// once), the one that closes it, and the path it names.
    pub(super) ref_cycles: Vec<(Vec<At>, At, String)>,
}

impl Resolver<'_> {
    /// Takes `n` out of the budget; false when the budget is spent.
    fn charge(&mut self, n: &YNode) -> bool {
        let size = n.size();
        if size > self.budget {
            self.budget = 0;
            return false;
        }
        self.budget -= size;
        true
    }

    /// Makes sure the `extends`-expanded value of top-level key `name` is cached.
    fn ensure_extended(&mut self, name: &str, depth: usize, visiting: &mut Vec<String>) -> bool {
        if self.extended.contains_key(name) {
            return true;
        }
        let Some(node) = self.config.get(name) else {
            return false;
        };
        if visiting.iter().any(|v| v == name) || depth > MAX_EXTENDS_DEPTH {
            return false;
        }
        let node = node.clone();
        let parents = if RESERVED.contains(&name) {
            Vec::new()
        } else {
            node.get("extends").map(YNode::strings).unwrap_or_default()
        };
        if parents.is_empty() || !node.is_map() {
            self.extended.insert(name.to_string(), node);
            return true;
        }
        visiting.push(name.to_string());
        let mut acc: Option<YNode> = None;
        for p in parents {
            if visiting.contains(&p) {
                // `.a → .b → .a`, `self → self`: the cycle is closed here.
                if let Some(at) = node.get("extends") {
                    self.cycles
                        .push((at.file, at.line, at.col, name.to_string(), p.clone()));
                }
                continue;
            }
            if !self.ensure_extended(&p, depth + 1, visiting) {
                continue;
            }
            let Some(parent) = self.extended.get(&p) else {
                continue;
            };
            if !parent.is_map() {
                continue;
            }
            let parent = parent.clone();
            if !self.charge(&parent) {
                break;
            }
            acc = Some(match acc {
                None => parent,
                Some(a) => deep_merge(a, parent),
            });
        }
        visiting.pop();
        let own = node.without("extends");
        let result = match acc {
            Some(a) => deep_merge(a, own),
            None => own,
        };
        self.extended.insert(name.to_string(), result);
        true
    }

    /// The `extends`-expanded value of top-level key `name`, `!reference`s resolved.
    pub(super) fn resolved(&mut self, name: &str) -> Option<YNode> {
        if !self.ensure_extended(name, 0, &mut Vec::new()) {
            return None;
        }
        let node = self.extended.get(name)?.clone();
        self.expanding.push((vec![name.to_string()], None));
        let out = self.refs(node, 0, 0);
        self.expanding.pop();
        Some(out)
    }

    /// Replaces `!reference` tags in `n`.
    fn refs(&mut self, n: YNode, ref_depth: usize, tree_depth: usize) -> YNode {
        if tree_depth > MAX_TREE_DEPTH {
            return YNode::null_at(&n);
        }
        let YNode {
            value: v,
            file,
            line,
            col,
        } = n;
        let v = match v {
            YValue::Ref(path) => {
                let at = YNode {
                    value: YValue::Null,
                    file,
                    line,
                    col,
                };
                let names: Vec<String> = path.iter().filter_map(YNode::as_str).collect();
                let here = (file, line, col);
                if let Some(i) = self
                    .expanding
                    .iter()
                    .position(|(p, _)| !names.is_empty() && p.starts_with(&names))
                {
                    // The reference names a value that contains it: a cycle.
                    let mut members: Vec<At> = self.expanding[i + 1..]
                        .iter()
                        .filter_map(|(_, r)| *r)
                        .chain([here])
                        .collect();
                    members.sort_unstable();
                    if !self.ref_cycles.iter().any(|(m, _, _)| *m == members) {
                        self.ref_cycles.push((members, here, names.join(", ")));
                    }
                    return at;
                }
                let Some(target) = self.deref(&path, ref_depth) else {
                    return at;
                };
                self.expanding.push((names, Some(here)));
                let out = self.refs(target, ref_depth + 1, tree_depth);
                self.expanding.pop();
                return out;
            }
            YValue::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let spliced = matches!(item.value, YValue::Ref(_));
                    let r = self.refs(item, ref_depth, tree_depth + 1);
                    match r.value {
                        YValue::Seq(inner) if spliced => out.extend(inner),
                        YValue::Null if spliced => {}
                        _ => out.push(r),
                    }
                }
                YValue::Seq(out)
            }
            YValue::Map(entries) => YValue::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key = k.as_str().unwrap_or_default();
                        if let Some((p, _)) = self.expanding.last_mut() {
                            p.push(key);
                        }
                        let v = self.refs(v, ref_depth, tree_depth + 1);
                        if let Some((p, _)) = self.expanding.last_mut() {
                            p.pop();
                        }
                        (k, v)
                    })
                    .collect(),
            ),
            other => other,
        };
        YNode {
            value: v,
            file,
            line,
            col,
        }
    }

    /// The value a `!reference [job, key, ...]` names, after that job's `extends`.
    fn deref(&mut self, path: &[YNode], ref_depth: usize) -> Option<YNode> {
        if ref_depth >= MAX_REFERENCE_DEPTH {
            return None;
        }
        let names: Vec<String> = path.iter().filter_map(YNode::as_str).collect();
        let (first, keys) = names.split_first()?;
        if !self.ensure_extended(first, 0, &mut Vec::new()) {
            return None;
        }
        let mut cur = self.extended.get(first)?;
        for key in keys {
            cur = cur.get(key)?;
        }
        let found = cur.clone();
        self.charge(&found).then_some(found)
    }
}

/// Gives a job the `default:` (and legacy global) keys it lacks, as `inherit:` allows.
pub(super) fn apply_defaults(
    job: YNode,
    default: Option<&YNode>,
    globals: &HashMap<String, YNode>,
) -> YNode {
    let allowed: Option<Vec<String>> = match job.get("inherit").and_then(|i| i.get("default")) {
        Some(YNode {
            value: YValue::Bool(false),
            ..
        }) => return job,
        Some(
            n @ YNode {
                value: YValue::Seq(_),
                ..
            },
        ) => Some(n.strings()),
        _ => None,
    };
    let mut extra = Vec::new();
    for key in DEFAULT_KEYS {
        if job.get(key).is_some()
            || allowed
                .as_ref()
                .is_some_and(|a| !a.iter().any(|k| k == key))
        {
            continue;
        }
        let from_default = default.and_then(|d| {
            d.entries()
                .iter()
                .find(|(k, _)| k.as_str().as_deref() == Some(key))
        });
        if let Some((k, v)) = from_default {
            extra.push((k.clone(), v.clone()));
        } else if LEGACY_GLOBALS.contains(key)
            && let Some(v) = globals.get(*key)
        {
            let k = YNode {
                value: YValue::Str((*key).to_string()),
                file: v.file,
                line: v.line,
                col: v.col,
            };
            extra.push((k, v.clone()));
        }
    }
    if extra.is_empty() {
        return job;
    }
    let YNode {
        value: v,
        file,
        line,
        col,
    } = job;
    let v = match v {
        YValue::Map(mut entries) => {
            entries.extend(extra);
            YValue::Map(entries)
        }
        other => other,
    };
    YNode {
        value: v,
        file,
        line,
        col,
    }
}

#[cfg(test)]
mod tests {

    use crate::load::gitlab::tests::{ci, ids, job, runs, sources};

    #[test]
    fn extends_merges_mappings_deeply_over_several_levels() {
        let ci = ci(r#"
.base:
  image: node:20
  variables: {A: "1", B: "2"}
  environment: {name: staging, url: https://x}
  script: [echo base, echo more]
.mid:
  extends: .base
  variables: {B: "3", C: "4"}
  stage: deploy
.other:
  script: [echo other]
job:
  extends: [.mid]
  variables: {C: "5"}
  environment: {url: https://y}
both:
  extends: [.mid, .other]
"#);
        let j = job(&ci, "job");
        assert_eq!(j.environment, "staging");
        assert_eq!(j.stage, "deploy");
        assert_eq!(runs(j), vec!["echo base", "echo more"]);
        let env = &j.steps[0].env;
        assert_eq!(
            (env["A"].as_str(), env["B"].as_str(), env["C"].as_str()),
            ("1", "3", "5")
        );
        assert_eq!(j.steps[0].loc.line, 6);
        assert_eq!(
            runs(job(&ci, "both")),
            vec!["echo other"],
            "later parent wins, arrays replaced"
        );
        assert_eq!(ids(&ci), vec!["job", "both"]);
    }

    #[test]
    fn references_are_replaced_and_spliced() {
        let ci = ci(r#"
.setup:
  script:
    - echo setup
    - echo two
.child:
  extends: .setup
.rules:
  rules:
    - if: $CI_COMMIT_TAG
job:
  rules:
    - !reference [.rules, rules]
  script:
    - !reference [.child, script]
    - echo mine
    - [nested, array]
single:
  script: !reference [.setup, script]
"#);
        let j = job(&ci, "job");
        assert_eq!(
            runs(j),
            vec!["echo setup", "echo two", "echo mine", "nested", "array"]
        );
        assert_eq!(j.steps[0].loc.line, 4);
        assert_eq!(j.steps[2].index, 2);
        assert_eq!(sources(j), vec!["tag"]);
        assert_eq!(runs(job(&ci, "single")), vec!["echo setup", "echo two"]);
    }

    #[test]
    fn defaults_and_legacy_globals_apply() {
        let ci = ci(r#"
default:
  before_script: [echo default]
image: node:20
after_script: [echo after]
a:
  script: [echo a]
b:
  inherit:
    default: false
  script: [echo b]
c:
  before_script: [echo own]
  script: [echo c]
"#);
        assert_eq!(runs(job(&ci, "a")), vec!["echo default", "echo a"]);
        assert_eq!(runs(job(&ci, "b")), vec!["echo b"]);
        assert_eq!(runs(job(&ci, "c")), vec!["echo own", "echo c"]);
    }
}
