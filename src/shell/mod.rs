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

use std::panic::{AssertUnwindSafe, catch_unwind};

use brush_parser::ast;
use serde::Serialize;

use crate::location::{LineIndex, Location, to_u32};
pub use crate::pm::EnvAssignment;
use crate::pm::{self, PmCommand};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

// ---------------------------------------------------------------------------------------
// Positions

/// Turns byte offsets of the script into file locations.
struct Positioner<'s> {
    file: &'s str,
    script: &'s str,
    /// Whether `script` is ASCII, where byte and character offsets agree.
    ascii: bool,
    index: LineIndex,
    first_line: u32,
    first_col: u32,
}

impl Positioner<'_> {
    /// The script (line, column) of a byte offset. For ASCII text the column is a
    /// subtraction, which keeps very long lines cheap.
    fn script_pos(&self, offset: usize) -> (u32, u32) {
        if !self.ascii {
            return self.index.line_col(self.script, offset);
        }
        let offset = offset.min(self.script.len());
        let (mut lo, mut hi) = (1usize, self.index.line_count().max(1));
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self
                .index
                .line_start(to_u32(mid))
                .is_some_and(|start| start <= offset)
            {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let start = self.index.line_start(to_u32(lo)).unwrap_or(0);
        (to_u32(lo), to_u32(offset - start.min(offset) + 1))
    }

    /// The file (line, column) of a byte offset of the script.
    fn file_pos(&self, offset: usize) -> (u32, u32) {
        let (line, col) = self.script_pos(offset);
        let file_line = line.saturating_add(self.first_line - 1);
        let file_col = if line == 1 {
            col.saturating_add(self.first_col - 1)
        } else {
            col
        };
        (file_line, file_col)
    }

    fn location(&self, start: usize, end: usize) -> Location {
        let (line, col) = self.file_pos(start);
        let (end_line, end_col) = self.file_pos(end.max(start));
        Location {
            file: self.file.to_string(),
            line,
            col,
            end_line,
            end_col,
        }
    }

    fn error(&self, e: RawError) -> ShellError {
        let (line, col) = self.file_pos(e.offset);
        if e.too_complex {
            ShellError::TooComplex {
                message: e.message,
                line,
                col,
            }
        } else {
            ShellError::Parse {
                message: e.message,
                line,
                col,
            }
        }
    }
}

/// A piece of shell text being parsed: the whole script, a command substitution inside it,
/// or the (unquoted) script given to `bash -c`.
struct Frag<'t> {
    text: &'t str,
    /// Byte offset of every character of `text` (and of its end); `None` when `text` is
    /// ASCII, where character and byte offsets agree.
    char_bytes: Option<Vec<usize>>,
    /// Byte offset of `text` in the script; `None` when `text` is not a slice of the script.
    base: Option<usize>,
    /// The location given to every command of a text that is not a slice of the script.
    fixed: Option<Location>,
    /// Assignments inherited by every command of the text.
    env: Vec<EnvAssignment>,
    /// 0 for the script, one more for each script inside a script.
    level: usize,
}

impl<'t> Frag<'t> {
    fn new(
        text: &'t str,
        base: Option<usize>,
        fixed: Option<Location>,
        env: Vec<EnvAssignment>,
        level: usize,
    ) -> Self {
        let char_bytes = (!text.is_ascii()).then(|| {
            text.char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(text.len()))
                .collect()
        });
        Frag {
            text,
            char_bytes,
            base,
            fixed,
            env,
            level,
        }
    }

    /// The byte offset of a character index reported by the parser.
    fn byte(&self, char_index: usize) -> usize {
        match &self.char_bytes {
            None => char_index.min(self.text.len()),
            Some(bytes) => bytes.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    /// The byte range of a parser span.
    fn range(&self, span: &brush_parser::SourceSpan) -> Option<(usize, usize)> {
        let start = self.byte(span.start.index);
        let end = self.byte(span.end.index);
        (start <= end).then_some((start, end))
    }

    fn slice(&self, start: usize, end: usize) -> &'t str {
        self.text.get(start..end).unwrap_or("")
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

/// A parse failure before it is placed in the file: `offset` is a byte offset of the
/// fragment's text (of the script, for the root fragment).
struct RawError {
    message: String,
    offset: usize,
    too_complex: bool,
}

/// Parses one fragment with brush-parser after the pre-scan has accepted it.
fn parse_fragment(frag: &Frag<'_>) -> Result<ast::Program, RawError> {
    prescan(frag.text)?;
    let options = brush_parser::ParserOptions::default();
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        brush_parser::Parser::new(frag.text.as_bytes(), &options).parse_program()
    }));
    match parsed {
        Ok(Ok(program)) => Ok(program),
        Ok(Err(e)) => Err(convert_parse_error(frag, e)),
        Err(_) => Err(RawError {
            message: "the shell parser failed on this script".to_string(),
            offset: 0,
            too_complex: false,
        }),
    }
}

