//! Dockerfile loader: parses with `parse-dockerfile` (heredocs, escape directive,
//! continuations) and builds [`crate::model::dockerfile::Dockerfile`]: ARG substitution in
//! `FROM`/`USER`, stage links, `RUN` scripts parsed into shell commands, and the install /
//! build / prune facts of each stage.
//!
//! This module owns the entry point ([`load`], [`set_targets`]), the builder that walks the
//! instructions in order and the instruction spans. Its children: `stages` (`FROM`
//! resolution and stage inheritance, `COPY`/`ADD` between stages), `run` (`RUN` scripts and
//! the install / build / prune analysis of their commands) and `vars` (`ARG`/`ENV`
//! assignments, variable substitution, `USER`, container paths).

mod run;
mod stages;
mod vars;

use parse_dockerfile::{Command as DfCommand, Instruction as DfInstruction, Source};

use crate::load::LoadError;
use crate::location::{LineIndex, Location};
use crate::model::dockerfile::{Dockerfile, Instruction, Stage, Var};

use run::runs_node;
pub use run::{is_build, is_build_script, is_build_tool, is_full_install, is_prune};
use vars::{Vars, make_user, parse_assignments};
pub use vars::{join_path, substitute};

/// Parses `text` (the file `rel`) into the Dockerfile model. `targets` are the stage names or
/// indexes that known builds target (empty: only the last stage is final).
pub fn load(rel: &str, text: &str, targets: &[String]) -> Result<Dockerfile, LoadError> {
    let parsed = parse_dockerfile::parse(text).map_err(|e| {
        let line = u32::try_from(e.line()).unwrap_or(1).max(1);
        LoadError {
            message: format!("{rel}: invalid Dockerfile syntax: {e:#}"),
            loc: Location::point(rel, line, 1),
            outside: false,
        }
    })?;
    let escape = parsed
        .parser_directives
        .escape
        .as_ref()
        .map(|d| d.value.value);
    let mut b = Builder {
        rel,
        text,
        idx: LineIndex::new(text),
        escape: escape.unwrap_or('\\'),
        stages: Vec::new(),
        global_args: Vec::new(),
        global_vars: Vars::new(),
        instructions: Vec::new(),
    };
    for ins in &parsed.instructions {
        b.instruction(ins);
    }
    if b.stages.is_empty() {
        return Err(LoadError::at_file(
            rel,
            format!("{rel}: no FROM instruction: not a Dockerfile"),
        ));
    }
    let last = b.stages.len() - 1;
    let mut final_stages: Vec<i64> = Vec::new();
    for t in targets {
        if let Some(i) = b.stage_by_ref(t) {
            final_stages.push(i as i64);
        }
    }
    if final_stages.is_empty() {
        final_stages.push(last as i64);
    }
    final_stages.sort_unstable();
    final_stages.dedup();
    let mut stages = b.stages;
    for s in &mut stages {
        s.is_final = final_stages.contains(&s.index);
    }
    Ok(Dockerfile {
        path: rel.to_string(),
        loc: Location::file_start(rel),
        is_node: stages.iter().any(|s| s.is_node),
        stages,
        final_stages,
        global_args: b.global_args,
        instructions: b.instructions,
    })
}

struct Builder<'t> {
    rel: &'t str,
    text: &'t str,
    idx: LineIndex,
    escape: char,
    stages: Vec<Stage>,
    global_args: Vec<Var>,
    global_vars: Vars,
    instructions: Vec<Instruction>,
}

/// Per-stage state that is not part of the model.
fn stage_vars(stage: &Stage, globals: &Vars) -> Vars {
    let mut vars = Vars::new();
    for a in &stage.args {
        let v = if a.has_value {
            Some(a.value.clone())
        } else {
            globals.get(&a.name).cloned().flatten()
        };
        vars.insert(a.name.clone(), v);
    }
    for e in stage.inherited_envs.iter().chain(&stage.envs) {
        vars.insert(e.name.clone(), Some(e.value.clone()));
    }
    vars
}

