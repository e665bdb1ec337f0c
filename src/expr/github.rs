//! GitHub Actions `${{ }}` expressions: what a context value is known to be for a trigger,
//! and the condition lexer, parser and evaluator over [`Tri`].

use super::{Connective, ConnectiveTokens, Depth, Tri, chain, string_literal};
use crate::model::ci::Trigger;

/// What a trigger tells about `github.*` values: `Some(v)` when known for every run it
/// starts.
fn known_value(var: &str, t: &Trigger, in_call: bool) -> Option<String> {
    let dispatch = t.event == "workflow_dispatch";
    // Inputs are empty for the triggers that give none (inside a reusable workflow, `inputs`
    // are the caller's).
    if var.starts_with("github.event.inputs.") && !dispatch {
        return Some(String::new());
    }
    if var.starts_with("inputs.") && !in_call && !dispatch && t.event != "workflow_call" {
        return Some(String::new());
    }
    match var {
        "github.event_name" => Some(t.event.clone()),
        "github.ref" | "github.ref_name" => {
            let single = |list: &[String]| {
                (list.len() == 1 && !list[0].contains(['*', '?', '!'])).then(|| list[0].clone())
            };
            if t.event == "push" && !t.tag_only && !t.tags.is_empty() {
                // Branch and tag filters together: the ref may be either.
                return None;
            }
            let (prefix, name) = if t.event == "push" && t.tag_only {
                ("refs/tags/", single(&t.tags)?)
            } else if t.event == "push" {
                ("refs/heads/", single(&t.branches)?)
            } else {
                return None;
            };
            Some(if var == "github.ref" {
                format!("{prefix}{name}")
            } else {
                name
            })
        }
        "github.base_ref" if t.pre_merge && t.event.starts_with("pull_request") => {
            (t.branches.len() == 1 && !t.branches[0].contains(['*', '?']))
                .then(|| t.branches[0].clone())
        }
        _ => None,
    }
}

/// What a trigger rules out for `github.ref`: a pull request's ref is never a branch or tag
/// ref; a tag push's never a branch; a branch push's never a tag.
fn ref_kind(t: &Trigger) -> Option<&'static str> {
    match t.event.as_str() {
        "pull_request" | "pull_request_target" => Some("refs/pull/"),
        "push" if t.tag_only => Some("refs/tags/"),
        "push" if t.tags.is_empty() => Some("refs/heads/"),
        _ => None,
    }
}

/// The deepest nesting of an expression text: parentheses open at once plus a run of `!`
/// (read without recursion, so any input is safe to measure).
pub fn expression_nesting(text: &str) -> usize {
    let (mut depth, mut deepest, mut bangs) = (0usize, 0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        bangs = if c == '!' {
            bangs + 1
        } else if c.is_whitespace() {
            bangs
        } else {
            0
        };
        deepest = deepest.max(depth + bangs);
    }
    deepest
}

/// Evaluates a job `if:` for one trigger: known true or false, or unknown.
pub fn eval_condition(cond: &str, t: &Trigger) -> Tri {
    eval_condition_in(cond, t, false)
}

/// [`eval_condition`]; `in_call` tells that the expression is read inside a reusable workflow
/// called from the trigger's workflow, where `inputs.*` come from the caller.
pub(crate) fn eval_condition_in(cond: &str, t: &Trigger, in_call: bool) -> Tri {
    eval_value(cond, t, in_call).map_or(Tri::U, |v| truthiness(&v))
}

/// The values an expression (`${{ ... }}` or its inside) can take for one trigger, `None` when
/// it does not parse.
pub(crate) fn eval_value(expr: &str, t: &Trigger, in_call: bool) -> Option<Vec<Poss>> {
    let c = expr.trim();
    let c = c
        .strip_prefix("${{")
        .and_then(|s| s.strip_suffix("}}"))
        .unwrap_or(c);
    let tokens = tokenize(c)?;
    let mut p = CondParser {
        tokens,
        pos: 0,
        depth: Depth::default(),
        trigger: t,
        in_call,
    };
    let v = p.or()?;
    (p.pos == p.tokens.len()).then_some(v)
}

