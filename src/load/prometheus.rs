//! Prometheus rule files, discovered by content: YAML documents with `groups[].rules[]`
//! (rules carrying `alert`/`record` and `expr`) and Kubernetes `PrometheusRule` objects
//! (`spec.groups`). Every expression is parsed with `promql-parser`; an invalid one is a
//! load error at its `expr:` line and only that rule is dropped.

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::load::LoadError;
use crate::load::yaml::{self, YamlFailure};
use crate::location::Location;

pub use crate::model::alerts::{AlertFile, AlertRule};

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    groups: Option<Spanned<Vec<Group>>>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    spec: Option<Spec>,
}

#[derive(Deserialize)]
struct Spec {
    #[serde(default)]
    groups: Option<Spanned<Vec<Group>>>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
struct RawRule {
    #[serde(default)]
    alert: Option<Spanned<String>>,
    #[serde(default)]
    record: Option<Spanned<String>>,
    #[serde(default)]
    expr: Option<Spanned<serde_json::Value>>,
    #[serde(default, rename = "for")]
    for_: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    labels: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    annotations: Option<std::collections::BTreeMap<String, serde_json::Value>>,
}

/// The outcome of probing a YAML file for rules.
#[derive(Debug, Default)]
pub struct Probe {
    /// The rules file, when the file is one.
    pub file: Option<AlertFile>,
    /// Load errors: the file itself (invalid YAML that looks like rules), or invalid
    /// expressions (one each).
    pub errors: Vec<LoadError>,
    /// Why the file was skipped (a template), when it was.
    pub skipped: Option<LoadError>,
    /// The parsed expression of each rule of `file`, in the same order: the derive stage
    /// reads its facts from them (`facts::promql::describe`) without parsing again.
    pub exprs: Vec<promql_parser::parser::Expr>,
}

/// Cheap textual pre-filter: could this text hold Prometheus rules?
pub fn may_hold_rules(text: &str) -> bool {
    // A rules file has a top-level `groups:` key (a line starting with it); a PrometheusRule
    // object names its kind. Other YAML that merely mentions these words (an OpenAPI spec) is
    // not parsed, so it cannot be reported as a broken rules file.
    let top_groups = text.lines().any(|l| yaml::is_top_level_key(l, "groups"));
    (top_groups || text.contains("PrometheusRule"))
        && text.contains("expr")
        && text.contains("rules")
}

/// Reads `text` as a possible rules file.
pub fn probe(rel: &str, text: &str) -> Probe {
    let mut out = Probe::default();
    if !may_hold_rules(text) {
        return out;
    }
    let docs = match yaml::parse_documents::<serde_json::Value>(rel, text) {
        Ok(d) => d,
        Err(YamlFailure::Invalid(e)) => {
            out.errors.push(e);
            return out;
        }
        Err(YamlFailure::Template(e)) => {
            out.skipped = Some(e);
            return out;
        }
    };
    if !docs.iter().any(has_rules_shape) {
        return out;
    }
    let typed = match yaml::parse_documents::<Option<Doc>>(rel, text) {
        Ok(d) => d,
        Err(YamlFailure::Invalid(e) | YamlFailure::Template(e)) => {
            out.errors.push(e);
            return out;
        }
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut file = AlertFile {
        path: rel.to_string(),
        groups_loc: Location::file_start(rel),
        rules: Vec::new(),
    };
    let mut first = true;
    for doc in typed.into_iter().flatten() {
        let groups = match (&doc.kind, doc.groups, doc.spec) {
            (Some(k), _, Some(spec)) if k == "PrometheusRule" => spec.groups,
            (_, g @ Some(_), _) => g,
            _ => None,
        };
        let Some(groups) = groups else { continue };
        if first {
            let line = key_line(&lines, span_line(&groups.referenced), "groups:");
            file.groups_loc = Location::point(rel, line, 1);
            first = false;
        }
        for g in groups.value {
            let group = g.name.unwrap_or_default();
            for r in g.rules {
                let Some(expr) = r.expr else { continue };
                let expr_text = match &expr.value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let expr_line = key_line(&lines, span_line(&expr.referenced), "expr:");
                let expr_loc = Location::point(rel, expr_line, 1);
                let name_node = r.alert.as_ref().or(r.record.as_ref());
                let loc = name_node.map_or(expr_loc.clone(), |n| {
                    Location::point(rel, span_line(&n.referenced), span_col(&n.referenced))
                });
                // Only rules whose expression parses are kept; the parsed expression goes with
                // them (`Probe::exprs`) for the derive stage.
                let parsed = match parse_promql(&expr_text) {
                    Ok(p) => p,
                    Err(e) => {
                        let message = match e {
                            PromqlError::NotAnalysed(why) => {
                                format!("{rel}: PromQL expression not analysed: {why}")
                            }
                            PromqlError::Invalid(e) => format!(
                                "{rel}: invalid PromQL expression: {}",
                                e.lines().next().unwrap_or("")
                            ),
                        };
                        out.errors.push(LoadError {
                            message,
                            loc: expr_loc,
                            outside: false,
                        });
                        continue;
                    }
                };
                out.exprs.push(parsed);
                let text_of = |v: &serde_json::Value| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let strings =
                    |m: &Option<std::collections::BTreeMap<String, serde_json::Value>>| {
                        m.as_ref()
                            .map(|m| m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect())
                            .unwrap_or_default()
                    };
                let (for_seconds, for_loc) = match &r.for_ {
                    Some(f) => (
                        parse_duration(&text_of(&f.value)).unwrap_or(-1),
                        Location::point(rel, key_line(&lines, span_line(&f.referenced), "for:"), 1),
                    ),
                    None => (-1, loc.clone()),
                };
                file.rules.push(AlertRule {
                    group: group.clone(),
                    alert: r
                        .alert
                        .as_ref()
                        .map(|a| a.value.clone())
                        .unwrap_or_default(),
                    record: r
                        .record
                        .as_ref()
                        .map(|a| a.value.clone())
                        .unwrap_or_default(),
                    is_alert: r.alert.is_some(),
                    expr: expr_text,
                    expr_loc,
                    loc,
                    for_seconds,
                    for_loc,
                    labels: strings(&r.labels),
                    annotations: strings(&r.annotations),
                    // Computed in the derive stage (`facts::promql::derive`).
                    facts: Default::default(),
                });
            }
        }
    }
    out.file = Some(file);
    out
}

/// A Prometheus duration (`5m`, `300s`, `1h30m`, `0`) in seconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    let mut total = 0i64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            "ms"
        } else {
            match c {
                's' => "s",
                'm' => "m",
                'h' => "h",
                'd' => "d",
                'w' => "w",
                'y' => "y",
                _ => return None,
            }
        };
        let n: i64 = num.parse().ok()?;
        num.clear();
        any = true;
        total += match unit {
            "ms" => 0,
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86400,
            "w" => n * 604_800,
            _ => n * 31_536_000,
        };
    }
    (any && num.is_empty()).then_some(total)
}

