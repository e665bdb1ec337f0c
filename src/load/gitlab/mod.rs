//! GitLab CI loader: `.gitlab-ci.yml` and the local files it includes become one pipeline of
//! the neutral CI model.
//!
//! What GitLab itself does before it runs a pipeline is reproduced here, in its order:
//!
//! 1. **includes**: local includes (a string, a list, `local:` entries, wildcards; paths are
//!    relative to the repository root) are read and followed, nested ones too; the included
//!    files' top-level keys are deep-merged into one configuration, later files winning and
//!    the including file winning over what it includes. Missing or unparseable files and
//!    include cycles become [`LoadError`]s; remote, project, template and component includes
//!    are recorded as [`External`]s and never fetched.
//! 2. **`extends:`** (a name or a list, several levels, across files): mappings are merged
//!    recursively, everything else (arrays included) is replaced by the child's value.
//! 3. **`!reference [job, key, ...]`** tags are replaced by the referenced value (after that
//!    job's `extends`); a reference inside a sequence that yields a sequence is spliced in.
//! 4. **`default:`** and the legacy global `image`/`services`/`cache`/`before_script`/
//!    `after_script` apply to jobs that lack them (honouring `inherit:`).
//!
//! Pipelines are then modelled as the sources that can start them (a push to the default
//! branch, a push to another branch, a merge request, a tag, and `schedule`/`web`/`api` when
//! some rule mentions them). `workflow: rules`, job `rules:` and `only:`/`except:` are
//! evaluated per source with three-valued logic over the predefined variables that the
//! source fixes (`$CI_PIPELINE_SOURCE`, `$CI_COMMIT_BRANCH`, `$CI_COMMIT_TAG`, ...); what
//! cannot be decided is unknown, and an unknown condition lets the source reach the job.
//!
//! Every script line (`before_script` then `script`) is one step whose commands are parsed
//! at their own file lines, in the file that defines the line. Nothing here panics on any
//! input: recursion is depth-limited, and the work done by `extends`/`!reference` expansion is
//! budgeted.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::load::yaml::YamlFailure;
use crate::load::ytree::{self, YNode, YValue};
use crate::load::{LoadError, Root};
use crate::location::{LineIndex, Location};
use crate::model::ci::{External, Job, Pipeline, Step, Trigger};
use crate::shell;

/// Most local files included, as GitLab limits them.
const MAX_INCLUDES: usize = 150;
/// Deepest chain of nested includes followed.
const MAX_INCLUDE_DEPTH: usize = 100;
/// Deepest chain of `extends:` followed (GitLab allows 11 levels).
const MAX_EXTENDS_DEPTH: usize = 11;
/// Deepest chain of `!reference` tags followed (GitLab allows 10 levels).
const MAX_REFERENCE_DEPTH: usize = 10;
/// Deepest YAML nesting kept; anything deeper is read as null.
const MAX_TREE_DEPTH: usize = 128;
/// Most tree nodes copied while expanding `extends:` and `!reference`.
const WORK_BUDGET: usize = 2_000_000;
/// Most directory entries visited when expanding one wildcard include.
const MAX_GLOB_ENTRIES: usize = 20_000;
/// Deepest directory level visited when expanding one wildcard include.
const MAX_GLOB_DEPTH: usize = 32;
/// Deepest nesting of parentheses in a rules expression.
const MAX_EXPR_DEPTH: usize = 64;
/// The default branch's name, as recorded on triggers.
const DEFAULT_BRANCH: &str = "main";

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
];

/// Keys that `default:` gives to jobs that lack them.
const DEFAULT_KEYS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];

