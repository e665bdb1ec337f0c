//! GitLab `rules: if:` expressions: the pipeline sources they are judged in, what a
//! predefined variable holds per pipeline source, GitLab's `/pattern/flags` regular
//! expressions, the expression lexer, parser and evaluator over [`Tri`], and whether an
//! `only:`/`except:` ref matches a source.

use super::{Connective, ConnectiveTokens, Depth, Tri, chain, string_literal};
use crate::location::Location;
use crate::model::ci::Trigger;

/// The default branch's name, as recorded on triggers.
const DEFAULT_BRANCH: &str = "main";

/// What a variable is known to hold in a pipeline of some source.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    /// Not set (also the `null` literal).
    Unset,
    /// A known string.
    Lit(String),
    /// The default branch's name (`main`/`master`).
    DefaultBranch,
    /// The name of a branch or tag that is not the default branch.
    OtherRef,
    /// Set to some non-empty, unknown value.
    Set,
    /// Anything.
    Unknown,
}

fn is_default_name(s: &str) -> bool {
    s == "main" || s == "master"
}

fn ref_name(src: Source) -> Val {
    match src {
        Source::PushDefault => Val::DefaultBranch,
        Source::PushOther | Source::MergeRequest | Source::Tag => Val::OtherRef,
        Source::Schedule | Source::Web | Source::Api => Val::Set,
    }
}

/// The value of a predefined variable for `src`; other variables are unknown.
fn var_value(name: &str, src: Source) -> Val {
    use Source::*;
    let mr = src == MergeRequest;
    match name {
        "CI_PIPELINE_SOURCE" => Val::Lit(src.pipeline_source().to_string()),
        "CI_DEFAULT_BRANCH" => Val::DefaultBranch,
        "CI_COMMIT_BRANCH" => match src {
            PushDefault => Val::DefaultBranch,
            PushOther => Val::OtherRef,
            MergeRequest | Tag => Val::Unset,
            Schedule | Web | Api => Val::Set,
        },
        "CI_COMMIT_REF_NAME" | "CI_COMMIT_REF_SLUG" => ref_name(src),
        "CI_COMMIT_TAG" | "CI_COMMIT_TAG_MESSAGE" => {
            if src == Tag {
                Val::Set
            } else {
                Val::Unset
            }
        }
        "CI_MERGE_REQUEST_ID" | "CI_MERGE_REQUEST_IID" | "CI_MERGE_REQUEST_PROJECT_ID" => {
            if mr {
                Val::Set
            } else {
                Val::Unset
            }
        }
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME" => {
            if mr {
                Val::OtherRef
            } else {
                Val::Unset
            }
        }
        "CI_OPEN_MERGE_REQUESTS" => {
            if src == Tag {
                Val::Unset
            } else {
                Val::Unknown
            }
        }
        n if n.starts_with("CI_MERGE_REQUEST_") => {
            if mr {
                Val::Unknown
            } else {
                Val::Unset
            }
        }
        n if n.starts_with("CI_EXTERNAL_PULL_REQUEST_") => Val::Unset,
        _ => Val::Unknown,
    }
}

fn equals(a: &Val, b: &Val) -> Tri {
    use Val::*;
    match (a, b) {
        (Unknown, _) | (_, Unknown) => Tri::U,
        (Unset, Unset) => Tri::T,
        (Unset, _) | (_, Unset) => Tri::F,
        (Lit(x), Lit(y)) => Tri::of(x == y),
        (DefaultBranch, DefaultBranch) => Tri::T,
        (DefaultBranch, OtherRef) | (OtherRef, DefaultBranch) => Tri::F,
        (DefaultBranch, Lit(s)) | (Lit(s), DefaultBranch) => Tri::of(is_default_name(s)),
        (OtherRef, Lit(s)) | (Lit(s), OtherRef) => {
            if s.is_empty() || is_default_name(s) {
                Tri::F
            } else {
                Tri::U
            }
        }
        (Set, Lit(s)) | (Lit(s), Set) => {
            if s.is_empty() {
                Tri::F
            } else {
                Tri::U
            }
        }
        _ => Tri::U,
    }
}

fn regex_matches(v: &Val, re: &regex::Regex) -> Tri {
    match v {
        Val::Unset => Tri::F,
        Val::Lit(s) => Tri::of(re.is_match(s)),
        Val::DefaultBranch => {
            let (a, b) = (re.is_match("main"), re.is_match("master"));
            if a == b { Tri::of(a) } else { Tri::U }
        }
        _ => Tri::U,
    }
}

fn truthy(v: &Val) -> Tri {
    match v {
        Val::Unset => Tri::F,
        Val::Lit(s) => Tri::of(!s.is_empty()),
        Val::Unknown => Tri::U,
        _ => Tri::T,
    }
}

