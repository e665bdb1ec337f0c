//! The one walk over a file's syntax tree: the walker's state, the import/require bindings
//! it tracks (and the HTTP clients derived from them), database and Redis references, the
//! syntax visitor that dispatches to the fact collectors, and the literal-reading helpers
//! they share.

use super::{FileScan, MAX_WALK_DEPTH};
use crate::location::{LineIndex, Location};
use oxc_ast::ast::{
    ArrayExpressionElement, BinaryOperator, BindingIdentifier, BindingPattern, CallExpression,
    Class, Declaration, ExportAllDeclaration, ExportFromDeclaration, ExportSpecifier, Expression,
    FormalParameters, IdentifierName, IdentifierReference, ImportDeclaration,
    ImportDeclarationSpecifier, ImportExpression, JSXElement, NewExpression, ObjectExpression,
    ObjectPropertyKind, PrivateIdentifier, Statement, StringLiteral, TSImportEqualsDeclaration,
    TSModuleReference, TSType, TemplateLiteral, VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_span::Span;
use std::collections::{HashMap, HashSet};

/// Exports that make a Remix / React Router route module answer HTTP requests.
pub(super) const LOADER_EXPORTS: &[&str] = &["loader", "action"];

/// Sentry functions whose callback receives a scope.
pub(super) const SENTRY_SCOPE_FNS: &[&str] = &["withScope", "configureScope", "withIsolationScope"];

/// The parameters of a callback argument (arrow or function expression).
pub(super) fn callback_params<'b>(expr: &'b Expression<'_>) -> Option<&'b FormalParameters<'b>> {
    match expr.get_inner_expression() {
        Expression::ArrowFunctionExpression(f) => Some(&f.params),
        Expression::FunctionExpression(f) => Some(&f.params),
        _ => None,
    }
}

/// The name of the first parameter, when it is a plain identifier.
pub(super) fn first_param_name(params: &FormalParameters<'_>) -> Option<String> {
    match &params.items.first()?.pattern {
        BindingPattern::BindingIdentifier(id) => Some(id.name.to_string()),
        _ => None,
    }
}

/// Member calls that query a database: `.query(`, `.raw(`, `.authenticate(`, Prisma's raw
/// query methods.
const DB_METHODS: &[&str] = &[
    "query",
    "raw",
    "authenticate",
    "$queryRaw",
    "$queryRawUnsafe",
    "$executeRaw",
    "$executeRawUnsafe",
];

/// HTTP client packages: `axios.get('/health', ...)` is a request, not a route.
pub(super) const CLIENT_PACKAGES: &[&str] = &[
    "axios",
    "supertest",
    "superagent",
    "got",
    "ky",
    "node-fetch",
    "undici",
    "http",
    "https",
    "node:http",
    "node:https",
    "@angular/common/http",
    "@nestjs/axios",
];

/// Names that denote an HTTP client rather than a router.
pub(super) const CLIENT_NAMES: &[&str] = &[
    "axios",
    "request",
    "supertest",
    "superagent",
    "agent",
    "got",
    "ky",
    "http",
    "https",
    "httpService",
    "httpClient",
    "fetch",
    "$",
    "jQuery",
    "cy",
];

/// Export names of route handlers in file-based routers.
const HTTP_EXPORTS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// What a local name is bound to by an import or require.
#[derive(Debug, Clone)]
pub(super) struct Binding {
    /// The module specifier.
    pub(super) source: String,
    /// The imported export, or `None` for the module object (namespace or default import,
    /// `require(...)` result).
    pub(super) name: Option<String>,
}

/// The one walk over a file's syntax tree.
pub(super) struct Walker<'s> {
    pub(super) rel: &'s str,
    text: &'s str,
    lines: LineIndex,
    pub(super) bindings: HashMap<String, Binding>,
    /// Local names that hold an HTTP client (imports of [`CLIENT_PACKAGES`] and values
    /// derived from them, e.g. `axios.create()`).
    pub(super) clients: HashSet<String>,
    /// Whether `prom-client` is imported (in any form) so far.
    pub(super) prom: bool,
    /// Scope parameter names of the enclosing `withScope`-style callbacks.
    pub(super) scopes: Vec<String>,
    /// How many `withScope`-style callbacks enclose the current node.
    pub(super) in_scope_callback: usize,
    depth: usize,
    pub(super) out: FileScan,
}