/// Legacy global keys that act like their `default:` counterparts.
const LEGACY_GLOBALS: &[&str] = &[
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// Result of loading a GitLab CI configuration.
#[derive(Debug, Clone)]
pub struct GitlabCi {
    /// The pipeline: `.gitlab-ci.yml` with everything it includes.
    pub pipeline: Pipeline,
    /// Its jobs: `.gitlab-ci.yml`'s in file order, then those of its local includes in
    /// include order. Each keeps the path and key position of the file that defines it.
    pub jobs: Vec<Job>,
    /// Remote, project, template and component includes (kind `include`), not followed.
    pub external: Vec<External>,
    /// Included local files that are missing, unreadable or invalid (at the position of the
    /// problem), and include cycles (at the include).
    pub errors: Vec<LoadError>,
    /// Notes at includes of files that do not parse (the file's own error is in `errors`,
    /// once however many includes match it), and templated includes that are not YAML.
    pub notes: Vec<LoadError>,
    /// `(relative path, text)` of every local file read, `.gitlab-ci.yml` first.
    pub sources: Vec<(String, String)>,
}

/// Loads `.gitlab-ci.yml` (`rel`, text `text`) of the repository at `root`, following its
/// local includes. Fails only when `text` itself is not valid YAML; every other problem is
/// recorded in [`GitlabCi::errors`].
pub fn load(root: &Root, rel: &str, text: &str) -> Result<GitlabCi, LoadError> {
    let docs = ytree::parse(rel, text).map_err(|e| match e {
        YamlFailure::Invalid(e) | YamlFailure::Template(e) => e,
    })?;
    let mut loader = Loader {
        root,
        files: Vec::new(),
        loaded: HashMap::new(),
        layers: Vec::new(),
        errors: Vec::new(),
        notes: Vec::new(),
        external: Vec::new(),
        sources: vec![(rel.to_string(), text.to_string())],
        includes: 0,
    };
    let idx = loader.add_file(rel, text, docs);
    loader.loaded.insert(rel.to_string(), idx);
    let mut stack = vec![rel.to_string()];
    loader.process(idx, &mut stack);
    Ok(build(loader, rel))
}

// ---------------------------------------------------------------------------------------
// The configuration tree, with the file every node comes from

/// A YAML node that remembers its file (an index into the files read), so that merged and
/// extended configurations still point into the right file.
#[derive(Debug, Clone)]
struct N {
    v: V,
    file: usize,
    line: u32,
    col: u32,
}

#[derive(Debug, Clone)]
enum V {
    Null,
    Bool(bool),
    Str(String),
    /// A number, as text.
    Num(String),
    Seq(Vec<N>),
    Map(Vec<(N, N)>),
    /// A `!reference [job, key, ...]` sequence, not yet resolved.
    Ref(Vec<N>),
}

impl N {
    fn null_at(other: &N) -> N {
        N {
            v: V::Null,
            file: other.file,
            line: other.line,
            col: other.col,
        }
    }

    fn empty_map(file: usize) -> N {
        N {
            v: V::Map(Vec::new()),
            file,
            line: 1,
            col: 1,
        }
    }

    fn as_str(&self) -> Option<String> {
        match &self.v {
            V::Str(s) | V::Num(s) => Some(s.clone()),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn entries(&self) -> &[(N, N)] {
        match &self.v {
            V::Map(m) => m,
            _ => &[],
        }
    }

    fn items(&self) -> &[N] {
        match &self.v {
            V::Seq(s) => s,
            _ => &[],
        }
    }

    fn get(&self, key: &str) -> Option<&N> {
        self.entries()
            .iter()
            .find(|(k, _)| k.as_str().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value of `key` unless it is absent or null.
    fn get_set(&self, key: &str) -> Option<&N> {
        self.get(key).filter(|n| !n.is_null())
    }

    fn str_of(&self, key: &str) -> Option<String> {
        self.get(key).and_then(N::as_str)
    }

    fn is_null(&self) -> bool {
        matches!(self.v, V::Null)
    }

    fn is_map(&self) -> bool {
        matches!(self.v, V::Map(_))
    }

    /// A string, or each string of a sequence.
    fn strings(&self) -> Vec<String> {
        match &self.v {
            V::Seq(items) => items.iter().filter_map(N::as_str).collect(),
            _ => self.as_str().into_iter().collect(),
        }
    }

    /// Number of nodes in the tree.
    fn size(&self) -> usize {
        1 + match &self.v {
            V::Seq(items) | V::Ref(items) => items.iter().map(N::size).sum(),
            V::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    /// The same mapping without `key`.
    fn without(mut self, key: &str) -> N {
        if let V::Map(entries) = &mut self.v {
            entries.retain(|(k, _)| k.as_str().as_deref() != Some(key));
        }
        self
    }
}

/// GitLab's merge: mappings merge key by key (recursively), any other value of `over`
/// replaces `base`.
fn deep_merge(base: N, over: N) -> N {
    match (base.v, over.v) {
        (V::Map(mut merged), V::Map(entries)) => {
            let mut index: HashMap<String, usize> = merged
                .iter()
                .enumerate()
                .filter_map(|(i, (k, _))| k.as_str().map(|s| (s, i)))
                .collect();
            for (k, v) in entries {
                let name = k.as_str();
                match name.as_ref().and_then(|s| index.get(s).copied()) {
                    Some(i) => {
                        if let Some(slot) = merged.get_mut(i) {
                            let placeholder = (N::null_at(&k), N::null_at(&v));
                            let (_, old) = std::mem::replace(slot, placeholder);
                            *slot = (k, deep_merge(old, v));
                        }
                    }
                    None => {
                        if let Some(s) = name {
                            index.insert(s, merged.len());
                        }
                        merged.push((k, v));
                    }
                }
            }
            N {
                v: V::Map(merged),
                file: over.file,
                line: over.line,
                col: over.col,
            }
        }
        (_, v) => N {
            v,
            file: over.file,
            line: over.line,
            col: over.col,
        },
    }
}

/// One file read: its text (for tags and quotes) and its configuration tree.
struct SrcFile {
    rel: String,
    text: String,
    index: LineIndex,
    root: N,
}

impl SrcFile {
    /// The text of 1-based `line`, without its newline.
    fn line(&self, line: u32) -> &str {
        let Some(start) = self.index.line_start(line) else {
            return "";
        };
        let rest = self.text.get(start..).unwrap_or("");
        rest.split('\n').next().unwrap_or("")
    }
}

/// Converts a parsed node, marking `!reference` sequences.
fn convert(y: &YNode, file: usize, src: &SrcFile, depth: usize) -> N {
    let v = if depth > MAX_TREE_DEPTH {
        V::Null
    } else {
        match &y.value {
            YValue::Null => V::Null,
            YValue::Bool(b) => V::Bool(*b),
            YValue::Int(i) => V::Num(i.to_string()),
            YValue::Float(f) => V::Num(f.to_string()),
            YValue::Str(s) => V::Str(s.clone()),
            YValue::Seq(items) => {
                let items = items
                    .iter()
                    .map(|i| convert(i, file, src, depth + 1))
                    .collect();
                if is_reference_tag(src.line(y.line), y.col) {
                    V::Ref(items)
                } else {
                    V::Seq(items)
                }
            }
            YValue::Map(entries) => V::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        (
                            convert(k, file, src, depth + 1),
                            convert(v, file, src, depth + 1),
                        )
                    })
                    .collect(),
            ),
        }
    };
    N {
        v,
        file,
        line: y.line,
        col: y.col,
    }
}

/// Whether the word just before column `col` of the line is the tag `!reference` (the
/// parser resolves tags away; this reads it back as [`YNode::tag`] does).
fn is_reference_tag(line: &str, col: u32) -> bool {
    let before: String = line.chars().take(col.saturating_sub(1) as usize).collect();
    before
        .trim_end()
        .rsplit([' ', '\t', '-', ':', '[', ','])
        .next()
        == Some("!reference")
}

// ---------------------------------------------------------------------------------------
// Includes

struct Loader<'a> {
    root: &'a Root,
    /// Files in the order they were read: `.gitlab-ci.yml`, then includes depth-first.
    files: Vec<SrcFile>,
    loaded: HashMap<String, usize>,
    /// Files in merge order: what a file includes comes before the file itself.
    layers: Vec<usize>,
    errors: Vec<LoadError>,
    notes: Vec<LoadError>,
    external: Vec<External>,
    sources: Vec<(String, String)>,
    includes: usize,
}

impl Loader<'_> {
    /// Records a parsed file; its configuration is its first non-null document (the one
    /// after a `spec:` header when there is one).
    fn add_file(&mut self, rel: &str, text: &str, docs: Vec<YNode>) -> usize {
        let idx = self.files.len();
        let mut docs: Vec<YNode> = docs.into_iter().filter(|d| !d.is_null()).collect();
        if docs.len() > 1 && docs.first().is_some_and(|d| d.get("spec").is_some()) {
            docs.remove(0);
        }
        let mut file = SrcFile {
            rel: rel.to_string(),
            text: text.to_string(),
            index: LineIndex::new(text),
            root: N::empty_map(idx),
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
    fn process(&mut self, idx: usize, stack: &mut Vec<String>) {
        let include = self
            .files
            .get(idx)
            .and_then(|f| f.root.get("include").cloned());
        if let Some(include) = include {
            let entries: Vec<N> = match &include.v {
                V::Seq(items) => items.clone(),
                V::Null => Vec::new(),
                _ => vec![include.clone()],
            };
            for entry in entries {
                self.include(idx, &entry, stack);
            }
        }
        self.layers.push(idx);
    }

    fn include(&mut self, from: usize, entry: &N, stack: &mut Vec<String>) {
        let Some(from_rel) = self.files.get(from).map(|f| f.rel.clone()) else {
            return;
        };
        let at = |n: &N| Location::point(&from_rel, n.line, n.col);
        match &entry.v {
            V::Str(s) => {
                if s.starts_with("http://") || s.starts_with("https://") {
                    self.external(s, at(entry));
                } else {
                    self.include_local(s, at(entry), stack);
                }
            }
            V::Map(_) => {
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
                    let files = entry.get("file").map(N::strings).unwrap_or_default();
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

    fn external(&mut self, target: &str, loc: Location) {
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

// ---------------------------------------------------------------------------------------
// extends, !reference, default

/// A position in the configuration: file index, line, column.
type At = (usize, u32, u32);

/// Expands `extends:` and `!reference` over the merged configuration, within a budget.
struct Resolver<'a> {
    config: &'a HashMap<String, N>,
    extended: HashMap<String, N>,
    budget: usize,
    /// `extends` cycles met: the `extends:` node that closes one (its file index, line and
    /// column), the key that has it, and the parent it names.
    cycles: Vec<(usize, u32, u32, String, String)>,
    /// The values being expanded by [`Resolver::refs`], outermost first: the key path of
    /// the value (`[job, script]`) and the `!reference` that led to it (file index, line,
    /// column; none for the job itself). A reference to a path that contains one of them
    /// (is a prefix of it) is a cycle.
    expanding: Vec<(Vec<String>, Option<At>)>,
    /// `!reference` cycles met: the references of the cycle (sorted, to report each cycle
    /// once), the one that closes it, and the path it names.
    ref_cycles: Vec<(Vec<At>, At, String)>,
}

impl Resolver<'_> {
    /// Takes `n` out of the budget; false when the budget is spent.
    fn charge(&mut self, n: &N) -> bool {
        let size = n.size();
        if size > self.budget {
            self.budget = 0;
            return false;
        }
        self.budget -= size;
        true
    }

    /// Makes sure the `extends`-expanded value of top-level key `name` is cached.
    fn ensure_extended(&mut self, name: &str, depth: usize, visiting: &mut Vec<String>) -> bool {
        if self.extended.contains_key(name) {
            return true;
        }
        let Some(node) = self.config.get(name) else {
            return false;
        };
        if visiting.iter().any(|v| v == name) || depth > MAX_EXTENDS_DEPTH {
            return false;
        }
        let node = node.clone();
        let parents = if RESERVED.contains(&name) {
            Vec::new()
        } else {
            node.get("extends").map(N::strings).unwrap_or_default()
        };
        if parents.is_empty() || !node.is_map() {
            self.extended.insert(name.to_string(), node);
            return true;
        }
        visiting.push(name.to_string());
        let mut acc: Option<N> = None;
        for p in parents {
            if visiting.contains(&p) {
                // `.a → .b → .a`, `self → self`: the cycle is closed here.
                if let Some(at) = node.get("extends") {
                    self.cycles
                        .push((at.file, at.line, at.col, name.to_string(), p.clone()));
                }
                continue;
            }
            if !self.ensure_extended(&p, depth + 1, visiting) {
                continue;
            }
            let Some(parent) = self.extended.get(&p) else {
                continue;
            };
            if !parent.is_map() {
                continue;
            }
            let parent = parent.clone();
            if !self.charge(&parent) {
                break;
            }
            acc = Some(match acc {
                None => parent,
                Some(a) => deep_merge(a, parent),
            });
        }
        visiting.pop();
        let own = node.without("extends");
        let result = match acc {
            Some(a) => deep_merge(a, own),
            None => own,
        };
        self.extended.insert(name.to_string(), result);
        true
    }

    /// The `extends`-expanded value of top-level key `name`, `!reference`s resolved.
    fn resolved(&mut self, name: &str) -> Option<N> {
        if !self.ensure_extended(name, 0, &mut Vec::new()) {
            return None;
        }
        let node = self.extended.get(name)?.clone();
        self.expanding.push((vec![name.to_string()], None));
        let out = self.refs(node, 0, 0);
        self.expanding.pop();
        Some(out)
    }

    /// Replaces `!reference` tags in `n`.
    fn refs(&mut self, n: N, ref_depth: usize, tree_depth: usize) -> N {
        if tree_depth > MAX_TREE_DEPTH {
            return N::null_at(&n);
        }
        let N { v, file, line, col } = n;
        let v = match v {
            V::Ref(path) => {
                let at = N {
                    v: V::Null,
                    file,
                    line,
                    col,
                };
                let names: Vec<String> = path.iter().filter_map(N::as_str).collect();
                let here = (file, line, col);
                if let Some(i) = self
                    .expanding
                    .iter()
                    .position(|(p, _)| !names.is_empty() && p.starts_with(&names))
                {
                    // The reference names a value that contains it: a cycle.
                    let mut members: Vec<At> = self.expanding[i + 1..]
                        .iter()
                        .filter_map(|(_, r)| *r)
                        .chain([here])
                        .collect();
                    members.sort_unstable();
                    if !self.ref_cycles.iter().any(|(m, _, _)| *m == members) {
                        self.ref_cycles.push((members, here, names.join(", ")));
                    }
                    return at;
                }
                let Some(target) = self.deref(&path, ref_depth) else {
                    return at;
                };
                self.expanding.push((names, Some(here)));
                let out = self.refs(target, ref_depth + 1, tree_depth);
                self.expanding.pop();
                return out;
            }
            V::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let spliced = matches!(item.v, V::Ref(_));
                    let r = self.refs(item, ref_depth, tree_depth + 1);
                    match r.v {
                        V::Seq(inner) if spliced => out.extend(inner),
                        V::Null if spliced => {}
                        _ => out.push(r),
                    }
                }
                V::Seq(out)
            }
            V::Map(entries) => V::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key = k.as_str().unwrap_or_default();
                        if let Some((p, _)) = self.expanding.last_mut() {
                            p.push(key);
                        }
                        let v = self.refs(v, ref_depth, tree_depth + 1);
                        if let Some((p, _)) = self.expanding.last_mut() {
                            p.pop();
                        }
                        (k, v)
                    })
                    .collect(),
            ),
            other => other,
        };
        N { v, file, line, col }
    }

    /// The value a `!reference [job, key, ...]` names, after that job's `extends`.
    fn deref(&mut self, path: &[N], ref_depth: usize) -> Option<N> {
        if ref_depth >= MAX_REFERENCE_DEPTH {
            return None;
        }
        let names: Vec<String> = path.iter().filter_map(N::as_str).collect();
        let (first, keys) = names.split_first()?;
        if !self.ensure_extended(first, 0, &mut Vec::new()) {
            return None;
        }
        let mut cur = self.extended.get(first)?;
        for key in keys {
            cur = cur.get(key)?;
        }
        let found = cur.clone();
        self.charge(&found).then_some(found)
    }
}

/// Gives a job the `default:` (and legacy global) keys it lacks, as `inherit:` allows.
fn apply_defaults(job: N, default: Option<&N>, globals: &HashMap<String, N>) -> N {
    let allowed: Option<Vec<String>> = match job.get("inherit").and_then(|i| i.get("default")) {
        Some(N {
            v: V::Bool(false), ..
        }) => return job,
        Some(n @ N { v: V::Seq(_), .. }) => Some(n.strings()),
        _ => None,
    };
    let mut extra = Vec::new();
    for key in DEFAULT_KEYS {
        if job.get(key).is_some()
            || allowed
                .as_ref()
                .is_some_and(|a| !a.iter().any(|k| k == key))
        {
            continue;
        }
        let from_default = default.and_then(|d| {
            d.entries()
                .iter()
                .find(|(k, _)| k.as_str().as_deref() == Some(key))
        });
        if let Some((k, v)) = from_default {
            extra.push((k.clone(), v.clone()));
        } else if LEGACY_GLOBALS.contains(key)
            && let Some(v) = globals.get(*key)
        {
            let k = N {
                v: V::Str((*key).to_string()),
                file: v.file,
                line: v.line,
                col: v.col,
            };
            extra.push((k, v.clone()));
        }
    }
    if extra.is_empty() {
        return job;
    }
    let N { v, file, line, col } = job;
    let v = match v {
        V::Map(mut entries) => {
            entries.extend(extra);
            V::Map(entries)
        }
        other => other,
    };
    N { v, file, line, col }
}

// ---------------------------------------------------------------------------------------
// Building the model

/// A pipeline source: one way a GitLab pipeline starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A push to the default branch.
    PushDefault,
    /// A push to another branch.
    PushOther,
    /// A merge-request pipeline.
    MergeRequest,
    /// A tag pipeline.
    Tag,
    Schedule,
    Web,
    Api,
}

impl Source {
    /// Every source.
    const ALL: [Source; 7] = [
        Source::PushDefault,
        Source::PushOther,
        Source::MergeRequest,
        Source::Tag,
        Source::Schedule,
        Source::Web,
        Source::Api,
    ];

    fn pipeline_source(self) -> &'static str {
        match self {
            Source::PushDefault | Source::PushOther | Source::Tag => "push",
            Source::MergeRequest => "merge_request_event",
            Source::Schedule => "schedule",
            Source::Web => "web",
            Source::Api => "api",
        }
    }

    fn trigger(self, loc: Location) -> Trigger {
        let mut t = Trigger::new("", loc);
        match self {
            Source::PushDefault => {
                t.event = "push".into();
                t.branches = vec![DEFAULT_BRANCH.to_string()];
                t.default_branch = true;
            }
            Source::PushOther => {
                t.event = "push".into();
                t.branches = vec!["*".to_string()];
                t.pre_merge = true;
            }
            Source::MergeRequest => {
                t.event = "merge_request".into();
                t.pre_merge = true;
            }
            Source::Tag => {
                t.event = "push".into();
                t.tags = vec!["*".to_string()];
                t.tag_only = true;
            }
            Source::Schedule => t.event = "schedule".into(),
            Source::Web => t.event = "web".into(),
            Source::Api => t.event = "api".into(),
        }
        t
    }

    fn pre_merge(self) -> bool {
        matches!(self, Source::PushOther | Source::MergeRequest)
    }
}

