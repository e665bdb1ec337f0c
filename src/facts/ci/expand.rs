//! Variable expansion of step commands (a step's and job's variables, and every combination
//! of a `matrix`, bounded, replaced in the command text), and the step driver built on it:
//! `step_runs` expands a step's commands and walks each variant into runs (`runs`).

use super::commands::{image_tool, is_health_url};
use super::runs::{Found, Walker, after_root_variable, enter, is_gitlab, make_run};
use crate::definitions::{self, Definitions};
use crate::load::nx::NxTasks;
use crate::load::package_json::Package;
use crate::model::ci::{Job, Run, Step};
use crate::shell::{self, Command};
use std::collections::HashSet;

/// The most variants one text expands to.
const MAX_VARIANTS: usize = 64;

/// Replaces the shell variable `name` (`$name` not followed by an identifier character, and
/// `${name}`) with `value`.
pub(super) fn subst_var(text: &str, name: &str, value: &str) -> String {
    let braced = format!("${{{name}}}");
    let text = text.replace(&braced, value);
    let bare = format!("${name}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(&bare) {
        let after = &rest[i + bare.len()..];
        let joined = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        out.push_str(&rest[..i]);
        out.push_str(if joined { &bare } else { value });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Substitutes matrix values (`${{ matrix.x }}`; on GitLab, `$X` of `parallel: matrix`) and
/// literal environment values into a text; one result per matrix combination (at most
/// [`MAX_VARIANTS`]), the text unchanged when nothing applies.
pub fn expand(text: &str, job: &Job, step: &Step) -> Vec<String> {
    let mut out = expand_matrix(text, job);
    for p in &mut out {
        for (k, v) in &step.env {
            // Literal values only; a value starting from the repository root
            // (`${{ github.workspace }}/web`) is literal enough for a path.
            let literal = after_root_variable(v.trim()).unwrap_or(v);
            if literal.contains('$') {
                continue;
            }
            *p = subst_var(&p.replace(&format!("${{{{ env.{k} }}}}"), v), k, v);
        }
    }
    out
}

/// The matrix part of [`expand`]: one text per combination of the matrix values it names.
pub(super) fn expand_matrix(text: &str, job: &Job) -> Vec<String> {
    let mut out = vec![text.to_string()];
    let gitlab = is_gitlab(job);
    for (k, values) in &job.matrix {
        let expr = [
            format!("${{{{ matrix.{k} }}}}"),
            format!("${{{{matrix.{k}}}}}"),
        ];
        let shell = [format!("${k}"), format!("${{{k}}}")];
        let uses = |p: &String| {
            expr.iter().any(|e| p.contains(e.as_str()))
                || (gitlab && shell.iter().any(|s| p.contains(s.as_str())))
        };
        if !out.iter().any(uses) {
            continue;
        }
        let mut next = Vec::new();
        for p in &out {
            for v in values {
                let mut q = p.clone();
                for e in &expr {
                    q = q.replace(e.as_str(), v);
                }
                if gitlab {
                    q = subst_var(&q, k, v);
                }
                next.push(q);
            }
        }
        next.truncate(MAX_VARIANTS);
        out = next;
    }
    out
}

/// The variants of a command under [`expand`]: the command itself when nothing in its words
/// refers to the matrix or a literal environment value, else one per value (duplicates
/// dropped).
pub(super) fn expand_command(c: &Command, job: &Job, step: &Step) -> Vec<Command> {
    const SEP: char = '\u{1f}';
    let mut words = vec![c.program.clone()];
    words.extend(c.args.iter().cloned());
    let joined = words.join(&SEP.to_string());
    if !joined.contains('$') {
        return vec![c.clone()];
    }
    let mut variants: Vec<Command> = Vec::new();
    let mut add = |v: Command| {
        if !variants
            .iter()
            .any(|x| x.program == v.program && x.args == v.args)
        {
            variants.push(v);
        }
    };
    let mut texts: Vec<String> = expand(&joined, job, step)
        .into_iter()
        .filter(|t| *t != joined)
        .collect();
    // A value holding several words (`run: ${{ matrix.script }}` with `yarn lint`) is split
    // into words like any command line: the expanded source text is parsed again.
    let spaced = |t: &str| {
        crate::load::github::without_expressions(t)
            .split(SEP)
            .any(|w| w.contains(char::is_whitespace))
    };
    if !spaced(&joined) && texts.iter().any(|t| spaced(t)) {
        let reparsed: Option<Vec<Vec<Command>>> = expand(&c.text, job, step)
            .iter()
            .map(|t| shell::parse_script(t, &c.loc.file, c.loc.line, c.loc.col).ok())
            .collect();
        if let Some(lists) = reparsed {
            for mut x in lists.into_iter().flatten() {
                x.loc = c.loc.clone();
                x.neutralised |= c.neutralised;
                add(x);
            }
            texts.clear();
        }
    }
    for text in texts {
        let mut parts = text.split(SEP).map(str::to_string);
        let mut v = c.clone();
        v.program = parts.next().unwrap_or_default();
        v.args = parts.collect();
        v.pm = crate::pm::classify(&v.program, &v.args, &v.env);
        add(v);
    }
    if variants.is_empty() {
        vec![c.clone()]
    } else {
        variants
    }
}

/// The runs of one step with its shell starting in `start_dir`.
pub(super) fn step_runs_in(
    job: &Job,
    step: &Step,
    (packages, nx, defs): (&[Package], &NxTasks, &Definitions),
    start_dir: &str,
    out: &mut Vec<Run>,
) -> String {
    let seq_base = job.rank * 1_000_000 + step.index * 1_000;
    let unresolved = start_dir.contains('$');
    let mut cwd = start_dir.to_string();
    for (ci, c) in step.commands.iter().enumerate() {
        if c.program == "cd" {
            if let Some(d) = c.args.first() {
                cwd = enter(&cwd, d);
            }
            continue;
        }
        let mut w = Walker {
            packages,
            nx,
            visited: HashSet::new(),
            out: Vec::new(),
        };
        for v in expand_command(c, job, step) {
            w.command(&v, &cwd, unresolved || cwd.contains('$'), 0);
        }
        let gating = step.gating && !c.neutralised;
        for f in w.out {
            out.push(make_run(
                (job, step),
                f,
                gating,
                c.loc.clone(),
                seq_base + ci as i64,
                defs,
            ));
        }
    }
    cwd
}

/// Returns the directory the step's shell ends in.
pub(super) fn step_runs(
    job: &Job,
    step: &Step,
    (packages, nx, defs): (&[Package], &NxTasks, &Definitions),
    start_dir: &str,
    out: &mut Vec<Run>,
) -> String {
    let seq_base = job.rank * 1_000_000 + step.index * 1_000;
    if !step.uses.is_empty() {
        let lower = step.uses.to_ascii_lowercase();
        let mut ops = Vec::new();
        if definitions::names_match(&defs.backup_scripts, &lower) {
            ops.push("backup".to_string());
        }
        if step
            .with
            .iter()
            .any(|(k, v)| k.contains("url") && is_health_url(v, defs))
        {
            ops.push("health".to_string());
        }
        if lower.ends_with("/build-push-action")
            || lower == "build-push-action"
            || lower.ends_with("/bake-action")
        {
            ops.push("image_build".to_string());
        }
        out.push(Run {
            kind: "action".to_string(),
            invocation: step.uses.clone(),
            name: step.uses.clone(),
            args: step.with.values().cloned().collect(),
            program: step.uses.clone(),
            explicit: false,
            level: String::new(),
            ops,
            seq: seq_base,
            defined: true,
            package_dir: String::new(),
            job: job.key.clone(),
            job_id: job.id.clone(),
            pre_merge: job.is_pre_merge,
            gating: step.gating,
            loc: step.loc.clone(),
        });
        // `uses: docker://IMAGE` with `args:` runs the image's tool, as `docker run` does.
        if let Some(tool) = step.uses.strip_prefix("docker://").and_then(image_tool) {
            let args: Vec<String> = step
                .with
                .get("args")
                .map(|a| a.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            out.push(make_run(
                (job, step),
                Found {
                    kind: "tool",
                    name: tool.clone(),
                    program: tool,
                    args,
                    explicit: false,
                    defined: true,
                    package_dir: String::new(),
                    level: String::new(),
                },
                step.gating,
                step.loc.clone(),
                seq_base,
                defs,
            ));
        }
        return start_dir.to_string();
    }
    // `${{ matrix.x }}`, `${{ env.X }}`, `$X`: each literal value the path can take.
    let dirs = expand(start_dir, job, step);
    if dirs.len() > 1 {
        let mut end = start_dir.to_string();
        for d in dirs {
            end = step_runs_in(job, step, (packages, nx, defs), &d, out);
        }
        return end;
    }
    step_runs_in(
        job,
        step,
        (packages, nx, defs),
        dirs.first().map_or(start_dir, String::as_str),
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_variables_are_replaced_whole() {
        assert_eq!(subst_var("npm run $TASK", "TASK", "lint"), "npm run lint");
        assert_eq!(subst_var("run ${TASK}:ci", "TASK", "lint"), "run lint:ci");
        assert_eq!(
            subst_var("$TASK_NAME ${TASK_NAME} $TASK.", "TASK", "x"),
            "$TASK_NAME ${TASK_NAME} x."
        );
        assert_eq!(subst_var("$TASK$TASK", "TASK", "a"), "aa");
    }
}
