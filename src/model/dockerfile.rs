//! The Dockerfile part of the CEL-visible model: stages, instructions, the shell commands of
//! `RUN`, copies, users, variables, and the facts the DF rules need (installs, builds,
//! prunes, dev-dependency sources), computed once by the Dockerfile loader.

use serde::Serialize;

use crate::location::Location;
use crate::model::image::ImageRef;
use crate::shell::Command;

/// One application Dockerfile (`repo.dockerfiles[]`): `Dockerfile`, `Dockerfile.*`,
/// `*.Dockerfile`, `Containerfile` or `Containerfile.*` outside `.devcontainer/`; templates
/// (`.hbs`, `.j2`, ...) are not Dockerfiles.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Dockerfile {
    /// Path relative to the repository root.
    pub path: String,
    /// The file itself (line 1).
    pub loc: Location,
    /// Build stages in file order.
    pub stages: Vec<Stage>,
    /// Whether some stage is a Node stage (see [`Stage::is_node`]): the catalog's "Node
    /// Dockerfile", the only kind DF001–DF003 judge.
    pub is_node: bool,
    /// Indexes of the final stages: the stages that builds target, plus the last stage when
    /// some build names no target or no build of this Dockerfile is known.
    pub final_stages: Vec<i64>,
    /// `ARG`s declared before the first `FROM` (usable in `FROM` lines).
    pub global_args: Vec<Var>,
    /// Every instruction of the file, in order.
    pub instructions: Vec<Instruction>,
}

/// What a stage is built `FROM`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct From {
    /// The image reference as written (`node:${NODE_VERSION}`).
    pub raw: String,
    /// The reference after `ARG` defaults are substituted; empty when a variable has no
    /// default.
    pub resolved: String,
    /// `image` (a registry image), `stage` (an earlier stage), `scratch`, or `unresolved`
    /// (a variable without a default remains).
    pub kind: String,
    /// The parsed image when `kind == "image"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    /// Index of the earlier stage when `kind == "stage"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<i64>,
    /// The `--platform` value, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The `FROM` line.
    pub loc: Location,
}

/// One build stage (`FROM ... [AS name]` up to the next `FROM`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Stage {
    /// Position in the file, from 0.
    pub index: i64,
    /// The `AS` name, when given (as written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The base of the stage.
    pub from: From,
    /// The stage's `FROM` line (same as `from.loc`).
    pub loc: Location,
    /// Whether this stage is one of the Dockerfile's final stages.
    pub is_final: bool,
    /// Whether this is a Node stage: its base is a Node image (repository `node`, or one
    /// with a word `node*`, `bun` or `deno*` after normalising: `oven/bun`, `cimg/node`,
    /// `ubi8/nodejs-20`, not `ubuntu`), or an earlier Node stage, or it runs a Node package
    /// manager (`npm`, `yarn`, `pnpm`, `bun`, `npx`, `corepack`) or `node` in a `RUN`, `CMD`
    /// or `ENTRYPOINT`.
    pub is_node: bool,
    /// `RUN` instructions of this stage.
    pub runs: Vec<Run>,
    /// Every shell command of the stage's `RUN`s, in order.
    pub commands: Vec<Command>,
    /// `COPY`/`ADD` instructions of this stage.
    pub copies: Vec<Copy>,
    /// `USER` instructions of this stage.
    pub users: Vec<User>,
    /// The user in effect at the end of the stage: its last `USER`, else the one inherited
    /// through `FROM <stage>`; absent when none is set (the image default, usually root).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// `ENV` variables set in this stage.
    pub envs: Vec<Var>,
    /// `ENV` variables inherited through `FROM <stage>` (in effect, but set elsewhere).
    pub inherited_envs: Vec<Var>,
    /// `ARG`s declared in this stage.
    pub args: Vec<Var>,
    /// The working directory at the end of the stage (inherited through `FROM <stage>`).
    pub workdir: String,
    /// The stage's own `RUN`s run a dependency install without production-only flags.
    pub runs_full_install: bool,
    /// The stage has dev dependencies: it, or a stage it is built `FROM`, runs a full install
    /// or copies `node_modules` from such a stage (the catalog's "full install stage").
    pub is_full_install: bool,
    /// Directories in which the stage (or a stage it is built `FROM`) ran a full install or
    /// received `node_modules` from one.
    pub install_dirs: Vec<String>,
    /// Directories that hold production dependencies only, although the stage has dev
    /// dependencies elsewhere: the output directories of `pnpm deploy --prod DIR` (also
    /// inherited through `FROM <stage>`). Copying them out does not ship dev dependencies.
    pub prod_dirs: Vec<String>,
    /// The stage, together with the stages it is built `FROM`, runs a full install and after
    /// it a build (script `build`, `medusa build`, `tsc`, `nest build`).
    pub installs_then_builds: bool,
    /// The stage runs a build command.
    pub runs_build: bool,
    /// The stage copies from an earlier stage of the same file (`COPY --from=<stage|index>`).
    pub copies_from_earlier_stage: bool,
    /// Instructions of this stage through which dev dependencies reach it and that no later
    /// prune in this stage removes: a full-install `RUN`, a `COPY --from` of `node_modules`
    /// (or of a directory holding an install directory) out of a full-install stage, or the
    /// `FROM` of a full-install stage.
    pub dev_dependency_sources: Vec<DevSource>,
}

