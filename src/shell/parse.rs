//! Parsing one fragment with brush-parser, its errors in file positions, and the pre-scan that
//! refuses, before parsing, what would make the parser slow or wrong (oversized or
//! pathologically nested scripts, here-document hazards).

use super::positions::{Frag, RawError};
use super::{MAX_MESSAGE_CHARS, MAX_NESTING, MAX_PAREN_RUN, MAX_PENDING_HEREDOCS};
use brush_parser::ast;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Parses one fragment with brush-parser after the pre-scan has accepted it.
pub(super) fn parse_fragment(frag: &Frag<'_>) -> Result<ast::Program, RawError> {
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

pub(super) fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&x| x == needle)
        .map(|p| p + from)
}

/// The index just past the `'` closing a `$'…'` string whose body starts at `from`.
pub(super) fn ansi_c_end(b: &[u8], from: usize) -> usize {
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
    pub(super) word: Vec<u8>,
    /// True for `<<-`, which strips leading tabs from the body's lines.
    dash: bool,
    /// True when the delimiter's text holds `$(`, `${` or a backquote, quoted or not.
    substitution: bool,
    /// True when no delimiter word follows the operator at all.
    missing: bool,
    /// True when a quote in the delimiter is never closed.
    unterminated: bool,
    /// Where the scan continues.
    pub(super) next: usize,
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

#[cfg(test)]
mod tests {
    use crate::shell::tests::on_small_stack;
    use crate::shell::{MAX_NESTING, MAX_SCRIPT_BYTES, ShellError, parse_script};

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
}
