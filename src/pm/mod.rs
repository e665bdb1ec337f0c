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

mod bun;
mod npm;
mod pnpm;
mod runners;
mod shared;
mod yarn;

pub use runners::runner_tasks;

use bun::{BUNX_VALUE_FLAGS, bun};
use npm::{npm, npx};
use pnpm::{PNPM_DLX_VALUE_FLAGS, pnpm};
use shared::{base_name, runner};
use yarn::yarn;

/// One `NAME=value` environment assignment that applies to a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pm::shared::strip_version;

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
