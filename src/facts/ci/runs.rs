//! Runs: what the commands of a step run (package scripts followed through package managers
//! and task runners such as turbo and nx, into the packages they name), and the operations
//! (migrations, backups, health checks, ...) each run performs.

use super::MAX_SCRIPT_DEPTH;
use super::commands::{container_run, docker_command, is_health_url};
use crate::definitions::{self, Definitions};
use crate::load::nx::NxTasks;
use crate::load::package_json::Package;
use crate::location::Location;
use crate::model::ci::{Job, Run, Step};
use crate::shell::{self, Command};
use std::collections::HashSet;

/// Variables that hold the repository root: GitLab's `$CI_PROJECT_DIR`, GitHub's
/// `$GITHUB_WORKSPACE` and `${{ github.workspace }}`.
const ROOT_VARIABLES: &[&str] = &[
    "${{ github.workspace }}",
    "${{github.workspace}}",
    "${CI_PROJECT_DIR}",
    "$CI_PROJECT_DIR",
    "${GITHUB_WORKSPACE}",
    "$GITHUB_WORKSPACE",
];

/// The rest of `path` after a leading root variable (`$CI_PROJECT_DIR/api` → `/api`), `None`
/// when it does not start with one.
pub(super) fn after_root_variable(path: &str) -> Option<&str> {
    ROOT_VARIABLES.iter().find_map(|v| {
        path.strip_prefix(v)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The directory that `cd PATH` (or a working directory) enters from `base`: relative to
/// `base`, or to the root when `path` starts with a root variable.
pub(super) fn enter(base: &str, path: &str) -> String {
    let path = path.trim();
    match after_root_variable(path) {
        Some(rest) => crate::load::join_relative("", rest),
        // `/tmp/app`, `~/app`: outside the repository, so no package.json there is known; the
        // directory is kept as an unresolved one (it holds a `$`).
        None if path.starts_with('/') || path.starts_with('~') => format!("$OUTSIDE{path}"),
        None => crate::load::join_relative(base, path),
    }
}

/// The package.json in effect in `dir`: the nearest at or above it.
fn package_in<'p>(dir: &str, packages: &'p [Package]) -> Option<&'p Package> {
    let mut d = dir.to_string();
    loop {
        if let Some(p) = packages.iter().find(|p| p.dir == d) {
            return Some(p);
        }
        if d.is_empty() {
            return None;
        }
        d = d
            .rsplit_once('/')
            .map_or(String::new(), |(a, _)| a.to_string());
    }
}

/// One run found in a command, before job facts are attached.
pub(super) struct Found {
    pub(super) kind: &'static str,
    pub(super) name: String,
    pub(super) program: String,
    pub(super) args: Vec<String>,
    pub(super) explicit: bool,
    pub(super) defined: bool,
    pub(super) package_dir: String,
    pub(super) level: String,
}

/// Walks one command (and the script bodies it runs) into runs.
pub(super) struct Walker<'p> {
    pub(super) packages: &'p [Package],
    /// Nx targets, for the tasks `nx` runs.
    pub(super) nx: &'p NxTasks,
    pub(super) visited: HashSet<(String, String)>,
    pub(super) out: Vec<Found>,
}

