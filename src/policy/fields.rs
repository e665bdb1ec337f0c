//! The compile-time check of policy expressions against the model's schema: every field a
//! CEL expression selects (`x.name`, `has(x.name)`) must be a field of some model type
//! ([`crate::model::schema::field_names`]), and every `options.name` an option the policy
//! declares. The check is not type-directed: it catches misspelt names, with the closest known
//! name as a suggestion, not a field of the wrong type.

use std::collections::BTreeSet;

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr, LiteralValue};

use crate::policy::val::MAP_FIELDS;

/// Where a selected name must be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A model object: a field of some model type.
    Model,
    /// `options`: an option the policy declares.
    Options,
    /// `definitions`: one of the catalog's vocabularies.
    Definitions,
}

/// The names of the catalog's vocabularies (`definitions.<name>`).
fn definition_names() -> BTreeSet<String> {
    serde_json::to_value(crate::definitions::Definitions::default())
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default()
}

/// A field selection that names nothing known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    /// The name selected.
    pub name: String,
    /// Byte offset of the name in the expression.
    pub offset: usize,
    /// What it was selected on: a model object, `options` or `definitions`.
    pub on: Scope,
    /// The closest known name, when one is close enough.
    pub suggestion: Option<String>,
}

impl UnknownField {
    /// The diagnostic's message: what is unknown, and the suggestion.
    pub fn message(&self) -> String {
        let what = match self.on {
            Scope::Options => format!("the policy declares no option `{}`", self.name),
            Scope::Definitions => format!("there is no definition list `{}`", self.name),
            Scope::Model => format!("no model type has a field `{}`", self.name),
        };
        match &self.suggestion {
            Some(s) => format!("{what}; did you mean `{s}`?"),
            None => what,
        }
    }
}

/// What a policy's selections may name besides model fields: its declared options (selected
/// on `options`) and the keys of the map literals its expressions build (`violations` giving
/// `{'at': x, 'events': e}` read as `v.events` in `message`).
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The declared options.
    pub options: BTreeSet<String>,
    /// String keys of map literals.
    pub built: BTreeSet<String>,
}

impl Known {
    /// Adds the string keys of the map literals of `expr`.
    pub fn add_built(&mut self, expr: &IdedExpr) {
        let mut stack = vec![expr];
        while let Some(e) = stack.pop() {
            match &e.expr {
                Expr::Map(m) => {
                    for entry in &m.entries {
                        if let EntryExpr::MapEntry(me) = &entry.expr {
                            if let Expr::Literal(LiteralValue::String(k)) = &me.key.expr {
                                self.built.insert(k.inner().to_string());
                            }
                            stack.push(&me.key);
                            stack.push(&me.value);
                        }
                    }
                }
                Expr::Select(sel) => stack.push(&sel.operand),
                Expr::Call(c) => {
                    stack.extend(c.target.as_deref());
                    stack.extend(c.args.iter());
                }
                Expr::Comprehension(c) => stack.extend([
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ]),
                Expr::List(l) => stack.extend(l.elements.iter()),
                Expr::Struct(st) => {
                    for entry in &st.entries {
                        if let EntryExpr::StructField(f) = &entry.expr {
                            stack.push(&f.value);
                        }
                    }
                }
                Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
            }
        }
    }
}

/// The first selection of `expr` (parsed from `src`) that names no model field and no map
/// key the policy builds, or no declared option when selected on `options`. Selections on a
/// map field's value (`s.env.NODE_ENV`, `p.scripts.build`) select data keys and are not
/// checked.
pub fn check(
    expr: &IdedExpr,
    info: &cel::common::ast::SourceInfo,
    src: &str,
    known: &Known,
) -> Option<UnknownField> {
    let options = &known.options;
    let mut found = Vec::new();
    walk(expr, &mut found);
    let fields = crate::model::schema::field_names();
    let definitions = definition_names();
    for (id, name, on) in found {
        let named = match on {
            On::Options => options.contains(&name),
            On::Definitions => definitions.contains(&name),
            On::MapField => true,
            On::Other => fields.contains(&name) || known.built.contains(&name),
        };
        if named {
            continue;
        }
        let start = info.offset_for(id).map_or(0, |(s, _)| s as usize);
        let offset = name_offset(src, start, &name);
        let (scope, candidates): (Scope, Box<dyn Iterator<Item = &String>>) = match on {
            On::Options => (Scope::Options, Box::new(options.iter())),
            On::Definitions => (Scope::Definitions, Box::new(definitions.iter())),
            _ => (
                Scope::Model,
                Box::new(fields.iter().chain(known.built.iter())),
            ),
        };
        return Some(UnknownField {
            suggestion: closest(&name, candidates),
            name,
            offset,
            on: scope,
        });
    }
    None
}

/// What a selection's operand is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    /// The variable `options`.
    Options,
    /// The variable `definitions`.
    Definitions,
    /// A map field (`x.env`): the selection reads a data key.
    MapField,
    /// Anything else: a model object.
    Other,
}

