//! Compose interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
//! `${VAR:+alt}`, nested defaults, `$$`) and what it tells about an environment entry: a
//! value injected from outside, a literal, a credential written into the file (a secret
//! name's literal value or default, a URL's password).

use crate::location::Location;
use crate::model::compose::EnvEntry;

/// One parsed part of an interpolated value.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Literal text (`$$` already turned into `$`).
    Text(String),
    /// `${NAME<op><arg>}` or `$NAME`; `op` is `""`, `":-"`, `"-"`, `":?"`, `"?"`, `":+"`, `"+"`.
    Var {
        name: String,
        op: String,
        arg: Vec<Part>,
    },
}

/// Parses Compose interpolation.
fn parse_interp(s: &str) -> Vec<Part> {
    let chars: Vec<char> = s.chars().collect();
    let (parts, _) = parse_parts(&chars, 0, false, 0);
    parts
}

/// Parses from `i` until the end, or until an unmatched `}` when `nested`.
fn parse_parts(c: &[char], mut i: usize, nested: bool, depth: usize) -> (Vec<Part>, usize) {
    let mut out = Vec::new();
    let mut text = String::new();
    while i < c.len() {
        match c[i] {
            '}' if nested => break,
            '$' if c.get(i + 1) == Some(&'$') => {
                text.push('$');
                i += 2;
            }
            '$' if c.get(i + 1) == Some(&'{') && depth < 16 => {
                let mut j = i + 2;
                let start = j;
                while j < c.len() && (c[j].is_ascii_alphanumeric() || c[j] == '_') {
                    j += 1;
                }
                let name: String = c[start..j].iter().collect();
                let mut op = String::new();
                for cand in [":-", ":?", ":+", "-", "?", "+"] {
                    let cc: Vec<char> = cand.chars().collect();
                    if c.get(j..j + cc.len()) == Some(&cc[..]) {
                        op = cand.to_string();
                        j += cc.len();
                        break;
                    }
                }
                let (arg, end) = parse_parts(c, j, true, depth + 1);
                if !text.is_empty() {
                    out.push(Part::Text(std::mem::take(&mut text)));
                }
                out.push(Part::Var { name, op, arg });
                i = end + 1;
            }
            '$' if c
                .get(i + 1)
                .is_some_and(|x| x.is_ascii_alphabetic() || *x == '_') =>
            {
                let mut j = i + 1;
                while j < c.len() && (c[j].is_ascii_alphanumeric() || c[j] == '_') {
                    j += 1;
                }
                if !text.is_empty() {
                    out.push(Part::Text(std::mem::take(&mut text)));
                }
                out.push(Part::Var {
                    name: c[i + 1..j].iter().collect(),
                    op: String::new(),
                    arg: Vec::new(),
                });
                i = j;
            }
            ch => {
                text.push(ch);
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        out.push(Part::Text(text));
    }
    (out, i)
}

/// The value with defaults applied, `None` when a variable has no default.
pub fn resolve(s: &str) -> Option<String> {
    fn go(parts: &[Part]) -> Option<String> {
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var { op, arg, .. } => match op.as_str() {
                    ":-" | "-" => out.push_str(&go(arg)?),
                    ":+" | "+" => {}
                    _ => return None,
                },
            }
        }
        Some(out)
    }
    go(&parse_interp(s))
}

/// Literal text outside interpolations, and the literal defaults inside them.
fn literal_parts(parts: &[Part], text: &mut String, defaults: &mut Vec<String>) {
    for p in parts {
        match p {
            Part::Text(t) => text.push_str(t),
            Part::Var { op, arg, .. } => {
                if matches!(op.as_str(), ":-" | "-") {
                    let mut inner = String::new();
                    literal_parts(arg, &mut inner, defaults);
                    if !inner.trim().is_empty() {
                        defaults.push(inner);
                    }
                }
            }
        }
    }
}

/// Whether a URL-like text embeds a literal password (`scheme://user:pass@host`).
fn url_password(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return false;
    };
    match userinfo.split_once(':') {
        Some((_, pass)) => !pass.is_empty() && !pass.starts_with('$'),
        None => false,
    }
}

