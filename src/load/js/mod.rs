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

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use oxc_allocator::Allocator;
use oxc_ast_visit::Visit;
use oxc_parser::{ParseOptions, Parser};
use oxc_span::SourceType;
use rayon::prelude::*;

use crate::definitions::package_matches;
use crate::load::js_text::too_deeply_nested;
use crate::load::{LoadError, Root};
use crate::location::Location;
use crate::model::app::{AppFacts, CallSite, Metric, Route, SourceFile};

mod file_routes;
mod metrics;
mod resolve;
mod routes;
mod sentry;
mod walker;

use file_routes::{file_route, remix_route};
use resolve::{find_module, is_local_specifier, package_name, resolve};
use routes::mount_routes;
use walker::Walker;

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `files` under a fresh temporary root and scans them all, on a thread with the
    /// 2 MiB stack of ordinary worker threads.
    pub(super) fn scan_fixture(files: &[(&str, &str)]) -> (tempfile::TempDir, AppFacts) {
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

    pub(super) fn file<'f>(facts: &'f AppFacts, path: &str) -> &'f SourceFile {
        facts
            .files
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} not scanned"))
    }

    pub(super) const FIXTURE: &[(&str, &str)] = &[
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
