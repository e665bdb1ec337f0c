//! Compose loader: Compose files (`compose.y*ml`, `docker-compose.y*ml`, their `.*.` variants)
//! into [`crate::model::compose::ComposeProject`]s, following the Compose specification where
//! it matters to the rules: the override file of the same directory merged onto its base,
//! `extends: {file, service}`, top-level `include:`, anchors and `<<:` merges (by the YAML
//! parser), environment in map and list form, `env_file` in every form (keys read, values
//! never kept), interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
//! nested defaults, `$$`), image normalisation and `build` context, dockerfile and target.

use std::collections::BTreeSet;

use crate::load::yaml::YamlFailure;
use crate::load::ytree::{self, YNode, YValue};
use crate::load::{LoadError, Root, dir_of, join_reference, join_relative};
use crate::location::Location;
use crate::model::compose::{ComposeProject, EnvEntry, EnvFile, Service};
use crate::model::image::ImageRef;

/// How deep `extends` and `include` are followed.
const MAX_DEPTH: usize = 8;

/// A loaded project, with problems met in the files it references.
#[derive(Debug)]
pub struct Loaded {
    /// The project.
    pub project: ComposeProject,
    /// Problems with referenced files (missing, invalid, cycles), at the reference.
    pub errors: Vec<LoadError>,
    /// Notes at references to files that do not parse: the file's own SS001 is at its
    /// error, and the reference is told here (a related location, not a second SS001).
    pub notes: Vec<LoadError>,
    /// Texts of the other files read, for snippets.
    pub sources: Vec<(String, String)>,
}

/// Whether a Compose file name is an override file (merged onto its base by default).
pub fn is_override(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    matches!(
        name.as_str(),
        "docker-compose.override.yml"
            | "docker-compose.override.yaml"
            | "compose.override.yml"
            | "compose.override.yaml"
    )
}

/// The override file names that apply to a base file name, in Compose's order of preference.
pub fn override_names(base: &str) -> &'static [&'static str] {
    let name = base.rsplit('/').next().unwrap_or(base).to_ascii_lowercase();
    match name.as_str() {
        "compose.yaml" | "compose.yml" => &["compose.override.yaml", "compose.override.yml"],
        "docker-compose.yaml" | "docker-compose.yml" => &[
            "docker-compose.override.yaml",
            "docker-compose.override.yml",
        ],
        _ => &[],
    }
}

/// A service as read from one file, before merging (`None`: not written there).
#[derive(Debug, Clone, Default)]
struct Raw {
    loc: Option<Location>,
    image: Option<(String, Location)>,
    build: Option<(String, String, String)>,
    environment: Vec<EnvEntry>,
    env_files: Option<Vec<EnvFile>>,
    profiles: Option<Vec<String>>,
    depends_on: Option<Vec<String>>,
    healthcheck: Option<bool>,
    /// An `extends` of this service (or of what it extends) could not be resolved.
    incomplete: bool,
}

impl Raw {
    /// Merges `over` onto `self` as a Compose override does: scalars replaced, environment
    /// merged by name, lists replaced.
    fn merge(&mut self, over: Raw) {
        if self.loc.is_none() {
            self.loc = over.loc;
        }
        self.incomplete |= over.incomplete;
        if over.image.is_some() {
            self.image = over.image;
        }
        if over.build.is_some() {
            self.build = over.build;
        }
        for e in over.environment {
            match self.environment.iter_mut().find(|x| x.name == e.name) {
                Some(x) => *x = e,
                None => self.environment.push(e),
            }
        }
        if over.env_files.is_some() {
            self.env_files = over.env_files;
        }
        if over.profiles.is_some() {
            self.profiles = over.profiles;
        }
        if over.depends_on.is_some() {
            self.depends_on = over.depends_on;
        }
        if over.healthcheck.is_some() {
            self.healthcheck = over.healthcheck;
        }
    }
}

struct Ctx<'a> {
    root: &'a Root,
    errors: Vec<LoadError>,
    /// Notes at references to files that do not parse.
    notes: Vec<LoadError>,
    /// The files being included, outermost first: a target already on it is a cycle (a file
    /// included twice along different paths is not).
    chain: Vec<String>,
    sources: Vec<(String, String)>,
    files: Vec<String>,
}