#[derive(Debug, Clone)]
enum Tok {
    Var(String),
    Str(String),
    /// A regex literal; `None` when it does not compile.
    Re(Option<regex::Regex>),
    Null,
    Eq,
    Ne,
    Match,
    NoMatch,
    And,
    Or,
    LParen,
    RParen,
}

/// A parsed expression.
#[derive(Debug)]
pub(crate) enum Expr {
    /// Two or more operands joined by `&&` or by `||`.
    Chain(Connective, Vec<Expr>),
    Cmp(Opnd, CmpOp, Opnd),
    Truthy(Opnd),
}

#[derive(Debug)]
pub(crate) enum Opnd {
    Var(String),
    Str(String),
    Null,
    Re(Option<regex::Regex>),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Match,
    NoMatch,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '$' => {
                let name: String = if at(i + 1) == Some('{') {
                    let len = chars.get(i + 2..)?.iter().position(|c| *c == '}')?;
                    let name = chars.get(i + 2..i + 2 + len)?.iter().collect();
                    i += len + 3;
                    name
                } else {
                    let len = chars
                        .get(i + 1..)?
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .count();
                    let name = chars.get(i + 1..i + 1 + len)?.iter().collect();
                    i += len + 1;
                    name
                };
                if name.is_empty() {
                    return None;
                }
                out.push(Tok::Var(name));
            }
            '"' | '\'' => {
                let (lit, next) = string_literal(&chars, i, '\\')?;
                out.push(Tok::Str(lit));
                i = next;
            }
            '/' if matches!(out.last(), Some(Tok::Match | Tok::NoMatch)) => {
                let mut j = i + 1;
                let mut pattern = String::new();
                loop {
                    let d = at(j)?;
                    if d == '\\' && at(j + 1) == Some('/') {
                        pattern.push('/');
                        j += 2;
                    } else if d == '\\' {
                        pattern.push(d);
                        pattern.push(at(j + 1)?);
                        j += 2;
                    } else if d == '/' {
                        break;
                    } else {
                        pattern.push(d);
                        j += 1;
                    }
                }
                j += 1;
                let mut flags = String::new();
                while let Some(f) = at(j).filter(char::is_ascii_alphabetic) {
                    flags.push(f);
                    j += 1;
                }
                out.push(Tok::Re(build_regex(&pattern, &flags)));
                i = j;
            }
            '=' | '!' => {
                let tok = match (c, at(i + 1)?) {
                    ('=', '=') => Tok::Eq,
                    ('=', '~') => Tok::Match,
                    ('!', '=') => Tok::Ne,
                    ('!', '~') => Tok::NoMatch,
                    _ => return None,
                };
                out.push(tok);
                i += 2;
            }
            '&' | '|' => {
                if at(i + 1) != Some(c) {
                    return None;
                }
                out.push(if c == '&' { Tok::And } else { Tok::Or });
                i += 2;
            }
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            _ => {
                let word: String = chars
                    .get(i..)?
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .collect();
                if word == "null" {
                    out.push(Tok::Null);
                    i += 4;
                } else {
                    return None;
                }
            }
        }
    }
    Some(out)
}

/// Parses a `rules: if:` expression and evaluates it for every pipeline source; whether it
/// parsed. The entry point of the GitLab expression fuzz target ([`crate::fuzzing`]).
pub(crate) fn parse_and_evaluate(text: &str) -> bool {
    let Some(e) = parse_expr(text) else {
        return false;
    };
    for src in Source::ALL {
        let _ = eval_expr(&e, src);
    }
    true
}

/// A `rules: if:` expression parsed, `None` when it does not parse (or nests deeper than
/// [`MAX_DEPTH`](super::MAX_DEPTH) parentheses).
pub(crate) fn parse_expr(text: &str) -> Option<Expr> {
    let toks = tokenize(text)?;
    let mut p = ExprParser {
        toks,
        pos: 0,
        depth: Depth::default(),
    };
    let e = p.or()?;
    (p.pos == p.toks.len()).then_some(e)
}

struct ExprParser {
    toks: Vec<Tok>,
    pos: usize,
    /// Parentheses open, bounded by [`MAX_DEPTH`](super::MAX_DEPTH).
    depth: Depth,
}

impl ConnectiveTokens for ExprParser {
    fn eat(&mut self, c: Connective) -> bool {
        let next = matches!(
            (c, self.peek()),
            (Connective::And, Some(Tok::And)) | (Connective::Or, Some(Tok::Or))
        );
        if next {
            self.pos += 1;
        }
        next
    }
}

