//! What the package managers' classifiers share: reading flags (`--x=v`, `--x v`, `-x`), the
//! state they set (workspace, directory, production-only, audit level) and the results they
//! build (installs, script runs, tool runs of the runners, positional words).

use super::{EnvAssignment, Install, PmCommand};

/// The program's file name without directories or a Windows launcher extension.
pub(super) fn base_name(program: &str) -> &str {
    let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
    [".cmd", ".exe", ".ps1", ".CMD", ".EXE"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name)
}

/// One flag word (or flag and value words) read from the command line.
#[derive(Debug)]
pub(super) struct Flag<'a> {
    /// The flag's name without leading dashes (`omit`, `w`, `ws`).
    pub(super) name: &'a str,
    /// The flag's value, from `--name=value` or from the following word for value flags.
    pub(super) value: Option<&'a str>,
}

impl Flag<'_> {
    /// True when the flag is on: given without a value or with a value other than `false`.
    pub(super) fn on(&self) -> bool {
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
pub(super) struct State {
    pub(super) workspace: Option<String>,
    pub(super) dir: Option<String>,
    pub(super) recursive: bool,
    pub(super) if_present: bool,
    pub(super) audit_level: Option<String>,
    pub(super) prod: bool,
    pub(super) include_dev: bool,
    pub(super) global: bool,
    /// `--help` / `--version`: the command only prints something.
    pub(super) informational: bool,
}

impl State {
    pub(super) fn set_workspace(&mut self, value: Option<&str>) {
        if self.workspace.is_none()
            && let Some(v) = value
        {
            self.workspace = Some(v.to_string());
        }
    }

    pub(super) fn set_dir(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            self.dir = Some(v.to_string());
        }
    }

    pub(super) fn set_audit_level(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            self.audit_level = Some(v.to_string());
        }
    }

    /// Applies the flags every manager shares the meaning of.
    pub(super) fn apply_shared(&mut self, flag: &Flag<'_>) {
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

    pub(super) fn result(self, manager: &str, action: &str) -> PmCommand {
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
    pub(super) fn prod_only(&self, env: &[EnvAssignment]) -> bool {
        (self.prod || env_says_production(env)) && !self.include_dev
    }
}

/// True when the environment prefix makes an install production-only.
pub(super) fn env_says_production(env: &[EnvAssignment]) -> bool {
    env.iter().any(|a| {
        let name = a.name.to_ascii_lowercase();
        (a.name == "NODE_ENV" && a.value == "production")
            || (name == "npm_config_production" && a.value == "true")
            || (name == "npm_config_omit" && a.value.split([' ', ',']).any(|v| v == "dev"))
    })
}

/// Removes the version from a package spec: `tsc@5` → `tsc`, `@scope/cli@1` → `@scope/cli`.
pub(super) fn strip_version(spec: &str) -> String {
    let (scope_at, rest) = match spec.strip_prefix('@') {
        Some(rest) => ("@", rest),
        None => ("", spec),
    };
    let name = rest.split('@').next().unwrap_or(rest);
    format!("{scope_at}{name}")
}

/// The words after a script or tool name, without one leading `--`.
pub(super) fn passthrough(rest: &[String]) -> Vec<String> {
    match rest.split_first() {
        Some((first, tail)) if first == "--" => tail.to_vec(),
        _ => rest.to_vec(),
    }
}

/// Reads flags (applying them with `apply`) and collects positional words from `args[i..]`
/// up to the end; everything after a `--` is positional.
pub(super) fn flags_and_positionals(
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
pub(super) fn skip_flags(
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

pub(super) fn install_result(
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

/// Builds a `"tool"` result from the tool word at `tool_at`, or from the first word of a
/// `--call` string when no tool word is given.
pub(super) fn tool_result(
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
pub(super) fn runner(manager: &str, args: &[String], value_flags: &[&str]) -> PmCommand {
    let mut st = State::default();
    let tool_at = skip_flags(args, 0, value_flags, |f| st.apply_shared(f));
    tool_result(st, manager, args, tool_at, None)
}

/// A `manager` result of `action` whose args are the positional words of `args[from..]`
/// (flags applied with `apply`).
pub(super) fn words_result(
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
pub(super) fn named_run(
    st: State,
    manager: &str,
    action: &str,
    args: &[String],
    name_at: usize,
) -> PmCommand {
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