impl<'s> Walker<'s> {
    pub(super) fn new(rel: &'s str, text: &'s str) -> Self {
        Walker {
            rel,
            text,
            lines: LineIndex::new(text),
            bindings: HashMap::new(),
            clients: HashSet::new(),
            prom: false,
            scopes: Vec::new(),
            in_scope_callback: 0,
            depth: 0,
            out: FileScan {
                rel: rel.to_string(),
                ..FileScan::default()
            },
        }
    }

    pub(super) fn loc(&self, span: Span) -> Location {
        self.lines
            .location(self.rel, self.text, span.start as usize, span.end as usize)
    }

    pub(super) fn source_text(&self, span: Span) -> &'s str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// Binds the names of the file's import declarations (which are hoisted) before the walk.
    pub(super) fn bind_top_level(&mut self, body: &[Statement<'_>]) {
        for stmt in body {
            self.note_http_export(stmt);
            if let Statement::ImportDeclaration(decl) = stmt {
                let source = decl.source.value.as_str();
                let Some(specifiers) = &decl.specifiers else {
                    continue;
                };
                for spec in specifiers {
                    let (local, name) = match spec {
                        ImportDeclarationSpecifier::ImportSpecifier(s) => {
                            (s.local.name.as_str(), Some(s.imported.name().to_string()))
                        }
                        ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                            (s.local.name.as_str(), None)
                        }
                        ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                            (s.local.name.as_str(), None)
                        }
                    };
                    self.bind(local, source, name);
                }
            }
        }
    }

    /// Notes a top-level export named after an HTTP method (`export async function GET`,
    /// `export const POST = ...`, `export { handler as GET }`).
    fn note_http_export(&mut self, stmt: &Statement<'_>) {
        let mut names: Vec<&str> = Vec::new();
        match stmt {
            Statement::ExportDeclaration(e) => match &e.declaration {
                Declaration::FunctionDeclaration(f) => {
                    names.extend(f.id.as_ref().map(|id| id.name.as_str()))
                }
                Declaration::VariableDeclaration(v) => {
                    for d in &v.declarations {
                        if let BindingPattern::BindingIdentifier(id) = &d.id {
                            names.push(id.name.as_str());
                        }
                    }
                }
                _ => {}
            },
            Statement::ExportNamedDeclaration(e) => self.note_export_specifiers(&e.specifiers),
            // `export { GET } from "../lib/health"`: the handler is re-exported.
            Statement::ExportFromDeclaration(e) => self.note_export_specifiers(&e.specifiers),
            Statement::ExportDefaultDeclaration(_) => self.out.default_export = true,
            _ => {}
        }
        if names.iter().any(|n| HTTP_EXPORTS.contains(n)) {
            self.out.http_export = true;
        }
        if names.iter().any(|n| LOADER_EXPORTS.contains(n)) {
            self.out.loader_export = true;
        }
    }

    /// Notes the exported names of `export { ... }` (with or without `from`).
    fn note_export_specifiers(&mut self, specifiers: &[ExportSpecifier<'_>]) {
        for spec in specifiers {
            let name = spec.exported.name();
            if HTTP_EXPORTS.contains(&name.as_str()) {
                self.out.http_export = true;
            }
            if name == "default" {
                self.out.default_export = true;
            }
            if LOADER_EXPORTS.contains(&name.as_str()) {
                self.out.loader_export = true;
            }
        }
    }

    fn bind(&mut self, local: &str, source: &str, name: Option<String>) {
        if CLIENT_PACKAGES.contains(&source) {
            self.clients.insert(local.to_string());
        }
        self.bindings.insert(
            local.to_string(),
            Binding {
                source: source.to_string(),
                name,
            },
        );
    }

    /// Records a module specifier the file depends on.
    fn add_source(&mut self, spec: &str) {
        if spec == "prom-client" {
            self.prom = true;
        }
        self.out.sources.push(spec.to_string());
    }

    /// The binding of `expr` when it is a plain identifier bound by an import or require.
    fn binding_of(&self, expr: &Expression<'_>) -> Option<&Binding> {
        match expr.get_inner_expression() {
            Expression::Identifier(id) => self.bindings.get(id.name.as_str()),
            _ => None,
        }
    }

    /// Database and Redis facts of one call.
    fn reference_call(&mut self, call: &CallExpression<'_>) {
        let Expression::StaticMemberExpression(m) = call.callee.get_inner_expression() else {
            return;
        };
        let name = m.property.name.as_str();
        if DB_METHODS.contains(&name) {
            self.out.references_db = true;
        }
        if name == "graph" {
            let on_query = match m.object.get_inner_expression() {
                Expression::Identifier(id) => id.name == "query",
                Expression::StaticMemberExpression(o) => o.property.name == "query",
                _ => false,
            };
            if on_query {
                self.out.references_db = true;
            }
        }
        if name == "ping" {
            self.out.references_redis = true;
        }
    }

    /// Binds the names a variable declarator introduces from a module or module object:
    /// `const S = require('x')`, `const { a: b } = require('x')`, `const { a } = ns`,
    /// `const a = ns.a`, and tracks HTTP client instances (`const api = axios.create()`).
    fn bind_declarator(&mut self, decl: &VariableDeclarator<'_>) {
        let Some(init) = &decl.init else {
            return;
        };
        let init = init.get_inner_expression();
        let init = match init {
            Expression::AwaitExpression(a) => a.argument.get_inner_expression(),
            e => e,
        };
        let from = if let Some(spec) = module_of(init) {
            Some((spec, None))
        } else {
            match init {
                Expression::Identifier(id) => self
                    .bindings
                    .get(id.name.as_str())
                    .filter(|b| b.name.is_none())
                    .map(|b| (b.source.clone(), None)),
                Expression::StaticMemberExpression(m) => self
                    .binding_of(&m.object)
                    .filter(|b| b.name.is_none())
                    .map(|b| (b.source.clone(), Some(m.property.name.to_string()))),
                _ => None,
            }
        };
        match (&decl.id, from) {
            (BindingPattern::BindingIdentifier(id), Some((source, name))) => {
                // `const x = ns` aliases the module object; `const x = ns.a` names an export.
                self.bind(id.name.as_str(), &source, name);
            }
            (BindingPattern::ObjectPattern(pattern), Some((source, None))) => {
                for prop in &pattern.properties {
                    let Some(key) = prop.key.static_name() else {
                        continue;
                    };
                    let local = match &prop.value {
                        BindingPattern::BindingIdentifier(id) => Some(id.name.as_str()),
                        BindingPattern::AssignmentPattern(a) => match &a.left {
                            BindingPattern::BindingIdentifier(id) => Some(id.name.as_str()),
                            _ => None,
                        },
                        _ => None,
                    };
                    if let Some(local) = local {
                        self.bind(local, &source, Some(key.to_string()));
                    }
                }
            }
            (BindingPattern::BindingIdentifier(id), None) if self.derives_from_client(init) => {
                self.clients.insert(id.name.to_string());
            }
            _ => {}
        }
    }

    /// Whether `expr` is a call or member chain rooted at an HTTP client name.
    fn derives_from_client(&self, expr: &Expression<'_>) -> bool {
        let mut e = expr.get_inner_expression();
        for _ in 0..16 {
            e = match e {
                Expression::CallExpression(c) => c.callee.get_inner_expression(),
                Expression::StaticMemberExpression(m) => m.object.get_inner_expression(),
                Expression::Identifier(id) => {
                    let name = id.name.as_str();
                    return self.clients.contains(name)
                        || (CLIENT_NAMES.contains(&name) && !self.bindings.contains_key(name));
                }
                _ => return false,
            };
        }
        false
    }

    /// Identifier facts: `PG_CONNECTION` references the database, any name containing
    /// `redis` references Redis.
    fn identifier(&mut self, name: &str) {
        if name == "PG_CONNECTION" {
            self.out.references_db = true;
        }
        if !self.out.references_redis && contains_ci(name, "redis") {
            self.out.references_redis = true;
        }
    }

    fn text_value(&mut self, value: &str) {
        if !self.out.references_db && contains_ci(value, "select 1") {
            self.out.references_db = true;
        }
    }

    /// Runs `f` one level deeper unless the walk is already at [`MAX_WALK_DEPTH`].
    fn deeper(&mut self, f: impl FnOnce(&mut Self)) {
        if self.depth >= MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        f(self);
        self.depth -= 1;
    }
}

