//! Text-level helpers shared by the JavaScript/TypeScript scan and the tsconfig reader, below
//! both: a conservative pre-scan of how deep the (recursive) parser would nest on a text
//! ([`too_deeply_nested`]), and normalised joining of relative paths ([`join_path`]).

/// `dir/rel` normalised (`.` and `..` applied); `None` when it leaves the root.
pub fn join_path(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// A conservative estimate of how deep the parser would recurse on `text`, compared with
/// `limit`. It follows comments, strings, template literals and (roughly) regular
/// expressions, and adds to the bracket depth the chains of constructs the parser handles
/// recursively without brackets (`a = b = ...`, `a ? b : c ? ...`, `x => y => ...`, unary
/// operators, `if`/`else`/loop bodies, JSX elements), counted since the last `;`, `,` or
/// line break that ends an expression. A line that ends in a statement head (`if (a)`,
/// `while (x)`, `else`, `do`) does not end the chain: its body is the next line, parsed one
/// level deeper (`if (a)` on 23,000 lines is 23,000 levels).
pub fn too_deeply_nested(text: &str, limit: usize) -> bool {
    nesting_estimate(text, limit) > limit
}

/// The nesting estimate of [`too_deeply_nested`], computed until it exceeds `stop_above`.
pub(crate) fn nesting_estimate(text: &str, stop_above: usize) -> usize {
    let b = text.as_bytes();
    let mut max = 0usize;
    // Open brackets: the chain count outside each, whether it is a template's `${`, and
    // whether it is the condition of a statement head (`if (`, `for (`, `while (`, `with (`).
    let mut levels: Vec<(usize, bool, bool)> = Vec::new();
    let mut base = 0usize;
    let mut run = 0usize;
    // The last significant byte of code (`(` after a keyword that allows a regex, `a` after
    // an operand).
    let mut prev: u8 = b';';
    let mut i = 0;
    while i < b.len() {
        max = max.max(base + run);
        if max > stop_above {
            return max;
        }
        let c = b[i];
        let next = b.get(i + 1).copied().unwrap_or(0);
        match c {
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'\n' => {
                if !continues_expression(prev) {
                    run = 0;
                }
                i += 1;
                continue;
            }
            b'/' if next == b'/' => {
                i = find_from(b, i + 2, b'\n').unwrap_or(b.len());
                continue;
            }
            b'/' if next == b'*' => {
                i = b[i + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(b.len(), |p| i + 2 + p + 2);
                continue;
            }
            b'/' if next == b'>' => {
                run = run.saturating_sub(1);
                i += 2;
                prev = b'>';
                continue;
            }
            b'/' if regex_allowed(prev) => {
                i = skip_regex(b, i + 1);
                prev = b'a';
                continue;
            }
            b'\'' | b'"' => {
                i = skip_string(b, i + 1, c);
                prev = b'a';
                continue;
            }
            b'`' => {
                match skip_template(b, i + 1) {
                    (j, true) => {
                        levels.push((run, true, false));
                        base += run + 1;
                        run = 0;
                        i = j;
                        prev = b'(';
                    }
                    (j, false) => {
                        i = j;
                        prev = b'a';
                    }
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                levels.push((run, false, c == b'(' && prev == STATEMENT_KEYWORD));
                base += run + 1;
                run = 0;
            }
            b')' | b']' | b'}' => {
                if let Some((outer, template, head)) = levels.pop() {
                    base -= outer + 1;
                    run = outer;
                    if head && c == b')' {
                        // The body of `if (...)` follows, possibly on the next line.
                        prev = STATEMENT_HEAD;
                        i += 1;
                        continue;
                    }
                    if template && c == b'}' {
                        // Back in the template's text.
                        match skip_template(b, i + 1) {
                            (j, true) => {
                                levels.push((run, true, false));
                                base += run + 1;
                                run = 0;
                                i = j;
                                prev = b'(';
                            }
                            (j, false) => {
                                i = j;
                                prev = b'a';
                            }
                        }
                        continue;
                    }
                }
            }
            b';' | b',' => run = 0,
            b'?' => {
                if next == b'?' || (next == b'.' && !b.get(i + 2).is_some_and(u8::is_ascii_digit)) {
                    i += 2;
                    prev = b'?';
                    continue;
                }
                run += 1;
            }
            b'=' => {
                if next == b'=' {
                    i += if b.get(i + 2) == Some(&b'=') { 3 } else { 2 };
                    prev = b'=';
                    continue;
                }
                run += 1;
                if next == b'>' {
                    i += 2;
                    prev = b'>';
                    continue;
                }
            }
            b'!' => {
                if next == b'=' {
                    i += 2;
                    prev = b'=';
                    continue;
                }
                run += 1;
            }
            b'~' => run += 1,
            b'+' | b'-' => {
                if next == c {
                    i += 2;
                    continue;
                }
                if regex_allowed(prev) {
                    run += 1;
                }
            }
            b'*' if next == b'*' => {
                run += 1;
                i += 2;
                prev = b'*';
                continue;
            }
            b'<' => {
                // JSX elements and type arguments nest recursively; `</` closes an element.
                if next == b'/' {
                    run = run.saturating_sub(1);
                } else if next == b'<' || next == b'=' {
                    i += 2;
                    prev = b'<';
                    continue;
                } else {
                    run += 1;
                }
            }
            b':' => run += 1,
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &b[start..i];
                if RECURSIVE_KEYWORDS.contains(&word) {
                    run += 1;
                }
                prev = if word == b"else" || word == b"do" {
                    STATEMENT_HEAD
                } else if HEAD_KEYWORDS.contains(&word) {
                    STATEMENT_KEYWORD
                } else if REGEX_KEYWORDS.contains(&word) {
                    b'('
                } else {
                    b'a'
                };
                continue;
            }
            _ => {}
        }
        prev = c;
        i += 1;
    }
    max.max(base + run)
}

/// Keywords whose operand or body the parser parses recursively.
const RECURSIVE_KEYWORDS: &[&[u8]] = &[
    b"typeof", b"void", b"delete", b"await", b"new", b"yield", b"if", b"else", b"for", b"while",
    b"do", b"with",
];

/// Keywords followed by a parenthesised head and then a statement body.
const HEAD_KEYWORDS: &[&[u8]] = &[b"if", b"for", b"while", b"with"];

/// `prev` of [`nesting_estimate`] right after a keyword of [`HEAD_KEYWORDS`].
const STATEMENT_KEYWORD: u8 = 1;

/// `prev` of [`nesting_estimate`] after a complete statement head (`if (a)`, `else`, `do`):
/// a body follows, and a line break does not end the chain.
const STATEMENT_HEAD: u8 = 2;

/// Keywords after which a `/` starts a regular expression.
const REGEX_KEYWORDS: &[&[u8]] = &[
    b"return",
    b"typeof",
    b"case",
    b"do",
    b"else",
    b"in",
    b"of",
    b"new",
    b"delete",
    b"void",
    b"throw",
    b"yield",
    b"await",
    b"instanceof",
];

/// Whether a line ending in `prev` continues an expression onto the next line.
fn continues_expression(prev: u8) -> bool {
    matches!(
        prev,
        STATEMENT_KEYWORD
            | STATEMENT_HEAD
            | b'='
            | b'+'
            | b'-'
            | b'*'
            | b'/'
            | b'%'
            | b'&'
            | b'|'
            | b'^'
            | b'!'
            | b'~'
            | b'?'
            | b':'
            | b'<'
            | b'>'
            | b'.'
    )
}

/// Whether a `/` after `prev` starts a regular expression rather than a division.
fn regex_allowed(prev: u8) -> bool {
    matches!(
        prev,
        STATEMENT_HEAD
            | b'('
            | b','
            | b'='
            | b':'
            | b'['
            | b'!'
            | b'&'
            | b'|'
            | b'?'
            | b'{'
            | b'}'
            | b';'
            | b'+'
            | b'-'
            | b'*'
            | b'%'
            | b'<'
            | b'>'
            | b'~'
            | b'^'
    )
}

fn find_from(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|&c| c == needle)
        .map(|p| from + p)
}

/// The index after a string literal whose body starts at `i` (strings end at a line
/// break when unterminated).
fn skip_string(b: &[u8], mut i: usize, quote: u8) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\n' => return i,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The index after a regular expression whose body starts at `i`.
fn skip_regex(b: &[u8], mut i: usize) -> usize {
    let mut class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'\n' => return i,
            b'[' => {
                class = true;
                i += 1;
            }
            b']' => {
                class = false;
                i += 1;
            }
            b'/' if !class => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Skips template text starting at `i`: the index after the closing backtick (`false`) or
/// after a `${` (`true`).
fn skip_template(b: &[u8], mut i: usize) -> (usize, bool) {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'`' => return (i + 1, false),
            b'$' if b.get(i + 1) == Some(&b'{') => return (i + 2, true),
            _ => i += 1,
        }
    }
    (b.len(), false)
}