/// One value an expression can take: a string, a boolean, or a value not known (whose
/// truthiness may still be known: `x || 'a'` is truthy whatever `x` is).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Poss {
    Str(String),
    Bool(bool),
    Any(Tri),
}

impl Poss {
    /// A boolean of truth `t`: unknown when `t` is.
    fn of(t: Tri) -> Poss {
        t.known().map_or(Poss::Any(Tri::U), Poss::Bool)
    }
}

/// The most values one expression is followed with; beyond, it is unknown.
const MAX_POSS: usize = 16;

fn truthy(p: &Poss) -> Tri {
    match p {
        Poss::Str(s) => Tri::of(!s.is_empty()),
        Poss::Bool(b) => Tri::of(*b),
        Poss::Any(t) => *t,
    }
}

/// Whether every value is truthy ([`Tri::T`]), none is ([`Tri::F`]), or it is unknown.
fn truthiness(values: &[Poss]) -> Tri {
    let mut it = values.iter().map(truthy);
    match it.next() {
        Some(first) if first != Tri::U && it.all(|t| t == first) => first,
        _ => Tri::U,
    }
}

/// Adds `p` to `out` unless present; past [`MAX_POSS`] values the whole is unknown.
fn push_poss(out: &mut Vec<Poss>, p: Poss) {
    if !out.contains(&p) {
        out.push(p);
    }
    if out.len() > MAX_POSS {
        *out = vec![Poss::Any(Tri::U)];
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' {
            let (v, next) = string_literal(&chars, i, '\'')?;
            i = next;
            out.push(Tok::Str(v));
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == ',' {
            out.push(Tok::Comma);
            i += 1;
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let op = match two.as_str() {
                "==" => Some("=="),
                "!=" => Some("!="),
                "&&" => Some("&&"),
                "||" => Some("||"),
                ">=" => Some(">="),
                "<=" => Some("<="),
                _ => None,
            };
            if let Some(op) = op {
                out.push(Tok::Op(op));
                i += 2;
            } else if matches!(c, '!' | '<' | '>') {
                out.push(Tok::Op(match c {
                    '!' => "!",
                    '<' => "<",
                    _ => ">",
                }));
                i += 1;
            } else {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || "._-*[]".contains(chars[i]))
                {
                    i += 1;
                }
                if start == i {
                    return None;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
        }
    }
    Some(out)
}

/// An operand: a literal, a variable (kept by name: `github.ref` rules out other ref kinds
/// even when its value is unknown), or the values of a sub-expression.
#[derive(Debug, Clone)]
enum Val {
    Known(String),
    Var(String),
    Values(Vec<Poss>),
}

struct CondParser<'t> {
    tokens: Vec<Tok>,
    pos: usize,
    /// Current nesting (parentheses, `!`, call arguments), bounded by
    /// [`MAX_DEPTH`](super::MAX_DEPTH).
    depth: Depth,
    trigger: &'t Trigger,
    /// Inside a reusable workflow: `inputs.*` come from the caller.
    in_call: bool,
}

/// The values of a boolean of truth `t`.
pub(crate) fn tri(t: Tri) -> Vec<Poss> {
    vec![Poss::of(t)]
}

impl ConnectiveTokens for CondParser<'_> {
    fn eat(&mut self, c: Connective) -> bool {
        let op = match c {
            Connective::And => "&&",
            Connective::Or => "||",
        };
        let next = self.peek() == Some(&Tok::Op(op));
        if next {
            self.pos += 1;
        }
        next
    }
}

