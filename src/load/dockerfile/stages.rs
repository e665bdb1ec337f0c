//! Stages of a Dockerfile: `FROM` resolution (an earlier stage by its `AS` name, `scratch`,
//! or an image) with what a stage inherits from its parent, and `COPY`/`ADD`, whose copies
//! from an earlier stage can bring that stage's dev dependencies along.

use super::Builder;
use super::vars::{is_within, join_path, substitute};
use crate::location::Location;
use crate::model::dockerfile::{Copy, DevSource, From, Stage};
use crate::model::image::ImageRef;

impl Builder<'_> {
    pub(super) fn from(&mut self, f: &parse_dockerfile::FromInstruction<'_>, loc: Location) {
        let raw = f.image.value.trim().to_string();
        let resolved = substitute(&raw, &self.global_vars).unwrap_or_default();
        let platform = f
            .options
            .iter()
            .find(|o| o.name.value == "platform")
            .and_then(|o| o.value.as_ref())
            .map(|v| v.value.to_string());
        let index = self.stages.len() as i64;
        let name = f.as_.as_ref().map(|(_, n)| n.value.to_string());
        let parent = if resolved.is_empty() {
            None
        } else {
            self.stage_by_ref_name_only(&resolved)
        };
        let (kind, image) = if resolved.is_empty() {
            ("unresolved", None)
        } else if parent.is_some() {
            ("stage", None)
        } else if resolved.eq_ignore_ascii_case("scratch") {
            ("scratch", None)
        } else {
            match ImageRef::parse(&resolved) {
                Some(img) => ("image", Some(img)),
                None => ("unresolved", None),
            }
        };
        let node_image = image.as_ref().is_some_and(is_node_image);
        let mut stage = Stage {
            index,
            name,
            from: From {
                raw,
                resolved,
                kind: kind.to_string(),
                image,
                stage: parent.map(|p| p as i64),
                platform,
                loc: loc.clone(),
            },
            is_node: node_image,
            loc,
            is_final: false,
            runs: Vec::new(),
            commands: Vec::new(),
            copies: Vec::new(),
            users: Vec::new(),
            user: None,
            envs: Vec::new(),
            inherited_envs: Vec::new(),
            args: Vec::new(),
            workdir: "/".to_string(),
            runs_full_install: false,
            is_full_install: false,
            install_dirs: Vec::new(),
            prod_dirs: Vec::new(),
            installs_then_builds: false,
            runs_build: false,
            copies_from_earlier_stage: false,
            dev_dependency_sources: Vec::new(),
        };
        if let Some(p) = parent.and_then(|p| self.stages.get(p)) {
            stage.workdir = p.workdir.clone();
            stage.user = p.user.clone().map(|mut u| {
                u.inherited = true;
                u
            });
            stage.inherited_envs = p.inherited_envs.iter().chain(&p.envs).cloned().collect();
            stage.is_full_install = p.is_full_install;
            stage.install_dirs = p.install_dirs.clone();
            stage.prod_dirs = p.prod_dirs.clone();
            stage.is_node |= p.is_node;
            stage.installs_then_builds = p.installs_then_builds;
            if p.is_full_install {
                stage.dev_dependency_sources.push(DevSource {
                    kind: "from".to_string(),
                    detail: format!(
                        "is built FROM stage '{}', which has dev dependencies installed",
                        p.name.clone().unwrap_or_else(|| p.index.to_string())
                    ),
                    loc: stage.loc.clone(),
                });
            }
        }
        self.stages.push(stage);
    }

    /// `FROM x` refers to an earlier stage only by its `AS` name (not by index).
    fn stage_by_ref_name_only(&self, r: &str) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| s.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(r)))
    }

    pub(super) fn copy(
        &mut self,
        instruction: &str,
        from: String,
        sources: Vec<String>,
        dest: String,
        loc: Location,
    ) {
        let from_stage = if from.is_empty() {
            None
        } else {
            self.stage_by_ref(&from)
        };
        let Some(current) = self.stages.len().checked_sub(1) else {
            return;
        };
        let dest_abs = join_path(&self.stages[current].workdir, &dest);
        let copy = Copy {
            instruction: instruction.to_string(),
            from,
            from_stage: from_stage.map(|i| i as i64),
            sources,
            dest,
            dest_abs,
            loc: loc.clone(),
        };
        if let Some(src) = from_stage
            .filter(|i| *i < current)
            .and_then(|i| self.stages.get(i))
        {
            let src_name = src.name.clone().unwrap_or_else(|| src.index.to_string());
            let mut brings_modules = Vec::new();
            if src.is_full_install {
                for s in &copy.sources {
                    let abs = join_path("/", s);
                    // The output of `pnpm deploy --prod` holds production dependencies only.
                    if src.prod_dirs.iter().any(|d| is_within(&abs, d)) {
                        continue;
                    }
                    // `node_modules` itself (or a directory holding an install) ships the
                    // dev dependencies; one named package out of it (`node_modules/pg`) is
                    // that package only.
                    let hit = abs.trim_end_matches('/').rsplit('/').next() == Some("node_modules")
                        || src.install_dirs.iter().any(|d| is_within(d, &abs));
                    if hit {
                        brings_modules.push(abs);
                    }
                }
            }
            let stage = &mut self.stages[current];
            stage.copies_from_earlier_stage = true;
            if let Some(first) = brings_modules.first() {
                stage.is_full_install = true;
                let dir = copy.dest_abs.clone();
                if !stage.install_dirs.contains(&dir) {
                    stage.install_dirs.push(dir);
                }
                stage.dev_dependency_sources.push(DevSource {
                    kind: "copy".to_string(),
                    detail: format!(
                        "copies {first} from stage '{src_name}', which ran a full dependency install"
                    ),
                    loc,
                });
            }
        }
        self.stages[current].copies.push(copy);
    }
}

/// Whether a (normalised) image is a Node image: repository `node`, or one with a word (split
/// on `/`, `-`, `_`, `.`) that is `bun` or starts with `node` or `deno` (`oven/bun`,
/// `cimg/node`, `ubi8/nodejs-20`, `denoland/deno`, `devcontainers/typescript-node`); words
/// only, so `ubuntu` is not a Bun image.
fn is_node_image(img: &ImageRef) -> bool {
    img.repository
        .to_ascii_lowercase()
        .split(['/', '-', '_', '.'])
        .any(|w| w == "bun" || w.starts_with("node") || w.starts_with("deno"))
}
