//! Loading: bytes → typed model with locations, one module per input format. No policy
//! logic lives here. Every failure becomes a [`LoadError`] with the best position known, which
//! the caller turns into one SS001 finding and a tool notification.

pub mod compose;
pub mod dockerfile;
pub mod git;
pub mod github;
pub mod gitlab;
pub mod js;
pub mod js_text;
pub mod nx;
pub mod package_json;
pub mod prometheus;
pub mod tsconfig;
pub mod yaml;
pub mod ytree;

use std::io::Read;
use std::path::{Component, Path, PathBuf};

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
    /// The path leads outside the checked root, so it was not read: a note, not a finding.
    pub outside: bool,
}

impl LoadError {
    /// An error at line 1 of `file`.
    pub fn at_file(file: &str, message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            loc: Location::file_start(file),
            outside: false,
        }
    }

    /// `rel` leads outside the checked root, so it was not read: a note, not a finding.
    pub fn outside(rel: &str) -> Self {
        LoadError {
            message: format!("{rel}: not followed: points outside the repository"),
            loc: Location::file_start(rel),
            outside: true,
        }
    }

    /// This error, reported at the reference `at` (a Compose include, a `uses:`) that led to
    /// the file: the message names both; an outside path stays marked as such.
    pub fn referenced_from(self, at: &Location) -> Self {
        LoadError {
            message: format!("{}: {} (referenced here)", at.file, self.message),
            loc: at.clone(),
            outside: self.outside,
        }
    }
}

/// The repository root being checked: the one place input files are read from, a directory
/// or a commit's tree in a git repository ([`git::GitTree`]). Every path is root-relative; one
/// that leaves the root (an absolute path, `..` past the top, or a symlink, of the file or of
/// a directory on the way, that resolves outside) is refused with an [`LoadError`] marked
/// [`LoadError::outside`] and never read.
#[derive(Debug, Clone)]
pub struct Root {
    /// The root as given (directory roots: paths are joined onto it).
    path: PathBuf,
    /// Where the bytes come from.
    backing: Backing,
}

/// Where a root's files are read from.
#[derive(Debug, Clone)]
enum Backing {
    /// A directory; `canon` is its path with every symlink resolved (containment is checked
    /// against it).
    Dir { canon: PathBuf },
    /// A commit's tree, read from the object database.
    Git(std::sync::Arc<git::GitTree>),
}

impl Root {
    /// The root at `path`, which must exist.
    pub fn new(path: &Path) -> std::io::Result<Root> {
        Ok(Root {
            path: path.to_path_buf(),
            backing: Backing::Dir {
                canon: std::fs::canonicalize(path)?,
            },
        })
    }

    /// The root of a commit's tree; `path` is the repository's path, as shown.
    pub fn git(path: &Path, tree: std::sync::Arc<git::GitTree>) -> Root {
        Root {
            path: path.to_path_buf(),
            backing: Backing::Git(tree),
        }
    }

    /// The root as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The commit whose tree is read, for a git root.
    pub fn commit(&self) -> Option<&str> {
        match &self.backing {
            Backing::Dir { .. } => None,
            Backing::Git(tree) => Some(tree.commit()),
        }
    }

    /// Discovers the root's inputs ([`crate::walk::discover`] for a directory).
    pub fn discover(&self) -> crate::walk::Discovery {
        match &self.backing {
            Backing::Dir { .. } => crate::walk::discover(&self.path),
            Backing::Git(tree) => tree.discover(),
        }
    }

    /// Where the root-relative `rel` is when it exists and stays inside the root: its real
    /// path for a directory root, its path in the tree for a git root.
    pub fn resolve(&self, rel: &str) -> Result<PathBuf, LoadError> {
        let rel_path = Path::new(rel);
        if rel_path
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(LoadError::outside(rel));
        }
        let canon = match &self.backing {
            Backing::Dir { canon } => canon,
            Backing::Git(tree) => {
                return tree
                    .resolve(rel)
                    .map(PathBuf::from)
                    .map_err(|e| tree_error(rel, e));
            }
        };
        let real = std::fs::canonicalize(self.path.join(rel_path)).map_err(|e| {
            LoadError::at_file(rel, format!("cannot read {rel}: {}", io_reason(&e)))
        })?;
        if !real.starts_with(canon) {
            return Err(LoadError::outside(rel));
        }
        Ok(real)
    }

    /// Whether `rel` is a regular file inside the root (through symlinks that stay inside).
    pub fn is_file(&self, rel: &str) -> bool {
        if let Backing::Git(tree) = &self.backing {
            // `resolve` followed the links: the resolved path names the file itself.
            return self
                .resolve(rel)
                .is_ok_and(|p| tree.is_file(&p.to_string_lossy()));
        }
        self.resolve(rel)
            .is_ok_and(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
    }

    /// The entries of the directory `rel` inside the root: `(name, is a directory)`, where a
    /// symlink counts as a file (it is resolved, and checked, when read). Empty when `rel` is
    /// no directory inside the root.
    pub fn read_dir(&self, rel: &str) -> Vec<(String, bool)> {
        let Ok(real) = self.resolve(if rel.is_empty() { "." } else { rel }) else {
            return Vec::new();
        };
        if let Backing::Git(tree) = &self.backing {
            return tree.read_dir(&real.to_string_lossy());
        }
        let Ok(entries) = std::fs::read_dir(real) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let kind = e.file_type().ok()?;
                Some((e.file_name().to_string_lossy().into_owned(), kind.is_dir()))
            })
            .collect()
    }

    /// Reads the root-relative `rel` as UTF-8 text: refused when it leaves the root (see
    /// [`Root`]), is over `limit` bytes, binary (NUL bytes) or invalid UTF-8, each with the
    /// position of the problem.
    pub fn read_text_limited(&self, rel: &str, limit: u64) -> Result<String, LoadError> {
        let path = self.resolve(rel)?;
        let too_big = |size: u64| {
            LoadError::at_file(
                rel,
                format!(
                    "{rel} is {size} bytes, over the {limit} byte limit for input files; it was not read"
                ),
            )
        };
        if let Backing::Git(tree) = &self.backing {
            let bytes = tree
                .read(&path.to_string_lossy(), limit)
                .map_err(|e| match e {
                    Ok(size) => too_big(size),
                    Err(e) => tree_error(rel, e),
                })?;
            return text_from_bytes(bytes, rel);
        }
        let meta = std::fs::metadata(&path).map_err(|e| {
            LoadError::at_file(rel, format!("cannot read {rel}: {}", io_reason(&e)))
        })?;
        if !meta.is_file() {
            return Err(LoadError::at_file(
                rel,
                format!("cannot read {rel}: not a regular file"),
            ));
        }
        if meta.len() > limit {
            return Err(too_big(meta.len()));
        }
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
            .map_err(|e| {
                LoadError::at_file(rel, format!("cannot read {rel}: {}", io_reason(&e)))
            })?;
        if bytes.len() as u64 > limit {
            return Err(LoadError::at_file(
                rel,
                format!("{rel} is over the {limit} byte limit for input files; it was not read"),
            ));
        }
        text_from_bytes(bytes, rel)
    }

    /// [`Root::read_text_limited`] with the input file limit, [`MAX_FILE_BYTES`].
    pub fn read_text(&self, rel: &str) -> Result<String, LoadError> {
        self.read_text_limited(rel, MAX_FILE_BYTES)
    }
}