/// A job that is drafted before the pipeline's sources are known.
struct Draft {
    id: String,
    loc: Location,
    eff: N,
}

fn build(loader: Loader<'_>, rel: &str) -> GitlabCi {
    let Loader {
        files,
        layers,
        mut errors,
        notes,
        external,
        sources,
        ..
    } = loader;

    // The merged configuration.
    let mut merged = N::empty_map(0);
    for idx in &layers {
        if let Some(f) = files.get(*idx)
            && f.root.is_map()
        {
            merged = deep_merge(merged, f.root.clone());
        }
    }
    let mut config: HashMap<String, N> = HashMap::new();
    if let V::Map(entries) = merged.v {
        for (k, v) in entries {
            if let Some(name) = k.as_str() {
                config.insert(name, v);
            }
        }
    }

    // Top-level keys in display order: `.gitlab-ci.yml` first, then includes as read.
    let mut seen = HashSet::new();
    let mut order: Vec<(String, Location)> = Vec::new();
    for f in &files {
        for (k, _) in f.root.entries() {
            if let Some(name) = k.as_str()
                && seen.insert(name.clone())
            {
                order.push((name, Location::point(&f.rel, k.line, k.col)));
            }
        }
    }

    let mut resolver = Resolver {
        config: &config,
        extended: HashMap::new(),
        budget: WORK_BUDGET,
        cycles: Vec::new(),
        expanding: Vec::new(),
        ref_cycles: Vec::new(),
    };
    let default = resolver.resolved("default");
    let workflow = resolver.resolved("workflow");
    let global_vars = resolver.resolved("variables");
    let mut globals = HashMap::new();
    for key in LEGACY_GLOBALS {
        if let Some(v) = resolver.resolved(key) {
            globals.insert((*key).to_string(), v);
        }
    }
    let mut drafts = Vec::new();
    for (id, loc) in order {
        if !config.get(&id).is_some_and(|v| is_job(&id, v)) {
            continue;
        }
        let Some(eff) = resolver.resolved(&id) else {
            continue;
        };
        let eff = apply_defaults(eff, default.as_ref(), &globals);
        drafts.push(Draft { id, loc, eff });
    }
    if resolver.budget == 0 {
        errors.push(LoadError::at_file(
            rel,
            format!("{rel}: `extends:`/`!reference` expansion is too large; it was cut short"),
        ));
    }
    for (file, line, col, key, parent) in std::mem::take(&mut resolver.cycles) {
        let at = files.get(file).map_or(rel, |f| f.rel.as_str());
        let what = if key == parent {
            format!("`{key}` extends itself")
        } else {
            format!("`{key}` extends `{parent}`, which extends it back")
        };
        let e = LoadError {
            message: format!("{at}: `extends:` cycle: {what}"),
            loc: Location::point(at, line, col),
            outside: false,
        };
        if !errors.contains(&e) {
            errors.push(e);
        }
    }
    for (_, (file, line, col), path) in std::mem::take(&mut resolver.ref_cycles) {
        let at = files.get(file).map_or(rel, |f| f.rel.as_str());
        let e = LoadError {
            outside: false,
            message: format!(
                "{at}: `!reference` cycle: `!reference [{path}]` names a value that refers back to it; it was left out"
            ),
            loc: Location::point(at, line, col),
        };
        if !errors.contains(&e) {
            errors.push(e);
        }
    }

    // Pipeline sources and what `workflow: rules` admits.
    let mut eval = Evaluator::default();
    let wf_rules: Option<Vec<&N>> = workflow
        .as_ref()
        .and_then(|w| w.get_set("rules"))
        .map(flatten_rules);
    let mut texts = Vec::new();
    if let Some(rules) = &wf_rules {
        rule_texts(rules, &mut texts);
    }
    for d in &drafts {
        if let Some(rules) = d.eff.get_set("rules") {
            rule_texts(&flatten_rules(rules), &mut texts);
        }
        for key in ["only", "except"] {
            if let Some(n) = d.eff.get(key) {
                texts.extend(n.strings());
                for sub in ["refs", "variables"] {
                    if let Some(s) = n.get(sub) {
                        texts.extend(s.strings());
                    }
                }
            }
        }
    }
    let mut all_sources = vec![
        Source::PushDefault,
        Source::PushOther,
        Source::MergeRequest,
        Source::Tag,
    ];
    for (src, word, keyword) in [
        (Source::Schedule, "schedule", "schedules"),
        (Source::Web, "web", "web"),
        (Source::Api, "api", "api"),
    ] {
        let quoted = [format!("\"{word}\""), format!("'{word}'")];
        if texts.iter().any(|t| {
            t == keyword
                || (t.contains("CI_PIPELINE_SOURCE") && quoted.iter().any(|q| t.contains(q)))
        }) {
            all_sources.push(src);
        }
    }
    let admitted: Vec<Source> = all_sources
        .into_iter()
        .filter(|s| match &wf_rules {
            Some(rules) => !eval.rules(rules, *s, None, None).is_empty(),
            None => true,
        })
        .collect();

    // Stage order: `.pre`, the declared stages (else GitLab's defaults), `.post`.
    let declared = config
        .get("stages")
        .or_else(|| config.get("types"))
        .map(N::strings)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            ["build", "test", "deploy"]
                .iter()
                .map(|s| (*s).to_string())
                .collect()
        });
    let mut stages = vec![".pre".to_string()];
    stages.extend(declared.into_iter().filter(|s| s != ".pre" && s != ".post"));
    stages.push(".post".to_string());

    let file_start = Location::file_start(rel);
    let name = workflow
        .as_ref()
        .and_then(|w| w.str_of("name"))
        .unwrap_or_else(|| rel.to_string());
    let triggers: Vec<Trigger> = admitted
        .iter()
        .map(|s| s.trigger(file_start.clone()))
        .collect();
    let jobs_loc = drafts
        .first()
        .map_or_else(|| file_start.clone(), |d| d.loc.clone());
    let pipeline = Pipeline {
        provider: "gitlab".to_string(),
        path: rel.to_string(),
        name: name.clone(),
        loc: file_start.clone(),
        on_loc: file_start.clone(),
        jobs_loc,
        is_pre_merge: triggers.iter().any(|t| t.pre_merge),
        triggers,
        dispatch_inputs: Vec::new(),
        reusable_only: false,
    };

    let mut parsed = ParseCache::new();
    let jobs: Vec<Job> = drafts
        .into_iter()
        .flat_map(|d| {
            job(
                &files,
                d,
                &mut eval,
                &admitted,
                wf_rules.is_some(),
                global_vars.as_ref(),
                &stages,
                &mut parsed,
                rel,
                &name,
            )
        })
        .collect();

    GitlabCi {
        pipeline,
        jobs,
        external,
        errors,
        notes,
        sources,
    }
}

/// A top-level key that is a job: not reserved, not hidden, a mapping with `script`,
/// `trigger`, `extends` or `run`.
fn is_job(name: &str, value: &N) -> bool {
    !name.starts_with('.')
        && !RESERVED.contains(&name)
        && ["script", "trigger", "extends", "run"]
            .iter()
            .any(|k| value.get(k).is_some())
}

/// The rules of a `rules:` value, nested sequences flattened (as GitLab does).
fn flatten_rules(rules: &N) -> Vec<&N> {
    fn walk<'n>(n: &'n N, out: &mut Vec<&'n N>, depth: usize) {
        for item in n.items() {
            match &item.v {
                V::Seq(_) if depth < MAX_REFERENCE_DEPTH => walk(item, out, depth + 1),
                _ => out.push(item),
            }
        }
    }
    let mut out = Vec::new();
    walk(rules, &mut out, 0);
    out
}

fn rule_texts(rules: &[&N], out: &mut Vec<String>) {
    for r in rules {
        if let Some(s) = r.str_of("if") {
            out.push(s);
        }
    }
}