fn convert_parse_error(frag: &Frag<'_>, e: brush_parser::ParseError) -> RawError {
    use brush_parser::{ParseError, TokenizerError};
    let at = |p: &brush_parser::SourcePosition| frag.byte(p.index);
    let (message, offset) = match &e {
        ParseError::ParsingNear(p) => {
            let offset = at(p);
            let near: String = frag
                .text
                .get(offset..)
                .unwrap_or("")
                .chars()
                .take_while(|c| !c.is_whitespace())
                .take(20)
                .collect();
            let message = if near.is_empty() {
                "syntax error".to_string()
            } else {
                format!("syntax error near `{near}`")
            };
            (message, offset)
        }
        ParseError::ParsingAtEndOfInput => (
            "syntax error: unexpected end of script".to_string(),
            frag.text.len(),
        ),
        ParseError::Tokenizing { inner, position } => {
            let (message, pos) = match inner {
                TokenizerError::UnterminatedSingleQuote(p) => {
                    ("unterminated single quote", Some(p))
                }
                TokenizerError::UnterminatedDoubleQuote(p) => {
                    ("unterminated double quote", Some(p))
                }
                TokenizerError::UnterminatedAnsiCQuote(p) => ("unterminated $'…' quote", Some(p)),
                TokenizerError::UnterminatedBackquote(p) => ("unterminated backquote", Some(p)),
                TokenizerError::UnterminatedExtendedGlob(p) => {
                    ("unterminated extended glob", Some(p))
                }
                _ => ("", position.as_ref()),
            };
            let message = match inner {
                // Its own text quotes positions within the script, not the file.
                TokenizerError::UnterminatedHereDocuments(tags, _) => {
                    format!("unterminated here-document (delimiter {tags})")
                }
                _ if message.is_empty() => inner.to_string(),
                _ => message.to_string(),
            };
            (message, pos.map_or(frag.text.len(), at))
        }
    };
    let message = if message.chars().count() > MAX_MESSAGE_CHARS {
        let short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
        format!("{short}…")
    } else {
        message
    };
    RawError {
        message,
        offset,
        too_complex: false,
    }
}