/// Loads the project whose main file is `rel` (text `text`), with `override_file` (path and
/// text) merged onto it when given.
pub fn load(
    root: &Root,
    rel: &str,
    text: &str,
    override_file: Option<(&str, &str)>,
) -> Result<Loaded, LoadError> {
    load_doc(root, rel, parse_doc(rel, text)?, override_file)
}

/// Cheap textual pre-filter: could this text be a Compose file? It needs a top-level
/// `services:` key (a line starting with it), `image`/`build` somewhere, and no top-level
/// `apiVersion:`/`kind:` (a Kubernetes manifest, which often names `services` and `image`).
/// Only texts that pass are parsed to check the Compose shape.
pub fn may_be_compose(text: &str) -> bool {
    let top_key = crate::load::yaml::is_top_level_key;
    let mut services = false;
    for line in text.lines() {
        if top_key(line, "apiVersion") || top_key(line, "kind") {
            return false;
        }
        services |= top_key(line, "services");
    }
    services && (text.contains("image") || text.contains("build"))
}

/// Whether some document of a YAML stream is a Kubernetes manifest (top-level `apiVersion`
/// or `kind`).
fn is_kubernetes(docs: &[YNode]) -> bool {
    docs.iter()
        .any(|d| d.entry("apiVersion").is_some() || d.entry("kind").is_some())
}

/// Whether a document has the shape of a Compose file: a top-level `services:` mapping in
/// which some service has `image:` or `build:`.
fn has_compose_shape(doc: &YNode) -> bool {
    doc.entry("services").is_some_and(|(_, services)| {
        services
            .entries()
            .iter()
            .any(|(_, s)| s.entry("image").is_some() || s.entry("build").is_some())
    })
}

/// Reads a YAML file as a Compose file: its document, or `None` when it is not one. A
/// Kubernetes manifest (a document with top-level `apiVersion`/`kind`) never is; a file found
/// `by_content` (not named as a Compose file) is one only when its document has the Compose
/// shape ([`has_compose_shape`]), and one that does not parse is then no Compose file either.
pub fn parse_compose(rel: &str, text: &str, by_content: bool) -> Result<Option<YNode>, LoadError> {
    let docs = match ytree::parse(rel, text) {
        Ok(d) => d,
        Err(_) if by_content => return Ok(None),
        Err(YamlFailure::Invalid(e) | YamlFailure::Template(e)) => return Err(e),
    };
    if is_kubernetes(&docs) {
        return Ok(None);
    }
    let doc = first_doc(rel, docs)?;
    if by_content && !has_compose_shape(&doc) {
        return Ok(None);
    }
    Ok(Some(doc))
}

/// [`load`] of an already parsed document.
pub fn load_doc(
    root: &Root,
    rel: &str,
    doc: YNode,
    override_file: Option<(&str, &str)>,
) -> Result<Loaded, LoadError> {
    let mut ctx = Ctx {
        root,
        errors: Vec::new(),
        notes: Vec::new(),
        chain: Vec::new(),
        sources: Vec::new(),
        files: vec![rel.to_string()],
    };
    let services_loc = doc
        .entry("services")
        .map_or_else(|| Location::file_start(rel), |(k, _)| k.loc(rel));
    let mut services: Vec<(String, Raw)> = Vec::new();
    ctx.read_file(rel, &doc, &mut services, 0);
    if let Some((orel, otext)) = override_file {
        // An override that does not parse is reported by its own check (SS001), not here.
        if let Ok(odoc) = parse_doc(orel, otext) {
            ctx.files.push(orel.to_string());
            let mut over: Vec<(String, Raw)> = Vec::new();
            ctx.read_file(orel, &odoc, &mut over, 0);
            for (name, raw) in over {
                match services.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, base)) => base.merge(raw),
                    None => services.push((name, raw)),
                }
            }
        }
    }
    let project = ComposeProject {
        path: rel.to_string(),
        files: ctx.files.clone(),
        loc: Location::file_start(rel),
        services_loc,
        services: services
            .into_iter()
            .map(|(name, raw)| finish(rel, name, raw))
            .collect(),
    };
    Ok(Loaded {
        project,
        errors: ctx.errors,
        notes: ctx.notes,
        sources: ctx.sources,
    })
}

fn parse_doc(rel: &str, text: &str) -> Result<YNode, LoadError> {
    let docs = ytree::parse(rel, text).map_err(|e| match e {
        YamlFailure::Invalid(e) | YamlFailure::Template(e) => e,
    })?;
    first_doc(rel, docs)
}