impl ExprParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Option<Expr> {
        self.connective(Connective::Or, Self::and)
    }

    fn and(&mut self) -> Option<Expr> {
        self.connective(Connective::And, Self::primary)
    }

    /// A chain of `c` over operands read by `operand`; a single operand stands alone.
    fn connective(
        &mut self,
        c: Connective,
        operand: fn(&mut Self) -> Option<Expr>,
    ) -> Option<Expr> {
        let mut terms = chain(self, c, operand)?;
        Some(if terms.len() == 1 {
            terms.pop()?
        } else {
            Expr::Chain(c, terms)
        })
    }

    fn primary(&mut self) -> Option<Expr> {
        if matches!(self.peek(), Some(Tok::LParen)) {
            self.pos += 1;
            self.depth.enter()?;
            let e = self.or()?;
            if !matches!(self.next()?, Tok::RParen) {
                return None;
            }
            self.depth.leave();
            return Some(e);
        }
        let lhs = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Eq) => CmpOp::Eq,
            Some(Tok::Ne) => CmpOp::Ne,
            Some(Tok::Match) => CmpOp::Match,
            Some(Tok::NoMatch) => CmpOp::NoMatch,
            _ => return Some(Expr::Truthy(lhs)),
        };
        self.pos += 1;
        let rhs = self.operand()?;
        Some(Expr::Cmp(lhs, op, rhs))
    }

    fn operand(&mut self) -> Option<Opnd> {
        Some(match self.next()? {
            Tok::Var(v) => Opnd::Var(v),
            Tok::Str(s) => Opnd::Str(s),
            Tok::Null => Opnd::Null,
            Tok::Re(r) => Opnd::Re(r),
            _ => return None,
        })
    }
}

/// The truth of a parsed expression in a pipeline of source `src`.
pub(crate) fn eval_expr(e: &Expr, src: Source) -> Tri {
    let val = |o: &Opnd| match o {
        Opnd::Var(v) => var_value(v, src),
        Opnd::Str(s) => Val::Lit(s.clone()),
        Opnd::Null => Val::Unset,
        Opnd::Re(_) => Val::Unknown,
    };
    match e {
        Expr::Chain(c, terms) => c.fold(terms.iter().map(|t| eval_expr(t, src))),
        Expr::Truthy(o) => truthy(&val(o)),
        Expr::Cmp(a, op, b) => {
            let matched = || match b {
                Opnd::Re(Some(re)) => regex_matches(&val(a), re),
                _ => Tri::U,
            };
            match op {
                CmpOp::Eq => equals(&val(a), &val(b)),
                CmpOp::Ne => !equals(&val(a), &val(b)),
                CmpOp::Match => matched(),
                CmpOp::NoMatch => !matched(),
            }
        }
    }
}

/// A pipeline source: one way a GitLab pipeline starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// A push to the default branch.
    PushDefault,
    /// A push to another branch.
    PushOther,
    /// A merge-request pipeline.
    MergeRequest,
    /// A tag pipeline.
    Tag,
    Schedule,
    Web,
    Api,
}

impl Source {
    /// Every source.
    pub(crate) const ALL: [Source; 7] = [
        Source::PushDefault,
        Source::PushOther,
        Source::MergeRequest,
        Source::Tag,
        Source::Schedule,
        Source::Web,
        Source::Api,
    ];

    /// The value of `CI_PIPELINE_SOURCE`.
    pub(crate) fn pipeline_source(self) -> &'static str {
        match self {
            Source::PushDefault | Source::PushOther | Source::Tag => "push",
            Source::MergeRequest => "merge_request_event",
            Source::Schedule => "schedule",
            Source::Web => "web",
            Source::Api => "api",
        }
    }

    /// The model's trigger for this source, recorded at `loc`.
    pub(crate) fn trigger(self, loc: Location) -> Trigger {
        let mut t = Trigger::new("", loc);
        match self {
            Source::PushDefault => {
                t.event = "push".into();
                t.branches = vec![DEFAULT_BRANCH.to_string()];
                t.default_branch = true;
            }
            Source::PushOther => {
                t.event = "push".into();
                t.branches = vec!["*".to_string()];
                t.pre_merge = true;
            }
            Source::MergeRequest => {
                t.event = "merge_request".into();
                t.pre_merge = true;
            }
            Source::Tag => {
                t.event = "push".into();
                t.tags = vec!["*".to_string()];
                t.tag_only = true;
            }
            Source::Schedule => t.event = "schedule".into(),
            Source::Web => t.event = "web".into(),
            Source::Api => t.event = "api".into(),
        }
        t
    }

    /// Whether a pipeline of this source runs before changes are merged.
    pub(crate) fn pre_merge(self) -> bool {
        matches!(self, Source::PushOther | Source::MergeRequest)
    }
}

