//! Routes declared in code: router and app calls (`app.get('/x', ...)`, `app.use('/api', r)`),
//! route tables, Nest controllers and their decorators, and mount prefixes joined through
//! nested `use` mounts.

use super::RawRoute;
use super::resolve::is_local_specifier;
use super::walker::{
    CLIENT_NAMES, CLIENT_PACKAGES, Walker, literal_strings, module_of, object_strings,
};
use crate::model::app::Route;
use oxc_ast::ast::{
    Argument, CallExpression, Class, ClassElement, Decorator, Expression, ObjectExpression,
    ObjectPropertyKind,
};
use std::collections::HashMap;

/// Router methods that register a route with a path as first argument.
const ROUTE_METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "all", "head", "options", "use", "route", "register",
];

/// Nest method decorators.
const NEST_METHODS: &[&str] = &[
    "Get", "Post", "Put", "Delete", "Patch", "All", "Head", "Options", "Search",
];

/// How many `use` mounts deep route prefixes are followed.
const MAX_MOUNT_DEPTH: usize = 4;

/// Joins the routes declared in a module with the paths the module is mounted at
/// (`app.use('/api', router)` and `router.get('/health')` is `/api/health`), through nested
/// mounts; routes of modules mounted nowhere keep their paths. Each element of `declared` is
/// (declaring file, route); a `use` route's `file` is the module it mounts.
pub(super) fn mount_routes(declared: Vec<(String, Route)>) -> Vec<Route> {
    // Mounted module → (module mounting it, path).
    let mut mounts: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for (from, r) in &declared {
        if r.method == "use" && r.file != *from {
            mounts
                .entry(r.file.as_str())
                .or_default()
                .push((from.as_str(), r.path.as_str()));
        }
    }
    // The prefixes a module is reached under ("" when it is mounted nowhere).
    fn prefixes<'a>(
        file: &'a str,
        mounts: &HashMap<&'a str, Vec<(&'a str, &'a str)>>,
        memo: &mut HashMap<&'a str, Vec<String>>,
        stack: &mut Vec<&'a str>,
    ) -> Vec<String> {
        if let Some(p) = memo.get(file) {
            return p.clone();
        }
        let mut out = Vec::new();
        if stack.len() < MAX_MOUNT_DEPTH && !stack.contains(&file) {
            stack.push(file);
            for (from, path) in mounts.get(file).into_iter().flatten() {
                for outer in prefixes(from, mounts, memo, stack) {
                    let p = join_route(&outer, path);
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
            stack.pop();
        }
        if out.is_empty() {
            out.push(String::new());
        }
        memo.insert(file, out.clone());
        out
    }
    let mut memo = HashMap::new();
    let mut routes = Vec::new();
    for (from, r) in &declared {
        for prefix in prefixes(from, &mounts, &mut memo, &mut Vec::new()) {
            let mut joined = r.clone();
            if !prefix.is_empty() {
                joined.path = join_route(&prefix, &r.path);
                // `r.get('/')` of a router mounted at `/health` is the mount's own endpoint,
                // already recorded by the mounting call (whose `file` is this module).
                if joined.path == join_route(&prefix, "") {
                    continue;
                }
            }
            routes.push(joined);
        }
    }
    routes
}

impl<'s> Walker<'s> {
    /// Whether `expr` names something that can register routes (an app, router, server,
    /// `this.app`, `express.Router()`), not an HTTP client.
    fn router_like(&self, expr: &Expression<'_>) -> bool {
        match expr.get_inner_expression() {
            Expression::Identifier(id) => {
                let name = id.name.as_str();
                !self.clients.contains(name)
                    && !CLIENT_NAMES.contains(&name)
                    && self
                        .bindings
                        .get(name)
                        .is_none_or(|b| !CLIENT_PACKAGES.contains(&b.source.as_str()))
            }
            Expression::ThisExpression(_) => true,
            Expression::StaticMemberExpression(m) => {
                let name = m.property.name.as_str();
                !CLIENT_NAMES.contains(&name) && name != "client" && self.router_like(&m.object)
            }
            Expression::CallExpression(c) => match c.callee.get_inner_expression() {
                Expression::Identifier(id) => {
                    !CLIENT_NAMES.contains(&id.name.as_str())
                        && !self.clients.contains(id.name.as_str())
                }
                Expression::StaticMemberExpression(_) => self.router_like(&c.callee),
                _ => false,
            },
            _ => false,
        }
    }

    /// The specifier of the module that defines a handler argument, when it is imported:
    /// `healthRouter` imported from `./routes/health`, `require('./routes/health')`,
    /// `health.router`, `createHealthRouter(deps)`, `new HealthController(deps).router`.
    fn handler_module(&self, arg: &Argument<'_>) -> Option<String> {
        self.handler_module_of(arg.as_expression()?)
    }

    /// [`Self::handler_module`] of an expression.
    fn handler_module_of(&self, expr: &Expression<'_>) -> Option<String> {
        let mut expr = expr.get_inner_expression();
        for _ in 0..8 {
            if let Some(spec) = module_of(expr) {
                return Some(spec);
            }
            expr = match expr {
                Expression::StaticMemberExpression(m) => m.object.get_inner_expression(),
                Expression::CallExpression(c) => c.callee.get_inner_expression(),
                Expression::NewExpression(n) => n.callee.get_inner_expression(),
                Expression::Identifier(id) => {
                    let b = self.bindings.get(id.name.as_str())?;
                    return is_local_specifier(&b.source).then(|| b.source.clone());
                }
                _ => return None,
            };
        }
        None
    }

    /// Route facts of one call: `X.get('/path', handler)`, `X.use('/path', router)`,
    /// `X.route('/path')`, `fastify.route({ url })`, `fastify.register(plugin, { prefix })`.
    pub(super) fn route_call(&mut self, call: &CallExpression<'_>) {
        let Expression::StaticMemberExpression(m) = call.callee.get_inner_expression() else {
            return;
        };
        let method = m.property.name.as_str();
        if !ROUTE_METHODS.contains(&method) || !self.router_like(&m.object) {
            return;
        }
        let args = &call.arguments;
        let Some(first) = args.first().and_then(Argument::as_expression) else {
            return;
        };
        let (paths, method, handler) = match method {
            "route" => match first.get_inner_expression() {
                Expression::ObjectExpression(o) => {
                    let paths = ["url", "path"]
                        .iter()
                        .find_map(|k| object_strings(o, k))
                        .unwrap_or_default();
                    (paths, "route", None)
                }
                e => (literal_strings(e), "route", None),
            },
            "register" => {
                let Some(Expression::ObjectExpression(o)) =
                    args.get(1).and_then(Argument::as_expression)
                else {
                    return;
                };
                let paths = object_strings(o, "prefix").unwrap_or_default();
                (paths, "use", self.handler_module(&args[0]))
            }
            _ => {
                let last = &args[args.len() - 1];
                if args.len() < 2 || (method != "use" && !handler_like(last)) {
                    return;
                }
                (
                    literal_strings(first.get_inner_expression()),
                    method,
                    self.handler_module(last),
                )
            }
        };
        for path in paths.into_iter().filter(|p| p.starts_with('/')) {
            self.out.routes.push(RawRoute {
                path,
                method: method.to_string(),
                loc: self.loc(call.span),
                handler: handler.clone(),
            });
        }
    }

    /// Routes of a route table: the string keys starting with `/` of an object literal's
    /// `routes` property (`Bun.serve({ routes: { '/health': handler } })`), each declared at
    /// its key.
    pub(super) fn route_table(&mut self, o: &ObjectExpression<'_>) {
        let table = o.properties.iter().find_map(|p| match p {
            ObjectPropertyKind::ObjectProperty(p)
                if p.key.static_name().as_deref() == Some("routes") =>
            {
                match p.value.get_inner_expression() {
                    Expression::ObjectExpression(t) => Some(t),
                    _ => None,
                }
            }
            _ => None,
        });
        let Some(table) = table else { return };
        for p in &table.properties {
            let ObjectPropertyKind::ObjectProperty(p) = p else {
                continue;
            };
            let Some(path) = p.key.static_name().filter(|k| k.starts_with('/')) else {
                continue;
            };
            self.out.routes.push(RawRoute {
                path: path.to_string(),
                method: "route".to_string(),
                loc: self.loc(p.span),
                handler: self.handler_module_of(&p.value),
            });
        }
    }
}

impl<'s> Walker<'s> {
    /// Nest routes of one class: `@Controller('health')` with `@Get()` / `@Get('x')`
    /// methods, located at the class decorator.
    pub(super) fn nest_routes(&mut self, class: &Class<'_>) {
        let Some((decorator, prefixes)) = class
            .decorators
            .iter()
            .find_map(|d| decorator_paths(d, &["Controller"]).map(|p| (d, p)))
        else {
            return;
        };
        let mut paths: Vec<String> = Vec::new();
        for element in &class.body.body {
            let ClassElement::MethodDefinition(method) = element else {
                continue;
            };
            for d in &method.decorators {
                let Some(subs) = decorator_paths(d, NEST_METHODS) else {
                    continue;
                };
                for prefix in &prefixes {
                    for sub in &subs {
                        let path = join_route(prefix, sub);
                        if !paths.contains(&path) {
                            paths.push(path);
                        }
                    }
                }
            }
        }
        let loc = self.loc(decorator.span);
        for path in paths {
            self.out.routes.push(RawRoute {
                path,
                method: "decorator".to_string(),
                loc: loc.clone(),
                handler: None,
            });
        }
    }
}

/// Whether a route call's last argument can be a handler (a function, a name, a call, an
/// array of middleware) rather than a request body or options object.
fn handler_like(arg: &Argument<'_>) -> bool {
    let Some(expr) = arg.as_expression() else {
        return true;
    };
    !matches!(
        expr.get_inner_expression(),
        Expression::ObjectExpression(_)
            | Expression::StringLiteral(_)
            | Expression::TemplateLiteral(_)
            | Expression::NumericLiteral(_)
            | Expression::BooleanLiteral(_)
            | Expression::NullLiteral(_)
    )
}

/// The paths of a decorator `@Name()`, `@Name('p')`, `@Name(['a', 'b'])`,
/// `@Name({ path: 'p' })` or `@Name` when `Name` is one of `names`; `[""]` without a path.
fn decorator_paths(d: &Decorator<'_>, names: &[&str]) -> Option<Vec<String>> {
    let (callee, args) = match d.expression.get_inner_expression() {
        Expression::CallExpression(c) => (c.callee.get_inner_expression(), Some(&c.arguments)),
        e => (e, None),
    };
    let Expression::Identifier(id) = callee else {
        return None;
    };
    if !names.contains(&id.name.as_str()) {
        return None;
    }
    let first = args
        .and_then(|a| a.first())
        .and_then(Argument::as_expression)
        .map(Expression::get_inner_expression);
    let paths = match first {
        None => vec![String::new()],
        Some(Expression::ObjectExpression(o)) => {
            object_strings(o, "path").unwrap_or_else(|| vec![String::new()])
        }
        Some(e) => literal_strings(e),
    };
    Some(paths)
}

/// `/prefix/sub` with duplicate and trailing slashes removed; `/` when both are empty.
pub(super) fn join_route(prefix: &str, sub: &str) -> String {
    let parts: Vec<&str> = prefix
        .split('/')
        .chain(sub.split('/'))
        .filter(|s| !s.is_empty())
        .collect();
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use crate::load::js::tests::{FIXTURE, file, scan_fixture};

    #[test]
    fn routes_from_calls_decorators_and_files() {
        let (_dir, facts) = scan_fixture(FIXTURE);
        let routes: Vec<(&str, &str, &str, &str, u32)> = facts
            .routes
            .iter()
            .map(|r| {
                (
                    r.path.as_str(),
                    r.method.as_str(),
                    r.file.as_str(),
                    r.loc.file.as_str(),
                    r.loc.line,
                )
            })
            .collect();
        assert_eq!(
            routes,
            [
                (
                    "/api/ready",
                    "file",
                    "next/app/(site)/api/ready/route.ts",
                    "next/app/(site)/api/ready/route.ts",
                    1
                ),
                (
                    "/health",
                    "file",
                    "src/api/health/route.ts",
                    "src/api/health/route.ts",
                    1
                ),
                (
                    "/health",
                    "decorator",
                    "src/health.controller.ts",
                    "src/health.controller.ts",
                    3
                ),
                (
                    "/health/db",
                    "decorator",
                    "src/health.controller.ts",
                    "src/health.controller.ts",
                    3
                ),
                // The router's `r.get('/')` is the `/health` mount's own endpoint: recorded once,
                // by the mounting call below.
                ("/health", "get", "src/server.ts", "src/server.ts", 5),
                ("/health", "use", "src/routes/health.ts", "src/server.ts", 6),
                ("/metrics", "get", "src/server.ts", "src/server.ts", 7),
                (
                    "/healthz",
                    "file",
                    "web/src/routes/(app)/healthz/+server.js",
                    "web/src/routes/(app)/healthz/+server.js",
                    1
                ),
            ]
        );
        // The Nest route points at the class decorator, `@` included.
        let nest = &facts.routes[2].loc;
        assert_eq!((nest.line, nest.col, nest.end_col), (3, 1, 22));
    }

    #[test]
    fn more_route_and_binding_forms() {
        let (_dir, facts) = scan_fixture(&[
            (
                "a.js",
                "const fastify = require('fastify')();\n\
                 const { healthPlugin } = require('./plugins/health');\n\
                 fastify.route({ method: 'GET', url: '/healthz', handler: h });\n\
                 fastify.register(healthPlugin, { prefix: '/_health' });\n\
                 const router = require('express').Router();\n\
                 router.get(['/live', '/ready'], h);\n\
                 this.app.post('/orders', h);\n\
                 http.get('/x', cb);\n\
                 const api = axios.create();\n\
                 api.post('/orders', h);\n\
                 app.use(`/t/${x}`, h);\n\
                 app.get('/cfg', { schema: {} });\n\
                 import { HealthController } from './plugins/health';\n\
                 this.use('/health', new HealthController(cfg).router);\n",
            ),
            (
                "plugins/health.js",
                "exports.healthPlugin = async (f) => {};\n",
            ),
        ]);
        let routes: Vec<(&str, &str, &str)> = facts
            .routes
            .iter()
            .map(|r| (r.path.as_str(), r.method.as_str(), r.file.as_str()))
            .collect();
        assert_eq!(
            routes,
            [
                ("/healthz", "route", "a.js"),
                ("/_health", "use", "plugins/health.js"),
                ("/live", "get", "a.js"),
                ("/ready", "get", "a.js"),
                ("/orders", "post", "a.js"),
                ("/health", "use", "plugins/health.js"),
            ]
        );
        assert_eq!(file(&facts, "a.js").imports, ["plugins/health.js"]);
        assert_eq!(file(&facts, "a.js").packages, ["fastify", "express"]);
    }

    #[test]
    fn routes_are_joined_with_their_mount_prefixes() {
        let (_dir, facts) = scan_fixture(&[
            (
                "src/app.ts",
                "import express from 'express';\n\
                 import api from './routes/api';\n\
                 const app = express();\n\
                 app.use('/api', api);\n\
                 app.get('/ping', (_q, s) => s.send('pong'));\n",
            ),
            (
                "src/routes/api.ts",
                "import { Router } from 'express';\n\
                 import v1 from './v1';\n\
                 const router = Router();\n\
                 router.use('/v1', v1);\n\
                 router.get('/health', (_q, s) => s.json({}));\n\
                 export default router;\n",
            ),
            (
                "src/routes/v1.ts",
                "import { Router } from 'express';\n\
                 const r = Router();\n\
                 r.get('/metrics', (_q, s) => s.send(''));\n\
                 export default r;\n",
            ),
        ]);
        let mut got: Vec<(String, String, String)> = facts
            .routes
            .iter()
            .map(|r| (r.path.clone(), r.method.clone(), r.file.clone()))
            .collect();
        got.sort();
        let want = [
            ("/api", "use", "src/routes/api.ts"),
            ("/api/health", "get", "src/routes/api.ts"),
            ("/api/v1", "use", "src/routes/v1.ts"),
            ("/api/v1/metrics", "get", "src/routes/v1.ts"),
            ("/ping", "get", "src/app.ts"),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(got, want);
    }
}
