//! A job's steps: `run:` scripts parsed at their own lines (reusable-workflow inputs
//! substituted, `${{ }}` expressions kept as literal text, and of a non-POSIX shell's script
//! only the lines that are simple commands), and local composite actions followed.

use super::Ctx;
use super::triggers::is_true;
use crate::load::LoadError;
use crate::load::ytree::YNode;
use crate::model::ci::{External, Step};
use crate::shell;
use std::collections::BTreeMap;

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn steps(
        &mut self,
        inherited_env: &BTreeMap<String, String>,
        file: &str,
        text: &str,
        list: &YNode,
        job_allows_failure: bool,
        out: &mut Vec<Step>,
        depth: usize,
    ) {
        // Directories that earlier `actions/checkout` steps with `path:` fill at run time.
        let mut checked_out: Vec<String> = Vec::new();
        for item in list.items() {
            if let Some(uses) = item.get("uses").and_then(YNode::as_str)
                && uses.starts_with("actions/checkout@")
                && let Some(path) = item
                    .get("with")
                    .and_then(|w| w.get("path"))
                    .and_then(YNode::as_str)
            {
                checked_out.push(
                    path.trim_start_matches("./")
                        .trim_end_matches('/')
                        .to_string(),
                );
            }
            let continue_on_error = item.get("continue-on-error").is_some_and(is_true);
            let gating = !continue_on_error && !job_allows_failure;
            let name = item.get("name").and_then(YNode::as_str).unwrap_or_default();
            let mut env: BTreeMap<String, String> = inherited_env.clone();
            let own: BTreeMap<String, String> =
                item.get("env").map(YNode::string_map).unwrap_or_default();
            env.extend(own);
            let working_directory = item
                .get("working-directory")
                .and_then(YNode::as_str)
                .map_or_else(
                    || self.default_dir.clone(),
                    |d| with_inputs(&d, &self.inputs),
                );
            if let Some(uses_node) = item.get("uses") {
                let uses = uses_node.as_str().unwrap_or_default();
                let at = uses_node.loc(file);
                if let Some(local) = uses.strip_prefix("./") {
                    // A local composite action: its steps count as this job's.
                    let dir = local.trim_end_matches('/');
                    if let Err(e) = self.root.resolve(dir)
                        && e.outside
                    {
                        self.out.errors.push(e.referenced_from(&at));
                        continue;
                    }
                    // `uses: ./` is the action at the repository root.
                    let prefix = if dir.is_empty() {
                        String::new()
                    } else {
                        format!("{dir}/")
                    };
                    let candidates = [
                        format!("{prefix}action.yml"),
                        format!("{prefix}action.yaml"),
                    ];
                    let Some(target) = candidates.iter().find(|c| self.root.is_file(c)).cloned()
                    else {
                        // An earlier checkout step fills this directory at run time: the
                        // action is not in the repository to check (a note, not an error).
                        if checked_out.iter().any(|p| {
                            !p.is_empty() && (dir == p || dir.starts_with(&format!("{p}/")))
                        }) {
                            self.out.external.push(External {
                                kind: "checkout".to_string(),
                                target: uses.to_string(),
                                loc: at,
                            });
                            continue;
                        }
                        self.out.errors.push(LoadError {
                            message: format!("{file}: local action {uses} has no action.yml"),
                            loc: at,
                            outside: false,
                        });
                        continue;
                    };
                    let Some(opened) = self.open_local(file, "local action", &target, &at, depth)
                    else {
                        continue;
                    };
                    let (inner_text, docs) = (&opened.0, &opened.1);
                    if let Some(inner) = docs
                        .first()
                        .and_then(|d| d.get("runs"))
                        .and_then(|r| r.get("steps"))
                    {
                        self.stack.push(target.clone());
                        self.steps(
                            inherited_env,
                            &target,
                            inner_text,
                            inner,
                            !gating,
                            out,
                            depth + 1,
                        );
                        self.stack.pop();
                    }
                    continue;
                }
                let (action, uses_ref) = match uses.split_once('@') {
                    Some((a, r)) => (a.to_string(), r.to_string()),
                    None => (uses.clone(), String::new()),
                };
                if !uses.starts_with("docker://") {
                    self.out.external.push(External {
                        kind: "action".to_string(),
                        target: uses.clone(),
                        loc: at.clone(),
                    });
                }
                let mut with = BTreeMap::new();
                let mut with_locs = BTreeMap::new();
                if let Some(w) = item.get("with") {
                    for (k, v) in w.entries() {
                        if let Some(k_s) = k.as_str() {
                            let value = v.as_str().unwrap_or_default();
                            with.insert(k_s.clone(), with_inputs(&value, &self.inputs));
                            with_locs.insert(k_s, k.loc(file));
                        }
                    }
                }
                out.push(Step {
                    job: String::new(),
                    index: 0,
                    name,
                    id: item.get("id").and_then(YNode::as_str).unwrap_or_default(),
                    uses: action,
                    uses_ref,
                    with,
                    with_locs,
                    run: String::new(),
                    working_directory,
                    continue_on_error,
                    gating,
                    env,
                    commands: Vec::new(),
                    unanalysed: String::new(),
                    loc: at,
                });
                continue;
            }
            let Some(run_node) = item.get("run") else {
                continue;
            };
            let run = run_node.as_str().unwrap_or_default();
            let line_text = self.line_text(file, text, run_node.line);
            let shell_name = item
                .get("shell")
                .and_then(YNode::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let (mut commands, unanalysed) = if is_posix_shell(&shell_name) {
                match script_commands(file, line_text, run_node, &run) {
                    Ok(c) => (c, String::new()),
                    Err(e) => (Vec::new(), e.to_string()),
                }
            } else {
                // PowerShell and cmd scripts are not shell: their lines that read as simple
                // commands (`pnpm install`, `npm run lint`) are kept, the rest (blocks,
                // cmdlets with script blocks) is left out without a warning.
                let simple = simple_command_lines(&run);
                (
                    script_commands(file, line_text, run_node, &simple).unwrap_or_default(),
                    String::new(),
                )
            };
            if !self.inputs.is_empty() {
                for c in &mut commands {
                    substitute_inputs(c, &self.inputs);
                }
            }
            out.push(Step {
                job: String::new(),
                index: 0,
                name,
                id: item.get("id").and_then(YNode::as_str).unwrap_or_default(),
                uses: String::new(),
                uses_ref: String::new(),
                with: BTreeMap::new(),
                with_locs: BTreeMap::new(),
                run,
                working_directory,
                continue_on_error,
                gating,
                env,
                commands,
                unanalysed,
                loc: run_node.loc(file),
            });
        }
    }
}

