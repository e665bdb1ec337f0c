//! Dockerfile facts that need the repository's package.json files: a stage's package script
//! runs are followed into their bodies, as CI runs are, so `RUN npm run web:build` whose body
//! runs `build` (directly, through a workspace or a task runner) is the stage's build.

use crate::load::dockerfile::{is_build, is_build_script, is_build_tool, is_full_install};
use crate::load::nx::NxTasks;
use crate::load::package_json::Package;
use crate::model::dockerfile::Dockerfile;

/// Marks the stages whose script runs after the full install reach a build
/// (`installs_then_builds`, `runs_build`). The package.json in effect is the nearest at or
/// above the Dockerfile's directory (the usual build context). Stages built `FROM` such a
/// stage inherit it.
pub fn follow_scripts(dockerfiles: &mut [Dockerfile], packages: &[Package], nx: &NxTasks) {
    for df in dockerfiles.iter_mut() {
        let dir = crate::load::dir_of(&df.path).to_string();
        for i in 0..df.stages.len() {
            let parent = df.stages[i]
                .from
                .stage
                .and_then(|p| usize::try_from(p).ok())
                .filter(|p| *p < i);
            let parent_builds = parent.is_some_and(|p| df.stages[p].installs_then_builds);
            let parent_installed = parent.is_some_and(|p| df.stages[p].is_full_install);
            let stage = &mut df.stages[i];
            if parent_builds && !stage.installs_then_builds {
                stage.installs_then_builds = true;
            }
            if stage.installs_then_builds || !(stage.runs_full_install || parent_installed) {
                continue;
            }
            let mut installed = parent_installed;
            for c in &stage.commands {
                if is_full_install(c) {
                    installed = true;
                    continue;
                }
                if !installed || is_build(c) || c.pm.is_none() {
                    continue;
                }
                let builds = crate::facts::ci::command_runs(c, &dir, packages, nx)
                    .iter()
                    .any(|(kind, name, args)| match *kind {
                        "script" => is_build_script(name),
                        _ => is_build_tool(name, args),
                    });
                if builds {
                    stage.runs_build = true;
                    stage.installs_then_builds = true;
                    break;
                }
            }
        }
    }
}
