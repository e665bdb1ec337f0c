//! Package-manager facts: recognises invocations of the JavaScript package managers (npm,
//! yarn, pnpm, bun and their runners npx, bunx, `pnpm dlx`, `yarn dlx`) among the commands
//! that [`crate::shell`] extracts from scripts, and says what each one does: installs the
//! project's dependencies, prunes them, runs a package.json script, runs a tool, audits, or
//! something else.
//!
//! The classification is purely syntactic: it reads the words of one command and never looks
//! at package.json. For `yarn X`, `pnpm X` and `bun X` where X is not a built-in subcommand the
//! result is the action `"short"`, which the caller resolves against package.json (a script
//! run when X is a script there, a tool run of the binary X otherwise).

use serde::Serialize;

/// One `NAME=value` environment assignment that applies to a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvAssignment {
    /// The variable's name as written (`NODE_ENV`; `arr[1]` for an array element).
    pub name: String,
    /// The value with quotes removed; expansions are kept as written (`$HOME`, `${{ x }}`).
    pub value: String,
}

/// What one package-manager command does, as read from its words.
///
/// Found on a shell command as `pm`; absent when the command's program is not a package
/// manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PmCommand {
    /// The package manager: `npm`, `yarn`, `pnpm`, `bun`, `npx` or `bunx` (the base name of the
    /// program; `corepack pnpm …` counts as `pnpm`, `pnpx` as `pnpm`, `yarnpkg` as `yarn`).
    pub manager: String,
    /// What the command does: `"install"` (installs the project's dependencies or adds
    /// packages: `npm ci`, `npm install`, `yarn`, `pnpm add x`, …; also `npm install-test`
    /// and `npm cit`, which run the tests afterwards), `"prune"` (`npm prune`,
    /// `pnpm prune`), `"deploy"` (`pnpm deploy [--prod] DIR`: installs one workspace
    /// package with its dependencies into DIR, the only positional word), `"script"` (an explicit package.json script run: `npm run X`, `npm test`,
    /// `yarn run X`, `pnpm run X`, `bun run X`), `"short"` (`yarn X` / `pnpm X` / `bun X`
    /// where X is no built-in subcommand: a script run when package.json defines X, otherwise a
    /// tool run of the binary X), `"tool"` (runs a package binary: `npx X`, `npm exec X`,
    /// `pnpm dlx X`, `pnpm exec X`, `yarn dlx X`, `yarn exec X`, `bunx X`, `bun x X`),
    /// `"audit"` (`npm audit`, `pnpm audit`, `yarn audit`, `yarn npm audit`, `bun audit`) or
    /// `"other"` (anything else: publish, version, config, cache, bun's own `bun test`, …).
    pub action: String,
    /// Install facts; present when `action` is `"install"`, `"prune"` or `"deploy"` (for a
    /// prune only `prod_only` is meaningful: it says dev dependencies are removed; for a
    /// deploy, that the output directory gets production dependencies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install: Option<Install>,
    /// The script name for `"script"` and `"short"` actions (`npm test` gives `"test"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The tool run by a `"tool"` action, with any `@version` removed (`npx tsc@5` gives
    /// `"tsc"`, `npx @scope/cli@1` gives `"@scope/cli"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The words after the script or tool name, without a separating `--`
    /// (`npm run lint -- --fix` gives `["--fix"]`); for the other actions, the positional
    /// words after the subcommand (for an install, the packages named).
    pub args: Vec<String>,
    /// The workspace selected: `-w P`, `--workspace P`, `--workspace=P` (npm), `--filter P`,
    /// `-F P` (pnpm, bun), or `yarn workspace P …`; the first one when several are given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The directory the command runs in: `--prefix DIR` or `-C DIR` (npm), `-C DIR` or
    /// `--dir DIR` (pnpm), `--cwd DIR` (yarn, bun).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// True when the command runs in all or several workspaces: `--workspaces` or `-ws` (npm),
    /// `-r` or `--recursive` (pnpm), `yarn workspaces foreach …`, `yarn workspaces run …`,
    /// `yarn npm audit --all`.
    pub recursive: bool,
    /// True when `--if-present` is given (a missing script is then not an error).
    pub if_present: bool,
    /// For an `"audit"` action, the severity threshold given with `--audit-level X` (npm,
    /// pnpm), `--level X` (yarn classic) or `--severity X` (`yarn npm audit`); absent when
    /// unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_level: Option<String>,
}

/// Facts about a dependency install (or prune).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Install {
    /// True for a production-only install (or a prune that removes dev dependencies):
    /// `--omit=dev` / `--omit dev`, `--only=prod` / `--only=production`, `--production`,
    /// `--prod`, `-P` (pnpm), `-p` (bun), `yarn workspaces focus --production`, or
    /// `NODE_ENV=production` (also `npm_config_production=true`, `npm_config_omit=dev`) in
    /// the command's environment prefix; false when `--include=dev` (or `-D`/`--dev` for
    /// pnpm) asks for dev dependencies anyway.
    pub prod_only: bool,
    /// True for a global install (`-g`, `--global`, `--location=global`, `yarn global add`):
    /// it installs a tool on the machine, not the project's dependencies.
    pub global: bool,
    /// True when packages are named (`npm install lodash`, `yarn add x`, `pnpm add x`): the
    /// command adds packages rather than installing the project's declared dependencies.
    pub adds_packages: bool,
}

/// Classifies one command given its program (as written, a path is allowed), the words after
/// it, and the environment assignments written before it. Returns `None` when the program is
/// not a JavaScript package manager.
pub fn classify(program: &str, args: &[String], env: &[EnvAssignment]) -> Option<PmCommand> {
    classify_at(program, args, env, 0)
}

/// How many `corepack` hops are followed before giving up.
const MAX_COREPACK_HOPS: usize = 2;

