//! Dockerfile loader: parses with `parse-dockerfile` (heredocs, escape directive,
//! continuations) and builds [`crate::model::dockerfile::Dockerfile`]: ARG substitution in
//! `FROM`/`USER`, stage links, `RUN` scripts parsed into shell commands, and the install /
//! build / prune facts of each stage.

use std::collections::HashMap;

use parse_dockerfile::{Command as DfCommand, Instruction as DfInstruction, Source};

use crate::load::LoadError;
use crate::location::{LineIndex, Location};
use crate::model::dockerfile::{
    Copy, DevSource, Dockerfile, From, Instruction, Run, Stage, User, Var,
};
use crate::model::image::ImageRef;
use crate::shell::{self, Command};

/// Variables known at a point of the file: name → value (`None`: declared without default).
type Vars = HashMap<String, Option<String>>;

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

    fn from(&mut self, f: &parse_dockerfile::FromInstruction<'_>, loc: Location) {
        let raw = f.image.value.trim().to_string();
        let resolved = substitute(&raw, &self.global_vars).unwrap_or_default();
        let platform = f
            .options
            .iter()
            .find(|o| o.name.value == "platform")
            .and_then(|o| o.value.as_ref())
            .map(|v| v.value.to_string());
        let index = self.stages.len() as i64;
        let name = f.as_.as_ref().map(|(_, n)| n.value.to_string());
        let parent = if resolved.is_empty() {
            None
        } else {
            self.stage_by_ref_name_only(&resolved)
        };
        let (kind, image) = if resolved.is_empty() {
            ("unresolved", None)
        } else if parent.is_some() {
            ("stage", None)
        } else if resolved.eq_ignore_ascii_case("scratch") {
            ("scratch", None)
        } else {
            match ImageRef::parse(&resolved) {
                Some(img) => ("image", Some(img)),
                None => ("unresolved", None),
            }
        };
        let node_image = image.as_ref().is_some_and(is_node_image);
        let mut stage = Stage {
            index,
            name,
            from: From {
                raw,
                resolved,
                kind: kind.to_string(),
                image,
                stage: parent.map(|p| p as i64),
                platform,
                loc: loc.clone(),
            },
            is_node: node_image,
            loc,
            is_final: false,
            runs: Vec::new(),
            commands: Vec::new(),
            copies: Vec::new(),
            users: Vec::new(),
            user: None,
            envs: Vec::new(),
            inherited_envs: Vec::new(),
            args: Vec::new(),
            workdir: "/".to_string(),
            runs_full_install: false,
            is_full_install: false,
            install_dirs: Vec::new(),
            prod_dirs: Vec::new(),
            installs_then_builds: false,
            runs_build: false,
            copies_from_earlier_stage: false,
            dev_dependency_sources: Vec::new(),
        };
        if let Some(p) = parent.and_then(|p| self.stages.get(p)) {
            stage.workdir = p.workdir.clone();
            stage.user = p.user.clone().map(|mut u| {
                u.inherited = true;
                u
            });
            stage.inherited_envs = p.inherited_envs.iter().chain(&p.envs).cloned().collect();
            stage.is_full_install = p.is_full_install;
            stage.install_dirs = p.install_dirs.clone();
            stage.prod_dirs = p.prod_dirs.clone();
            stage.is_node |= p.is_node;
            stage.installs_then_builds = p.installs_then_builds;
            if p.is_full_install {
                stage.dev_dependency_sources.push(DevSource {
                    kind: "from".to_string(),
                    detail: format!(
                        "is built FROM stage '{}', which has dev dependencies installed",
                        p.name.clone().unwrap_or_else(|| p.index.to_string())
                    ),
                    loc: stage.loc.clone(),
                });
            }
        }
        self.stages.push(stage);
    }

    /// `FROM x` refers to an earlier stage only by its `AS` name (not by index).
    fn stage_by_ref_name_only(&self, r: &str) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(r)))
    }

    fn copy(
        &mut self,
        instruction: &str,
        from: String,
        sources: Vec<String>,
        dest: String,
        loc: Location,
    ) {
        let from_stage = if from.is_empty() {
            None
        } else {
            self.stage_by_ref(&from)
        };
        let Some(current) = self.stages.len().checked_sub(1) else {
            return;
        };
        let dest_abs = join_path(&self.stages[current].workdir, &dest);
        let copy = Copy {
            instruction: instruction.to_string(),
            from,
            from_stage: from_stage.map(|i| i as i64),
            sources,
            dest,
            dest_abs,
            loc: loc.clone(),
        };
        if let Some(src) = from_stage
            .filter(|i| *i < current)
            .and_then(|i| self.stages.get(i))
        {
            let src_name = src.name.clone().unwrap_or_else(|| src.index.to_string());
            let mut brings_modules = Vec::new();
            if src.is_full_install {
                for s in &copy.sources {
                    let abs = join_path("/", s);
                    // The output of `pnpm deploy --prod` holds production dependencies only.
                    if src.prod_dirs.iter().any(|d| is_within(&abs, d)) {
                        continue;
                    }
                    // `node_modules` itself (or a directory holding an install) ships the
                    // dev dependencies; one named package out of it (`node_modules/pg`) is
                    // that package only.
                    let hit = abs.trim_end_matches('/').rsplit('/').next() == Some("node_modules")
                        || src.install_dirs.iter().any(|d| is_within(d, &abs));
                    if hit {
                        brings_modules.push(abs);
                    }
                }
            }
            let stage = &mut self.stages[current];
            stage.copies_from_earlier_stage = true;
            if let Some(first) = brings_modules.first() {
                stage.is_full_install = true;
                let dir = copy.dest_abs.clone();
                if !stage.install_dirs.contains(&dir) {
                    stage.install_dirs.push(dir);
                }
                stage.dev_dependency_sources.push(DevSource {
                    kind: "copy".to_string(),
                    detail: format!(
                        "copies {first} from stage '{src_name}', which ran a full dependency install"
                    ),
                    loc,
                });
            }
        }
        self.stages[current].copies.push(copy);
    }

    fn run(&mut self, r: &parse_dockerfile::RunInstruction<'_>, loc: Location) {
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
fn runs_node(program: &str) -> bool {
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

/// Whether a (normalised) image is a Node image: repository `node`, or one with a word (split
/// on `/`, `-`, `_`, `.`) that is `bun` or starts with `node` or `deno` (`oven/bun`,
/// `cimg/node`, `ubi8/nodejs-20`, `denoland/deno`, `devcontainers/typescript-node`); words
/// only, so `ubuntu` is not a Bun image.
fn is_node_image(img: &ImageRef) -> bool {
    img.repository
        .to_ascii_lowercase()
        .split(['/', '-', '_', '.'])
        .any(|w| w == "bun" || w.starts_with("node") || w.starts_with("deno"))
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

/// Parses `ENV`/`ARG` arguments: `K=V K2="v w"`, the legacy `ENV K some value` form, and
/// bare `ARG NAME`.
fn parse_assignments(args: &str, instruction: &str, loc: &Location) -> Vec<Var> {
    let words = split_words(args);
    let mut out = Vec::new();
    let legacy = instruction == "ENV"
        && words.first().is_some_and(|w| !w.0.contains('='))
        && words.len() > 1;
    if legacy {
        let name = words[0].0.clone();
        let value = args.trim_start()[words[0].1..].trim().to_string();
        out.push(var(instruction, name, Some(unquote(&value)), loc));
        return out;
    }
    for (w, _) in words {
        match w.split_once('=') {
            Some((k, v)) => out.push(var(instruction, k.to_string(), Some(unquote(v)), loc)),
            None => out.push(var(instruction, w, None, loc)),
        }
    }
    out
}

fn var(instruction: &str, name: String, value: Option<String>, loc: &Location) -> Var {
    let has_value = value.is_some();
    let value = value.unwrap_or_default();
    let literal = !value.is_empty() && !is_only_reference(&value);
    Var {
        instruction: instruction.to_string(),
        name,
        value,
        has_value,
        literal,
        loc: loc.clone(),
    }
}

/// `$X`, `${X}`, `${X:-}`, `${X-}`: a value that is nothing but one variable reference.
fn is_only_reference(v: &str) -> bool {
    let v = v.trim();
    let ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if let Some(inner) = v.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
        let name = inner.split([':', '-']).next().unwrap_or("");
        let rest = &inner[name.len()..];
        return ident(name) && matches!(rest, "" | ":-" | "-");
    }
    v.strip_prefix('$').is_some_and(ident)
}

/// Splits on unquoted whitespace, keeping quotes; returns each word with the byte offset just
/// past it (in the left-trimmed input).
fn split_words(s: &str) -> Vec<(String, usize)> {
    let s = s.trim_start();
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, ch) in s.char_indices() {
        if escaped {
            cur.push(ch);
            escaped = false;
            continue;
        }
        match (quote, ch) {
            (_, '\\') if quote != Some('\'') => {
                cur.push(ch);
                escaped = true;
            }
            (None, '"' | '\'') => {
                quote = Some(ch);
                cur.push(ch);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(ch);
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push((std::mem::take(&mut cur), i));
                }
            }
            _ => cur.push(ch),
        }
    }
    if !cur.is_empty() {
        out.push((cur, s.len()));
    }
    out
}

