//! Compiling a policy file: the YAML read into its schema, the ID, options, `let` names,
//! tests and body checked, every CEL expression (and each `{{ }}` of a message template)
//! compiled once, with field selections checked against the model; a policy that fails is
//! a [`PolicyError`] labelled at the position of the fault inside the YAML file, block
//! and quoted scalars included.

use cel::Env;
use miette::NamedSource;

use super::meta::{RuleDocs, RuleMeta};
use super::needs::scan_needs;
use super::schema::{self, PolicyFile};
use std::collections::BTreeMap;

/// Refuses a `let` name that is reserved, not an identifier, or (`defined_by`) already
/// defined by the including policy; the error points at the entry in `path`.
fn check_let_name(
    path: &str,
    text: &str,
    name: &str,
    e: &serde_saphyr::Spanned<String>,
    defined_by: Option<&str>,
) -> Result<(), Box<PolicyError>> {
    let reserved = ["repo", "options", "it", "v", "definitions"];
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let problem = match defined_by {
        Some(other) => Some((
            format!("`let` {name} is also defined by {other}"),
            "defined twice",
        )),
        None if reserved.contains(&name) || !valid => Some((
            format!("`let` name {name:?} is reserved or not an identifier"),
            "rename it",
        )),
        None => None,
    };
    match problem {
        Some((message, label)) => Err(error_at(
            path,
            text,
            e.referenced.line() as u32,
            1,
            message,
            label,
        )),
        None => Ok(()),
    }
}

/// The fragments policies may include, by name: (path, text) of `include/<name>.yaml`.
#[derive(Debug, Default, Clone)]
pub struct Fragments(pub BTreeMap<String, (String, String)>);
use super::{Body, Expr, Part, Policy, PolicyError, Template, fields};
use crate::location::LineIndex;

/// A policy error labelled at 1-based `line`/`col` of the file (line 0: the start), to the
/// end of the line.
pub(super) fn error_at(
    path: &str,
    text: &str,
    line: u32,
    col: u32,
    message: String,
    label: &str,
) -> Box<PolicyError> {
    error_span(path, text, line, col, None, message, label)
}

/// A policy error labelled at 1-based `line`/`col` of the file (line 0: the start), `chars`
/// characters long (`None`: to the end of the line).
fn error_span(
    path: &str,
    text: &str,
    line: u32,
    col: u32,
    chars: Option<usize>,
    message: String,
    label: &str,
) -> Box<PolicyError> {
    let idx = LineIndex::new(text);
    let offset = if line == 0 {
        0
    } else {
        idx.line_start(line).map_or(0, |s| {
            let line_text = &text[s..];
            let byte = line_text
                .char_indices()
                .nth(col.saturating_sub(1) as usize)
                .map_or(line_text.len(), |(b, _)| b);
            s + byte
        })
    };
    let eol = text[offset.min(text.len())..]
        .find('\n')
        .unwrap_or(text.len() - offset.min(text.len()));
    let wanted = chars.map_or(eol, |n| {
        text[offset.min(text.len())..]
            .char_indices()
            .nth(n)
            .map_or(eol, |(b, _)| b.min(eol))
    });
    let len = wanted.max(1).min(text.len().saturating_sub(offset));
    Box::new(PolicyError {
        message: format!("{path}: {message}"),
        src: NamedSource::new(path, text.to_string()),
        span: (offset.min(text.len()), len).into(),
        label: label.to_string(),
        path: path.to_string(),
    })
}

