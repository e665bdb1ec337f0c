//! Wrappers (`env`, `sudo`, `time`, `nohup`, ...) looked through, their assignments joined to
//! the environment, and the script of `bash -c`/`sh -c`.

use super::MAX_WRAPPERS;
use super::words::{base_name, split_assignment};
use crate::pm::EnvAssignment;

/// Skips the options of a wrapper starting at `argv[i]`: short options whose letter is in
/// `short_values` and long options in `long_values` take a value (attached or as the next
/// word). Returns the index of the first non-option word.
fn skip_options(argv: &[String], mut i: usize, short_values: &str, long_values: &[&str]) -> usize {
    while let Some(word) = argv.get(i) {
        if word == "--" {
            return i + 1;
        }
        if let Some(long) = word.strip_prefix("--") {
            let takes_value = !long.contains('=') && long_values.contains(&long);
            i += if takes_value { 2 } else { 1 };
            continue;
        }
        let Some(cluster) = word.strip_prefix('-').filter(|c| !c.is_empty()) else {
            return i;
        };
        let mut extra = 0;
        for (k, c) in cluster.char_indices() {
            if short_values.contains(c) {
                if k + c.len_utf8() == cluster.len() {
                    extra = 1;
                }
                break;
            }
        }
        i += 1 + extra;
    }
    i
}

/// Collects `NAME=value` words starting at `argv[i]`; returns the index after them.
fn take_assignments(argv: &[String], mut i: usize, env: &mut Vec<EnvAssignment>) -> usize {
    while let Some(a) = argv.get(i).and_then(|w| split_assignment(w)) {
        env.push(a);
        i += 1;
    }
    i
}

/// Looks through command wrappers: returns the index of the program actually run and the
/// assignments given to `env`/`sudo` on the way. A wrapper with no command after it is
/// itself the program.
pub(super) fn unwrap_wrappers(argv: &[String]) -> (usize, Vec<EnvAssignment>) {
    let mut i = 0;
    let mut env = Vec::new();
    for _ in 0..MAX_WRAPPERS {
        let Some(word) = argv.get(i) else { break };
        let mut added = Vec::new();
        let next = match base_name(word) {
            "sudo" => {
                let j = skip_options(
                    argv,
                    i + 1,
                    "ugCDprtUT",
                    &[
                        "user",
                        "group",
                        "chdir",
                        "prompt",
                        "role",
                        "type",
                        "other-user",
                        "command-timeout",
                        "close-from",
                        "host",
                    ],
                );
                take_assignments(argv, j, &mut added)
            }
            "env" => {
                let j = skip_options(argv, i + 1, "uCSP", &["unset", "chdir", "split-string"]);
                take_assignments(argv, j, &mut added)
            }
            "time" => skip_options(argv, i + 1, "of", &["output", "format"]),
            "exec" => skip_options(argv, i + 1, "a", &[]),
            "nice" => skip_options(argv, i + 1, "n", &["adjustment"]),
            "nohup" => skip_options(argv, i + 1, "", &[]),
            "timeout" => skip_options(argv, i + 1, "sk", &["signal", "kill-after"]) + 1,
            // Environment loaders of the Node ecosystem: `cross-env A=1 cmd`,
            // `dotenv -e .env.ci -- cmd`, `env-cmd -f .env cmd`; also through `npx`.
            "cross-env" => take_assignments(argv, i + 1, &mut added),
            "dotenv" | "dotenv-cli" => skip_options(argv, i + 1, "ecvp", &[]),
            "env-cmd" => skip_options(argv, i + 1, "fer", &["file", "environments"]),
            "npx"
                if argv.get(i + 1..).is_some_and(|rest| {
                    rest.iter().find(|w| !w.starts_with('-')).is_some_and(|w| {
                        matches!(
                            base_name(w),
                            "cross-env" | "dotenv" | "dotenv-cli" | "env-cmd"
                        )
                    })
                }) =>
            {
                skip_options(argv, i + 1, "p", &["package"])
            }
            _ => break,
        };
        if next >= argv.len() {
            break;
        }
        env.extend(added);
        i = next;
    }
    (i, env)
}

