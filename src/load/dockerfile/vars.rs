//! Variables of a Dockerfile: `ENV`/`ARG` assignments (`K=V`, the legacy `ENV K value`
//! form, bare `ARG NAME`), `$X`/`${X:-d}` substitution, the `USER` an instruction sets, and
//! the container paths that `WORKDIR`, `COPY` and `rm` name.

use std::collections::HashMap;

use crate::location::Location;
use crate::model::dockerfile::{User, Var};

/// Variables known at a point of the file: name → value (`None`: declared without default).
pub(super) type Vars = HashMap<String, Option<String>>;

/// Parses `ENV`/`ARG` arguments: `K=V K2="v w"`, the legacy `ENV K some value` form, and
/// bare `ARG NAME`.
pub(super) fn parse_assignments(args: &str, instruction: &str, loc: &Location) -> Vec<Var> {
    let words = split_words(args);
    let mut out = Vec::new();
    let legacy = instruction == "ENV"
        && words.first().is_some_and(|w| !w.0.contains('='))
        && words.len() > 1;
    if legacy {
        let name = words[0].0.clone();
        let value = args.trim_start()[words[0].1..].trim().to_string();
        out.push(var(instruction, name, Some(unquote(&value)), loc));
        return out;
    }
    for (w, _) in words {
        match w.split_once('=') {
            Some((k, v)) => out.push(var(instruction, k.to_string(), Some(unquote(v)), loc)),
            None => out.push(var(instruction, w, None, loc)),
        }
    }
    out
}

fn var(instruction: &str, name: String, value: Option<String>, loc: &Location) -> Var {
    let has_value = value.is_some();
    let value = value.unwrap_or_default();
    let literal = !value.is_empty() && !is_only_reference(&value);
    Var {
        instruction: instruction.to_string(),
        name,
        value,
        has_value,
        literal,
        loc: loc.clone(),
    }
}

/// `$X`, `${X}`, `${X:-}`, `${X-}`: a value that is nothing but one variable reference.
fn is_only_reference(v: &str) -> bool {
    let v = v.trim();
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(inner) = v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        let name = inner.split([':', '-']).next().unwrap_or("");
        let rest = &inner[name.len()..];
        return ident(name) && matches!(rest, "" | ":-" | "-");
    }
    v.strip_prefix('$').is_some_and(ident)
}

/// Splits on unquoted whitespace, keeping quotes; returns each word with the byte offset just
/// past it (in the left-trimmed input).
fn split_words(s: &str) -> Vec<(String, usize)> {
    let s = s.trim_start();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, ch) in s.char_indices() {
        if escaped {
            cur.push(ch);
            escaped = false;
            continue;
        }
        match (quote, ch) {
            (_, '\\') if quote != Some('\'') => {
                cur.push(ch);
                escaped = true;
            }
            (None, '"' | '\'') => {
                quote = Some(ch);
                cur.push(ch);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(ch);
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push((std::mem::take(&mut cur), i));
                }
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() {
        out.push((cur, s.len()));
    }
    out
}

/// Removes one level of surrounding quotes and backslash escapes.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (q, '\\') if q != Some('\'') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Substitutes `$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:+a}`, `${X+a}` from `vars`; `None`
/// when a variable has no value and no default.
pub fn substitute(s: &str, vars: &Vars) -> Option<String> {
    let mut out = String::new();
    let bytes: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&'{') {
            let close = bytes[i + 2..].iter().position(|c| *c == '}')? + i + 2;
            let inner: String = bytes[i + 2..close].iter().collect();
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_end);
            let val = vars.get(name).cloned().flatten();
            let set = val.as_deref().is_some_and(|v| !v.is_empty());
            let piece = if let Some(d) = op.strip_prefix(":-") {
                if set { val } else { Some(substitute(d, vars)?) }
            } else if let Some(d) = op.strip_prefix('-') {
                if val.is_some() {
                    val
                } else {
                    Some(substitute(d, vars)?)
                }
            } else if let Some(a) = op.strip_prefix(":+") {
                Some(if set {
                    substitute(a, vars)?
                } else {
                    String::new()
                })
            } else if let Some(a) = op.strip_prefix('+') {
                Some(if val.is_some() {
                    substitute(a, vars)?
                } else {
                    String::new()
                })
            } else if op.is_empty() {
                val
            } else {
                None
            };
            out.push_str(&piece?);
            i = close + 1;
        } else {
            let rest: String = bytes[i + 1..].iter().collect();
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if n == 0 {
                out.push('$');
                i += 1;
                continue;
            }
            out.push_str(&vars.get(&rest[..n]).cloned().flatten()?);
            i += 1 + rest[..n].chars().count();
        }
    }
    Some(out)
}