impl<'a> Visit<'a> for Walker<'_> {
    fn visit_expression(&mut self, it: &Expression<'a>) {
        self.deeper(|w| walk::walk_expression(w, it));
    }

    fn visit_statement(&mut self, it: &Statement<'a>) {
        self.deeper(|w| walk::walk_statement(w, it));
    }

    fn visit_ts_type(&mut self, it: &TSType<'a>) {
        self.deeper(|w| walk::walk_ts_type(w, it));
    }

    fn visit_jsx_element(&mut self, it: &JSXElement<'a>) {
        self.deeper(|w| walk::walk_jsx_element(w, it));
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        self.add_source(it.source.value.as_str());
        walk::walk_import_declaration(self, it);
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        self.add_source(it.source.value.as_str());
        walk::walk_export_all_declaration(self, it);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.add_source(it.source.value.as_str());
        walk::walk_export_from_declaration(self, it);
    }

    fn visit_ts_import_equals_declaration(&mut self, it: &TSImportEqualsDeclaration<'a>) {
        if let TSModuleReference::ExternalModuleReference(r) = &it.module_reference {
            let source = r.expression.value.as_str();
            self.add_source(source);
            self.bind(it.id.name.as_str(), source, None);
        }
        walk::walk_ts_import_equals_declaration(self, it);
    }

    fn visit_import_expression(&mut self, it: &ImportExpression<'a>) {
        if let Some(spec) = static_string(it.source.get_inner_expression()) {
            self.add_source(&spec);
        }
        walk::walk_import_expression(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        self.bind_declarator(it);
        walk::walk_variable_declarator(self, it);
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        if let Some(spec) = require_specifier(it) {
            self.add_source(&spec);
        }
        self.sentry_call(it);
        self.route_call(it);
        self.reference_call(it);
        self.factory_metric(it);
        let scope_fn = self
            .sentry_fn(&it.callee)
            .or_else(|| self.scope_method(&it.callee))
            .is_some_and(|f| SENTRY_SCOPE_FNS.contains(&f.as_str()));
        if !scope_fn {
            walk::walk_call_expression(self, it);
            return;
        }
        let names: Vec<String> = it
            .arguments
            .iter()
            .filter_map(|a| callback_params(a.as_expression()?))
            .filter_map(|p| first_param_name(p))
            .collect();
        let pushed = names.len();
        self.scopes.extend(names);
        self.in_scope_callback += 1;
        walk::walk_call_expression(self, it);
        self.in_scope_callback -= 1;
        self.scopes.truncate(self.scopes.len() - pushed);
    }

    fn visit_object_expression(&mut self, it: &ObjectExpression<'a>) {
        self.route_table(it);
        walk::walk_object_expression(self, it);
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        self.metric(it);
        self.otel_exporter(it);
        walk::walk_new_expression(self, it);
    }

    fn visit_class(&mut self, it: &Class<'a>) {
        self.nest_routes(it);
        walk::walk_class(self, it);
    }

    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        self.text_value(it.value.as_str());
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        for q in &it.quasis {
            let value = q.value.cooked.unwrap_or(q.value.raw);
            self.text_value(value.as_str());
        }
        walk::walk_template_literal(self, it);
    }

    fn visit_identifier_reference(&mut self, it: &IdentifierReference<'a>) {
        self.identifier(it.name.as_str());
    }

    fn visit_binding_identifier(&mut self, it: &BindingIdentifier<'a>) {
        self.identifier(it.name.as_str());
    }

    fn visit_identifier_name(&mut self, it: &IdentifierName<'a>) {
        self.identifier(it.name.as_str());
    }

    fn visit_private_identifier(&mut self, it: &PrivateIdentifier<'a>) {
        self.identifier(it.name.as_str());
    }
}