impl Walker<'_> {
    pub(super) fn command(&mut self, c: &Command, cwd: &str, unresolved: bool, depth: usize) {
        let program = c.program.clone();
        let base = program.rsplit('/').next().unwrap_or(&program).to_string();
        if let Some(pm) = &c.pm {
            let dir = match &pm.dir {
                Some(d) => enter(cwd, d),
                None => cwd.to_string(),
            };
            let unresolved = unresolved || dir.contains('$');
            // In a directory that cannot be resolved, no package.json is known to be in
            // effect: the run counts as defined, and no body (not the root's) is followed.
            let pkg = if unresolved {
                None
            } else {
                package_in(&dir, self.packages)
            };
            let pkg_dir = pkg.map(|p| p.dir.clone()).unwrap_or_default();
            let any_defines =
                |name: &str| self.packages.iter().any(|p| p.scripts.contains_key(name));
            match pm.action.as_str() {
                "script" | "short" => {
                    let name = pm.script.clone().unwrap_or_default();
                    let wide = pm.workspace.is_some() || pm.recursive;
                    let defined_here = pkg.is_some_and(|p| p.scripts.contains_key(&name));
                    let is_script = pm.action == "script"
                        || defined_here
                        || (wide && any_defines(&name))
                        || (unresolved && !wide);
                    if is_script {
                        // A name still holding an expansion (`$SCRIPT`, `${{ x }}`) is
                        // not known, so it is not judged.
                        let defined = unresolved
                            || name.contains('$')
                            || pkg.is_none()
                            || defined_here
                            || (wide && any_defines(&name));
                        self.out.push(Found {
                            kind: "script",
                            name: name.clone(),
                            program: program.clone(),
                            args: pm.args.clone(),
                            explicit: pm.action == "script",
                            defined,
                            package_dir: pkg_dir,
                            level: String::new(),
                        });
                        let bodies: Vec<(String, String)> = if wide {
                            self.packages
                                .iter()
                                .filter_map(|p| {
                                    Some((p.dir.clone(), p.scripts.get(&name)?.clone()))
                                })
                                .collect()
                        } else {
                            pkg.and_then(|p| Some((p.dir.clone(), p.scripts.get(&name)?.clone())))
                                .into_iter()
                                .collect()
                        };
                        for (d, body) in bodies {
                            self.body(&d, &name, &body, &pm.args, depth);
                        }
                    } else {
                        self.tool(&name, &program, &pm.args, &dir, depth);
                    }
                }
                "tool" => {
                    let tool = pm.tool.clone().unwrap_or_default();
                    self.tool(&tool, &program, &pm.args, &dir, depth);
                }
                // Audits and other subcommands: a tool run named after the subcommand. An
                // audit is named `npm audit` (`yarn npm audit`); other subcommands keep
                // their first word too, so `npm audit signatures` is not `npm audit`.
                action => {
                    let sub = c.args.first().cloned().unwrap_or_default();
                    let name = match (action, pm.args.first()) {
                        ("audit", _) if sub == "npm" => format!("{} npm audit", pm.manager),
                        ("audit", _) => format!("{} audit", pm.manager),
                        (_, Some(what)) if sub == "audit" => {
                            format!("{} audit {what}", pm.manager)
                        }
                        _ => format!("{} {sub}", pm.manager),
                    };
                    self.out.push(Found {
                        kind: "tool",
                        name,
                        program,
                        args: c.args.clone(),
                        explicit: false,
                        defined: true,
                        package_dir: pkg_dir,
                        level: pm.audit_level.clone().unwrap_or_default(),
                    });
                }
            }
            return;
        }
        self.tool(&base, &program, &c.args, cwd, depth);
    }

    /// A binary run; task runners count as script runs of each task they name.
    fn tool(&mut self, name: &str, program: &str, args: &[String], cwd: &str, depth: usize) {
        // `npx @biomejs/biome` runs the package's binary, `biome`.
        let name = match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((_, bin)) => bin,
            None => name,
        };
        let pkg_dir = package_in(cwd, self.packages)
            .map(|p| p.dir.clone())
            .unwrap_or_default();
        self.out.push(Found {
            kind: "tool",
            name: name.to_string(),
            program: program.to_string(),
            args: args.to_vec(),
            explicit: false,
            defined: true,
            package_dir: pkg_dir.clone(),
            level: String::new(),
        });
        // `docker run IMAGE ARGS` runs the image's tool: `zricethezav/gitleaks detect`.
        if let Some((tool, rest)) = container_run(name, args)
            && depth < MAX_SCRIPT_DEPTH
        {
            self.tool(&tool, program, &rest, cwd, depth + 1);
        }
        for task in crate::pm::runner_tasks(name, args) {
            let defined = self.packages.iter().any(|p| p.scripts.contains_key(&task))
                || self.packages.is_empty()
                || (name == "nx" && self.nx.defines(&task));
            self.out.push(Found {
                kind: "script",
                name: task.clone(),
                program: program.to_string(),
                args: Vec::new(),
                explicit: false,
                defined,
                package_dir: pkg_dir.clone(),
                level: String::new(),
            });
            let bodies: Vec<(String, String)> = self
                .packages
                .iter()
                .filter_map(|p| Some((p.dir.clone(), p.scripts.get(&task)?.clone())))
                .collect();
            for (d, body) in bodies {
                self.body(&d, &task, &body, &[], depth);
            }
        }
    }

    /// Follows a script's body (its commands run in the package's directory). The run's own
    /// arguments are appended to the body, as package managers do (`npm run lint -- --fix`
    /// runs `<body> --fix`; `yarn @app verify` with `"@app": "yarn workspace @acme/app"`
    /// runs `yarn workspace @acme/app verify`).
    fn body(&mut self, dir: &str, name: &str, body: &str, args: &[String], depth: usize) {
        let text = std::iter::once(body.trim_end().to_string())
            .chain(args.iter().map(|a| shell::quote_word(a)))
            .collect::<Vec<_>>()
            .join(" ");
        let key = std::iter::once(name)
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        if depth >= MAX_SCRIPT_DEPTH || !self.visited.insert((dir.to_string(), key)) {
            return;
        }
        let Ok(cmds) = shell::parse_script(&text, "package.json", 1, 1) else {
            return;
        };
        let mut cwd = dir.to_string();
        for c in &cmds {
            if c.program == "cd" {
                if let Some(d) = c.args.first() {
                    cwd = crate::load::join_relative(&cwd, d);
                }
                continue;
            }
            self.command(c, &cwd, false, depth + 1);
        }
    }
}