pub(super) fn compile_policy(
    env: &Env,
    path: &str,
    text: &str,
    fragments: &Fragments,
) -> Result<Policy, Box<PolicyError>> {
    let file: PolicyFile = serde_saphyr::from_str_with_options(text, crate::load::yaml::options())
        .map_err(|e| {
            let (line, col) = e
                .location()
                .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
            let msg = e.to_string().lines().next().unwrap_or("").to_string();
            error_at(
                path,
                text,
                line,
                col,
                format!("invalid policy file: {msg}"),
                "here",
            )
        })?;
    let id = file.id.value.clone();
    let id_line = file.id.referenced.line() as u32;
    let valid_id = !id.is_empty()
        && id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid_id {
        return Err(error_at(
            path,
            text,
            id_line,
            1,
            format!("invalid policy ID {id:?}"),
            "IDs are letters, digits, `_` and `-`",
        ));
    }
    // An error at the first `name:` line of the file.
    let at_option = |name: &str, message: String, label: &str| {
        let line = find_line(text, &format!("{name}:")).unwrap_or(1);
        error_at(path, text, line, 1, message, label)
    };
    for (name, spec) in &file.options {
        let ok = spec.default.is_null() || spec.kind.accepts(&spec.default);
        if !ok {
            return Err(at_option(
                name,
                format!(
                    "option {name}: the default is not {}",
                    spec.kind.described()
                ),
                "wrong default",
            ));
        }
    }
    // What selections may name besides model fields (see `fields::check`).
    let mut known = fields::Known {
        options: file.options.keys().cloned().collect(),
        ..fields::Known::default()
    };
    let mut plain: Vec<&str> = file.lets.values().map(|e| e.value.as_str()).collect();
    for e in [&file.each, &file.violations, &file.require, &file.at]
        .into_iter()
        .flatten()
    {
        plain.push(&e.value);
    }
    for t in std::iter::once(&file.message).chain(file.missing.as_ref()) {
        plain.extend(template_exprs(&t.value));
    }
    for src in plain {
        // Expressions that do not compile are reported when they are compiled below.
        if let Ok(p) = env.compile(src) {
            known.add_built(p.expression());
        }
    }
    let compile =
        |s: &serde_saphyr::Spanned<String>, what: &str| -> Result<Expr, Box<PolicyError>> {
            let at = ExprAt {
                value: &s.value,
                base: 0,
                at: &s.referenced,
            };
            compile_expr(env, path, text, &s.value, &at, what, &known)
        };
    let mut lets = Vec::new();
    for (name, e) in &file.lets {
        check_let_name(path, text, name, e, None)?;
        lets.push((name.clone(), compile(e, "let")?));
    }
    // Fragments' lets come after the policy's own, which they may use.
    let mut shared_sources: Vec<String> = Vec::new();
    for name in &file.include {
        let Some((fpath, ftext)) = fragments.0.get(name) else {
            let line = find_line(text, "include:").unwrap_or(1);
            return Err(error_at(
                path,
                text,
                line,
                1,
                format!("no fragment {name:?} (include/{name}.yaml beside the policies)"),
                "unknown fragment",
            ));
        };
        let fragment: schema::FragmentFile =
            serde_saphyr::from_str_with_options(ftext, crate::load::yaml::options()).map_err(
                |e| {
                    let (line, col) = e
                        .location()
                        .map_or((1, 1), |l| (l.line() as u32, l.column() as u32));
                    error_at(
                        fpath,
                        ftext,
                        line,
                        col,
                        format!("invalid fragment: {e}"),
                        "here",
                    )
                },
            )?;
        for (lname, e) in &fragment.lets {
            let twice = lets.iter().any(|(n, _)| n == lname).then_some(path);
            check_let_name(fpath, ftext, lname, e, twice)?;
            let at = ExprAt {
                value: &e.value,
                base: 0,
                at: &e.referenced,
            };
            let compiled = compile_expr(env, fpath, ftext, &e.value, &at, "let", &known)?;
            shared_sources.push(e.value.clone());
            lets.push((lname.clone(), compiled));
        }
    }
    let each = file.each.as_ref().map(|e| compile(e, "each")).transpose()?;
    let body = match (&file.violations, &file.require) {
        (Some(v), None) => {
            if file.at.is_some() {
                let line = file.at.as_ref().map_or(1, |a| a.referenced.line() as u32);
                return Err(error_at(
                    path,
                    text,
                    line,
                    1,
                    "`at` goes with `require`, not `violations`".into(),
                    "remove `at`",
                ));
            }
            Body::Violations(compile(v, "violations")?)
        }
        (None, Some(r)) => Body::Require {
            cond: compile(r, "require")?,
            at: file.at.as_ref().map(|a| compile(a, "at")).transpose()?,
        },
        _ => {
            return Err(error_at(
                path,
                text,
                id_line,
                1,
                "a policy needs exactly one of `violations` or `require`".into(),
                "in this policy",
            ));
        }
    };
    if file.missing.is_some() && each.is_none() {
        let line = file
            .missing
            .as_ref()
            .map_or(1, |m| m.referenced.line() as u32);
        return Err(error_at(
            path,
            text,
            line,
            1,
            "`missing` needs `each`".into(),
            "no `each` in this policy",
        ));
    }
    let message = compile_template(env, path, text, &file.message, &known)?;
    let missing = file
        .missing
        .as_ref()
        .map(|m| compile_template(env, path, text, m, &known))
        .transpose()?;
    for case in &file.tests {
        for e in &case.expect {
            if parse_expectation(e).is_none() {
                let line = find_line(text, e).unwrap_or(1);
                return Err(error_at(
                    path,
                    text,
                    line,
                    1,
                    format!(
                        "test {:?}: expectation {e:?} is not `RULE FILE:LINE`",
                        case.name
                    ),
                    "bad expectation",
                ));
            }
        }
        for (name, value) in &case.options {
            if let Some(spec) = file.options.get(name)
                && !spec.kind.accepts(value)
            {
                return Err(at_option(
                    name,
                    format!(
                        "test {:?} sets option {name} to {value}, which is not {}",
                        case.name,
                        spec.kind.described()
                    ),
                    "wrong type",
                ));
            }
            if !file.options.contains_key(name) {
                return Err(at_option(
                    name,
                    format!("test {:?} sets unknown option {name}", case.name),
                    "unknown option",
                ));
            }
        }
    }
    let mut sources: Vec<&str> = vec![file.message.value.as_str()];
    sources.extend(file.each.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.violations.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.require.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.at.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.missing.as_ref().map(|e| e.value.as_str()));
    sources.extend(file.lets.values().map(|e| e.value.as_str()));
    sources.extend(shared_sources.iter().map(String::as_str));
    // Rules that point at offending text are nearly always right; a requirement per subject
    // claims that subject lacks something, and a requirement of the whole repository claims
    // that evidence is missing from all of it.
    let precision = match (&file.violations, &file.each) {
        (Some(_), _) => schema::Precision::VeryHigh,
        (None, Some(_)) => schema::Precision::High,
        (None, None) => schema::Precision::Medium,
    };
    let needs = scan_needs(&sources);
    Ok(Policy {
        needs,
        meta: RuleMeta {
            id,
            title: file.title,
            severity: file.severity,
            tags: file.tags,
            security: file.security || file.security_severity.is_some(),
            security_severity: file.security_severity,
            precision: file.precision.unwrap_or(precision),
            help_uri: file.help_uri,
            docs: RuleDocs {
                what: file.docs.what,
                why: file.docs.why,
                failing: file.docs.failing,
                passing: file.docs.passing,
                decisions: file.docs.decisions,
                fix: file.docs.fix,
                fix_gitlab: file.docs.fix_gitlab,
            },
        },
        path: path.to_string(),
        options: file.options,
        tests: file.tests,
        each,
        lets,
        body,
        message,
        missing,
    })
}

