//! The model's published description: its JSON Schema (`docs/model.schema.json`, `shipshape
//! schema model`), generated from the Rust types and their doc comments, the reference
//! `docs/model.md` generated from that schema, and the set of field names policies may select
//! (the compile-time check of policy expressions).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::model::MAP_FIELDS;

/// The hand-written part of `docs/model.md`, above the generated type sections.
const HEADER: &str = "# The repository model

Generated from the Rust types in `src/model/` (and the loader types they hold) and their
documentation; a test keeps it in sync with them (regenerate with `SHIPSHAPE_BLESS=1 cargo
test`). The same description as a JSON Schema is `docs/model.schema.json` (`shipshape schema
model`). `shipshape model PATH` prints the model of a root, and `shipshape model PATH --query
EXPR` evaluates an expression over it.

Policies see one variable, `repo`, built once per checked root: a [`Repo`](#repo). Every node a
finding can point at has a `loc` field, a [`Location`](#location) (1-based; columns in
characters; `file` relative to the root with forward slashes). Optional fields (marked
*optional*) are absent when unset (test them with `has(...)`), never `null`.

Objects whose keys are data (the fields named `scripts`, `dependencies`, `dev_dependencies`,
`dependency_locs`, `with`, `with_locs`, `env`, `matrix`, `labels`, `annotations` when they hold
an object) are CEL maps: use `k in m`, `m.exists(k, ...)`, `m[k]`, `m.NAME`. Every other object
is a struct: read fields with `.field` and `has(x.field)`. A policy that selects a field no model
type has does not compile.
";

/// The JSON Schema (draft 2020-12) of the model, [`crate::model::Repo`], as it is serialised:
/// fields the policy model leaves out are not in it, optional fields are not required.
pub fn json_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    generator
        .into_root_schema_for::<crate::model::Repo>()
        .to_value()
}

/// The schema's type definitions: the root as `Repo`, `Location` (every node has one), then
/// each `$defs` entry in the order a reader meets them from `repo` (depth first, so that a
/// type's parts follow it).
fn types(schema: &Value) -> Vec<(String, &Value)> {
    let defs = schema.get("$defs").and_then(Value::as_object);
    let mut out: Vec<(String, &Value)> = vec![("Repo".to_string(), schema)];
    let mut seen: BTreeSet<String> = BTreeSet::from(["Repo".to_string()]);
    if let Some(loc) = defs.and_then(|d| d.get("Location")) {
        seen.insert("Location".to_string());
        out.push(("Location".to_string(), loc));
    }
    visit(schema, defs, &mut seen, &mut out);
    // Definitions nothing reaches (none today) still get their section.
    for (name, def) in defs.into_iter().flatten() {
        if seen.insert(name.clone()) {
            out.push((name.clone(), def));
        }
    }
    out
}

/// Lists the types `t` refers to that are not listed yet, each followed by its own parts.
fn visit<'a>(
    t: &'a Value,
    defs: Option<&'a Map<String, Value>>,
    seen: &mut BTreeSet<String>,
    out: &mut Vec<(String, &'a Value)>,
) {
    let mut refs = Vec::new();
    collect_refs(t.get("properties").unwrap_or(&Value::Null), &mut refs);
    for r in refs {
        if let Some(def) = defs.and_then(|d| d.get(&r))
            && seen.insert(r.clone())
        {
            out.push((r, def));
            visit(def, defs, seen, out);
        }
    }
}

/// The `$defs` names a schema fragment refers to, in order.
fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str)
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                out.push(name.to_string());
            }
            for x in o.values() {
                collect_refs(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Every field name of every model type.
pub fn field_names() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let schema = json_schema();
        types(&schema)
            .into_iter()
            .flat_map(|(_, t)| {
                t.get("properties")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flat_map(|p| p.keys().cloned())
            })
            .collect()
    })
}

/// How a schema fragment reads in the reference: CEL type names, links to model types.
fn type_text(v: &Value, field: &str) -> String {
    let Some(o) = v.as_object() else {
        return "any".to_string();
    };
    if let Some(r) = o.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[`{name}`](#{})", name.to_ascii_lowercase());
    }
    // `Option<T>`: T or null; the field is optional either way.
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = o.get(key).and_then(Value::as_array) {
            let texts: Vec<String> = alts
                .iter()
                .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                .map(|a| type_text(a, field))
                .collect();
            return texts.join(" or ");
        }
    }
    let ty = match o.get("type") {
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => "any",
    };
    match ty {
        "string" => "string".to_string(),
        "boolean" => "bool".to_string(),
        "integer" => "int".to_string(),
        "number" => "double".to_string(),
        "array" => format!(
            "list of {}",
            o.get("items")
                .map_or("any".to_string(), |i| type_text(i, ""))
        ),
        "object" => {
            let values = o
                .get("additionalProperties")
                .map_or("any".to_string(), |i| type_text(i, ""));
            if MAP_FIELDS.contains(&field) {
                format!("map of string to {values}")
            } else {
                format!("object of {values}")
            }
        }
        other => other.to_string(),
    }
}

/// A doc comment as Markdown on one line: intra-doc links become code spans, `|` is escaped.
fn one_line(text: &str) -> String {
    let mut s = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // [`Stage::is_node`] → `Stage.is_node`
    while let Some(start) = s.find("[`") {
        let Some(len) = s[start..].find("`]") else {
            break;
        };
        let inner = s[start + 2..start + len].replace("::", ".");
        s.replace_range(start..start + len + 2, &format!("`{inner}`"));
    }
    s.replace('|', "\\|")
}

/// A doc comment as Markdown paragraphs (intra-doc links as code spans).
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(|p| one_line(p).replace("\\|", "|"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The generated reference, `docs/model.md`: the header, then one section per type with its
/// description and a table of its fields.
pub fn markdown() -> String {
    let schema = json_schema();
    let types = types(&schema);
    let mut out = String::from(HEADER);
    out.push_str("\n## Types\n\n");
    for (name, _) in &types {
        out.push_str(&format!("- [`{name}`](#{})\n", name.to_ascii_lowercase()));
    }
    for (name, t) in &types {
        out.push_str(&format!("\n## `{name}`\n\n"));
        if let Some(d) = t.get("description").and_then(Value::as_str) {
            out.push_str(&paragraphs(d));
            out.push_str("\n\n");
        }
        let empty = Map::new();
        let props = t
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: BTreeSet<&str> = t
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if props.is_empty() {
            continue;
        }
        out.push_str("| field | type | description |\n|---|---|---|\n");
        for (field, p) in props {
            let mut ty = type_text(p, field);
            if !required.contains(field.as_str()) {
                ty.push_str(", *optional*");
            }
            let desc = p
                .get("description")
                .and_then(Value::as_str)
                .map(one_line)
                .unwrap_or_default();
            out.push_str(&format!("| `{field}` | {ty} | {desc} |\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intra_doc_links_become_code_spans() {
        assert_eq!(
            one_line("see [`Stage::is_node`] and\n  [`Run`]: a | b"),
            "see `Stage.is_node` and `Run`: a \\| b"
        );
    }

    #[test]
    fn fields_left_out_of_the_policy_model_are_not_in_the_schema() {
        let s = json_schema();
        let job = &s["$defs"]["Job"]["properties"];
        assert!(job.get("needs").is_some());
        assert!(job.get("steps").is_none(), "Job.steps is serde(skip)");
        assert!(field_names().contains("is_final"));
    }
}
