//! The rule catalog's vocabularies as data: which commands migrate a database or back it up,
//! which URL paths are health checks, which packages are database or Redis clients, and so
//! on. Fact derivation (`facts::ci`, `load::js`) and policies (the CEL variable
//! `definitions`) read them from a [`Definitions`] value; its [`Default`] is the catalog's
//! lists, and the configuration's `definitions:` section extends (or, with `replace:`,
//! replaces) each list (see `docs/configuration.md`).
//!
//! Two kinds of entries recur:
//! - a **command pattern** is words matched against a command's first words (its program,
//!   then its arguments), case-insensitively; `*` in a word matches any characters
//!   (`knex migrate:latest*`), and a leading `./` is ignored. The first word also matches a
//!   script file run through an interpreter (`bash scripts/backup.sh` is the command
//!   `scripts/backup.sh`). Extra arguments are allowed: `pg_dump` matches `pg_dump -Fc db`.
//! - a **name fragment** matches a name that contains it, case-insensitively (`backup`
//!   matches the script `db:backup` and the file `./scripts/backup-db.sh`).

use serde::Serialize;

/// The catalog's vocabularies. Each list's default is written next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definitions {
    /// Command patterns that migrate a database. Default: `medusa *migrat*`,
    /// `prisma migrate deploy*`, `knex migrate:latest*`, `typeorm migration:run`,
    /// `sequelize db:migrate`, `sequelize-cli db:migrate`, `flyway migrate`, `alembic upgrade`.
    pub migration_commands: Vec<String>,
    /// Name fragments of package scripts that migrate a database. Default: `migrat`.
    pub migration_scripts: Vec<String>,
    /// Command patterns that back up a database. Default: `pg_dump`, `pg_dumpall`,
    /// `pg_basebackup`.
    pub backup_commands: Vec<String>,
    /// Name fragments of package scripts, script files and actions that back up a database.
    /// Default: `backup`.
    pub backup_scripts: Vec<String>,
    /// Path endings of health routes (OB006) and of health-check URLs that CI requests.
    /// Default: `/health`, `/healthz`, `/_health`.
    pub health_paths: Vec<String>,
    /// Further path endings of URLs that count as a health check when CI requests them (not
    /// health routes). Default: `/ready`.
    pub ready_paths: Vec<String>,
    /// Programs that request the URLs they are given, for health checks. Default: `curl`,
    /// `wget`, `http`, `https` (HTTPie), `xh`, `wait-on`.
    pub http_clients: Vec<String>,
    /// Command patterns that are a smoke test or health check. Default: none.
    pub smoke_test_commands: Vec<String>,
    /// Name fragments of package scripts and script files that are a smoke test or health
    /// check. Default: `health`, `smoke`.
    pub smoke_test_scripts: Vec<String>,
    /// Name fragments of CI steps (GitLab: jobs) whose commands are a smoke test. Default:
    /// `smoke`.
    pub smoke_test_steps: Vec<String>,
    /// Command patterns that build an image. A pattern starting with `docker` matches
    /// `docker` and `docker-compose` commands with their global options skipped
    /// (`docker --context ci build`). Default: `docker build`, `docker buildx build`,
    /// `docker buildx bake`, `docker compose build`, `docker image build`,
    /// `docker builder build`, `buildctl`, `buildctl-daemonless.sh`, `kaniko`, `executor`,
    /// `buildah bud`, `buildah build` (and, always, `docker compose up|run --build`).
    pub image_build_commands: Vec<String>,
    /// Packages (globs, `*` matching any characters) whose import means a source file talks
    /// to a database (OB006). Default: `pg`, `pg-pool`, `pg-promise`, `postgres`, `knex`,
    /// `typeorm`, `sequelize`, `prisma`, `@prisma/client`, `mysql`, `mysql2`, `mongodb`,
    /// `mongoose`, `drizzle-orm`, `kysely`, `better-sqlite3`, `sqlite3`, `slonik`, `objection`,
    /// `@neondatabase/serverless`, `@vercel/postgres`, `@mikro-orm/*`.
    pub database_packages: Vec<String>,
    /// Import specifiers (globs, case-insensitive) whose import means a source file talks to
    /// Redis (OB006). Default: `*redis*` (`redis`, `ioredis`, `./lib/redis`).
    pub redis_packages: Vec<String>,
}

