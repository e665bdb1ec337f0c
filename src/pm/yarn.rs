//! yarn: its subcommands, `yarn dlx`, and the `yarn workspace P …` / `yarn workspaces …`
//! prefixes followed (nested, bounded).

use super::shared::{
    Flag, State, flags_and_positionals, install_result, named_run, skip_flags, tool_result,
    words_result,
};
use super::{EnvAssignment, PmCommand};

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

pub(super) fn yarn(args: &[String], env: &[EnvAssignment]) -> PmCommand {
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
