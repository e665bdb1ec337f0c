//! The configuration tree: YAML nodes that remember the file they come from, GitLab's deep
//! merge, the conversion of parsed YAML (with its `!reference` tags) into that tree, and the
//! readers of keys every part of a job uses (`rules:` flattened, `allow_failure:`,
//! `variables:`).

use super::{MAX_REFERENCE_DEPTH, MAX_TREE_DEPTH};
use crate::load::ytree::{YNode, YValue};
use crate::location::LineIndex;
use std::collections::HashMap;

/// A YAML node that remembers its file (an index into the files read), so that merged and
/// extended configurations still point into the right file.
#[derive(Debug, Clone)]
pub(super) struct N {
    pub(super) v: V,
    pub(super) file: usize,
    pub(super) line: u32,
    pub(super) col: u32,
}

#[derive(Debug, Clone)]
pub(super) enum V {
    Null,
    Bool(bool),
    Str(String),
    /// A number, as text.
    Num(String),
    Seq(Vec<N>),
    Map(Vec<(N, N)>),
    /// A `!reference [job, key, ...]` sequence, not yet resolved.
    Ref(Vec<N>),
}

impl N {
    pub(super) fn null_at(other: &N) -> N {
        N {
            v: V::Null,
            file: other.file,
            line: other.line,
            col: other.col,
        }
    }

    pub(super) fn empty_map(file: usize) -> N {
        N {
            v: V::Map(Vec::new()),
            file,
            line: 1,
            col: 1,
        }
    }

    pub(super) fn as_str(&self) -> Option<String> {
        match &self.v {
            V::Str(s) | V::Num(s) => Some(s.clone()),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub(super) fn entries(&self) -> &[(N, N)] {
        match &self.v {
            V::Map(m) => m,
            _ => &[],
        }
    }

    pub(super) fn items(&self) -> &[N] {
        match &self.v {
            V::Seq(s) => s,
            _ => &[],
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&N> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value of `key` unless it is absent or null.
    pub(super) fn get_set(&self, key: &str) -> Option<&N> {
        self.get(key).filter(|n| !n.is_null())
    }

    pub(super) fn str_of(&self, key: &str) -> Option<String> {
        self.get(key).and_then(N::as_str)
    }

    pub(super) fn is_null(&self) -> bool {
        matches!(self.v, V::Null)
    }

    pub(super) fn is_map(&self) -> bool {
        matches!(self.v, V::Map(_))
    }

    /// A string, or each string of a sequence.
    pub(super) fn strings(&self) -> Vec<String> {
        match &self.v {
            V::Seq(items) => items.iter().filter_map(N::as_str).collect(),
            _ => self.as_str().into_iter().collect(),
        }
    }

    /// Number of nodes in the tree.
    pub(super) fn size(&self) -> usize {
        1 + match &self.v {
            V::Seq(items) | V::Ref(items) => items.iter().map(N::size).sum(),
            V::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    /// The same mapping without `key`.
    pub(super) fn without(mut self, key: &str) -> N {
        if let V::Map(entries) = &mut self.v {
            entries.retain(|(k, _)| k.as_str().as_deref() != Some(key));
        }
        self
    }
}

/// GitLab's merge: mappings merge key by key (recursively), any other value of `over`
/// replaces `base`.
pub(super) fn deep_merge(base: N, over: N) -> N {
    match (base.v, over.v) {
        (V::Map(mut merged), V::Map(entries)) => {
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
                            let placeholder = (N::null_at(&k), N::null_at(&v));
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
            N {
                v: V::Map(merged),
                file: over.file,
                line: over.line,
                col: over.col,
            }
        }
        (_, v) => N {
            v,
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
    pub(super) root: N,
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

/// Converts a parsed node, marking `!reference` sequences.
pub(super) fn convert(y: &YNode, file: usize, src: &SrcFile, depth: usize) -> N {
    let v = if depth > MAX_TREE_DEPTH {
        V::Null
    } else {
        match &y.value {
            YValue::Null => V::Null,
            YValue::Bool(b) => V::Bool(*b),
            YValue::Int(i) => V::Num(i.to_string()),
            YValue::Float(f) => V::Num(f.to_string()),
            YValue::Str(s) => V::Str(s.clone()),
            YValue::Seq(items) => {
                let items = items
                    .iter()
                    .map(|i| convert(i, file, src, depth + 1))
                    .collect();
                if is_reference_tag(src.line(y.line), y.col) {
                    V::Ref(items)
                } else {
                    V::Seq(items)
                }
            }
            YValue::Map(entries) => V::Map(
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
        }
    };
    N {
        v,
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
pub(super) fn flatten_rules(rules: &N) -> Vec<&N> {
    fn walk<'n>(n: &'n N, out: &mut Vec<&'n N>, depth: usize) {
        for item in n.items() {
            match &item.v {
                V::Seq(_) if depth < MAX_REFERENCE_DEPTH => walk(item, out, depth + 1),
                _ => out.push(item),
            }
        }
    }
    let mut out = Vec::new();
    walk(rules, &mut out, 0);
    out
}

/// `allow_failure:` as written: `true` or an `exit_codes` mapping → true.
pub(super) fn allow_failure_of(n: &N) -> Option<bool> {
    match &n.get("allow_failure")?.v {
        V::Bool(b) => Some(*b),
        V::Str(s) if s == "true" => Some(true),
        V::Str(s) if s == "false" => Some(false),
        V::Map(_) => Some(true),
        _ => None,
    }
}

/// `variables:` entries as written (`NAME: value` or `NAME: {value: ...}`).
pub(super) fn variables(n: &N) -> Vec<(String, String)> {
    n.entries()
        .iter()
        .filter_map(|(k, v)| {
            let value = match &v.v {
                V::Map(_) => v.str_of("value")?,
                _ => v.as_str()?,
            };
            Some((k.as_str()?, value))
        })
        .collect()
}