/// Owned strings of a list of literals.
fn own(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

impl Default for Definitions {
    fn default() -> Self {
        Definitions {
            migration_commands: own(&[
                "medusa *migrat*",
                "prisma migrate deploy*",
                "knex migrate:latest*",
                "typeorm migration:run",
                "sequelize db:migrate",
                "sequelize-cli db:migrate",
                "flyway migrate",
                "alembic upgrade",
            ]),
            migration_scripts: own(&["migrat"]),
            backup_commands: own(&["pg_dump", "pg_dumpall", "pg_basebackup"]),
            backup_scripts: own(&["backup"]),
            health_paths: own(&["/health", "/healthz", "/_health"]),
            ready_paths: own(&["/ready"]),
            http_clients: own(&["curl", "wget", "http", "https", "xh", "wait-on"]),
            smoke_test_commands: Vec::new(),
            smoke_test_scripts: own(&["health", "smoke"]),
            smoke_test_steps: own(&["smoke"]),
            image_build_commands: own(&[
                "docker build",
                "docker buildx build",
                "docker buildx bake",
                "docker compose build",
                "docker image build",
                "docker builder build",
                "buildctl",
                "buildctl-daemonless.sh",
                "kaniko",
                "executor",
                "buildah bud",
                "buildah build",
            ]),
            database_packages: own(&[
                "pg",
                "pg-pool",
                "pg-promise",
                "postgres",
                "knex",
                "typeorm",
                "sequelize",
                "prisma",
                "@prisma/client",
                "mysql",
                "mysql2",
                "mongodb",
                "mongoose",
                "drizzle-orm",
                "kysely",
                "better-sqlite3",
                "sqlite3",
                "slonik",
                "objection",
                "@neondatabase/serverless",
                "@vercel/postgres",
                "@mikro-orm/*",
            ]),
            redis_packages: own(&["*redis*"]),
        }
    }
}

/// What a list holds, for validating configured entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Command patterns.
    Commands,
    /// Name fragments.
    Names,
    /// URL path endings (each starts with `/`).
    Paths,
    /// Program names.
    Programs,
    /// Package globs.
    Packages,
}

/// Every list: its configuration key, what it holds, and a one-line description (for the
/// configuration schema).
pub const LISTS: &[(&str, ListKind, &str)] = &[
    (
        "migration_commands",
        ListKind::Commands,
        "Command patterns that migrate a database (CD002, CD006).",
    ),
    (
        "migration_scripts",
        ListKind::Names,
        "Name fragments of package scripts that migrate a database.",
    ),
    (
        "backup_commands",
        ListKind::Commands,
        "Command patterns that back up a database (CD005, CD006).",
    ),
    (
        "backup_scripts",
        ListKind::Names,
        "Name fragments of package scripts, script files and actions that back up a database.",
    ),
    (
        "health_paths",
        ListKind::Paths,
        "Path endings of health routes (OB006) and of health-check URLs requested in CI (CD003, CD007).",
    ),
    (
        "ready_paths",
        ListKind::Paths,
        "Further path endings of URLs that count as a health check when CI requests them.",
    ),
    (
        "http_clients",
        ListKind::Programs,
        "Programs that request the URLs they are given (health checks).",
    ),
    (
        "smoke_test_commands",
        ListKind::Commands,
        "Command patterns that are a smoke test or health check (CD003, CD007).",
    ),
    (
        "smoke_test_scripts",
        ListKind::Names,
        "Name fragments of package scripts and script files that are a smoke test or health check.",
    ),
    (
        "smoke_test_steps",
        ListKind::Names,
        "Name fragments of CI steps (GitLab: jobs) whose commands are a smoke test.",
    ),
    (
        "image_build_commands",
        ListKind::Commands,
        "Command patterns that build an image (CI007); `docker ...` patterns skip docker's global options.",
    ),
    (
        "database_packages",
        ListKind::Packages,
        "Packages (globs) whose import means a source file talks to a database (OB006).",
    ),
    (
        "redis_packages",
        ListKind::Packages,
        "Import specifiers (globs, case-insensitive) whose import means a source file talks to Redis (OB006).",
    ),
];

