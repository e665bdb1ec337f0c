//! The walk over the syntax tree: lists, pipelines, compound commands and substitutions
//! become simple commands, with the neutralisation (`|| true`, ...) that covers them.

use super::parse::parse_fragment;
use super::positions::{Frag, Positioner};
use super::words::{WordInfo, read_word};
use super::wrappers::{shell_c_script, unwrap_wrappers};
use super::{Command, MAX_FRAGMENT_DEPTH, MAX_WALK_DEPTH};
use crate::location::Location;
use crate::pm;
use crate::pm::EnvAssignment;
use brush_parser::ast;

/// Collects the simple commands of a syntax tree.
pub(super) struct Walker<'p> {
    pub(super) pos: &'p Positioner<'p>,
    pub(super) out: Vec<Command>,
}

impl Walker<'_> {
    pub(super) fn program(&mut self, f: &Frag<'_>, program: &ast::Program, neut: bool) {
        for list in &program.complete_commands {
            self.list(f, list, neut, 0);
        }
    }

    fn list(&mut self, f: &Frag<'_>, list: &ast::CompoundList, neut: bool, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        let items = &list.0;
        for (i, item) in items.iter().enumerate() {
            let followed_by_neutraliser = matches!(item.1, ast::SeparatorOperator::Sequence)
                && items.get(i + 1).is_some_and(|next| {
                    next.0.additional.is_empty()
                        && is_neutraliser(f, &next.0.first)
                        && same_line(&item.0, &next.0)
                });
            self.and_or(f, &item.0, neut || followed_by_neutraliser, depth + 1);
        }
    }

    fn and_or(&mut self, f: &Frag<'_>, list: &ast::AndOrList, neut: bool, depth: usize) {
        let neut = neut
            || matches!(list.additional.last(), Some(ast::AndOr::Or(p)) if is_neutraliser(f, p));
        self.pipeline(f, &list.first, neut, depth + 1);
        for next in &list.additional {
            let (ast::AndOr::And(p) | ast::AndOr::Or(p)) = next;
            self.pipeline(f, p, neut, depth + 1);
        }
    }

    fn pipeline(&mut self, f: &Frag<'_>, p: &ast::Pipeline, neut: bool, depth: usize) {
        for command in &p.seq {
            self.command(f, command, neut, depth + 1);
        }
    }

    fn command(&mut self, f: &Frag<'_>, command: &ast::Command, neut: bool, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        match command {
            ast::Command::Simple(simple) => self.simple(f, simple, neut, depth + 1),
            ast::Command::Compound(compound, redirects) => {
                self.compound(f, compound, neut, depth + 1);
                self.redirect_list(f, redirects.as_ref(), depth + 1);
            }
            ast::Command::Function(def) => {
                self.compound(f, &def.body.0, neut, depth + 1);
                self.redirect_list(f, def.body.1.as_ref(), depth + 1);
            }
            ast::Command::ExtendedTest(..) => {}
        }
    }

    fn compound(&mut self, f: &Frag<'_>, c: &ast::CompoundCommand, neut: bool, depth: usize) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        let d = depth + 1;
        match c {
            ast::CompoundCommand::BraceGroup(g) => self.list(f, &g.list, neut, d),
            ast::CompoundCommand::Subshell(s) => self.list(f, &s.list, neut, d),
            ast::CompoundCommand::ForClause(fc) => {
                for w in fc.values.iter().flatten() {
                    self.word_substitutions(f, w);
                }
                self.list(f, &fc.body.list, neut, d);
            }
            ast::CompoundCommand::ArithmeticForClause(fc) => self.list(f, &fc.body.list, neut, d),
            ast::CompoundCommand::CaseClause(cc) => {
                self.word_substitutions(f, &cc.value);
                for item in &cc.cases {
                    if let Some(list) = &item.cmd {
                        self.list(f, list, neut, d);
                    }
                }
            }
            ast::CompoundCommand::IfClause(ic) => {
                self.list(f, &ic.condition, neut, d);
                self.list(f, &ic.then, neut, d);
                for clause in ic.elses.iter().flatten() {
                    if let Some(cond) = &clause.condition {
                        self.list(f, cond, neut, d);
                    }
                    self.list(f, &clause.body, neut, d);
                }
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.list(f, &w.0, neut, d);
                self.list(f, &w.1.list, neut, d);
            }
            ast::CompoundCommand::Coprocess(co) => self.command(f, &co.body, neut, d),
            ast::CompoundCommand::Arithmetic(a) => {
                // The parser reads `( (cmd) )` as the arithmetic `((cmd))`; bash reads two
                // subshells when the parentheses are apart. Their text is parsed again.
                let (start, end) = (f.byte(a.loc.start.index), f.byte(a.loc.end.index));
                let text = f.text.get(start..end).unwrap_or("");
                if text.len() >= 4
                    && !text.starts_with("((")
                    && text.starts_with('(')
                    && text.ends_with(')')
                {
                    self.sub_fragment(f, (start + 1, end - 1), neut);
                }
            }
        }
    }

    /// Walks the command substitutions in a word of a compound command (`for x in $(…)`,
    /// `case $(…) in`); their status is discarded.
    fn word_substitutions(&mut self, f: &Frag<'_>, w: &ast::Word) {
        for range in read_word(f, w).subs {
            self.sub_fragment(f, range, true);
        }
    }

    /// Walks the process substitutions of a compound command's redirections.
    fn redirect_list(&mut self, f: &Frag<'_>, redirects: Option<&ast::RedirectList>, depth: usize) {
        for io in redirects.iter().flat_map(|r| r.0.iter()) {
            if let ast::IoRedirect::File(
                _,
                _,
                ast::IoFileRedirectTarget::ProcessSubstitution(_, sub),
            ) = io
            {
                self.list(f, &sub.list, true, depth + 1);
            }
        }
    }

    fn simple(&mut self, f: &Frag<'_>, cmd: &ast::SimpleCommand, neut: bool, depth: usize) {
        let mut parts = Parts::default();
        for item in cmd.prefix.iter().flat_map(|p| p.0.iter()) {
            parts.item(f, item, true);
        }
        if let Some(w) = &cmd.word_or_name {
            parts.word(read_word(f, w));
        }
        for item in cmd.suffix.iter().flat_map(|s| s.0.iter()) {
            parts.item(f, item, false);
        }
        parts.finish_words();

        // Substitutions run first. The status of a command substitution only matters in an
        // assignment-only command; a process substitution's status never does.
        let has_program = !parts.words.is_empty();
        for range in parts.assignment_subs.clone() {
            self.sub_fragment(f, range, neut || has_program);
        }
        for range in parts.word_subs.clone() {
            self.sub_fragment(f, range, true);
        }
        for sub in &parts.process_subs {
            self.list(f, &sub.list, true, depth + 1);
        }
        if !has_program {
            return;
        }

        let argv: Vec<String> = parts.words.iter().map(|w| w.value.clone()).collect();
        let (at, wrapper_env) = unwrap_wrappers(&argv);
        let mut env = f.env.clone();
        env.extend(parts.env);
        env.extend(wrapper_env);
        let program = argv.get(at).cloned().unwrap_or_default();
        let args: Vec<String> = argv.get(at + 1..).unwrap_or_default().to_vec();
        let (text, loc) = match parts.extent {
            Some((s, e)) => (f.slice(s, e).to_string(), self.location(f, Some((s, e)))),
            None => (argv.join(" "), self.location(f, None)),
        };

        if let Some(inner) = shell_c_script(&program, &args)
            && f.level < MAX_FRAGMENT_DEPTH
        {
            let before = self.out.len();
            let inner_frag = Frag::new(inner, None, Some(loc.clone()), env.clone(), f.level + 1);
            if let Ok(program) = parse_fragment(&inner_frag) {
                self.program(&inner_frag, &program, neut);
            }
            if self.out.len() > before {
                return;
            }
        }

        let pm = pm::classify(&program, &args, &env);
        self.out.push(Command {
            argv,
            program,
            args,
            env,
            text,
            loc,
            neutralised: neut,
            pm,
        });
    }

    /// Parses and walks the script of a command substitution at `range` of the fragment.
    fn sub_fragment(&mut self, f: &Frag<'_>, range: (usize, usize), neut: bool) {
        if f.level >= MAX_FRAGMENT_DEPTH {
            return;
        }
        let (s, e) = range;
        let Some(text) = f.text.get(s..e) else {
            return;
        };
        let child = Frag::new(
            text,
            f.base.map(|b| b + s),
            f.fixed.clone(),
            f.env.clone(),
            f.level + 1,
        );
        if let Ok(program) = parse_fragment(&child) {
            self.program(&child, &program, neut);
        }
    }

    /// The file location of a byte range of a fragment.
    pub(super) fn location(&self, f: &Frag<'_>, range: Option<(usize, usize)>) -> Location {
        if let Some(fixed) = &f.fixed {
            return fixed.clone();
        }
        let base = f.base.unwrap_or(0);
        let (s, e) = range.unwrap_or((0, 0));
        self.pos.location(base + s, base + e)
    }
}

