//! CI expressions: the one three-valued logic both CI dialects are judged in, and the lexing
//! and parsing pieces the dialects share. [`github`] reads GitHub Actions `${{ }}`
//! expressions and `if:` conditions, [`gitlab`] reads GitLab `rules: if:` expressions; both
//! give a [`Tri`] and combine truths through [`Tri::and`], [`Tri::or`], `!` ([`Tri`]'s `Not`) and
//! [`Connective`].
//!
//! This layer sits below the loaders: it reads the model's triggers and never imports `load`.

pub mod github;
pub mod gitlab;

/// Three-valued truth (Kleene's logic): what a condition is known to be for one trigger or
/// pipeline source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    /// Known true.
    T,
    /// Known false.
    F,
    /// Not known: may be either.
    U,
}

impl Tri {
    /// The known truth `b`.
    pub fn of(b: bool) -> Tri {
        if b { Tri::T } else { Tri::F }
    }

    /// `Some(b)` when known, `None` when unknown.
    pub fn known(self) -> Option<bool> {
        match self {
            Tri::T => Some(true),
            Tri::F => Some(false),
            Tri::U => None,
        }
    }

    /// `self && o`: false when either is false, true when both are true, else unknown.
    pub fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::F, _) | (_, Tri::F) => Tri::F,
            (Tri::T, Tri::T) => Tri::T,
            _ => Tri::U,
        }
    }

    /// `self || o`: true when either is true, false when both are false, else unknown.
    pub fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::T, _) | (_, Tri::T) => Tri::T,
            (Tri::F, Tri::F) => Tri::F,
            _ => Tri::U,
        }
    }
}

impl std::ops::Not for Tri {
    type Output = Tri;

    /// `!self`: unknown stays unknown.
    fn not(self) -> Tri {
        match self {
            Tri::T => Tri::F,
            Tri::F => Tri::T,
            Tri::U => Tri::U,
        }
    }
}

/// A binary connective: `&&` or `||`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connective {
    /// `&&`.
    And,
    /// `||`.
    Or,
}

impl Connective {
    /// `a && b` or `a || b` ([`Tri::and`], [`Tri::or`]).
    pub fn apply(self, a: Tri, b: Tri) -> Tri {
        match self {
            Connective::And => a.and(b),
            Connective::Or => a.or(b),
        }
    }

    /// The truth that decides the connective whatever the other side is: false for `&&`,
    /// true for `||`. A short-circuiting operator returns its left side when it has this
    /// truth.
    pub fn absorbing(self) -> Tri {
        match self {
            Connective::And => Tri::F,
            Connective::Or => Tri::T,
        }
    }

    /// The connective over every operand, left to right (true for no `&&` operand, false
    /// for no `||` operand).
    pub fn fold(self, operands: impl IntoIterator<Item = Tri>) -> Tri {
        operands
            .into_iter()
            .fold(!self.absorbing(), |acc, t| self.apply(acc, t))
    }
}

/// How deeply an expression may nest (parentheses; in GitHub expressions also `!` and call
/// arguments) before it is not evaluated: the parsers recurse once per level.
pub const MAX_DEPTH: usize = 64;

/// A parser's current nesting, bounded by [`MAX_DEPTH`].
#[derive(Debug, Default)]
pub(crate) struct Depth(usize);

impl Depth {
    /// One level deeper: `None` past [`MAX_DEPTH`].
    pub(crate) fn enter(&mut self) -> Option<()> {
        self.0 += 1;
        (self.0 <= MAX_DEPTH).then_some(())
    }

    /// One level back out.
    pub(crate) fn leave(&mut self) {
        self.0 = self.0.saturating_sub(1);
    }
}

/// A parser that can consume a connective's operator token.
pub(crate) trait ConnectiveTokens {
    /// Consumes the operator of `c` when it comes next; whether it did.
    fn eat(&mut self, c: Connective) -> bool;
}

/// A chain `operand (op operand)*` of one connective: its operands in order, `None` when one
/// does not parse. Precedence comes from the operand reader (`||` reads `&&` chains).
pub(crate) fn chain<P: ConnectiveTokens, T>(
    p: &mut P,
    c: Connective,
    operand: fn(&mut P) -> Option<T>,
) -> Option<Vec<T>> {
    let mut out = vec![operand(p)?];
    while p.eat(c) {
        out.push(operand(p)?);
    }
    Some(out)
}