/// Refuses texts that brush-parser cannot parse safely: nesting (of compound commands,
/// substitutions, expansions and quotes) deeper than [`MAX_NESTING`], which could exhaust
/// the stack; runs of more than [`MAX_PAREN_RUN`] opening parentheses, on which the parser
/// backtracks exponentially; and here-document operators without a plain delimiter word, on
/// which it can loop without end. The scan follows quoting, comments, arithmetic and
/// here-documents closely enough that ordinary scripts are never refused.
fn prescan(text: &str) -> Result<(), RawError> {
    let b = text.as_bytes();
    heredoc_hazards(b)?;
    // Open contexts: b'(' parenthesis or `$(`, b'a' arithmetic `((`/`$((`, b'{' brace,
    // b'$' `${`, b'"' and b'`'.
    let mut stack: Vec<u8> = Vec::new();
    let mut keywords = 0usize;
    let mut run = 0usize;
    let mut heredocs: Vec<(Vec<u8>, bool)> = Vec::new();
    let mut i = 0;
    let refuse = |message: String, offset: usize, too_complex: bool| RawError {
        message,
        offset,
        too_complex,
    };
    let too_deep = |offset: usize| {
        refuse(
            format!("constructs nested more than {MAX_NESTING} deep"),
            offset,
            true,
        )
    };
    while let Some(&c) = b.get(i) {
        if stack.len() + keywords > MAX_NESTING {
            return Err(too_deep(i));
        }
        let top = stack.last().copied();
        let next = b.get(i + 1).copied();
        let arithmetic = stack.contains(&b'a');
        if c == b'<' && next == Some(b'<') {
            if b.get(i + 2) == Some(&b'<') {
                i += 3;
                continue;
            }
            // In arithmetic `<<` is a shift, and in quotes it is text; elsewhere it starts a
            // here-document whose body the scan skips. (`heredoc_hazards` has already looked
            // at every `<<` without regard to context.)
            let code = !matches!(top, Some(b'"' | b'$')) && !arithmetic;
            let delimiter = read_heredoc_delimiter(b, i + 2, !code);
            let problem = heredoc_problem(&delimiter, code);
            if let Some((message, too_complex)) = problem {
                return Err(refuse(message.to_string(), i, too_complex));
            }
            if code {
                if heredocs.len() >= MAX_PENDING_HEREDOCS {
                    return Err(refuse(
                        format!("more than {MAX_PENDING_HEREDOCS} here-documents on one line"),
                        i,
                        true,
                    ));
                }
                heredocs.push((delimiter.word, delimiter.dash));
                i = delimiter.next;
            } else {
                i += 2;
            }
            run = 0;
            continue;
        }
        if top == Some(b'"') {
            match (c, next) {
                (b'\\', _) => i += 1,
                (b'"', _) => {
                    stack.pop();
                }
                (b'$', Some(b'(')) => {
                    stack.push(b'(');
                    i += 1;
                    if b.get(i + 1) == Some(&b'(') {
                        stack.push(b'a');
                        i += 1;
                    }
                }
                (b'$', Some(b'{')) => {
                    stack.push(b'$');
                    i += 1;
                }
                (b'`', _) => stack.push(b'`'),
                _ => {}
            }
            i += 1;
            continue;
        }
        let code = top != Some(b'$') && !arithmetic;
        let prev_delim = i == 0 || b.get(i - 1).is_some_and(|&p| is_delim(p));
        match c {
            b'\\' => {
                i += 2;
                run = 0;
                continue;
            }
            b'\'' => {
                i = find_byte(b, i + 1, b'\'').map_or(b.len(), |j| j + 1);
                run = 0;
                continue;
            }
            b'"' => stack.push(b'"'),
            b'`' => {
                if top == Some(b'`') {
                    stack.pop();
                } else {
                    stack.push(b'`');
                }
            }
            b'$' => match next {
                Some(b'(') => {
                    stack.push(b'(');
                    i += 2;
                    if b.get(i) == Some(&b'(') {
                        stack.push(b'a');
                        i += 1;
                    }
                    run = 0;
                    continue;
                }
                Some(b'{') => {
                    stack.push(b'$');
                    i += 2;
                    run = 0;
                    continue;
                }
                Some(b'\'') => {
                    i = ansi_c_end(b, i + 2);
                    run = 0;
                    continue;
                }
                _ => {}
            },
            b'(' if top != Some(b'$') => {
                stack.push(b'(');
                if next == Some(b'(') && top != Some(b'a') && !arithmetic {
                    stack.push(b'a');
                    i += 1;
                }
                run += 1;
                if run > MAX_PAREN_RUN {
                    return Err(refuse(
                        format!("more than {MAX_PAREN_RUN} opening parentheses in a row"),
                        i,
                        true,
                    ));
                }
                i += 1;
                continue;
            }
            b')' if matches!(top, Some(b'(' | b'a')) => {
                stack.pop();
            }
            b'{' => stack.push(b'{'),
            b'}' if matches!(top, Some(b'{' | b'$')) => {
                stack.pop();
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'\n' if code && !heredocs.is_empty() => {
                i = skip_heredoc_bodies(b, i + 1, &mut heredocs);
                continue;
            }
            b'\n' => {
                i += 1;
                continue;
            }
            b'#' if code && prev_delim => {
                let end = find_byte(b, i, b'\n').unwrap_or(b.len());
                i = end;
                run = 0;
                continue;
            }
            c if code && prev_delim && c.is_ascii_alphabetic() => {
                let mut j = i;
                while b.get(j).is_some_and(u8::is_ascii_alphanumeric) {
                    j += 1;
                }
                if b.get(j).is_none_or(|&n| is_delim(n)) {
                    match b.get(i..j).unwrap_or_default() {
                        b"if" | b"case" | b"for" | b"while" | b"until" | b"select" => {
                            keywords += 1;
                        }
                        b"fi" | b"esac" | b"done" => keywords = keywords.saturating_sub(1),
                        _ => {}
                    }
                }
                i = j;
                run = 0;
                continue;
            }
            _ => {}
        }
        run = 0;
        i += 1;
    }
    if stack.len() + keywords > MAX_NESTING {
        return Err(too_deep(b.len()));
    }
    Ok(())
}

/// True for bytes that end a shell word.
fn is_delim(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>'
    )
}

fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&x| x == needle)
        .map(|p| p + from)
}