/// `text` with `${{ inputs.X }}` replaced by the literal value of input X, where known.
pub(super) fn with_inputs(text: &str, inputs: &BTreeMap<String, String>) -> String {
    if !text.contains("inputs.") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        let Some(j) = rest[i..].find("}}") else { break };
        out.push_str(&rest[..i]);
        let expr = &rest[i + 3..i + j];
        match input_value(expr, inputs) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..i + j + 2]),
        }
        rest = &rest[i + j + 2..];
    }
    out.push_str(rest);
    out
}

/// The value of an expression made of known inputs and literals joined by `||` (the default
/// idiom `inputs.dir || '.'`): the first non-empty alternative. `None` when an alternative is
/// anything else or names an input whose value is not known.
fn input_value(expr: &str, inputs: &BTreeMap<String, String>) -> Option<String> {
    for alt in expr.split("||").map(str::trim) {
        let value = if let Some(name) = alt.strip_prefix("inputs.") {
            inputs.get(name)?.clone()
        } else if alt.len() >= 2
            && ((alt.starts_with('\'') && alt.ends_with('\''))
                || (alt.starts_with('"') && alt.ends_with('"')))
        {
            alt[1..alt.len() - 1].to_string()
        } else {
            return None;
        };
        if !value.is_empty() {
            return Some(value);
        }
    }
    Some(String::new())
}

/// A command with the known inputs substituted in its words (its package-manager reading
/// redone).
fn substitute_inputs(c: &mut shell::Command, inputs: &BTreeMap<String, String>) {
    let before = (c.program.clone(), c.args.clone());
    c.program = with_inputs(&c.program, inputs);
    for a in c.args.iter_mut().chain(c.argv.iter_mut()) {
        *a = with_inputs(a, inputs);
    }
    if (c.program.as_str(), &c.args) != (before.0.as_str(), &before.1) {
        c.pm = crate::pm::classify(&c.program, &c.args, &c.env);
    }
}

/// The commands of a `run:` script; `line_text` is the text of the line its value starts on.
fn script_commands(
    file: &str,
    line_text: &str,
    node: &YNode,
    run: &str,
) -> Result<Vec<shell::Command>, shell::ShellError> {
    let at: String = line_text
        .chars()
        .skip(node.col.saturating_sub(1) as usize)
        .take(1)
        .collect();
    let col = if at == "\"" || at == "'" {
        node.col + 1
    } else {
        node.col
    };
    shell::parse_script(run, file, node.line, col)
}

/// `text` without its `${{ ... }}` expressions (an unclosed one runs to the end).
pub fn without_expressions(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        match rest[i..].find("}}") {
            Some(j) => rest = &rest[i + j + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Whether a step's `shell:` runs a POSIX shell script (`bash`, `sh`, a custom `bash {0}`, or
/// the default); `pwsh`, `powershell`, `cmd` and `python` do not.
fn is_posix_shell(shell: &str) -> bool {
    let program = shell.split_whitespace().next().unwrap_or("");
    !matches!(program, "pwsh" | "powershell" | "cmd" | "python")
}

/// A non-POSIX script with each line that is not a simple command on its own blanked (line
/// positions kept): what remains parses as shell.
fn simple_command_lines(script: &str) -> String {
    script
        .lines()
        .map(|l| {
            // `${{ ... }}` expressions are GitHub's, not the script's: they do not count.
            let bare = without_expressions(l);
            let simple = !l.trim().is_empty()
                && !bare.contains(['{', '}', '$', '|', '`', '(', ')', ';'])
                && shell::parse_script(l, "", 1, 1).is_ok();
            if simple { l } else { "" }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
