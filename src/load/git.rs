//! A commit's tree in a git repository (a bare mirror or a checkout's object database) as a
//! source of input files, read straight from the object database without a checkout. The
//! tree is listed once when opened; blobs are read when a loader asks for them. Symlinks are
//! resolved inside the tree (a link that leaves it is never followed), submodules are
//! listed as nothing, and nothing in the repository is executed: hooks, filters and
//! attributes are not consulted, and the repository's configuration is read only for what
//! opening its object database needs.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use crate::walk::Discovery;

/// The most symlinks followed while resolving one path (as the kernel's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// One entry of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// A regular (or executable) file.
    File(gix::ObjectId),
    /// A symlink, whose blob is the link's target.
    Link(gix::ObjectId),
    /// A directory.
    Dir,
    /// A submodule (a commit of another repository): not read.
    Submodule,
}

/// Why a path of the tree cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// No such path in the tree.
    Missing,
    /// The path, or a symlink on the way, leads outside the tree.
    Outside,
    /// The path is a directory or a submodule, not a file.
    NotAFile,
    /// Following the path's symlinks goes round in a loop (more than 40 links).
    Loop,
    /// The file's object is not in a partial clone's database (it was filtered out when the
    /// mirror was made): not read, and not a sign of damage.
    Absent,
    /// The object database failed (a missing or corrupt object), in words.
    Odb(String),
}

/// A commit's tree, ready to be read.
pub struct GitTree {
    /// The repository, for reading blobs (one reader at a time: gix repositories are not
    /// shared between threads).
    repo: Mutex<gix::Repository>,
    /// Every path of the tree (files, links, directories, submodules), root-relative with
    /// forward slashes.
    entries: BTreeMap<String, Entry>,
    /// The commit's full hexadecimal id.
    commit: String,
    /// Paths that are not UTF-8 (shown lossily): listed, not read.
    not_utf8: Vec<String>,
    /// Objects the database failed to give (missing or corrupt), each once with the reason.
    odb_errors: Mutex<Vec<String>>,
    /// The repository is a partial clone (a promisor pack, or `extensions.partialClone`):
    /// objects missing from it were left out on purpose.
    partial: bool,
}

