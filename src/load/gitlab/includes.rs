//! `include:`: local includes read and followed (nested ones and wildcards too) and
//! deep-merged into one configuration; remote, project, template and component includes
//! recorded, never fetched.

use super::tree::{SrcFile, convert};
use super::{MAX_GLOB_DEPTH, MAX_GLOB_ENTRIES, MAX_INCLUDE_DEPTH, MAX_INCLUDES};
use crate::load::yaml::YamlFailure;
use crate::load::ytree::{self, YNode, YValue};
use crate::load::{LoadError, Root};
use crate::location::{LineIndex, Location};
use crate::model::ci::External;
use std::collections::HashMap;

pub(super) struct Loader<'a> {
    pub(super) root: &'a Root,
    /// Files in the order they were read: `.gitlab-ci.yml`, then includes depth-first.
    pub(super) files: Vec<SrcFile>,
    pub(super) loaded: HashMap<String, usize>,
    /// Files in merge order: what a file includes comes before the file itself.
    pub(super) layers: Vec<usize>,
    pub(super) errors: Vec<LoadError>,
    pub(super) notes: Vec<LoadError>,
    pub(super) external: Vec<External>,
    pub(super) sources: Vec<(String, String)>,
    pub(super) includes: usize,
}

impl Loader<'_> {
    /// Records a parsed file; its configuration is its first non-null document (the one
    /// after a `spec:` header when there is one).
    pub(super) fn add_file(&mut self, rel: &str, text: &str, docs: Vec<YNode>) -> usize {
        let idx = self.files.len();
        let mut docs: Vec<YNode> = docs.into_iter().filter(|d| !d.is_null()).collect();
        if docs.len() > 1 && docs.first().is_some_and(|d| d.get("spec").is_some()) {
            docs.remove(0);
        }
        let mut file = SrcFile {
            rel: rel.to_string(),
            text: text.to_string(),
            index: LineIndex::new(text),
            root: YNode::empty_map(idx),
        };
        if let Some(doc) = docs.first() {
            if matches!(doc.value, YValue::Map(_)) {
                file.root = convert(doc, idx, &file, 0);
            } else {
                self.errors.push(LoadError {
                    message: format!(
                        "{rel}: a GitLab CI configuration must be a mapping of jobs and keywords"
                    ),
                    loc: doc.loc(rel),
                    outside: false,
                });
            }
        }
        self.files.push(file);
        idx
    }

    /// Follows the includes of file `idx`, then records it as a merge layer.
    pub(super) fn process(&mut self, idx: usize, stack: &mut Vec<String>) {
        let include = self
            .files
            .get(idx)
            .and_then(|f| f.root.get("include").cloned());
        if let Some(include) = include {
            let entries: Vec<YNode> = match &include.value {
                YValue::Seq(items) => items.clone(),
                YValue::Null => Vec::new(),
                _ => vec![include.clone()],
            };
            for entry in entries {
                self.include(idx, &entry, stack);
            }
        }
        self.layers.push(idx);
    }

    fn include(&mut self, from: usize, entry: &YNode, stack: &mut Vec<String>) {
        let Some(from_rel) = self.files.get(from).map(|f| f.rel.clone()) else {
            return;
        };
        let at = |n: &YNode| Location::point(&from_rel, n.line, n.col);
        match &entry.value {
            YValue::Str(s) => {
                if s.starts_with("http://") || s.starts_with("https://") {
                    self.external(s, at(entry));
                } else {
                    self.include_local(s, at(entry), stack);
                }
            }
            YValue::Map(_) => {
                if let Some(local) = entry.get("local") {
                    if let Some(path) = local.as_str() {
                        self.include_local(&path, at(local), stack);
                    }
                } else if let Some(remote) = entry.str_of("remote") {
                    self.external(&remote, at(entry));
                } else if let Some(project) = entry.str_of("project") {
                    let reference = entry
                        .str_of("ref")
                        .map(|r| format!("@{r}"))
                        .unwrap_or_default();
                    let files = entry.get("file").map(YNode::strings).unwrap_or_default();
                    if files.is_empty() {
                        self.external(&format!("{project}{reference}"), at(entry));
                    }
                    for f in files {
                        self.external(&format!("{project}:{f}{reference}"), at(entry));
                    }
                } else if let Some(template) = entry.str_of("template") {
                    self.external(&format!("template:{template}"), at(entry));
                } else if let Some(component) = entry.str_of("component") {
                    self.external(&component, at(entry));
                }
            }
            _ => {}
        }
    }

    pub(super) fn external(&mut self, target: &str, loc: Location) {
        self.external.push(External {
            kind: "include".to_string(),
            target: target.to_string(),
            loc,
        });
    }

    fn include_local(&mut self, raw: &str, at: Location, stack: &mut Vec<String>) {
        let raw = raw.trim();
        if raw.contains('$') {
            // A path built from variables cannot be resolved here.
            self.external(raw, at);
            return;
        }
        let Some(rel) = normalize(raw) else {
            self.errors.push(LoadError {
                message: format!(
                    "{}: include `{raw}` not followed: points outside the repository",
                    at.file
                ),
                loc: at,
                outside: true,
            });
            return;
        };
        if rel.contains(['*', '?', '[', '{']) {
            for file in self.glob(&rel, &at) {
                self.include_file(&file, at.clone(), stack);
            }
        } else {
            self.include_file(&rel, at, stack);
        }
    }

    fn include_file(&mut self, rel: &str, at: Location, stack: &mut Vec<String>) {
        if stack.iter().any(|s| s == rel) {
            let mut chain = stack.clone();
            chain.push(rel.to_string());
            self.errors.push(LoadError {
                message: format!("{}: include cycle: {}", at.file, chain.join(" → ")),
                loc: at,
                outside: false,
            });
            return;
        }
        if self.loaded.contains_key(rel) {
            return;
        }
        if self.includes >= MAX_INCLUDES || stack.len() > MAX_INCLUDE_DEPTH {
            self.errors.push(LoadError {
                message: format!(
                    "{}: `{rel}` not included: more than {MAX_INCLUDES} includes or {MAX_INCLUDE_DEPTH} levels",
                    at.file
                ),
                loc: at,
                outside: false,
            });
            return;
        }
        self.includes += 1;
        let text = match self.root.read_text(rel) {
            Ok(t) => t,
            Err(e) if e.outside => {
                self.errors.push(e.referenced_from(&at));
                return;
            }
            Err(_) if self.root.resolve(rel).is_err() => {
                self.errors.push(LoadError {
                    message: format!("{}: included file `{rel}` does not exist", at.file),
                    loc: at,
                    outside: false,
                });
                return;
            }
            Err(_) if !self.root.is_file(rel) => {
                self.errors.push(LoadError {
                    message: format!("{}: included `{rel}` is not a file", at.file),
                    loc: at,
                    outside: false,
                });
                return;
            }
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        self.sources.push((rel.to_string(), text.clone()));
        let docs = match ytree::parse(rel, &text) {
            Ok(d) => d,
            Err(failure) => {
                self.loaded.insert(rel.to_string(), usize::MAX);
                match failure {
                    YamlFailure::Invalid(e) => self.errors.push(e),
                    YamlFailure::Template(e) => self.notes.push(e),
                }
                self.notes.push(LoadError {
                    outside: false,
                    message: format!(
                        "{}: included file `{rel}` does not parse (reported there); its jobs are not checked",
                        at.file
                    ),
                    loc: at,
                });
                return;
            }
        };
        let idx = self.add_file(rel, &text, docs);
        self.loaded.insert(rel.to_string(), idx);
        stack.push(rel.to_string());
        self.process(idx, stack);
        stack.pop();
    }

    /// The repository files matching a wildcard include, sorted.
    fn glob(&mut self, pattern: &str, at: &Location) -> Vec<String> {
        let matcher = match globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
        {
            Ok(g) => g.compile_matcher(),
            Err(e) => {
                self.errors.push(LoadError {
                    message: format!("{}: invalid include pattern `{pattern}`: {e}", at.file),
                    loc: at.clone(),
                    outside: false,
                });
                return Vec::new();
            }
        };
        let fixed: Vec<&str> = pattern
            .split('/')
            .take_while(|c| !c.contains(['*', '?', '[', '{']))
            .collect();
        let start = fixed.join("/");
        let mut out = Vec::new();
        let mut budget = MAX_GLOB_ENTRIES;
        let mut dirs = vec![(start, 0usize)];
        while let Some((dir, depth)) = dirs.pop() {
            for (name, is_dir) in self.root.read_dir(&dir) {
                if budget == 0 {
                    return sorted(out);
                }
                budget -= 1;
                if name == ".git" {
                    continue;
                }
                let rel = if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                };
                if is_dir {
                    if depth < MAX_GLOB_DEPTH {
                        dirs.push((rel, depth + 1));
                    }
                } else if matcher.is_match(&rel) {
                    out.push(rel);
                }
            }
        }
        sorted(out)
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A root-relative path with `.`/`..` resolved; `None` when it leaves the root or is empty.
fn normalize(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in raw.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {

    use crate::load::gitlab::tests::{ids, job, load_tree, runs};

    #[test]
    fn includes_missing_remote_and_cycles() {
        let (_d, ci) = load_tree(&[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: /ci/a.yml\n  - remote: https://example.com/x.yml\n  - project: group/p\n    ref: v1\n    file: [/t.yml]\n  - template: Auto-DevOps.gitlab-ci.yml\n  - component: gitlab.com/c/x@1\n  - ci/missing.yml\n  - https://example.com/y.yml\n",
            ),
            (
                "ci/a.yml",
                "include: ci/b.yml\na-job:\n  script: [echo a]\n",
            ),
            (
                "ci/b.yml",
                "include:\n  local: ci/a.yml\nb-job:\n  script: [echo b]\n",
            ),
        ]);
        assert_eq!(ids(&ci), vec!["a-job", "b-job"]);
        assert_eq!(job(&ci, "b-job").path, "ci/b.yml");
        assert_eq!(
            ci.pipeline.jobs_loc.file, "ci/a.yml",
            "first job of the includes"
        );
        let targets: Vec<&str> = ci.external.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(
            targets,
            vec![
                "https://example.com/x.yml",
                "group/p:/t.yml@v1",
                "template:Auto-DevOps.gitlab-ci.yml",
                "gitlab.com/c/x@1",
                "https://example.com/y.yml"
            ]
        );
        assert!(ci.external.iter().all(|e| e.kind == "include"));
        assert_eq!(ci.external[0].loc.line, 3);
        assert_eq!(ci.errors.len(), 2, "{:?}", ci.errors);
        let cycle = ci
            .errors
            .iter()
            .find(|e| e.message.contains("cycle"))
            .expect("cycle");
        assert_eq!((cycle.loc.file.as_str(), cycle.loc.line), ("ci/b.yml", 2));
        let missing = ci
            .errors
            .iter()
            .find(|e| e.message.contains("does not exist"))
            .expect("missing");
        assert_eq!(
            (missing.loc.file.as_str(), missing.loc.line),
            (".gitlab-ci.yml", 9)
        );
        assert_eq!(ci.sources.len(), 3);
    }

    #[test]
    fn invalid_included_file_is_an_error_at_its_position() {
        let (_d, ci) = load_tree(&[
            (
                ".gitlab-ci.yml",
                "include: bad.yml\njob:\n  script: [echo]\n",
            ),
            ("bad.yml", "a:\n  b: [1, 2\n\nc: d\n"),
            ("glob/x.yml", "gx:\n  script: [echo x]\n"),
            ("glob/y.yml", "gy:\n  script: [echo y]\n"),
        ]);
        assert_eq!(ci.errors.len(), 1);
        assert_eq!(ci.errors[0].loc.file, "bad.yml");
        assert!(ci.errors[0].loc.line >= 2);
        assert_eq!(ids(&ci), vec!["job"]);
        assert!(ci.sources.iter().any(|(p, _)| p == "bad.yml"));

        let (_d, ci) = load_tree(&[
            (".gitlab-ci.yml", "include:\n  - local: 'glob/*.yml'\n"),
            ("glob/x.yml", "gx:\n  script: [echo x]\n"),
            ("glob/y.yml", "gy:\n  script: [echo y]\n"),
        ]);
        assert_eq!(ids(&ci), vec!["gx", "gy"]);
        assert!(ci.errors.is_empty());
    }

    #[test]
    fn include_precedence_the_including_file_wins() {
        let (_d, ci) = load_tree(&[
            (
                ".gitlab-ci.yml",
                "include: [one.yml, two.yml]\ndeploy:\n  stage: release\n",
            ),
            (
                "one.yml",
                "deploy:\n  stage: a\n  script: [echo one]\n  when: manual\n",
            ),
            ("two.yml", "deploy:\n  stage: b\n  script: [echo two]\n"),
        ]);
        let d = job(&ci, "deploy");
        assert_eq!(d.stage, "release");
        assert_eq!(runs(d), vec!["echo two"]);
        assert!(d.manual, "keys merge across files");
        assert_eq!((d.path.as_str(), d.loc.line), (".gitlab-ci.yml", 2));
        assert_eq!(ci.jobs.len(), 1);
    }
}