/// Whether a value is a boolean-like flag: `true`, `false`, `yes`, `no`, `0` or `1` (any case).
fn is_flag_value(v: &str) -> bool {
    let v = v.trim();
    ["true", "false", "yes", "no", "0", "1"]
        .iter()
        .any(|f| v.eq_ignore_ascii_case(f))
}

pub(super) fn env_entry(name: String, value: String, has_value: bool, loc: Location) -> EnvEntry {
    let parts = parse_interp(&value);
    let literal = !parts.iter().any(|p| matches!(p, Part::Var { .. }));
    let mut text = String::new();
    let mut defaults = Vec::new();
    literal_parts(&parts, &mut text, &mut defaults);
    let injected = has_value && !literal && text.trim().is_empty() && defaults.is_empty();
    let upper = name.to_ascii_uppercase();
    // `*_FILE` variables name a file holding the secret (the Docker secrets convention).
    let secret_name =
        (upper.contains("PASSWORD") || upper.contains("SECRET")) && !upper.ends_with("_FILE");
    // A URL's password written literally, outside any interpolation or in a default.
    // Or a default written inside an interpolation that stands for the password
    // (`redis://:${REDIS_PASSWORD:-hunter2}@redis`).
    let url_pass = value
        .split_once("://")
        .and_then(|(_, r)| r.rsplit_once('@'))
        .and_then(|(u, _)| u.split_once(':'))
        .map(|(_, p)| p);
    let raw_url_password = url_password(&value) && url_pass.is_some_and(|p| !p.contains('$'));
    let default_url_password = url_pass.is_some_and(|p| {
        let mut text = String::new();
        let mut defaults = Vec::new();
        literal_parts(&parse_interp(p), &mut text, &mut defaults);
        defaults.iter().any(|d| !is_flag_value(d))
    });
    // A flag value (`MYSQL_ALLOW_EMPTY_PASSWORD: "yes"`) switches a setting; it is no secret.
    let secret_literal = |v: &str| !v.trim().is_empty() && !is_flag_value(v);
    let literal_credential = has_value
        && ((secret_name
            && ((literal && secret_literal(&value))
                || defaults.iter().any(|d| secret_literal(d))))
            || raw_url_password
            || default_url_password
            || defaults.iter().any(|d| url_password(d)));
    EnvEntry {
        name,
        value,
        has_value,
        literal,
        injected,
        defaults,
        literal_credential,
        loc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_forms() {
        assert_eq!(
            resolve("postgres:${PG:-14}-alpine").as_deref(),
            Some("postgres:14-alpine")
        );
        assert_eq!(resolve("${A:-${B:-x}}").as_deref(), Some("x"));
        assert_eq!(resolve("${IMAGE}"), None);
        assert_eq!(resolve("$$HOME").as_deref(), Some("$HOME"));
        assert_eq!(resolve("${A:?required}"), None);
        let e = |v: &str| {
            env_entry(
                "DB_PASSWORD".into(),
                v.into(),
                true,
                Location::file_start("c"),
            )
        };
        assert!(e("${DB_PASSWORD}").injected);
        assert!(e("${DB_PASSWORD:?set it}").injected);
        assert!(e("${DB_PASSWORD:-}").injected);
        assert!(!e("${DB_PASSWORD}").literal_credential);
        assert!(e("${DB_PASSWORD:-hunter2}").literal_credential);
        assert!(e("hunter2").literal_credential);
        assert!(!e("yes").literal_credential);
        assert!(!e("FALSE").literal_credential);
        assert!(!e("${DB_PASSWORD:-1}").literal_credential);
        assert!(e("${DB_PASSWORD:-10}").literal_credential);
        assert!(!e("$$ESCAPED").injected);
        let u = |v: &str| {
            env_entry(
                "DATABASE_URL".into(),
                v.into(),
                true,
                Location::file_start("c"),
            )
        };
        assert!(u("postgres://medusa:s3cret@db:5432/medusa").literal_credential);
        assert!(!u("postgres://medusa:${PG_PASSWORD}@db/medusa").literal_credential);
        assert!(!u("postgres://db:5432/medusa").literal_credential);
        assert!(u("${DATABASE_URL:-postgres://u:p@db/x}").literal_credential);
        assert!(u("${DATABASE_URL}").injected);
    }
}