/// Parses `RULE FILE:LINE` into its parts.
pub fn parse_expectation(s: &str) -> Option<(String, String, u32)> {
    let (rule, rest) = s.trim().split_once(char::is_whitespace)?;
    let (file, line) = rest.trim().rsplit_once(':')?;
    Some((rule.to_string(), file.to_string(), line.parse().ok()?))
}

fn find_line(text: &str, needle: &str) -> Option<u32> {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u32 + 1)
}

/// Where an expression is in the policy file: `base` bytes into the YAML scalar `value`
/// (a message template's `{{ }}` part), the scalar being at `at`.
struct ExprAt<'a> {
    value: &'a str,
    base: usize,
    at: &'a serde_saphyr::Location,
}

impl ExprAt<'_> {
    /// The file position of a byte offset into the expression.
    fn position(&self, text: &str, offset: usize) -> (u32, u32) {
        let (eline, ecol) = line_col(self.value, self.base + offset);
        expression_position(text, self.at, eline, ecol)
    }
}

/// The (1-based line, 0-based character column) of a byte offset in `s`.
fn line_col(s: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(s.len());
    let before = s.get(..offset).unwrap_or(s);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
    (line as u32, col as u32)
}

/// Compiles an expression; a parse error, or a field selection that names no model field
/// (or no declared option), is labelled at its position inside the YAML file.
fn compile_expr(
    env: &Env,
    path: &str,
    text: &str,
    src: &str,
    at: &ExprAt<'_>,
    what: &str,
    known: &fields::Known,
) -> Result<Expr, Box<PolicyError>> {
    let program = env.compile(src).map_err(|errs| {
        let first = errs.errors.first();
        let (eline, ecol) = first.map_or((1, 0), |e| {
            (e.pos.0.max(1) as usize, e.pos.1.max(0) as usize)
        });
        let msg = first.map_or_else(|| errs.to_string(), |e| e.msg.clone());
        let (line, col) = at.position(text, expression_offset(src, eline, ecol));
        error_at(
            path,
            text,
            line,
            col,
            format!("`{what}` does not compile: {msg}"),
            &msg,
        )
    })?;
    if let Some(u) = fields::check(program.expression(), program.source_info(), src, known) {
        let (line, col) = at.position(text, u.offset);
        let label = match &u.suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => match u.on {
                fields::Scope::Options => "not a declared option".to_string(),
                fields::Scope::Definitions => {
                    "not a definition list (see docs/configuration.md)".to_string()
                }
                fields::Scope::Model => "not a model field (see docs/model.md)".to_string(),
            },
        };
        return Err(error_span(
            path,
            text,
            line,
            col,
            Some(u.name.chars().count()),
            format!("`{what}` does not compile: {}", u.message()),
            &label,
        ));
    }
    Ok(Expr { program })
}