/// Removes one level of surrounding quotes and backslash escapes.
fn unquote(v: &str) -> String {
    let v = v.trim();
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (q, '\\') if q != Some('\'') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Substitutes `$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:+a}`, `${X+a}` from `vars`; `None`
/// when a variable has no value and no default.
pub fn substitute(s: &str, vars: &Vars) -> Option<String> {
    let mut out = String::new();
    let bytes: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if bytes.get(i + 1) == Some(&'{') {
            let close = bytes[i + 2..].iter().position(|c| *c == '}')? + i + 2;
            let inner: String = bytes[i + 2..close].iter().collect();
            let name_end = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(inner.len());
            let (name, op) = inner.split_at(name_end);
            let val = vars.get(name).cloned().flatten();
            let set = val.as_deref().is_some_and(|v| !v.is_empty());
            let piece = if let Some(d) = op.strip_prefix(":-") {
                if set { val } else { Some(substitute(d, vars)?) }
            } else if let Some(d) = op.strip_prefix('-') {
                if val.is_some() {
                    val
                } else {
                    Some(substitute(d, vars)?)
                }
            } else if let Some(a) = op.strip_prefix(":+") {
                Some(if set {
                    substitute(a, vars)?
                } else {
                    String::new()
                })
            } else if let Some(a) = op.strip_prefix('+') {
                Some(if val.is_some() {
                    substitute(a, vars)?
                } else {
                    String::new()
                })
            } else if op.is_empty() {
                val
            } else {
                None
            };
            out.push_str(&piece?);
            i = close + 1;
        } else {
            let rest: String = bytes[i + 1..].iter().collect();
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if n == 0 {
                out.push('$');
                i += 1;
                continue;
            }
            out.push_str(&vars.get(&rest[..n]).cloned().flatten()?);
            i += 1 + rest[..n].chars().count();
        }
    }
    Some(out)
}