impl Builder<'_> {
    fn loc(&self, start: usize, end: usize) -> Location {
        self.idx.location(self.rel, self.text, start, end)
    }

    /// Points each variable of an `ENV`/`ARG` instruction at its own assignment (its name to
    /// the end of its line), so `ENV \` continued over several lines names the line of the
    /// key in question. Variables whose text is not found keep the instruction's location.
    fn place_vars(&self, vars: &mut [Var], start: usize, end: usize) {
        let Some(args) = self.text.get(start..end) else {
            return;
        };
        let mut cursor = 0;
        for v in vars.iter_mut() {
            let Some(found) = args.get(cursor..).and_then(|rest| {
                rest.match_indices(v.name.as_str()).find_map(|(i, _)| {
                    let at = cursor + i;
                    let before = args[..at].chars().next_back();
                    let after = args[at + v.name.len()..].chars().next();
                    let word_start = before.is_none_or(|c| c.is_whitespace() || c == '\\');
                    let word_end = after.is_none_or(|c| c == '=' || c.is_whitespace());
                    (word_start && word_end).then_some(at)
                })
            }) else {
                continue;
            };
            let line_end = args[found..].find('\n').map_or(args.len(), |i| found + i);
            let end = args[found..line_end]
                .trim_end()
                .trim_end_matches(self.escape)
                .trim_end()
                .len()
                + found;
            v.loc = self.loc(start + found, start + end.max(found + v.name.len()));
            cursor = found + v.name.len();
        }
    }

    fn stage_by_ref(&self, r: &str) -> Option<usize> {
        if let Ok(i) = r.parse::<usize>() {
            return (i < self.stages.len()).then_some(i);
        }
        self.stages
            .iter()
            .position(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(r)))
    }

    fn instruction(&mut self, ins: &DfInstruction<'_>) {
        let (keyword, span) = instruction_span(ins, self.text);
        let loc = self.loc(span.start, span.end);
        let text = self
            .text
            .get(span.clone())
            .map(|s| {
                s.split_once(char::is_whitespace)
                    .map_or("", |(_, r)| r)
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        // A `FROM` starts the stage it belongs to.
        let own_stage = matches!(ins, DfInstruction::From(_)) as i64;
        self.instructions.push(Instruction {
            keyword: keyword.to_string(),
            stage: self.stages.len() as i64 - 1 + own_stage,
            text,
            loc: loc.clone(),
        });
        match ins {
            DfInstruction::From(f) => self.from(f, loc),
            DfInstruction::Arg(a) => {
                let mut vars = parse_assignments(&a.arguments.value, "ARG", &loc);
                self.place_vars(&mut vars, a.arguments.span.start, a.arguments.span.end);
                match self.stages.last_mut() {
                    Some(stage) => stage.args.extend(vars),
                    None => {
                        for v in &vars {
                            let val = v.has_value.then(|| v.value.clone());
                            self.global_vars.insert(v.name.clone(), val);
                        }
                        self.global_args.extend(vars);
                    }
                }
            }
            DfInstruction::Env(e) => {
                let mut vars = parse_assignments(&e.arguments.value, "ENV", &loc);
                self.place_vars(&mut vars, e.arguments.span.start, e.arguments.span.end);
                if let Some(stage) = self.stages.last_mut() {
                    stage.envs.extend(vars);
                }
            }
            DfInstruction::User(u) => {
                let globals = self.global_vars.clone();
                if let Some(stage) = self.stages.last_mut() {
                    let raw = u.arguments.value.trim().to_string();
                    let vars = stage_vars(stage, &globals);
                    let user = make_user(&raw, &vars, loc);
                    stage.users.push(user.clone());
                    stage.user = Some(user);
                }
            }
            DfInstruction::Workdir(w) => {
                if let Some(stage) = self.stages.last_mut() {
                    stage.workdir = join_path(&stage.workdir, w.arguments.value.trim());
                }
            }
            DfInstruction::Copy(c) => {
                let from = c
                    .options
                    .iter()
                    .find(|f| f.name.value == "from")
                    .and_then(|f| f.value.as_ref())
                    .map(|v| v.value.to_string())
                    .unwrap_or_default();
                let sources = source_paths(&c.src);
                self.copy("COPY", from, sources, c.dest.value.to_string(), loc);
            }
            DfInstruction::Add(a) => {
                let sources = source_paths(&a.src);
                self.copy("ADD", String::new(), sources, a.dest.value.to_string(), loc);
            }
            DfInstruction::Run(r) => self.run(r, loc),
            DfInstruction::Cmd(parse_dockerfile::CmdInstruction { arguments, .. })
            | DfInstruction::Entrypoint(parse_dockerfile::EntrypointInstruction {
                arguments,
                ..
            }) => {
                let program = match arguments {
                    DfCommand::Exec(words) => words.value.first().map(|w| w.value.to_string()),
                    DfCommand::Shell(s) => s.value.split_whitespace().next().map(str::to_string),
                    _ => None,
                };
                if let Some(stage) = self.stages.last_mut()
                    && program.is_some_and(|p| runs_node(&p))
                {
                    stage.is_node = true;
                }
            }
            _ => {}
        }
    }
}

/// The path sources of a `COPY`/`ADD` (heredoc sources have no path).
fn source_paths(src: &[Source<'_>]) -> Vec<String> {
    src.iter()
        .filter_map(|s| match s {
            Source::Path(p) => Some(p.value.to_string()),
            _ => None,
        })
        .collect()
}

/// The keyword and the byte span of a whole instruction.
fn instruction_span(ins: &DfInstruction<'_>, text: &str) -> (&'static str, std::ops::Range<usize>) {
    use DfInstruction as I;
    fn cmd_end(c: &DfCommand<'_>) -> usize {
        match c {
            DfCommand::Exec(s) => s.span.end,
            DfCommand::Shell(s) => s.span.end,
            _ => 0,
        }
    }
    match ins {
        I::From(f) => (
            "FROM",
            f.from.span.start..f.as_.as_ref().map_or(f.image.span.end, |(_, n)| n.span.end),
        ),
        I::Run(r) => (
            "RUN",
            r.run.span.start
                ..cmd_end(&r.arguments).max(r.here_docs.last().map_or(0, |h| h.span.end)),
        ),
        I::Copy(c) => ("COPY", c.copy.span.start..c.dest.span.end),
        I::Add(a) => ("ADD", a.add.span.start..a.dest.span.end),
        I::Arg(a) => ("ARG", a.arg.span.start..a.arguments.span.end),
        I::Env(e) => ("ENV", e.env.span.start..e.arguments.span.end),
        I::User(u) => ("USER", u.user.span.start..u.arguments.span.end),
        I::Workdir(w) => ("WORKDIR", w.workdir.span.start..w.arguments.span.end),
        I::Cmd(c) => ("CMD", c.cmd.span.start..cmd_end(&c.arguments)),
        I::Entrypoint(e) => ("ENTRYPOINT", e.entrypoint.span.start..cmd_end(&e.arguments)),
        I::Expose(e) => (
            "EXPOSE",
            e.expose.span.start..e.arguments.last().map_or(e.expose.span.end, |a| a.span.end),
        ),
        I::Label(l) => ("LABEL", l.label.span.start..l.arguments.span.end),
        I::Healthcheck(h) => (
            "HEALTHCHECK",
            h.healthcheck.span.start..match &h.arguments {
                parse_dockerfile::HealthcheckArguments::Cmd { arguments, .. } => cmd_end(arguments),
                parse_dockerfile::HealthcheckArguments::None { none, .. } => none.span.end,
                _ => h.healthcheck.span.end,
            },
        ),
        I::Maintainer(m) => ("MAINTAINER", m.maintainer.span.start..m.name.span.end),
        I::Onbuild(o) => (
            "ONBUILD",
            o.onbuild.span.start..instruction_span(&o.instruction, text).1.end,
        ),
        // The arguments' spans stop inside the JSON array: the closing `]` ends the line.
        I::Shell(s) => (
            "SHELL",
            s.shell.span.start
                ..s.arguments
                    .last()
                    .map_or(s.shell.span.end, |a| line_end(text, a.span.end)),
        ),
        I::Stopsignal(s) => ("STOPSIGNAL", s.stopsignal.span.start..s.arguments.span.end),
        I::Volume(v) => (
            "VOLUME",
            v.volume.span.start..match &v.arguments {
                parse_dockerfile::JsonOrStringArray::Json(a) => a.span.end,
                parse_dockerfile::JsonOrStringArray::String(a) => {
                    a.last().map_or(v.volume.span.end, |w| w.span.end)
                }
            },
        ),
        _ => ("UNKNOWN", 0..0),
    }
}

/// The end of the line that `at` is on, trailing whitespace excluded.
fn line_end(text: &str, at: usize) -> usize {
    let rest = text.get(at..).unwrap_or("");
    let line = rest.split('\n').next().unwrap_or("");
    at + line.trim_end().len()
}

/// Sets the final stages from the builds known for this Dockerfile: the stages they target
/// (by name or index), plus the last stage when some build names no target or none is known.
pub fn set_targets(d: &mut Dockerfile, targets: &[String], untargeted_build: bool) {
    let last = d.stages.len().saturating_sub(1) as i64;
    let mut finals: Vec<i64> = targets
        .iter()
        .filter_map(|t| {
            t.parse::<i64>().ok().filter(|i| *i <= last).or_else(|| {
                d.stages
                    .iter()
                    .find(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(t)))
                    .map(|s| s.index)
            })
        })
        .collect();
    if untargeted_build || finals.is_empty() {
        finals.push(last);
    }
    finals.sort_unstable();
    finals.dedup();
    for s in &mut d.stages {
        s.is_final = finals.contains(&s.index);
    }
    d.final_stages = finals;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instruction_has_its_text_span_and_stage() {
        let text = "ARG V=1\nFROM node:18-alpine AS a\nHEALTHCHECK --interval=30s CMD wget -qO- http://localhost/health || exit 1\nONBUILD RUN npm ci\nSHELL [\"/bin/sh\", \"-c\"]\nVOLUME [\"/data\"]\nVOLUME /a /b\nHEALTHCHECK NONE\nFROM a\n";
        let d = load("Dockerfile", text, &[]).expect("parses");
        let got: Vec<(&str, i64, &str, u32, u32)> = d
            .instructions
            .iter()
            .map(|i| {
                (
                    i.keyword.as_str(),
                    i.stage,
                    i.text.as_str(),
                    i.loc.line,
                    i.loc.end_col,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("ARG", -1, "V=1", 1, 8),
                ("FROM", 0, "node:18-alpine AS a", 2, 25),
                (
                    "HEALTHCHECK",
                    0,
                    "--interval=30s CMD wget -qO- http://localhost/health || exit 1",
                    3,
                    75
                ),
                ("ONBUILD", 0, "RUN npm ci", 4, 19),
                ("SHELL", 0, "[\"/bin/sh\", \"-c\"]", 5, 24),
                ("VOLUME", 0, "[\"/data\"]", 6, 17),
                ("VOLUME", 0, "/a /b", 7, 13),
                ("HEALTHCHECK", 0, "NONE", 8, 17),
                ("FROM", 1, "a", 9, 7),
            ]
        );
    }
}
