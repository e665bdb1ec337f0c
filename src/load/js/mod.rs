//! JavaScript/TypeScript sources → [`AppFacts`] for the monitoring rules (OB001–OB006).
//!
//! Each source is parsed with `oxc_parser` (TypeScript for `.ts .mts .cts .tsx`, JSX for
//! `.tsx .jsx` and plain `.js`-family files, module or script decided by content) and one
//! walk over the syntax tree collects the facts, so comments and text inside strings never
//! count as code. Sources are not input files in the SS001 sense: a file that is too large,
//! unreadable, not UTF-8 or does not parse gives no facts and no [`LoadError`] (parse
//! failures are only counted, in [`AppFacts::parse_failures`]).
//!
//! The parser is recursive without a depth limit, so a cheap pre-scan ([`too_deeply_nested`])
//! refuses pathologically nested files before parsing, and every file is parsed on a worker
//! thread with a large stack. The fact walk itself stops descending past
//! [`MAX_WALK_DEPTH`].

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    Argument, ArrayExpressionElement, BinaryOperator, BindingIdentifier, BindingPattern,
    CallExpression, Class, ClassElement, Declaration, Decorator, ExportAllDeclaration,
    ExportFromDeclaration, ExportSpecifier, Expression, FormalParameters, IdentifierName,
    IdentifierReference, ImportDeclaration, ImportDeclarationSpecifier, ImportExpression,
    JSXElement, NewExpression, ObjectExpression, ObjectPropertyKind, PrivateIdentifier, Statement,
    StringLiteral, TSImportEqualsDeclaration, TSModuleReference, TSType, TemplateLiteral,
    VariableDeclarator,
};
use oxc_ast_visit::{Visit, walk};
use oxc_parser::{ParseOptions, Parser};
use oxc_span::{GetSpan, SourceType, Span};
use rayon::prelude::*;

use crate::definitions::package_matches;
use crate::load::js_text::{join_path, too_deeply_nested};
use crate::load::{LoadError, Root};
use crate::location::{LineIndex, Location};
use crate::model::app::{AppFacts, CallSite, Metric, Route, SourceFile};

/// Largest source file parsed, in bytes; bigger ones are skipped silently.
pub const MAX_SOURCE_BYTES: u64 = 1024 * 1024;

/// Deepest nesting (brackets plus chains of recursive operators and keywords, as estimated by
/// [`too_deeply_nested`]) a file may have to be parsed.
pub const MAX_NESTING: usize = 1_000;

/// Depth past which the fact walk stops descending (left-deep chains such as `a+b+c+...`
/// are parsed iteratively but walked recursively).
pub const MAX_WALK_DEPTH: usize = 2_000;

/// Stack size of the parsing threads. Only touched pages are committed, so this costs
/// nothing for ordinary files.
const WORKER_STACK_BYTES: usize = 256 << 20;

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

/// Sentry functions that give captured errors context.
const SENTRY_SETTERS: &[&str] = &[
    "setContext",
    "setTag",
    "setTags",
    "setUser",
    "setExtra",
    "setExtras",
];

/// Sentry functions whose callback receives a scope.
const SENTRY_SCOPE_FNS: &[&str] = &["withScope", "configureScope", "withIsolationScope"];

/// Sentry functions returning a scope (`Sentry.getCurrentScope().setTag(...)`).
const SENTRY_SCOPE_GETTERS: &[&str] = &["getCurrentScope", "getIsolationScope", "getGlobalScope"];

/// prom-client metric classes.
const METRIC_KINDS: &[&str] = &["Counter", "Histogram", "Summary", "Gauge"];

/// Router methods that register a route with a path as first argument.
const ROUTE_METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "all", "head", "options", "use", "route", "register",
];

/// Nest method decorators.
const NEST_METHODS: &[&str] = &[
    "Get", "Post", "Put", "Delete", "Patch", "All", "Head", "Options", "Search",
];