/// The first non-null document of a stream, which must be a mapping.
fn first_doc(rel: &str, docs: Vec<YNode>) -> Result<YNode, LoadError> {
    let doc = docs.into_iter().find(|d| !d.is_null()).unwrap_or(YNode {
        value: YValue::Map(Vec::new()),
        line: 1,
        col: 1,
    });
    if !matches!(doc.value, YValue::Map(_)) {
        return Err(LoadError {
            message: format!("{rel}: a Compose file must be a mapping"),
            loc: doc.loc(rel),
            outside: false,
        });
    }
    Ok(doc)
}

impl Ctx<'_> {
    /// Records a problem once (the same reference read along two paths is one problem).
    fn error(&mut self, e: LoadError) {
        if !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }

    fn read_other(&mut self, rel: &str, at: &Location) -> Option<YNode> {
        match self.root.read_text(rel) {
            Ok(t) => match parse_doc(rel, &t) {
                Ok(doc) => {
                    if !self.files.iter().any(|f| f == rel) {
                        self.files.push(rel.to_string());
                    }
                    if !self.sources.iter().any(|(p, _)| p == rel) {
                        self.sources.push((rel.to_string(), t));
                    }
                    Some(doc)
                }
                Err(e) => {
                    self.error(e);
                    let note = LoadError {
                        outside: false,
                        message: format!(
                            "{}: {rel} does not parse (reported there); what it defines is not checked",
                            at.file
                        ),
                        loc: at.clone(),
                    };
                    if !self.notes.contains(&note) {
                        self.notes.push(note);
                    }
                    None
                }
            },
            Err(e) => {
                self.error(e.referenced_from(at));
                None
            }
        }
    }

    /// Reads the services of one file (its `include:`s first, then its own).
    fn read_file(&mut self, rel: &str, doc: &YNode, out: &mut Vec<(String, Raw)>, depth: usize) {
        self.chain.push(rel.to_string());
        self.read_file_in_chain(rel, doc, out, depth);
        self.chain.pop();
    }

    /// [`Ctx::read_file`] with `rel` on the include chain.
    fn read_file_in_chain(
        &mut self,
        rel: &str,
        doc: &YNode,
        out: &mut Vec<(String, Raw)>,
        depth: usize,
    ) {
        if let Some(inc) = doc.get("include") {
            for item in inc.items() {
                let path = item.as_str().or_else(|| {
                    item.get("path")
                        .and_then(|p| p.strings().into_iter().next())
                });
                let Some(path) = path else { continue };
                let target = join_reference(dir_of(rel), &path);
                let at = item.loc(rel);
                if depth >= MAX_DEPTH || self.chain.contains(&target) {
                    self.error(LoadError {
                        message: format!("{rel}: include cycle through {target}"),
                        loc: at,
                        outside: false,
                    });
                    continue;
                }
                if let Some(d) = self.read_other(&target, &at) {
                    self.read_file(&target, &d, out, depth + 1);
                }
            }
        }
        let Some(services) = doc.get("services") else {
            return;
        };
        for (k, v) in services.entries() {
            let Some(name) = k.as_str() else { continue };
            let raw = self.service(rel, doc, &name, k, v, depth, &mut BTreeSet::new());
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some((_, base)) => base.merge(raw),
                None => out.push((name, raw)),
            }
        }
    }

    /// Reads one service, with what it `extends` merged underneath.
    #[allow(clippy::too_many_arguments)]
    fn service(
        &mut self,
        rel: &str,
        doc: &YNode,
        name: &str,
        key: &YNode,
        node: &YNode,
        depth: usize,
        seen: &mut BTreeSet<(String, String)>,
    ) -> Raw {
        let mut raw = Raw::default();
        if let Some(ext) = node.get("extends") {
            let (file, svc) = match &ext.value {
                YValue::Str(s) => (None, Some(s.clone())),
                _ => (
                    ext.get("file").and_then(YNode::as_str),
                    ext.get("service").and_then(YNode::as_str),
                ),
            };
            if let Some(svc) = svc {
                let at = ext.loc(rel);
                let target = file
                    .as_deref()
                    .map_or_else(|| rel.to_string(), |f| join_reference(dir_of(rel), f));
                if depth >= MAX_DEPTH || !seen.insert((target.clone(), svc.clone())) {
                    self.error(LoadError {
                        message: format!("{rel}: extends cycle through {target} service {svc}"),
                        loc: at,
                        outside: false,
                    });
                    raw.incomplete = true;
                } else if target == rel {
                    if let Some((bk, bv)) = doc.get("services").and_then(|s| s.entry(&svc)) {
                        let (bk, bv) = (bk.clone(), bv.clone());
                        raw = self.service(rel, doc, &svc, &bk, &bv, depth + 1, seen);
                    }
                } else if let Some(d) = self.read_other(&target, &at) {
                    if let Some((bk, bv)) = d.get("services").and_then(|s| s.entry(&svc)) {
                        let (bk, bv) = (bk.clone(), bv.clone());
                        raw = self.service(&target, &d, &svc, &bk, &bv, depth + 1, seen);
                    } else {
                        self.error(LoadError {
                            message: format!(
                                "{rel}: extends names service {svc}, which {target} does not define"
                            ),
                            loc: at,
                            outside: false,
                        });
                        raw.incomplete = true;
                    }
                } else {
                    raw.incomplete = true;
                }
            }
        }
        let _ = name;
        let own = self.own(rel, key, node);
        raw.loc = None;
        raw.merge(own);
        raw
    }

    /// The fields written in one service mapping.
    fn own(&mut self, rel: &str, key: &YNode, node: &YNode) -> Raw {
        let dir = dir_of(rel);
        let image = node
            .get("image")
            .and_then(|i| Some((i.as_str()?, i.loc(rel))));
        let build = node.get("build").map(|b| match &b.value {
            YValue::Map(_) => (
                join_relative(
                    dir,
                    &b.get("context")
                        .and_then(YNode::as_str)
                        .unwrap_or_else(|| ".".to_string()),
                ),
                b.get("dockerfile")
                    .and_then(YNode::as_str)
                    .unwrap_or_default(),
                b.get("target").and_then(YNode::as_str).unwrap_or_default(),
            ),
            _ => (
                join_relative(dir, &b.as_str().unwrap_or_else(|| ".".to_string())),
                String::new(),
                String::new(),
            ),
        });
        let mut environment = Vec::new();
        if let Some(env) = node.get("environment") {
            match &env.value {
                YValue::Map(entries) => {
                    for (k, v) in entries {
                        let Some(name) = k.as_str() else { continue };
                        let (value, has_value, at) = if v.is_null() {
                            (String::new(), false, k.loc(rel))
                        } else {
                            (v.as_str().unwrap_or_default(), true, v.loc(rel))
                        };
                        environment.push(env_entry(name, value, has_value, at));
                    }
                }
                YValue::Seq(items) => {
                    for i in items {
                        let Some(s) = i.as_str() else { continue };
                        let at = i.loc(rel);
                        match s.split_once('=') {
                            Some((n, v)) => environment.push(env_entry(
                                n.trim().to_string(),
                                v.to_string(),
                                true,
                                at,
                            )),
                            None => environment.push(env_entry(
                                s.trim().to_string(),
                                String::new(),
                                false,
                                at,
                            )),
                        }
                    }
                }
                _ => {}
            }
        }
        let mut outside = Vec::new();
        let env_files = node.get("env_file").map(|ef| {
            let items: Vec<&YNode> = match &ef.value {
                YValue::Seq(items) => items.iter().collect(),
                _ => vec![ef],
            };
            items
                .into_iter()
                .filter_map(|i| {
                    let (path, required) = match &i.value {
                        YValue::Map(_) => (
                            i.get("path").and_then(YNode::as_str)?,
                            !i.get("required")
                                .is_some_and(|r| matches!(r.value, YValue::Bool(false))),
                        ),
                        _ => (i.as_str()?, true),
                    };
                    let resolved = join_reference(dir, &path);
                    let text = match self.root.read_text(&resolved) {
                        Ok(t) => Some(t),
                        Err(e) => {
                            if e.outside {
                                outside.push(e.referenced_from(&i.loc(rel)));
                            }
                            None
                        }
                    };
                    Some(EnvFile {
                        path,
                        exists: text.is_some(),
                        keys: text.as_deref().map(env_file_keys).unwrap_or_default(),
                        resolved,
                        required,
                        loc: i.loc(rel),
                    })
                })
                .collect()
        });
        for e in outside {
            self.error(e);
        }
        let depends_on = node.get("depends_on").map(|d| match &d.value {
            YValue::Map(entries) => entries.iter().filter_map(|(k, _)| k.as_str()).collect(),
            _ => d.strings(),
        });
        Raw {
            loc: Some(key.loc(rel)),
            image,
            build,
            environment,
            env_files,
            profiles: node.get("profiles").map(YNode::strings),
            depends_on,
            healthcheck: node.get("healthcheck").map(|h| {
                !h.get("disable")
                    .is_some_and(|d| matches!(d.value, YValue::Bool(true)))
            }),
            incomplete: false,
        }
    }
}

