//! The configuration tree over [`YNode`] (whose `file` index remembers the file a node
//! comes from): GitLab's deep merge, the marking of parsed YAML (its `!reference` tags, its
//! depth bound), and the readers of keys every part of a job uses (`rules:` flattened,
//! `allow_failure:`, `variables:`).

use super::{MAX_REFERENCE_DEPTH, MAX_TREE_DEPTH};
use crate::load::ytree::{YNode, YValue};
use crate::location::LineIndex;
use std::collections::HashMap;

/// GitLab's readers over [`YNode`], whose `file` index keeps merged and extended
/// configurations pointing into the right file.
impl YNode {
    pub(super) fn null_at(other: &YNode) -> YNode {
        YNode {
            value: YValue::Null,
            file: other.file,
            line: other.line,
            col: other.col,
        }
    }

    pub(super) fn empty_map(file: usize) -> YNode {
        YNode {
            value: YValue::Map(Vec::new()),
            file,
            line: 1,
            col: 1,
        }
    }

    /// The value of `key` unless it is absent or null.
    pub(super) fn get_set(&self, key: &str) -> Option<&YNode> {
        self.get(key).filter(|n| !n.is_null())
    }

    pub(super) fn str_of(&self, key: &str) -> Option<String> {
        self.get(key).and_then(YNode::as_str)
    }

    pub(super) fn is_map(&self) -> bool {
        matches!(self.value, YValue::Map(_))
    }

    /// Number of nodes in the tree.
    pub(super) fn size(&self) -> usize {
        1 + match &self.value {
            YValue::Seq(items) | YValue::Ref(items) => items.iter().map(YNode::size).sum(),
            YValue::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    /// The same mapping without `key`.
    pub(super) fn without(mut self, key: &str) -> YNode {
        if let YValue::Map(entries) = &mut self.value {
            entries.retain(|(k, _)| k.as_str().as_deref() != Some(key));
        }
        self
    }
}

/// GitLab's merge: mappings merge key by key (recursively), any other value of `over`
/// replaces `base`.
pub(super) fn deep_merge(base: YNode, over: YNode) -> YNode {
    match (base.value, over.value) {
        (YValue::Map(mut merged), YValue::Map(entries)) => {
            let mut index: HashMap<String, usize> = merged
                .iter()
                .enumerate()
                .filter_map(|(i, (k, _))| k.as_str().map(|s| (s, i)))
                .collect();
            for (k, v) in entries {
                let name = k.as_str();
                match name.as_ref().and_then(|s| index.get(s).copied()) {
                    Some(i) => {
                        if let Some(slot) = merged.get_mut(i) {
                            let placeholder = (YNode::null_at(&k), YNode::null_at(&v));
                            let (_, old) = std::mem::replace(slot, placeholder);
                            *slot = (k, deep_merge(old, v));
                        }
                    }
                    None => {
                        if let Some(s) = name {
                            index.insert(s, merged.len());
                        }
                        merged.push((k, v));
                    }
                }
            }
            YNode {
                value: YValue::Map(merged),
                file: over.file,
                line: over.line,
                col: over.col,
            }
        }
        (_, value) => YNode {
            value,
            file: over.file,
            line: over.line,
            col: over.col,
        },
    }
}

/// One file read: its text (for tags and quotes) and its configuration tree.
pub(super) struct SrcFile {
    pub(super) rel: String,
    pub(super) text: String,
    pub(super) index: LineIndex,
    pub(super) root: YNode,
}

impl SrcFile {
    /// The text of 1-based `line`, without its newline.
    pub(super) fn line(&self, line: u32) -> &str {
        let Some(start) = self.index.line_start(line) else {
            return "";
        };
        let rest = self.text.get(start..).unwrap_or("");
        rest.split('\n').next().unwrap_or("")
    }
}

/// A parsed node of file `file`, `!reference` sequences marked and anything nested deeper
/// than [`MAX_TREE_DEPTH`] read as null.
pub(super) fn convert(y: &YNode, file: usize, src: &SrcFile, depth: usize) -> YNode {
    let value = if depth > MAX_TREE_DEPTH {
        YValue::Null
    } else {
        match &y.value {
            YValue::Seq(items) | YValue::Ref(items) => {
                let items = items
                    .iter()
                    .map(|i| convert(i, file, src, depth + 1))
                    .collect();
                if is_reference_tag(src.line(y.line), y.col) {
                    YValue::Ref(items)
                } else {
                    YValue::Seq(items)
                }
            }
            YValue::Map(entries) => YValue::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            convert(k, file, src, depth + 1),
                            convert(v, file, src, depth + 1),
                        )
                    })
                    .collect(),
            ),
            scalar => scalar.clone(),
        }
    };
    YNode {
        value,
        file,
        line: y.line,
        col: y.col,
    }
}

