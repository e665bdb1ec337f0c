//! One service of a Compose file: the fields written in its mapping (image, build,
//! environment in map and list form, `env_file` in every form with only the keys of the
//! files read, profiles, `depends_on`, healthcheck), how an override or an `extends` merges
//! onto it, and the finished model service.

use super::Ctx;
use super::interp::{env_entry, resolve};
use crate::load::ytree::{YNode, YValue};
use crate::load::{dir_of, join_reference, join_relative};
use crate::location::Location;
use crate::model::compose::{EnvEntry, EnvFile, Service};
use crate::model::image::ImageRef;

/// A service as read from one file, before merging (`None`: not written there).
#[derive(Debug, Clone, Default)]
pub(super) struct Raw {
    pub(super) loc: Option<Location>,
    image: Option<(String, Location)>,
    build: Option<(String, String, String)>,
    environment: Vec<EnvEntry>,
    env_files: Option<Vec<EnvFile>>,
    profiles: Option<Vec<String>>,
    depends_on: Option<Vec<String>>,
    healthcheck: Option<bool>,
    /// An `extends` of this service (or of what it extends) could not be resolved.
    pub(super) incomplete: bool,
}

impl Raw {
    /// Merges `over` onto `self` as a Compose override does: scalars replaced, environment
    /// merged by name, lists replaced.
    pub(super) fn merge(&mut self, over: Raw) {
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

impl Ctx<'_> {
    /// The fields written in one service mapping.
    pub(super) fn own(&mut self, rel: &str, key: &YNode, node: &YNode) -> Raw {
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

pub(super) fn finish(rel: &str, name: String, raw: Raw) -> Service {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_keys_only() {
        assert_eq!(
            env_file_keys("# c\nexport A=1\nB = two\n\nC\nbad line here\n"),
            vec!["A", "B", "C"]
        );
    }
}