/// The quoted string literal whose opening quote is at `open`: its text and the index just
/// past the closing quote, `None` when it is not closed. `escape` followed by the quote
/// stands for the quote (`''` in GitHub, `\'` and `\"` in GitLab).
pub(crate) fn string_literal(chars: &[char], open: usize, escape: char) -> Option<(String, usize)> {
    let quote = *chars.get(open)?;
    let mut lit = String::new();
    let mut j = open + 1;
    loop {
        let d = *chars.get(j)?;
        if d == escape && chars.get(j + 1) == Some(&quote) {
            lit.push(quote);
            j += 2;
        } else if d == quote {
            return Some((lit, j + 1));
        } else {
            lit.push(d);
            j += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Connective, Depth, MAX_DEPTH, Tri, string_literal};
    use Tri::{F, T, U};

    #[test]
    fn and_or_not_truth_tables() {
        // (a, b, a && b, a || b)
        let table = [
            (T, T, T, T),
            (T, F, F, T),
            (T, U, U, T),
            (F, T, F, T),
            (F, F, F, F),
            (F, U, F, U),
            (U, T, U, T),
            (U, F, F, U),
            (U, U, U, U),
        ];
        for (a, b, and, or) in table {
            assert_eq!(a.and(b), and, "{a:?} && {b:?}");
            assert_eq!(a.or(b), or, "{a:?} || {b:?}");
            assert_eq!(Connective::And.apply(a, b), and);
            assert_eq!(Connective::Or.apply(a, b), or);
        }
        assert_eq!([!T, !F, !U], [F, T, U]);
        assert_eq!(
            [T.known(), F.known(), U.known()],
            [Some(true), Some(false), None]
        );
        assert_eq!([Tri::of(true), Tri::of(false)], [T, F]);
    }

    #[test]
    fn de_morgan_holds_with_unknown() {
        for a in [T, F, U] {
            for b in [T, F, U] {
                assert_eq!(!a.and(b), (!a).or(!b));
                assert_eq!(!a.or(b), (!a).and(!b));
            }
        }
    }

    #[test]
    fn absorbing_truth_decides_and_folds_start_from_the_identity() {
        for c in [Connective::And, Connective::Or] {
            for x in [T, F, U] {
                assert_eq!(c.apply(c.absorbing(), x), c.absorbing());
                assert_eq!(c.apply(x, c.absorbing()), c.absorbing());
                assert_eq!(c.apply(!c.absorbing(), x), x);
            }
        }
        assert_eq!(Connective::And.fold([]), T);
        assert_eq!(Connective::Or.fold([]), F);
        assert_eq!(Connective::And.fold([T, U, T]), U);
        assert_eq!(Connective::And.fold([T, U, F]), F);
        assert_eq!(Connective::Or.fold([F, U, F]), U);
        assert_eq!(Connective::Or.fold([F, U, T]), T);
    }

    /// Both dialects combine through the same logic: each truth written as an operand of
    /// the dialect, then joined with `&&`, `||` and (GitHub) `!`.
    #[test]
    fn both_dialects_follow_the_truth_tables() {
        use super::{github, gitlab};
        use crate::location::Location;
        use crate::model::ci::Trigger;
        let push = Trigger::new("push", Location::file_start("w.yml"));
        let gh_atom = |t: Tri| match t {
            T => "true",
            F => "false",
            U => "github.actor",
        };
        // In a push to the default branch: set, unset, not known.
        let gl_atom = |t: Tri| match t {
            T => "$CI_DEFAULT_BRANCH",
            F => "$CI_COMMIT_TAG",
            U => "$SOME_VARIABLE",
        };
        let gh = |text: String| github::eval_condition(&text, &push);
        let gl = |text: String| {
            gitlab::parse_expr(&text).map_or(Tri::U, |e| {
                gitlab::eval_expr(&e, gitlab::Source::PushDefault)
            })
        };
        for a in [T, F, U] {
            assert_eq!(gh(format!("!{}", gh_atom(a))), !a);
            for b in [T, F, U] {
                let (x, y) = (gh_atom(a), gh_atom(b));
                assert_eq!(gh(format!("{x} && {y}")), a.and(b), "{x} && {y}");
                assert_eq!(gh(format!("{x} || {y}")), a.or(b), "{x} || {y}");
                let (x, y) = (gl_atom(a), gl_atom(b));
                assert_eq!(gl(format!("{x} && {y}")), a.and(b), "{x} && {y}");
                assert_eq!(gl(format!("{x} || {y}")), a.or(b), "{x} || {y}");
                for c in [T, F, U] {
                    let want = a.or(b.and(c));
                    let (x, y, z) = (gh_atom(a), gh_atom(b), gh_atom(c));
                    assert_eq!(gh(format!("{x} || {y} && {z}")), want);
                    assert_eq!(gh(format!("!({x} || {y}) && {z}")), (!a.or(b)).and(c));
                    let (x, y, z) = (gl_atom(a), gl_atom(b), gl_atom(c));
                    assert_eq!(gl(format!("{x} || {y} && {z}")), want);
                    assert_eq!(gl(format!("({x} || {y}) && {z}")), a.or(b).and(c));
                }
            }
        }
    }

    #[test]
    fn depth_is_bounded() {
        let mut d = Depth::default();
        for _ in 0..MAX_DEPTH {
            assert_eq!(d.enter(), Some(()));
        }
        assert_eq!(d.enter(), None);
        d.leave();
        d.leave();
        assert_eq!(d.enter(), Some(()));
    }

    #[test]
    fn string_literals_and_their_escapes() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(
            string_literal(&chars("'it''s' x"), 0, '\''),
            Some(("it's".to_string(), 7))
        );
        assert_eq!(
            string_literal(&chars(r#"a "q\"x" b"#), 2, '\\'),
            Some(("q\"x".to_string(), 8))
        );
        assert_eq!(
            string_literal(&chars(r"'a\b'"), 0, '\\'),
            Some((r"a\b".to_string(), 5))
        );
        assert_eq!(string_literal(&chars("'open"), 0, '\''), None);
        assert_eq!(string_literal(&chars("'x''"), 0, '\''), None);
    }
}
