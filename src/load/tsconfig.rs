//! Import path aliases of `tsconfig*.json` / `jsconfig.json` files (`compilerOptions.paths`
//! and `baseUrl`, through relative `extends`), so that `import { db } from "@lib/db"` resolves
//! to the repository's own module. The files are JSON with comments and trailing commas; they
//! are read with the JavaScript parser as one object literal. A file that cannot be read or
//! parsed contributes no alias (the import then counts as a package, as before); one nested
//! too deeply to parse safely (the same pre-check as the JS sources) is also a note.

use crate::load::Root;

use oxc_allocator::Allocator;
use oxc_ast::ast::{ArrayExpressionElement, Expression, ObjectExpression, ObjectPropertyKind};
use oxc_parser::Parser;
use oxc_span::SourceType;

use crate::load::dir_of;
use crate::load::js_text::join_path as join;

/// Largest config file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// How many `extends` are followed.
const MAX_EXTENDS: usize = 4;
/// Deepest bracket nesting parsed: config files nest a few levels, and the parser recurses
/// on the caller's (possibly small) stack.
const MAX_CONFIG_NESTING: usize = 64;

/// The aliases of every config file found, nearest directory first.
#[derive(Debug, Default)]
pub struct Aliases {
    configs: Vec<AliasConfig>,
    /// Notes: config files refused because they nest too deeply to parse safely, and
    /// configs (or their `extends`) leading outside the root, which were not read.
    pub notes: Vec<crate::load::LoadError>,
}

/// The aliases of one directory's config files.
#[derive(Debug)]
struct AliasConfig {
    /// The directory holding the config, relative to the root ("" for the root).
    dir: String,
    /// `pattern` (`@lib/*`, `config`) → targets (`src/lib/*`), root-relative.
    paths: Vec<(String, Vec<String>)>,
}

impl Aliases {
    /// Reads the config files among `files` (root-relative paths) under `root`.
    pub fn load(root: &Root, files: &[String]) -> Aliases {
        let mut configs: Vec<AliasConfig> = Vec::new();
        let mut notes = Vec::new();
        for rel in files.iter().filter(|f| is_config_name(f)) {
            let paths = read_paths(root, rel, 0, &mut notes);
            if paths.is_empty() {
                continue;
            }
            let dir = dir_of(rel).to_string();
            match configs.iter_mut().find(|c| c.dir == dir) {
                Some(c) => c.paths.extend(paths),
                None => configs.push(AliasConfig { dir, paths }),
            }
        }
        // Deeper directories first, so the nearest config is found first.
        configs.sort_by(|a, b| b.dir.len().cmp(&a.dir.len()).then(a.dir.cmp(&b.dir)));
        notes.sort_by(|a: &crate::load::LoadError, b| a.loc.file.cmp(&b.loc.file));
        notes.dedup();
        Aliases { configs, notes }
    }

    /// The root-relative module paths (without extension resolution) that `spec`, imported
    /// by `importer`, may denote through the nearest config's aliases; empty when none
    /// applies.
    pub fn candidates(&self, importer: &str, spec: &str) -> Vec<String> {
        let dir = dir_of(importer);
        let Some(config) = self
            .configs
            .iter()
            .find(|c| c.dir.is_empty() || dir == c.dir || dir.starts_with(&format!("{}/", c.dir)))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (pattern, targets) in &config.paths {
            let Some(star) = match_pattern(pattern, spec) else {
                continue;
            };
            for t in targets {
                out.push(t.replacen('*', star, 1));
            }
        }
        out
    }
}

/// Whether a file name is a TypeScript or JavaScript project config.
fn is_config_name(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    name == "jsconfig.json" || (name.starts_with("tsconfig") && name.ends_with(".json"))
}

/// What `*` stands for when `spec` matches `pattern` (`""` for an exact pattern).
fn match_pattern<'s>(pattern: &str, spec: &'s str) -> Option<&'s str> {
    match pattern.split_once('*') {
        None => (pattern == spec).then_some(""),
        Some((pre, post)) => spec
            .strip_prefix(pre)
            .and_then(|r| r.strip_suffix(post))
            .filter(|_| spec.len() >= pre.len() + post.len()),
    }
}

