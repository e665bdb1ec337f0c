//! Builds the interpreter's values for the model directly from its JSON form, with every
//! object as a CEL struct (read with `.field` and `has()` like a map), without the `Value`
//! intermediate that would copy the model once more.

use std::sync::{Arc, OnceLock};

use cel::common::traits::{Indexer, Zeroer};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelStruct, Type,
};
use cel::common::value::{Builtin, BuiltinRef, CowVal, Val};

/// Lists at least this long are converted on several threads.
const PARALLEL_ITEMS: usize = 256;

/// Model fields whose objects have data for keys (package names, script names, inputs),
/// not field names: they become CEL maps, so that `k in m`, `m.exists(k, ...)` and
/// `m['@sentry/node']` work.
pub const MAP_FIELDS: &[&str] = &[
    "scripts",
    "dependencies",
    "dev_dependencies",
    "dependency_locs",
    "with",
    "with_locs",
    "env",
    "matrix",
    "labels",
    "annotations",
];

/// The struct type name model objects carry.
pub const NODE_TYPE: &str = "shipshape.Node";

/// Converts a JSON value into an interpreter value: objects become structs.
pub fn to_val(v: &serde_json::Value) -> Box<dyn Val> {
    match v {
        serde_json::Value::Null => Box::new(CelNull),
        serde_json::Value::Bool(b) => Box::new(CelBool::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Box::new(CelInt::from(i)),
            None => Box::new(CelDouble::from(n.as_f64().unwrap_or(0.0))),
        },
        serde_json::Value::String(s) => Box::new(CelString::from(s.clone())),
        serde_json::Value::Array(items) if items.len() >= PARALLEL_ITEMS => {
            use rayon::prelude::*;
            Box::new(CelList::from(
                items.par_iter().map(to_val).collect::<Vec<_>>(),
            ))
        }
        serde_json::Value::Array(items) => {
            Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>()))
        }
        serde_json::Value::Object(map) => {
            let mut st = CelStruct::new(NODE_TYPE.to_string());
            for (k, x) in map {
                let field = match x {
                    serde_json::Value::Object(m) if MAP_FIELDS.contains(&k.as_str()) => {
                        let entries: std::collections::HashMap<CelMapKey, Box<dyn Val>> = m
                            .iter()
                            .map(|(mk, mv)| (CelMapKey::from(mk.clone()), to_val(mv)))
                            .collect();
                        Box::new(CelMap::from(entries)) as Box<dyn Val>
                    }
                    _ => to_val(x),
                };
                st.add_field_value(k.clone(), CowVal::Owned(field));
            }
            Box::new(SharedNode(Arc::new(st)))
        }
    }
}

/// A model object: a CEL struct behind a reference count. The interpreter copies values
/// freely (every comprehension binds a copy of each element); copying a `SharedNode` is a
/// reference-count increment instead of a deep copy of the subtree. Everything else is the
/// struct's own behaviour.
#[derive(Debug)]
pub struct SharedNode(pub Arc<CelStruct<'static>>);

impl Val for SharedNode {
    fn get_type(&self) -> &Type {
        self.0.get_type()
    }

    fn cel_type() -> &'static Type
    where
        Self: Sized,
    {
        static NODE: OnceLock<CelStruct<'static>> = OnceLock::new();
        NODE.get_or_init(|| CelStruct::new(NODE_TYPE.to_string()))
            .get_type()
    }

    fn as_indexer<'b, 'v>(&'b self) -> Option<&'b (dyn Indexer + 'v)>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn into_indexer<'v>(self: Box<Self>) -> Option<Box<dyn Indexer + 'v>>
    where
        Self: 'v,
    {
        Some(self)
    }

    fn as_zeroer(&self) -> Option<&dyn Zeroer> {
        self.0.as_zeroer()
    }

    fn equals(&self, other: &dyn Val) -> bool {
        self.0.equals(other)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v>
    where
        Self: 'v,
    {
        Box::new(SharedNode(Arc::clone(&self.0)))
    }

    fn as_builtin<'b, 'v>(&'b self) -> BuiltinRef<'b, 'v>
    where
        Self: 'v,
    {
        BuiltinRef::Struct(&self.0)
    }

    fn into_builtin<'v>(self: Box<Self>) -> Option<Builtin<'v>>
    where
        Self: 'v,
    {
        Some(Builtin::Struct(Arc::unwrap_or_clone(self.0)))
    }
}

impl Indexer for SharedNode {
    fn get<'b, 'v>(&'b self, idx: &dyn Val) -> Result<CowVal<'b, 'v>, cel::ExecutionError>
    where
        Self: 'v,
    {
        Indexer::get(&*self.0, idx)
    }

    fn steal<'v>(self: Box<Self>, idx: &dyn Val) -> Result<Box<dyn Val + 'v>, cel::ExecutionError>
    where
        Self: 'v,
    {
        Indexer::get(&*self.0, idx).map(CowVal::into_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc as StdArc;

    #[test]
    fn structs_behave_like_maps_in_policies() {
        let model = serde_json::json!({
            "runs": [{"kind": "script", "name": "lint", "loc": {"file": "a", "line": 3}},
                     {"kind": "tool", "name": "eslint", "args": ["."]}],
            "anchor": {"file": "x", "line": 1}
        });
        let env = StdArc::new(cel::Env::stdlib());
        let mut ctx = cel::Context::with_env(env.clone());
        ctx.add_variable_as_val("repo", to_val(&model));
        for (expr, want) in [
            ("repo.runs.filter(r, r.kind == 'script').size() == 1", true),
            ("has(repo.anchor)", true),
            ("has(repo.nothing)", false),
            ("repo.runs.exists(r, has(r.args) && r.args[0] == '.')", true),
            ("'lint' in repo.runs.map(r, r.name)", true),
            ("repo.runs[0].loc.line == 3", true),
        ] {
            let prog = env.compile(expr).expect("compiles");
            assert_eq!(prog.execute(&ctx), Ok(cel::Value::Bool(want)), "{expr}");
        }
        let prog = env
            .compile("repo.runs.filter(r, r.kind == 'script')")
            .expect("compiles");
        let v = prog.execute(&ctx).expect("runs");
        eprintln!("RESULT {v:?}");
    }
}