fn span_line(l: &serde_saphyr::Location) -> u32 {
    u32::try_from(l.line()).unwrap_or(1).max(1)
}

fn span_col(l: &serde_saphyr::Location) -> u32 {
    u32::try_from(l.column()).unwrap_or(1).max(1)
}

/// The deepest PromQL nesting read: the parser recurses (and copies arguments) once per level,
/// so an expression nested deeper is not parsed rather than a stack overflow.
pub const MAX_PROMQL_NESTING: usize = 256;

/// Why a PromQL expression has no parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromqlError {
    /// Past what is analysed (operators or nesting): not parsed, said so.
    NotAnalysed(String),
    /// Not valid PromQL: the parser's message.
    Invalid(String),
}

/// Parses a PromQL expression, the one way in for every caller. An expression with more than
/// [`MAX_PROMQL_OPERATORS`] operators and parentheses (the parser is quadratic in an operator
/// chain) or nested deeper than [`MAX_PROMQL_NESTING`] brackets (it recurses per level) is
/// not parsed; both are measured in one pass without recursion, outside quoted strings.
pub fn parse_promql(text: &str) -> Result<promql_parser::parser::Expr, PromqlError> {
    let operators = promql_operators(text);
    if operators > MAX_PROMQL_OPERATORS {
        return Err(PromqlError::NotAnalysed(format!(
            "{operators} operators and parentheses is more than the {MAX_PROMQL_OPERATORS} analysed"
        )));
    }
    let deepest = promql_nesting(text);
    if deepest > MAX_PROMQL_NESTING {
        return Err(PromqlError::NotAnalysed(format!(
            "nested deeper than {MAX_PROMQL_NESTING} levels ({deepest})"
        )));
    }
    promql_parser::parser::parse(text).map_err(PromqlError::Invalid)
}