/// The byte offset of a (1-based line, 0-based character column) inside an expression.
pub(super) fn expression_offset(src: &str, line: usize, col: usize) -> usize {
    let mut start = 0;
    for (i, l) in src.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return start + l.char_indices().nth(col).map_or(l.len(), |(b, _)| b);
        }
        start += l.len();
    }
    src.len()
}

/// Maps a (1-based line, 0-based column) inside an expression onto the policy file: a
/// single-line scalar starts at the value's position; a block scalar's lines start at the
/// value's line with that line's indentation.
fn expression_position(
    text: &str,
    at: &serde_saphyr::Location,
    eline: u32,
    ecol: u32,
) -> (u32, u32) {
    let vline = at.line() as u32;
    let vcol = at.column() as u32;
    let lines: Vec<&str> = text.lines().collect();
    let key_line = lines
        .get(vline.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("");
    // A block scalar's value starts its line (after the indentation); a single-line scalar
    // follows its key.
    let is_block = vcol as usize == key_line.len() - key_line.trim_start().len() + 1;
    if eline == 1 && !is_block {
        // A quoted scalar's position is its opening quote.
        let quoted = key_line
            .chars()
            .nth((vcol as usize).saturating_sub(1))
            .is_some_and(|c| c == '"' || c == '\'');
        return (vline, vcol + ecol + u32::from(quoted));
    }
    // Every line of a block scalar starts at the block's indentation, where its first line's
    // content starts; deeper lines keep their extra indentation in the expression.
    let line = vline + eline - 1;
    let indent = if is_block {
        vcol.saturating_sub(1)
    } else {
        lines
            .get(line.saturating_sub(1) as usize)
            .map_or(0, |l| l.len() - l.trim_start().len()) as u32
    };
    (line, indent + ecol + 1)
}

/// The `{{ }}` expressions of a message template (an unclosed one is left out).
fn template_exprs(t: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            break;
        };
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

fn compile_template(
    env: &Env,
    path: &str,
    text: &str,
    s: &serde_saphyr::Spanned<String>,
    known: &fields::Known,
) -> Result<Template, Box<PolicyError>> {
    let mut parts = Vec::new();
    let mut rest = s.value.as_str();
    // Where `rest` starts in the message.
    let mut pos = 0;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let after_pos = pos + start + 2;
        let Some(end) = after.find("}}") else {
            let line = s.referenced.line() as u32;
            return Err(error_at(
                path,
                text,
                line,
                1,
                "unclosed `{{` in message".into(),
                "here",
            ));
        };
        let inner = &after[..end];
        let at = ExprAt {
            value: &s.value,
            base: after_pos + inner.len() - inner.trim_start().len(),
            at: &s.referenced,
        };
        let expr = compile_expr(env, path, text, inner.trim(), &at, "message", known)?;
        parts.push(Part::Expr(expr));
        rest = &after[end + 2..];
        pos = after_pos + end + 2;
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(Template { parts })
}
