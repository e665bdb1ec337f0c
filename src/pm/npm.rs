//! npm and npx: `npm` subcommands, scripts and `npm exec`, and `npx` tool runs.

use super::shared::{
    Flag, State, env_says_production, flags_and_positionals, install_result, skip_flags,
    tool_result, words_result,
};
use super::{EnvAssignment, PmCommand};

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

pub(super) fn npm(args: &[String], env: &[EnvAssignment]) -> PmCommand {
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

pub(super) fn npx(args: &[String]) -> PmCommand {
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