/// The deepest bracket nesting of a PromQL text, outside quoted strings.
fn promql_nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The line of `key` at or above `line` (a block scalar's value starts below its key).
fn key_line(lines: &[&str], line: u32, key: &str) -> u32 {
    let mut l = line as usize;
    while l >= 1 {
        let t = lines
            .get(l - 1)
            .map_or("", |s| s.trim_start().trim_start_matches("- "));
        if t.starts_with(key) {
            return l as u32;
        }
        if l + 3 < line as usize {
            break;
        }
        l -= 1;
    }
    line
}

/// Whether a parsed document has the shape of a rules document.
fn has_rules_shape(doc: &serde_json::Value) -> bool {
    let groups = if doc.get("kind").and_then(|k| k.as_str()) == Some("PrometheusRule") {
        doc.get("spec").and_then(|s| s.get("groups"))
    } else {
        doc.get("groups")
    };
    let Some(groups) = groups.and_then(|g| g.as_array()) else {
        return false;
    };
    groups.iter().any(|g| {
        g.get("rules")
            .and_then(|r| r.as_array())
            .is_some_and(|rules| {
                rules.iter().any(|r| {
                    r.get("expr").is_some()
                        && (r.get("alert").is_some() || r.get("record").is_some())
                })
            })
    })
}

/// Most operators and opening parentheses in one PromQL expression that are analysed: the
/// parser's cost grows with the square of a chain of operators (`a + b + c + …`), so a
/// longer one is reported rather than parsed.
const MAX_PROMQL_OPERATORS: usize = 128;

/// Counts the operator characters (`+ - * / % ^ < > = !`, each run as one), opening
/// parentheses and the operator words `and`, `or`, `unless`, `atan2` of a PromQL text,
/// outside quotes, label matchers (`{…}`) and ranges (`[…]`). An upper bound on the operators
/// the parser will meet, read in one pass.
fn promql_operators(text: &str) -> usize {
    let b = text.as_bytes();
    let (mut i, mut n) = (0, 0);
    let mut in_op = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' | b'`' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' && c != b'`' { 2 } else { 1 };
                }
                in_op = false;
            }
            b'{' | b'[' => {
                let close = if c == b'{' { b'}' } else { b']' };
                while i < b.len() && b[i] != close {
                    i += 1;
                }
                in_op = false;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                in_op = false;
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'<' | b'>' | b'=' | b'!' => {
                if !in_op {
                    n += 1;
                }
                in_op = true;
            }
            b'(' => {
                n += 1;
                in_op = false;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b':' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b':')
                {
                    i += 1;
                }
                let word = text.get(start..i).unwrap_or("");
                if ["and", "or", "unless", "atan2"]
                    .iter()
                    .any(|w| word.eq_ignore_ascii_case(w))
                {
                    n += 1;
                }
                in_op = false;
                continue;
            }
            _ => in_op = false,
        }
        i += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expression_with_too_many_operators_is_reported_not_parsed() {
        let long = (0..200)
            .map(|i| format!("m{i}"))
            .collect::<Vec<_>>()
            .join(" + ");
        let text = format!(
            "groups:\n  - name: g\n    rules:\n      - alert: Long\n        expr: {long} > 1\n      - alert: Good\n        expr: sum(rate(x{{a=~\"b|c-d\"}}[5m])) / sum(rate(y[5m])) > 0.05 and on() up == 1\n"
        );
        let p = probe("alerts.yml", &text);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].loc.line, 5);
        assert!(p.errors[0].message.contains("more than the 128 analysed"));
        let f = p.file.expect("rules file");
        assert_eq!(f.rules.len(), 1);
        assert_eq!(f.rules[0].alert, "Good");
        assert_eq!(
            promql_operators("sum(rate(x{a!=\"-+-\"}[5m])) / 2 > 0.05 or vector(1)"),
            6
        );
    }

    #[test]
    fn deeply_nested_promql_is_an_error_not_a_stack_overflow() {
        let n = 20_000;
        let expr = format!("{}x{} > 1", "sum(".repeat(n), ")".repeat(n));
        let text =
            format!("groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: {expr}\n");
        let probe = probe("rules.yml", &text);
        assert_eq!(probe.errors.len(), 1, "{:?}", probe.errors);
        assert!(
            probe.errors[0].message.contains("nested deeper than")
                || probe.errors[0].message.contains("not analysed"),
            "{}",
            probe.errors[0].message
        );
        assert_eq!(probe.errors[0].loc.line, 5);
        assert!(parse_promql("sum(rate(x{a=\"((((\"}[5m]))").is_ok());
    }

    #[test]
    fn finds_rules_and_reports_invalid_promql_at_its_expr_line() {
        let text = "groups:\n  - name: g\n    rules:\n      - alert: Bad\n        expr: sum(rate(x[5m])\n      - alert: Good\n        expr: |\n          up == 0\n";
        let p = probe("alerts.yml", text);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].loc.line, 5);
        let f = p.file.expect("rules file");
        assert_eq!(f.rules.len(), 1);
        assert_eq!(f.rules[0].alert, "Good");
        assert_eq!(f.rules[0].expr_loc.line, 7);
        assert_eq!(f.rules[0].loc.line, 6);
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("300s"), Some(300));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn crd_and_lookalikes() {
        let crd = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n    - name: g\n      rules:\n        - alert: A\n          expr: up == 0\n";
        let f = probe("r.yaml", crd).file.expect("crd rules");
        assert_eq!(f.groups_loc.line, 4);
        let am = "route:\n  receiver: x\nreceivers:\n  - name: x\n";
        assert!(probe("alertmanager.yml", am).file.is_none());
        let tests = "rule_files: [a.yml]\ntests:\n  - promql_expr_test:\n      - expr: up\n";
        assert!(probe("t.yml", tests).file.is_none());
    }

    #[test]
    fn yaml_that_only_mentions_rules_is_not_parsed_as_a_rules_file() {
        // An OpenAPI document naming groups, rules and expr, with more aliases than the
        // parser's budget allows: not a rules file, so no error either.
        let mut spec = String::from(
            "openapi: 3.0.0\ncomponents:\n  x: &p {in: query}\npaths:\n  /groups:\n    get:\n      description: rules with an expr\n      parameters:\n",
        );
        for _ in 0..2000 {
            spec.push_str("        - *p\n");
        }
        let p = probe("openapi.yml", &spec);
        assert!(p.file.is_none() && p.errors.is_empty(), "{:?}", p.errors);
        // A broken file with a top-level groups key is still reported.
        let broken = probe(
            "alerts.yml",
            "groups:\n  - name: g\n    rules:\n      - expr: [\n",
        );
        assert_eq!(broken.errors.len(), 1);
    }
}
