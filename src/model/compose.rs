//! The Compose part of the CEL-visible model: projects (a Compose file with the override file
//! of its directory merged in), services after `extends`, overrides and `include:`, with
//! images normalised, interpolation understood, environment and `env_file` keys read.

use serde::Serialize;

use crate::location::Location;
use crate::model::image::ImageRef;

/// One Compose project (`repo.compose[]`): a Compose file plus, for a base file, the
/// override file of the same directory merged as `docker compose` does by default. Every
/// other Compose file (`docker-compose.prod.yml`, ...) is a project of its own.
///
/// Compose files are YAML files named `compose.y*ml`, `docker-compose*.y*ml` or
/// `*compose*.y*ml`, and any other YAML file whose top level has a `services:` mapping in
/// which some service has `image:` or `build:`. Kubernetes manifests (top-level
/// `apiVersion`/`kind`) and GitLab CI files are not Compose files, whatever their name.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ComposeProject {
    /// The main file.
    pub path: String,
    /// Every file that contributed (main, override, `extends` and `include` targets).
    pub files: Vec<String>,
    /// Line 1 of the main file.
    pub loc: Location,
    /// The `services:` key of the main file (line 1 when absent).
    pub services_loc: Location,
    /// The services, in file order.
    pub services: Vec<Service>,
}

/// A service after merging.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Service {
    /// The service name.
    pub name: String,
    /// The service's key (in the first file that defines it).
    pub loc: Location,
    /// `image:` as written (empty when none).
    pub image: String,
    /// The image with interpolation defaults applied; empty when a variable has no default.
    pub image_resolved: String,
    /// The normalised image (`docker.io/library/postgres:14-alpine` is `postgres:14-alpine`),
    /// absent when there is no image or it is unresolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_ref: Option<ImageRef>,
    /// The `image:` line (the service key when there is no image).
    pub image_loc: Location,
    /// Whether the service has `build:`.
    pub has_build: bool,
    /// `build.context` (or the `build:` string), relative to the root.
    pub build_context: String,
    /// `build.dockerfile`, relative to the root (empty when not given: `Dockerfile`).
    pub build_dockerfile: String,
    /// `build.target`, empty when none.
    pub build_target: String,
    /// `environment:` entries (map and list forms).
    pub environment: Vec<EnvEntry>,
    /// `env_file:` entries (string, list and long forms).
    pub env_files: Vec<EnvFile>,
    /// Every variable name the service receives: `environment:` names and the keys of its
    /// existing env files.
    pub env_keys: Vec<String>,
    /// `profiles:`.
    pub profiles: Vec<String>,
    /// Services it depends on.
    pub depends_on: Vec<String>,
    /// Whether it declares a `healthcheck:`.
    pub has_healthcheck: bool,
    /// True when an `extends` it relies on could not be resolved (missing file, missing
    /// service, cycle; each is an SS001 at the reference): what it inherits is unknown, so
    /// rules about what it receives do not judge it.
    pub incomplete: bool,
}

/// One `environment:` entry.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EnvEntry {
    /// The variable name.
    pub name: String,
    /// The value as written (empty for a bare pass-through `- NAME`).
    pub value: String,
    /// Whether a value is given (false for bare pass-through).
    pub has_value: bool,
    /// The value holds no interpolation at all.
    pub literal: bool,
    /// The value comes only from the environment: interpolations without a literal default
    /// (`${VAR}`, `${VAR:?err}`, `${VAR:-}`), no literal text around them.
    pub injected: bool,
    /// Literal defaults written inside interpolations (`hunter2` in `${DB_PASSWORD:-hunter2}`).
    pub defaults: Vec<String>,
    /// The value embeds a literal credential: a `user:password@` URL with a literal password,
    /// or a literal (or literal default) value of a `*PASSWORD*`/`*SECRET*` variable.
    pub literal_credential: bool,
    /// The value's line.
    pub loc: Location,
}

/// One `env_file:` entry.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EnvFile {
    /// The path as written.
    pub path: String,
    /// The path relative to the root.
    pub resolved: String,
    /// Whether the file exists.
    pub exists: bool,
    /// Whether it is required (long form `required: false` makes it optional).
    pub required: bool,
    /// Variable names it defines (values are never read into the model).
    pub keys: Vec<String>,
    /// The entry's line.
    pub loc: Location,
}
