//! Sentry detection: which expressions are the Sentry module, and the calls that capture
//! errors or give them context (also through `withScope`-style callbacks and scope getters).

use super::walker::{Walker, is_sentry_package, module_of};
use crate::model::app::CallSite;
use oxc_ast::ast::{CallExpression, Expression};
use oxc_span::GetSpan;

/// Sentry functions that give captured errors context.
const SENTRY_SETTERS: &[&str] = &[
    "setContext",
    "setTag",
    "setTags",
    "setUser",
    "setExtra",
    "setExtras",
];

/// Sentry functions returning a scope (`Sentry.getCurrentScope().setTag(...)`).
const SENTRY_SCOPE_GETTERS: &[&str] = &["getCurrentScope", "getIsolationScope", "getGlobalScope"];

impl<'s> Walker<'s> {
    /// Whether `expr` is a Sentry module object: a namespace/default import or require of
    /// `@sentry/*`, an inline `require("@sentry/...")`, or the unbound global `Sentry`.
    fn is_sentry_module(&self, expr: &Expression<'_>) -> bool {
        let expr = expr.get_inner_expression();
        if let Some(spec) = module_of(expr) {
            return is_sentry_package(&spec);
        }
        match expr {
            Expression::Identifier(id) => match self.bindings.get(id.name.as_str()) {
                Some(b) => b.name.is_none() && is_sentry_package(&b.source),
                None => id.name == "Sentry",
            },
            _ => false,
        }
    }

    /// The Sentry function a callee names: `Sentry.init` → `init`, an import
    /// `init as initSentry` from `@sentry/*` → `init`.
    pub(super) fn sentry_fn(&self, callee: &Expression<'_>) -> Option<String> {
        match callee.get_inner_expression() {
            Expression::Identifier(id) => {
                let b = self.bindings.get(id.name.as_str())?;
                if is_sentry_package(&b.source) {
                    b.name.clone()
                } else {
                    None
                }
            }
            Expression::StaticMemberExpression(m) if self.is_sentry_module(&m.object) => {
                Some(m.property.name.to_string())
            }
            _ => None,
        }
    }

    /// The method a callee calls on a Sentry scope: `scope.setTag` inside a `withScope`
    /// callback, or `Sentry.getCurrentScope().setTag`.
    pub(super) fn scope_method(&self, callee: &Expression<'_>) -> Option<String> {
        let Expression::StaticMemberExpression(m) = callee.get_inner_expression() else {
            return None;
        };
        let on_scope = match m.object.get_inner_expression() {
            Expression::Identifier(id) => self.scopes.iter().any(|s| s == id.name.as_str()),
            Expression::CallExpression(c) => self
                .sentry_fn(&c.callee)
                .is_some_and(|f| SENTRY_SCOPE_GETTERS.contains(&f.as_str())),
            _ => false,
        };
        on_scope.then(|| m.property.name.to_string())
    }

    fn call_site(&self, call: &CallExpression<'_>) -> CallSite {
        CallSite {
            file: self.rel.to_string(),
            callee: self.source_text(call.callee.span()).to_string(),
            args: call.arguments.len() as i64,
            loc: self.loc(call.span),
        }
    }

    /// Sentry facts of one call.
    pub(super) fn sentry_call(&mut self, call: &CallExpression<'_>) {
        let sentry = self.sentry_fn(&call.callee);
        let scoped = self.scope_method(&call.callee);
        if sentry.as_deref() == Some("init") {
            let site = self.call_site(call);
            self.out.sentry_inits.push(site);
        }
        let Some(name) = sentry.as_deref().or(scoped.as_deref()) else {
            return;
        };
        let context = (name == "captureException" && call.arguments.len() >= 2)
            || SENTRY_SETTERS.contains(&name)
            || self.in_scope_callback > 0;
        if context {
            let site = self.call_site(call);
            self.out.sentry_context.push(site);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::js::tests::{FIXTURE, scan_fixture};

    #[test]
    fn sentry_calls_through_every_import_form() {
        let (_dir, facts) = scan_fixture(FIXTURE);
        let inits: Vec<(&str, &str, u32)> = facts
            .sentry_inits
            .iter()
            .map(|c| (c.file.as_str(), c.callee.as_str(), c.loc.line))
            .collect();
        assert_eq!(
            inits,
            [
                ("src/instrument.ts", "Sentry.init", 4),
                ("src/legacy.js", "Sentry.init", 2),
                ("src/sentry-alias.ts", "initSentry", 2),
            ]
        );
        assert_eq!(facts.sentry_inits[0].args, 1);
        assert_eq!(facts.sentry_inits[0].loc.col, 1);
        let context: Vec<(&str, &str, i64, u32)> = facts
            .sentry_context
            .iter()
            .map(|c| (c.file.as_str(), c.callee.as_str(), c.args, c.loc.line))
            .collect();
        assert_eq!(
            context,
            [
                ("src/legacy.js", "Sentry.setUser", 1, 3),
                ("src/sentry-alias.ts", "captureException", 2, 7),
                ("src/sentry-alias.ts", "scope.setTag", 2, 11),
                ("src/sentry-alias.ts", "captureException", 1, 12),
            ]
        );
    }

    #[test]
    fn sentry_scope_getters_and_require_members() {
        let (_dir, facts) = scan_fixture(&[(
            "a.mjs",
            "import * as S from '@sentry/nextjs';\n\
             S.getCurrentScope().setTag('a', 'b');\n\
             S.captureException(e);\n\
             require('@sentry/node').init({});\n\
             other.init({});\n\
             init({});\n",
        )]);
        let inits: Vec<&str> = facts
            .sentry_inits
            .iter()
            .map(|c| c.callee.as_str())
            .collect();
        assert_eq!(inits, ["require('@sentry/node').init"]);
        let context: Vec<&str> = facts
            .sentry_context
            .iter()
            .map(|c| c.callee.as_str())
            .collect();
        assert_eq!(context, ["S.getCurrentScope().setTag"]);
    }
}