/// The keys an env file defines (`KEY=value`, `export KEY=value`; comments and blanks
/// skipped). Values are not kept.
pub fn env_file_keys(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            if l.is_empty() || l.starts_with('#') {
                return None;
            }
            let l = l.strip_prefix("export ").unwrap_or(l);
            let key = l.split_once('=').map_or(l, |(k, _)| k).trim();
            (!key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .then(|| key.to_string())
        })
        .collect()
}

fn finish(rel: &str, name: String, raw: Raw) -> Service {
    let loc = raw.loc.clone().unwrap_or_else(|| Location::file_start(rel));
    let (image, image_loc) = raw
        .image
        .clone()
        .unwrap_or_else(|| (String::new(), loc.clone()));
    let image_resolved = if image.is_empty() {
        String::new()
    } else {
        resolve(&image).unwrap_or_default()
    };
    let image_ref = ImageRef::parse(&image_resolved);
    let (build_context, build_dockerfile, build_target) = raw.build.clone().unwrap_or_default();
    let build_dockerfile = if raw.build.is_some() && !build_dockerfile.is_empty() {
        join_relative(&build_context, &build_dockerfile)
    } else {
        build_dockerfile
    };
    let env_files = raw.env_files.unwrap_or_default();
    let mut env_keys: Vec<String> = raw.environment.iter().map(|e| e.name.clone()).collect();
    for f in &env_files {
        env_keys.extend(f.keys.iter().cloned());
    }
    env_keys.sort();
    env_keys.dedup();
    Service {
        name,
        loc,
        image,
        image_resolved,
        image_ref,
        image_loc,
        has_build: raw.build.is_some(),
        build_context,
        build_dockerfile,
        build_target,
        environment: raw.environment,
        env_files,
        env_keys,
        profiles: raw.profiles.unwrap_or_default(),
        depends_on: raw.depends_on.unwrap_or_default(),
        has_healthcheck: raw.healthcheck.unwrap_or(false),
        incomplete: raw.incomplete,
    }
}

