//! A generic YAML tree with a position on every node, keys included: what the CI and Compose
//! loaders read, since their findings point at keys (`on:`, `push:`, job keys, `tags:`).
//! Built on `serde-saphyr` (anchors, aliases and `<<` merges resolved; budgets against alias
//! bombs), with local tags such as GitLab's `!reference` kept on the node. A node also
//! carries the index of the file it comes from, for loaders that merge several files
//! (GitLab's includes); single-file loaders leave it 0.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

use crate::load::yaml::{self, YamlFailure};
use crate::location::Location;

/// One node: a value and where it is written (for a merged or aliased node, where it is
/// used).
#[derive(Debug, Clone, PartialEq)]
pub struct YNode {
    /// The value.
    pub value: YValue,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Index of the file the node is read from, among the files a loader merges (GitLab's
    /// includes); 0 for a loader that reads one file.
    pub file: usize,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum YValue {
    /// `null`, `~` or empty.
    Null,
    /// A boolean (`true`/`false` only: strict booleans).
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<YNode>),
    /// A mapping, in document order, keys with their own positions.
    Map(Vec<(YNode, YNode)>),
    /// GitLab's `!reference [job, key, ...]` sequence, not yet resolved. The parser never
    /// gives one: the GitLab loader marks its tagged sequences.
    Ref(Vec<YNode>),
}

impl YNode {
    /// The node's location in `file`.
    pub fn loc(&self, file: &str) -> Location {
        Location::point(file, self.line, self.col)
    }

    /// The string value, for strings and scalars written as numbers or booleans.
    pub fn as_str(&self) -> Option<String> {
        match &self.value {
            YValue::Str(s) => Some(s.clone()),
            YValue::Int(i) => Some(i.to_string()),
            YValue::Float(f) => Some(f.to_string()),
            YValue::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Whether the node is null.
    pub fn is_null(&self) -> bool {
        matches!(self.value, YValue::Null)
    }

    /// The mapping entries, or none.
    pub fn entries(&self) -> &[(YNode, YNode)] {
        match &self.value {
            YValue::Map(m) => m,
            _ => &[],
        }
    }

    /// The sequence items, or none.
    pub fn items(&self) -> &[YNode] {
        match &self.value {
            YValue::Seq(s) => s,
            _ => &[],
        }
    }

    /// The entry of a mapping by key: `(key node, value node)`.
    pub fn entry(&self, key: &str) -> Option<(&YNode, &YNode)> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str().as_deref() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The value of a mapping entry by key.
    pub fn get(&self, key: &str) -> Option<&YNode> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The local tag written just before this node (`!reference` for GitLab's
    /// `!reference [job, key]`), read back from the source text since the parser resolves
    /// tags away.
    pub fn tag(&self, text: &str) -> Option<String> {
        let line = text.lines().nth(self.line.checked_sub(1)? as usize)?;
        let before: String = line
            .chars()
            .take(self.col.saturating_sub(1) as usize)
            .collect();
        let word = before
            .trim_end()
            .rsplit([' ', '\t', '-', ':', '[', ','])
            .next()?;
        word.starts_with('!').then(|| word.to_string())
    }

    /// A mapping of scalars as strings (`env:`, `scripts`, `dependencies`); empty for other
    /// nodes.
    pub fn string_map(&self) -> std::collections::BTreeMap<String, String> {
        self.entries()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v.as_str().unwrap_or_default())))
            .collect()
    }

    /// A string, or each string of a sequence of strings.
    pub fn strings(&self) -> Vec<String> {
        match &self.value {
            YValue::Seq(items) => items.iter().filter_map(YNode::as_str).collect(),
            _ => self.as_str().into_iter().collect(),
        }
    }
}

/// Parses every document of `text` into trees.
pub fn parse(rel: &str, text: &str) -> Result<Vec<YNode>, YamlFailure> {
    yaml::parse_documents::<YNode>(rel, text)
}

impl<'de> Deserialize<'de> for YNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<YValue>::deserialize(d)?;
        Ok(YNode {
            value: s.value,
            line: u32::try_from(s.referenced.line()).unwrap_or(1).max(1),
            col: u32::try_from(s.referenced.column()).unwrap_or(1).max(1),
            file: 0,
        })
    }
}

impl<'de> Deserialize<'de> for YValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = YValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<YValue, E> {
        Ok(YValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<YValue, E> {
        Ok(YValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<YValue, D::Error> {
        YValue::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<YValue, E> {
        Ok(YValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<YValue, E> {
        Ok(YValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<YValue, E> {
        Ok(i64::try_from(v).map_or(YValue::Float(v as f64), YValue::Int))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<YValue, E> {
        Ok(i64::try_from(v).map_or(YValue::Float(v as f64), YValue::Int))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<YValue, E> {
        Ok(i64::try_from(v).map_or(YValue::Float(v as f64), YValue::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<YValue, E> {
        Ok(YValue::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<YValue, E> {
        Ok(YValue::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<YValue, E> {
        Ok(YValue::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<YValue, E> {
        Ok(YValue::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<YValue, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element::<YNode>()? {
            out.push(item);
        }
        Ok(YValue::Seq(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<YValue, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<YNode>()? {
            let v = map.next_value::<YNode>()?;
            out.push((k, v));
        }
        Ok(YValue::Map(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_have_positions_and_merges_apply() {
        let text = "on:\n  push:\n    branches: [main]\nbase: &b\n  a: 1\njob:\n  <<: *b\n  script:\n    - |\n      npm ci\n      npm test\n";
        let docs = parse("x.yml", text).expect("parses");
        let root = &docs[0];
        let (k, v) = root.entry("on").expect("on");
        assert_eq!((k.line, k.col), (1, 1));
        let (pk, _) = v.entry("push").expect("push");
        assert_eq!((pk.line, pk.col), (2, 3));
        let job = root.get("job").expect("job");
        assert_eq!(job.get("a").and_then(YNode::as_str).as_deref(), Some("1"));
        let script = job.get("script").expect("script");
        assert_eq!(
            script.items()[0].line,
            10,
            "block scalar starts at its first content line"
        );
        let text = "a:\n  script: [x]\nb:\n  script:\n    - !reference [a, script]\n    - echo\n";
        let docs = parse("x.yml", text).expect("parses");
        let items = docs[0]
            .get("b")
            .and_then(|b| b.get("script"))
            .expect("script")
            .items()
            .to_vec();
        assert_eq!(items[0].tag(text).as_deref(), Some("!reference"));
        assert_eq!(items[0].strings(), vec!["a", "script"]);
        assert_eq!(items[1].tag(text), None);
    }
}
