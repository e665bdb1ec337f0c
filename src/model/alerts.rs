//! Prometheus alerting and recording rules as policies see them (`repo.alert_files[]`), with
//! the facts of each rule's PromQL expression (computed by `facts::promql`).

use serde::Serialize;

use crate::location::Location;

/// One Prometheus rules file (`repo.alert_files[]`).
///
/// Rule files are found by content: YAML documents with `groups[].rules[]` (rules with `alert`
/// or `record` and `expr`) and Kubernetes `PrometheusRule` objects (`spec.groups`), also in
/// multi-document files. Templated files (`{{ }}`) that are not YAML are skipped with a note.
/// A rule whose expression is not valid PromQL is left out (SS001 reports it).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlertFile {
    /// Path relative to the repository root.
    pub path: String,
    /// The `groups:` key (`spec.groups` for a `PrometheusRule`) of the first rules document.
    pub groups_loc: Location,
    /// Every rule with a valid expression, in file order.
    pub rules: Vec<AlertRule>,
}

/// One alerting or recording rule.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AlertRule {
    /// The group's name.
    pub group: String,
    /// The alert name (empty for recording rules).
    pub alert: String,
    /// The recorded series name (empty for alerting rules).
    pub record: String,
    /// Whether this is an alerting rule.
    pub is_alert: bool,
    /// The PromQL expression.
    pub expr: String,
    /// The `expr:` line.
    pub expr_loc: Location,
    /// The rule's `alert:` (or `record:`) line.
    pub loc: Location,
    /// `for:` in seconds (`300s` equals `5m`), -1 when absent.
    pub for_seconds: i64,
    /// The `for:` line (the `alert:` line when absent).
    pub for_loc: Location,
    /// `labels:`.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `annotations:`.
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Facts of the parsed expression.
    pub facts: ExprFacts,
}

/// What an alert expression says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ExprFacts {
    /// The top comparison operator, written with the query on the left (`>`, `>=`, `<`,
    /// `<=`, `==`, `!=`); empty when the expression compares nothing with a number.
    pub op: String,
    /// The number the query is compared with.
    pub threshold: f64,
    /// Whether the alert fires when the query goes above the threshold (`>`/`>=`).
    pub above: bool,
    /// `percent` when the query's product/quotient chain has a factor 100 (`100 * a / b`,
    /// `a / b * 100`), else `ratio`.
    pub scale: String,
    /// Whether the query (below the comparison, without the factor 100) divides by something
    /// that is not a number: its product/quotient chain has a non-constant divisor.
    pub is_ratio: bool,
    /// Whether the numerator of that division (the chain's multiplied factors) selects 5xx responses (a matcher on a
    /// status/code label with a value such as `5..`, `5.*`, `5xx`, `^5..$`).
    pub numerator_5xx: bool,
    /// Whether any selector of the expression selects 5xx responses.
    pub selects_5xx: bool,
    /// Quantiles of the `histogram_quantile` calls.
    pub quantiles: Vec<f64>,
    /// Metric names referenced by selectors.
    pub metrics: Vec<String>,
    /// The metric the query is, when it is one selector (optionally aggregated), such as a
    /// recorded series: `job:http_5xx:ratio5m > 0.05`; empty otherwise.
    pub query_metric: String,
}