/// The package scripts and tools one command runs in `cwd` (relative to the root), following
/// script bodies as CI runs are followed: `(kind, name, args)` with kind `script` or `tool`.
/// Used for commands outside CI (a Dockerfile's `RUN npm run web:build`).
pub fn command_runs(
    c: &Command,
    cwd: &str,
    packages: &[Package],
    nx: &NxTasks,
) -> Vec<(&'static str, String, Vec<String>)> {
    let mut w = Walker {
        packages,
        nx,
        visited: HashSet::new(),
        out: Vec::new(),
    };
    w.command(c, cwd, false, 0);
    w.out
        .into_iter()
        .map(|f| (f.kind, f.name, f.args))
        .collect()
}

/// Whether the job is a GitLab job, whose matrix values are shell variables.
pub(super) fn is_gitlab(job: &Job) -> bool {
    job.pipeline.ends_with(".gitlab-ci.yml") || job.pipeline.ends_with(".gitlab-ci.yaml")
}

/// The name a run's command goes by for "a step whose name contains `smoke`": its step's
/// name; GitLab script lines have no names, so there it is the job's name.
fn command_label<'a>(job: &'a Job, step: &'a Step) -> &'a str {
    if is_gitlab(job) {
        &job.name
    } else {
        &step.name
    }
}