/// The index just past the `'` closing a `$'…'` string whose body starts at `from`.
fn ansi_c_end(b: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'\'' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The delimiter of a here-document, as read by the pre-scan.
struct HeredocDelimiter {
    /// The delimiter with quotes removed.
    word: Vec<u8>,
    /// True for `<<-`, which strips leading tabs from the body's lines.
    dash: bool,
    /// True when the delimiter's text holds `$(`, `${` or a backquote, quoted or not.
    substitution: bool,
    /// True when no delimiter word follows the operator at all.
    missing: bool,
    /// True when a quote in the delimiter is never closed.
    unterminated: bool,
    /// Where the scan continues.
    next: usize,
}

/// Reads the delimiter of a here-document whose operator `<<` ends just before `from`.
/// When `bounded`, reading stops at the end of the line and after a few hundred bytes.
fn read_heredoc_delimiter(b: &[u8], from: usize, bounded: bool) -> HeredocDelimiter {
    const WINDOW: usize = 256;
    let mut i = from;
    let dash = b.get(i) == Some(&b'-');
    if dash {
        i += 1;
    }
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    let word_start = i;
    let limit = if bounded {
        let window_end = i.saturating_add(WINDOW).min(b.len());
        let window = b.get(i..window_end).unwrap_or_default();
        window
            .iter()
            .position(|&c| c == b'\n')
            .map_or(window_end, |p| i + p)
    } else {
        b.len()
    };
    let mut word = Vec::new();
    let mut quote: Option<u8> = None;
    while let Some(&c) = b.get(i).filter(|_| i < limit) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'\\' => {
                if let Some(&n) = b.get(i + 1) {
                    word.push(n);
                }
                i += 1;
            }
            None if is_delim(c) => break,
            None => word.push(c),
        }
        i += 1;
    }
    // The delimiter's text and the byte after it, within its line.
    let raw = b
        .get(word_start..i.saturating_add(1).min(b.len()))
        .unwrap_or_default();
    let raw = raw.split(|&c| c == b'\n').next().unwrap_or_default();
    let substitution = raw.contains(&b'`')
        || raw
            .windows(2)
            .any(|w| w == b"$(".as_slice() || w == b"${".as_slice());
    HeredocDelimiter {
        word,
        dash,
        substitution,
        missing: i == word_start,
        unterminated: quote.is_some(),
        next: i.min(b.len()),
    }
}

/// Refuses here-document operators on which brush-parser can loop without end, wherever
/// they are: this pass ignores quoting and comments, because in odd texts the parser's idea
/// of them can differ from the main pre-scan's. It refuses a delimiter holding a
/// substitution, an operator with no delimiter word after it, and an empty quoted delimiter.
fn heredoc_hazards(b: &[u8]) -> Result<(), RawError> {
    let mut i = 0;
    while i < b.len() {
        if b.get(i) != Some(&b'<') {
            i += 1;
            continue;
        }
        let start = i;
        while b.get(i) == Some(&b'<') {
            i += 1;
        }
        if i - start != 2 {
            continue;
        }
        let d = read_heredoc_delimiter(b, i, true);
        let problem = if d.substitution {
            Some((
                "a here-document delimiter with a substitution is not supported",
                true,
            ))
        } else if d.missing && b.get(d.next) != Some(&b'(') {
            Some(("a here-document operator without a delimiter", false))
        } else if d.word.is_empty() && !d.missing && !d.unterminated {
            Some(("an empty here-document delimiter is not supported", true))
        } else {
            None
        };
        if let Some((message, too_complex)) = problem {
            return Err(RawError {
                message: message.to_string(),
                offset: start,
                too_complex,
            });
        }
    }
    Ok(())
}

/// What makes a here-document delimiter unsafe to give to brush-parser, which can loop
/// without end on these: the message and whether it is a limit of this checker (rather than
/// invalid shell). `code` is false where the scan thinks the operator is quoted text.
fn heredoc_problem(d: &HeredocDelimiter, code: bool) -> Option<(&'static str, bool)> {
    if d.substitution {
        Some((
            "a here-document delimiter with a substitution is not supported",
            true,
        ))
    } else if !code {
        None
    } else if d.missing {
        Some(("a here-document operator without a delimiter", false))
    } else if d.unterminated {
        Some(("an unterminated quote in a here-document delimiter", false))
    } else if d.word.is_empty() {
        Some(("an empty here-document delimiter is not supported", true))
    } else if d.word.contains(&b'\n') {
        Some((
            "a here-document delimiter spanning lines is not supported",
            true,
        ))
    } else {
        None
    }
}

/// Skips the bodies of the pending here-documents, which start at `from`; returns the index
/// of the first line after the last body.
fn skip_heredoc_bodies(b: &[u8], from: usize, pending: &mut Vec<(Vec<u8>, bool)>) -> usize {
    let mut pos = from;
    for (delimiter, dash) in pending.drain(..) {
        loop {
            if pos >= b.len() {
                return b.len();
            }
            let end = find_byte(b, pos, b'\n').unwrap_or(b.len());
            let mut line = b.get(pos..end).unwrap_or_default();
            if dash {
                while let Some(rest) = line.strip_prefix(b"\t") {
                    line = rest;
                }
            }
            pos = end + 1;
            if line == delimiter.as_slice() {
                break;
            }
        }
    }
    pos.min(b.len())
}