/// A `RUN` instruction.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
// Named apart from the CI model's `Run` in the schema.
#[schemars(rename = "RunInstruction")]
pub struct Run {
    /// The `RUN` line (for multi-line instructions, from `RUN` to the last line).
    pub loc: Location,
    /// Whether the script came from a heredoc (`RUN <<EOF`).
    pub heredoc: bool,
    /// Whether the instruction is in exec form (`RUN ["npm", "ci"]`).
    pub exec_form: bool,
    /// The shell commands it runs, each with its own line.
    pub commands: Vec<Command>,
    /// Why its script could not be analysed (a shell syntax error of the parser, nesting or
    /// length past what is analysed; also a warning notification), empty when it was: its
    /// commands are then unknown, not absent.
    pub unanalysed: String,
}

/// A `COPY` or `ADD` instruction.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Copy {
    /// `COPY` or `ADD`.
    pub instruction: String,
    /// The `--from` value as written, empty when copying from the build context.
    pub from: String,
    /// Index of the earlier stage `--from` names (by name or index), when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_stage: Option<i64>,
    /// Source paths as written.
    pub sources: Vec<String>,
    /// Destination as written.
    pub dest: String,
    /// Destination made absolute against the stage's working directory.
    pub dest_abs: String,
    /// The instruction's line.
    pub loc: Location,
}

/// A `USER` instruction (or the user inherited through `FROM <stage>`).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct User {
    /// The value as written (`node`, `1000:1000`, `${UID}`).
    pub raw: String,
    /// The value after `ARG`/`ENV` substitution where defaults are known.
    pub resolved: String,
    /// The user part (before `:`) of `resolved`.
    pub name: String,
    /// Whether the user is root (`root`, `0`, `root:*`, `0:*`).
    pub is_root: bool,
    /// Whether this user was set in an earlier stage and inherited through `FROM <stage>`.
    pub inherited: bool,
    /// The `USER` line.
    pub loc: Location,
}

/// An `ENV` or `ARG` variable.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Var {
    /// `ENV` or `ARG`.
    pub instruction: String,
    /// The variable name.
    pub name: String,
    /// The value as written, empty when none (`ARG NAME`).
    pub value: String,
    /// Whether a value is given.
    pub has_value: bool,
    /// Whether the value is literal text: non-empty and not just a reference to another
    /// variable (`$X`, `${X}`, `${X:-}`).
    pub literal: bool,
    /// The instruction's line.
    pub loc: Location,
}

/// A place through which dev dependencies reach a stage.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DevSource {
    /// `run` (a full install), `copy` (node_modules or an install directory copied from a
    /// full-install stage) or `from` (built from a full-install stage).
    pub kind: String,
    /// What happens, in words, for messages.
    pub detail: String,
    /// The offending instruction.
    pub loc: Location,
}

/// Any instruction, for policies that look at instructions generically.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Instruction {
    /// The keyword in upper case (`FROM`, `RUN`, ...).
    pub keyword: String,
    /// Stage index the instruction belongs to (-1 before the first `FROM`; a `FROM` belongs to
    /// the stage it starts).
    pub stage: i64,
    /// The instruction's arguments as written (everything after the keyword, for every
    /// keyword, `ONBUILD RUN npm ci` giving `RUN npm ci`).
    pub text: String,
    /// The whole instruction, keyword to last argument.
    pub loc: Location,
}