/// `allow_failure:` as written: `true` or an `exit_codes` mapping → true.
fn allow_failure_of(n: &N) -> Option<bool> {
    match &n.get("allow_failure")?.v {
        V::Bool(b) => Some(*b),
        V::Str(s) if s == "true" => Some(true),
        V::Str(s) if s == "false" => Some(false),
        V::Map(_) => Some(true),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn job(
    files: &[SrcFile],
    d: Draft,
    eval: &mut Evaluator,
    admitted: &[Source],
    workflow_rules: bool,
    global_vars: Option<&N>,
    stages: &[String],
    parsed: &mut ParseCache,
    pipeline: &str,
    pipeline_name: &str,
) -> Vec<Job> {
    let Draft { id, loc, eff } = d;
    let job_when = eff.str_of("when");
    let job_af = allow_failure_of(&eff);

    // Variables in effect (global, as `inherit:` allows, then the job's own).
    let mut vars = BTreeMap::new();
    let inherit = eff.get("inherit").and_then(|i| i.get("variables"));
    let inherited: Option<Vec<String>> = match inherit {
        Some(N {
            v: V::Bool(false), ..
        }) => Some(Vec::new()),
        Some(n @ N { v: V::Seq(_), .. }) => Some(n.strings()),
        _ => None,
    };
    if let Some(g) = global_vars {
        for (k, v) in variables(g) {
            if inherited.as_ref().is_none_or(|list| list.contains(&k)) {
                vars.insert(k, v);
            }
        }
    }
    if let Some(own) = eff.get("variables") {
        vars.extend(variables(own));
    }

    let env_node = eff.get_set("environment");
    let env_text = env_node.and_then(|e| match &e.v {
        V::Map(_) => e.str_of("name"),
        _ => e.as_str(),
    });
    let environment_action = env_node
        .and_then(|e| e.str_of("action"))
        .map(|a| a.trim().to_ascii_lowercase())
        .unwrap_or_default();

    // Which sources reach the job, and how. A rule's `variables:` apply when it matches, so
    // an environment named by such a variable can differ by source: the job then becomes one
    // job per environment, each reached by its own sources.
    let mut groups: Vec<Variant> = Vec::new();
    for src in admitted {
        for o in eval.job(&eff, *src, workflow_rules, job_when.as_deref(), job_af) {
            let mut v = vars.clone();
            v.extend(o.variables.iter().cloned());
            let environment = env_text
                .as_deref()
                .map(|e| expand(e, &v, 0))
                .unwrap_or_default();
            let at = match groups.iter().position(|g| g.environment == environment) {
                Some(i) => i,
                None => {
                    groups.push(Variant {
                        environment,
                        vars: v,
                        reached: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            groups[at].reached.push((*src, o));
        }
    }
    if groups.is_empty() {
        groups.push(Variant {
            environment: env_text
                .as_deref()
                .map(|e| expand(e, &vars, 0))
                .unwrap_or_default(),
            vars,
            reached: Vec::new(),
        });
    }

    let needs: Vec<String> = eff
        .get("needs")
        .map(|n| {
            n.items()
                .iter()
                .filter_map(|item| match &item.v {
                    V::Map(_)
                        if item.get("project").is_none() && item.get("pipeline").is_none() =>
                    {
                        item.str_of("job")
                    }
                    V::Map(_) => None,
                    _ => item.as_str(),
                })
                .collect()
        })
        .unwrap_or_default();
    let stage = eff.str_of("stage").unwrap_or_else(|| "test".to_string());
    let rank = stages
        .iter()
        .position(|s| *s == stage)
        .and_then(|i| i64::try_from(i).ok())
        .unwrap_or(0);
    let split = groups.len() > 1;
    let condition = condition_text(&eff);
    let matrix = parallel_matrix(&eff);
    groups
        .into_iter()
        .map(|g| {
            let mut triggers: Vec<Trigger> = Vec::new();
            let mut seen: Vec<Source> = Vec::new();
            let mut pre_merge = false;
            for (src, o) in &g.reached {
                if !seen.contains(src) {
                    seen.push(*src);
                    triggers.push(src.trigger(loc.clone()));
                }
                if src.pre_merge() && (o.when != "manual" || o.allow_failure == Some(false)) {
                    pre_merge = true;
                }
            }
            let outcomes: Vec<&Outcome> = g.reached.iter().map(|(_, o)| o).collect();
            let manual = if outcomes.is_empty() {
                job_when.as_deref() == Some("manual")
            } else {
                outcomes.iter().all(|o| o.when == "manual")
            };
            let allow_failure = if outcomes.is_empty() {
                job_af == Some(true)
            } else {
                outcomes.iter().all(|o| o.allow_failure == Some(true))
            };
            let steps = steps(files, &eff, !allow_failure, &g.vars, parsed);
            Job {
                name: id.clone(),
                key: if split {
                    format!("{pipeline}#{id}@{}", g.environment)
                } else {
                    format!("{pipeline}#{id}")
                },
                rank,
                id: id.clone(),
                pipeline: pipeline.to_string(),
                pipeline_name: pipeline_name.to_string(),
                provider: "gitlab".to_string(),
                path: loc.file.clone(),
                loc: loc.clone(),
                needs: needs.clone(),
                needs_declared: eff.get("needs").is_some(),
                has_environment: env_node.is_some(),
                environment_action: environment_action.clone(),
                environment: g.environment,
                environment_choices: Vec::new(),
                condition: condition.clone(),
                triggers,
                is_pre_merge: pre_merge,
                allow_failure,
                manual,
                stage: stage.clone(),
                matrix: matrix.clone(),
                steps,
                via: String::new(),
                deploys: Vec::new(),
                flow_ops: Vec::new(),
                after_ops: Vec::new(),
                unprotected_migrations: Vec::new(),
                deploys_mutable_push: false,
            }
        })
        .collect()
}

/// One way a job runs: the environment it deploys to, the variables in effect, and the
/// sources that reach it this way (with the rule outcome of each).
struct Variant {
    environment: String,
    vars: BTreeMap<String, String>,
    reached: Vec<(Source, Outcome)>,
}

/// `parallel: matrix:` as variable → every value it takes in some entry (each entry of the
/// list is a product of its variables; the union over entries is what a script can see).
fn parallel_matrix(job: &N) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    let entries = job.get("parallel").and_then(|p| p.get("matrix"));
    for entry in entries.map(N::items).unwrap_or_default() {
        for (k, v) in entry.entries() {
            let Some(name) = k.as_str().filter(|n| !n.is_empty()) else {
                continue;
            };
            let values = out.entry(name).or_default();
            for value in v.strings() {
                if !values.contains(&value) {
                    values.push(value);
                }
            }
        }
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// `variables:` entries as written (`NAME: value` or `NAME: {value: ...}`).
fn variables(n: &N) -> Vec<(String, String)> {
    n.entries()
        .iter()
        .filter_map(|(k, v)| {
            let value = match &v.v {
                V::Map(_) => v.str_of("value")?,
                _ => v.as_str()?,
            };
            Some((k.as_str()?, value))
        })
        .collect()
}

/// Expands `$VAR` and `${VAR}` whose values are known; the rest stays as written.
fn expand(s: &str, vars: &BTreeMap<String, String>, depth: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        let (name, end) = match chars.get(i + 1) {
            Some('$') => {
                out.push_str("$$");
                i += 2;
                continue;
            }
            Some('{') => {
                let close = chars[i + 2..].iter().position(|c| *c == '}');
                match close {
                    Some(p) => (
                        chars[i + 2..i + 2 + p].iter().collect::<String>(),
                        i + 3 + p,
                    ),
                    None => (String::new(), i + 1),
                }
            }
            _ => {
                let len = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .count();
                (chars[i + 1..i + 1 + len].iter().collect(), i + 1 + len)
            }
        };
        match vars.get(&name) {
            Some(value) if !name.is_empty() && depth < 5 => {
                out.push_str(&expand(value, vars, depth + 1));
            }
            _ => out.extend(&chars[i..end.max(i + 1)]),
        }
        i = end.max(i + 1);
    }
    out
}

/// Commands of the script lines already parsed (or why they could not be), by file, line,
/// column and text: a line shared through `extends:`/`!reference` is parsed once.
type ParseCache = HashMap<(usize, u32, u32, String), Result<Vec<shell::Command>, String>>;

/// The steps: one per line of `before_script` + `script` (and per `run:` step).
fn steps(
    files: &[SrcFile],
    eff: &N,
    gating: bool,
    env: &BTreeMap<String, String>,
    parsed: &mut ParseCache,
) -> Vec<Step> {
    let mut items: Vec<(&N, String)> = Vec::new();
    for key in ["before_script", "script"] {
        if let Some(n) = eff.get(key) {
            let mut lines = Vec::new();
            script_items(n, &mut lines, 0);
            items.extend(lines.into_iter().map(|l| (l, String::new())));
        }
    }
    if let Some(run) = eff.get("run") {
        for item in run.items() {
            if let Some(script) = item.get("script").filter(|s| s.as_str().is_some()) {
                items.push((script, item.str_of("name").unwrap_or_default()));
            }
        }
    }
    items
        .into_iter()
        .enumerate()
        .filter_map(|(index, (item, name))| {
            let run = item.as_str()?;
            let file = files.get(item.file)?;
            let quoted = file
                .line(item.line)
                .chars()
                .nth(item.col.saturating_sub(1) as usize)
                .is_some_and(|c| c == '"' || c == '\'');
            let col = if quoted {
                item.col.saturating_add(1)
            } else {
                item.col
            };
            let (commands, unanalysed) = match parsed
                .entry((item.file, item.line, col, run.clone()))
                .or_insert_with(|| {
                    shell::parse_script(&run, &file.rel, item.line, col).map_err(|e| e.to_string())
                }) {
                Ok(c) => (c.clone(), String::new()),
                Err(e) => (Vec::new(), e.clone()),
            };
            Some(Step {
                job: String::new(),
                index: i64::try_from(index).unwrap_or(i64::MAX),
                name,
                id: String::new(),
                uses: String::new(),
                uses_ref: String::new(),
                with: BTreeMap::new(),
                with_locs: BTreeMap::new(),
                run,
                working_directory: String::new(),
                continue_on_error: false,
                gating,
                env: env.clone(),
                commands,
                unanalysed,
                loc: Location::point(&file.rel, item.line, item.col),
            })
        })
        .collect()
}

/// The lines of a script value, nested arrays flattened (as GitLab does).
fn script_items<'n>(n: &'n N, out: &mut Vec<&'n N>, depth: usize) {
    match &n.v {
        V::Seq(items) => {
            for item in items {
                if depth < MAX_REFERENCE_DEPTH {
                    script_items(item, out, depth + 1);
                }
            }
        }
        V::Str(_) | V::Num(_) | V::Bool(_) => out.push(n),
        _ => {}
    }
}

/// A short text for the job's `rules`/`only`/`except`/`when`.
fn condition_text(eff: &N) -> String {
    let mut parts = Vec::new();
    if let Some(rules) = eff.get_set("rules") {
        let texts: Vec<String> = flatten_rules(rules)
            .into_iter()
            .map(|r| {
                let mut bits = Vec::new();
                if let Some(i) = r.str_of("if") {
                    bits.push(format!("if {i}"));
                }
                for k in ["changes", "exists"] {
                    if r.get(k).is_some() {
                        bits.push(k.to_string());
                    }
                }
                if let Some(w) = r.str_of("when") {
                    bits.push(format!("when {w}"));
                }
                if bits.is_empty() {
                    "always".to_string()
                } else {
                    bits.join(", ")
                }
            })
            .collect();
        parts.push(format!("rules: {}", texts.join("; ")));
    }
    for key in ["only", "except"] {
        if let Some(n) = eff.get_set(key) {
            let text = if n.is_map() {
                n.entries()
                    .iter()
                    .filter_map(|(k, v)| {
                        Some(format!("{}: {}", k.as_str()?, v.strings().join(", ")))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            } else {
                n.strings().join(", ")
            };
            parts.push(format!("{key}: {text}"));
        }
    }
    if let Some(w) = eff.str_of("when") {
        parts.push(format!("when: {w}"));
    }
    parts.join(" | ")
}

// ---------------------------------------------------------------------------------------
// Rules, only/except and expressions

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    T,
    F,
    U,
}

impl Tri {
    fn of(b: bool) -> Tri {
        if b { Tri::T } else { Tri::F }
    }
    fn and(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::F, _) | (_, Tri::F) => Tri::F,
            (Tri::T, Tri::T) => Tri::T,
            _ => Tri::U,
        }
    }
    fn or(self, o: Tri) -> Tri {
        match (self, o) {
            (Tri::T, _) | (_, Tri::T) => Tri::T,
            (Tri::F, Tri::F) => Tri::F,
            _ => Tri::U,
        }
    }
    fn not(self) -> Tri {
        match self {
            Tri::T => Tri::F,
            Tri::F => Tri::T,
            Tri::U => Tri::U,
        }
    }
}

/// How a job may be added to a pipeline of one source.
#[derive(Debug, Clone)]
struct Outcome {
    when: String,
    allow_failure: Option<bool>,
    /// The matching rule's `variables:`.
    variables: Vec<(String, String)>,
}

/// Evaluates rules and expressions, caching parsed expressions.
#[derive(Default)]
struct Evaluator {
    exprs: HashMap<String, Option<Expr>>,
}

impl Evaluator {
    /// The ways `rules` may add the job for `src` (empty: never). First matching rule wins;
    /// an unknown condition may match or fall through.
    fn rules(
        &mut self,
        rules: &[&N],
        src: Source,
        job_when: Option<&str>,
        job_af: Option<bool>,
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        for rule in rules {
            let cond = self.rule_condition(rule, src);
            if cond == Tri::F {
                continue;
            }
            let when = rule
                .str_of("when")
                .or_else(|| job_when.map(str::to_string))
                .unwrap_or_else(|| "on_success".to_string());
            if when != "never" {
                out.push(Outcome {
                    when,
                    allow_failure: allow_failure_of(rule).or(job_af),
                    variables: rule.get_set("variables").map(variables).unwrap_or_default(),
                });
            }
            if cond == Tri::T {
                break;
            }
        }
        out
    }

    fn rule_condition(&mut self, rule: &N, src: Source) -> Tri {
        if !rule.is_map() {
            return Tri::F;
        }
        let mut t = Tri::T;
        if let Some(cond) = rule.get("if") {
            t = t.and(match cond.as_str() {
                Some(s) => self.expr(&s, src),
                None => Tri::U,
            });
        }
        if rule.get("changes").is_some() || rule.get("exists").is_some() {
            t = t.and(Tri::U);
        }
        t
    }

    /// The ways the job may be added for `src`, from its `rules`, else `only`/`except`.
    fn job(
        &mut self,
        eff: &N,
        src: Source,
        workflow_rules: bool,
        job_when: Option<&str>,
        job_af: Option<bool>,
    ) -> Vec<Outcome> {
        if let Some(rules) = eff.get_set("rules") {
            return self.rules(&flatten_rules(rules), src, job_when, job_af);
        }
        let only = eff.get_set("only");
        let except = eff.get_set("except");
        let only_t = match only {
            Some(o) => self.only_except(o, src),
            // Without workflow rules, GitLab's default is `only: [branches, tags]`.
            None if workflow_rules => Tri::T,
            None => ref_matches("branches", src).or(ref_matches("tags", src)),
        };
        let except_t = match except {
            Some(e) => self.only_except(e, src),
            None => Tri::F,
        };
        if only_t.and(except_t.not()) == Tri::F || job_when == Some("never") {
            return Vec::new();
        }
        vec![Outcome {
            when: job_when.unwrap_or("on_success").to_string(),
            allow_failure: job_af,
            variables: Vec::new(),
        }]
    }

    /// Whether an `only:`/`except:` value matches for `src`: a list of refs, or a mapping
    /// whose keys must all match.
    fn only_except(&mut self, n: &N, src: Source) -> Tri {
        let any_ref = |refs: Vec<String>| {
            refs.iter()
                .fold(Tri::F, |acc, r| acc.or(ref_matches(r, src)))
        };
        if !n.is_map() {
            return any_ref(n.strings());
        }
        let mut t = Tri::T;
        if let Some(refs) = n.get_set("refs") {
            t = t.and(any_ref(refs.strings()));
        }
        if let Some(vars) = n.get_set("variables") {
            let v = vars
                .strings()
                .iter()
                .fold(Tri::F, |acc, e| acc.or(self.expr(e, src)));
            t = t.and(v);
        }
        if n.get("changes").is_some() || n.get("kubernetes").is_some() {
            t = t.and(Tri::U);
        }
        t
    }

    /// Evaluates a CI/CD variable expression for `src`.
    fn expr(&mut self, text: &str, src: Source) -> Tri {
        let parsed = self
            .exprs
            .entry(text.to_string())
            .or_insert_with(|| parse_expr(text));
        match parsed {
            Some(e) => eval_expr(e, src),
            None => Tri::U,
        }
    }
}

/// Whether an `only:`/`except:` ref matches for `src`.
fn ref_matches(r: &str, src: Source) -> Tri {
    use Source::*;
    let r = r.trim();
    let is = |sources: &[Source]| Tri::of(sources.contains(&src));
    match r {
        "branches" => is(&[PushDefault, PushOther, Schedule, Web, Api]),
        "tags" => is(&[Tag]),
        "merge_requests" => is(&[MergeRequest]),
        "schedules" => is(&[Schedule]),
        "web" => is(&[Web]),
        "api" => is(&[Api]),
        "pushes" => is(&[PushDefault, PushOther, Tag]),
        "triggers" | "pipelines" | "external" | "chat" | "external_pull_requests" | "webide" => {
            Tri::F
        }
        _ => {
            if src == MergeRequest {
                // Merge-request pipelines only run jobs that ask for `merge_requests`.
                return Tri::F;
            }
            if r.contains('@') {
                return Tri::U;
            }
            let name = ref_name(src);
            if r == "$CI_DEFAULT_BRANCH" || r == "${CI_DEFAULT_BRANCH}" {
                return equals(&name, &Val::DefaultBranch);
            }
            if let Some(re) = r.strip_prefix('/').and_then(parse_regex_literal) {
                return match re {
                    Some(re) => regex_matches(&name, &re),
                    None => Tri::U,
                };
            }
            equals(&name, &Val::Lit(r.to_string()))
        }
    }
}

/// `pattern/flags` (after the opening slash) as a regex: `None` when it is not a regex
/// literal, `Some(None)` when it is one that does not compile.
fn parse_regex_literal(rest: &str) -> Option<Option<regex::Regex>> {
    let end = rest.rfind('/')?;
    let (pattern, flags) = (rest.get(..end)?, rest.get(end + 1..)?);
    if !flags.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(build_regex(pattern, flags))
}

fn build_regex(pattern: &str, flags: &str) -> Option<regex::Regex> {
    regex::RegexBuilder::new(&pattern.replace("\\/", "/"))
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .dot_matches_new_line(flags.contains('s'))
        .size_limit(1 << 20)
        .build()
        .ok()
}

/// What a variable is known to hold in a pipeline of some source.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    /// Not set (also the `null` literal).
    Unset,
    /// A known string.
    Lit(String),
    /// The default branch's name (`main`/`master`).
    DefaultBranch,
    /// The name of a branch or tag that is not the default branch.
    OtherRef,
    /// Set to some non-empty, unknown value.
    Set,
    /// Anything.
    Unknown,
}

fn is_default_name(s: &str) -> bool {
    s == "main" || s == "master"
}

fn ref_name(src: Source) -> Val {
    match src {
        Source::PushDefault => Val::DefaultBranch,
        Source::PushOther | Source::MergeRequest | Source::Tag => Val::OtherRef,
        Source::Schedule | Source::Web | Source::Api => Val::Set,
    }
}

/// The value of a predefined variable for `src`; other variables are unknown.
fn var_value(name: &str, src: Source) -> Val {
    use Source::*;
    let mr = src == MergeRequest;
    match name {
        "CI_PIPELINE_SOURCE" => Val::Lit(src.pipeline_source().to_string()),
        "CI_DEFAULT_BRANCH" => Val::DefaultBranch,
        "CI_COMMIT_BRANCH" => match src {
            PushDefault => Val::DefaultBranch,
            PushOther => Val::OtherRef,
            MergeRequest | Tag => Val::Unset,
            Schedule | Web | Api => Val::Set,
        },
        "CI_COMMIT_REF_NAME" | "CI_COMMIT_REF_SLUG" => ref_name(src),
        "CI_COMMIT_TAG" | "CI_COMMIT_TAG_MESSAGE" => {
            if src == Tag {
                Val::Set
            } else {
                Val::Unset
            }
        }
        "CI_MERGE_REQUEST_ID" | "CI_MERGE_REQUEST_IID" | "CI_MERGE_REQUEST_PROJECT_ID" => {
            if mr {
                Val::Set
            } else {
                Val::Unset
            }
        }
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME" => {
            if mr {
                Val::OtherRef
            } else {
                Val::Unset
            }
        }
        "CI_OPEN_MERGE_REQUESTS" => {
            if src == Tag {
                Val::Unset
            } else {
                Val::Unknown
            }
        }
        n if n.starts_with("CI_MERGE_REQUEST_") => {
            if mr {
                Val::Unknown
            } else {
                Val::Unset
            }
        }
        n if n.starts_with("CI_EXTERNAL_PULL_REQUEST_") => Val::Unset,
        _ => Val::Unknown,
    }
}

fn equals(a: &Val, b: &Val) -> Tri {
    use Val::*;
    match (a, b) {
        (Unknown, _) | (_, Unknown) => Tri::U,
        (Unset, Unset) => Tri::T,
        (Unset, _) | (_, Unset) => Tri::F,
        (Lit(x), Lit(y)) => Tri::of(x == y),
        (DefaultBranch, DefaultBranch) => Tri::T,
        (DefaultBranch, OtherRef) | (OtherRef, DefaultBranch) => Tri::F,
        (DefaultBranch, Lit(s)) | (Lit(s), DefaultBranch) => Tri::of(is_default_name(s)),
        (OtherRef, Lit(s)) | (Lit(s), OtherRef) => {
            if s.is_empty() || is_default_name(s) {
                Tri::F
            } else {
                Tri::U
            }
        }
        (Set, Lit(s)) | (Lit(s), Set) => {
            if s.is_empty() {
                Tri::F
            } else {
                Tri::U
            }
        }
        _ => Tri::U,
    }
}

fn regex_matches(v: &Val, re: &regex::Regex) -> Tri {
    match v {
        Val::Unset => Tri::F,
        Val::Lit(s) => Tri::of(re.is_match(s)),
        Val::DefaultBranch => {
            let (a, b) = (re.is_match("main"), re.is_match("master"));
            if a == b { Tri::of(a) } else { Tri::U }
        }
        _ => Tri::U,
    }
}

fn truthy(v: &Val) -> Tri {
    match v {
        Val::Unset => Tri::F,
        Val::Lit(s) => Tri::of(!s.is_empty()),
        Val::Unknown => Tri::U,
        _ => Tri::T,
    }
}

#[derive(Debug, Clone)]
enum Tok {
    Var(String),
    Str(String),
    /// A regex literal; `None` when it does not compile.
    Re(Option<regex::Regex>),
    Null,
    Eq,
    Ne,
    Match,
    NoMatch,
    And,
    Or,
    LParen,
    RParen,
}

#[derive(Debug)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cmp(Opnd, CmpOp, Opnd),
    Truthy(Opnd),
}

#[derive(Debug)]
enum Opnd {
    Var(String),
    Str(String),
    Null,
    Re(Option<regex::Regex>),
}

#[derive(Debug, Clone, Copy)]
enum CmpOp {
    Eq,
    Ne,
    Match,
    NoMatch,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied();
    while let Some(c) = at(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            '$' => {
                let name: String = if at(i + 1) == Some('{') {
                    let len = chars.get(i + 2..)?.iter().position(|c| *c == '}')?;
                    let name = chars.get(i + 2..i + 2 + len)?.iter().collect();
                    i += len + 3;
                    name
                } else {
                    let len = chars
                        .get(i + 1..)?
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .count();
                    let name = chars.get(i + 1..i + 1 + len)?.iter().collect();
                    i += len + 1;
                    name
                };
                if name.is_empty() {
                    return None;
                }
                out.push(Tok::Var(name));
            }
            '"' | '\'' => {
                let mut j = i + 1;
                let mut lit = String::new();
                loop {
                    let d = at(j)?;
                    if d == '\\' && at(j + 1) == Some(c) {
                        lit.push(c);
                        j += 2;
                    } else if d == c {
                        break;
                    } else {
                        lit.push(d);
                        j += 1;
                    }
                }
                out.push(Tok::Str(lit));
                i = j + 1;
            }
            '/' if matches!(out.last(), Some(Tok::Match | Tok::NoMatch)) => {
                let mut j = i + 1;
                let mut pattern = String::new();
                loop {
                    let d = at(j)?;
                    if d == '\\' && at(j + 1) == Some('/') {
                        pattern.push('/');
                        j += 2;
                    } else if d == '\\' {
                        pattern.push(d);
                        pattern.push(at(j + 1)?);
                        j += 2;
                    } else if d == '/' {
                        break;
                    } else {
                        pattern.push(d);
                        j += 1;
                    }
                }
                j += 1;
                let mut flags = String::new();
                while let Some(f) = at(j).filter(char::is_ascii_alphabetic) {
                    flags.push(f);
                    j += 1;
                }
                out.push(Tok::Re(build_regex(&pattern, &flags)));
                i = j;
            }
            '=' | '!' => {
                let tok = match (c, at(i + 1)?) {
                    ('=', '=') => Tok::Eq,
                    ('=', '~') => Tok::Match,
                    ('!', '=') => Tok::Ne,
                    ('!', '~') => Tok::NoMatch,
                    _ => return None,
                };
                out.push(tok);
                i += 2;
            }
            '&' | '|' => {
                if at(i + 1) != Some(c) {
                    return None;
                }
                out.push(if c == '&' { Tok::And } else { Tok::Or });
                i += 2;
            }
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            _ => {
                let word: String = chars
                    .get(i..)?
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                    .collect();
                if word == "null" {
                    out.push(Tok::Null);
                    i += 4;
                } else {
                    return None;
                }
            }
        }
    }
    Some(out)
}

