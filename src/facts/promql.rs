//! PromQL facts of an alert expression, from `promql-parser`'s syntax tree: the comparison at
//! the top and its threshold, the scale (ratio, or percent when the query multiplies by 100),
//! whether the query is a ratio and whether its numerator selects 5xx responses, the
//! `histogram_quantile` quantiles, and the metric names referenced.

pub use crate::model::alerts::ExprFacts;
use crate::model::alerts::{AlertFile, AlertRule};
use promql_parser::parser::Expr;

/// Sets the facts of each rule of `file` from its parsed expression (`exprs`, one per rule
/// in order, as the loader parsed them).
pub fn describe(file: &mut AlertFile, exprs: &[Expr]) {
    for (rule, expr) in file.rules.iter_mut().zip(exprs) {
        rule.facts = facts(expr);
    }
}

/// Follows recorded series into the alerts that use them, across all rule files.
pub fn derive(files: &mut [AlertFile]) {
    let mut rules: Vec<&mut AlertRule> =
        files.iter_mut().flat_map(|f| f.rules.iter_mut()).collect();
    follow_records(&mut rules);
}

/// Computes the facts of a parsed expression.
pub fn facts(expr: &Expr) -> ExprFacts {
    let mut f = ExprFacts {
        scale: "ratio".to_string(),
        ..ExprFacts::default()
    };
    walk(expr, &mut f, 0);
    // The query is what is compared with a number; a recording rule's whole expression.
    let query = match comparison(expr, 0) {
        Some((op, threshold, query)) => {
            f.above = op == ">" || op == ">=";
            f.op = op;
            f.threshold = threshold;
            query
        }
        None => expr,
    };
    // The query as a product/quotient chain: `100 * a / b`, `a * 100 / b`, `(a / b) * 100`
    // and `100 * (a / b)` are all the factors `100`, `a` over `b`.
    let mut chain = Chain::default();
    chain.add(query, false, 0);
    let hundred = |x: &&Expr| matches!(unwrap(x, 0), Some(Expr::NumberLiteral(n)) if (n.val - 100.0).abs() < f64::EPSILON);
    if let Some(i) = chain.num.iter().position(hundred) {
        f.scale = "percent".to_string();
        chain.num.remove(i);
    }
    let constant = |x: &&Expr| matches!(unwrap(x, 0), Some(Expr::NumberLiteral(_)));
    if chain.den.iter().any(|x| !constant(x)) {
        f.is_ratio = true;
        let mut num = ExprFacts::default();
        for x in &chain.num {
            walk(x, &mut num, 0);
        }
        f.numerator_5xx = num.selects_5xx;
    } else if let [one] = chain.num.as_slice() {
        match unwrap(one, 0) {
            Some(Expr::VectorSelector(vs)) => f.query_metric = vs.name.clone().unwrap_or_default(),
            Some(Expr::Aggregate(a)) => {
                if let Some(Expr::VectorSelector(vs)) = unwrap(&a.expr, 0) {
                    f.query_metric = vs.name.clone().unwrap_or_default();
                }
            }
            _ => {}
        }
    }
    f.metrics.sort();
    f.metrics.dedup();
    f
}

/// Alerts on recorded series inherit what the recording rule computes: an alert
/// `job:http_5xx:ratio5m > 0.05` whose series is recorded as a 5xx ratio is a 5xx ratio
/// alert (its ratio, 5xx, scale, quantile and metric facts), through chains of records.
/// `rules` are every rule of the repository.
pub fn follow_records(rules: &mut [&mut AlertRule]) {
    for _ in 0..4 {
        let records: std::collections::BTreeMap<String, ExprFacts> = rules
            .iter()
            .filter(|r| !r.is_alert && !r.record.is_empty())
            .map(|r| (r.record.clone(), r.facts.clone()))
            .collect();
        let mut changed = false;
        for r in rules.iter_mut() {
            let Some(rec) = records.get(&r.facts.query_metric) else {
                continue;
            };
            let f = &mut r.facts;
            let before = f.clone();
            f.is_ratio |= rec.is_ratio;
            f.numerator_5xx |= rec.numerator_5xx;
            f.selects_5xx |= rec.selects_5xx;
            if rec.scale == "percent" {
                f.scale = "percent".to_string();
            }
            for q in &rec.quantiles {
                if !f.quantiles.contains(q) {
                    f.quantiles.push(*q);
                }
            }
            f.metrics.extend(rec.metrics.iter().cloned());
            f.metrics.sort();
            f.metrics.dedup();
            f.query_metric = rec.query_metric.clone();
            changed |= *f != before;
        }
        if !changed {
            break;
        }
    }
}

const MAX_DEPTH: usize = 200;

