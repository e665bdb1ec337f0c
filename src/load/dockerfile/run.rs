//! `RUN` instructions: their scripts (shell and exec form, heredocs, the escape directive)
//! parsed into shell commands, and what those commands do to the stage: full dependency
//! installs, builds, prunes, `rm -rf` of installs and production-only deploy directories.

use super::Builder;
use super::vars::{is_within, join_path};
use crate::location::Location;
use crate::model::dockerfile::{DevSource, Run};
use crate::shell::{self, Command};
use parse_dockerfile::Command as DfCommand;

impl Builder<'_> {
    pub(super) fn run(&mut self, r: &parse_dockerfile::RunInstruction<'_>, loc: Location) {
        let mut commands: Vec<Command> = Vec::new();
        let mut heredoc = false;
        let mut exec_form = false;
        // Why a script of the instruction could not be analysed (the first reason).
        let mut unanalysed = String::new();
        let mut note = |e: shell::ShellError| {
            if unanalysed.is_empty() {
                unanalysed = e.to_string();
            }
        };
        match &r.arguments {
            DfCommand::Exec(words) => {
                exec_form = true;
                let argv: Vec<String> = words.value.iter().map(|w| w.value.to_string()).collect();
                let wloc = self.loc(words.span.start, words.span.end);
                // `["sh", "-c", "script"]` runs a script; anything else is one command.
                if argv.len() == 3
                    && is_shell(&argv[0])
                    && argv[1].starts_with('-')
                    && argv[1].contains('c')
                {
                    match shell::parse_script(&argv[2], self.rel, wloc.line, wloc.col) {
                        Ok(cmds) => commands = cmds,
                        Err(e) => note(e),
                    }
                } else {
                    let script = argv
                        .iter()
                        .map(|a| crate::shell::quote_word(a))
                        .collect::<Vec<_>>()
                        .join(" ");
                    match shell::parse_script(&script, self.rel, wloc.line, wloc.col) {
                        Ok(mut cmds) => {
                            for c in &mut cmds {
                                c.loc = wloc.clone();
                            }
                            commands = cmds;
                        }
                        Err(e) => note(e),
                    }
                }
            }
            DfCommand::Shell(s) => {
                let script_text = s.value;
                let marker_only = is_heredoc_runner(script_text);
                if !r.here_docs.is_empty() && marker_only {
                    heredoc = true;
                    for h in &r.here_docs {
                        let (line, col) = self.idx.line_col(self.text, h.span.start);
                        match shell::parse_script(&h.value, self.rel, line, col) {
                            Ok(cmds) => commands.extend(cmds),
                            Err(e) => note(e),
                        }
                    }
                } else {
                    let script = if self.escape == '\\' {
                        script_text.to_string()
                    } else {
                        script_text.replace(&format!("{}\n", self.escape), "\\\n")
                    };
                    let (line, col) = self.idx.line_col(self.text, s.span.start);
                    match shell::parse_script(&script, self.rel, line, col) {
                        Ok(cmds) => commands = cmds,
                        Err(e) => note(e),
                    }
                }
            }
            _ => {}
        }
        let Some(stage) = self.stages.last_mut() else {
            return;
        };
        let node_env_prod = stage
            .inherited_envs
            .iter()
            .chain(&stage.envs)
            .rfind(|e| e.name == "NODE_ENV")
            .is_some_and(|e| e.value.trim() == "production");
        let mut cwd = stage.workdir.clone();
        for c in &commands {
            if runs_node(&c.program) || c.pm.is_some() {
                stage.is_node = true;
            }
            if c.program == "cd" {
                if let Some(d) = c.args.first() {
                    cwd = join_path(&cwd, d);
                }
                continue;
            }
            if is_full_install(c) && !node_env_prod {
                stage.runs_full_install = true;
                stage.is_full_install = true;
                if !stage.install_dirs.contains(&cwd) {
                    stage.install_dirs.push(cwd.clone());
                }
                stage.dev_dependency_sources.push(DevSource {
                    kind: "run".to_string(),
                    detail: format!("runs `{}`, which installs dev dependencies", c.text.trim()),
                    loc: loc.clone(),
                });
            }
            if is_build(c) {
                stage.runs_build = true;
                if stage.is_full_install {
                    stage.installs_then_builds = true;
                }
            }
            if is_prune(c) || (node_env_prod && is_full_install(c)) {
                // A prune removes the dev dependencies that came before it in this stage, in
                // the directory it runs in: `cd dist/server && npm ci --omit=dev` leaves the
                // full install of the working directory as it was.
                let modules = join_path(&cwd, "node_modules");
                stage.install_dirs.retain(|d| *d != cwd && *d != modules);
                if stage.install_dirs.is_empty() {
                    stage.dev_dependency_sources.clear();
                    stage.is_full_install = false;
                }
            }
            let removed = removed_paths(c, &cwd);
            if !removed.is_empty() && !stage.install_dirs.is_empty() {
                // `rm -rf node_modules` (or a directory holding it) after the install leaves
                // no dependencies there to ship.
                stage.install_dirs.retain(|d| {
                    !removed
                        .iter()
                        .any(|r| is_within(d, r) || join_path(d, "node_modules") == *r)
                });
                if stage.install_dirs.is_empty() {
                    stage.dev_dependency_sources.clear();
                    stage.is_full_install = false;
                }
            }
            if let Some(dir) = prod_deploy_dir(c) {
                let dir = join_path(&cwd, &dir);
                if !stage.prod_dirs.contains(&dir) {
                    stage.prod_dirs.push(dir);
                }
            }
        }
        stage.commands.extend(commands.iter().cloned());
        stage.runs.push(Run {
            loc,
            heredoc,
            exec_form,
            commands,
            unanalysed,
        });
    }
}