pub(super) fn make_user(raw: &str, vars: &Vars, loc: Location) -> User {
    let resolved = substitute(raw, vars).unwrap_or_else(|| raw.to_string());
    let name = resolved.split(':').next().unwrap_or("").trim().to_string();
    let is_root = name == "root" || name == "0";
    User {
        raw: raw.to_string(),
        resolved,
        name,
        is_root,
        inherited: false,
        loc,
    }
}

/// Joins a path onto a directory (absolute paths replace it) and normalises `.`/`..`.
pub fn join_path(base: &str, path: &str) -> String {
    format!("/{}", crate::load::join_relative(base, path))
}

/// Whether `dir` is `ancestor` or inside it.
pub(super) fn is_within(dir: &str, ancestor: &str) -> bool {
    let a = ancestor.trim_end_matches('/');
    a.is_empty() || dir == a || dir.starts_with(&format!("{a}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn substitutes_arg_defaults() {
        let v = vars(&[("NODE", Some("18")), ("EMPTY", Some("")), ("NONE", None)]);
        let table = [
            ("node:$NODE-alpine", Some("node:18-alpine")),
            ("node:${NODE}-alpine", Some("node:18-alpine")),
            ("node:${MISSING:-20}-alpine", Some("node:20-alpine")),
            ("node:${EMPTY:-20}", Some("node:20")),
            ("node:${EMPTY-20}", Some("node:")),
            ("${NONE}", None),
            ("x${NODE:+-y}", Some("x-y")),
            ("a$", Some("a$")),
            ("${UNCLOSED", None),
        ];
        for (input, want) in table {
            assert_eq!(substitute(input, &v).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn parses_env_and_arg_forms() {
        let loc = Location::file_start("Dockerfile");
        let v = parse_assignments(r#"A=1 B="two words" C"#, "ARG", &loc);
        let got: Vec<(&str, &str, bool)> = v
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str(), v.has_value))
            .collect();
        assert_eq!(
            got,
            vec![("A", "1", true), ("B", "two words", true), ("C", "", false)]
        );
        let v = parse_assignments("API_KEY some secret value", "ENV", &loc);
        assert_eq!(
            (v[0].name.as_str(), v[0].value.as_str()),
            ("API_KEY", "some secret value")
        );
        assert!(v[0].literal);
        for r in ["$TOKEN", "${TOKEN}", "${TOKEN:-}"] {
            assert!(
                !parse_assignments(&format!("TOKEN={r}"), "ENV", &loc)[0].literal,
                "{r}"
            );
        }
        assert!(parse_assignments("TOKEN=${TOKEN:-abc}", "ENV", &loc)[0].literal);
    }

    #[test]
    fn paths_join_and_nest() {
        assert_eq!(join_path("/app", "./node_modules"), "/app/node_modules");
        assert_eq!(join_path("/app", "/srv"), "/srv");
        assert_eq!(join_path("/app/x", "../y/."), "/app/y");
        assert!(is_within("/app", "/app"));
        assert!(is_within("/app/x", "/app"));
        assert!(is_within("/app", "/"));
        assert!(!is_within("/application", "/app"));
        assert!(!is_within("/app", "/app/x"));
    }
}