/// Strips parentheses and aggregations that wrap one expression.
fn unwrap(e: &Expr, depth: usize) -> Option<&Expr> {
    if depth > MAX_DEPTH {
        return None;
    }
    match e {
        Expr::Paren(p) => unwrap(&p.expr, depth + 1),
        _ => Some(e),
    }
}

/// The top comparison with a number: (op with the query on the left, number, query).
fn comparison(e: &Expr, depth: usize) -> Option<(String, f64, &Expr)> {
    let e = unwrap(e, depth)?;
    let Expr::Binary(b) = e else { return None };
    let op = b.op.to_string();
    if !matches!(op.as_str(), ">" | ">=" | "<" | "<=" | "==" | "!=") {
        // `a and b`, `a unless b`: the first side decides.
        if matches!(op.as_str(), "and" | "or" | "unless") {
            return comparison(&b.lhs, depth + 1);
        }
        return None;
    }
    // Chained `(x > 0.9) < 1`: the inner comparison is the alert's.
    if let Some(inner) = comparison(&b.lhs, depth + 1) {
        return Some(inner);
    }
    let number = |x: &Expr| match unwrap(x, 0) {
        Some(Expr::NumberLiteral(n)) => Some(n.val),
        _ => None,
    };
    if let Some(n) = number(&b.rhs) {
        return Some((op, n, &b.lhs));
    }
    if let Some(n) = number(&b.lhs) {
        let flipped = match op.as_str() {
            ">" => "<",
            ">=" => "<=",
            "<" => ">",
            "<=" => ">=",
            o => o,
        };
        return Some((flipped.to_string(), n, &b.rhs));
    }
    None
}

/// The factors of a product/quotient chain, through parentheses: those multiplied (`num`)
/// and those divided by (`den`). `a / (b / c)` has `a`, `c` over `b`.
#[derive(Default)]
struct Chain<'a> {
    num: Vec<&'a Expr>,
    den: Vec<&'a Expr>,
}

impl<'a> Chain<'a> {
    fn add(&mut self, e: &'a Expr, inverted: bool, depth: usize) {
        let Some(u) = unwrap(e, depth).filter(|_| depth <= MAX_DEPTH) else {
            return;
        };
        if let Expr::Binary(b) = u {
            match b.op.to_string().as_str() {
                "*" => {
                    self.add(&b.lhs, inverted, depth + 1);
                    self.add(&b.rhs, inverted, depth + 1);
                    return;
                }
                "/" => {
                    self.add(&b.lhs, inverted, depth + 1);
                    self.add(&b.rhs, !inverted, depth + 1);
                    return;
                }
                _ => {}
            }
        }
        if inverted {
            self.den.push(u);
        } else {
            self.num.push(u);
        }
    }
}

/// Whether a matcher value selects 5xx status codes.
fn is_5xx(value: &str) -> bool {
    let v = value.trim_start_matches('^').trim_start_matches('(');
    v.starts_with('5') && !v.starts_with("50")
        || v == "5xx"
        || v.starts_with("5..")
        || v.starts_with("5xx")
}

fn walk(e: &Expr, f: &mut ExprFacts, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match e {
        Expr::Aggregate(a) => {
            walk(&a.expr, f, depth + 1);
            if let Some(p) = &a.param {
                walk(p, f, depth + 1);
            }
        }
        Expr::Unary(u) => walk(&u.expr, f, depth + 1),
        Expr::Binary(b) => {
            walk(&b.lhs, f, depth + 1);
            walk(&b.rhs, f, depth + 1);
        }
        Expr::Paren(p) => walk(&p.expr, f, depth + 1),
        Expr::Subquery(s) => walk(&s.expr, f, depth + 1),
        Expr::VectorSelector(vs) => selector(vs, f),
        Expr::MatrixSelector(ms) => selector(&ms.vs, f),
        Expr::Call(c) => {
            if c.func.name == "histogram_quantile"
                && let Some(first) = c.args.args.first()
                && let Some(Expr::NumberLiteral(n)) = unwrap(first, 0)
            {
                f.quantiles.push(n.val);
            }
            for a in &c.args.args {
                walk(a, f, depth + 1);
            }
        }
        _ => {}
    }
}