/// Whether the word just before column `col` of the line is the tag `!reference` (the
/// parser resolves tags away; this reads it back as [`YNode::tag`] does).
fn is_reference_tag(line: &str, col: u32) -> bool {
    let before: String = line.chars().take(col.saturating_sub(1) as usize).collect();
    before
        .trim_end()
        .rsplit([' ', '\t', '-', ':', '[', ','])
        .next()
        == Some("!reference")
}
/// The rules of a `rules:` value, nested sequences flattened (as GitLab does).
pub(super) fn flatten_rules(rules: &YNode) -> Vec<&YNode> {
    fn walk<'n>(n: &'n YNode, out: &mut Vec<&'n YNode>, depth: usize) {
        for item in n.items() {
            match &item.value {
                YValue::Seq(_) if depth < MAX_REFERENCE_DEPTH => walk(item, out, depth + 1),
                _ => out.push(item),
            }
        }
    }
    let mut out = Vec::new();
    walk(rules, &mut out, 0);
    out
}

/// `allow_failure:` as written: `true` or an `exit_codes` mapping → true.
pub(super) fn allow_failure_of(n: &YNode) -> Option<bool> {
    match &n.get("allow_failure")?.value {
        YValue::Bool(b) => Some(*b),
        YValue::Str(s) if s == "true" => Some(true),
        YValue::Str(s) if s == "false" => Some(false),
        YValue::Map(_) => Some(true),
        _ => None,
    }
}

/// `variables:` entries as written (`NAME: value` or `NAME: {value: ...}`).
pub(super) fn variables(n: &YNode) -> Vec<(String, String)> {
    n.entries()
        .iter()
        .filter_map(|(k, v)| {
            let value = match &v.value {
                YValue::Map(_) => v.str_of("value")?,
                _ => v.as_str()?,
            };
            Some((k.as_str()?, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::load::gitlab::tests::{ci, job, runs};

    /// Scalars written as numbers or booleans read as the strings they always have been
    /// (what script lines, variables and environment names compare against).
    #[test]
    fn numbers_and_booleans_read_as_strings() {
        let ci = ci(r#"
variables:
  FLOAT: 1.0
  OCTAL: 010
  HEX: 0x1F
  BIG: 12345678901234567890
  EXP: 1e3
  NEG: -7
  YES: true
job:
  variables: {V: 2.50, W: {value: 3.0}}
  environment: 1.10
  script:
    - 42
    - 1.5
    - false
"#);
        let j = job(&ci, "job");
        assert_eq!(runs(j), vec!["42", "1.5", "false"]);
        let env: Vec<(&str, &str)> = j.steps[0]
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            env,
            vec![
                ("BIG", "12345678901234567000"),
                ("EXP", "1000"),
                ("FLOAT", "1"),
                ("HEX", "31"),
                ("NEG", "-7"),
                ("OCTAL", "10"),
                ("V", "2.5"),
                ("W", "3"),
                ("YES", "true"),
            ]
        );
        assert_eq!(j.environment, "1.1");
    }
}