/// The pieces of one simple command, gathered from its prefix, name and suffix.
#[derive(Default)]
struct Parts<'a> {
    words: Vec<WordInfo>,
    pub(super) env: Vec<EnvAssignment>,
    /// Byte range from the first word to the last (redirection targets included).
    extent: Option<(usize, usize)>,
    word_subs: Vec<(usize, usize)>,
    assignment_subs: Vec<(usize, usize)>,
    process_subs: Vec<&'a ast::SubshellCommand>,
}

impl<'a> Parts<'a> {
    pub(super) fn extend(&mut self, range: Option<(usize, usize)>) {
        if let Some((s, e)) = range {
            self.extent = Some(match self.extent {
                Some((a, z)) => (a.min(s), z.max(e)),
                None => (s, e),
            });
        }
    }

    pub(super) fn word(&mut self, w: WordInfo) {
        self.extend(w.range);
        self.words.push(w);
    }

    /// Puts the words in source order and drops any word that lies inside another one (the
    /// parser can split `"$(pwd)"` into `pwd` and `"$()"` while a here-document is pending),
    /// then collects the command substitutions of the words kept.
    fn finish_words(&mut self) {
        let mut words = std::mem::take(&mut self.words);
        if words.iter().all(|w| w.range.is_some()) {
            words.sort_by_key(|w| w.range.map(|(s, e)| (s, std::cmp::Reverse(e))));
            let mut reach = 0;
            words.retain(|w| {
                let (s, e) = w.range.unwrap_or_default();
                let inside = e <= reach && s < reach;
                reach = reach.max(e);
                !inside
            });
        }
        for w in &words {
            self.word_subs.extend(w.subs.iter().copied());
        }
        self.words = words;
    }