// ---------------------------------------------------------------------------------------
// Words

/// One word of a command: its unquoted value, where it is, and the command substitutions in
/// it.
struct WordInfo {
    value: String,
    /// Byte range in the fragment's text.
    range: Option<(usize, usize)>,
    /// Byte ranges (in the fragment's text) of the scripts of `$( … )` and backquote
    /// substitutions.
    subs: Vec<(usize, usize)>,
}

/// Reads a word: from the script text where the parser gives its span, else from the
/// parser's value.
fn read_word(f: &Frag<'_>, w: &ast::Word) -> WordInfo {
    if let Some((s, e)) = w.loc.as_ref().and_then(|l| f.range(l)) {
        let (s, e) = trim_range(f.text, s, e);
        let raw = f.slice(s, e);
        if !raw.is_empty() {
            let (value, subs) = unquote(raw);
            return WordInfo {
                value,
                range: Some((s, e)),
                subs: subs.into_iter().map(|(a, z)| (a + s, z + s)).collect(),
            };
        }
    }
    let (value, _) = unquote(&w.value);
    WordInfo {
        value,
        range: None,
        subs: Vec::new(),
    }
}

/// Narrows a word's byte range to the word itself: the parser's span can start with the
/// blanks and line continuations before it.
fn trim_range(text: &str, mut s: usize, mut e: usize) -> (usize, usize) {
    let b = text.as_bytes();
    while s < e {
        match b.get(s) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => s += 1,
            Some(b'\\') if b.get(s + 1) == Some(&b'\n') => s += 2,
            _ => break,
        }
    }
    while e > s {
        let escaped = e >= 2 && b.get(e - 2) == Some(&b'\\');
        match b.get(e - 1) {
            Some(b' ' | b'\t' | b'\r') if !escaped => e -= 1,
            Some(b'\n') if escaped => e -= 2,
            Some(b'\n') => e -= 1,
            _ => break,
        }
    }
    (s.min(e), e)
}

/// Removes shell quoting from one word as written: single and double quotes, `$'…'` and
/// `$"…"` strings and backslash escapes; a backslash-newline disappears. Parameter
/// expansions, arithmetic and command substitutions (and `${{ … }}` expressions) are kept as
/// written. Also returns the byte ranges of the scripts of `$( … )` and backquote
/// substitutions within `raw`.
fn unquote(raw: &str) -> (String, Vec<(usize, usize)>) {
    let b = raw.as_bytes();
    let slice = |s: usize, e: usize| raw.get(s..e).unwrap_or("");
    let mut out = String::with_capacity(raw.len());
    let mut subs = Vec::new();
    let mut in_dq = false;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let next = b.get(i + 1).copied();
        match c {
            b'\\' => match next {
                None => {
                    out.push('\\');
                    i += 1;
                }
                Some(b'\n') => i += 2,
                Some(n) if in_dq && !matches!(n, b'$' | b'`' | b'"' | b'\\') => {
                    out.push('\\');
                    i += 1;
                }
                Some(_) => {
                    let len = raw
                        .get(i + 1..)
                        .and_then(|r| r.chars().next())
                        .map_or(1, char::len_utf8);
                    out.push_str(slice(i + 1, i + 1 + len));
                    i += 1 + len;
                }
            },
            b'"' => {
                in_dq = !in_dq;
                i += 1;
            }
            b'\'' if !in_dq => {
                let end = find_byte(b, i + 1, b'\'').unwrap_or(b.len());
                out.push_str(slice(i + 1, end));
                i = end + 1;
            }
            b'$' if !in_dq && next == Some(b'\'') => i = ansi_c(raw, i + 2, &mut out),
            b'$' if !in_dq && next == Some(b'"') => {
                in_dq = true;
                i += 2;
            }
            b'$' if matches!(next, Some(b'(' | b'{')) => {
                let paren = next == Some(b'(');
                let end = matching_end(b, i + 2, if paren { b')' } else { b'}' });
                out.push_str(slice(i, end));
                let closed = end >= i + 3 && b.get(end - 1) == Some(&b')');
                if paren && closed && b.get(i + 2) != Some(&b'(') {
                    subs.push((i + 2, end - 1));
                }
                i = end;
            }
            b'`' => {
                let end = matching_end(b, i + 1, b'`');
                out.push_str(slice(i, end));
                if end >= i + 2 && b.get(end - 1) == Some(&b'`') {
                    subs.push((i + 1, end - 1));
                }
                i = end;
            }
            _ => {
                let start = i;
                i += 1;
                while b
                    .get(i)
                    .is_some_and(|&x| !matches!(x, b'\\' | b'"' | b'\'' | b'$' | b'`'))
                {
                    i += 1;
                }
                out.push_str(slice(start, i));
            }
        }
    }
    (out, subs)
}