/// HTTP client packages: `axios.get('/health', ...)` is a request, not a route.
const CLIENT_PACKAGES: &[&str] = &[
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
const CLIENT_NAMES: &[&str] = &[
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

/// Extensions tried when resolving an import specifier, in order.
const RESOLVE_EXTS: &[&str] = &["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts"];

/// Scans the JS/TS `files` (root-relative paths) of the repository `root` and returns the app
/// facts, and a note for each source not read or not parsed for a reason worth saying: one
/// leading outside the root (a symlink, [`LoadError::outside`]) or nested too deeply to parse
/// safely. Other sources that cannot be read or parsed are only counted (see the module docs).
pub fn scan(
    root: &Root,
    files: &[String],
    aliases: &crate::load::tsconfig::Aliases,
    defs: &crate::definitions::Definitions,
) -> (AppFacts, Vec<LoadError>) {
    let outcomes = scan_files(root, files);
    let known: HashSet<&str> = files.iter().map(String::as_str).collect();
    let mut facts = AppFacts::default();
    let mut scans: Vec<FileScan> = Vec::new();
    let mut notes = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Skipped => {}
            Outcome::Outside(e) => notes.push(e),
            Outcome::Failed => facts.parse_failures += 1,
            Outcome::TooDeep(note) => {
                facts.parse_failures += 1;
                notes.push(note);
            }
            Outcome::Parsed(s) => scans.push(*s),
        }
    }
    scans.sort_by(|a, b| a.rel.cmp(&b.rel));
    // Routes with the file that declares them, joined with their mount prefixes below.
    let mut declared: Vec<(String, Route)> = Vec::new();
    for s in scans {
        let mut imports: Vec<String> = Vec::new();
        let mut packages: Vec<String> = Vec::new();
        let mut db = s.references_db;
        let mut redis = s.references_redis;
        for spec in &s.sources {
            if package_matches(&defs.redis_packages, spec, true) {
                redis = true;
            }
            if is_local_specifier(spec) {
                if let Some(path) = resolve(&s.rel, spec, &known)
                    && !imports.contains(&path)
                {
                    imports.push(path);
                }
                continue;
            }
            // A tsconfig/jsconfig path alias to one of the repository's modules.
            if let Some(path) = aliases
                .candidates(&s.rel, spec)
                .iter()
                .find_map(|c| find_module(c, &known))
            {
                if !imports.contains(&path) {
                    imports.push(path);
                }
                continue;
            }
            let Some(pkg) = package_name(spec) else {
                continue;
            };
            if package_matches(&defs.database_packages, pkg, false) {
                db = true;
            }
            if !packages.iter().any(|p| p == pkg) {
                packages.push(pkg.to_string());
            }
        }
        for r in s.routes {
            let file = r
                .handler
                .as_deref()
                .and_then(|spec| resolve(&s.rel, spec, &known))
                .unwrap_or_else(|| s.rel.clone());
            declared.push((
                s.rel.clone(),
                Route {
                    path: r.path,
                    method: r.method,
                    file,
                    loc: r.loc,
                    reaches_db: false,
                    reaches_redis: false,
                },
            ));
        }
        facts.sentry_inits.extend(s.sentry_inits);
        facts.sentry_context.extend(s.sentry_context);
        facts.metrics.extend(s.metrics);
        facts.files.push(SourceFile {
            loc: Location::file_start(&s.rel),
            path: s.rel,
            imports,
            packages,
            references_db: db,
            references_redis: redis,
        });
    }
    facts.routes = mount_routes(declared);
    notes.sort_by(|a, b| a.loc.file.cmp(&b.loc.file));
    (facts, notes)
}

/// How many `use` mounts deep route prefixes are followed.
const MAX_MOUNT_DEPTH: usize = 4;

/// Joins the routes declared in a module with the paths the module is mounted at
/// (`app.use('/api', router)` and `router.get('/health')` is `/api/health`), through nested
/// mounts; routes of modules mounted nowhere keep their paths. Each element of `declared` is
/// (declaring file, route); a `use` route's `file` is the module it mounts.
fn mount_routes(declared: Vec<(String, Route)>) -> Vec<Route> {
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

/// Reads and parses `files` on a rayon pool whose threads have [`WORKER_STACK_BYTES`] of
/// stack, or one after the other on one such thread when no pool can be built; every file
/// counts as failed when no thread can be started at all.
fn scan_files(root: &Root, files: &[String]) -> Vec<Outcome> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(rayon::current_num_threads().max(1))
        .stack_size(WORKER_STACK_BYTES)
        .thread_name(|i| format!("shipshape-js-{i}"))
        .build();
    if let Ok(pool) = pool {
        return pool.install(|| files.par_iter().map(|rel| scan_file(root, rel)).collect());
    }
    let sequential = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(WORKER_STACK_BYTES)
            .spawn_scoped(s, || {
                files
                    .iter()
                    .map(|rel| scan_file(root, rel))
                    .collect::<Vec<_>>()
            })
            .ok()?
            .join()
            .ok()
    });
    sequential.unwrap_or_else(|| files.iter().map(|_| Outcome::Failed).collect())
}

/// What became of one source file.
enum Outcome {
    /// Too large, unreadable, binary or not UTF-8: ignored.
    Skipped,
    /// A symlink leading outside the root: not read.
    Outside(LoadError),
    /// Read but not parsed (syntax error, parser panic).
    Failed,
    /// Read but refused before parsing: nested past [`MAX_NESTING`] (reported as a note).
    TooDeep(LoadError),
    /// Parsed: its facts.
    Parsed(Box<FileScan>),
}

/// The facts of one file before imports are resolved against the whole file set.
#[derive(Debug, Default)]
struct FileScan {
    rel: String,
    /// Every module specifier imported, re-exported, required or dynamically imported.
    sources: Vec<String>,
    sentry_inits: Vec<CallSite>,
    sentry_context: Vec<CallSite>,
    metrics: Vec<Metric>,
    routes: Vec<RawRoute>,
    references_db: bool,
    references_redis: bool,
    /// Whether the file exports a handler named after an HTTP method (`GET`, `POST`, ...).
    http_export: bool,
    /// Whether the file has an ES default export.
    default_export: bool,
    /// Whether the file exports a Remix / React Router `loader` or `action`.
    loader_export: bool,
}

/// A route before its handler specifier is resolved.
#[derive(Debug)]
struct RawRoute {
    path: String,
    method: String,
    loc: Location,
    /// The specifier of the module defining the handler, when it is imported.
    handler: Option<String>,
}