impl CondParser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.pos)
    }
    /// `a || b`: `a` when truthy, else `b`. The outer `Option` is a syntax error (or an
    /// expression nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH)).
    fn or(&mut self) -> Option<Vec<Poss>> {
        self.depth.enter()?;
        let v = self.or_inner();
        self.depth.leave();
        v
    }

    fn or_inner(&mut self) -> Option<Vec<Poss>> {
        self.short_circuit(Connective::Or, Self::and)
    }
    /// `a && b`: `a` when falsy, else `b`.
    fn and(&mut self) -> Option<Vec<Poss>> {
        self.short_circuit(Connective::And, Self::not)
    }
    /// A chain of `c` over operands read by `operand`: each value of the left side whose
    /// truthiness decides `c` ([`Connective::absorbing`]) is the result, one of the opposite
    /// truthiness gives way to the right side, and an unknown one may be either.
    fn short_circuit(
        &mut self,
        c: Connective,
        operand: fn(&mut Self) -> Option<Vec<Poss>>,
    ) -> Option<Vec<Poss>> {
        let mut operands = chain(self, c, operand)?.into_iter();
        let mut v = operands.next()?;
        for r in operands {
            let mut out = Vec::new();
            for p in v {
                let t = truthy(&p);
                if t == c.absorbing() {
                    push_poss(&mut out, p);
                } else {
                    if t == Tri::U {
                        push_poss(&mut out, Poss::Any(c.absorbing()));
                    }
                    r.iter().for_each(|q| push_poss(&mut out, q.clone()));
                }
            }
            v = out;
        }
        Some(v)
    }
    fn not(&mut self) -> Option<Vec<Poss>> {
        if self.peek() == Some(&Tok::Op("!")) {
            self.pos += 1;
            self.depth.enter()?;
            let v = self.not();
            self.depth.leave();
            let v = v?;
            let mut out = Vec::new();
            for p in &v {
                push_poss(&mut out, Poss::of(!truthy(p)));
            }
            return Some(out);
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Option<Vec<Poss>> {
        let left = self.atom()?;
        if let Some(Tok::Op(op @ ("==" | "!=" | "<" | ">" | "<=" | ">="))) = self.peek().cloned() {
            self.pos += 1;
            let right = self.atom()?;
            if op != "==" && op != "!=" {
                return Some(tri(Tri::U));
            }
            let eq = self.equals(&left, &right);
            return Some(tri(if op == "==" { eq } else { !eq }));
        }
        Some(self.values(&left))
    }
    /// The values an operand can take for the trigger.
    fn values(&self, v: &Val) -> Vec<Poss> {
        match v {
            Val::Known(s) => vec![Poss::Str(s.clone())],
            Val::Var(name) => vec![
                known_value(name, self.trigger, self.in_call).map_or(Poss::Any(Tri::U), Poss::Str),
            ],
            Val::Values(p) => p.clone(),
        }
    }
    /// The single string an operand has, when known.
    fn resolve(&self, v: &Val) -> Option<String> {
        match self.values(v).as_slice() {
            [Poss::Str(s)] => Some(s.clone()),
            _ => None,
        }
    }
    fn equals(&self, a: &Val, b: &Val) -> Tri {
        match (self.resolve(a), self.resolve(b)) {
            (Some(x), Some(y)) => Tri::of(x == y),
            (None, Some(lit)) | (Some(lit), None) => {
                let var = match (a, b) {
                    (Val::Var(n), _) | (_, Val::Var(n)) => n.as_str(),
                    _ => return self.equals_values(a, b),
                };
                if var == "github.ref" {
                    match ref_kind(self.trigger) {
                        Some(kind) if !lit.starts_with(kind) => Tri::F,
                        _ => Tri::U,
                    }
                } else {
                    self.equals_values(a, b)
                }
            }
            _ => self.equals_values(a, b),
        }
    }
    /// Equality over every pair of values the operands can take.
    fn equals_values(&self, a: &Val, b: &Val) -> Tri {
        let (xs, ys) = (self.values(a), self.values(b));
        let mut seen: Option<bool> = None;
        for x in &xs {
            for y in &ys {
                let eq = match (x, y) {
                    (Poss::Str(x), Poss::Str(y)) => x == y,
                    (Poss::Bool(x), Poss::Bool(y)) => x == y,
                    _ => return Tri::U,
                };
                if seen.is_some_and(|s| s != eq) {
                    return Tri::U;
                }
                seen = Some(eq);
            }
        }
        seen.map_or(Tri::U, Tri::of)
    }
    fn atom(&mut self) -> Option<Val> {
        let tok = self.peek()?.clone();
        self.pos += 1;
        match tok {
            Tok::Str(s) => Some(Val::Known(s)),
            Tok::LParen => {
                let v = self.or()?;
                (self.peek() == Some(&Tok::RParen)).then(|| self.pos += 1)?;
                Some(Val::Values(v))
            }
            Tok::Ident(name) => {
                if self.peek() == Some(&Tok::LParen) {
                    self.pos += 1;
                    let mut args = Vec::new();
                    while self.peek() != Some(&Tok::RParen) {
                        let a = self.or_value()?;
                        args.push(a);
                        if self.peek() == Some(&Tok::Comma) {
                            self.pos += 1;
                        } else if self.peek() != Some(&Tok::RParen) {
                            return None;
                        }
                    }
                    self.pos += 1;
                    return Some(Val::Values(tri(self.call(&name, &args))));
                }
                Some(match name.as_str() {
                    "true" => Val::Values(vec![Poss::Bool(true)]),
                    "false" => Val::Values(vec![Poss::Bool(false)]),
                    _ => Val::Var(name),
                })
            }
            _ => None,
        }
    }
    /// A function argument: a plain atom (strings and variables keep their identity).
    /// Nesting counts against [`MAX_DEPTH`](super::MAX_DEPTH) as in [`Self::or`].
    fn or_value(&mut self) -> Option<Val> {
        self.depth.enter()?;
        let v = self.atom();
        self.depth.leave();
        v
    }
    fn call(&self, name: &str, args: &[Val]) -> Tri {
        match (name.to_ascii_lowercase().as_str(), args) {
            ("startswith", [a, b]) => {
                let Some(lit) = self.resolve(b) else {
                    return Tri::U;
                };
                match self.resolve(a) {
                    Some(v) => Tri::of(v.starts_with(&lit)),
                    None => match (a, ref_kind(self.trigger)) {
                        (Val::Var(n), Some(kind)) if n == "github.ref" => {
                            if lit.starts_with(kind) || kind.starts_with(&lit) {
                                Tri::U
                            } else {
                                Tri::F
                            }
                        }
                        _ => Tri::U,
                    },
                }
            }
            ("success" | "always", []) => Tri::T,
            _ => Tri::U,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::location::Location;

    #[test]
    fn function_arguments_nested_deeply_are_unknown_not_a_stack_overflow() {
        let n = 20_000;
        let cond = format!(
            "startsWith({}x{}, 'refs/tags/')",
            "f(".repeat(n),
            ")".repeat(n)
        );
        let t = Trigger {
            default_branch: true,
            ..Trigger::new("push", Location::file_start("w.yml"))
        };
        assert_eq!(eval_condition(&cond, &t), Tri::U);
        assert_eq!(
            eval_condition("startsWith(github.ref, 'refs/tags/')", &t),
            Tri::F
        );
    }

    #[test]
    fn job_conditions_are_three_valued() {
        let push_main = Trigger {
            branches: vec!["main".into()],
            default_branch: true,
            ..Trigger::new("push", Location::file_start("a"))
        };
        let mut pr = push_main.clone();
        pr.event = "pull_request".into();
        let mut dispatch = push_main.clone();
        dispatch.event = "workflow_dispatch".into();
        dispatch.branches.clear();
        assert_eq!(
            eval_condition("github.ref == 'refs/heads/develop'", &push_main),
            Tri::F
        );
        assert_eq!(
            eval_condition("github.ref == 'refs/heads/main'", &push_main),
            Tri::T
        );
        assert_eq!(
            eval_condition("${{ github.event_name == 'push' }}", &pr),
            Tri::F
        );
        assert_eq!(
            eval_condition("github.ref == 'refs/heads/main'", &pr),
            Tri::F
        );
        assert_eq!(
            eval_condition(
                "github.event_name == 'workflow_dispatch' && inputs.env == 'production'",
                &dispatch
            ),
            Tri::U
        );
        assert_eq!(
            eval_condition(
                "github.event_name == 'workflow_dispatch' && inputs.env == 'production'",
                &push_main
            ),
            Tri::F
        );
        assert_eq!(
            eval_condition("!startsWith(github.ref, 'refs/tags/')", &push_main),
            Tri::T
        );
        assert_eq!(
            eval_condition(
                "contains(github.event.head_commit.message, 'x')",
                &push_main
            ),
            Tri::U
        );
        assert_eq!(eval_condition("(((", &push_main), Tri::U);
    }
}
