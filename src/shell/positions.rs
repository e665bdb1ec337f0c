//! Positions: byte offsets of a script mapped to file lines and columns (the script starts
//! at a given line and column of its file), and fragments, the pieces of a script parsed on
//! their own (the script itself, command substitutions, `bash -c` scripts).

use super::ShellError;
use crate::location::{LineIndex, Location, to_u32};
use crate::pm::EnvAssignment;

/// A parse failure before it is placed in the file: `offset` is a byte offset of the
/// fragment's text (of the script, for the root fragment).
pub(super) struct RawError {
    pub(super) message: String,
    pub(super) offset: usize,
    pub(super) too_complex: bool,
}

/// Turns byte offsets of the script into file locations.
pub(super) struct Positioner<'s> {
    pub(super) file: &'s str,
    pub(super) script: &'s str,
    /// Whether `script` is ASCII, where byte and character offsets agree.
    pub(super) ascii: bool,
    pub(super) index: LineIndex,
    pub(super) first_line: u32,
    pub(super) first_col: u32,
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

    pub(super) fn location(&self, start: usize, end: usize) -> Location {
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

    pub(super) fn error(&self, e: RawError) -> ShellError {
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
pub(super) struct Frag<'t> {
    pub(super) text: &'t str,
    /// Byte offset of every character of `text` (and of its end); `None` when `text` is
    /// ASCII, where character and byte offsets agree.
    char_bytes: Option<Vec<usize>>,
    /// Byte offset of `text` in the script; `None` when `text` is not a slice of the script.
    pub(super) base: Option<usize>,
    /// The location given to every command of a text that is not a slice of the script.
    pub(super) fixed: Option<Location>,
    /// Assignments inherited by every command of the text.
    pub(super) env: Vec<EnvAssignment>,
    /// 0 for the script, one more for each script inside a script.
    pub(super) level: usize,
}

impl<'t> Frag<'t> {
    pub(super) fn new(
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
    pub(super) fn byte(&self, char_index: usize) -> usize {
        match &self.char_bytes {
            None => char_index.min(self.text.len()),
            Some(bytes) => bytes.get(char_index).copied().unwrap_or(self.text.len()),
        }
    }

    /// The byte range of a parser span.
    pub(super) fn range(&self, span: &brush_parser::SourceSpan) -> Option<(usize, usize)> {
        let start = self.byte(span.start.index);
        let end = self.byte(span.end.index);
        (start <= end).then_some((start, end))
    }

    pub(super) fn slice(&self, start: usize, end: usize) -> &'t str {
        self.text.get(start..end).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse_script;
    use crate::shell::tests::{argvs, parse};

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
}