/// Reads, pre-scans, parses and walks one file.
fn scan_file(root: &Root, rel: &str) -> Outcome {
    let text = match root.read_text_limited(rel, MAX_SOURCE_BYTES) {
        Ok(t) => t,
        Err(e) if e.outside => return Outcome::Outside(e),
        Err(_) => return Outcome::Skipped,
    };
    scan_text(rel, &text)
}

/// Parses and walks one file's text.
fn scan_text(rel: &str, text: &str) -> Outcome {
    let Some(source_type) = source_type(rel) else {
        return Outcome::Skipped;
    };
    if text.len() > MAX_SOURCE_BYTES as usize {
        return Outcome::Skipped;
    }
    if too_deeply_nested(text, MAX_NESTING) {
        return Outcome::TooDeep(LoadError::at_file(
            rel,
            format!(
                "{rel} is nested more than {MAX_NESTING} levels deep; it was not parsed and gives no app facts"
            ),
        ));
    }
    match catch_unwind(AssertUnwindSafe(|| extract(rel, text, source_type))) {
        Ok(Some(scan)) => Outcome::Parsed(Box::new(scan)),
        _ => Outcome::Failed,
    }
}

/// The source type for a path: TypeScript by extension, JSX for `.tsx` and every
/// JavaScript extension (React code often has JSX in `.js` files, and JSX is a superset
/// there), module or script decided by content.
fn source_type(rel: &str) -> Option<SourceType> {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    let st = SourceType::from_path(&name).ok()?;
    Some(if st.is_javascript() {
        st.with_jsx(true)
    } else {
        st
    })
}

/// Parses `text` and collects its facts; `None` when it does not parse.
fn extract(rel: &str, text: &str, source_type: SourceType) -> Option<FileScan> {
    let allocator = Allocator::default();
    let options = ParseOptions {
        allow_return_outside_function: true,
        preserve_parens: false,
        ..ParseOptions::default()
    };
    let ret = Parser::new(&allocator, text, source_type)
        .with_options(options)
        .parse();
    if ret.panicked || ret.diagnostics.has_errors() {
        return None;
    }
    let mut walker = Walker::new(rel, text);
    walker.bind_top_level(&ret.program.body);
    walker.visit_program(&ret.program);
    let mut out = walker.out;
    let route = file_route(rel, out.http_export, out.default_export)
        .or_else(|| out.loader_export.then(|| remix_route(rel)).flatten());
    if let Some(path) = route {
        out.routes.push(RawRoute {
            path,
            method: "file".to_string(),
            loc: Location::file_start(rel),
            handler: None,
        });
    }
    Some(out)
}

/// What a local name is bound to by an import or require.
#[derive(Debug, Clone)]
struct Binding {
    /// The module specifier.
    source: String,
    /// The imported export, or `None` for the module object (namespace or default import,
    /// `require(...)` result).
    name: Option<String>,
}

/// The one walk over a file's syntax tree.
struct Walker<'s> {
    rel: &'s str,
    text: &'s str,
    lines: LineIndex,
    bindings: HashMap<String, Binding>,
    /// Local names that hold an HTTP client (imports of [`CLIENT_PACKAGES`] and values
    /// derived from them, e.g. `axios.create()`).
    clients: HashSet<String>,
    /// Whether `prom-client` is imported (in any form) so far.
    prom: bool,
    /// Scope parameter names of the enclosing `withScope`-style callbacks.
    scopes: Vec<String>,
    /// How many `withScope`-style callbacks enclose the current node.
    in_scope_callback: usize,
    depth: usize,
    out: FileScan,
}