/// One parsed part of an interpolated value.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    /// Literal text (`$$` already turned into `$`).
    Text(String),
    /// `${NAME<op><arg>}` or `$NAME`; `op` is `""`, `":-"`, `"-"`, `":?"`, `"?"`, `":+"`, `"+"`.
    Var {
        name: String,
        op: String,
        arg: Vec<Part>,
    },
}

/// Parses Compose interpolation.
fn parse_interp(s: &str) -> Vec<Part> {
    let chars: Vec<char> = s.chars().collect();
    let (parts, _) = parse_parts(&chars, 0, false, 0);
    parts
}

/// Parses from `i` until the end, or until an unmatched `}` when `nested`.
fn parse_parts(c: &[char], mut i: usize, nested: bool, depth: usize) -> (Vec<Part>, usize) {
    let mut out = Vec::new();
    let mut text = String::new();
    while i < c.len() {
        match c[i] {
            '}' if nested => break,
            '$' if c.get(i + 1) == Some(&'$') => {
                text.push('$');
                i += 2;
            }
            '$' if c.get(i + 1) == Some(&'{') && depth < 16 => {
                let mut j = i + 2;
                let start = j;
                while j < c.len() && (c[j].is_ascii_alphanumeric() || c[j] == '_') {
                    j += 1;
                }
                let name: String = c[start..j].iter().collect();
                let mut op = String::new();
                for cand in [":-", ":?", ":+", "-", "?", "+"] {
                    let cc: Vec<char> = cand.chars().collect();
                    if c.get(j..j + cc.len()) == Some(&cc[..]) {
                        op = cand.to_string();
                        j += cc.len();
                        break;
                    }
                }
                let (arg, end) = parse_parts(c, j, true, depth + 1);
                if !text.is_empty() {
                    out.push(Part::Text(std::mem::take(&mut text)));
                }
                out.push(Part::Var { name, op, arg });
                i = end + 1;
            }
            '$' if c
                .get(i + 1)
                .is_some_and(|x| x.is_ascii_alphabetic() || *x == '_') =>
            {
                let mut j = i + 1;
                while j < c.len() && (c[j].is_ascii_alphanumeric() || c[j] == '_') {
                    j += 1;
                }
                if !text.is_empty() {
                    out.push(Part::Text(std::mem::take(&mut text)));
                }
                out.push(Part::Var {
                    name: c[i + 1..j].iter().collect(),
                    op: String::new(),
                    arg: Vec::new(),
                });
                i = j;
            }
            ch => {
                text.push(ch);
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        out.push(Part::Text(text));
    }
    (out, i)
}

/// The value with defaults applied, `None` when a variable has no default.
pub fn resolve(s: &str) -> Option<String> {
    fn go(parts: &[Part]) -> Option<String> {
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var { op, arg, .. } => match op.as_str() {
                    ":-" | "-" => out.push_str(&go(arg)?),
                    ":+" | "+" => {}
                    _ => return None,
                },
            }
        }
        Some(out)
    }
    go(&parse_interp(s))
}