/// The `paths` of the config at `rel` (following relative `extends`), targets made
/// root-relative.
fn read_paths(
    root: &Root,
    rel: &str,
    depth: usize,
    notes: &mut Vec<crate::load::LoadError>,
) -> Vec<(String, Vec<String>)> {
    if depth > MAX_EXTENDS {
        return Vec::new();
    }
    let text = match root.read_text_limited(rel, MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) => {
            if e.outside {
                notes.push(e);
            }
            return Vec::new();
        }
    };
    if crate::load::js_text::too_deeply_nested(&text, MAX_CONFIG_NESTING) {
        notes.push(crate::load::LoadError::at_file(
            rel,
            format!(
                "{rel} is nested more than {MAX_CONFIG_NESTING} levels deep; it was not parsed and its path aliases are not used"
            ),
        ));
        return Vec::new();
    }
    let wrapped = format!("({text}\n)");
    let alloc = Allocator::default();
    let ret = Parser::new(&alloc, &wrapped, SourceType::mjs()).parse();
    if ret.panicked || ret.diagnostics.has_errors() {
        return Vec::new();
    }
    let Some(oxc_ast::ast::Statement::ExpressionStatement(stmt)) = ret.program.body.first() else {
        return Vec::new();
    };
    let Expression::ObjectExpression(top) = stmt.expression.get_inner_expression() else {
        return Vec::new();
    };
    let dir = dir_of(rel);
    let options = object(top, "compilerOptions");
    let base = options
        .and_then(|o| string(o, "baseUrl"))
        .and_then(|b| join(dir, &b));
    let own: Option<Vec<(String, Vec<String>)>> =
        options.and_then(|o| object(o, "paths")).map(|p| {
            // Targets are relative to `baseUrl` when set, else to the config's directory.
            let from = base.clone().unwrap_or_else(|| dir.to_string());
            entries(p)
                .into_iter()
                .map(|(k, targets)| {
                    let targets = targets.iter().filter_map(|t| join(&from, t)).collect();
                    (k, targets)
                })
                .collect()
        });
    if let Some(own) = own {
        return own;
    }
    // Inherited from a relative `extends` (a package's base config is not read).
    let parent_paths = string(top, "extends")
        .filter(|e| e.starts_with('.'))
        .and_then(|e| {
            let e = if e.ends_with(".json") {
                e
            } else {
                format!("{e}.json")
            };
            // A climb above the root is kept, so that the root refuses it.
            join(dir, &e).or(Some(e))
        })
        .map(|p| {
            let mut found = Vec::new();
            let paths = read_paths(root, &p, depth + 1, &mut found);
            let at = crate::location::Location::file_start(rel);
            notes.extend(found.into_iter().map(|e| e.referenced_from(&at)));
            paths
        })
        .unwrap_or_default();
    match base {
        // Without `paths` of its own, a `baseUrl` makes bare specifiers resolve under it.
        Some(b) if parent_paths.is_empty() => vec![("*".to_string(), vec![format!("{b}/*")])],
        _ => parent_paths,
    }
}

/// The object value of `key`.
fn object<'a>(o: &'a ObjectExpression<'a>, key: &str) -> Option<&'a ObjectExpression<'a>> {
    value(o, key).and_then(|v| match v.get_inner_expression() {
        Expression::ObjectExpression(x) => Some(&**x),
        _ => None,
    })
}

/// The string value of `key`.
fn string(o: &ObjectExpression<'_>, key: &str) -> Option<String> {
    value(o, key).and_then(|v| match v.get_inner_expression() {
        Expression::StringLiteral(s) => Some(s.value.to_string()),
        _ => None,
    })
}

fn value<'a>(o: &'a ObjectExpression<'a>, key: &str) -> Option<&'a Expression<'a>> {
    o.properties.iter().find_map(|p| match p {
        ObjectPropertyKind::ObjectProperty(p) if p.key.static_name().as_deref() == Some(key) => {
            Some(&p.value)
        }
        _ => None,
    })
}

