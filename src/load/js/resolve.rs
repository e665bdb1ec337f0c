//! Module resolution: which specifiers are local files of the repository, their package
//! names, and the source file a local import resolves to.

use crate::load::js_text::join_path;
use std::collections::HashSet;

/// Extensions tried when resolving an import specifier, in order.
const RESOLVE_EXTS: &[&str] = &["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts"];

/// Whether a specifier names a file of the repository: relative (`./x`, `../x`) or a
/// conventional root alias (`@/x`, `~/x`).
pub(super) fn is_local_specifier(spec: &str) -> bool {
    spec == "."
        || spec == ".."
        || spec.starts_with("./")
        || spec.starts_with("../")
        || spec.starts_with("@/")
        || spec.starts_with("~/")
}

/// The package a bare specifier imports: `lodash/fp` → `lodash`, `@scope/pkg/x` →
/// `@scope/pkg`; `None` for absolute paths and empty specifiers.
pub(super) fn package_name(spec: &str) -> Option<&str> {
    if spec.is_empty() || spec.starts_with('/') {
        return None;
    }
    let mut slashes = spec.match_indices('/').map(|(i, _)| i);
    let cut = if spec.starts_with('@') {
        slashes.nth(1)
    } else {
        slashes.next()
    };
    Some(cut.map_or(spec, |i| &spec[..i]))
}

/// Resolves a local specifier imported by `importer` to a scanned file.
pub(super) fn resolve(importer: &str, spec: &str, known: &HashSet<&str>) -> Option<String> {
    let dir = crate::load::dir_of(importer);
    if let Some(rest) = spec.strip_prefix("@/").or_else(|| spec.strip_prefix("~/")) {
        // A root alias: the nearest ancestor directory where `src/<rest>` or `<rest>` exists.
        let mut anc = Some(dir);
        while let Some(a) = anc {
            for base in [join_path(a, "src"), Some(a.to_string())] {
                if let Some(found) = base
                    .and_then(|b| join_path(&b, rest))
                    .and_then(|p| find_module(&p, known))
                {
                    return Some(found);
                }
            }
            anc = if a.is_empty() {
                None
            } else {
                Some(crate::load::dir_of(a))
            };
        }
        return None;
    }
    find_module(&join_path(dir, spec)?, known)
}

/// The scanned file a module path denotes: itself, with an extension, with a TypeScript
/// extension in place of a JavaScript one, or its `index` file.
pub(super) fn find_module(path: &str, known: &HashSet<&str>) -> Option<String> {
    let hit = |p: String| known.contains(p.as_str()).then_some(p);
    if !path.is_empty()
        && let Some(p) = hit(path.to_string())
    {
        return Some(p);
    }
    if let Some((stem, ext)) = path.rsplit_once('.') {
        let swaps: &[&str] = match ext {
            "js" => &["ts", "tsx"],
            "jsx" => &["tsx"],
            "mjs" => &["mts"],
            "cjs" => &["cts"],
            _ => &[],
        };
        for s in swaps {
            if let Some(p) = hit(format!("{stem}.{s}")) {
                return Some(p);
            }
        }
    }
    if !path.is_empty() {
        for ext in RESOLVE_EXTS {
            if let Some(p) = hit(format!("{path}.{ext}")) {
                return Some(p);
            }
        }
    }
    for ext in RESOLVE_EXTS {
        let p = if path.is_empty() {
            format!("index.{ext}")
        } else {
            format!("{path}/index.{ext}")
        };
        if let Some(p) = hit(p) {
            return Some(p);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::js::routes::join_route;

    #[test]
    fn resolution_of_specifiers() {
        let known: HashSet<&str> = [
            "src/a.ts",
            "src/lib/db.ts",
            "src/lib/index.tsx",
            "src/b/index.js",
            "src/esm.ts",
            "app/page.tsx",
        ]
        .into_iter()
        .collect();
        assert_eq!(
            resolve("src/x.ts", "./a", &known).as_deref(),
            Some("src/a.ts")
        );
        assert_eq!(
            resolve("src/x.ts", "./a.ts", &known).as_deref(),
            Some("src/a.ts")
        );
        assert_eq!(
            resolve("src/x.ts", "./esm.js", &known).as_deref(),
            Some("src/esm.ts")
        );
        assert_eq!(
            resolve("src/x/y.ts", "../b", &known).as_deref(),
            Some("src/b/index.js")
        );
        assert_eq!(
            resolve("src/x/y.ts", "../lib", &known).as_deref(),
            Some("src/lib/index.tsx")
        );
        assert_eq!(
            resolve("app/page.tsx", "@/lib/db", &known).as_deref(),
            Some("src/lib/db.ts")
        );
        assert_eq!(resolve("src/x.ts", "../../etc/passwd", &known), None);
        assert_eq!(resolve("src/x.ts", "./missing", &known), None);
        assert_eq!(package_name("@sentry/node/esm"), Some("@sentry/node"));
        assert_eq!(package_name("lodash/fp"), Some("lodash"));
        assert_eq!(package_name("node:fs"), Some("node:fs"));
        assert_eq!(package_name("/abs"), None);
        assert_eq!(join_route("health/", "/x/"), "/health/x");
        assert_eq!(join_route("", ""), "/");
    }
}
