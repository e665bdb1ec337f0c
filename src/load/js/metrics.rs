//! Metric detection: prom-client metric classes (`new Counter({ name })`), metric factory
//! calls that wrap them, and the scrape route of OpenTelemetry's Prometheus exporter.

use super::RawRoute;
use super::walker::{Walker, literal_parts, module_of, object_strings};
use crate::model::app::Metric;
use oxc_ast::ast::{
    Argument, CallExpression, Expression, NewExpression, ObjectExpression, ObjectPropertyKind,
};

/// prom-client metric classes.
const METRIC_KINDS: &[&str] = &["Counter", "Histogram", "Summary", "Gauge"];

impl<'s> Walker<'s> {
    /// Metric facts of one `new` expression (only in files importing prom-client).
    pub(super) fn metric(&mut self, new: &NewExpression<'_>) {
        if !self.prom {
            return;
        }
        let kind = match new.callee.get_inner_expression() {
            Expression::Identifier(id) => match self.bindings.get(id.name.as_str()) {
                Some(b) if b.source == "prom-client" => b.name.clone(),
                Some(_) => None,
                None => Some(id.name.to_string()),
            },
            Expression::StaticMemberExpression(m) => {
                let on_prom = match m.object.get_inner_expression() {
                    Expression::Identifier(id) => self
                        .bindings
                        .get(id.name.as_str())
                        .is_none_or(|b| b.source == "prom-client" && b.name.is_none()),
                    e => module_of(e).as_deref() == Some("prom-client"),
                };
                on_prom.then(|| m.property.name.to_string())
            }
            _ => None,
        };
        let Some(kind) = kind.filter(|k| METRIC_KINDS.contains(&k.as_str())) else {
            return;
        };
        let name = match new.arguments.first().and_then(Argument::as_expression) {
            Some(Expression::ObjectExpression(o)) => metric_name(o).unwrap_or_default(),
            _ => String::new(),
        };
        self.out.metrics.push(Metric {
            kind,
            name,
            loc: self.loc(new.span),
        });
    }

    /// `new PrometheusExporter({ endpoint })` of `@opentelemetry/exporter-prometheus` serves
    /// its own scrape route (`endpoint`, default `/metrics`): a route at the construction.
    pub(super) fn otel_exporter(&mut self, new: &NewExpression<'_>) {
        let from_exporter = match new.callee.get_inner_expression() {
            Expression::Identifier(id) => self.bindings.get(id.name.as_str()).is_some_and(|b| {
                b.source == "@opentelemetry/exporter-prometheus"
                    && b.name.as_deref().is_none_or(|n| n == "PrometheusExporter")
            }),
            Expression::StaticMemberExpression(m) => {
                m.property.name == "PrometheusExporter"
                    && match m.object.get_inner_expression() {
                        Expression::Identifier(id) => self
                            .bindings
                            .get(id.name.as_str())
                            .is_some_and(|b| b.source == "@opentelemetry/exporter-prometheus"),
                        e => module_of(e).as_deref() == Some("@opentelemetry/exporter-prometheus"),
                    }
            }
            _ => false,
        };
        if !from_exporter {
            return;
        }
        let endpoint = match new.arguments.first().and_then(Argument::as_expression) {
            Some(Expression::ObjectExpression(o)) => {
                object_strings(o, "endpoint").and_then(|v| v.into_iter().next())
            }
            _ => None,
        };
        let mut path = endpoint.unwrap_or_else(|| "/metrics".to_string());
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        self.out.routes.push(RawRoute {
            path,
            method: "get".to_string(),
            loc: self.loc(new.span),
            handler: None,
        });
    }

    /// Metric facts of a metric factory call: `createCounter({ name: 'x' })`,
    /// `metrics.createHistogram({ name })` — projects often wrap prom-client's constructors,
    /// and the name is then only literal at the call site.
    pub(super) fn factory_metric(&mut self, call: &CallExpression<'_>) {
        let callee = match call.callee.get_inner_expression() {
            Expression::Identifier(id) => id.name.to_string(),
            Expression::StaticMemberExpression(m) => m.property.name.to_string(),
            _ => return,
        };
        let Some(kind) = callee
            .strip_prefix("create")
            .filter(|k| METRIC_KINDS.contains(k))
        else {
            return;
        };
        let Some(Expression::ObjectExpression(o)) =
            call.arguments.first().and_then(Argument::as_expression)
        else {
            return;
        };
        let Some(name) = metric_name(o) else {
            return;
        };
        self.out.metrics.push(Metric {
            kind: kind.to_string(),
            name,
            loc: self.loc(call.span),
        });
    }
}

/// The name of a metric's options object (`{ name: ... }`): its literal text, with the parts
/// computed at run time left out, so `${prefix}orders_total` and `prefix + 'orders_total'`
/// are `orders_total` (the rules match words inside the name, and a prefix never carries
/// them). `None` when no part of it is literal.
fn metric_name(o: &ObjectExpression<'_>) -> Option<String> {
    o.properties.iter().find_map(|p| match p {
        ObjectPropertyKind::ObjectProperty(p) if p.key.static_name().as_deref() == Some("name") => {
            let mut out = String::new();
            literal_parts(p.value.get_inner_expression(), &mut out, 0);
            (!out.is_empty()).then_some(out)
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use crate::load::js::tests::{FIXTURE, scan_fixture};

    #[test]
    fn prom_client_metrics_only_where_imported() {
        let (_dir, facts) = scan_fixture(FIXTURE);
        let metrics: Vec<(&str, &str, &str, u32)> = facts
            .metrics
            .iter()
            .map(|m| {
                (
                    m.loc.file.as_str(),
                    m.kind.as_str(),
                    m.name.as_str(),
                    m.loc.line,
                )
            })
            .collect();
        assert_eq!(
            metrics,
            [
                ("src/metrics.ts", "Counter", "orders_total", 2),
                (
                    "src/metrics.ts",
                    "Histogram",
                    "http_request_duration_seconds",
                    3
                ),
                ("src/metrics2.js", "Gauge", "", 3),
                ("src/metrics2.js", "Summary", "rt_seconds", 4),
            ]
        );
    }
}
