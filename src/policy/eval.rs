//! Evaluating policies: the per-repository CEL context (functions, `repo`, `definitions`),
//! `shipshape model --query` expressions, and a policy's findings (`each`, `let`,
//! `violations` or `require`, messages rendered from their templates), with the locations
//! of the nodes the policy returns.

use std::collections::BTreeMap;
use std::sync::Arc;

use cel::common::types::{CelList, CelNull};
use cel::common::value::Val;
use cel::objects::Key;
use cel::{Context, Value};
use miette::NamedSource;

use super::compile::expression_offset;
use super::{
    Body, EvalError, Part, Policy, PolicySet, QueryError, RawFinding, Template, fields, functions,
    val,
};
use crate::location::Location;

impl PolicySet {
    /// An evaluation context for one repository: the custom functions, `repo`, the model
    /// as built once by [`val::from_model`] (sharing it is a reference-count increment), and
    /// `definitions`, the catalog's vocabularies in effect (a map of lists of strings).
    pub fn context(
        &self,
        repo: &(dyn Val + 'static),
        definitions: &crate::definitions::Definitions,
    ) -> Result<Context<'static, 'static>, String> {
        let mut ctx = Context::with_env(self.env.clone());
        functions::register(&mut ctx).map_err(|e| e.to_string())?;
        ctx.add_variable_as_val("repo", repo.clone_as_boxed());
        let defs = serde_json::to_value(definitions).map_err(|e| e.to_string())?;
        ctx.add_variable_from_value(
            "definitions",
            cel::to_value(defs).map_err(|e| e.to_string())?,
        );
        Ok(ctx)
    }

    /// Evaluates a CEL expression over a repository's model (`repo`), in the environment and
    /// with the functions policies use, and returns its value as JSON.
    pub fn query(
        &self,
        src: &str,
        repo: &(dyn Val + 'static),
        definitions: &crate::definitions::Definitions,
    ) -> Result<serde_json::Value, Box<QueryError>> {
        let error = |message: String, offset: usize, len: usize, label: &str| {
            Box::new(QueryError {
                message,
                src: NamedSource::new("--query", src.to_string()),
                span: (
                    offset.min(src.len()),
                    len.min(src.len() - offset.min(src.len())),
                )
                    .into(),
                label: label.to_string(),
            })
        };
        let whole = |message: String| error(message, 0, src.len(), "in this expression");
        let program = self.env.compile(src).map_err(|errs| {
            let first = errs.errors.first();
            let msg = first.map_or_else(|| errs.to_string(), |e| e.msg.clone());
            let (line, col) = first.map_or((1, 0), |e| (e.pos.0.max(1), e.pos.1.max(0)));
            // An error at the end points at the last character.
            let offset = expression_offset(src, line as usize, col as usize)
                .min(src.len().saturating_sub(1));
            error(
                format!("the expression does not compile: {msg}"),
                offset,
                1,
                &msg,
            )
        })?;
        let known = fields::Known::default();
        if let Some(u) = fields::check(program.expression(), program.source_info(), src, &known) {
            let label = u.suggestion.as_ref().map_or_else(
                || "not a model field".to_string(),
                |s| format!("did you mean `{s}`?"),
            );
            return Err(error(
                format!("the expression does not compile: {}", u.message()),
                u.offset,
                u.name.len(),
                &label,
            ));
        }
        let ctx = self.context(repo, definitions).map_err(whole)?;
        let v = eval(&program, &ctx).map_err(|e| whole(format!("the expression fails: {e}")))?;
        to_json(&v).ok_or_else(|| whole("the expression's value has no JSON form".to_string()))
    }

    /// Evaluates `policy` in a repository's context (see [`PolicySet::context`]), with
    /// `fallback` as the missing-evidence location and `overrides` replacing option defaults.
    pub fn evaluate(
        &self,
        policy: &Policy,
        base: &Context<'_, '_>,
        root: &str,
        fallback: &Location,
        overrides: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Vec<RawFinding>, EvalError> {
        let fail = |message: String| EvalError {
            policy: policy.meta.id.clone(),
            path: policy.path.clone(),
            root: root.to_string(),
            message,
        };
        let mut opts = serde_json::Map::new();
        for (name, spec) in &policy.options {
            let v = overrides
                .get(name)
                .cloned()
                .unwrap_or_else(|| spec.default.clone());
            opts.insert(name.clone(), v);
        }
        let opts =
            cel::to_value(serde_json::Value::Object(opts)).map_err(|e| fail(e.to_string()))?;
        let mut ctx = base.new_inner_scope();
        ctx.add_variable_from_value("options", opts);
        let mut out = Vec::new();
        let id = &policy.meta.id;
        // Values are resolved without leaving the interpreter where possible: converting
        // model structs to `Value` and back copies them deeply.
        let each_val = match &policy.each {
            Some(each) => Some(
                Value::resolve_val(each.program.expression(), &ctx)
                    .map_err(|e| fail(e.to_string()))?
                    .into_owned(),
            ),
            None => None,
        };
        let subjects: Vec<Option<Box<dyn Val>>> = match &each_val {
            Some(v) => {
                if let Some(list) = v.downcast_ref::<CelList>() {
                    list.inner()
                        .iter()
                        .map(|i| Some(i.clone_as_boxed()))
                        .collect()
                } else if v.downcast_ref::<CelNull>().is_some() {
                    Vec::new()
                } else {
                    return Err(fail(format!(
                        "`each` must give a list, got {}",
                        v.get_type().name()
                    )));
                }
            }
            None => vec![None],
        };
        if subjects.is_empty() {
            if let Some(missing) = &policy.missing {
                let message = render(missing, &ctx).map_err(fail)?;
                out.push(RawFinding {
                    rule: id.clone(),
                    message,
                    location: fallback.clone(),
                });
            }
            return Ok(out);
        }
        for subject in subjects {
            let mut scope = ctx.new_inner_scope();
            if let Some(s) = subject {
                scope.add_variable_as_val("it", s);
            }
            for (name, expr) in &policy.lets {
                let v = Value::resolve_val(expr.program.expression(), &scope)
                    .map_err(|e| fail(format!("let {name}: {e}")))?
                    .into_owned();
                scope.add_variable_as_val(name.clone(), v);
            }
            match &policy.body {
                Body::Violations(expr) => {
                    let v = eval(&expr.program, &scope).map_err(|e| fail(e.to_string()))?;
                    let items = match v {
                        Value::List(items) => items.iter().cloned().collect::<Vec<_>>(),
                        Value::Null => Vec::new(),
                        other => vec![other],
                    };
                    for item in items {
                        let location = node_location(&item).unwrap_or_else(|| fallback.clone());
                        let explicit = map_get(&item, "message").and_then(|m| match m {
                            Value::String(s) => Some(s.to_string()),
                            _ => None,
                        });
                        let message = match explicit {
                            Some(m) => m,
                            None => {
                                let mut vs = scope.new_inner_scope();
                                vs.add_variable_from_value("v", item.clone());
                                render(&policy.message, &vs).map_err(fail)?
                            }
                        };
                        out.push(RawFinding {
                            rule: id.clone(),
                            message,
                            location,
                        });
                    }
                }
                Body::Require { cond, at } => {
                    let ok = eval(&cond.program, &scope).map_err(|e| fail(e.to_string()))?;
                    match ok {
                        Value::Bool(true) => {}
                        Value::Bool(false) => {
                            let location = match at {
                                Some(at) => {
                                    let node = eval(&at.program, &scope)
                                        .map_err(|e| fail(e.to_string()))?;
                                    node_location(&node).unwrap_or_else(|| fallback.clone())
                                }
                                None => fallback.clone(),
                            };
                            let message = render(&policy.message, &scope).map_err(fail)?;
                            out.push(RawFinding {
                                rule: id.clone(),
                                message,
                                location,
                            });
                        }
                        other => {
                            return Err(fail(format!(
                                "`require` must give a bool, got {:?}",
                                other.type_of()
                            )));
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

/// Evaluates `program` to a `cel::Value`, model objects included (see [`val::to_value`]).
fn eval(program: &cel::Program, ctx: &Context) -> Result<Value, cel::ExecutionError> {
    let v = Value::resolve_val(program.expression(), ctx)?;
    val::to_value(v.as_ref())
}

fn render(t: &Template, ctx: &Context) -> Result<String, String> {
    let mut out = String::new();
    for p in &t.parts {
        match p {
            Part::Text(s) => out.push_str(s),
            Part::Expr(e) => {
                let v = eval(&e.program, ctx).map_err(|e| e.to_string())?;
                out.push_str(&display_value(&v));
            }
        }
    }
    Ok(out.trim().to_string())
}

/// A field of a map or model struct value.
fn map_get(v: &Value, key: &str) -> Option<Value> {
    match v {
        Value::Map(m) => m.map.get(&Key::String(Arc::new(key.to_string()))).cloned(),
        Value::Struct(st) => st.field_value(key).and_then(|f| Value::try_from(f).ok()),
        _ => None,
    }
}

/// A value as JSON (model structs included), for messages and locations.
fn to_json(v: &Value) -> Option<serde_json::Value> {
    match v {
        Value::Struct(st) => Some(serde_json::Value::Object(
            st.field_values()
                .iter()
                .filter_map(|(k, f)| {
                    Some((k.clone(), to_json(&Value::try_from(f.as_ref()).ok()?)?))
                })
                .collect(),
        )),
        Value::List(items) => Some(serde_json::Value::Array(
            items.iter().filter_map(to_json).collect(),
        )),
        Value::Map(m) => Some(serde_json::Value::Object(
            m.map
                .iter()
                .filter_map(|(k, x)| {
                    let k = match k {
                        Key::String(s) => s.to_string(),
                        Key::Int(i) => i.to_string(),
                        Key::Uint(u) => u.to_string(),
                        Key::Bool(b) => b.to_string(),
                    };
                    Some((k, to_json(x)?))
                })
                .collect(),
        )),
        other => other.json().ok(),
    }
}

/// How a CEL value reads inside a message.
fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::List(items) => items
            .iter()
            .map(display_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => to_json(other).map(|j| j.to_string()).unwrap_or_default(),
    }
}

/// The location of a node returned by a policy: the node's `loc`, an `{at: node}` wrapper's
/// node, or a location itself. `None` (null, or no location) means missing evidence.
pub fn node_location(v: &Value) -> Option<Location> {
    if let Some(loc) = map_get(v, "loc") {
        return node_location(&loc);
    }
    if let Some(at) = map_get(v, "at") {
        return node_location(&at);
    }
    if map_get(v, "file").is_some() && map_get(v, "line").is_some() {
        return serde_json::from_value(to_json(v)?).ok();
    }
    None
}
