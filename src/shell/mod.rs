//! Shell scripts: turns the text of an embedded script (a CI `run:` step, a `script:` entry, a
//! Dockerfile `RUN`) into the simple commands it runs, each with its words, its environment
//! prefix, whether its failure is neutralised, its file location, and package-manager facts.
//!
//! Parsing is done by brush-parser (a real bash parser); this module walks the resulting
//! syntax tree (lists, and-or lists, pipelines, subshells, brace groups, `if`/`while`/`until`/
//! `for`/`case` bodies and conditions, function bodies, process and command substitutions),
//! re-parses the script given to `bash -c`/`sh -c`, and looks through command wrappers
//! (`sudo`, `env`, `time`, `exec`, `nice`, `nohup`, `timeout`).
//!
//! Word values are taken from the script text itself (by the parser's spans) and unquoted
//! here, so that parameter expansions, command substitutions and GitHub expressions such as
//! `${{ github.sha }}` stay exactly as written.
//!
//! Nothing here panics on any input: the parser is guarded by a pre-scan that refuses
//! scripts nested deeper than it can parse within a small stack (or with long runs of
//! opening parentheses, on which the parser backtracks exponentially), parser panics are
//! caught, and every walk over the tree is depth-limited.

use serde::Serialize;

use crate::location::{LineIndex, Location};
pub use crate::pm::EnvAssignment;
use crate::pm::PmCommand;

mod parse;
mod positions;
mod walk;
mod words;
mod wrappers;

use parse::parse_fragment;
use positions::{Frag, Positioner};
use walk::Walker;

/// Scripts longer than this many bytes are not analysed.
const MAX_SCRIPT_BYTES: usize = 1 << 20;
/// The most commands analysed in one script: a script of thousands of `&&`-chained commands
/// is a generated blob, and every command it holds costs kilobytes of model downstream.
const MAX_SCRIPT_COMMANDS: usize = 2_000;
/// Deepest nesting of compound commands, substitutions and quotes that is analysed.
const MAX_NESTING: usize = 32;
/// Longest run of consecutive opening parentheses that is analysed.
const MAX_PAREN_RUN: usize = 10;
/// How many times a script inside a script (`bash -c`, `$( … )`) is parsed inside another.
const MAX_FRAGMENT_DEPTH: usize = 6;
/// Deepest recursion of the syntax-tree walk.
const MAX_WALK_DEPTH: usize = 256;
/// Most here-documents started on one line that are analysed.
const MAX_PENDING_HEREDOCS: usize = 16;
/// Longest error message kept from the parser, in characters.
const MAX_MESSAGE_CHARS: usize = 200;
/// Most command wrappers (`sudo env time …`) looked through on one command.
const MAX_WRAPPERS: usize = 8;

/// One simple command of a shell script: a program with its arguments.
///
/// Compound commands (`if`, loops, subshells, brace groups, functions) do not appear
/// themselves: the simple commands inside them do, in source order. Commands inside a
/// command substitution or process substitution come just before the command that contains
/// them. Assignment-only commands (`FOO=bar` with no program) are not returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Command {
    /// The command's words with quotes removed, including any wrappers (`sudo`, `env …`);
    /// parameter expansions, command substitutions and GitHub expressions are kept as
    /// written (`$FOO`, `${FOO}`, `$(date)`, `${{ github.sha }}`). `NAME=value` words written
    /// before the program are not included (see `env`).
    pub argv: Vec<String>,
    /// The program actually run, after `NAME=value` prefixes and the wrappers `sudo`, `env`,
    /// `time`, `exec`, `nice`, `nohup` and `timeout` (with their options) are skipped: e.g.
    /// `"npm"`. A path is kept as written (`"./scripts/backup.sh"`).
    pub program: String,
    /// The words after `program`.
    pub args: Vec<String>,
    /// The `NAME=value` assignments that apply to the command, in order: those inherited from
    /// an enclosing `NAME=value bash -c '…'`, those written before the command, and those
    /// given to an `env` or `sudo` wrapper.
    pub env: Vec<EnvAssignment>,
    /// The command's source text, from its first word to its last (continuation lines
    /// included as written).
    pub text: String,
    /// Where the command is in the file, from its first word to its last. Commands found in
    /// the script of a `bash -c "…"` share the location of that `bash -c` command.
    pub loc: Location,
    /// True when the command's failure cannot fail the script: the and-or list it belongs to
    /// ends in `|| true`, `|| :`, `|| /bin/true` or `|| exit 0` (every command of such a list
    /// is neutralised, the neutraliser included); or its list is followed, after `;` on the
    /// same line, by one of those commands (`npm test; true`); or it sits inside a
    /// neutralised subshell, brace group, compound command or `bash -c`; or it runs in a
    /// process substitution, or in a command substitution whose status is discarded (one
    /// inside an argument of another command; not `VAR=$(cmd)` alone). `a || b` does not
    /// neutralise `a`, and conditions of `if`/`while` are not counted as neutralised.
    pub neutralised: bool,
    /// Package-manager facts when the program is npm, yarn, pnpm, bun, npx or bunx (or
    /// `corepack` running one of them); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pm: Option<PmCommand>,
}