impl<'s> Walker<'s> {
    fn new(rel: &'s str, text: &'s str) -> Self {
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

    fn loc(&self, span: Span) -> Location {
        self.lines
            .location(self.rel, self.text, span.start as usize, span.end as usize)
    }

    fn source_text(&self, span: Span) -> &'s str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// Binds the names of the file's import declarations (which are hoisted) before the walk.
    fn bind_top_level(&mut self, body: &[Statement<'_>]) {
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
    fn sentry_fn(&self, callee: &Expression<'_>) -> Option<String> {
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
    fn scope_method(&self, callee: &Expression<'_>) -> Option<String> {
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
    fn sentry_call(&mut self, call: &CallExpression<'_>) {
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
    fn route_call(&mut self, call: &CallExpression<'_>) {
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
    fn route_table(&mut self, o: &ObjectExpression<'_>) {
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

    /// Metric facts of one `new` expression (only in files importing prom-client).
    fn metric(&mut self, new: &NewExpression<'_>) {
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
    fn otel_exporter(&mut self, new: &NewExpression<'_>) {
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
    fn factory_metric(&mut self, call: &CallExpression<'_>) {
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

    /// Nest routes of one class: `@Controller('health')` with `@Get()` / `@Get('x')`
    /// methods, located at the class decorator.
    fn nest_routes(&mut self, class: &Class<'_>) {
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
fn module_of(expr: &Expression<'_>) -> Option<String> {
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

/// Appends the literal text of a string expression: string literals, the quasis of template
/// literals, and both sides of `+` (nesting bounded).
fn literal_parts(expr: &Expression<'_>, out: &mut String, depth: usize) {
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
fn literal_strings(expr: &Expression<'_>) -> Vec<String> {
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
fn object_strings(o: &ObjectExpression<'_>, key: &str) -> Option<Vec<String>> {
    o.properties.iter().find_map(|p| match p {
        ObjectPropertyKind::ObjectProperty(p) if p.key.static_name().as_deref() == Some(key) => {
            Some(literal_strings(p.value.get_inner_expression()))
        }
        _ => None,
    })
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
fn join_route(prefix: &str, sub: &str) -> String {
    let parts: Vec<&str> = prefix
        .split('/')
        .chain(sub.split('/'))
        .filter(|s| !s.is_empty())
        .collect();
    format!("/{}", parts.join("/"))
}

/// The parameters of a callback argument (arrow or function expression).
fn callback_params<'b>(expr: &'b Expression<'_>) -> Option<&'b FormalParameters<'b>> {
    match expr.get_inner_expression() {
        Expression::ArrowFunctionExpression(f) => Some(&f.params),
        Expression::FunctionExpression(f) => Some(&f.params),
        _ => None,
    }
}

fn first_param_name(params: &FormalParameters<'_>) -> Option<String> {
    match &params.items.first()?.pattern {
        BindingPattern::BindingIdentifier(id) => Some(id.name.to_string()),
        _ => None,
    }
}

fn is_sentry_package(spec: &str) -> bool {
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

/// Whether a specifier names a file of the repository: relative (`./x`, `../x`) or a
/// conventional root alias (`@/x`, `~/x`).
fn is_local_specifier(spec: &str) -> bool {
    spec == "."
        || spec == ".."
        || spec.starts_with("./")
        || spec.starts_with("../")
        || spec.starts_with("@/")
        || spec.starts_with("~/")
}

/// The package a bare specifier imports: `lodash/fp` → `lodash`, `@scope/pkg/x` →
/// `@scope/pkg`; `None` for absolute paths and empty specifiers.
fn package_name(spec: &str) -> Option<&str> {
    if spec.is_empty() || spec.starts_with('/') {
        return None;
    }
    let mut slashes = spec.match_indices('/').map(|(i, _)| i);
    let cut = if spec.starts_with('@') {
        slashes.nth(1)
    } else {
        slashes.next()
    };
    Some(cut.map_or(spec, |i| &spec[..i]))
}

/// Resolves a local specifier imported by `importer` to a scanned file.
fn resolve(importer: &str, spec: &str, known: &HashSet<&str>) -> Option<String> {
    let dir = crate::load::dir_of(importer);
    if let Some(rest) = spec.strip_prefix("@/").or_else(|| spec.strip_prefix("~/")) {
        // A root alias: the nearest ancestor directory where `src/<rest>` or `<rest>` exists.
        let mut anc = Some(dir);
        while let Some(a) = anc {
            for base in [join_path(a, "src"), Some(a.to_string())] {
                if let Some(found) = base
                    .and_then(|b| join_path(&b, rest))
                    .and_then(|p| find_module(&p, known))
                {
                    return Some(found);
                }
            }
            anc = if a.is_empty() {
                None
            } else {
                Some(crate::load::dir_of(a))
            };
        }
        return None;
    }
    find_module(&join_path(dir, spec)?, known)
}

/// The scanned file a module path denotes: itself, with an extension, with a TypeScript
/// extension in place of a JavaScript one, or its `index` file.
fn find_module(path: &str, known: &HashSet<&str>) -> Option<String> {
    let hit = |p: String| known.contains(p.as_str()).then_some(p);
    if !path.is_empty()
        && let Some(p) = hit(path.to_string())
    {
        return Some(p);
    }
    if let Some((stem, ext)) = path.rsplit_once('.') {
        let swaps: &[&str] = match ext {
            "js" => &["ts", "tsx"],
            "jsx" => &["tsx"],
            "mjs" => &["mts"],
            "cjs" => &["cts"],
            _ => &[],
        };
        for s in swaps {
            if let Some(p) = hit(format!("{stem}.{s}")) {
                return Some(p);
            }
        }
    }
    if !path.is_empty() {
        for ext in RESOLVE_EXTS {
            if let Some(p) = hit(format!("{path}.{ext}")) {
                return Some(p);
            }
        }
    }
    for ext in RESOLVE_EXTS {
        let p = if path.is_empty() {
            format!("index.{ext}")
        } else {
            format!("{path}/index.{ext}")
        };
        if let Some(p) = hit(p) {
            return Some(p);
        }
    }
    None
}

/// The route a file exposes by its path: Medusa `src/api/<path>/route.(ts|js)`, Next.js
/// `app/<path>/route.(ts|js)` (only when it exports an HTTP-method handler, `http_export`)
/// and `pages/api/<path>.(ts|js)` (only with a default export, `default_export`: `app/` and
/// `pages/` folders are common outside Next.js), SvelteKit `routes/<path>/+server.(ts|js)`;
/// route groups `(x)` and parallel slots `@x` are dropped, private folders `_x` expose
/// nothing.
fn file_route(rel: &str, http_export: bool, default_export: bool) -> Option<String> {
    let segs: Vec<&str> = rel.split('/').collect();
    let (name, dirs) = segs.split_last()?;
    let (stem, ext) = name.rsplit_once('.')?;
    if !matches!(ext, "ts" | "js" | "mts" | "mjs") {
        return None;
    }
    let after = |i: usize| -> Option<String> {
        let mut out: Vec<&str> = Vec::new();
        for d in &dirs[i..] {
            if d.starts_with('(') && d.ends_with(')') || d.starts_with('@') {
                continue;
            }
            if d.starts_with('_') {
                return None;
            }
            out.push(d);
        }
        Some(format!("/{}", out.join("/")))
    };
    let find = |a: &str, b: &str| dirs.windows(2).position(|w| w[0] == a && w[1] == b);
    match stem {
        "route" => {
            if let Some(i) = find("src", "api") {
                return after(i + 2);
            }
            let i = dirs
                .iter()
                .position(|d| *d == "app")
                .filter(|_| http_export)?;
            after(i + 1)
        }
        "+server" => {
            let i = find("src", "routes")
                .map(|i| i + 1)
                .or_else(|| dirs.iter().position(|d| *d == "routes"))?;
            after(i + 1)
        }
        _ => {
            let i = find("pages", "api").filter(|_| default_export)?;
            let base = after(i + 1)?;
            Some(if stem == "index" {
                base
            } else {
                join_route(&base, stem)
            })
        }
    }
}

/// Exports that make a Remix / React Router route module answer HTTP requests.
const LOADER_EXPORTS: &[&str] = &["loader", "action"];

/// The route of a Remix / React Router file-system route module under `app/routes/`, in the
/// flat-routes convention: dots separate segments (`api.health.ts` → `/api/health`), a folder
/// holding `route.*` is named like a file, `+` folders (remix-flat-routes) add their name as
/// segments, `_x` segments are pathless layouts and `_index` an index, a trailing `_` is
/// dropped, `$x` is `:x` and `$` a splat, `(x)` an optional segment.
fn remix_route(rel: &str) -> Option<String> {
    let segs: Vec<&str> = rel.split('/').collect();
    let at = segs
        .windows(2)
        .position(|w| w[0] == "app" && w[1] == "routes")?
        + 2;
    let (file, dirs) = segs[at..].split_last()?;
    let (stem, ext) = file.rsplit_once('.')?;
    if !matches!(ext, "ts" | "tsx" | "js" | "jsx" | "mts" | "mjs") {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        match d.strip_suffix('+') {
            Some(flat) => names.push(flat),
            // A plain folder is a route folder: the last one, holding `route.*`.
            None if i + 1 == dirs.len() && stem == "route" => names.push(d),
            None => return None,
        }
    }
    if stem != "route" {
        names.push(stem);
    }
    let mut path: Vec<String> = Vec::new();
    for seg in names.iter().flat_map(|n| split_unescaped_dots(n)) {
        if seg.is_empty() || seg == "_index" || seg == "index" || seg.starts_with('_') {
            continue;
        }
        let seg = seg.strip_suffix('_').unwrap_or(seg);
        let seg = seg
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(seg);
        path.push(match seg.strip_prefix('$') {
            Some("") => "*".to_string(),
            Some(p) => format!(":{p}"),
            None => seg.replace(['[', ']'], ""),
        });
    }
    Some(format!("/{}", path.join("/")))
}

/// `name` split at dots outside `[...]` escapes.
fn split_unescaped_dots(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in name.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(&name[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&name[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` under a fresh temporary root and scans them all, on a thread with the
    /// 2 MiB stack of ordinary worker threads.
    fn scan_fixture(files: &[(&str, &str)]) -> (tempfile::TempDir, AppFacts) {
        let (dir, facts, notes) = scan_fixture_with_notes(files);
        assert!(notes.is_empty());
        (dir, facts)
    }

    /// [`scan_fixture`], also returning the notes.
    fn scan_fixture_with_notes(
        files: &[(&str, &str)],
    ) -> (tempfile::TempDir, AppFacts, Vec<LoadError>) {
        let dir = tempfile::tempdir().unwrap();
        let mut list = Vec::new();
        for (rel, text) in files {
            let abs = dir.path().join(rel);
            std::fs::create_dir_all(abs.parent().unwrap()).unwrap();
            std::fs::write(&abs, text).unwrap();
            list.push(rel.to_string());
        }
        let root = Root::new(dir.path()).unwrap();
        let (facts, errors) = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || scan(&root, &list, &Default::default(), &Default::default()))
            .unwrap()
            .join()
            .unwrap();
        (dir, facts, errors)
    }

    fn file<'f>(facts: &'f AppFacts, path: &str) -> &'f SourceFile {
        facts
            .files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} not scanned"))
    }

    const FIXTURE: &[(&str, &str)] = &[
        (
            "src/instrument.ts",
            "import * as Sentry from \"@sentry/node\";\n\
             // Sentry.init({ dsn: \"commented out\" });\n\
             /* Sentry.init({}) */\n\
             Sentry.init({ dsn: process.env.SENTRY_DSN });\n\
             const text = \"Sentry.init(x)\";\n",
        ),
        (
            "src/sentry-alias.ts",
            "import { init as initSentry, captureException, withScope } from \"@sentry/node\";\n\
             initSentry({ dsn: \"x\" });\n\
             export function report(err: Error) {\n\
             \x20 captureException(err);\n\
             }\n\
             export function reportWithContext(err: Error) {\n\
             \x20 captureException(err, { tags: { area: \"checkout\" } });\n\
             }\n\
             export function scoped(err: Error) {\n\
             \x20 withScope((scope) => {\n\
             \x20   scope.setTag(\"k\", \"v\");\n\
             \x20   captureException(err);\n\
             \x20 });\n\
             }\n",
        ),
        (
            "src/legacy.js",
            "const Sentry = require(\"@sentry/node\");\n\
             Sentry.init({ dsn: \"y\" });\n\
             Sentry.setUser({ id: 1 });\n",
        ),
        (
            "src/commented.js",
            "// import * as Sentry from '@sentry/node'\n\
             // Sentry.init({})\n\
             /* new client.Counter({ name: 'orders_total' }); app.get('/health', h) */\n",
        ),
        (
            "src/metrics.ts",
            "import client from 'prom-client';\n\
             export const orders = new client.Counter({ name: 'orders_total', help: 'Orders placed' });\n\
             export const latency = new client.Histogram({\n\
             \x20 name: 'http_request_duration_seconds',\n\
             \x20 help: 'Request duration',\n\
             \x20 buckets: [0.1, 0.5, 1],\n\
             });\n",
        ),
        (
            "src/metrics2.js",
            "const { Gauge, Summary: S } = require('prom-client');\n\
             const name = 'dynamic';\n\
             new Gauge({ name });\n\
             new S({ name: `rt_seconds` });\n",
        ),
        (
            "src/not-prom.ts",
            "class Counter { constructor(o: object) {} }\nnew Counter({ name: 'fake_total' });\n",
        ),
        (
            "src/server.ts",
            "import express from 'express';\n\
             import healthRouter from './routes/health';\n\
             const app = express();\n\
             // app.get('/commented', (req, res) => res.send('no'));\n\
             app.get('/health', (req, res) => res.send('ok'));\n\
             app.use('/health', healthRouter);\n\
             app.get(`/metrics`, async (_req, res) => { res.end(); });\n\
             axios.get('/status', handler);\n\
             cache.get('/not-a-route');\n",
        ),
        (
            "src/routes/health.ts",
            "import { Router } from 'express';\n\
             import knex from 'knex';\n\
             import Redis from 'ioredis';\n\
             import { helper } from '../util';\n\
             const router = Router();\n\
             router.get('/', async (_req, res) => { res.json({ ok: helper }); });\n\
             export default router;\n",
        ),
        ("src/util/index.ts", "export const helper = 1;\n"),
        (
            "src/health.controller.ts",
            "import { Controller, Get } from '@nestjs/common';\n\
             \n\
             @Controller('health')\n\
             export class HealthController {\n\
             \x20 @Get()\n\
             \x20 check() { return 'ok'; }\n\
             \x20 @Get('db')\n\
             \x20 db() { return 'ok'; }\n\
             }\n",
        ),
        (
            "src/api/health/route.ts",
            "import type { MedusaRequest, MedusaResponse } from \"@medusajs/framework/http\";\n\
             export async function GET(req: MedusaRequest, res: MedusaResponse) {\n\
             \x20 const pg = req.scope.resolve(\"__pg_connection__\");\n\
             \x20 await pg.raw(\"SELECT 1\");\n\
             \x20 const cache = req.scope.resolve(\"cache\");\n\
             \x20 await cache.ping();\n\
             \x20 res.json({ ok: true });\n\
             }\n",
        ),
        (
            "web/src/routes/(app)/healthz/+server.js",
            "export function GET() { return new Response('ok'); }\n",
        ),
        (
            "next/app/(site)/api/ready/route.ts",
            "export async function GET() { return Response.json({ ok: true }); }\n",
        ),
        ("src/app/users/route.ts", "export const userRoutes = [];\n"),
        (
            "src/components/App.tsx",
            "import React from 'react';\n\
             export function App({ title }: { title: string }) {\n\
             \x20 return <div className=\"app\"><span>{title}</span><br /></div>;\n\
             }\n",
        ),
        (
            "src/broken.ts",
            "import * as Sentry from '@sentry/node';\n\
             Sentry.init({});\n\
             app.get('/health', h);\n\
             export const x = ;\n",
        ),
    ];

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
    fn imports_packages_and_references() {
        let (_dir, facts) = scan_fixture(FIXTURE);
        let health = file(&facts, "src/routes/health.ts");
        assert_eq!(health.imports, ["src/util/index.ts"]);
        assert_eq!(health.packages, ["express", "knex", "ioredis"]);
        assert!(health.references_db && health.references_redis);
        let server = file(&facts, "src/server.ts");
        assert_eq!(server.imports, ["src/routes/health.ts"]);
        assert!(!server.references_db && !server.references_redis);
        let medusa = file(&facts, "src/api/health/route.ts");
        assert_eq!(medusa.packages, ["@medusajs/framework"]);
        assert!(medusa.references_db && medusa.references_redis);
        let commented = file(&facts, "src/commented.js");
        assert!(commented.packages.is_empty() && !commented.references_redis);
        let app = file(&facts, "src/components/App.tsx");
        assert_eq!(app.packages, ["react"]);
        assert_eq!(app.loc, Location::file_start("src/components/App.tsx"));
    }

    #[test]
    fn a_file_that_does_not_parse_gives_nothing() {
        let (_dir, facts) = scan_fixture(FIXTURE);
        assert_eq!(facts.parse_failures, 1);
        assert!(facts.files.iter().all(|f| f.path != "src/broken.ts"));
        assert!(facts.sentry_inits.iter().all(|c| c.file != "src/broken.ts"));
        assert!(facts.routes.iter().all(|r| r.loc.file != "src/broken.ts"));
        assert_eq!(facts.files.len(), FIXTURE.len() - 1);
    }

    #[test]
    fn large_binary_and_missing_files_are_skipped_silently() {
        let big = format!(
            "// {}\nSentry.init({{}});\n",
            "x".repeat(MAX_SOURCE_BYTES as usize)
        );
        let (dir, facts) = scan_fixture(&[
            ("big.js", &big),
            ("bin.js", "Sentry.init(\0)"),
            ("ok.js", "Sentry.init({});"),
        ]);
        let (facts2, _) = scan(
            &Root::new(dir.path()).unwrap(),
            &["gone.js".into()],
            &Default::default(),
            &Default::default(),
        );
        assert_eq!(facts.parse_failures + facts2.parse_failures, 0);
        assert_eq!(facts.files.len(), 1);
        assert_eq!(facts.sentry_inits.len(), 1);
        assert!(facts2.files.is_empty());
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

    #[test]
    fn resolution_of_specifiers() {
        let known: HashSet<&str> = [
            "src/a.ts",
            "src/lib/db.ts",
            "src/lib/index.tsx",
            "src/b/index.js",
            "src/esm.ts",
            "app/page.tsx",
        ]
        .into_iter()
        .collect();
        assert_eq!(
            resolve("src/x.ts", "./a", &known).as_deref(),
            Some("src/a.ts")
        );
        assert_eq!(
            resolve("src/x.ts", "./a.ts", &known).as_deref(),
            Some("src/a.ts")
        );
        assert_eq!(
            resolve("src/x.ts", "./esm.js", &known).as_deref(),
            Some("src/esm.ts")
        );
        assert_eq!(
            resolve("src/x/y.ts", "../b", &known).as_deref(),
            Some("src/b/index.js")
        );
        assert_eq!(
            resolve("src/x/y.ts", "../lib", &known).as_deref(),
            Some("src/lib/index.tsx")
        );
        assert_eq!(
            resolve("app/page.tsx", "@/lib/db", &known).as_deref(),
            Some("src/lib/db.ts")
        );
        assert_eq!(resolve("src/x.ts", "../../etc/passwd", &known), None);
        assert_eq!(resolve("src/x.ts", "./missing", &known), None);
        assert_eq!(package_name("@sentry/node/esm"), Some("@sentry/node"));
        assert_eq!(package_name("lodash/fp"), Some("lodash"));
        assert_eq!(package_name("node:fs"), Some("node:fs"));
        assert_eq!(package_name("/abs"), None);
        assert_eq!(join_route("health/", "/x/"), "/health/x");
        assert_eq!(join_route("", ""), "/");
    }

    #[test]
    fn file_routes_by_convention() {
        let cases = [
            ("src/api/health/route.ts", Some("/health")),
            (
                "apps/backend/src/api/admin/orders/[id]/route.js",
                Some("/admin/orders/[id]"),
            ),
            ("src/api/health/helpers.ts", None),
            ("app/(marketing)/health/route.ts", Some("/health")),
            ("src/app/api/_internal/route.ts", None),
            ("src/routes/health/+server.ts", Some("/health")),
            ("src/routes/+server.js", Some("/")),
            ("pages/api/health.ts", Some("/api/health")),
            ("pages/api/metrics/index.js", Some("/api/metrics")),
            ("src/api/health/route.tsx", None),
            ("lib/route.ts", None),
        ];
        for (rel, want) in cases {
            assert_eq!(file_route(rel, true, true).as_deref(), want, "{rel}");
        }
        assert_eq!(file_route("src/app/users/route.ts", false, true), None);
        assert_eq!(
            file_route("src/app/pages/api/a.component.ts", true, false),
            None
        );
        assert_eq!(
            file_route("src/api/health/route.ts", false, false).as_deref(),
            Some("/health")
        );
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

    #[test]
    fn remix_flat_routes() {
        let cases = [
            ("app/routes/health.ts", Some("/health")),
            ("apps/web/app/routes/api.health.tsx", Some("/api/health")),
            ("app/routes/api+/health.ts", Some("/api/health")),
            ("app/routes/api.health/route.ts", Some("/api/health")),
            ("app/routes/_auth.login.tsx", Some("/login")),
            ("app/routes/_index.tsx", Some("/")),
            ("app/routes/users.$id_.edit.tsx", Some("/users/:id/edit")),
            ("app/routes/files.$.ts", Some("/files/*")),
            ("app/routes/($lang).about.tsx", Some("/:lang/about")),
            ("app/routes/sitemap[.]xml.ts", Some("/sitemap.xml")),
            ("app/routes/api.health/helpers.ts", None),
            ("app/routes/health.css", None),
            ("src/routes/health.ts", None),
        ];
        for (rel, want) in cases {
            assert_eq!(remix_route(rel).as_deref(), want, "{rel}");
        }
    }

    #[test]
    fn nesting_estimate_is_low_on_ordinary_code_and_high_on_pathological_code() {
        for (_, text) in FIXTURE {
            assert!(
                crate::load::js_text::nesting_estimate(text, usize::MAX) < 20,
                "{text}"
            );
        }
        let semicolon_free = "const a = 1\nlet b = a ? 2 : 3\n".repeat(5_000);
        assert!(!too_deeply_nested(&semicolon_free, MAX_NESTING));
        let n = MAX_NESTING + 1;
        let shapes = [
            format!("x = {}1{};", "(".repeat(n), ")".repeat(n)),
            format!("x = {}1;", "!".repeat(n)),
            format!("x = {}1;", "- ".repeat(n)),
            format!("x = {}1;", "a ? b : ".repeat(n)),
            format!("{}1;", "a = ".repeat(n)),
            format!("x = {}1;", "a => ".repeat(n)),
            format!("{}x;", "if (a) ".repeat(n)),
            format!("x = {};", "<a>".repeat(n)),
            format!("x = {}1{};", "`${".repeat(n), "}`".repeat(n)),
            format!("let x: {}1;", "A< ".repeat(n)),
            "typeof ".repeat(n),
        ];
        for s in &shapes {
            assert!(too_deeply_nested(s, MAX_NESTING), "{}", &s[..40]);
        }
    }

    /// Pathological nesting never overflows the stack: refused by the pre-scan, parsed
    /// iteratively, or walked only to [`MAX_WALK_DEPTH`], on the big-stack workers.
    #[test]
    fn pathological_nesting_does_not_crash() {
        let n = 100_000;
        let texts = [
            format!("x = {}1{};", "(".repeat(n), ")".repeat(n)),
            format!("x = {}1{};", "[".repeat(n), "]".repeat(n)),
            format!("x = {}1;", "!".repeat(n)),
            format!("x = 1{};", " + 1".repeat(n)),
            format!("x = a{};", ".b".repeat(n)),
            format!("{}x;", "if (a)\n".repeat(n)),
            format!("let x: A{};", "[]".repeat(n)),
        ];
        let files: Vec<(String, &str)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("f{i}.ts"), t.as_str()))
            .collect();
        let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), *t)).collect();
        let (_dir, facts, notes) = scan_fixture_with_notes(&borrowed);
        assert_eq!(
            facts.files.len() as i64 + facts.parse_failures,
            texts.len() as i64
        );
        // The chain of unbraced `if (a)` lines is refused by the pre-scan, with a note.
        assert!(notes.iter().any(|n| n.loc.file == "f5.ts"), "{notes:?}");
    }

    /// A 2,000-file TypeScript tree, ~30 lines each; prints the scan time.
    #[test]
    fn scans_a_large_generated_tree() {
        let dir = tempfile::tempdir().unwrap();
        let mut list = Vec::new();
        for i in 0..2_000 {
            let rel = format!("src/mod{}/file{i}.ts", i % 40);
            let next = (i + 1) % 2_000;
            let text = format!(
                "import {{ Router }} from 'express';\n\
                 import * as Sentry from '@sentry/node';\n\
                 import {{ helper{next} }} from '../mod{}/file{next}';\n\
                 \n\
                 export interface Item{i} {{\n\
                 \x20 id: number;\n\
                 \x20 name: string;\n\
                 \x20 tags: Array<string>;\n\
                 }}\n\
                 \n\
                 // A helper that is exported for the next file.\n\
                 export function helper{i}(items: Item{i}[]): number {{\n\
                 \x20 let total = 0;\n\
                 \x20 for (const item of items) {{\n\
                 \x20   if (item.tags.includes('x')) {{\n\
                 \x20     total += item.id;\n\
                 \x20   }} else {{\n\
                 \x20     total -= 1;\n\
                 \x20   }}\n\
                 \x20 }}\n\
                 \x20 return total;\n\
                 }}\n\
                 \n\
                 export const router{i} = Router();\n\
                 router{i}.get('/items/{i}', async (req, res) => {{\n\
                 \x20 try {{\n\
                 \x20   res.json({{ total: helper{i}([]) }});\n\
                 \x20 }} catch (err) {{\n\
                 \x20   Sentry.captureException(err, {{ extra: {{ i: {i} }} }});\n\
                 \x20 }}\n\
                 }});\n",
                next % 40
            );
            let abs = dir.path().join(&rel);
            std::fs::create_dir_all(abs.parent().unwrap()).unwrap();
            std::fs::write(&abs, text).unwrap();
            list.push(rel);
        }
        list.sort();
        let start = std::time::Instant::now();
        let (facts, _) = scan(
            &Root::new(dir.path()).unwrap(),
            &list,
            &Default::default(),
            &Default::default(),
        );
        let took = start.elapsed();
        eprintln!(
            "scanned {} files in {:.1} ms",
            list.len(),
            took.as_secs_f64() * 1e3
        );
        assert_eq!(facts.files.len(), 2_000);
        assert_eq!(facts.parse_failures, 0);
        assert_eq!(facts.routes.len(), 2_000);
        assert_eq!(facts.sentry_context.len(), 2_000);
        assert!(facts.files.iter().all(|f| f.imports.len() == 1));
    }
}
