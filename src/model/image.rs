//! Container image references: parsing and the catalog's normalisation
//! (`docker.io/library/postgres:14-alpine` is `postgres:14-alpine`).

use serde::Serialize;

/// A parsed, normalised image reference as written in a `FROM` line or a Compose `image:`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ImageRef {
    /// The reference as written (after variable substitution).
    pub raw: String,
    /// Registry host when one is given and it is not Docker Hub (e.g. `ghcr.io`), else empty.
    pub registry: String,
    /// Repository path without the Docker Hub prefixes (`postgres`, `bitnami/redis`,
    /// `ghcr.io/org/app` keeps its registry: see `name`).
    pub repository: String,
    /// The tag, `latest` when none is written.
    pub tag: String,
    /// True when no tag was written.
    pub untagged: bool,
    /// The digest (`sha256:...`) when the reference is pinned by digest, else empty.
    pub digest: String,
    /// `repository:tag` with the registry in front when not Docker Hub: the form rules match
    /// against (`postgres:14-alpine`, `ghcr.io/org/app:1.2`).
    pub name: String,
    /// The last path segment of the repository with the tag (`node:18-alpine` for
    /// `public.ecr.aws/docker/library/node:18-alpine`): lets base-image allow-lists accept
    /// registry mirrors.
    pub base_name: String,
}

impl ImageRef {
    /// Parses and normalises a reference; `None` when it is empty or still holds a variable
    /// (`$X`, `${X}`), which matches nothing.
    pub fn parse(raw: &str) -> Option<ImageRef> {
        let raw = raw.trim();
        if raw.is_empty() || raw.contains('$') || raw.chars().any(char::is_whitespace) {
            return None;
        }
        let (rest, digest) = match raw.split_once('@') {
            Some((r, d)) => (r, d.to_string()),
            None => (raw, String::new()),
        };
        // The tag is after the last ':' that comes after the last '/'.
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if path.is_empty() {
            return None;
        }
        let mut parts: Vec<&str> = path.split('/').collect();
        let mut registry = String::new();
        if parts.len() > 1 {
            let first = parts[0];
            if first.contains('.') || first.contains(':') || first == "localhost" {
                registry = first.to_ascii_lowercase();
                parts.remove(0);
            }
        }
        if matches!(
            registry.as_str(),
            "docker.io" | "index.docker.io" | "registry-1.docker.io"
        ) {
            registry.clear();
        }
        if registry.is_empty() && parts.len() > 1 && parts[0] == "library" {
            parts.remove(0);
        }
        let repository = parts.join("/");
        let untagged = tag.is_none();
        let tag = tag.unwrap_or_else(|| "latest".to_string());
        let prefix = if registry.is_empty() {
            String::new()
        } else {
            format!("{registry}/")
        };
        let name = format!("{prefix}{repository}:{tag}");
        let base_name = format!(
            "{}:{tag}",
            repository.rsplit('/').next().unwrap_or(&repository)
        );
        Some(ImageRef {
            raw: raw.to_string(),
            registry,
            repository,
            tag,
            untagged,
            digest,
            name,
            base_name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_docker_hub_prefixes() {
        for raw in [
            "postgres:14-alpine",
            "docker.io/postgres:14-alpine",
            "docker.io/library/postgres:14-alpine",
            "index.docker.io/library/postgres:14-alpine",
            "library/postgres:14-alpine",
        ] {
            let r = ImageRef::parse(raw).expect("parses");
            assert_eq!(r.name, "postgres:14-alpine", "{raw}");
            assert_eq!(r.repository, "postgres");
            assert!(!r.untagged);
        }
    }

    #[test]
    fn tags_digests_registries_and_variables() {
        let r = ImageRef::parse("node").expect("parses");
        assert_eq!((r.tag.as_str(), r.untagged), ("latest", true));
        let r = ImageRef::parse("node:18-alpine@sha256:abc").expect("parses");
        assert_eq!(
            (r.tag.as_str(), r.digest.as_str()),
            ("18-alpine", "sha256:abc")
        );
        let r = ImageRef::parse("node@sha256:abc").expect("parses");
        assert!(r.untagged);
        assert_eq!(r.digest, "sha256:abc");
        let r = ImageRef::parse("localhost:5000/team/app:1.2").expect("parses");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.name, "localhost:5000/team/app:1.2");
        let r = ImageRef::parse("ghcr.io/org/app").expect("parses");
        assert_eq!(r.name, "ghcr.io/org/app:latest");
        assert_eq!(ImageRef::parse("node:${NODE_VERSION}"), None);
        assert_eq!(ImageRef::parse(""), None);
        assert_eq!(ImageRef::parse(":tag"), None);
    }
}
