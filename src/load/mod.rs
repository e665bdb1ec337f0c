//! Loading: bytes → typed model with locations, one module per input format. No policy
//! logic lives here. Every failure becomes a [`LoadError`] with the best position known, which
//! the caller turns into one SS001 finding and a tool notification.

pub mod compose;
pub mod dockerfile;
pub mod github;
pub mod gitlab;
pub mod js;
pub mod nx;
pub mod package_json;
pub mod prometheus;
pub mod tsconfig;
pub mod yaml;
pub mod ytree;

use std::path::Path;

use crate::location::{LineIndex, Location};

/// Largest input file read, in bytes. Bigger files are reported, not read.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Why a file could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    /// What went wrong, in words.
    pub message: String,
    /// Where, as precisely as known (line 1 of the file when nothing better is known).
    pub loc: Location,
}

impl LoadError {
    /// An error at line 1 of `file`.
    pub fn at_file(file: &str, message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            loc: Location::file_start(file),
        }
    }
}

/// Reads `path` (shown as `rel`) as UTF-8 text, refusing files over [`MAX_FILE_BYTES`],
/// binary content (NUL bytes) and invalid UTF-8, each with the position of the problem.
pub fn read_text(path: &Path, rel: &str) -> Result<String, LoadError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| LoadError::at_file(rel, format!("cannot read {rel}: {}", io_reason(&e))))?;
    if !meta.is_file() {
        return Err(LoadError::at_file(
            rel,
            format!("cannot read {rel}: not a regular file"),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(LoadError::at_file(
            rel,
            format!(
                "{rel} is {} bytes, over the {} byte limit for input files; it was not read",
                meta.len(),
                MAX_FILE_BYTES
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| LoadError::at_file(rel, format!("cannot read {rel}: {}", io_reason(&e))))?;
    text_from_bytes(bytes, rel)
}

/// Decodes bytes as UTF-8 text (a leading BOM is dropped), refusing binary content and
/// invalid UTF-8 with the position of the first offending byte.
pub fn text_from_bytes(bytes: Vec<u8>, rel: &str) -> Result<String, LoadError> {
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        let loc = byte_location(&bytes, nul, rel);
        return Err(LoadError {
            message: format!(
                "{rel} is binary (NUL byte at line {}, column {}), not a text file",
                loc.line, loc.col
            ),
            loc,
        });
    }
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..'\u{feff}'.len_utf8());
            }
            Ok(s)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let loc = byte_location(e.as_bytes(), at, rel);
            Err(LoadError {
                message: format!(
                    "{rel} is not valid UTF-8 (invalid byte at line {}, column {})",
                    loc.line, loc.col
                ),
                loc,
            })
        }
    }
}

/// Location of byte `at` in possibly-invalid bytes: lines are counted on the valid prefix.
fn byte_location(bytes: &[u8], at: usize, rel: &str) -> Location {
    let prefix = String::from_utf8_lossy(&bytes[..at.min(bytes.len())]);
    let idx = LineIndex::new(&prefix);
    let (line, col) = idx.line_col(&prefix, prefix.len());
    Location::point(rel, line, col)
}

/// Joins `path` onto the directory `base` (an absolute `path` replaces it) and normalises
/// `.` and `..`; the result has no leading or trailing `/` (`""` is the top).
pub fn join_relative(base: &str, path: &str) -> String {
    let path = path.trim();
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The directory of a root-relative path ("" for the root).
pub fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// A short reason for an I/O error, naming symlink loops explicitly.
fn io_reason(e: &std::io::Error) -> String {
    if e.raw_os_error() == Some(40) {
        return "too many levels of symbolic links (a symlink loop)".to_string();
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_binary_and_invalid_utf8_with_positions() {
        let err = text_from_bytes(b"FROM x\nab\0c".to_vec(), "Dockerfile").unwrap_err();
        assert_eq!((err.loc.line, err.loc.col), (2, 3));
        assert!(err.message.contains("binary"));
        let err = text_from_bytes(b"a\nb\xffc".to_vec(), "f.yml").unwrap_err();
        assert_eq!((err.loc.line, err.loc.col), (2, 2));
        assert!(err.message.contains("UTF-8"));
        assert_eq!(
            text_from_bytes("\u{feff}x".as_bytes().to_vec(), "f").unwrap(),
            "x"
        );
    }
}