/// Collects every selection (node id, field name, operand kind), outermost first.
fn walk(e: &IdedExpr, out: &mut Vec<(u64, String, On)>) {
    match &e.expr {
        Expr::Select(s) => {
            let on = match &s.operand.expr {
                Expr::Ident(name) if name == "options" => On::Options,
                Expr::Ident(name) if name == "definitions" => On::Definitions,
                Expr::Select(inner) if MAP_FIELDS.contains(&inner.field.as_str()) => On::MapField,
                _ => On::Other,
            };
            out.push((e.id, s.field.clone(), on));
            walk(&s.operand, out);
        }
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                walk(t, out);
            }
            c.args.iter().for_each(|a| walk(a, out));
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                walk(x, out);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|x| walk(x, out)),
        Expr::Map(m) => m.entries.iter().for_each(|x| walk_entry(&x.expr, out)),
        Expr::Struct(s) => s.entries.iter().for_each(|x| walk_entry(&x.expr, out)),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn walk_entry(e: &EntryExpr, out: &mut Vec<(u64, String, On)>) {
    match e {
        EntryExpr::StructField(f) => walk(&f.value, out),
        EntryExpr::MapEntry(m) => {
            walk(&m.key, out);
            walk(&m.value, out);
        }
    }
}

/// Where `name` is written after a selection's position (its `.`, or the `(` of `has(`):
/// the first `.` at or after `start` followed (after blanks) by the name.
fn name_offset(src: &str, start: usize, name: &str) -> usize {
    let mut from = start.min(src.len());
    while let Some(dot) = src.get(from..).and_then(|s| s.find('.')) {
        let after = from + dot + 1;
        let rest = &src[after..];
        let blanks = rest.len() - rest.trim_start().len();
        if rest[blanks..].starts_with(name) {
            return after + blanks;
        }
        from = after;
    }
    start.min(src.len())
}

/// The candidate nearest to `name` by edit distance, when it is near enough to be a likely
/// misspelling (at most a third of the name's length, and at least 1).
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        // Ties: the name of the same length (a substitution), then the first.
        .min_by_key(|(d, c)| (*d, c.chars().count().abs_diff(name.chars().count()), *c))
        .map(|(_, c)| c.clone())
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, options: &[&str]) -> Option<UnknownField> {
        let p = cel::Env::stdlib().compile(src).expect("compiles");
        let mut known = Known {
            options: options.iter().map(|s| s.to_string()).collect(),
            ..Known::default()
        };
        known.add_built(p.expression());
        check(p.expression(), p.source_info(), src, &known)
    }

    #[test]
    fn misspelt_fields_are_found_with_a_suggestion() {
        let src = "repo.dockerfiles.filter(d,\n  d.stages.exists(s, s.is_finale))";
        let u = run(src, &[]).expect("unknown field");
        assert_eq!(u.name, "is_finale");
        assert_eq!(&src[u.offset..u.offset + 9], "is_finale");
        assert_eq!(u.suggestion.as_deref(), Some("is_final"));
        assert_eq!(
            u.message(),
            "no model type has a field `is_finale`; did you mean `is_final`?"
        );
        let u = run("has(repo.ci.anchr)", &[]).expect("unknown field");
        assert_eq!((u.name.as_str(), u.offset), ("anchr", 12));
        assert_eq!(u.suggestion.as_deref(), Some("anchor"));
        assert_eq!(run("repo.zzzzzzzz", &[]).and_then(|u| u.suggestion), None);
        // `stage` and `stages` are one edit away; the one of the same length wins.
        let u = run("repo.dockerfiles.map(d, d.stagez)", &[]).expect("unknown field");
        assert_eq!(u.suggestion.as_deref(), Some("stages"));
    }

    #[test]
    fn map_keys_comprehension_variables_and_options() {
        assert_eq!(
            run(
                "repo.ci.steps.exists(s, s.env.NODE_ENV == 'x') && \
                 repo.packages.exists(p, p.scripts.build != '' && p.dependency_locs.pg.line > 0)",
                &[]
            ),
            None
        );
        assert_eq!(
            run(
                "[{'a': 1}].map(x, x).size() > 0 && options.allowed",
                &["allowed"]
            ),
            None
        );
        // Keys of the maps the expression builds are fields too.
        assert_eq!(run("[{'at': 1, 'events': []}].map(v, v.events)", &[]), None);
        assert_eq!(
            run("[{'at': 1}].map(v, v.event)", &[]).map(|u| u.name),
            None,
            "`event` is a model field"
        );
        assert_eq!(
            run("[{'at': 1, 'eventz': 1}].map(v, v.evntz)", &[]).and_then(|u| u.suggestion),
            Some("eventz".to_string())
        );
        let u = run("options.alowed.size()", &["allowed"]).expect("unknown option");
        assert_eq!(u.on, Scope::Options);
        assert_eq!(
            u.message(),
            "the policy declares no option `alowed`; did you mean `allowed`?"
        );
        let u = run("definitions.health_path.size() > 0", &[]).expect("unknown list");
        assert_eq!(u.on, Scope::Definitions);
        assert_eq!(u.suggestion.as_deref(), Some("health_paths"));
        assert!(run("definitions.health_paths.size() > 0", &[]).is_none());
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("is_finale", "is_final"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