/// For `bash -c SCRIPT …` (also `sh`, `dash`, `zsh`, `ksh`; options such as `-lc`, `-ec`,
/// `-o pipefail -c`), the script argument.
pub(super) fn shell_c_script<'a>(program: &str, args: &'a [String]) -> Option<&'a str> {
    if !matches!(
        base_name(program),
        "bash" | "sh" | "dash" | "zsh" | "ksh" | "ash" | "mksh"
    ) {
        return None;
    }
    let mut has_c = false;
    let mut j = 0;
    while let Some(a) = args.get(j) {
        if a == "--" || a == "-" {
            j += 1;
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            j += if matches!(long, "rcfile" | "init-file") {
                2
            } else {
                1
            };
            continue;
        }
        let flags = a.strip_prefix('-').or_else(|| a.strip_prefix('+'));
        match flags {
            Some(flags) if !flags.is_empty() => {
                if a.starts_with('-') && flags.contains('c') {
                    has_c = true;
                }
                j += if flags.contains(['o', 'O']) { 2 } else { 1 };
            }
            _ => break,
        }
    }
    if has_c {
        args.get(j).map(String::as_str)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::location::Location;
    use crate::shell::tests::{argvs, neutralised, on_small_stack, pairs, parse};
    use crate::shell::{MAX_FRAGMENT_DEPTH, MAX_NESTING, parse_script};

    #[test]
    fn shell_c_scripts_are_parsed_in_place_of_the_wrapper() {
        let commands = parse_script(
            "echo start\nbash -c \"npm run lint && npm test\"",
            "ci.yml",
            3,
            1,
        )
        .unwrap_or_default();
        assert_eq!(argvs(&commands), ["echo start", "npm run lint", "npm test"]);
        let wrapper = Location {
            file: "ci.yml".into(),
            line: 4,
            col: 1,
            end_line: 4,
            end_col: 35,
        };
        assert_eq!(commands[1].loc, wrapper);
        assert_eq!(commands[2].loc, wrapper);
        assert_eq!(commands[1].text, "npm run lint");

        for script in [
            "sh -c 'npm ci'",
            "bash -lc 'npm ci'",
            "sh -ec \"npm ci\"",
            "bash -e -o pipefail -c 'npm ci' name",
            "/bin/bash --noprofile --norc -c 'npm ci'",
            "sudo -E bash -c 'npm ci'",
        ] {
            assert_eq!(argvs(&parse(script)), ["npm ci"], "{script}");
        }
        // Not a `-c` script: the shell itself is the command.
        assert_eq!(argvs(&parse("bash ./ci.sh")), ["bash ./ci.sh"]);
        assert_eq!(argvs(&parse("bash -c")), ["bash -c"]);
        // An unparsable or empty script keeps the wrapper.
        assert_eq!(argvs(&parse("bash -c 'echo \"'")), ["bash -c echo \""]);
        assert_eq!(argvs(&parse("bash -c ''")), ["bash -c "]);
    }

    #[test]
    fn shell_c_scripts_inherit_neutralisation_and_environment() {
        assert_eq!(
            neutralised("bash -c 'npm test' || true"),
            pairs(&[("npm test", true), ("true", true)])
        );
        assert_eq!(
            neutralised("bash -c 'npm run lint || true; npm test'"),
            pairs(&[("npm run lint", true), ("true", true), ("npm test", false)])
        );
        let commands = parse("NODE_ENV=production bash -c 'npm ci'");
        assert_eq!(commands[0].env.len(), 1);
        let prod = commands[0]
            .pm
            .as_ref()
            .and_then(|p| p.install.as_ref())
            .map(|i| i.prod_only);
        assert_eq!(prod, Some(true));
    }

    #[test]
    fn wrappers_are_looked_through() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("sudo npm ci", "npm", &["ci"]),
            ("sudo -E npm ci", "npm", &["ci"]),
            ("sudo -u node -H npm ci", "npm", &["ci"]),
            ("sudo -unode npm ci", "npm", &["ci"]),
            ("sudo --user=node -- npm ci", "npm", &["ci"]),
            ("env npm ci", "npm", &["ci"]),
            ("env -i PATH=/bin npm ci", "npm", &["ci"]),
            ("/usr/bin/env -u HOME npm ci", "npm", &["ci"]),
            ("time npm test", "npm", &["test"]),
            ("/usr/bin/time -v -o t.txt npm test", "npm", &["test"]),
            ("exec npm start", "npm", &["start"]),
            ("exec -a name npm start", "npm", &["start"]),
            ("nice -n 10 npm ci", "npm", &["ci"]),
            ("nice -10 npm ci", "npm", &["ci"]),
            ("nohup npm start", "npm", &["start"]),
            ("timeout 10m npm test", "npm", &["test"]),
            ("timeout -s KILL 10m npm test", "npm", &["test"]),
            ("sudo env FOO=1 nice npm ci", "npm", &["ci"]),
            ("xargs npm install", "xargs", &["npm", "install"]),
            ("env", "env", &[]),
            ("sudo -l", "sudo", &["-l"]),
            ("env FOO=1", "env", &["FOO=1"]),
            ("cross-env NODE_ENV=test yarn lint", "yarn", &["lint"]),
            (
                "dotenv -e .env.ci -- yarn workspace w lint",
                "yarn",
                &["workspace", "w", "lint"],
            ),
            ("env-cmd -f .env npm test", "npm", &["test"]),
            (
                "npx --yes cross-env A=1 npm run lint",
                "npm",
                &["run", "lint"],
            ),
            (
                "npx prettier --check .",
                "npx",
                &["prettier", "--check", "."],
            ),
            (
                "./scripts/backup.sh --now",
                "./scripts/backup.sh",
                &["--now"],
            ),
        ];
        for (script, program, args) in cases {
            let commands = parse(script);
            assert_eq!(commands.len(), 1, "{script}");
            assert_eq!(commands[0].program, *program, "{script}");
            assert_eq!(commands[0].args, *args, "{script}");
            // `time` is a bash keyword: the parser takes it off the command.
            let written = script.strip_prefix("time ").unwrap_or(script);
            assert_eq!(commands[0].argv.join(" "), written, "{script}");
        }
    }

    #[test]
    fn wrapper_assignments_join_the_environment() {
        let commands = parse("NODE_ENV=production sudo -E env A=1 B=\"x y\" npm ci");
        let env: Vec<(String, String)> = commands[0]
            .env
            .iter()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect();
        assert_eq!(
            env,
            [
                ("NODE_ENV".to_string(), "production".to_string()),
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "x y".to_string()),
            ]
        );
        assert_eq!(
            commands[0].argv,
            ["sudo", "-E", "env", "A=1", "B=x y", "npm", "ci"]
        );
        let prod = commands[0]
            .pm
            .as_ref()
            .and_then(|p| p.install.as_ref())
            .map(|i| i.prod_only);
        assert_eq!(prod, Some(true));
        let quoted = parse("FOO=\"a b\" BAR=${{ secrets.X }} make");
        assert_eq!(quoted[0].env[0].value, "a b");
        assert_eq!(quoted[0].env[1].value, "${{ secrets.X }}");
        assert_eq!(quoted[0].text, "FOO=\"a b\" BAR=${{ secrets.X }} make");
    }

    #[test]
    fn deeply_nested_shell_c_scripts_stay_within_the_stack() {
        let mut script = "npm ci".to_string();
        for _ in 0..=MAX_FRAGMENT_DEPTH + 1 {
            let quoted = format!("'{}'", script.replace('\'', r"'\''"));
            script = format!(
                "{}bash -c {quoted} || true{}",
                "if true; then ".repeat(MAX_NESTING - 2),
                "; fi".repeat(MAX_NESTING - 2)
            );
        }
        let result = on_small_stack(move || parse_script(&script, "f", 1, 1));
        let commands = result.unwrap_or_default();
        // Each level gives its `true`s; the level past the limit stays a `bash -c` command.
        assert_eq!(
            commands.len(),
            (MAX_FRAGMENT_DEPTH + 1) * (MAX_NESTING - 1) + 1
        );
        assert_eq!(commands.iter().filter(|c| c.program == "bash").count(), 1);
        assert!(
            commands
                .iter()
                .all(|c| c.neutralised || c.program == "true")
        );
    }
}
