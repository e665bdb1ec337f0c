//! Application facts: what a parse of the repository's JavaScript/TypeScript sources says
//! about monitoring and reliability (Sentry, Prometheus metrics, HTTP routes, database and
//! Redis use). Built by [`crate::load::js::scan`]; read by the OB rules as `repo.app`.
//!
//! Only real code counts: the facts come from a syntax tree, so comments and text inside
//! string literals never look like calls. A source file that does not parse contributes
//! nothing (it is counted in [`AppFacts::parse_failures`], not reported by SS001).

use serde::Serialize;

use crate::location::Location;

/// Facts gathered from every JS/TS source file that parsed (`repo.app`).
///
/// Sources are `.js .mjs .cjs .ts .mts .cts .jsx .tsx` files outside `node_modules`, build
/// output and tests, parsed with a real parser (oxc): comments never count, and a file that
/// does not parse gives no facts.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct AppFacts {
    /// Calls that initialise Sentry: `Sentry.init(...)` on a namespace bound to a `@sentry/*`
    /// module (`import * as Sentry`, a default import, `require(...)`, or the global
    /// `Sentry`), or `init(...)` imported from `@sentry/*` under any local name.
    pub sentry_inits: Vec<CallSite>,
    /// Calls that give captured errors context: `captureException` with a second argument,
    /// `setContext` / `setTag` / `setTags` / `setUser` / `setExtra` / `setExtras` (on a Sentry
    /// namespace, an imported name, a scope parameter, or a `getCurrentScope()`-style
    /// result), and every Sentry or scope call inside a `withScope` (or `configureScope`,
    /// `withIsolationScope`) callback.
    pub sentry_context: Vec<CallSite>,
    /// `prom-client` metric constructions (`new Counter(...)`, `new client.Histogram(...)`,
    /// ...), only in files that import `prom-client`.
    pub metrics: Vec<Metric>,
    /// HTTP routes: framework registrations (Express/Fastify/Koa/Hono style calls, Nest
    /// decorators) and file-based routes (Medusa, SvelteKit, Next.js).
    pub routes: Vec<Route>,
    /// Every source file that parsed, sorted by path.
    pub files: Vec<SourceFile>,
    /// Number of source files that were read but did not parse (or were too deeply nested
    /// to parse safely). They contribute no facts.
    pub parse_failures: i64,
}

/// One call in a source file.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CallSite {
    /// Path of the file relative to the root.
    pub file: String,
    /// The callee as written, e.g. `Sentry.init` or `initSentry`.
    pub callee: String,
    /// Number of arguments passed.
    pub args: i64,
    /// The whole call expression.
    pub loc: Location,
}

/// A `prom-client` metric construction.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Metric {
    /// `Counter`, `Histogram`, `Summary` or `Gauge`.
    pub kind: String,
    /// The `name` option when it is a string literal, else `""`.
    pub name: String,
    /// The `new` expression.
    pub loc: Location,
}

/// An HTTP route the application exposes.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Route {
    /// The path as registered, e.g. `/health` (Nest controller and method paths are joined;
    /// file routes are built from folder names).
    pub path: String,
    /// How it was registered: `get`, `post`, `put`, `delete`, `patch`, `all`, `head`,
    /// `options`, `use`, `route` (Express `route(path)` or Fastify `route({ url })`),
    /// `decorator` (Nest) or `file` (Medusa, SvelteKit, Next.js file routes).
    pub method: String,
    /// The handler's file: for `app.use('/health', router)` (or any registration whose last
    /// argument is a name imported from a relative module) the resolved module that defines
    /// it; else the file holding the registration.
    pub file: String,
    /// The registering call, the class decorator for Nest, or line 1 of a file route.
    pub loc: Location,
    /// Whether the handler file, or a file it imports within the repository (two imports
    /// deep), references the database (computed by `crate::facts::app`; false until then).
    pub reaches_db: bool,
    /// As `reaches_db`, for Redis.
    pub reaches_redis: bool,
}

/// One parsed source file.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SourceFile {
    /// Path relative to the root.
    pub path: String,
    /// Repository-relative paths of the source files it imports or requires through relative
    /// specifiers (extensions `.ts .tsx .js .jsx .mjs .cjs .mts .cts` and `/index.*` tried,
    /// `./x.js` also finds `./x.ts`) and `@/` / `~/` aliases; only files that were scanned.
    pub imports: Vec<String>,
    /// Package names imported (bare specifiers without their subpath): `pg`, `ioredis`,
    /// `@sentry/node`, `node:fs`.
    pub packages: Vec<String>,
    /// Whether the file references a database: imports a database client or ORM (`pg`,
    /// `postgres`, `knex`, `@mikro-orm/*`, `typeorm`, `sequelize`, `prisma`,
    /// `@prisma/client`, `mysql`, `mysql2`, `mongodb`, `mongoose`, `drizzle-orm`, `kysely`,
    /// ...), has a string containing `SELECT 1` (any case), an identifier `PG_CONNECTION`, or
    /// calls `.query(`, `.raw(`, `query.graph(`, `.authenticate(`, `.$queryRaw(`.
    pub references_db: bool,
    /// Whether the file references Redis: an import path or identifier containing `redis`
    /// (any case; `redis`, `ioredis`, `@redis/*`), or a `.ping(` call.
    pub references_redis: bool,
    /// Line 1 of the file.
    pub loc: Location,
}