fn classify_at(
    program: &str,
    args: &[String],
    env: &[EnvAssignment],
    hops: usize,
) -> Option<PmCommand> {
    let name = base_name(program);
    match name {
        "npm" => Some(npm(args, env)),
        "npx" => Some(npx(args)),
        "yarn" | "yarnpkg" => Some(yarn(args, env)),
        "pnpm" => Some(pnpm(args, env)),
        "pnpx" => Some(runner("pnpm", args, PNPM_DLX_VALUE_FLAGS)),
        "bun" => Some(bun(args, env)),
        "bunx" => Some(runner("bunx", args, BUNX_VALUE_FLAGS)),
        "corepack" if hops < MAX_COREPACK_HOPS => {
            let (first, rest) = args.split_first()?;
            // `corepack pnpm@9 install` names a version after the manager.
            let manager = first.split('@').next().unwrap_or(first);
            if matches!(manager, "npm" | "npx" | "yarn" | "pnpm" | "pnpx") {
                classify_at(manager, rest, env, hops + 1)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The program's file name without directories or a Windows launcher extension.
fn base_name(program: &str) -> &str {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    [".cmd", ".exe", ".ps1", ".CMD", ".EXE"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name)
}

/// One flag word (or flag and value words) read from the command line.
#[derive(Debug)]
struct Flag<'a> {
    /// The flag's name without leading dashes (`omit`, `w`, `ws`).
    name: &'a str,
    /// The flag's value, from `--name=value` or from the following word for value flags.
    value: Option<&'a str>,
}

impl Flag<'_> {
    /// True when the flag is on: given without a value or with a value other than `false`.
    fn on(&self) -> bool {
        !matches!(self.value, Some("false" | "0"))
    }
}

/// True when `word` is an option rather than a positional word.
fn is_flag(word: &str) -> bool {
    word.len() > 1 && word.starts_with('-') && word != "--"
}

/// Reads the flag at `args[i]` (which must satisfy [`is_flag`]) and returns it with the index
/// of the next unread word. Flags named in `value_flags` take the following word as their
/// value when none is attached with `=`.
fn read_flag<'a>(args: &'a [String], i: usize, value_flags: &[&str]) -> (Flag<'a>, usize) {
    let word = args.get(i).map_or("", String::as_str);
    let body = word
        .strip_prefix("--")
        .or_else(|| word.strip_prefix('-'))
        .unwrap_or(word);
    if let Some((name, value)) = body.split_once('=') {
        return (
            Flag {
                name,
                value: Some(value),
            },
            i + 1,
        );
    }
    if value_flags.contains(&body)
        && let Some(value) = args.get(i + 1)
    {
        return (
            Flag {
                name: body,
                value: Some(value),
            },
            i + 2,
        );
    }
    (
        Flag {
            name: body,
            value: None,
        },
        i + 1,
    )
}

/// Flags seen on one command, before the facts are assembled.
#[derive(Debug, Default)]
struct State {
    workspace: Option<String>,
    dir: Option<String>,
    recursive: bool,
    if_present: bool,
    audit_level: Option<String>,
    prod: bool,
    include_dev: bool,
    global: bool,
    /// `--help` / `--version`: the command only prints something.
    informational: bool,
}

impl State {
    fn set_workspace(&mut self, value: Option<&str>) {
        if self.workspace.is_none()
            && let Some(v) = value
        {
            self.workspace = Some(v.to_string());
        }
    }

    fn set_dir(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            self.dir = Some(v.to_string());
        }
    }

    fn set_audit_level(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            self.audit_level = Some(v.to_string());
        }
    }

    /// Applies the flags every manager shares the meaning of.
    fn apply_shared(&mut self, flag: &Flag<'_>) {
        match flag.name {
            "if-present" => self.if_present = flag.on(),
            "audit-level" => self.set_audit_level(flag.value),
            "production" | "prod" => self.prod = flag.on(),
            "g" | "global" => self.global = flag.on(),
            "location" => self.global = flag.value == Some("global"),
            "omit" if flag.value == Some("dev") => self.prod = true,
            "include" if flag.value == Some("dev") => self.include_dev = true,
            "only" if matches!(flag.value, Some("prod" | "production")) => self.prod = true,
            "h" | "help" | "v" | "version" | "usage" => self.informational = true,
            _ => {}
        }
    }

    fn result(self, manager: &str, action: &str) -> PmCommand {
        PmCommand {
            manager: manager.to_string(),
            action: action.to_string(),
            install: None,
            script: None,
            tool: None,
            args: Vec::new(),
            workspace: self.workspace,
            dir: self.dir,
            recursive: self.recursive,
            if_present: self.if_present,
            audit_level: self.audit_level,
        }
    }

    /// Whether this is a production-only install, combining flags and environment.
    fn prod_only(&self, env: &[EnvAssignment]) -> bool {
        (self.prod || env_says_production(env)) && !self.include_dev
    }
}

/// True when the environment prefix makes an install production-only.
fn env_says_production(env: &[EnvAssignment]) -> bool {
    env.iter().any(|a| {
        let name = a.name.to_ascii_lowercase();
        (a.name == "NODE_ENV" && a.value == "production")
            || (name == "npm_config_production" && a.value == "true")
            || (name == "npm_config_omit" && a.value.split([' ', ',']).any(|v| v == "dev"))
    })
}

/// Removes the version from a package spec: `tsc@5` → `tsc`, `@scope/cli@1` → `@scope/cli`.
fn strip_version(spec: &str) -> String {
    let (scope_at, rest) = match spec.strip_prefix('@') {
        Some(rest) => ("@", rest),
        None => ("", spec),
    };
    let name = rest.split('@').next().unwrap_or(rest);
    format!("{scope_at}{name}")
}

/// The words after a script or tool name, without one leading `--`.
fn passthrough(rest: &[String]) -> Vec<String> {
    match rest.split_first() {
        Some((first, tail)) if first == "--" => tail.to_vec(),
        _ => rest.to_vec(),
    }
}