/// Parses a `rules: if:` expression and evaluates it for every pipeline source; whether it
/// parsed. The entry point of the GitLab expression fuzz target ([`crate::fuzzing`]).
pub(crate) fn parse_and_evaluate(text: &str) -> bool {
    let Some(e) = parse_expr(text) else {
        return false;
    };
    for src in Source::ALL {
        let _ = eval_expr(&e, src);
    }
    true
}

fn parse_expr(text: &str) -> Option<Expr> {
    let toks = tokenize(text)?;
    let mut p = ExprParser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    (p.pos == p.toks.len()).then_some(e)
}

struct ExprParser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl ExprParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Option<Expr> {
        let mut terms = vec![self.and()?];
        while matches!(self.peek(), Some(Tok::Or)) {
            self.pos += 1;
            terms.push(self.and()?);
        }
        Some(if terms.len() == 1 {
            terms.pop()?
        } else {
            Expr::Or(terms)
        })
    }

    fn and(&mut self) -> Option<Expr> {
        let mut terms = vec![self.primary()?];
        while matches!(self.peek(), Some(Tok::And)) {
            self.pos += 1;
            terms.push(self.primary()?);
        }
        Some(if terms.len() == 1 {
            terms.pop()?
        } else {
            Expr::And(terms)
        })
    }

    fn primary(&mut self) -> Option<Expr> {
        if matches!(self.peek(), Some(Tok::LParen)) {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_EXPR_DEPTH {
                return None;
            }
            let e = self.or()?;
            if !matches!(self.next()?, Tok::RParen) {
                return None;
            }
            self.depth -= 1;
            return Some(e);
        }
        let lhs = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Eq) => CmpOp::Eq,
            Some(Tok::Ne) => CmpOp::Ne,
            Some(Tok::Match) => CmpOp::Match,
            Some(Tok::NoMatch) => CmpOp::NoMatch,
            _ => return Some(Expr::Truthy(lhs)),
        };
        self.pos += 1;
        let rhs = self.operand()?;
        Some(Expr::Cmp(lhs, op, rhs))
    }

    fn operand(&mut self) -> Option<Opnd> {
        Some(match self.next()? {
            Tok::Var(v) => Opnd::Var(v),
            Tok::Str(s) => Opnd::Str(s),
            Tok::Null => Opnd::Null,
            Tok::Re(r) => Opnd::Re(r),
            _ => return None,
        })
    }
}