/// Every `"key": ["string", ...]` entry of an object.
fn entries(o: &ObjectExpression<'_>) -> Vec<(String, Vec<String>)> {
    o.properties
        .iter()
        .filter_map(|p| match p {
            ObjectPropertyKind::ObjectProperty(p) => {
                let key = p.key.static_name()?.to_string();
                let Expression::ArrayExpression(a) = p.value.get_inner_expression() else {
                    return None;
                };
                let targets = a
                    .elements
                    .iter()
                    .filter_map(|e| match e {
                        ArrayExpressionElement::StringLiteral(s) => Some(s.value.to_string()),
                        _ => None,
                    })
                    .collect();
                Some((key, targets))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, Aliases) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut rels = Vec::new();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write");
            rels.push((*rel).to_string());
        }
        let aliases = Aliases::load(&crate::load::Root::new(dir.path()).expect("root"), &rels);
        (dir, aliases)
    }

    #[test]
    fn paths_with_comments_trailing_commas_base_url_and_extends() {
        let (_d, a) = load(&[
            (
                "tsconfig.base.json",
                "{\n  // shared\n  \"compilerOptions\": {\n    \"baseUrl\": \".\",\n    \"paths\": {\"@lib/*\": [\"libs/*/src\"], \"config\": [\"config/index.ts\"],},\n  },\n}\n",
            ),
            (
                "apps/api/tsconfig.json",
                "{\"extends\": \"../../tsconfig.base.json\"}",
            ),
            (
                "apps/web/tsconfig.json",
                "/* web */ {\"compilerOptions\": {\"paths\": {\"@app/*\": [\"./src/*\"]}}}",
            ),
            ("apps/bad/tsconfig.json", "{ not json"),
        ]);
        assert_eq!(
            a.candidates("apps/web/src/x.ts", "@app/db/pool"),
            ["apps/web/src/db/pool"]
        );
        assert_eq!(
            a.candidates("apps/api/src/main.ts", "@lib/db"),
            ["libs/db/src"]
        );
        assert_eq!(
            a.candidates("apps/api/src/main.ts", "config"),
            ["config/index.ts"]
        );
        assert_eq!(a.candidates("tools/x.ts", "@lib/db"), ["libs/db/src"]);
        assert!(
            a.candidates("apps/web/src/x.ts", "@lib/db").is_empty(),
            "nearest config only"
        );
        assert!(
            a.candidates("apps/bad/x.ts", "@lib/db").len() == 1,
            "an unparseable config adds nothing"
        );
    }

    #[test]
    fn hostile_configs_add_nothing_and_do_not_crash() {
        let deep = format!(
            "{{\"compilerOptions\": {}1{}}}",
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        let (_d, a) = load(&[
            ("tsconfig.json", deep.as_str()),
            ("a/tsconfig.json", "\u{7f}ELF\0\0"),
            (
                "b/tsconfig.json",
                "{\"extends\": \"./tsconfig.json\", \"compilerOptions\": {}}",
            ),
        ]);
        assert!(a.candidates("x.ts", "@lib/db").is_empty());
        assert!(
            a.candidates("b/x.ts", "@lib/db").is_empty(),
            "a self-extends ends"
        );
        assert_eq!(a.notes.len(), 1, "{:?}", a.notes);
        assert!(a.notes[0].message.contains("nested more than 64 levels"));
    }

    /// A chain of unbraced `if (a)` lines inside a function value recurses once per line
    /// in the parser; the pre-check refuses it (with a note) on an ordinary 2 MiB stack.
    #[test]
    fn a_chain_of_unbraced_ifs_is_refused_with_a_note() {
        let chain = format!(
            "{{\"x\": function() {{\n{}}}}}\n",
            "if (a)\n".repeat(23_000)
        );
        let notes = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || load(&[("tsconfig.json", chain.as_str())]).1.notes)
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].loc.file, "tsconfig.json");
        assert!(crate::load::js_text::too_deeply_nested(
            "if (a)\n".repeat(2_000).as_str(),
            1_000
        ));
        assert!(!crate::load::js_text::too_deeply_nested(
            "if (a) x();\nif (b) {\n y()\n}\nwhile (c) z()\n"
                .repeat(2_000)
                .as_str(),
            1_000
        ));
    }

    #[test]
    fn base_url_alone_resolves_bare_specifiers_under_it() {
        let (_d, a) = load(&[(
            "jsconfig.json",
            "{\"compilerOptions\": {\"baseUrl\": \"src\"}}",
        )]);
        assert_eq!(a.candidates("src/a.js", "lib/db"), ["src/lib/db"]);
        assert_eq!(match_pattern("@x/*", "@x/"), Some(""));
        assert_eq!(match_pattern("a*b", "ab"), Some(""));
        assert_eq!(match_pattern("a*b", "b"), None);
    }
}