    /// A word that is not an argument (a redirection target): it only widens the extent.
    fn other_word(&mut self, f: &Frag<'_>, w: &ast::Word) {
        let info = read_word(f, w);
        self.extend(info.range);
        self.word_subs.extend(info.subs);
    }

    fn item(&mut self, f: &Frag<'_>, item: &'a ast::CommandPrefixOrSuffixItem, in_prefix: bool) {
        match item {
            ast::CommandPrefixOrSuffixItem::Word(w) => self.word(read_word(f, w)),
            ast::CommandPrefixOrSuffixItem::AssignmentWord(assignment, w) => {
                let info = read_word(f, w);
                if in_prefix {
                    self.extend(info.range);
                    self.assignment_subs.extend(info.subs.iter().copied());
                    let value = info
                        .value
                        .split_once('=')
                        .map_or(String::new(), |(_, v)| v.to_string());
                    self.env.push(EnvAssignment {
                        name: assignment.name.to_string(),
                        value,
                    });
                } else {
                    self.word(info);
                }
            }
            ast::CommandPrefixOrSuffixItem::IoRedirect(io) => self.redirect(f, io),
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                self.process_subs.push(sub);
                if let Some((mut s, e)) = f.range(&sub.loc) {
                    if s > 0 && matches!(f.text.as_bytes().get(s - 1), Some(b'<' | b'>')) {
                        s -= 1;
                    }
                    self.word(WordInfo {
                        value: f.slice(s, e).to_string(),
                        range: Some((s, e)),
                        subs: Vec::new(),
                    });
                }
            }
        }
    }

    fn redirect(&mut self, f: &Frag<'_>, io: &'a ast::IoRedirect) {
        match io {
            ast::IoRedirect::File(_, _, target) => match target {
                ast::IoFileRedirectTarget::Filename(w)
                | ast::IoFileRedirectTarget::Duplicate(w) => {
                    self.other_word(f, w);
                }
                ast::IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                    self.process_subs.push(sub);
                    self.extend(f.range(&sub.loc));
                }
                ast::IoFileRedirectTarget::Fd(_) => {}
            },
            ast::IoRedirect::HereDocument(_, doc) => self.other_word(f, &doc.here_end),
            ast::IoRedirect::HereString(_, w) | ast::IoRedirect::OutputAndError(w, _) => {
                self.other_word(f, w);
            }
        }
    }
}

