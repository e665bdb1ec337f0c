//! bun and bunx: bun's subcommands and tool runs.

use super::shared::{
    Flag, State, flags_and_positionals, install_result, named_run, skip_flags, tool_result,
    words_result,
};
use super::{EnvAssignment, PmCommand};

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

pub(super) const BUNX_VALUE_FLAGS: &[&str] = &["p", "package"];

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

pub(super) fn bun(args: &[String], env: &[EnvAssignment]) -> PmCommand {
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