/// A GitLab `/pattern/flags` regular expression, bounded in size.
fn build_regex(pattern: &str, flags: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(&pattern.replace("\\/", "/"))
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .size_limit(1 << 20)
        .build()
        .ok()
}

/// Whether an `only:`/`except:` ref matches for `src`.
pub(crate) fn ref_matches(r: &str, src: Source) -> Tri {
    use Source::*;
    let r = r.trim();
    let is = |sources: &[Source]| Tri::of(sources.contains(&src));
    match r {
        "branches" => is(&[PushDefault, PushOther, Schedule, Web, Api]),
        "tags" => is(&[Tag]),
        "merge_requests" => is(&[MergeRequest]),
        "schedules" => is(&[Schedule]),
        "web" => is(&[Web]),
        "api" => is(&[Api]),
        "pushes" => is(&[PushDefault, PushOther, Tag]),
        "triggers" | "pipelines" | "external" | "chat" | "external_pull_requests" | "webide" => {
            Tri::F
        }
        _ => {
            if src == MergeRequest {
                // Merge-request pipelines only run jobs that ask for `merge_requests`.
                return Tri::F;
            }
            if r.contains('@') {
                return Tri::U;
            }
            let name = ref_name(src);
            if r == "$CI_DEFAULT_BRANCH" || r == "${CI_DEFAULT_BRANCH}" {
                return equals(&name, &Val::DefaultBranch);
            }
            if let Some(re) = r.strip_prefix('/').and_then(parse_regex_literal) {
                return match re {
                    Some(re) => regex_matches(&name, &re),
                    None => Tri::U,
                };
            }
            equals(&name, &Val::Lit(r.to_string()))
        }
    }
}

/// `pattern/flags` (after the opening slash) as a regex: `None` when it is not a regex
/// literal, `Some(None)` when it is one that does not compile.
fn parse_regex_literal(rest: &str) -> Option<Option<regex::Regex>> {
    let end = rest.rfind('/')?;
    let (pattern, flags) = (rest.get(..end)?, rest.get(end + 1..)?);
    if !flags.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(build_regex(pattern, flags))
}

#[cfg(test)]
mod tests {

    use super::{Source, Tri, eval_expr, parse_expr};

    #[test]
    fn expressions_are_three_valued() {
        use Source::*;
        let e = |s: &str, src| parse_expr(s).map_or(Tri::U, |e| eval_expr(&e, src));
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", PushDefault),
            Tri::T
        );
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", PushOther),
            Tri::F
        );
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", MergeRequest),
            Tri::F
        );
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", Schedule),
            Tri::U
        );
        assert_eq!(e("$CI_COMMIT_TAG", Tag), Tri::T);
        assert_eq!(e("$CI_COMMIT_TAG == null", Tag), Tri::F);
        assert_eq!(e("$CI_COMMIT_TAG == null", PushOther), Tri::T);
        assert_eq!(e("$CI_MERGE_REQUEST_IID", MergeRequest), Tri::T);
        assert_eq!(e("${CI_MERGE_REQUEST_ID}", PushDefault), Tri::F);
        assert_eq!(e("$CI_COMMIT_BRANCH =~ /^release/", PushDefault), Tri::F);
        assert_eq!(e("$CI_COMMIT_BRANCH =~ /^release/", PushOther), Tri::U);
        assert_eq!(e("$CI_COMMIT_BRANCH !~ /^MAIN$/i", PushDefault), Tri::U);
        assert_eq!(e("$CI_COMMIT_BRANCH !~ /^ma/", PushDefault), Tri::F);
        assert_eq!(
            e(
                "$CI_PIPELINE_SOURCE == 'push' && ($CI_COMMIT_TAG || $X)",
                Tag
            ),
            Tri::T
        );
        assert_eq!(
            e(
                "$CI_PIPELINE_SOURCE == 'push' && ($CI_COMMIT_TAG || $X)",
                PushOther
            ),
            Tri::U
        );
        assert_eq!(
            e(
                "$CI_PIPELINE_SOURCE == \"web\" || $CI_PIPELINE_SOURCE == \"api\"",
                Api
            ),
            Tri::T
        );
        for junk in [
            "",
            "((",
            "$",
            "== ==",
            "$A =~",
            "$A =~ /unterminated",
            "$A =~ /[/",
            "\"x",
            "$A & $B",
            "foo",
            "$A == (",
            "${A",
        ] {
            for src in [PushDefault, PushOther, MergeRequest, Tag] {
                assert_eq!(e(junk, src), Tri::U, "{junk}");
            }
        }
        let deep = format!("{}$A{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(e(&deep, PushDefault), Tri::U);
        let long = vec!["$CI_COMMIT_TAG"; 5000].join(" && ");
        assert_eq!(e(&long, Tag), Tri::T);
    }
}