/// True when a pipeline is a lone `true`, `:`, `/bin/true`, `/usr/bin/true` or `exit 0`.
fn is_neutraliser(f: &Frag<'_>, p: &ast::Pipeline) -> bool {
    if p.bang || p.seq.len() != 1 {
        return false;
    }
    let Some(ast::Command::Simple(cmd)) = p.seq.first() else {
        return false;
    };
    let mut words: Vec<String> = Vec::new();
    if let Some(w) = &cmd.word_or_name {
        words.push(read_word(f, w).value);
    }
    for item in cmd.suffix.iter().flat_map(|s| s.0.iter()) {
        match item {
            ast::CommandPrefixOrSuffixItem::Word(w) => words.push(read_word(f, w).value),
            ast::CommandPrefixOrSuffixItem::IoRedirect(_) => {}
            _ => return false,
        }
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(
        words.as_slice(),
        ["true" | ":" | "/bin/true" | "/usr/bin/true"] | ["exit", "0"]
    )
}

/// True when the second list starts on the line where the first ends.
fn same_line(a: &ast::AndOrList, b: &ast::AndOrList) -> bool {
    use brush_parser::ast::SourceLocation;
    match (a.location(), b.location()) {
        (Some(a), Some(b)) => a.end.line == b.start.line,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::shell::tests::{argvs, neutralised, pairs, parse};

    #[test]
    fn or_true_neutralises_the_whole_list() {
        assert_eq!(
            neutralised("npm run lint || true"),
            pairs(&[("npm run lint", true), ("true", true)])
        );
        assert_eq!(
            neutralised("a && b || exit 0"),
            pairs(&[("a", true), ("b", true), ("exit 0", true)])
        );
        assert_eq!(
            neutralised("npm audit || :"),
            pairs(&[("npm audit", true), (":", true)])
        );
        assert_eq!(
            neutralised("npm audit | tee out || /bin/true"),
            pairs(&[("npm audit", true), ("tee out", true), ("/bin/true", true)])
        );
    }

    #[test]
    fn other_fallbacks_do_not_neutralise() {
        assert_eq!(
            neutralised("npm run test:ci || npm test"),
            pairs(&[("npm run test:ci", false), ("npm test", false)])
        );
        assert_eq!(
            neutralised("a || exit 1\nb || exit\nc || true && d\ne || ! true\nf || echo failed"),
            pairs(&[
                ("a", false),
                ("exit 1", false),
                ("b", false),
                ("exit", false),
                ("c", false),
                ("true", false),
                ("d", false),
                ("e", false),
                ("true", false),
                ("f", false),
                ("echo failed", false),
            ])
        );
    }

    #[test]
    fn a_following_true_on_the_same_line_neutralises() {
        assert_eq!(
            neutralised("npm test; true"),
            pairs(&[("npm test", true), ("true", false)])
        );
        assert_eq!(
            neutralised("npm test ; exit 0"),
            pairs(&[("npm test", true), ("exit 0", false)])
        );
        assert_eq!(
            neutralised("npm test\ntrue"),
            pairs(&[("npm test", false), ("true", false)])
        );
        assert_eq!(
            neutralised("{ npm ci\n  npm test; true\n}"),
            pairs(&[("npm ci", false), ("npm test", true), ("true", false)])
        );
        assert_eq!(
            neutralised("npm test & true"),
            pairs(&[("npm test", false), ("true", false)])
        );
    }

    #[test]
    fn neutralised_compound_commands_neutralise_their_contents() {
        assert_eq!(
            neutralised("(cd app && npm test) || true"),
            pairs(&[("cd app", true), ("npm test", true), ("true", true)])
        );
        assert_eq!(
            neutralised("{ npm ci; npm test; } || exit 0"),
            pairs(&[("npm ci", true), ("npm test", true), ("exit 0", true)])
        );
    }

    #[test]
    fn walks_every_compound_command() {
        let script = r#"
set -euo pipefail
if npm run check; then
  npm run build
elif [ -f x ]; then
  echo elif
else
  echo else
fi
while read -r line; do echo "$line"; done < list.txt
until curl -f localhost; do sleep 1; done
for d in a b; do (cd "$d" && npm ci); done
for ((i = 0; i < 3; i++)); do echo "$i"; done
case "$MODE" in
  prod) npm ci --omit=dev ;;
  *) npm ci ;;
esac
deploy() {
  npm publish
}
[[ -n "$X" ]] && echo set
(( n > 1 )) && echo many
! grep -q x file
coproc npm start
"#;
        assert_eq!(
            argvs(&parse(script)),
            [
                "set -euo pipefail",
                "npm run check",
                "npm run build",
                "[ -f x ]",
                "echo elif",
                "echo else",
                "read -r line",
                "echo $line",
                "curl -f localhost",
                "sleep 1",
                "cd $d",
                "npm ci",
                "echo $i",
                "npm ci --omit=dev",
                "npm ci",
                "npm publish",
                "echo set",
                "echo many",
                "grep -q x file",
                "npm start",
            ]
        );
    }

    #[test]
    fn redirections_widen_the_command_but_are_not_arguments() {
        let commands = parse("npm ci > install.log 2>&1\ncat <<EOF\n((((((((((((((\nEOF\nnpm test");
        assert_eq!(argvs(&commands), ["npm ci", "cat", "npm test"]);
        assert_eq!(commands[0].text, "npm ci > install.log 2>&1");
        assert_eq!(commands[1].text, "cat <<EOF");
        assert_eq!(commands[2].loc.line, 5);
    }

    #[test]
    fn assignment_only_commands_are_not_returned() {
        assert_eq!(
            argvs(&parse("FOO=bar\nexport FOO\nBAZ=1 npm ci")),
            ["export FOO", "npm ci"]
        );
    }

    #[test]
    fn command_substitutions_are_walked() {
        let commands = parse("VERSION=$(npm pkg get version)\necho \"$(npm audit)\" `npm ls`");
        assert_eq!(
            commands
                .iter()
                .map(|c| (c.argv.join(" "), c.neutralised))
                .collect::<Vec<_>>(),
            pairs(&[
                ("npm pkg get version", false),
                ("npm audit", true),
                ("npm ls", true),
                ("echo $(npm audit) `npm ls`", false),
            ])
        );
        let version = &commands[0];
        assert_eq!(
            (version.loc.line, version.loc.col, version.loc.end_col),
            (1, 11, 30)
        );
        assert_eq!(version.text, "npm pkg get version");
        assert_eq!((commands[1].loc.line, commands[1].loc.col), (2, 9));
    }

    #[test]
    fn substitutions_in_loop_and_case_words_are_walked() {
        assert_eq!(
            neutralised(
                "for p in $(npm ls --parseable); do echo \"$p\"; done\ncase \"$(uname)\" in *) : ;; esac"
            ),
            pairs(&[
                ("npm ls --parseable", true),
                ("echo $p", false),
                ("uname", true),
                (":", false),
            ])
        );
    }

    #[test]
    fn process_substitutions_are_walked() {
        let commands = parse(
            "diff <(npm ls --all) expected.txt\nwhile read -r l; do :; done < <(npm outdated)",
        );
        assert_eq!(
            commands
                .iter()
                .map(|c| (c.argv.join(" "), c.neutralised))
                .collect::<Vec<_>>(),
            pairs(&[
                ("npm ls --all", true),
                ("diff <(npm ls --all) expected.txt", false),
                ("read -r l", false),
                (":", false),
                ("npm outdated", true),
            ])
        );
    }
}