impl std::fmt::Debug for GitTree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitTree")
            .field("commit", &self.commit)
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl GitTree {
    /// Opens the repository at `path` (a bare repository or a `.git` directory) and lists the
    /// tree of the commit `rev` names (`HEAD`, a branch, a tag or a commit id).
    pub fn open(path: &Path, rev: &str) -> Result<GitTree, String> {
        let repo = gix::open_opts(path, gix::open::Options::isolated())
            .map_err(|e| format!("not a git repository: {e}"))?;
        let id = repo
            .rev_parse_single(rev)
            .map_err(|e| format!("cannot resolve {rev}: no such branch, tag or commit ({e})"))?;
        let commit = id
            .object()
            .map_err(|e| format!("cannot read {rev}: {e}"))?
            .peel_to_commit()
            .map_err(|e| format!("{rev} is no commit: {e}"))?;
        let tree = commit
            .tree()
            .map_err(|e| format!("cannot read the tree of {rev}: {e}"))?;
        let mut recorder = gix::traverse::tree::Recorder::default();
        tree.traverse()
            .breadthfirst(&mut recorder)
            .map_err(|e| format!("cannot list the tree of {rev}: {e}"))?;
        let commit_id = commit.id.to_string();
        let partial = repo
            .config_snapshot()
            .string("extensions.partialClone")
            .is_some()
            || std::fs::read_dir(repo.git_dir().join("objects/pack")).is_ok_and(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".promisor"))
            });
        drop(tree);
        drop(commit);
        let mut entries = BTreeMap::new();
        let mut not_utf8 = Vec::new();
        for r in recorder.records {
            let Ok(rel) = std::str::from_utf8(r.filepath.as_ref()) else {
                // A path that is not UTF-8 cannot be named exactly in a report: it is listed
                // (lossily) as skipped, and not read.
                not_utf8.push(String::from_utf8_lossy(r.filepath.as_ref()).into_owned());
                continue;
            };
            let kind = r.mode.kind();
            let entry = match kind {
                gix::object::tree::EntryKind::Tree => Entry::Dir,
                gix::object::tree::EntryKind::Link => Entry::Link(r.oid),
                gix::object::tree::EntryKind::Commit => Entry::Submodule,
                _ => Entry::File(r.oid),
            };
            entries.insert(rel.to_string(), entry);
        }
        Ok(GitTree {
            commit: commit_id,
            repo: Mutex::new(repo),
            entries,
            not_utf8,
            odb_errors: Mutex::new(Vec::new()),
            partial,
        })
    }

    /// The commit's full hexadecimal id.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// Reads a blob.
    fn blob(&self, id: gix::ObjectId) -> Result<Vec<u8>, TreeError> {
        let repo = self
            .repo
            .lock()
            .map_err(|_| TreeError::Odb("the repository reader failed".to_string()))?;
        match repo.try_find_object(id) {
            Ok(Some(object)) => Ok(object.data.clone()),
            Ok(None) => Err(self.missing(id)),
            Err(e) => Err(self.odb_error(format!("object {id}: {e}"))),
        }
    }

    /// The error for an object the database does not have: expected in a partial clone,
    /// damage otherwise.
    fn missing(&self, id: gix::ObjectId) -> TreeError {
        if self.partial {
            TreeError::Absent
        } else {
            self.odb_error(format!("object {id} is missing"))
        }
    }

    /// Records that the object database failed, and returns the error.
    fn odb_error(&self, why: String) -> TreeError {
        if let Ok(mut errors) = self.odb_errors.lock()
            && !errors.contains(&why)
        {
            errors.push(why.clone());
        }
        TreeError::Odb(why)
    }

    /// The objects the database failed to give so far (missing or corrupt): a repository
    /// that has any is damaged, whatever the files that could be read say.
    pub fn odb_errors(&self) -> Vec<String> {
        self.odb_errors
            .lock()
            .map(|e| e.clone())
            .unwrap_or_default()
    }

    /// The path `rel` resolves to inside the tree, every symlink on the way followed (each
    /// within the tree), with its entry.
    fn resolve_entry(&self, rel: &str) -> Result<(String, Entry), TreeError> {
        let mut pending: Vec<String> = rel
            .split('/')
            .filter(|p| !p.is_empty() && *p != ".")
            .map(str::to_string)
            .rev()
            .collect();
        let mut done: Vec<String> = Vec::new();
        let mut links = 0;
        let mut entry = Entry::Dir;
        while let Some(part) = pending.pop() {
            if part == ".." {
                if done.pop().is_none() {
                    return Err(TreeError::Outside);
                }
                entry = Entry::Dir;
                continue;
            }
            if !matches!(entry, Entry::Dir) {
                // A path through a file.
                return Err(TreeError::Missing);
            }
            done.push(part);
            let here = done.join("/");
            entry = *self.entries.get(&here).ok_or(TreeError::Missing)?;
            if let Entry::Link(id) = entry {
                links += 1;
                if links > MAX_LINKS {
                    return Err(TreeError::Loop);
                }
                let target = self.blob(id)?;
                let target = String::from_utf8_lossy(&target).into_owned();
                done.pop();
                if target.starts_with('/') {
                    return Err(TreeError::Outside);
                }
                pending.extend(
                    target
                        .split('/')
                        .filter(|p| !p.is_empty() && *p != ".")
                        .map(str::to_string)
                        .rev(),
                );
                entry = Entry::Dir;
            }
        }
        Ok((done.join("/"), entry))
    }

    /// The root-relative path `rel` resolves to, when it is in the tree.
    pub fn resolve(&self, rel: &str) -> Result<String, TreeError> {
        self.resolve_entry(rel).map(|(p, _)| p)
    }

    /// Whether `rel` is a file of the tree (through links that stay inside).
    pub fn is_file(&self, rel: &str) -> bool {
        matches!(self.resolve_entry(rel), Ok((_, Entry::File(_))))
    }

    /// The bytes of the file `rel`, refused past `limit` bytes (`Err(Ok(size))`).
    pub fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>, Result<u64, TreeError>> {
        let id = match self.resolve_entry(rel) {
            Ok((_, Entry::File(id))) => id,
            Ok(_) => return Err(Err(TreeError::NotAFile)),
            Err(e) => return Err(Err(e)),
        };
        let size = {
            let repo = self
                .repo
                .lock()
                .map_err(|_| Err(TreeError::Odb("the repository reader failed".to_string())))?;
            match repo.try_find_header(id) {
                Ok(Some(header)) => header.size(),
                Ok(None) => return Err(Err(self.missing(id))),
                Err(e) => return Err(Err(self.odb_error(format!("object {id}: {e}")))),
            }
        };
        if size > limit {
            return Err(Ok(size));
        }
        self.blob(id).map_err(Err)
    }

    /// The entries of the directory `rel`: `(name, is a directory)`, links counting as files.
    /// Empty when `rel` is no directory of the tree.
    pub fn read_dir(&self, rel: &str) -> Vec<(String, bool)> {
        let dir = match self.resolve_entry(rel) {
            Ok((dir, Entry::Dir)) => dir,
            _ => return Vec::new(),
        };
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        self.entries
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .filter_map(|(p, e)| {
                let name = &p[prefix.len()..];
                (!name.contains('/') && !matches!(e, Entry::Submodule))
                    .then(|| (name.to_string(), matches!(e, Entry::Dir)))
            })
            .collect()
    }

    /// Discovers the inputs of the tree, as [`crate::walk::discover`] does for a directory:
    /// every file and link outside the skipped directories, links leading out of the tree
    /// listed apart.
    pub fn discover(&self) -> Discovery {
        let mut out = Discovery::default();
        for rel in &self.not_utf8 {
            out.problems.push(crate::walk::WalkProblem {
                rel: rel.clone(),
                message: format!("{rel}: the path is not UTF-8: not read"),
            });
        }
        for (rel, entry) in &self.entries {
            if !matches!(entry, Entry::File(_) | Entry::Link(_)) || crate::walk::is_skipped(rel) {
                continue;
            }
            let outside = matches!(entry, Entry::Link(_))
                && matches!(self.resolve_entry(rel), Err(TreeError::Outside));
            out.add(rel.clone(), outside);
        }
        out.finish();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A bare repository whose HEAD commit holds `files` (path, content; a content starting
    /// with `->` is a symlink to the rest).
    pub(crate) fn bare_repo(dir: &Path, files: &[(&str, &str)]) -> std::path::PathBuf {
        let work = dir.join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        for (p, c) in files {
            let path = work.join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            match c.strip_prefix("->") {
                Some(target) => std::os::unix::fs::symlink(target, &path).expect("symlink"),
                None => std::fs::write(&path, c).expect("write"),
            }
        }
        let git = |args: &[&str], at: &Path| {
            let ok = Command::new("git")
                .args(args)
                .current_dir(at)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("HOME", dir)
                .status()
                .expect("git")
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "main", "."], &work);
        git(&["add", "-A"], &work);
        git(
            &[
                "-c",
                "user.email=t@t",
                "-c",
                "user.name=t",
                "commit",
                "-qm",
                "one",
            ],
            &work,
        );
        let bare = dir.join("mirror.git");
        git(
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().expect("utf-8"),
                "mirror.git",
            ],
            dir,
        );
        bare
    }

    #[test]
    fn a_missing_object_is_damage_unless_the_repository_is_a_partial_clone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bare = bare_repo(
            dir.path(),
            &[("Dockerfile", "FROM alpine\n"), ("big.js", "x\n")],
        );
        let id = Command::new("git")
            .args(["rev-parse", "HEAD:big.js"])
            .current_dir(&bare)
            .output()
            .expect("git");
        let id = String::from_utf8_lossy(&id.stdout).trim().to_string();
        std::fs::remove_file(bare.join(format!("objects/{}/{}", &id[..2], &id[2..])))
            .expect("remove");
        let tree = GitTree::open(&bare, "HEAD").expect("opens");
        assert!(matches!(
            tree.read("big.js", 100),
            Err(Err(TreeError::Odb(_)))
        ));
        assert_eq!(tree.odb_errors(), [format!("object {id} is missing")]);
        // A promisor pack marks a partial clone: the object was left out on purpose.
        std::fs::create_dir_all(bare.join("objects/pack")).expect("mkdir");
        std::fs::write(bare.join("objects/pack/pack-x.promisor"), "").expect("write");
        let tree = GitTree::open(&bare, "HEAD").expect("opens");
        assert_eq!(tree.read("big.js", 100), Err(Err(TreeError::Absent)));
        assert!(tree.odb_errors().is_empty());
        assert_eq!(
            tree.read("Dockerfile", 100).expect("reads"),
            b"FROM alpine\n"
        );
    }

    #[test]
    fn a_path_that_is_not_utf8_is_reported_not_dropped() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let work = dir.path().join("work");
        std::fs::create_dir_all(&work).expect("mkdir");
        let odd = work.join(std::ffi::OsStr::from_bytes(b"odd\xff.yml"));
        std::fs::write(odd, "x: 1\n").expect("write");
        // The helper commits what is in `work` (plus this file).
        let bare = bare_repo(dir.path(), &[("Dockerfile", "FROM alpine\n")]);
        let tree = GitTree::open(&bare, "HEAD").expect("opens");
        let found = tree.discover();
        assert_eq!(found.all_files, ["Dockerfile"]);
        assert_eq!(found.problems.len(), 1);
        assert_eq!(
            found.problems[0].message,
            "odd\u{fffd}.yml: the path is not UTF-8: not read"
        );
    }

    #[test]
    fn lists_reads_and_resolves_links_inside_the_tree_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bare = bare_repo(
            dir.path(),
            &[
                ("Dockerfile", "FROM alpine\n"),
                ("svc/package.json", "{}"),
                ("svc/Dockerfile", "->../Dockerfile"),
                ("escape", "->../../etc/passwd"),
                ("abs", "->/etc/passwd"),
                ("linkdir", "->svc"),
                ("loop-a", "->loop-b"),
                ("loop-b", "->loop-a"),
                ("node_modules/x/package.json", "{}"),
            ],
        );
        let tree = GitTree::open(&bare, "HEAD").expect("opens");
        assert_eq!(tree.commit().len(), 40);
        assert_eq!(
            tree.read("Dockerfile", 100).expect("reads"),
            b"FROM alpine\n"
        );
        assert_eq!(
            tree.read("svc/Dockerfile", 100).expect("through the link"),
            b"FROM alpine\n"
        );
        assert_eq!(
            tree.read("linkdir/package.json", 100).expect("dir link"),
            b"{}"
        );
        assert_eq!(tree.read("escape", 100), Err(Err(TreeError::Outside)));
        assert_eq!(tree.read("abs", 100), Err(Err(TreeError::Outside)));
        assert_eq!(tree.read("nope", 100), Err(Err(TreeError::Missing)));
        assert_eq!(tree.read("loop-a", 100), Err(Err(TreeError::Loop)));
        assert_eq!(tree.read("svc", 100), Err(Err(TreeError::NotAFile)));
        assert_eq!(tree.read("Dockerfile", 3), Err(Ok(12)));
        assert!(tree.is_file("svc/Dockerfile") && !tree.is_file("svc"));
        let mut names = tree.read_dir("svc");
        names.sort();
        assert_eq!(
            names,
            vec![
                ("Dockerfile".to_string(), false),
                ("package.json".to_string(), false)
            ]
        );
        let found = tree.discover();
        let files: Vec<&str> = found.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(files, ["Dockerfile", "svc/Dockerfile", "svc/package.json"]);
        assert_eq!(found.outside, vec!["abs", "escape"]);
        assert!(GitTree::open(&bare, "no-such-branch").is_err());
        assert!(GitTree::open(dir.path(), "HEAD").is_err());
    }
}