/// Why a script could not be analysed. Positions are 1-based file positions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    /// The script is not valid shell syntax as bash reads it.
    #[error("shell syntax error at line {line}, column {col}: {message}")]
    Parse {
        /// What is wrong, in words.
        message: String,
        /// The line of the file where the problem was detected.
        line: u32,
        /// The column of the file where the problem was detected.
        col: u32,
    },
    /// The script nests constructs deeper than is analysed.
    #[error("shell script not analysed at line {line}, column {col}: {message}")]
    TooComplex {
        /// What is too complex, in words.
        message: String,
        /// The line of the file where the limit was reached.
        line: u32,
        /// The column of the file where the limit was reached.
        col: u32,
    },
    /// The script runs more commands than are analysed.
    #[error("shell script not analysed: {count} commands is more than the {limit} analysed")]
    TooManyCommands {
        /// How many commands the script runs.
        count: usize,
        /// The most commands analysed in one script.
        limit: usize,
    },
    /// The script is longer than is analysed.
    #[error("shell script not analysed: {bytes} bytes is more than the {limit} analysed")]
    TooLarge {
        /// The script's length in bytes.
        bytes: usize,
        /// The longest script analysed, in bytes.
        limit: usize,
    },
}

/// `word` quoted for a shell command line, so that it parses back as the one word: left
/// bare when it holds only characters without meaning to the shell, else single-quoted.
pub fn quote_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Parses `script`, the text of a shell script found in `file` starting at line `first_line`,
/// column `first_col` (both 1-based), and returns its simple commands in source order.
///
/// Locations are file positions: a command on the script's third line is on line
/// `first_line + 2`; on the script's first line columns are shifted by `first_col - 1`, on
/// later lines they are the script's own. The text must keep its backslash-newline
/// continuations so that lines stay aligned with the file.
pub fn parse_script(
    script: &str,
    file: &str,
    first_line: u32,
    first_col: u32,
) -> Result<Vec<Command>, ShellError> {
    if script.len() > MAX_SCRIPT_BYTES {
        return Err(ShellError::TooLarge {
            bytes: script.len(),
            limit: MAX_SCRIPT_BYTES,
        });
    }
    // A carriage return before a newline would otherwise end up inside words; a space has
    // the same width in bytes and characters, so every offset is kept.
    let text = script.replace("\r\n", " \n");
    let positioner = Positioner {
        file,
        script: &text,
        ascii: text.is_ascii(),
        index: LineIndex::new(&text),
        first_line: first_line.max(1),
        first_col: first_col.max(1),
    };
    let frag = Frag::new(&text, Some(0), None, Vec::new(), 0);
    let program = parse_fragment(&frag).map_err(|e| positioner.error(e))?;
    let mut walker = Walker {
        pos: &positioner,
        out: Vec::new(),
    };
    walker.program(&frag, &program, false);
    if walker.out.len() > MAX_SCRIPT_COMMANDS {
        return Err(ShellError::TooManyCommands {
            count: walker.out.len(),
            limit: MAX_SCRIPT_COMMANDS,
        });
    }
    Ok(walker.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_parse_back_as_themselves() {
        for w in [
            "verify",
            "--max-warnings=0",
            "a b",
            "it's",
            "$HOME",
            "",
            "x;y",
            "*",
        ] {
            let cmds =
                parse_script(&format!("echo {}", quote_word(w)), "f", 1, 1).unwrap_or_default();
            assert_eq!(cmds.len(), 1, "{w}");
            assert_eq!(cmds[0].args, vec![w.to_string()], "{w}");
        }
    }

    /// Nested subshells with a space between the parentheses are subshells, not arithmetic,
    /// as bash reads them.
    #[test]
    fn nested_subshells_parse() {
        assert_eq!(argvs(&parse("( (npm run lint) )")), ["npm run lint"]);
        assert_eq!(
            argvs(&parse("( ( (npm test) && (npm run lint) ) )")),
            ["npm test", "npm run lint"]
        );
        assert_eq!(argvs(&parse("((x = 1 + 2))")), Vec::<String>::new());
    }

    pub(super) fn parse(script: &str) -> Vec<Command> {
        match parse_script(script, "ci.yml", 1, 1) {
            Ok(commands) => commands,
            Err(e) => panic!("{script:?} did not parse: {e}"),
        }
    }

    pub(super) fn argvs(commands: &[Command]) -> Vec<String> {
        commands.iter().map(|c| c.argv.join(" ")).collect()
    }

    pub(super) fn neutralised(script: &str) -> Vec<(String, bool)> {
        parse(script)
            .into_iter()
            .map(|c| (c.argv.join(" "), c.neutralised))
            .collect()
    }

    pub(super) fn pairs(expected: &[(&str, bool)]) -> Vec<(String, bool)> {
        expected.iter().map(|(a, n)| (a.to_string(), *n)).collect()
    }

    #[test]
    fn serializes_for_policies() {
        let commands = parse("make build");
        let json = serde_json::to_value(&commands[0]).unwrap_or_default();
        assert_eq!(json["program"], "make");
        assert_eq!(json["loc"]["line"], 1);
        assert_eq!(json["neutralised"], false);
        assert!(json.get("pm").is_none());
        let npm = serde_json::to_value(&parse("npm ci")[0]).unwrap_or_default();
        assert_eq!(npm["pm"]["action"], "install");
        assert_eq!(npm["pm"]["install"]["prod_only"], false);
    }

    /// Runs `f` on a thread with the 2 MiB stack that test and worker threads get, so that a
    /// stack overflow shows up here rather than only on smaller-stacked callers.
    pub(super) fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        match std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(f)
            .map(std::thread::JoinHandle::join)
        {
            Ok(Ok(v)) => v,
            _ => panic!("thread failed"),
        }
    }

    #[test]
    fn odd_inputs_never_panic() {
        let mut inputs: Vec<String> = [
            "",
            " ",
            "\n\n\n",
            "'",
            "\"",
            "`",
            "$(",
            "${",
            "$((",
            "$'",
            "\\",
            "echo \\",
            "cat <<EOF",
            "cat <<EOF\nnever ends",
            "cat <<-'X' <<Y\nx\nX\ny",
            "<<$( ($(",
            "cat <<x$( ($(",
            "cat <<`x` ($(",
            "$(<< (#",
            "echo \"$(cat <<\n#",
            "cat <<'' \n\nnpm ci",
            "$(\"\"é  #<< ;c ",
            "<<\"\\\n\"<#",
            "<<\"\"($(",
            "''$(($((()))<<\t;\\\n",
            "$(\"\"`'`<<\t)$(",
            "${<<$( &$(",
            "\"${{}\"\"\"<<$( <<<$(",
            "<<''é\"$( \t",
            "<<' 'é$(\t|#",
            "\"$(({)'')\"\"\"<<$(  $(",
            "a\0b \0 c",
            "\0",
            "((((",
            "))))",
            "{ { {",
            "} } }",
            "if",
            "fi",
            "case x in",
            "for",
            ";;",
            "&&",
            "|| true",
            "| x",
            "echo ${{",
            "echo ${{ }}}}",
            "echo }}{{",
            "bash -c",
            "bash -c '$('",
            "sudo",
            "sudo -u",
            "env -u",
            "timeout",
            "npm run",
            "npx -p",
            "yarn workspace",
            "f() {",
            "function",
            "[[ -n",
            "x=(",
            "x=( a b",
            "echo <(",
            "é\u{301}\u{202e}",
            "\u{feff}npm ci",
            "echo $'\\",
            "((((((((((((((((((((((((((((((((((((((((",
            "( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( ( (",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        inputs.push("(".repeat(10_000));
        inputs.push(format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000)));
        inputs.push(format!(
            "{}true{}",
            "( ".repeat(10_000),
            " )".repeat(10_000)
        ));
        inputs.push("$(".repeat(10_000));
        inputs.push("\"$(".repeat(10_000));
        inputs.push("${".repeat(10_000));
        inputs.push("`".repeat(10_001));
        inputs.push("if true; then ".repeat(10_000));
        inputs.push("{ ".repeat(10_000));
        inputs.push("bash -c \"".repeat(200));
        inputs.push(format!(
            "{}npm ci{}",
            "bash -c \"$(".repeat(12),
            ")\"".repeat(12)
        ));
        inputs.push("a && ".repeat(5_000) + "b");
        inputs.push("a | ".repeat(5_000) + "b");
        inputs.push("echo x; ".repeat(5_000));
        inputs.push("((".repeat(14));
        inputs.push("<<'".repeat(100_000));
        inputs.push("\"<<'".repeat(100_000));
        inputs.push("cat <<EOF ".repeat(1_000));
        for input in inputs {
            let started = std::time::Instant::now();
            let shown: String = input.chars().take(40).collect();
            let result = on_small_stack(move || parse_script(&input, "f", 1, 1).map(|c| c.len()));
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{shown:?} took {:?}",
                started.elapsed()
            );
            let _ = result;
        }
    }
}