/// The specifier of `require('x')` / `` require(`x`) ``.
fn require_specifier(call: &CallExpression<'_>) -> Option<String> {
    let Expression::Identifier(id) = call.callee.get_inner_expression() else {
        return None;
    };
    if id.name != "require" || call.arguments.len() != 1 {
        return None;
    }
    static_string(call.arguments[0].as_expression()?.get_inner_expression())
}

/// The module an expression loads: `require('x')`, `import('x')`, either followed by
/// `.default`.
pub(super) fn module_of(expr: &Expression<'_>) -> Option<String> {
    match expr.get_inner_expression() {
        Expression::CallExpression(c) => require_specifier(c),
        Expression::ImportExpression(i) => static_string(i.source.get_inner_expression()),
        Expression::StaticMemberExpression(m) if m.property.name == "default" => {
            module_of(&m.object)
        }
        _ => None,
    }
}

/// The value of a string literal or a template literal without substitutions.
fn static_string(expr: &Expression<'_>) -> Option<String> {
    match expr {
        Expression::StringLiteral(s) => Some(s.value.to_string()),
        Expression::TemplateLiteral(t) => t.single_quasi().map(|s| s.to_string()),
        _ => None,
    }
}

/// Appends the literal text of a string expression: string literals, the quasis of template
/// literals, and both sides of `+` (nesting bounded).
pub(super) fn literal_parts(expr: &Expression<'_>, out: &mut String, depth: usize) {
    if depth > 32 {
        return;
    }
    match expr.get_inner_expression() {
        Expression::StringLiteral(s) => out.push_str(s.value.as_str()),
        Expression::TemplateLiteral(t) => {
            for q in &t.quasis {
                out.push_str(q.value.cooked.unwrap_or(q.value.raw).as_str());
            }
        }
        Expression::BinaryExpression(b) if b.operator == BinaryOperator::Addition => {
            literal_parts(&b.left, out, depth + 1);
            literal_parts(&b.right, out, depth + 1);
        }
        _ => {}
    }
}