fn selector(vs: &promql_parser::parser::VectorSelector, f: &mut ExprFacts) {
    if let Some(n) = &vs.name {
        f.metrics.push(n.clone());
    }
    let all = vs
        .matchers
        .matchers
        .iter()
        .chain(vs.matchers.or_matchers.iter().flatten());
    for m in all {
        if m.name == "__name__" {
            f.metrics.push(m.value.clone());
            continue;
        }
        let label = m.name.to_ascii_lowercase();
        let negated = matches!(
            m.op,
            promql_parser::label::MatchOp::NotEqual | promql_parser::label::MatchOp::NotRe(_)
        );
        if (label.contains("status") || label.contains("code")) && !negated && is_5xx(&m.value) {
            f.selects_5xx = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &str) -> ExprFacts {
        facts(&promql_parser::parser::parse(s).expect("parses"))
    }

    #[test]
    fn thresholds_scales_ratios_and_5xx() {
        let f = of(
            r#"sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05"#,
        );
        assert_eq!(
            (
                f.op.as_str(),
                f.threshold,
                f.is_ratio,
                f.numerator_5xx,
                f.scale.as_str()
            ),
            (">", 0.05, true, true, "ratio")
        );
        let f = of(r#"(sum(rate(x{code=~"5.*"}[5m])) / sum(rate(x[5m]))) * 100 > 5"#);
        assert_eq!(
            (f.scale.as_str(), f.threshold, f.is_ratio, f.numerator_5xx),
            ("percent", 5.0, true, true)
        );
        let f = of(r#"0.9 < pg_stat_activity_count / pg_settings_max_connections"#);
        assert_eq!((f.op.as_str(), f.threshold, f.above), (">", 0.9, true));
        let f = of(
            r#"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 1"#,
        );
        assert_eq!(f.quantiles, vec![0.95]);
        assert_eq!(f.metrics, vec!["http_request_duration_seconds_bucket"]);
        let f = of(r#"sum(rate(x{status_code=~"5xx"}[5m])) > 10"#);
        assert!(f.selects_5xx && !f.is_ratio);
        let f = of(r#"(node_memory_used / node_memory_total > 0.9) < 1"#);
        assert_eq!((f.op.as_str(), f.threshold, f.is_ratio), (">", 0.9, true));
        let f = of(r#"rate(x{status!~"5.."}[5m]) > 1"#);
        assert!(!f.selects_5xx);
        assert_eq!(of("up == 0").op, "==");
    }

    #[test]
    fn the_percent_factor_anywhere_in_the_chain() {
        for e in [
            "100 * a / b > 90",
            "a * 100 / b > 90",
            "100 * (a / b) > 90",
            "(a / b) * 100 > 90",
            "a / b * 100 > 90",
            "(100 * a) / (b) > 90",
        ] {
            let f = of(e);
            assert_eq!(
                (f.scale.as_str(), f.is_ratio, f.threshold),
                ("percent", true, 90.0),
                "{e}"
            );
        }
        let f = of(r#"100 * sum(rate(x{status=~"5.."}[5m])) / sum(rate(x[5m])) > 5"#);
        assert!(f.numerator_5xx && f.is_ratio);
        // Dividing by a constant converts units; it is no ratio.
        let f = of("node_memory_used_bytes / 1024 / 1024 > 900");
        assert_eq!((f.scale.as_str(), f.is_ratio), ("ratio", false));
        // The 5xx selector in the divisor is no 5xx numerator.
        let f = of(r#"sum(rate(x[5m])) / sum(rate(x{status=~"5.."}[5m])) > 5"#);
        assert!(f.is_ratio && !f.numerator_5xx);
    }

    #[test]
    fn recording_rules_are_queries_and_alerts_on_them_inherit() {
        let rec = of(
            r#"sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))"#,
        );
        assert!(rec.is_ratio && rec.numerator_5xx && rec.op.is_empty());
        assert_eq!(
            of("max(job:http_5xx:ratio5m) > 0.05").query_metric,
            "job:http_5xx:ratio5m"
        );
        assert_eq!(of("job:x:ratio * 100 > 5").query_metric, "job:x:ratio");
        let rule = |record: &str, alert: &str, expr: &str| AlertRule {
            group: "g".into(),
            alert: alert.into(),
            record: record.into(),
            is_alert: !alert.is_empty(),
            expr: expr.into(),
            expr_loc: crate::location::Location::file_start("r.yml"),
            loc: crate::location::Location::file_start("r.yml"),
            for_seconds: -1,
            for_loc: crate::location::Location::file_start("r.yml"),
            labels: Default::default(),
            annotations: Default::default(),
            facts: of(expr),
        };
        let mut a = rule("", "HighErrors", "job:http_5xx:ratio5m > 0.05");
        let mut r1 = rule("job:http_5xx:ratio5m", "", "job:http_5xx:ratio5m_raw");
        let mut r2 = rule(
            "job:http_5xx:ratio5m_raw",
            "",
            r#"sum(rate(x{code=~"5.."}[5m])) / sum(rate(x[5m]))"#,
        );
        let mut other = rule("", "Other", "up == 0");
        follow_records(&mut [&mut a, &mut r1, &mut r2, &mut other]);
        assert!(
            a.facts.is_ratio && a.facts.numerator_5xx,
            "through a chain of two records"
        );
        assert_eq!((a.facts.op.as_str(), a.facts.threshold), (">", 0.05));
        assert!(!other.facts.is_ratio);
    }
}
