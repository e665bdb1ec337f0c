//! The JSON Schema of the configuration file, for editors: every loaded rule with its
//! options, and the catalog's definition lists with their defaults.

use super::REPLACE;
use crate::policy::PolicySet;

/// A JSON Schema (draft 2020-12) of the configuration file, for editors.
pub fn json_schema(set: &PolicySet) -> serde_json::Value {
    let mut rules = serde_json::Map::new();
    for p in &set.policies {
        let mut options = serde_json::Map::new();
        for (name, spec) in &p.options {
            let mut ty = spec.kind.json_schema();
            if let Some(o) = ty.as_object_mut() {
                o.insert(
                    "description".into(),
                    serde_json::Value::String(spec.doc.trim().to_string()),
                );
                o.insert("default".into(), spec.default.clone());
            }
            options.insert(name.clone(), ty);
        }
        rules.insert(
            p.meta.id.clone(),
            serde_json::json!({
                "description": p.meta.title,
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "enabled": {"type": "boolean"},
                    "severity": {"enum": ["error", "warning", "note"]},
                    "locked": {"type": "boolean", "description": "In an organisation config: configs that extend this one may raise the severity but not disable the rule, lower its severity or change its options."},
                    "options": {"type": "object", "additionalProperties": false, "properties": options}
                }
            }),
        );
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "shipshape configuration",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "rules": {"type": "object", "additionalProperties": false, "properties": rules},
            "exclude": {"type": "array", "items": {"type": "string"}, "description": "Path globs (relative to the root) whose findings are dropped."},
            "policies": {"type": "array", "items": {"type": "string"}, "description": "Extra policy directories, relative to this file."},
            "extends": {"type": "string", "description": "An organisation config this one builds on, relative to this file."},
            "environments": {
                "type": "object",
                "additionalProperties": false,
                "description": "The names that make a deploy job a staging or production deploy, matched as words in environment, job and workflow names; each list replaces its default.",
                "properties": {
                    "staging": {"type": "array", "minItems": 1, "items": {"type": "string"}, "default": crate::facts::ci::STAGING},
                    "production": {"type": "array", "minItems": 1, "items": {"type": "string"}, "default": crate::facts::ci::PRODUCTION}
                }
            },
            "definitions": definitions_schema()
        }
    })
}

/// The schema of `definitions:`: each list with its default, and `replace`.
fn definitions_schema() -> serde_json::Value {
    let defaults = serde_json::to_value(crate::definitions::Definitions::default())
        .unwrap_or(serde_json::Value::Null);
    let mut props = serde_json::Map::new();
    for (key, kind, doc) in crate::definitions::LISTS {
        let mut items = serde_json::json!({"type": "string", "minLength": 1});
        if *kind == crate::definitions::ListKind::Paths {
            items["pattern"] = serde_json::json!("^/\\S*$");
        }
        props.insert(
            (*key).to_string(),
            serde_json::json!({
                "type": "array",
                "items": items,
                "description": format!("{doc} Extends the default unless `replace` names it."),
                "default": defaults.get(*key).cloned().unwrap_or(serde_json::Value::Null),
            }),
        );
    }
    let names: Vec<&str> = crate::definitions::LISTS
        .iter()
        .map(|(k, _, _)| *k)
        .collect();
    props.insert(
        REPLACE.to_string(),
        serde_json::json!({
            "type": "array",
            "items": {"enum": names},
            "description": "Lists that replace their default instead of extending it.",
        }),
    );
    serde_json::json!({
        "type": "object",
        "additionalProperties": false,
        "description": "The rule catalog's vocabularies (migration and backup commands, health paths, database packages, ...). Each list extends its default; the lists named in `replace` replace it.",
        "properties": props,
    })
}