/// A git tree's refusal of `rel` as a load error, worded as the directory's are.
fn tree_error(rel: &str, e: git::TreeError) -> LoadError {
    match e {
        git::TreeError::Outside => LoadError::outside(rel),
        git::TreeError::Missing => LoadError::at_file(
            rel,
            format!("cannot read {rel}: No such file or directory (os error 2)"),
        ),
        git::TreeError::Absent => LoadError::at_file(
            rel,
            format!(
                "cannot read {rel}: its object is not in the repository (a partial clone leaves it out)"
            ),
        ),
        git::TreeError::Loop => LoadError::at_file(
            rel,
            format!("cannot read {rel}: too many levels of symbolic links (a symlink loop)"),
        ),
        git::TreeError::NotAFile => {
            LoadError::at_file(rel, format!("cannot read {rel}: not a regular file"))
        }
        git::TreeError::Odb(why) => LoadError::at_file(rel, format!("cannot read {rel}: {why}")),
    }
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
            outside: false,
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
                outside: false,
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

/// [`join_relative`] for a reference to a file that is then read: a path that climbs above the
/// root with `..` is kept as written, so that [`Root`] refuses it instead of reading whatever
/// file of the root the clamped path would name.
pub fn join_reference(base: &str, path: &str) -> String {
    let trimmed = path.trim();
    let mut depth = if trimmed.starts_with('/') {
        0
    } else {
        base.split('/').filter(|p| !p.is_empty()).count()
    };
    for p in trimmed.split('/') {
        match p {
            "" | "." => {}
            ".." if depth == 0 => return trimmed.to_string(),
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    join_relative(base, path)
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

    #[cfg(unix)]
    #[test]
    fn the_root_refuses_every_path_that_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let root_path = dir.path().join("repo");
        std::fs::create_dir_all(root_path.join("sub")).unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        std::fs::write(root_path.join("sub/in"), "inside").unwrap();
        std::os::unix::fs::symlink("../secret", root_path.join("out")).unwrap();
        std::os::unix::fs::symlink("..", root_path.join("up")).unwrap();
        std::os::unix::fs::symlink("sub/in", root_path.join("link")).unwrap();
        let root = Root::new(&root_path).unwrap();
        for rel in [
            "../secret",
            "sub/../../secret",
            "/etc/passwd",
            "out",
            "up/secret",
        ] {
            let err = root.read_text(rel).unwrap_err();
            assert!(err.outside, "{rel}: {err:?}");
            assert_eq!(
                err.message,
                format!("{rel}: not followed: points outside the repository")
            );
        }
        assert_eq!(root.read_text("link").unwrap(), "inside");
        // Paths reach the root normalised: a `..` left in one is a climb, refused as such.
        assert!(root.read_text("sub/../sub/in").unwrap_err().outside);
        assert!(!root.read_text("missing").unwrap_err().outside);
        assert!(root.read_dir("up").is_empty());
        assert_eq!(join_reference("a", "../../x"), "../../x");
        assert_eq!(join_reference("a/b", "../x"), "a/x");
    }

    /// Loaders and fact builders read files only through [`Root`]: none of them, outside its
    /// tests, touches the file system itself (so a new loader cannot forget the boundary).
    /// The root's own modules (`mod`, `git`) are the exception.
    #[test]
    fn only_the_root_reads_files() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut checked = 0;
        let mut dirs = vec![src.join("load"), src.join("facts")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                // The root itself: its directory side here, its git side (which opens the
                // repository and looks for a partial clone's promisor packs) in `git`.
                if path == src.join("load").join("mod.rs")
                    || path == src.join("load").join("git.rs")
                {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                for banned in ["std::fs", "File::open", "fs::read", "read_to_string"] {
                    assert!(!code.contains(banned), "{}: {banned}", path.display());
                }
                checked += 1;
            }
        }
        assert!(checked > 10);
    }

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
