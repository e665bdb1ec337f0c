//! Source locations: the one place that turns byte offsets into 1-based line/column
//! positions and that defines the [`Location`] handle every model node carries.

use serde::{Deserialize, Serialize};

/// A region of one input file, 1-based, columns counted in characters.
///
/// Every model node that a finding can point at carries one of these as its `loc` field.
/// Policies return model nodes; the engine reads `loc` from them to place the finding.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Location {
    /// Path of the file relative to the checked root, with forward slashes.
    pub file: String,
    /// First line of the region (1-based).
    pub line: u32,
    /// First column of the region (1-based, in characters).
    pub col: u32,
    /// Last line of the region (1-based, inclusive).
    pub end_line: u32,
    /// Column just past the region on `end_line` (1-based, exclusive, in characters).
    pub end_col: u32,
}

impl Location {
    /// A location covering the start of line 1 of `file`: used when a file is named but no
    /// more specific node exists.
    pub fn file_start(file: &str) -> Self {
        Location {
            file: file.to_string(),
            line: 1,
            col: 1,
            end_line: 1,
            end_col: 1,
        }
    }

    /// A location at one line and column, spanning nothing.
    pub fn point(file: &str, line: u32, col: u32) -> Self {
        Location {
            file: file.to_string(),
            line,
            col,
            end_line: line,
            end_col: col,
        }
    }

    /// Returns a copy whose line numbers are shifted by `lines` (for regions found inside an
    /// embedded script whose first line sits at some line of the file).
    pub fn shifted(&self, lines: u32) -> Self {
        Location {
            line: self.line + lines,
            end_line: self.end_line + lines,
            ..self.clone()
        }
    }
}

/// Maps byte offsets of one text onto 1-based line/column positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The 1-based (line, column) of byte `offset` in `text`, column counted in characters.
    /// Offsets past the end clamp to the end; offsets inside a character clamp to its start.
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let mut end = offset;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let col = text.get(start..end).map_or(0, |s| s.chars().count());
        (to_u32(line + 1), to_u32(col + 1))
    }

    /// The location of the byte range `start..end` of `text` in `file`.
    pub fn location(&self, file: &str, text: &str, start: usize, end: usize) -> Location {
        let (line, col) = self.line_col(text, start);
        let (end_line, end_col) = self.line_col(text, end.max(start));
        Location {
            file: file.to_string(),
            line,
            col,
            end_line,
            end_col,
        }
    }

    /// Byte offset at which 1-based `line` starts, if the text has that line.
    pub fn line_start(&self, line: u32) -> Option<usize> {
        self.starts.get((line as usize).checked_sub(1)?).copied()
    }

    /// Number of lines in the text.
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// Converts a count to `u32`, saturating (inputs are capped far below 4 GiB).
pub fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "ab\nçd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        assert_eq!(idx.line_col(text, 5), (2, 2)); // after the two-byte 'ç'
        assert_eq!(idx.line_col(text, 4), (2, 1)); // inside 'ç' clamps to its start
        assert_eq!(idx.line_col(text, 7), (3, 1));
        assert_eq!(idx.line_col(text, 8), (4, 1));
        assert_eq!(idx.line_col(text, 999), (4, 2));
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_start(2), Some(3));
        assert_eq!(idx.line_start(0), None);
    }
}
