//! Tests of the interpreter values: model objects read like structs, compared, and
//! converted back.
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
        ("repo.runs[0] == repo.runs[0]", true),
        ("repo.runs[0] != repo.runs[1]", true),
        ("repo.runs[1] in repo.runs", true),
        (
            "repo.anchor == repo.anchor && repo.anchor != repo.runs[0].loc",
            true,
        ),
    ] {
        let prog = env.compile(expr).expect("compiles");
        assert_eq!(prog.execute(&ctx), Ok(cel::Value::Bool(want)), "{expr}");
    }
    let prog = env
        .compile("repo.runs.filter(r, r.kind == 'script')")
        .expect("compiles");
    // Results leave the interpreter as `cel::Value` structs, nested objects included.
    let v = cel::Value::resolve_val(prog.expression(), &ctx).expect("runs");
    let v = to_value(v.as_ref()).expect("converts");
    let cel::Value::List(items) = v else {
        panic!("a list: {v:?}")
    };
    assert_eq!(items.len(), 1);
    let cel::Value::Struct(run) = &items[0] else {
        panic!("a struct: {items:?}")
    };
    let loc = run.field_value("loc").map(cel::Value::try_from);
    let Some(Ok(cel::Value::Struct(loc))) = loc else {
        panic!("loc is a struct: {loc:?}")
    };
    assert_eq!(
        loc.field_value("line").map(cel::Value::try_from),
        Some(Ok(cel::Value::Int(3)))
    );
}