/// The operations a run performs (catalog shared definitions); `label` names the command
/// (see [`command_label`]).
fn ops_of(f: &Found, label: &str, defs: &Definitions) -> Vec<String> {
    let mut ops = Vec::new();
    let name = f.name.to_ascii_lowercase();
    let program = f.program.to_ascii_lowercase();
    let script = f.kind == "script";
    let script_file = program.contains('/')
        || program.ends_with(".sh")
        || program.ends_with(".mjs")
        || program.ends_with(".js");
    let file_args: Vec<String> = if matches!(
        name.as_str(),
        "bash" | "sh" | "node" | "zx" | "tsx" | "ts-node"
    ) {
        f.args
            .iter()
            .filter(|a| !a.starts_with('-'))
            .take(1)
            .map(|a| a.to_ascii_lowercase())
            .collect()
    } else {
        Vec::new()
    };
    let file_named = |fragments: &[String]| {
        (script_file && definitions::names_match(fragments, &program))
            || file_args
                .iter()
                .any(|a| definitions::names_match(fragments, a))
    };
    // The command's words: the program and its arguments, and a script file run through an
    // interpreter (`bash scripts/x.sh a` is `scripts/x.sh a`).
    let mut words: Vec<&str> = std::iter::once(name.as_str())
        .chain(f.args.iter().map(String::as_str))
        .collect();
    let program_words: Vec<&str> = std::iter::once(f.program.as_str())
        .chain(f.args.iter().map(String::as_str))
        .collect();
    let file_words: Vec<&str> = f
        .args
        .iter()
        .position(|a| !a.starts_with('-'))
        .filter(|_| !file_args.is_empty())
        .map(|i| f.args[i..].iter().map(String::as_str).collect())
        .unwrap_or_default();
    if words.is_empty() {
        words.push("");
    }
    // A pattern naming a path (`./scripts/snapshot-db.sh`) also matches the script file
    // however it is started.
    let command_is = |patterns: &[String]| {
        Definitions::command_matches(patterns, &words)
            || patterns
                .iter()
                .filter(|p| p.split_whitespace().next().is_some_and(|w| w.contains('/')))
                .any(|p| {
                    (script_file && definitions::command_matches(p, &program_words))
                        || definitions::command_matches(p, &file_words)
                })
    };
    // Migrations.
    let migration = command_is(&defs.migration_commands)
        || (script && definitions::names_match(&defs.migration_scripts, &name));
    if migration {
        ops.push("migration".to_string());
    }
    if command_is(&defs.backup_commands)
        || (script && definitions::names_match(&defs.backup_scripts, &name))
        || file_named(&defs.backup_scripts)
    {
        ops.push("backup".to_string());
    }
    // Programs that request the URLs they are given (HTTPie is `http`/`https`; `wait-on`
    // polls until its URLs answer).
    let health_url = defs
        .http_clients
        .iter()
        .any(|c| c.eq_ignore_ascii_case(&name))
        && f.args.iter().any(|a| is_health_url(a, defs));
    let smoke_step = definitions::names_match(&defs.smoke_test_steps, label);
    if health_url
        || command_is(&defs.smoke_test_commands)
        || (script && definitions::names_match(&defs.smoke_test_scripts, &name))
        || file_named(&defs.smoke_test_scripts)
        || smoke_step
    {
        ops.push("health".to_string());
    }
    let docker = docker_command(&name, &f.args);
    let docker_is = |path: &[&str]| {
        docker.as_ref().is_some_and(|w| {
            w.len() >= path.len() && w.iter().zip(path).all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
    };
    let build = defs.image_build_commands.iter().any(|p| {
        let pw: Vec<&str> = p.split_whitespace().collect();
        match pw.split_first() {
            Some((first, rest)) if first.eq_ignore_ascii_case("docker") && !rest.is_empty() => {
                docker_is(rest)
            }
            _ => command_is(std::slice::from_ref(p)),
        }
    })
        // `docker compose up --build` (also `run --build`) builds the services' images first.
        || ((docker_is(&["compose", "up"]) || docker_is(&["compose", "run"]))
            && docker
                .as_ref()
                .is_some_and(|w| w.iter().any(|a| a == "--build")));
    if build {
        ops.push("image_build".to_string());
    }
    // `docker image inspect` / `docker inspect` reads the image size only through a format
    // template that names it; without one it is an existence check.
    if let Some(words) = docker
        .as_ref()
        .filter(|_| docker_is(&["inspect"]) || docker_is(&["image", "inspect"]))
    {
        let mut it = words.iter();
        let mut reads_size = false;
        while let Some(w) = it.next() {
            let template = match w.split_once('=') {
                Some(("--format" | "-f", v)) => Some(v.to_string()),
                None if w == "--format" || w == "-f" => it.next().cloned(),
                _ => None,
            };
            reads_size |= template.is_some_and(|t| t.contains("Size"));
        }
        if reads_size {
            ops.push("image_size".to_string());
        }
    }
    ops
}

/// The runs of one step: its action, or its commands (and the script bodies they run).
/// A run of a job's step from what the walker found.
pub(super) fn make_run(
    (job, step): (&Job, &Step),
    f: Found,
    gating: bool,
    loc: Location,
    seq: i64,
    defs: &Definitions,
) -> Run {
    let mut ops = ops_of(&f, command_label(job, step), defs);
    ops.dedup();
    Run {
        kind: f.kind.to_string(),
        invocation: std::iter::once(f.name.as_str())
            .chain(f.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        name: f.name,
        args: f.args,
        program: f.program,
        explicit: f.explicit,
        level: f.level,
        ops,
        seq,
        defined: f.defined,
        package_dir: f.package_dir,
        job: job.key.clone(),
        job_id: job.id.clone(),
        pre_merge: job.is_pre_merge,
        gating,
        loc,
    }
}