/// Appends the value of a `$'…'` string whose body starts at `from`; returns the index just
/// past its closing quote.
fn ansi_c(raw: &str, from: usize, out: &mut String) -> usize {
    let end = ansi_c_end(raw.as_bytes(), from);
    let body_end = if raw.as_bytes().get(end.wrapping_sub(1)) == Some(&b'\'') && end > from {
        end - 1
    } else {
        end
    };
    let body = raw.get(from..body_end).unwrap_or("");
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('e' | 'E') => out.push('\u{1b}'),
            Some(c @ ('\\' | '\'' | '"' | '?')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    end
}

/// The index just past the `closer` that ends a construct whose body starts at `from`,
/// following nested substitutions, expansions and quotes; the text's end when unclosed.
fn matching_end(b: &[u8], from: usize, closer: u8) -> usize {
    let mut stack = vec![closer];
    let mut i = from;
    while let Some(&c) = b.get(i) {
        let Some(&top) = stack.last() else {
            return i;
        };
        let next = b.get(i + 1).copied();
        match top {
            b'"' => match c {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' if next == Some(b'(') => {
                    stack.push(b')');
                    i += 1;
                }
                b'$' if next == Some(b'{') => {
                    stack.push(b'}');
                    i += 1;
                }
                b'`' => stack.push(b'`'),
                _ => {}
            },
            b'`' => match c {
                b'\\' => i += 1,
                b'`' => {
                    stack.pop();
                }
                _ => {}
            },
            _ => match c {
                b'\\' => i += 1,
                b'\'' => i = find_byte(b, i + 1, b'\'').unwrap_or(b.len()),
                b'"' => stack.push(b'"'),
                b'`' => stack.push(b'`'),
                b'$' if next == Some(b'(') => {
                    stack.push(b')');
                    i += 1;
                }
                b'$' if next == Some(b'{') => {
                    stack.push(b'}');
                    i += 1;
                }
                b'(' if top == b')' => stack.push(b')'),
                b'{' if top == b'}' => stack.push(b'}'),
                _ if c == top => {
                    stack.pop();
                }
                _ => {}
            },
        }
        i += 1;
        if stack.is_empty() {
            return i.min(b.len());
        }
    }
    b.len()
}

/// The file name of a program path.
fn base_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Splits `NAME=value` when NAME is a valid variable name.
fn split_assignment(word: &str) -> Option<EnvAssignment> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then(|| EnvAssignment {
        name: name.to_string(),
        value: value.to_string(),
    })
}

// ---------------------------------------------------------------------------------------
// Wrappers and `bash -c`

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
fn unwrap_wrappers(argv: &[String]) -> (usize, Vec<EnvAssignment>) {
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
fn shell_c_script<'a>(program: &str, args: &'a [String]) -> Option<&'a str> {
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

// ---------------------------------------------------------------------------------------
// The walk

/// Collects the simple commands of a syntax tree.
struct Walker<'p> {
    pos: &'p Positioner<'p>,
    out: Vec<Command>,
}

