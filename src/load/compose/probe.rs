//! Which files are Compose files: the override file names of a base file, the textual
//! pre-filter and the Compose shape of a document found by content (Kubernetes manifests
//! excluded), and reading a file's first document as a Compose mapping.

use crate::load::LoadError;
use crate::load::yaml::YamlFailure;
use crate::load::ytree::{self, YNode, YValue};

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

pub(super) fn parse_doc(rel: &str, text: &str) -> Result<YNode, LoadError> {
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
        file: 0,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