/// The strings of a literal or of an array of literals (`'/a'`, `['/a', '/b']`).
pub(super) fn literal_strings(expr: &Expression<'_>) -> Vec<String> {
    if let Some(s) = static_string(expr) {
        return vec![s];
    }
    let Expression::ArrayExpression(a) = expr else {
        return Vec::new();
    };
    a.elements
        .iter()
        .filter_map(|e| match e {
            ArrayExpressionElement::SpreadElement(_) | ArrayExpressionElement::Elision(_) => None,
            e => static_string(e.as_expression()?.get_inner_expression()),
        })
        .collect()
}

/// The literal strings of property `key` of an object literal.
pub(super) fn object_strings(o: &ObjectExpression<'_>, key: &str) -> Option<Vec<String>> {
    o.properties.iter().find_map(|p| match p {
        ObjectPropertyKind::ObjectProperty(p) if p.key.static_name().as_deref() == Some(key) => {
            Some(literal_strings(p.value.get_inner_expression()))
        }
        _ => None,
    })
}

pub(super) fn is_sentry_package(spec: &str) -> bool {
    spec.starts_with("@sentry/")
}

/// ASCII case-insensitive substring test.
fn contains_ci(haystack: &str, needle: &str) -> bool {
    let n = needle.len();
    haystack.len() >= n
        && haystack
            .as_bytes()
            .windows(n)
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}