impl Walker<'_> {
    fn program(&mut self, f: &Frag<'_>, program: &ast::Program, neut: bool) {
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
    fn location(&self, f: &Frag<'_>, range: Option<(usize, usize)>) -> Location {
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
    env: Vec<EnvAssignment>,
    /// Byte range from the first word to the last (redirection targets included).
    extent: Option<(usize, usize)>,
    word_subs: Vec<(usize, usize)>,
    assignment_subs: Vec<(usize, usize)>,
    process_subs: Vec<&'a ast::SubshellCommand>,
}

impl<'a> Parts<'a> {
    fn extend(&mut self, range: Option<(usize, usize)>) {
        if let Some((s, e)) = range {
            self.extent = Some(match self.extent {
                Some((a, z)) => (a.min(s), z.max(e)),
                None => (s, e),
            });
        }
    }

    fn word(&mut self, w: WordInfo) {
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

    fn parse(script: &str) -> Vec<Command> {
        match parse_script(script, "ci.yml", 1, 1) {
            Ok(commands) => commands,
            Err(e) => panic!("{script:?} did not parse: {e}"),
        }
    }

    fn argvs(commands: &[Command]) -> Vec<String> {
        commands.iter().map(|c| c.argv.join(" ")).collect()
    }

    fn neutralised(script: &str) -> Vec<(String, bool)> {
        parse(script)
            .into_iter()
            .map(|c| (c.argv.join(" "), c.neutralised))
            .collect()
    }

    fn pairs(expected: &[(&str, bool)]) -> Vec<(String, bool)> {
        expected.iter().map(|(a, n)| (a.to_string(), *n)).collect()
    }

    #[test]
    fn splits_and_lists_into_commands_with_locations() {
        let commands =
            parse_script("cd app && npm run build", "ci.yml", 12, 14).unwrap_or_default();
        assert_eq!(argvs(&commands), ["cd app", "npm run build"]);
        let npm = &commands[1];
        assert_eq!(npm.program, "npm");
        assert_eq!(npm.args, ["run", "build"]);
        assert_eq!(npm.text, "npm run build");
        assert_eq!(
            npm.loc,
            Location {
                file: "ci.yml".into(),
                line: 12,
                col: 24,
                end_line: 12,
                end_col: 37
            }
        );
        assert_eq!(commands[0].loc.col, 14);
        assert!(commands[0].pm.is_none());
        let pm = npm
            .pm
            .as_ref()
            .map(|p| (p.action.as_str(), p.script.as_deref()));
        assert_eq!(pm, Some(("script", Some("build"))));
    }

    #[test]
    fn multi_line_scripts_keep_file_lines_and_continuations() {
        let script =
            "npm ci \\\n  --omit=dev\n\n# a comment\n  npm run lint -- --fix # trailing\nnpm test";
        let commands = parse_script(script, "ci.yml", 10, 7).unwrap_or_default();
        assert_eq!(
            argvs(&commands),
            ["npm ci --omit=dev", "npm run lint -- --fix", "npm test"]
        );
        let first = &commands[0];
        assert_eq!(first.text, "npm ci \\\n  --omit=dev");
        assert_eq!(
            (
                first.loc.line,
                first.loc.col,
                first.loc.end_line,
                first.loc.end_col
            ),
            (10, 7, 11, 13)
        );
        let lint = &commands[1];
        assert_eq!(lint.text, "npm run lint -- --fix");
        assert_eq!((lint.loc.line, lint.loc.col, lint.loc.end_col), (14, 3, 24));
        assert_eq!(
            lint.pm.as_ref().map(|p| p.args.clone()),
            Some(vec!["--fix".to_string()])
        );
        assert_eq!((commands[2].loc.line, commands[2].loc.col), (15, 1));
        let install = first.pm.as_ref().and_then(|p| p.install.clone());
        assert_eq!(install.map(|i| i.prod_only), Some(true));
    }

    #[test]
    fn columns_count_characters() {
        let commands = parse("echo \"héllo wörld\" && npm ci");
        assert_eq!(commands[0].argv, ["echo", "héllo wörld"]);
        assert_eq!((commands[1].loc.col, commands[1].loc.end_col), (23, 29));
        assert_eq!(commands[1].text, "npm ci");
    }

    #[test]
    fn crlf_line_ends_stay_out_of_words() {
        let commands = parse("npm ci\r\nnpm test\r\n");
        assert_eq!(argvs(&commands), ["npm ci", "npm test"]);
        assert_eq!(commands[1].loc.line, 2);
    }

    #[test]
    fn removes_quotes_and_keeps_expansions() {
        let commands = parse(
            r#"echo "a b" 'c d' e\ f $'x\ty' "$FOO" "${BAR:-x y}" $(date +%s) "`id -u`" pre"mid"'post'"#,
        );
        assert_eq!(
            commands.last().map(|c| c.argv.clone()).unwrap_or_default(),
            [
                "echo",
                "a b",
                "c d",
                "e f",
                "x\ty",
                "$FOO",
                "${BAR:-x y}",
                "$(date +%s)",
                "`id -u`",
                "premidpost"
            ]
        );
    }

    #[test]
    fn github_expressions_survive_as_literal_text() {
        let commands = parse(
            "npm run ${{ matrix.task }} -- --shard=${{ matrix.shard }}/4\n\
             echo \"${{ github.sha }}\" ${{ github.event_name == 'push' && 'a b' || 'c' }}\n\
             docker build -t app:${{ github.sha }} .",
        );
        let run = &commands[0];
        assert_eq!(
            run.argv,
            [
                "npm",
                "run",
                "${{ matrix.task }}",
                "--",
                "--shard=${{ matrix.shard }}/4"
            ]
        );
        assert_eq!(
            run.pm.as_ref().and_then(|p| p.script.clone()).as_deref(),
            Some("${{ matrix.task }}")
        );
        assert_eq!(
            commands[1].argv,
            [
                "echo",
                "${{ github.sha }}",
                "${{ github.event_name == 'push' && 'a b' || 'c' }}"
            ]
        );
        assert_eq!(commands[2].argv[3], "app:${{ github.sha }}");
    }

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
    fn words_split_by_the_parser_around_here_documents_are_rejoined() {
        let commands = parse("cat <<EOF | npm ci --prefix \"$(pwd)\"\nbody\nEOF\n");
        assert_eq!(argvs(&commands), ["cat", "pwd", "npm ci --prefix $(pwd)"]);
    }

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

    #[test]
    fn syntax_errors_are_reported_in_file_positions() {
        let cases: &[(&str, u32, u32, &str)] = &[
            ("npm run \"lint", 5, 12, "unterminated double quote"),
            ("echo 'unclosed", 5, 9, "unterminated single quote"),
            ("echo `x", 5, 9, "unterminated backquote"),
            ("echo $(", 5, 11, "unterminated expansion"),
            ("echo ok\nif then fi", 6, 9, "syntax error near `fi`"),
            ("echo ok\n)(", 6, 1, "syntax error near `)(`"),
            (
                "for x in; do",
                5,
                16,
                "syntax error: unexpected end of script",
            ),
            (
                "cat <<EOF\nno end",
                6,
                7,
                "unterminated here-document (delimiter EOF)",
            ),
        ];
        for (script, line, col, message) in cases {
            let expected = ShellError::Parse {
                message: message.to_string(),
                line: *line,
                col: *col,
            };
            assert_eq!(
                parse_script(script, "ci.yml", 5, 4),
                Err(expected),
                "{script:?}"
            );
        }
        let e = parse_script("npm run \"lint", "ci.yml", 5, 4).err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("shell syntax error at line 5, column 12: unterminated double quote")
        );
    }

    #[test]
    fn oversized_scripts_are_refused() {
        let big = "echo x\n".repeat(MAX_SCRIPT_BYTES / 7 + 1);
        assert!(matches!(
            parse_script(&big, "f", 1, 1),
            Err(ShellError::TooLarge { .. })
        ));
    }

    /// Runs `f` on a thread with the 2 MiB stack that test and worker threads get, so that a
    /// stack overflow shows up here rather than only on smaller-stacked callers.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
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
    fn nesting_up_to_the_limit_parses_and_beyond_is_refused() {
        let n = MAX_NESTING - 1;
        /// A construct's name and a builder of the construct nested `n` deep.
        type Builder = (&'static str, fn(usize) -> String);
        let builders: Vec<Builder> = vec![
            ("if", |n| {
                format!("{}npm ci{}", "if true; then ".repeat(n), "; fi".repeat(n))
            }),
            ("brace", |n| {
                format!("{}npm ci;{}", "{ ".repeat(n), " };".repeat(n))
            }),
            ("subshell", |n| {
                format!("{}npm ci{}", "( true; ".repeat(n), " )".repeat(n))
            }),
            ("while", |n| {
                format!(
                    "{}npm ci{}",
                    "while true; do ".repeat(n),
                    "; done".repeat(n)
                )
            }),
            ("case", |n| {
                format!(
                    "{}npm ci{}",
                    "case x in x) ".repeat(n),
                    " ;; esac".repeat(n)
                )
            }),
            ("cmdsub", |n| {
                format!("echo {}npm ci{}", "$(echo ".repeat(n), ")".repeat(n))
            }),
            ("quoted", |n| {
                format!(
                    "echo \"{}npm ci{}\"",
                    "$(echo \"".repeat(n / 2),
                    "\")".repeat(n / 2)
                )
            }),
            ("param", |n| {
                format!("echo {}x{}", "${x:-".repeat(n), "}".repeat(n))
            }),
            ("backq", |n| {
                format!(
                    "echo {}npm ci{}",
                    "$(bash -c \"".repeat(n / 2),
                    "\")".repeat(n / 2)
                )
            }),
            ("mixed", |n| {
                let mut s = String::new();
                for i in 0..n / 4 {
                    s.push_str(["if true; then ", "{ ", "( true; ", "for x in y; do "][i % 4]);
                    s.push_str("$(echo ");
                }
                s.push_str("npm ci");
                for i in (0..n / 4).rev() {
                    s.push(')');
                    s.push_str(["; fi", "; }", " )", "; done"][i % 4]);
                }
                s
            }),
        ];
        for (name, build) in builders {
            let at_limit = build(n);
            let result = on_small_stack(move || parse_script(&at_limit, "f", 1, 1));
            assert!(result.is_ok(), "{name} at the limit: {result:?}");
            let over = build(MAX_NESTING * 3);
            let result = on_small_stack(move || parse_script(&over, "f", 1, 1));
            assert!(
                matches!(
                    result,
                    Err(ShellError::TooComplex { .. } | ShellError::Parse { .. })
                ),
                "{name} over the limit: {result:?}"
            );
        }
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