impl Definitions {
    /// The list configured under `key` (one of [`LISTS`]).
    pub fn list_mut(&mut self, key: &str) -> Option<&mut Vec<String>> {
        Some(match key {
            "migration_commands" => &mut self.migration_commands,
            "migration_scripts" => &mut self.migration_scripts,
            "backup_commands" => &mut self.backup_commands,
            "backup_scripts" => &mut self.backup_scripts,
            "health_paths" => &mut self.health_paths,
            "ready_paths" => &mut self.ready_paths,
            "http_clients" => &mut self.http_clients,
            "smoke_test_commands" => &mut self.smoke_test_commands,
            "smoke_test_scripts" => &mut self.smoke_test_scripts,
            "smoke_test_steps" => &mut self.smoke_test_steps,
            "image_build_commands" => &mut self.image_build_commands,
            "database_packages" => &mut self.database_packages,
            "redis_packages" => &mut self.redis_packages,
            _ => return None,
        })
    }

    /// Whether a command (its program name, then its arguments) matches one of `patterns`.
    pub fn command_matches(patterns: &[String], words: &[&str]) -> bool {
        patterns.iter().any(|p| command_matches(p, words))
    }
}

/// Whether `s` contains one of the name fragments, case-insensitively.
pub fn names_match(fragments: &[String], s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    fragments
        .iter()
        .any(|f| s.contains(f.to_ascii_lowercase().as_str()))
}

/// Whether a command's words start with a command pattern's words (see the module docs).
pub fn command_matches(pattern: &str, words: &[&str]) -> bool {
    let mut matched = 0;
    for (i, p) in pattern.split_whitespace().enumerate() {
        let Some(w) = words.get(i) else {
            return false;
        };
        let (p, w) = if i == 0 {
            (p.trim_start_matches("./"), w.trim_start_matches("./"))
        } else {
            (p, *w)
        };
        if !wildcard(&p.to_ascii_lowercase(), &w.to_ascii_lowercase()) {
            return false;
        }
        matched += 1;
    }
    matched > 0
}

/// Whether `s` matches `pattern`, where `*` matches any characters.
pub fn wildcard(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let (head, tail) = (parts[0], parts[parts.len() - 1]);
    if !s.starts_with(head) || s.len() < head.len() + tail.len() || !s.ends_with(tail) {
        return false;
    }
    let mut rest = &s[head.len()..s.len() - tail.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(at) => rest = &rest[at + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Whether a package name (or import specifier) matches one of the package globs;
/// `ignore_case` compares without regard to ASCII case.
pub fn package_matches(globs: &[String], name: &str, ignore_case: bool) -> bool {
    if ignore_case {
        let name = name.to_ascii_lowercase();
        globs
            .iter()
            .any(|g| wildcard(&g.to_ascii_lowercase(), &name))
    } else {
        globs.iter().any(|g| wildcard(g, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_patterns_match_leading_words() {
        let m = |p: &str, c: &str| command_matches(p, &c.split(' ').collect::<Vec<_>>());
        assert!(m("pg_dump", "pg_dump -Fc db"));
        assert!(m("knex migrate:latest*", "knex migrate:latest --env prod"));
        assert!(m("knex migrate:latest*", "KNEX migrate:latestx"));
        assert!(!m("typeorm migration:run", "typeorm migration:runs"));
        assert!(!m("prisma migrate deploy*", "prisma migrate"));
        assert!(m("medusa *migrat*", "medusa db:migrate"));
        assert!(!m("medusa *migrat*", "medusa"));
        assert!(m("./scripts/snapshot-db.sh", "scripts/snapshot-db.sh"));
        assert!(m(
            "scripts/snapshot-db.sh",
            "./scripts/snapshot-db.sh --all"
        ));
        assert!(!m("", "anything"));
    }

    #[test]
    fn wildcards_and_packages() {
        assert!(wildcard("*redis*", "ioredis"));
        assert!(wildcard("a*b*c", "axxbyyc"));
        assert!(!wildcard("a*b*c", "acb"));
        assert!(!wildcard("ab*ba", "aba"));
        let d = Definitions::default();
        assert!(package_matches(
            &d.database_packages,
            "@mikro-orm/core",
            false
        ));
        assert!(!package_matches(&d.database_packages, "pgx", false));
        assert!(package_matches(&d.redis_packages, "./lib/Redis", true));
    }

    #[test]
    fn every_list_has_a_key() {
        let mut d = Definitions::default();
        for (key, _, _) in LISTS {
            assert!(d.list_mut(key).is_some(), "{key}");
        }
        assert_eq!(
            serde_json::to_value(&d)
                .expect("json")
                .as_object()
                .map(|o| o.len()),
            Some(LISTS.len())
        );
    }
}