fn eval_expr(e: &Expr, src: Source) -> Tri {
    let val = |o: &Opnd| match o {
        Opnd::Var(v) => var_value(v, src),
        Opnd::Str(s) => Val::Lit(s.clone()),
        Opnd::Null => Val::Unset,
        Opnd::Re(_) => Val::Unknown,
    };
    match e {
        Expr::Or(terms) => terms
            .iter()
            .fold(Tri::F, |acc, t| acc.or(eval_expr(t, src))),
        Expr::And(terms) => terms
            .iter()
            .fold(Tri::T, |acc, t| acc.and(eval_expr(t, src))),
        Expr::Truthy(o) => truthy(&val(o)),
        Expr::Cmp(a, op, b) => {
            let matched = || match b {
                Opnd::Re(Some(re)) => regex_matches(&val(a), re),
                _ => Tri::U,
            };
            match op {
                CmpOp::Eq => equals(&val(a), &val(b)),
                CmpOp::Ne => equals(&val(a), &val(b)).not(),
                CmpOp::Match => matched(),
                CmpOp::NoMatch => matched().not(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTANCE_MAIN: &str = r###"include:
  - local: .gitlab/ci/deploy.yml

stages:
  - verify
  - test
  - build
  - deploy

workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

variables:
  npm_config_cache: $CI_PROJECT_DIR/.npm

# Checks that guard merge requests.
.merge_request_rules: &merge_request_rules
  - if: $CI_PIPELINE_SOURCE == "merge_request_event"

.node:
  image: node:18-alpine
  cache:
    key:
      files: [package-lock.json]
    paths: [.npm/]
  before_script:
    - npm ci --prefer-offline --no-audit

lint:
  extends: .node
  stage: verify
  rules: *merge_request_rules
  script:
    - npm run lint

type-check:
  extends: .node
  stage: verify
  rules: *merge_request_rules
  script:
    - npm run type-check

audit:
  extends: .node
  stage: verify
  rules: *merge_request_rules
  before_script: []
  script:
    - npm audit --audit-level=high

secret-scan:
  stage: verify
  image:
    name: trufflesecurity/trufflehog:latest
    entrypoint: [""]
  rules: *merge_request_rules
  variables:
    GIT_DEPTH: 0
  script:
    - trufflehog git file://. --since-commit "$CI_MERGE_REQUEST_DIFF_BASE_SHA" --branch "$CI_COMMIT_SHA" --only-verified --fail

unit-test:
  extends: .node
  stage: test
  rules: *merge_request_rules
  script:
    - npm test

integration-test:
  extends: .node
  stage: test
  rules: *merge_request_rules
  services:
    - name: postgres:14-alpine
      alias: postgres
    - name: redis:7-alpine
      alias: redis
  variables:
    POSTGRES_PASSWORD: postgres
    DB_HOST: postgres
    DB_USERNAME: postgres
    DB_PASSWORD: postgres
    REDIS_URL: redis://redis:6379
  script:
    - npm run test:integration:http

docker-build:
  stage: build
  image: docker:27
  services:
    - docker:27-dind
  rules: *merge_request_rules
  script:
    - docker build --tag "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .

publish-image:
  stage: build
  image: docker:27
  services:
    - docker:27-dind
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"
    - docker build --tag "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .
    - docker push "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"
"###;
    const ACCEPTANCE_DEPLOY: &str = r###"# Staging follows every merge to the default branch; production is released by hand.

.deploy:
  image: node:18-alpine
  stage: deploy
  needs: [publish-image]
  variables:
    IMAGE: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA
  before_script:
    - apk add --no-cache curl postgresql14-client aws-cli
    - npm ci --prefer-offline --no-audit

deploy-staging:
  extends: .deploy
  environment:
    name: staging
    url: https://staging-api.marrowbone.example.com
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - npx medusa db:migrate
    - curl --fail -sS -X POST "$DEPLOY_HOOK_URL" --data-urlencode "image=$IMAGE"
    - curl --fail -sS --retry 12 --retry-delay 10 --retry-all-errors https://staging-api.marrowbone.example.com/health

deploy-production:
  extends: .deploy
  environment:
    name: production
    url: https://api.marrowbone.example.com
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
  variables:
    SMOKE_BASE_URL: https://api.marrowbone.example.com
  script:
    - pg_dump --format=custom --no-owner --file "medusa-$CI_COMMIT_SHORT_SHA.dump" "$DATABASE_URL"
    - aws s3 cp "medusa-$CI_COMMIT_SHORT_SHA.dump" "s3://marrowbone-db-backups/production/$CI_PIPELINE_ID.dump"
    - npx medusa db:migrate
    - curl --fail -sS -X POST "$DEPLOY_HOOK_URL" --data-urlencode "image=$IMAGE"
    - npm run test:smoke
"###;

    fn load_tree(files: &[(&str, &str)]) -> (tempfile::TempDir, GitlabCi) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let p = dir.path().join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(p, text).expect("write");
        }
        let main = files
            .iter()
            .find(|(p, _)| *p == ".gitlab-ci.yml")
            .map_or("", |(_, t)| *t);
        let ci = load(
            &crate::load::Root::new(dir.path()).expect("root"),
            ".gitlab-ci.yml",
            main,
        )
        .expect("loads");
        (dir, ci)
    }

    fn ci(main: &str) -> GitlabCi {
        load_tree(&[(".gitlab-ci.yml", main)]).1
    }

    fn job<'a>(ci: &'a GitlabCi, id: &str) -> &'a Job {
        ci.jobs
            .iter()
            .find(|j| j.id == id)
            .unwrap_or_else(|| panic!("no job {id}: {:?}", ids(ci)))
    }

    fn ids(ci: &GitlabCi) -> Vec<&str> {
        ci.jobs.iter().map(|j| j.id.as_str()).collect()
    }

    fn runs(j: &Job) -> Vec<&str> {
        j.steps.iter().map(|s| s.run.as_str()).collect()
    }

    /// The job's triggers as short names.
    fn sources(j: &Job) -> Vec<&'static str> {
        j.triggers.iter().map(trigger_name).collect()
    }

    fn trigger_name(t: &Trigger) -> &'static str {
        match (t.event.as_str(), t.default_branch, t.tag_only) {
            ("push", true, _) => "main",
            ("push", _, true) => "tag",
            ("push", _, _) => "branch",
            ("merge_request", _, _) => "mr",
            ("schedule", _, _) => "schedule",
            ("web", _, _) => "web",
            ("api", _, _) => "api",
            _ => "?",
        }
    }

    #[test]
    fn acceptance_example_shape() {
        let (_d, ci) = load_tree(&[
            (".gitlab-ci.yml", ACCEPTANCE_MAIN),
            (".gitlab/ci/deploy.yml", ACCEPTANCE_DEPLOY),
        ]);
        assert!(ci.errors.is_empty(), "{:?}", ci.errors);
        assert!(ci.external.is_empty());
        assert_eq!(ci.sources.len(), 2);
        let p = &ci.pipeline;
        assert_eq!(
            (p.provider.as_str(), p.path.as_str(), p.name.as_str()),
            ("gitlab", ".gitlab-ci.yml", ".gitlab-ci.yml")
        );
        assert_eq!(
            (p.jobs_loc.file.as_str(), p.jobs_loc.line, p.jobs_loc.col),
            (".gitlab-ci.yml", 31, 1)
        );
        assert_eq!(p.loc.line, 1);
        assert_eq!(
            p.triggers.iter().map(trigger_name).collect::<Vec<_>>(),
            vec!["main", "mr"]
        );
        assert!(p.is_pre_merge);
        assert_eq!(
            ids(&ci),
            vec![
                "lint",
                "type-check",
                "audit",
                "secret-scan",
                "unit-test",
                "integration-test",
                "docker-build",
                "publish-image",
                "deploy-staging",
                "deploy-production"
            ]
        );

        let lint = job(&ci, "lint");
        assert_eq!(
            (lint.loc.line, lint.path.as_str(), lint.key.as_str()),
            (31, ".gitlab-ci.yml", ".gitlab-ci.yml#lint")
        );
        assert_eq!(sources(lint), vec!["mr"]);
        assert!(lint.is_pre_merge && !lint.manual && !lint.allow_failure);
        assert_eq!(lint.stage, "verify");
        assert_eq!(
            runs(lint),
            vec!["npm ci --prefer-offline --no-audit", "npm run lint"]
        );
        let before = &lint.steps[0];
        assert_eq!(
            (before.loc.file.as_str(), before.loc.line),
            (".gitlab-ci.yml", 29)
        );
        assert_eq!(before.commands[0].loc.line, 29);
        assert!(before.gating);
        assert_eq!(lint.steps[1].commands[0].argv, vec!["npm", "run", "lint"]);
        assert!(
            lint.condition.contains("merge_request_event"),
            "{}",
            lint.condition
        );

        let audit = job(&ci, "audit");
        assert_eq!(
            runs(audit),
            vec!["npm audit --audit-level=high"],
            "before_script: [] overrides"
        );

        let publish = job(&ci, "publish-image");
        assert_eq!(sources(publish), vec!["main"]);
        assert!(!publish.is_pre_merge);
        assert_eq!(publish.steps.len(), 3);

        let staging = job(&ci, "deploy-staging");
        assert_eq!(
            (staging.path.as_str(), staging.loc.line),
            (".gitlab/ci/deploy.yml", 13)
        );
        assert_eq!(staging.environment, "staging");
        assert!(staging.has_environment && !staging.manual && !staging.is_pre_merge);
        assert_eq!(sources(staging), vec!["main"]);
        assert_eq!(staging.needs, vec!["publish-image"]);
        assert_eq!(staging.stage, "deploy");
        assert_eq!(staging.steps.len(), 5);
        assert_eq!(
            (
                staging.steps[0].loc.file.as_str(),
                staging.steps[0].loc.line
            ),
            (".gitlab/ci/deploy.yml", 10)
        );
        assert_eq!(staging.steps[2].commands[0].program, "npx");
        assert_eq!(staging.steps[2].loc.file, ".gitlab/ci/deploy.yml");
        assert_eq!(
            staging.steps[0].env.get("IMAGE").map(String::as_str),
            Some("$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA")
        );
        assert!(
            job(&ci, "publish-image").rank < staging.rank,
            "stage order ranks jobs"
        );

        let prod = job(&ci, "deploy-production");
        assert!(prod.manual && !prod.is_pre_merge);
        assert_eq!(prod.environment, "production");
        assert_eq!(sources(prod), vec!["main"]);
        assert_eq!(prod.steps[2].commands[0].program, "pg_dump");
    }

    #[test]
    fn extends_merges_mappings_deeply_over_several_levels() {
        let ci = ci(r#"
.base:
  image: node:20
  variables: {A: "1", B: "2"}
  environment: {name: staging, url: https://x}
  script: [echo base, echo more]
.mid:
  extends: .base
  variables: {B: "3", C: "4"}
  stage: deploy
.other:
  script: [echo other]
job:
  extends: [.mid]
  variables: {C: "5"}
  environment: {url: https://y}
both:
  extends: [.mid, .other]
"#);
        let j = job(&ci, "job");
        assert_eq!(j.environment, "staging");
        assert_eq!(j.stage, "deploy");
        assert_eq!(runs(j), vec!["echo base", "echo more"]);
        let env = &j.steps[0].env;
        assert_eq!(
            (env["A"].as_str(), env["B"].as_str(), env["C"].as_str()),
            ("1", "3", "5")
        );
        assert_eq!(j.steps[0].loc.line, 6);
        assert_eq!(
            runs(job(&ci, "both")),
            vec!["echo other"],
            "later parent wins, arrays replaced"
        );
        assert_eq!(ids(&ci), vec!["job", "both"]);
    }

    #[test]
    fn references_are_replaced_and_spliced() {
        let ci = ci(r#"
.setup:
  script:
    - echo setup
    - echo two
.child:
  extends: .setup
.rules:
  rules:
    - if: $CI_COMMIT_TAG
job:
  rules:
    - !reference [.rules, rules]
  script:
    - !reference [.child, script]
    - echo mine
    - [nested, array]
single:
  script: !reference [.setup, script]
"#);
        let j = job(&ci, "job");
        assert_eq!(
            runs(j),
            vec!["echo setup", "echo two", "echo mine", "nested", "array"]
        );
        assert_eq!(j.steps[0].loc.line, 4);
        assert_eq!(j.steps[2].index, 2);
        assert_eq!(sources(j), vec!["tag"]);
        assert_eq!(runs(job(&ci, "single")), vec!["echo setup", "echo two"]);
    }

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

    #[test]
    fn only_and_except() {
        let ci = ci(r#"
plain:
  script: [echo]
main-only:
  only: [main]
  script: [echo]
tags-only:
  only: [tags]
  script: [echo]
mrs:
  only: [merge_requests]
  script: [echo]
release:
  only: [/^release\/.*$/]
  script: [echo]
not-tags:
  except: [tags]
  script: [echo]
default-branch:
  only:
    refs: [$CI_DEFAULT_BRANCH]
  script: [echo]
"#);
        assert_eq!(sources(job(&ci, "plain")), vec!["main", "branch", "tag"]);
        assert!(job(&ci, "plain").is_pre_merge);
        assert_eq!(sources(job(&ci, "main-only")), vec!["main"]);
        assert!(!job(&ci, "main-only").is_pre_merge);
        assert_eq!(sources(job(&ci, "tags-only")), vec!["tag"]);
        assert!(!job(&ci, "tags-only").is_pre_merge);
        assert_eq!(sources(job(&ci, "mrs")), vec!["mr"]);
        assert_eq!(sources(job(&ci, "release")), vec!["branch", "tag"]);
        assert_eq!(sources(job(&ci, "not-tags")), vec!["main", "branch"]);
        assert_eq!(sources(job(&ci, "default-branch")), vec!["main"]);
        assert_eq!(
            ci.pipeline
                .triggers
                .iter()
                .map(trigger_name)
                .collect::<Vec<_>>(),
            vec!["main", "branch", "mr", "tag"]
        );
    }

    #[test]
    fn rules_when_manual_never_and_tags() {
        let ci = ci(r#"
manual:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      when: manual
  script: [echo]
manual-gating:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      when: manual
      allow_failure: false
  script: [echo]
job-manual:
  when: manual
  script: [echo]
never-mr:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
      when: never
    - when: on_success
  script: [echo]
tag:
  rules:
    - if: $CI_COMMIT_TAG
  script: [echo]
semver:
  rules:
    - if: $CI_COMMIT_TAG =~ /^v\d+/
  script: [echo]
on-default:
  rules:
    - if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
  script: [echo]
main-literal:
  rules:
    - if: $CI_COMMIT_REF_NAME == "main" && $CI_PIPELINE_SOURCE != "merge_request_event"
  script: [echo]
develop:
  rules:
    - if: $CI_COMMIT_BRANCH == "develop"
  script: [echo]
unknown:
  rules:
    - if: ($DEPLOY == "yes" || $X) && $CI_PIPELINE_SOURCE == "merge_request_event"
  script: [echo]
empty-rules:
  rules: []
  script: [echo]
mixed:
  rules:
    - if: $CI_COMMIT_TAG
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
  script: [echo]
soft:
  allow_failure:
    exit_codes: [1]
  script: [npm run lint]
"#);
        let m = job(&ci, "manual");
        assert_eq!(sources(m), vec!["mr"]);
        assert!(m.manual && !m.is_pre_merge);
        let g = job(&ci, "manual-gating");
        assert!(g.manual && g.is_pre_merge);
        let jm = job(&ci, "job-manual");
        assert!(jm.manual && !jm.is_pre_merge);
        assert_eq!(sources(job(&ci, "never-mr")), vec!["main", "branch", "tag"]);
        assert_eq!(sources(job(&ci, "tag")), vec!["tag"]);
        assert!(!job(&ci, "tag").is_pre_merge);
        assert_eq!(sources(job(&ci, "semver")), vec!["tag"]);
        assert_eq!(sources(job(&ci, "on-default")), vec!["main"]);
        assert_eq!(sources(job(&ci, "main-literal")), vec!["main"]);
        assert_eq!(sources(job(&ci, "develop")), vec!["branch"]);
        assert_eq!(sources(job(&ci, "unknown")), vec!["mr"]);
        assert!(job(&ci, "unknown").is_pre_merge);
        assert!(sources(job(&ci, "empty-rules")).is_empty());
        let mixed = job(&ci, "mixed");
        assert_eq!(sources(mixed), vec!["main", "tag"]);
        assert!(!mixed.manual);
        let soft = job(&ci, "soft");
        assert!(soft.allow_failure && !soft.steps[0].gating);
        assert!(soft.is_pre_merge);
        assert!(job(&ci, "on-default").steps[0].gating);
    }

    #[test]
    fn workflow_rules_restrict_the_pipeline_and_unruled_jobs() {
        let ci = ci(r#"
workflow:
  name: My pipeline
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS
      when: never
    - if: $CI_COMMIT_BRANCH
    - if: $CI_PIPELINE_SOURCE == "schedule"
plain:
  script: [echo]
nightly:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
  script: [echo]
"#);
        assert_eq!(ci.pipeline.name, "My pipeline");
        assert_eq!(
            ci.pipeline
                .triggers
                .iter()
                .map(trigger_name)
                .collect::<Vec<_>>(),
            vec!["main", "branch", "mr", "schedule"]
        );
        assert_eq!(
            sources(job(&ci, "plain")),
            vec!["main", "branch", "mr", "schedule"]
        );
        assert_eq!(sources(job(&ci, "nightly")), vec!["schedule"]);
        assert!(!job(&ci, "nightly").is_pre_merge);
        assert_eq!(job(&ci, "plain").pipeline_name, "My pipeline");

        let ci = super::tests::ci(
            "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\njob:\n  script: [echo]\n",
        );
        assert_eq!(
            ci.pipeline
                .triggers
                .iter()
                .map(trigger_name)
                .collect::<Vec<_>>(),
            vec!["tag"]
        );
        assert!(!ci.pipeline.is_pre_merge);
        assert!(!job(&ci, "job").is_pre_merge);
    }

    #[test]
    fn environments_expand_literal_variables() {
        let ci = ci(r#"
variables:
  ENV_NAME: production
  NESTED: $ENV_NAME
deploy-a:
  environment: $ENV_NAME
  script: [echo]
deploy-b:
  variables:
    TARGET: staging
  environment:
    name: deploy/${TARGET}
  script: [echo]
deploy-c:
  environment: {name: production}
  script: [echo]
review:
  environment: review/$CI_COMMIT_REF_SLUG
  script: [echo]
nested:
  environment: $NESTED
  script: [echo]
no-inherit:
  inherit:
    variables: false
  environment: $ENV_NAME
  script: [echo]
none:
  script: [echo]
"#);
        assert_eq!(job(&ci, "deploy-a").environment, "production");
        assert_eq!(job(&ci, "deploy-b").environment, "deploy/staging");
        assert_eq!(job(&ci, "deploy-c").environment, "production");
        assert!(job(&ci, "deploy-c").has_environment);
        assert_eq!(job(&ci, "review").environment, "review/$CI_COMMIT_REF_SLUG");
        assert_eq!(job(&ci, "nested").environment, "production");
        assert_eq!(job(&ci, "no-inherit").environment, "$ENV_NAME");
        assert!(!job(&ci, "none").has_environment);
        assert_eq!(job(&ci, "none").environment, "");
    }

    #[test]
    fn block_scalar_lines_map_to_their_file_lines() {
        let (_d, ci) = load_tree(&[
            (
                ".gitlab-ci.yml",
                "include: ci/x.yml\nbuild:\n  script:\n    - |\n      npm ci\n      npm run build\n    - \"echo 'quoted'\"\n",
            ),
            (
                "ci/x.yml",
                "\n\ntest:\n  script:\n    - >-\n      npm\n      test\n    - |\n      echo one\n      npm run test:e2e || true\n",
            ),
        ]);
        let b = job(&ci, "build");
        assert_eq!(b.steps[0].commands.len(), 2);
        assert_eq!(b.steps[0].commands[1].loc.line, 6);
        assert_eq!(b.steps[0].commands[1].argv, vec!["npm", "run", "build"]);
        assert_eq!(b.steps[1].commands[0].loc.line, 7);
        assert_eq!(b.steps[1].commands[0].loc.col, 8);
        let t = job(&ci, "test");
        assert_eq!(t.path, "ci/x.yml");
        assert_eq!(t.loc.line, 3);
        let last = &t.steps[1].commands[1];
        assert_eq!((last.loc.file.as_str(), last.loc.line), ("ci/x.yml", 10));
        assert!(last.neutralised);
    }

    #[test]
    fn job_names_with_colons_spaces_and_slashes() {
        let ci = ci(
            "test:unit:\n  script: [npm run test:unit]\n\"deploy prod\":\n  script: [echo]\nbuild/app:\n  script: [echo]\npages:\n  script: [echo]\n.hidden:\n  script: [echo]\nstages: [build]\nvariables: {A: b}\nnot-a-job:\n  image: x\n",
        );
        assert_eq!(
            ids(&ci),
            vec!["test:unit", "deploy prod", "build/app", "pages"]
        );
        assert_eq!(job(&ci, "deploy prod").loc.line, 3);
        assert_eq!(job(&ci, "build/app").key, ".gitlab-ci.yml#build/app");
    }

    #[test]
    fn defaults_and_legacy_globals_apply() {
        let ci = ci(r#"
default:
  before_script: [echo default]
image: node:20
after_script: [echo after]
a:
  script: [echo a]
b:
  inherit:
    default: false
  script: [echo b]
c:
  before_script: [echo own]
  script: [echo c]
"#);
        assert_eq!(runs(job(&ci, "a")), vec!["echo default", "echo a"]);
        assert_eq!(runs(job(&ci, "b")), vec!["echo b"]);
        assert_eq!(runs(job(&ci, "c")), vec!["echo own", "echo c"]);
    }

    #[test]
    fn needs_forms() {
        let ci = ci(
            "a:\n  script: [x]\nb:\n  needs:\n    - a\n    - job: c\n      optional: true\n    - pipeline: $PARENT\n      job: d\n    - project: g/p\n      job: e\n      ref: main\n  script: [x]\nc:\n  script: [x]\n",
        );
        assert_eq!(job(&ci, "b").needs, vec!["a", "c"]);
    }

    #[test]
    fn expressions_are_three_valued() {
        use Source::*;
        let e = |s: &str, src| {
            let mut ev = Evaluator::default();
            ev.expr(s, src)
        };
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", PushDefault),
            Tri::T
        );
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", PushOther),
            Tri::F
        );
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", MergeRequest),
            Tri::F
        );
        assert_eq!(
            e("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", Schedule),
            Tri::U
        );
        assert_eq!(e("$CI_COMMIT_TAG", Tag), Tri::T);
        assert_eq!(e("$CI_COMMIT_TAG == null", Tag), Tri::F);
        assert_eq!(e("$CI_COMMIT_TAG == null", PushOther), Tri::T);
        assert_eq!(e("$CI_MERGE_REQUEST_IID", MergeRequest), Tri::T);
        assert_eq!(e("${CI_MERGE_REQUEST_ID}", PushDefault), Tri::F);
        assert_eq!(e("$CI_COMMIT_BRANCH =~ /^release/", PushDefault), Tri::F);
        assert_eq!(e("$CI_COMMIT_BRANCH =~ /^release/", PushOther), Tri::U);
        assert_eq!(e("$CI_COMMIT_BRANCH !~ /^MAIN$/i", PushDefault), Tri::U);
        assert_eq!(e("$CI_COMMIT_BRANCH !~ /^ma/", PushDefault), Tri::F);
        assert_eq!(
            e(
                "$CI_PIPELINE_SOURCE == 'push' && ($CI_COMMIT_TAG || $X)",
                Tag
            ),
            Tri::T
        );
        assert_eq!(
            e(
                "$CI_PIPELINE_SOURCE == 'push' && ($CI_COMMIT_TAG || $X)",
                PushOther
            ),
            Tri::U
        );
        assert_eq!(
            e(
                "$CI_PIPELINE_SOURCE == \"web\" || $CI_PIPELINE_SOURCE == \"api\"",
                Api
            ),
            Tri::T
        );
        for junk in [
            "",
            "((",
            "$",
            "== ==",
            "$A =~",
            "$A =~ /unterminated",
            "$A =~ /[/",
            "\"x",
            "$A & $B",
            "foo",
            "$A == (",
            "${A",
        ] {
            for src in [PushDefault, PushOther, MergeRequest, Tag] {
                assert_eq!(e(junk, src), Tri::U, "{junk}");
            }
        }
        let deep = format!("{}$A{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(e(&deep, PushDefault), Tri::U);
        let long = vec!["$CI_COMMIT_TAG"; 5000].join(" && ");
        assert_eq!(e(&long, Tag), Tri::T);
    }

    #[test]
    fn malformed_configurations_do_not_panic() {
        let list_root = ci("- a\n- b\n");
        assert!(list_root.jobs.is_empty());
        assert_eq!(list_root.errors.len(), 1);
        assert_eq!(list_root.pipeline.jobs_loc.line, 1);
        let empty = ci("");
        assert!(empty.jobs.is_empty() && empty.errors.is_empty());
        let ci = ci(r#"
include: 5
variables: [1, 2]
default: 3
workflow: {rules: nope}
number:
  script: 42
map-script:
  script: {a: b}
  rules: "x"
  only: {refs: 5, variables: [1]}
  environment: [x]
  needs: {a: b}
  allow_failure: maybe
  extends: 5
loop-a:
  extends: loop-b
  script: [echo a]
loop-b:
  extends: [loop-a, missing]
  script: [echo b]
bad-ref:
  script:
    - !reference [nowhere, script]
    - !reference []
    - !reference [loop-a, script, deeper]
    - echo ok
self-ref:
  script:
    - !reference [self-ref, script]
bad-shell:
  script:
    - "echo $(("
    - if then fi
  stage: [1]
"#);
        assert_eq!(runs(job(&ci, "number")), vec!["42"]);
        assert!(job(&ci, "map-script").steps.is_empty());
        assert_eq!(runs(job(&ci, "bad-ref")), vec!["echo ok"]);
        assert_eq!(runs(job(&ci, "loop-b")), vec!["echo b"]);
        let bad = job(&ci, "bad-shell");
        assert_eq!(bad.steps.len(), 2);
        assert!(bad.steps.iter().all(|s| s.commands.is_empty()));
        assert_eq!(bad.stage, "test");
        let _ = job(&ci, "self-ref");
    }

    #[test]
    fn invalid_main_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = load(
            &crate::load::Root::new(dir.path()).expect("root"),
            ".gitlab-ci.yml",
            "a: [1,\n",
        )
        .expect_err("invalid");
        assert_eq!(err.loc.file, ".gitlab-ci.yml");
    }

    #[test]
    fn spec_header_documents_are_skipped() {
        let ci = ci("spec:\n  inputs:\n    env: {default: x}\n---\njob:\n  script: [echo]\n");
        assert_eq!(ids(&ci), vec!["job"]);
        assert_eq!(job(&ci, "job").loc.line, 5);
    }
}
