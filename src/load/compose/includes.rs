//! What a Compose file pulls in from elsewhere: top-level `include:` (read first, a file
//! on the include chain twice is a cycle) and a service's `extends:` (in the same file or
//! another, merged underneath the service); references that do not resolve are errors at
//! the reference and leave the service incomplete.

use std::collections::BTreeSet;

use super::probe::parse_doc;
use super::service::Raw;
use super::{Ctx, MAX_DEPTH};
use crate::load::ytree::{YNode, YValue};
use crate::load::{LoadError, dir_of, join_reference};
use crate::location::Location;

impl Ctx<'_> {
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
    pub(super) fn read_file(
        &mut self,
        rel: &str,
        doc: &YNode,
        out: &mut Vec<(String, Raw)>,
        depth: usize,
    ) {
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
}

#[cfg(test)]
mod tests {
    use crate::load::compose::{Loaded, load};

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
