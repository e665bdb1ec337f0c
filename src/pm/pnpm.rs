//! pnpm: its subcommands, `pnpm dlx`, and built-in script subcommands (`pnpm test`).

use super::shared::{
    Flag, State, flags_and_positionals, install_result, named_run, passthrough, skip_flags,
    tool_result, words_result,
};
use super::{EnvAssignment, PmCommand};

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

pub(super) const PNPM_DLX_VALUE_FLAGS: &[&str] = &["package", "reporter", "loglevel", "C", "dir"];

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

pub(super) fn pnpm(args: &[String], env: &[EnvAssignment]) -> PmCommand {
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

/// A built-in script subcommand (`pnpm test`): all later words go to the script.
fn fixed_script(st: State, manager: &str, name: &str, args: &[String], from: usize) -> PmCommand {
    let mut out = st.result(manager, "script");
    out.script = Some(name.to_string());
    out.args = passthrough(args.get(from..).unwrap_or_default());
    out
}