fn make_user(raw: &str, vars: &Vars, loc: Location) -> User {
    let resolved = substitute(raw, vars).unwrap_or_else(|| raw.to_string());
    let name = resolved.split(':').next().unwrap_or("").trim().to_string();
    let is_root = name == "root" || name == "0";
    User {
        raw: raw.to_string(),
        resolved,
        name,
        is_root,
        inherited: false,
        loc,
    }
}

/// Joins a path onto a directory (absolute paths replace it) and normalises `.`/`..`.
pub fn join_path(base: &str, path: &str) -> String {
    format!("/{}", crate::load::join_relative(base, path))
}

/// Whether `dir` is `ancestor` or inside it.
fn is_within(dir: &str, ancestor: &str) -> bool {
    let a = ancestor.trim_end_matches('/');
    a.is_empty() || dir == a || dir.starts_with(&format!("{a}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, Option<&str>)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn substitutes_arg_defaults() {
        let v = vars(&[("NODE", Some("18")), ("EMPTY", Some("")), ("NONE", None)]);
        let table = [
            ("node:$NODE-alpine", Some("node:18-alpine")),
            ("node:${NODE}-alpine", Some("node:18-alpine")),
            ("node:${MISSING:-20}-alpine", Some("node:20-alpine")),
            ("node:${EMPTY:-20}", Some("node:20")),
            ("node:${EMPTY-20}", Some("node:")),
            ("${NONE}", None),
            ("x${NODE:+-y}", Some("x-y")),
            ("a$", Some("a$")),
            ("${UNCLOSED", None),
        ];
        for (input, want) in table {
            assert_eq!(substitute(input, &v).as_deref(), want, "{input}");
        }
    }

    #[test]
    fn parses_env_and_arg_forms() {
        let loc = Location::file_start("Dockerfile");
        let v = parse_assignments(r#"A=1 B="two words" C"#, "ARG", &loc);
        let got: Vec<(&str, &str, bool)> = v
            .iter()
            .map(|v| (v.name.as_str(), v.value.as_str(), v.has_value))
            .collect();
        assert_eq!(
            got,
            vec![("A", "1", true), ("B", "two words", true), ("C", "", false)]
        );
        let v = parse_assignments("API_KEY some secret value", "ENV", &loc);
        assert_eq!(
            (v[0].name.as_str(), v[0].value.as_str()),
            ("API_KEY", "some secret value")
        );
        assert!(v[0].literal);
        for r in ["$TOKEN", "${TOKEN}", "${TOKEN:-}"] {
            assert!(
                !parse_assignments(&format!("TOKEN={r}"), "ENV", &loc)[0].literal,
                "{r}"
            );
        }
        assert!(parse_assignments("TOKEN=${TOKEN:-abc}", "ENV", &loc)[0].literal);
    }

    #[test]
    fn paths_join_and_nest() {
        assert_eq!(join_path("/app", "./node_modules"), "/app/node_modules");
        assert_eq!(join_path("/app", "/srv"), "/srv");
        assert_eq!(join_path("/app/x", "../y/."), "/app/y");
        assert!(is_within("/app", "/app"));
        assert!(is_within("/app/x", "/app"));
        assert!(is_within("/app", "/"));
        assert!(!is_within("/application", "/app"));
        assert!(!is_within("/app", "/app/x"));
    }
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