/// Reads flags (applying them with `apply`) and collects positional words from `args[i..]`
/// up to the end; everything after a `--` is positional.
fn flags_and_positionals(
    args: &[String],
    mut i: usize,
    value_flags: &[&str],
    mut apply: impl FnMut(&Flag<'_>),
) -> Vec<String> {
    let mut positionals = Vec::new();
    while let Some(word) = args.get(i) {
        if word == "--" {
            positionals.extend(args.iter().skip(i + 1).cloned());
            break;
        }
        if is_flag(word) {
            let (flag, next) = read_flag(args, i, value_flags);
            apply(&flag);
            i = next;
        } else {
            positionals.push(word.clone());
            i += 1;
        }
    }
    positionals
}

/// Reads flags from `args[i..]` until the first positional word, returning that word's
/// index (or `args.len()`); a `--` ends the flags and is skipped.
fn skip_flags(
    args: &[String],
    mut i: usize,
    value_flags: &[&str],
    mut apply: impl FnMut(&Flag<'_>),
) -> usize {
    while let Some(word) = args.get(i) {
        if word == "--" {
            return i + 1;
        }
        if !is_flag(word) {
            return i;
        }
        let (flag, next) = read_flag(args, i, value_flags);
        apply(&flag);
        i = next;
    }
    i
}

fn install_result(
    st: State,
    manager: &str,
    action: &str,
    env: &[EnvAssignment],
    packages: Vec<String>,
    global_override: bool,
) -> PmCommand {
    let install = Install {
        prod_only: (action == "install" && st.prod_only(env))
            || (matches!(action, "prune" | "deploy") && st.prod),
        global: st.global || global_override,
        adds_packages: action == "install" && !packages.is_empty(),
    };
    let mut out = st.result(manager, action);
    out.install = Some(install);
    out.args = packages;
    out
}

// ---------------------------------------------------------------------------------------
// npm and npx

const NPM_VALUE_FLAGS: &[&str] = &[
    "w",
    "workspace",
    "prefix",
    "C",
    "omit",
    "include",
    "only",
    "audit-level",
    "registry",
    "cache",
    "userconfig",
    "globalconfig",
    "loglevel",
    "tag",
    "otp",
    "before",
    "install-strategy",
    "location",
    "script-shell",
    "node-options",
    "package",
    "call",
    "c",
    "access",
    "scope",
];

fn apply_npm(st: &mut State, flag: &Flag<'_>) {
    match flag.name {
        "w" | "workspace" => st.set_workspace(flag.value),
        "workspaces" | "ws" => st.recursive = flag.on(),
        "prefix" | "C" => st.set_dir(flag.value),
        _ => st.apply_shared(flag),
    }
}

fn npm(args: &[String], env: &[EnvAssignment]) -> PmCommand {
    let mut st = State::default();
    let sub_at = skip_flags(args, 0, NPM_VALUE_FLAGS, |f| apply_npm(&mut st, f));
    let Some(sub) = args.get(sub_at) else {
        return st.result("npm", "other");
    };
    let rest_at = sub_at + 1;
    match sub.as_str() {
        "ci" | "clean-install" | "ic" | "install-clean" | "cit" | "clean-install-test"
        | "install-ci-test" => {
            let _ = flags_and_positionals(args, rest_at, NPM_VALUE_FLAGS, |f| {
                apply_npm(&mut st, f);
            });
            install_result(st, "npm", "install", env, Vec::new(), false)
        }
        "install" | "i" | "in" | "ins" | "inst" | "insta" | "instal" | "add" | "it"
        | "install-test" => {
            let packages = flags_and_positionals(args, rest_at, NPM_VALUE_FLAGS, |f| {
                apply_npm(&mut st, f);
            });
            install_result(st, "npm", "install", env, packages, false)
        }
        "prune" => {
            let _ = flags_and_positionals(args, rest_at, NPM_VALUE_FLAGS, |f| {
                apply_npm(&mut st, f);
            });
            if env_says_production(env) {
                st.prod = true;
            }
            if st.include_dev {
                st.prod = false;
            }
            install_result(st, "npm", "prune", env, Vec::new(), false)
        }
        "run" | "run-script" | "rum" | "urn" => {
            let name_at = skip_flags(args, rest_at, NPM_VALUE_FLAGS, |f| apply_npm(&mut st, f));
            match args.get(name_at) {
                Some(name) => npm_script(st, name, args, name_at + 1),
                None => st.result("npm", "other"),
            }
        }
        "test" | "t" | "tst" => npm_script(st, "test", args, rest_at),
        "start" | "stop" | "restart" => npm_script(st, sub, args, rest_at),
        "audit" => words_result(
            st,
            "npm",
            "audit",
            args,
            rest_at,
            NPM_VALUE_FLAGS,
            apply_npm,
        ),
        "exec" | "x" => npm_exec(st, args, rest_at),
        _ => words_result(
            st,
            "npm",
            "other",
            args,
            rest_at,
            NPM_VALUE_FLAGS,
            apply_npm,
        ),
    }
}

/// An npm script run: npm reads its own flags after the script name up to `--`; other words
/// there, and everything after `--`, go to the script.
fn npm_script(mut st: State, name: &str, args: &[String], from: usize) -> PmCommand {
    let words = flags_and_positionals(args, from, NPM_VALUE_FLAGS, |f| apply_npm(&mut st, f));
    let mut out = st.result("npm", "script");
    out.script = Some(name.to_string());
    out.args = words;
    out
}

/// `npm exec [flags] [--] tool args…` (also used for `npx`).
fn npm_exec(mut st: State, args: &[String], from: usize) -> PmCommand {
    let mut call: Option<String> = None;
    let tool_at = skip_flags(args, from, NPM_VALUE_FLAGS, |f| {
        if matches!(f.name, "c" | "call") {
            call = f.value.map(str::to_string);
        } else {
            apply_npm(&mut st, f);
        }
    });
    tool_result(st, "npm", args, tool_at, call)
}

fn npx(args: &[String]) -> PmCommand {
    let mut st = State::default();
    let mut call: Option<String> = None;
    let tool_at = skip_flags(args, 0, NPX_VALUE_FLAGS, |f| {
        if matches!(f.name, "c" | "call") {
            call = f.value.map(str::to_string);
        } else {
            apply_npm(&mut st, f);
        }
    });
    tool_result(st, "npx", args, tool_at, call)
}

const NPX_VALUE_FLAGS: &[&str] = &[
    "p",
    "package",
    "c",
    "call",
    "w",
    "workspace",
    "prefix",
    "registry",
    "cache",
    "userconfig",
    "loglevel",
    "node-options",
];

/// Builds a `"tool"` result from the tool word at `tool_at`, or from the first word of a
/// `--call` string when no tool word is given.
fn tool_result(
    st: State,
    manager: &str,
    args: &[String],
    tool_at: usize,
    call: Option<String>,
) -> PmCommand {
    let (tool, rest) = match args.get(tool_at) {
        Some(tool) => (
            Some(strip_version(tool)),
            passthrough(args.get(tool_at + 1..).unwrap_or_default()),
        ),
        None => {
            let words: Vec<String> = call
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_string)
                .collect();
            match words.split_first() {
                Some((first, tail)) => (Some(strip_version(first)), tail.to_vec()),
                None => (None, Vec::new()),
            }
        }
    };
    match tool {
        Some(tool) => {
            let mut out = st.result(manager, "tool");
            out.tool = Some(tool);
            out.args = rest;
            out
        }
        None => st.result(manager, "other"),
    }
}

/// A plain tool runner (`bunx`, `pnpx`): flags, then the tool and its arguments.
fn runner(manager: &str, args: &[String], value_flags: &[&str]) -> PmCommand {
    let mut st = State::default();
    let tool_at = skip_flags(args, 0, value_flags, |f| st.apply_shared(f));
    tool_result(st, manager, args, tool_at, None)
}

// ---------------------------------------------------------------------------------------
// pnpm

const PNPM_VALUE_FLAGS: &[&str] = &[
    "C",
    "dir",
    "filter",
    "F",
    "filter-prod",
    "test-pattern",
    "changed-files-ignore-pattern",
    "workspace-concurrency",
    "reporter",
    "loglevel",
    "audit-level",
    "store-dir",
    "virtual-store-dir",
    "modules-dir",
    "lockfile-dir",
    "resume-from",
    "registry",
    "network-concurrency",
    "child-concurrency",
    "node-linker",
    "package-import-method",
    "global-dir",
    "package",
    "omit",
    "include",
];

const PNPM_DLX_VALUE_FLAGS: &[&str] = &["package", "reporter", "loglevel", "C", "dir"];

/// pnpm's own subcommands that are neither installs, scripts, tools nor audits.
const PNPM_OTHER: &[&str] = &[
    "remove",
    "rm",
    "uninstall",
    "un",
    "update",
    "up",
    "upgrade",
    "link",
    "ln",
    "unlink",
    "import",
    "rebuild",
    "rb",
    "fetch",
    "patch",
    "patch-commit",
    "patch-remove",
    "outdated",
    "list",
    "ls",
    "ll",
    "la",
    "why",
    "publish",
    "pack",
    "store",
    "root",
    "bin",
    "config",
    "c",
    "get",
    "set",
    "env",
    "setup",
    "init",
    "create",
    "server",
    "licenses",
    "doctor",
    "self-update",
    "cat-file",
    "cat-index",
    "find-hash",
    "help",
    "completion",
    "dedupe",
    "sbom",
    "approve-builds",
    "ignored-builds",
    "cache",
    "login",
    "logout",
    "whoami",
    "version",
    "view",
    "info",
    "show",
    "dist-tag",
    "owner",
    "search",
    "docs",
    "repo",
    "stars",
];

fn apply_pnpm(st: &mut State, flag: &Flag<'_>) {
    match flag.name {
        "C" | "dir" => st.set_dir(flag.value),
        "filter" | "F" | "filter-prod" => st.set_workspace(flag.value),
        "r" | "recursive" => st.recursive = flag.on(),
        "P" => st.prod = true,
        "D" | "dev" => st.include_dev = true,
        "w" | "workspace-root" => {}
        _ => st.apply_shared(flag),
    }
}

fn pnpm(args: &[String], env: &[EnvAssignment]) -> PmCommand {
    let mut st = State::default();
    let mut i = 0;
    loop {
        i = skip_flags(args, i, PNPM_VALUE_FLAGS, |f| apply_pnpm(&mut st, f));
        match args.get(i).map(String::as_str) {
            Some("recursive" | "multi" | "m") => {
                st.recursive = true;
                i += 1;
            }
            _ => break,
        }
    }
    let Some(sub) = args.get(i) else {
        // A bare `pnpm` (or `pnpm --version`) only prints something.
        return st.result("pnpm", "other");
    };
    let rest_at = i + 1;
    match sub.as_str() {
        "install" | "i" | "add" | "install-test" | "it" => {
            let packages = flags_and_positionals(args, rest_at, PNPM_VALUE_FLAGS, |f| {
                apply_pnpm(&mut st, f);
            });
            install_result(st, "pnpm", "install", env, packages, false)
        }
        "prune" => {
            let _ = flags_and_positionals(args, rest_at, PNPM_VALUE_FLAGS, |f| {
                apply_pnpm(&mut st, f);
            });
            if st.include_dev {
                st.prod = false;
            }
            install_result(st, "pnpm", "prune", env, Vec::new(), false)
        }
        "run" | "run-script" => {
            let name_at = skip_flags(args, rest_at, PNPM_VALUE_FLAGS, |f| {
                apply_pnpm(&mut st, f);
            });
            named_run(st, "pnpm", "script", args, name_at)
        }
        "test" | "t" | "tst" => fixed_script(st, "pnpm", "test", args, rest_at),
        "start" | "restart" => fixed_script(st, "pnpm", sub, args, rest_at),
        "exec" => {
            let tool_at = skip_flags(args, rest_at, PNPM_VALUE_FLAGS, |f| {
                apply_pnpm(&mut st, f);
            });
            tool_result(st, "pnpm", args, tool_at, None)
        }
        "dlx" => {
            let tool_at = skip_flags(args, rest_at, PNPM_DLX_VALUE_FLAGS, |f| {
                apply_pnpm(&mut st, f);
            });
            tool_result(st, "pnpm", args, tool_at, None)
        }
        "deploy" => {
            let words = flags_and_positionals(args, rest_at, PNPM_VALUE_FLAGS, |f| {
                apply_pnpm(&mut st, f);
            });
            if st.include_dev {
                st.prod = false;
            }
            let mut out = install_result(st, "pnpm", "deploy", env, Vec::new(), false);
            out.args = words;
            out
        }
        "audit" => words_result(
            st,
            "pnpm",
            "audit",
            args,
            rest_at,
            PNPM_VALUE_FLAGS,
            apply_pnpm,
        ),
        s if PNPM_OTHER.contains(&s) => words_result(
            st,
            "pnpm",
            "other",
            args,
            rest_at,
            PNPM_VALUE_FLAGS,
            apply_pnpm,
        ),
        _ => named_run(st, "pnpm", "short", args, i),
    }
}

/// A `manager` result of `action` whose args are the positional words of `args[from..]`
/// (flags applied with `apply`).
fn words_result(
    mut st: State,
    manager: &str,
    action: &str,
    args: &[String],
    from: usize,
    value_flags: &[&str],
    apply: fn(&mut State, &Flag<'_>),
) -> PmCommand {
    let words = flags_and_positionals(args, from, value_flags, |f| apply(&mut st, f));
    // `npm audit signatures` checks registry signatures and `npm audit fix` rewrites the
    // lockfile: neither is a vulnerability gate.
    let action = match words.first().map(String::as_str) {
        Some("signatures" | "fix") if action == "audit" => "other",
        _ => action,
    };
    let mut out = st.result(manager, action);
    out.args = words;
    out
}

/// A run of the script (or binary) named at `args[name_at]`; all later words go to it.
fn named_run(st: State, manager: &str, action: &str, args: &[String], name_at: usize) -> PmCommand {
    match args.get(name_at) {
        Some(name) => {
            let mut out = st.result(manager, action);
            out.script = Some(name.clone());
            out.args = passthrough(args.get(name_at + 1..).unwrap_or_default());
            out
        }
        None => st.result(manager, "other"),
    }
}

/// A built-in script subcommand (`pnpm test`): all later words go to the script.
fn fixed_script(st: State, manager: &str, name: &str, args: &[String], from: usize) -> PmCommand {
    let mut out = st.result(manager, "script");
    out.script = Some(name.to_string());
    out.args = passthrough(args.get(from..).unwrap_or_default());
    out
}

// ---------------------------------------------------------------------------------------
// yarn (classic and berry)

const YARN_VALUE_FLAGS: &[&str] = &[
    "cwd",
    "network-timeout",
    "mutex",
    "cache-folder",
    "modules-folder",
    "registry",
    "network-concurrency",
    "global-folder",
    "link-folder",
    "otp",
    "use-yarnrc",
    "preferred-cache-folder",
    "mode",
    "level",
    "severity",
    "environment",
    "groups",
    "j",
    "jobs",
    "include",
    "exclude",
    "from",
];

const YARN_DLX_VALUE_FLAGS: &[&str] = &["p", "package", "cwd"];

const YARN_OTHER: &[&str] = &[
    "remove",
    "upgrade",
    "up",
    "upgrade-interactive",
    "link",
    "unlink",
    "cache",
    "config",
    "set",
    "plugin",
    "version",
    "versions",
    "pack",
    "publish",
    "info",
    "why",
    "init",
    "create",
    "bin",
    "constraints",
    "dedupe",
    "explain",
    "node",
    "patch",
    "patch-commit",
    "rebuild",
    "search",
    "stage",
    "unplug",
    "licenses",
    "list",
    "login",
    "logout",
    "outdated",
    "owner",
    "tag",
    "team",
    "import",
    "generate-lock-entry",
    "check",
    "autoclean",
    "help",
    "policies",
];

fn apply_yarn(st: &mut State, flag: &Flag<'_>) {
    match flag.name {
        "cwd" => st.set_dir(flag.value),
        "level" | "severity" => st.set_audit_level(flag.value),
        _ => st.apply_shared(flag),
    }
}

fn yarn(args: &[String], env: &[EnvAssignment]) -> PmCommand {
    yarn_from(State::default(), args, 0, env, 0)
}

/// How many `yarn workspace P …` / `yarn workspaces foreach …` prefixes are followed.
const MAX_YARN_NESTING: usize = 4;

fn yarn_from(
    mut st: State,
    args: &[String],
    from: usize,
    env: &[EnvAssignment],
    nesting: usize,
) -> PmCommand {
    let i = skip_flags(args, from, YARN_VALUE_FLAGS, |f| apply_yarn(&mut st, f));
    let Some(sub) = args.get(i) else {
        if st.informational || from > 0 {
            return st.result("yarn", "other");
        }
        return install_result(st, "yarn", "install", env, Vec::new(), false);
    };
    let rest_at = i + 1;
    match sub.as_str() {
        "install" => {
            let _ = flags_and_positionals(args, rest_at, YARN_VALUE_FLAGS, |f| {
                apply_yarn(&mut st, f);
            });
            install_result(st, "yarn", "install", env, Vec::new(), false)
        }
        "add" => {
            let packages = flags_and_positionals(args, rest_at, YARN_VALUE_FLAGS, |f| {
                apply_yarn(&mut st, f);
            });
            install_result(st, "yarn", "install", env, packages, false)
        }
        "global" => {
            let words = flags_and_positionals(args, rest_at, YARN_VALUE_FLAGS, |f| {
                apply_yarn(&mut st, f);
            });
            match words.split_first() {
                Some((first, packages)) if first == "add" => {
                    install_result(st, "yarn", "install", env, packages.to_vec(), true)
                }
                _ => {
                    let mut out = st.result("yarn", "other");
                    out.args = words;
                    out
                }
            }
        }
        "workspace" if nesting < MAX_YARN_NESTING => {
            let ws_at = skip_flags(args, rest_at, YARN_VALUE_FLAGS, |f| apply_yarn(&mut st, f));
            match args.get(ws_at) {
                Some(ws) => {
                    st.workspace = Some(ws.clone());
                    yarn_from(st, args, ws_at + 1, env, nesting + 1)
                }
                None => st.result("yarn", "other"),
            }
        }
        "workspaces" if nesting < MAX_YARN_NESTING => {
            yarn_workspaces(st, args, rest_at, env, nesting)
        }
        "run" => {
            let name_at = skip_flags(args, rest_at, YARN_VALUE_FLAGS, |f| apply_yarn(&mut st, f));
            named_run(st, "yarn", "script", args, name_at)
        }
        "dlx" | "exec" => {
            let tool_at = skip_flags(args, rest_at, YARN_DLX_VALUE_FLAGS, |f| {
                apply_yarn(&mut st, f);
            });
            tool_result(st, "yarn", args, tool_at, None)
        }
        "audit" => words_result(
            st,
            "yarn",
            "audit",
            args,
            rest_at,
            YARN_VALUE_FLAGS,
            apply_yarn,
        ),
        "npm" => {
            let words = flags_and_positionals(args, rest_at, YARN_VALUE_FLAGS, |f| {
                apply_yarn(&mut st, f);
                if matches!(f.name, "A" | "all" | "R" | "recursive") {
                    st.recursive = f.on();
                }
            });
            match words.split_first() {
                Some((first, tail)) if first == "audit" => {
                    let mut out = st.result("yarn", "audit");
                    out.args = tail.to_vec();
                    out
                }
                _ => {
                    let mut out = st.result("yarn", "other");
                    out.args = words;
                    out
                }
            }
        }
        s if YARN_OTHER.contains(&s) => words_result(
            st,
            "yarn",
            "other",
            args,
            rest_at,
            YARN_VALUE_FLAGS,
            apply_yarn,
        ),
        _ => named_run(st, "yarn", "short", args, i),
    }
}

/// `yarn workspaces focus|foreach|run …`.
fn yarn_workspaces(
    mut st: State,
    args: &[String],
    from: usize,
    env: &[EnvAssignment],
    nesting: usize,
) -> PmCommand {
    let i = skip_flags(args, from, YARN_VALUE_FLAGS, |f| apply_yarn(&mut st, f));
    match args.get(i).map(String::as_str) {
        Some("focus") => {
            let names = flags_and_positionals(args, i + 1, YARN_VALUE_FLAGS, |f| {
                if matches!(f.name, "A" | "all") {
                    st.recursive = f.on();
                } else {
                    apply_yarn(&mut st, f);
                }
            });
            if let Some(first) = names.first() {
                st.set_workspace(Some(first));
            }
            install_result(st, "yarn", "install", env, Vec::new(), false)
        }
        Some("foreach") => {
            st.recursive = true;
            yarn_from(st, args, i + 1, env, nesting + 1)
        }
        Some("run") => {
            st.recursive = true;
            let name_at = skip_flags(args, i + 1, YARN_VALUE_FLAGS, |f| apply_yarn(&mut st, f));
            named_run(st, "yarn", "script", args, name_at)
        }
        _ => st.result("yarn", "other"),
    }
}

// ---------------------------------------------------------------------------------------
// bun

const BUN_VALUE_FLAGS: &[&str] = &[
    "cwd",
    "filter",
    "F",
    "env-file",
    "preload",
    "r",
    "config",
    "c",
    "registry",
    "cache-dir",
    "backend",
    "omit",
    "linker",
    "tsconfig-override",
    "conditions",
    "define",
    "d",
    "loader",
    "l",
    "main-fields",
];

const BUNX_VALUE_FLAGS: &[&str] = &["p", "package"];

const BUN_OTHER: &[&str] = &[
    "test",
    "repl",
    "exec",
    "remove",
    "rm",
    "update",
    "link",
    "unlink",
    "pm",
    "build",
    "init",
    "create",
    "c",
    "upgrade",
    "outdated",
    "publish",
    "patch",
    "patch-commit",
    "info",
    "why",
    "help",
];

fn apply_bun(st: &mut State, flag: &Flag<'_>) {
    match flag.name {
        "cwd" => st.set_dir(flag.value),
        "filter" | "F" => st.set_workspace(flag.value),
        "p" => st.prod = true,
        "D" | "dev" => st.include_dev = true,
        _ => st.apply_shared(flag),
    }
}

fn bun(args: &[String], env: &[EnvAssignment]) -> PmCommand {
    let mut st = State::default();
    let i = skip_flags(args, 0, BUN_VALUE_FLAGS, |f| apply_bun(&mut st, f));
    let Some(sub) = args.get(i) else {
        return st.result("bun", "other");
    };
    let rest_at = i + 1;
    match sub.as_str() {
        "install" | "i" | "ci" | "add" | "a" => {
            let packages = flags_and_positionals(args, rest_at, BUN_VALUE_FLAGS, |f| {
                apply_bun(&mut st, f);
            });
            install_result(st, "bun", "install", env, packages, false)
        }
        "run" => {
            let name_at = skip_flags(args, rest_at, BUN_VALUE_FLAGS, |f| apply_bun(&mut st, f));
            named_run(st, "bun", "script", args, name_at)
        }
        "x" => {
            let tool_at = skip_flags(args, rest_at, BUNX_VALUE_FLAGS, |f| st.apply_shared(f));
            tool_result(st, "bun", args, tool_at, None)
        }
        "audit" => words_result(
            st,
            "bun",
            "audit",
            args,
            rest_at,
            BUN_VALUE_FLAGS,
            apply_bun,
        ),
        s if BUN_OTHER.contains(&s) => words_result(
            st,
            "bun",
            "other",
            args,
            rest_at,
            BUN_VALUE_FLAGS,
            apply_bun,
        ),
        _ => named_run(st, "bun", "short", args, i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies a command line split on blanks; leading `NAME=value` words are the env.
    fn classify_line(line: &str) -> Option<PmCommand> {
        let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let mut env = Vec::new();
        while let Some((name, value)) = words.first().and_then(|w| w.split_once('=')) {
            env.push(EnvAssignment {
                name: name.to_string(),
                value: value.to_string(),
            });
            words.remove(0);
        }
        let (program, args) = words.split_first()?;
        classify(program, args, &env)
    }

    /// A one-line summary of the facts, listing only what is set.
    fn summary(p: &PmCommand) -> String {
        let mut s = format!("{} {}", p.manager, p.action);
        if let Some(i) = &p.install {
            for (on, word) in [
                (i.prod_only, "prod"),
                (i.global, "global"),
                (i.adds_packages, "adds"),
            ] {
                if on {
                    s.push(' ');
                    s.push_str(word);
                }
            }
        }
        for (key, value) in [
            ("script", &p.script),
            ("tool", &p.tool),
            ("ws", &p.workspace),
            ("dir", &p.dir),
            ("level", &p.audit_level),
        ] {
            if let Some(v) = value {
                s.push_str(&format!(" {key}={v}"));
            }
        }
        if p.recursive {
            s.push_str(" recursive");
        }
        if p.if_present {
            s.push_str(" if-present");
        }
        if !p.args.is_empty() {
            s.push_str(&format!(" args=[{}]", p.args.join(" ")));
        }
        s
    }

    #[test]
    fn classifies_every_form() {
        let cases: &[(&str, &str)] = &[
            // installs
            ("npm ci", "npm install"),
            ("npm ci --no-audit", "npm install"),
            ("npm install", "npm install"),
            ("npm i", "npm install"),
            ("npm install-clean", "npm install"),
            ("npm clean-install", "npm install"),
            ("npm install lodash", "npm install adds args=[lodash]"),
            ("npm i -D typescript", "npm install adds args=[typescript]"),
            (
                "npm install -g corepack",
                "npm install global adds args=[corepack]",
            ),
            (
                "npm install --global pnpm@9",
                "npm install global adds args=[pnpm@9]",
            ),
            (
                "npm install --location=global x",
                "npm install global adds args=[x]",
            ),
            ("NODE_ENV=production npm ci", "npm install prod"),
            ("NODE_ENV=development npm ci", "npm install"),
            ("npm_config_production=true npm ci", "npm install prod"),
            ("npm ci --omit=dev", "npm install prod"),
            ("npm ci --omit dev", "npm install prod"),
            ("npm ci --omit=optional", "npm install"),
            ("npm ci --only=production", "npm install prod"),
            ("npm ci --only=prod", "npm install prod"),
            ("npm install --production", "npm install prod"),
            ("npm install --production=false", "npm install"),
            ("NODE_ENV=production npm ci --include=dev", "npm install"),
            ("npm ci --prefix web", "npm install dir=web"),
            ("npm --prefix web ci", "npm install dir=web"),
            ("npm -C web ci", "npm install dir=web"),
            ("yarn", "yarn install"),
            ("yarn --frozen-lockfile", "yarn install"),
            ("yarn install --immutable", "yarn install"),
            ("yarn install --production", "yarn install prod"),
            ("yarn --production", "yarn install prod"),
            ("yarn --cwd app install", "yarn install dir=app"),
            ("yarn add lodash", "yarn install adds args=[lodash]"),
            ("yarn add -D jest", "yarn install adds args=[jest]"),
            (
                "yarn global add serve",
                "yarn install global adds args=[serve]",
            ),
            ("yarn workspaces focus --production", "yarn install prod"),
            (
                "yarn workspaces focus api --production",
                "yarn install prod ws=api",
            ),
            ("yarn workspaces focus -A", "yarn install recursive"),
            ("pnpm install", "pnpm install"),
            ("pnpm i --frozen-lockfile", "pnpm install"),
            ("pnpm install --prod", "pnpm install prod"),
            ("pnpm install -P", "pnpm install prod"),
            ("pnpm --prod install", "pnpm install prod"),
            ("NODE_ENV=production pnpm install", "pnpm install prod"),
            ("pnpm add x", "pnpm install adds args=[x]"),
            ("pnpm add -g x", "pnpm install global adds args=[x]"),
            ("pnpm add -D x", "pnpm install adds args=[x]"),
            ("pnpm -C app install", "pnpm install dir=app"),
            ("pnpm --dir app i", "pnpm install dir=app"),
            ("bun install", "bun install"),
            ("bun i", "bun install"),
            ("bun install --production", "bun install prod"),
            ("bun add x", "bun install adds args=[x]"),
            ("corepack pnpm install", "pnpm install"),
            ("corepack yarn@4.1.0 install", "yarn install"),
            ("/usr/local/bin/npm ci", "npm install"),
            // prunes
            ("npm prune", "npm prune"),
            ("npm prune --omit=dev", "npm prune prod"),
            ("npm prune --production", "npm prune prod"),
            ("pnpm prune --prod", "pnpm prune prod"),
            ("pnpm prune", "pnpm prune"),
            // explicit scripts
            ("npm run build", "npm script script=build"),
            ("npm run-script build", "npm script script=build"),
            (
                "npm run lint -- --fix",
                "npm script script=lint args=[--fix]",
            ),
            (
                "npm run lint --if-present",
                "npm script script=lint if-present",
            ),
            (
                "npm run test --workspaces",
                "npm script script=test recursive",
            ),
            (
                "npm run test -ws --if-present",
                "npm script script=test recursive if-present",
            ),
            ("npm run lint -w api", "npm script script=lint ws=api"),
            (
                "npm run lint --workspace=api",
                "npm script script=lint ws=api",
            ),
            ("npm -w api run lint", "npm script script=lint ws=api"),
            (
                "npm --workspace api run lint",
                "npm script script=lint ws=api",
            ),
            (
                "npm --prefix web run build",
                "npm script script=build dir=web",
            ),
            ("npm test", "npm script script=test"),
            ("npm t", "npm script script=test"),
            ("npm tst", "npm script script=test"),
            (
                "npm test -- --coverage",
                "npm script script=test args=[--coverage]",
            ),
            ("npm start", "npm script script=start"),
            ("npm stop", "npm script script=stop"),
            ("npm restart", "npm script script=restart"),
            ("npm run", "npm other"),
            ("yarn run build", "yarn script script=build"),
            (
                "yarn run lint --fix",
                "yarn script script=lint args=[--fix]",
            ),
            ("pnpm run build", "pnpm script script=build"),
            (
                "pnpm run lint -- --fix",
                "pnpm script script=lint args=[--fix]",
            ),
            (
                "pnpm --filter api run lint",
                "pnpm script script=lint ws=api",
            ),
            ("pnpm -F api run lint", "pnpm script script=lint ws=api"),
            (
                "pnpm --filter=api run lint",
                "pnpm script script=lint ws=api",
            ),
            ("pnpm -C app run build", "pnpm script script=build dir=app"),
            ("pnpm -r run build", "pnpm script script=build recursive"),
            (
                "pnpm recursive run build",
                "pnpm script script=build recursive",
            ),
            (
                "pnpm --if-present -r run build",
                "pnpm script script=build recursive if-present",
            ),
            ("pnpm test", "pnpm script script=test"),
            ("pnpm t", "pnpm script script=test"),
            ("pnpm start", "pnpm script script=start"),
            ("bun run build", "bun script script=build"),
            (
                "bun run test:ci --bail",
                "bun script script=test:ci args=[--bail]",
            ),
            // yarn workspace
            ("yarn workspace api build", "yarn short script=build ws=api"),
            (
                "yarn workspace api run build",
                "yarn script script=build ws=api",
            ),
            (
                "yarn workspace web add react",
                "yarn install adds ws=web args=[react]",
            ),
            (
                "yarn workspaces foreach -A run build",
                "yarn script script=build recursive",
            ),
            (
                "yarn workspaces foreach --all --topological -j 4 run build",
                "yarn script script=build recursive",
            ),
            (
                "yarn workspaces foreach -p run build",
                "yarn script script=build recursive",
            ),
            (
                "yarn workspaces run test",
                "yarn script script=test recursive",
            ),
            // short forms
            ("yarn build", "yarn short script=build"),
            ("yarn lint --fix", "yarn short script=lint args=[--fix]"),
            ("yarn test", "yarn short script=test"),
            ("yarn start", "yarn short script=start"),
            ("yarn tsc --noEmit", "yarn short script=tsc args=[--noEmit]"),
            ("pnpm build", "pnpm short script=build"),
            ("pnpm --filter api build", "pnpm short script=build ws=api"),
            ("pnpm -r lint", "pnpm short script=lint recursive"),
            ("pnpm stop", "pnpm short script=stop"),
            ("bun build:prod", "bun short script=build:prod"),
            // tools
            ("npx tsc", "npx tool tool=tsc"),
            (
                "npx --yes tsc@5 --noEmit",
                "npx tool tool=tsc args=[--noEmit]",
            ),
            (
                "npx -y @scope/cli@1.2.3 run",
                "npx tool tool=@scope/cli args=[run]",
            ),
            ("npx -p typescript tsc", "npx tool tool=tsc"),
            (
                "npx --package=typescript tsc -v",
                "npx tool tool=tsc args=[-v]",
            ),
            ("npx --package typescript -- tsc", "npx tool tool=tsc"),
            ("npx -c eslint", "npx tool tool=eslint"),
            ("npm exec tsc", "npm tool tool=tsc"),
            ("npm exec -- eslint .", "npm tool tool=eslint args=[.]"),
            ("npm x --yes cowsay@1 hi", "npm tool tool=cowsay args=[hi]"),
            ("pnpm dlx x", "pnpm tool tool=x"),
            (
                "pnpm dlx create-vite@latest app",
                "pnpm tool tool=create-vite args=[app]",
            ),
            ("pnpm dlx --package typescript tsc", "pnpm tool tool=tsc"),
            (
                "pnpm exec tsc --noEmit",
                "pnpm tool tool=tsc args=[--noEmit]",
            ),
            (
                "pnpm -r exec rm -rf dist",
                "pnpm tool tool=rm recursive args=[-rf dist]",
            ),
            ("pnpx cowsay", "pnpm tool tool=cowsay"),
            ("yarn dlx x", "yarn tool tool=x"),
            ("yarn dlx -p typescript tsc", "yarn tool tool=tsc"),
            ("yarn exec tsc", "yarn tool tool=tsc"),
            ("bunx tsc", "bunx tool tool=tsc"),
            (
                "bunx --bun vite@5 build",
                "bunx tool tool=vite args=[build]",
            ),
            (
                "bun x prettier --check .",
                "bun tool tool=prettier args=[--check .]",
            ),
            ("npx", "npx other"),
            // audits
            ("npm audit", "npm audit"),
            (
                "npm audit --audit-level=critical",
                "npm audit level=critical",
            ),
            ("npm audit --audit-level high", "npm audit level=high"),
            (
                "npm audit --omit=dev --audit-level=high",
                "npm audit level=high",
            ),
            ("npm audit fix", "npm other args=[fix]"),
            ("npm audit signatures", "npm other args=[signatures]"),
            ("pnpm audit", "pnpm audit"),
            ("pnpm audit --audit-level high", "pnpm audit level=high"),
            ("pnpm audit --prod", "pnpm audit"),
            ("yarn audit", "yarn audit"),
            ("yarn audit --level moderate", "yarn audit level=moderate"),
            ("yarn npm audit", "yarn audit"),
            ("yarn npm audit --severity high", "yarn audit level=high"),
            ("yarn npm audit --all --recursive", "yarn audit recursive"),
            ("bun audit", "bun audit"),
            // others
            ("npm publish", "npm other"),
            ("npm publish --access public", "npm other"),
            ("npm version patch", "npm other args=[patch]"),
            ("npm pack", "npm other"),
            (
                "npm config set registry x",
                "npm other args=[set registry x]",
            ),
            ("npm set registry x", "npm other args=[registry x]"),
            ("npm --version", "npm other"),
            ("npm", "npm other"),
            ("npm isntall", "npm other"),
            ("yarn cache clean", "yarn other args=[clean]"),
            ("yarn --version", "yarn other"),
            ("yarn -v", "yarn other"),
            (
                "yarn set version stable",
                "yarn other args=[version stable]",
            ),
            ("yarn npm publish", "yarn other args=[publish]"),
            ("pnpm publish", "pnpm other"),
            ("pnpm store prune", "pnpm other args=[prune]"),
            ("pnpm --version", "pnpm other"),
            ("bun test", "bun other"),
            ("bun pm cache rm", "bun other args=[cache rm]"),
        ];
        let mut failures = Vec::new();
        for (line, expected) in cases {
            let got = classify_line(line).map_or_else(|| "none".to_string(), |p| summary(&p));
            if got != *expected {
                failures.push(format!("{line:?}: expected {expected:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn other_programs_are_not_package_managers() {
        for line in [
            "node index.js",
            "make build",
            "corepack enable",
            "npmx ci",
            "cd app",
            "",
        ] {
            assert_eq!(classify_line(line), None, "{line}");
        }
    }

    #[test]
    fn strips_versions_from_package_specs() {
        assert_eq!(strip_version("tsc@5"), "tsc");
        assert_eq!(strip_version("@scope/cli@1.2"), "@scope/cli");
        assert_eq!(strip_version("@scope/cli"), "@scope/cli");
        assert_eq!(strip_version("eslint"), "eslint");
        assert_eq!(strip_version("@"), "@");
        assert_eq!(strip_version(""), "");
    }

    #[test]
    fn odd_words_do_not_panic() {
        let odd: Vec<String> = [
            "-", "--", "=", "--=", "-=x", "@", "@@", "\u{0}", "é@1", "--omit",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for manager in [
            "npm", "npx", "yarn", "pnpm", "pnpx", "bun", "bunx", "corepack",
        ] {
            for i in 0..odd.len() {
                let _ = classify(manager, &odd[i..], &[]);
                let _ = classify(manager, &odd[..i], &[]);
            }
            let nested: Vec<String> = std::iter::repeat_n("workspace".to_string(), 50)
                .chain(std::iter::repeat_n("corepack".to_string(), 5))
                .collect();
            let _ = classify(manager, &nested, &[]);
        }
    }
}