/// Whether `RUN <text> <<EOF` only feeds its heredocs to a shell. The parser removes the
/// `<<EOF` markers, so the text is empty (`RUN <<EOF`) or a shell with flags
/// (`RUN bash -e <<EOF`).
fn is_heredoc_runner(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.is_empty()
        || (is_shell(words[0]) && words[1..].iter().all(|w| w.starts_with('-') && *w != "-c"))
}

fn is_shell(program: &str) -> bool {
    let base = program.rsplit('/').next().unwrap_or(program);
    matches!(base, "sh" | "bash" | "ash" | "dash" | "zsh")
}

/// Whether `program` is Node.js or a Node package manager (`node`, `npm`, `npx`, `yarn`,
/// `pnpm`, `bun`, `bunx`, `corepack`), by base name.
pub(super) fn runs_node(program: &str) -> bool {
    let base = program.rsplit('/').next().unwrap_or(program);
    matches!(
        base,
        "node"
            | "nodejs"
            | "npm"
            | "npx"
            | "yarn"
            | "yarnpkg"
            | "pnpm"
            | "pnpx"
            | "bun"
            | "bunx"
            | "corepack"
            | "deno"
    )
}

/// A dependency install of the project's dependencies without production-only flags.
pub fn is_full_install(c: &Command) -> bool {
    c.pm.as_ref().is_some_and(|pm| {
        pm.action == "install"
            && pm
                .install
                .as_ref()
                .is_some_and(|i| !i.prod_only && !i.global && !i.adds_packages)
    })
}

/// A build: script `build` or `build:*` (also as a task of a task runner: `turbo run build`,
/// `nx run-many -t build`, `lerna run build`), `medusa build`, `tsc`, `nest build` (directly
/// or through `npx`/`pnpm exec`/`yarn <bin>`).
pub fn is_build(c: &Command) -> bool {
    if let Some(pm) = &c.pm {
        return match pm.action.as_str() {
            "script" | "short" => pm
                .script
                .as_deref()
                .is_some_and(|n| is_build_script(n) || is_build_tool(n, &pm.args)),
            "tool" => pm
                .tool
                .as_deref()
                .is_some_and(|n| is_build_tool(n, &pm.args)),
            _ => false,
        };
    }
    let base = c.program.rsplit('/').next().unwrap_or(&c.program);
    is_build_tool(base, &c.args)
}

/// Whether a package script name is a build: `build` or `build:*`.
pub fn is_build_script(name: &str) -> bool {
    name == "build" || name.starts_with("build:")
}

/// Whether a binary run is a build: `tsc`, `medusa build`, `nest build`, or a task runner
/// (`turbo`, `nx`, `lerna`) running a build task.
pub fn is_build_tool(name: &str, args: &[String]) -> bool {
    match name {
        "tsc" => true,
        "medusa" | "nest" => args.first().map(String::as_str) == Some("build"),
        "turbo" | "nx" | "lerna" => crate::pm::runner_tasks(name, args)
            .iter()
            .any(|t| is_build_script(t)),
        _ => false,
    }
}

/// A prune of dev dependencies (`npm prune --omit=dev`, `pnpm prune --prod`), or a
/// production-only install of the project's dependencies (`npm ci --omit=dev`,
/// `pnpm install --prod`, `yarn install --production`, `yarn workspaces focus --production`):
/// run after a full install in the same stage, it removes the dev dependencies.
pub fn is_prune(c: &Command) -> bool {
    c.pm.as_ref().is_some_and(|pm| {
        pm.install.as_ref().is_some_and(|i| {
            i.prod_only
                && match pm.action.as_str() {
                    "prune" => true,
                    "install" => !i.global && !i.adds_packages,
                    _ => false,
                }
        })
    })
}

/// The paths `rm -r`/`rm -rf` removes, made absolute against `cwd` (empty for any other
/// command, and for paths that hold a variable or a glob).
fn removed_paths(c: &Command, cwd: &str) -> Vec<String> {
    let base = c.program.rsplit('/').next().unwrap_or(&c.program);
    if base != "rm" {
        return Vec::new();
    }
    let mut recursive = false;
    let mut paths = Vec::new();
    let mut flags_done = false;
    for a in &c.args {
        if !flags_done && a == "--" {
            flags_done = true;
        } else if !flags_done && a.starts_with("--") {
            recursive |= a == "--recursive";
        } else if !flags_done && a.starts_with('-') && a.len() > 1 {
            recursive |= a.contains(['r', 'R']);
        } else if !a.contains(['$', '*', '?', '[']) {
            paths.push(join_path(cwd, a));
        }
    }
    if recursive { paths } else { Vec::new() }
}

/// The output directory of `pnpm deploy --prod DIR` (also `pnpm --filter X deploy --prod
/// DIR`), which holds production dependencies only.
fn prod_deploy_dir(c: &Command) -> Option<String> {
    let pm = c.pm.as_ref()?;
    let prod = pm.install.as_ref().is_some_and(|i| i.prod_only);
    (pm.action == "deploy" && prod)
        .then(|| pm.args.first().cloned())
        .flatten()
        .filter(|d| !d.contains('$'))
}
