//! Compose loader: Compose files (`compose.y*ml`, `docker-compose.y*ml`, their `.*.` variants)
//! into [`crate::model::compose::ComposeProject`]s, following the Compose specification where
//! it matters to the rules: the override file of the same directory merged onto its base,
//! `extends: {file, service}`, top-level `include:`, anchors and `<<:` merges (by the YAML
//! parser), environment in map and list form, `env_file` in every form (keys read, values
//! never kept), interpolation (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
//! nested defaults, `$$`), image normalisation and `build` context, dockerfile and target.
//!
//! This module owns the entry points ([`load`], [`load_doc`]) and the read context of a
//! project. Its children: `probe` (which files are Compose files, their override files,
//! reading the document), `includes` (top-level `include:` and `extends:`, followed across
//! files with cycles and depth bounded), `service` (the fields of one service mapping, how
//! overrides merge, the finished model service) and `interp` (interpolation, and what an
//! environment entry's value tells: injected, literal, credentials).

mod includes;
mod interp;
mod probe;
mod service;

use crate::load::ytree::YNode;
use crate::load::{LoadError, Root};
use crate::location::Location;
use crate::model::compose::ComposeProject;

pub use interp::resolve;
use probe::parse_doc;
pub use probe::{is_override, may_be_compose, override_names, parse_compose};
pub use service::env_file_keys;
use service::{Raw, finish};

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

impl Ctx<'_> {
    /// Records a problem once (the same reference read along two paths is one problem).
    fn error(&mut self, e: LoadError) {
        if !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }
}