/// Literal text outside interpolations, and the literal defaults inside them.
fn literal_parts(parts: &[Part], text: &mut String, defaults: &mut Vec<String>) {
    for p in parts {
        match p {
            Part::Text(t) => text.push_str(t),
            Part::Var { op, arg, .. } => {
                if matches!(op.as_str(), ":-" | "-") {
                    let mut inner = String::new();
                    literal_parts(arg, &mut inner, defaults);
                    if !inner.trim().is_empty() {
                        defaults.push(inner);
                    }
                }
            }
        }
    }
}

/// Whether a URL-like text embeds a literal password (`scheme://user:pass@host`).
fn url_password(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return false;
    };
    match userinfo.split_once(':') {
        Some((_, pass)) => !pass.is_empty() && !pass.starts_with('$'),
        None => false,
    }
}

/// Whether a value is a boolean-like flag: `true`, `false`, `yes`, `no`, `0` or `1` (any case).
fn is_flag_value(v: &str) -> bool {
    let v = v.trim();
    ["true", "false", "yes", "no", "0", "1"]
        .iter()
        .any(|f| v.eq_ignore_ascii_case(f))
}

fn env_entry(name: String, value: String, has_value: bool, loc: Location) -> EnvEntry {
    let parts = parse_interp(&value);
    let literal = !parts.iter().any(|p| matches!(p, Part::Var { .. }));
    let mut text = String::new();
    let mut defaults = Vec::new();
    literal_parts(&parts, &mut text, &mut defaults);
    let injected = has_value && !literal && text.trim().is_empty() && defaults.is_empty();
    let upper = name.to_ascii_uppercase();
    // `*_FILE` variables name a file holding the secret (the Docker secrets convention).
    let secret_name =
        (upper.contains("PASSWORD") || upper.contains("SECRET")) && !upper.ends_with("_FILE");
    // A URL's password written literally, outside any interpolation or in a default.
    // Or a default written inside an interpolation that stands for the password
    // (`redis://:${REDIS_PASSWORD:-hunter2}@redis`).
    let url_pass = value
        .split_once("://")
        .and_then(|(_, r)| r.rsplit_once('@'))
        .and_then(|(u, _)| u.split_once(':'))
        .map(|(_, p)| p);
    let raw_url_password = url_password(&value) && url_pass.is_some_and(|p| !p.contains('$'));
    let default_url_password = url_pass.is_some_and(|p| {
        let mut text = String::new();
        let mut defaults = Vec::new();
        literal_parts(&parse_interp(p), &mut text, &mut defaults);
        defaults.iter().any(|d| !is_flag_value(d))
    });
    // A flag value (`MYSQL_ALLOW_EMPTY_PASSWORD: "yes"`) switches a setting; it is no secret.
    let secret_literal = |v: &str| !v.trim().is_empty() && !is_flag_value(v);
    let literal_credential = has_value
        && ((secret_name
            && ((literal && secret_literal(&value))
                || defaults.iter().any(|d| secret_literal(d))))
            || raw_url_password
            || default_url_password
            || defaults.iter().any(|d| url_password(d)));
    EnvEntry {
        name,
        value,
        has_value,
        literal,
        injected,
        defaults,
        literal_credential,
        loc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolation_forms() {
        assert_eq!(
            resolve("postgres:${PG:-14}-alpine").as_deref(),
            Some("postgres:14-alpine")
        );
        assert_eq!(resolve("${A:-${B:-x}}").as_deref(), Some("x"));
        assert_eq!(resolve("${IMAGE}"), None);
        assert_eq!(resolve("$$HOME").as_deref(), Some("$HOME"));
        assert_eq!(resolve("${A:?required}"), None);
        let e = |v: &str| {
            env_entry(
                "DB_PASSWORD".into(),
                v.into(),
                true,
                Location::file_start("c"),
            )
        };
        assert!(e("${DB_PASSWORD}").injected);
        assert!(e("${DB_PASSWORD:?set it}").injected);
        assert!(e("${DB_PASSWORD:-}").injected);
        assert!(!e("${DB_PASSWORD}").literal_credential);
        assert!(e("${DB_PASSWORD:-hunter2}").literal_credential);
        assert!(e("hunter2").literal_credential);
        assert!(!e("yes").literal_credential);
        assert!(!e("FALSE").literal_credential);
        assert!(!e("${DB_PASSWORD:-1}").literal_credential);
        assert!(e("${DB_PASSWORD:-10}").literal_credential);
        assert!(!e("$$ESCAPED").injected);
        let u = |v: &str| {
            env_entry(
                "DATABASE_URL".into(),
                v.into(),
                true,
                Location::file_start("c"),
            )
        };
        assert!(u("postgres://medusa:s3cret@db:5432/medusa").literal_credential);
        assert!(!u("postgres://medusa:${PG_PASSWORD}@db/medusa").literal_credential);
        assert!(!u("postgres://db:5432/medusa").literal_credential);
        assert!(u("${DATABASE_URL:-postgres://u:p@db/x}").literal_credential);
        assert!(u("${DATABASE_URL}").injected);
    }

    #[test]
    fn compose_files_by_content() {
        let is = |text: &str, by_content: bool| {
            parse_compose("x.yml", text, by_content).map(|d| d.is_some())
        };
        assert_eq!(
            is("services:\n  db:\n    image: postgres\n", true),
            Ok(true)
        );
        assert_eq!(is("services:\n  app:\n    build: .\n", true), Ok(true));
        assert_eq!(is("services:\n  mail:\n    host: x\n", true), Ok(false));
        assert_eq!(is("services: [a, b]\n", true), Ok(false));
        assert_eq!(is("services: [\n", true), Ok(false));
        let k8s = "apiVersion: v1\nkind: List\nservices:\n  db:\n    image: postgres\n";
        assert_eq!(is(k8s, true), Ok(false));
        assert_eq!(is(k8s, false), Ok(false));
        // Named as a Compose file: any mapping is read, and a syntax error is reported.
        assert_eq!(is("services: {}\n", false), Ok(true));
        assert!(is("services: [\n", false).is_err());
        // The text pre-filter: a top-level services key, and no Kubernetes keys.
        assert!(may_be_compose(
            "x-a: 1\nservices:\n  db:\n    image: postgres\n"
        ));
        assert!(may_be_compose("\"services\" :\n  app: {build: .}\n"));
        assert!(!may_be_compose("spec:\n  services:\n    image: x\n"));
        assert!(!may_be_compose(k8s));
        assert!(!may_be_compose("services:\n  mail:\n    host: x\n"));
    }

    #[test]
    fn env_files_keys_only() {
        assert_eq!(
            env_file_keys("# c\nexport A=1\nB = two\n\nC\nbad line here\n"),
            vec!["A", "B", "C"]
        );
    }

    fn project(files: &[(&str, &str)], main: &str, over: Option<&str>) -> Loaded {
        let dir = tempfile::tempdir().expect("tempdir");
        for (p, c) in files {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, c).expect("write");
        }
        let text = files
            .iter()
            .find(|(p, _)| *p == main)
            .map(|(_, c)| *c)
            .expect("main");
        let over = over.map(|o| {
            (
                o,
                files
                    .iter()
                    .find(|(p, _)| *p == o)
                    .map(|(_, c)| *c)
                    .expect("override"),
            )
        });
        load(
            &crate::load::Root::new(dir.path()).expect("root"),
            main,
            text,
            over,
        )
        .expect("loads")
    }

    #[test]
    fn override_extends_include_and_env_files() {
        let l = project(
            &[
                (
                    "compose.yaml",
                    "include:\n  - infra/db.yaml\nservices:\n  app:\n    build: ./api\n    env_file: [.env, {path: missing.env, required: false}]\n    environment:\n      - NODE_ENV=production\n      - REDIS_URL\n",
                ),
                (
                    "compose.override.yaml",
                    "services:\n  app:\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n  web:\n    extends:\n      file: common.yaml\n      service: base\n",
                ),
                (
                    "common.yaml",
                    "services:\n  base:\n    image: docker.io/library/node:${NODE:-18}-alpine\n",
                ),
                (
                    "infra/db.yaml",
                    "services:\n  db:\n    image: postgres:14-alpine\n",
                ),
                (".env", "SECRET_KEY=x\n"),
            ],
            "compose.yaml",
            Some("compose.override.yaml"),
        );
        assert!(l.errors.is_empty(), "{:?}", l.errors);
        let p = &l.project;
        let names: Vec<&str> = p.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["db", "app", "web"]);
        let app = &p.services[1];
        assert!(app.has_build);
        assert_eq!(app.build_context, "api");
        assert_eq!(
            app.env_keys,
            vec!["DATABASE_URL", "NODE_ENV", "REDIS_URL", "SECRET_KEY"]
        );
        assert_eq!(app.env_files.len(), 2);
        assert!(!app.env_files[1].exists && !app.env_files[1].required);
        let web = &p.services[2];
        assert_eq!(
            web.image_ref.as_ref().map(|r| r.name.as_str()),
            Some("node:18-alpine")
        );
        assert_eq!(
            p.services[0].image_ref.as_ref().map(|r| r.name.as_str()),
            Some("postgres:14-alpine")
        );
    }

    #[test]
    fn missing_targets_and_cycles_are_errors() {
        let l = project(
            &[(
                "compose.yaml",
                "include: [nope.yaml]\nservices:\n  a:\n    extends: b\n  b:\n    extends: a\n    image: x\n",
            )],
            "compose.yaml",
            None,
        );
        assert!(l.errors.len() >= 2, "{:?}", l.errors);
    }

    #[test]
    fn a_file_included_along_two_paths_is_no_cycle() {
        let l = project(
            &[
                (
                    "app/compose.yml",
                    "include: [{path: ../db/compose.yml}, {path: ../kc/compose.yml}]\nservices:\n  app:\n    build: .\n",
                ),
                (
                    "kc/compose.yml",
                    "include: [{path: ../db/compose.yml}]\nservices:\n  kc:\n    image: quay.io/keycloak/keycloak:26\n",
                ),
                (
                    "db/compose.yml",
                    "services:\n  pg:\n    image: postgres:14-alpine\n",
                ),
            ],
            "app/compose.yml",
            None,
        );
        assert_eq!(l.errors, Vec::new());
        let names: Vec<&str> = l.project.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["pg", "kc", "app"]);
        let cyc = project(
            &[
                ("a.yml", "include: [b.yml]\nservices: {a: {image: x}}\n"),
                ("b.yml", "include: [a.yml]\nservices: {b: {image: y}}\n"),
            ],
            "a.yml",
            None,
        );
        assert_eq!(cyc.errors.len(), 1, "{:?}", cyc.errors);
        assert!(
            cyc.errors[0]
                .message
                .contains("include cycle through a.yml")
        );
    }

    #[test]
    fn unresolved_extends_make_the_service_incomplete_and_are_reported_once() {
        let l = project(
            &[
                (
                    "compose.yaml",
                    "services:\n  a:\n    extends: {file: missing.yml, service: a}\n  b:\n    extends: {file: base.yml, service: nope}\n  c:\n    image: node:20-alpine\n",
                ),
                ("base.yml", "services:\n  x:\n    image: y\n"),
            ],
            "compose.yaml",
            None,
        );
        let incomplete: Vec<(&str, bool)> = l
            .project
            .services
            .iter()
            .map(|s| (s.name.as_str(), s.incomplete))
            .collect();
        assert_eq!(incomplete, [("a", true), ("b", true), ("c", false)]);
        assert_eq!(l.errors.len(), 2, "{:?}", l.errors);
    }
}
