//! Words: their text and range in the fragment, quote removal (ANSI-C quoting included),
//! program base names and `NAME=value` assignments.

use super::parse::{ansi_c_end, find_byte};
use super::positions::Frag;
use crate::pm::EnvAssignment;
use brush_parser::ast;

/// One word of a command: its unquoted value, where it is, and the command substitutions in
/// it.
pub(super) struct WordInfo {
    pub(super) value: String,
    /// Byte range in the fragment's text.
    pub(super) range: Option<(usize, usize)>,
    /// Byte ranges (in the fragment's text) of the scripts of `$( … )` and backquote
    /// substitutions.
    pub(super) subs: Vec<(usize, usize)>,
}

/// Reads a word: from the script text where the parser gives its span, else from the
/// parser's value.
pub(super) fn read_word(f: &Frag<'_>, w: &ast::Word) -> WordInfo {
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
pub(super) fn base_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// Splits `NAME=value` when NAME is a valid variable name.
pub(super) fn split_assignment(word: &str) -> Option<EnvAssignment> {
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

#[cfg(test)]
mod tests {
    use crate::shell::tests::{argvs, parse};

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
    fn words_split_by_the_parser_around_here_documents_are_rejoined() {
        let commands = parse("cat <<EOF | npm ci --prefix \"$(pwd)\"\nbody\nEOF\n");
        assert_eq!(argvs(&commands), ["cat", "pwd", "npm ci --prefix $(pwd)"]);
    }
}
