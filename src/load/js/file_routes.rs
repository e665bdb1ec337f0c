//! Routes a file exposes by its path in file-based routers: Medusa, Next.js (`app/` route
//! handlers and `pages/api/`), SvelteKit, and Remix flat routes.

use super::routes::join_route;

/// The route a file exposes by its path: Medusa `src/api/<path>/route.(ts|js)`, Next.js
/// `app/<path>/route.(ts|js)` (only when it exports an HTTP-method handler, `http_export`)
/// and `pages/api/<path>.(ts|js)` (only with a default export, `default_export`: `app/` and
/// `pages/` folders are common outside Next.js), SvelteKit `routes/<path>/+server.(ts|js)`;
/// route groups `(x)` and parallel slots `@x` are dropped, private folders `_x` expose
/// nothing.
pub(super) fn file_route(rel: &str, http_export: bool, default_export: bool) -> Option<String> {
    let segs: Vec<&str> = rel.split('/').collect();
    let (name, dirs) = segs.split_last()?;
    let (stem, ext) = name.rsplit_once('.')?;
    if !matches!(ext, "ts" | "js" | "mts" | "mjs") {
        return None;
    }
    let after = |i: usize| -> Option<String> {
        let mut out: Vec<&str> = Vec::new();
        for d in &dirs[i..] {
            if d.starts_with('(') && d.ends_with(')') || d.starts_with('@') {
                continue;
            }
            if d.starts_with('_') {
                return None;
            }
            out.push(d);
        }
        Some(format!("/{}", out.join("/")))
    };
    let find = |a: &str, b: &str| dirs.windows(2).position(|w| w[0] == a && w[1] == b);
    match stem {
        "route" => {
            if let Some(i) = find("src", "api") {
                return after(i + 2);
            }
            let i = dirs
                .iter()
                .position(|d| *d == "app")
                .filter(|_| http_export)?;
            after(i + 1)
        }
        "+server" => {
            let i = find("src", "routes")
                .map(|i| i + 1)
                .or_else(|| dirs.iter().position(|d| *d == "routes"))?;
            after(i + 1)
        }
        _ => {
            let i = find("pages", "api").filter(|_| default_export)?;
            let base = after(i + 1)?;
            Some(if stem == "index" {
                base
            } else {
                join_route(&base, stem)
            })
        }
    }
}

/// The route of a Remix / React Router file-system route module under `app/routes/`, in the
/// flat-routes convention: dots separate segments (`api.health.ts` → `/api/health`), a folder
/// holding `route.*` is named like a file, `+` folders (remix-flat-routes) add their name as
/// segments, `_x` segments are pathless layouts and `_index` an index, a trailing `_` is
/// dropped, `$x` is `:x` and `$` a splat, `(x)` an optional segment.
pub(super) fn remix_route(rel: &str) -> Option<String> {
    let segs: Vec<&str> = rel.split('/').collect();
    let at = segs
        .windows(2)
        .position(|w| w[0] == "app" && w[1] == "routes")?
        + 2;
    let (file, dirs) = segs[at..].split_last()?;
    let (stem, ext) = file.rsplit_once('.')?;
    if !matches!(ext, "ts" | "tsx" | "js" | "jsx" | "mts" | "mjs") {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    for (i, d) in dirs.iter().enumerate() {
        match d.strip_suffix('+') {
            Some(flat) => names.push(flat),
            // A plain folder is a route folder: the last one, holding `route.*`.
            None if i + 1 == dirs.len() && stem == "route" => names.push(d),
            None => return None,
        }
    }
    if stem != "route" {
        names.push(stem);
    }
    let mut path: Vec<String> = Vec::new();
    for seg in names.iter().flat_map(|n| split_unescaped_dots(n)) {
        if seg.is_empty() || seg == "_index" || seg == "index" || seg.starts_with('_') {
            continue;
        }
        let seg = seg.strip_suffix('_').unwrap_or(seg);
        let seg = seg
            .strip_prefix('(')
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(seg);
        path.push(match seg.strip_prefix('$') {
            Some("") => "*".to_string(),
            Some(p) => format!(":{p}"),
            None => seg.replace(['[', ']'], ""),
        });
    }
    Some(format!("/{}", path.join("/")))
}

/// `name` split at dots outside `[...]` escapes.
fn split_unescaped_dots(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in name.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                out.push(&name[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&name[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_routes_by_convention() {
        let cases = [
            ("src/api/health/route.ts", Some("/health")),
            (
                "apps/backend/src/api/admin/orders/[id]/route.js",
                Some("/admin/orders/[id]"),
            ),
            ("src/api/health/helpers.ts", None),
            ("app/(marketing)/health/route.ts", Some("/health")),
            ("src/app/api/_internal/route.ts", None),
            ("src/routes/health/+server.ts", Some("/health")),
            ("src/routes/+server.js", Some("/")),
            ("pages/api/health.ts", Some("/api/health")),
            ("pages/api/metrics/index.js", Some("/api/metrics")),
            ("src/api/health/route.tsx", None),
            ("lib/route.ts", None),
        ];
        for (rel, want) in cases {
            assert_eq!(file_route(rel, true, true).as_deref(), want, "{rel}");
        }
        assert_eq!(file_route("src/app/users/route.ts", false, true), None);
        assert_eq!(
            file_route("src/app/pages/api/a.component.ts", true, false),
            None
        );
        assert_eq!(
            file_route("src/api/health/route.ts", false, false).as_deref(),
            Some("/health")
        );
    }

    #[test]
    fn remix_flat_routes() {
        let cases = [
            ("app/routes/health.ts", Some("/health")),
            ("apps/web/app/routes/api.health.tsx", Some("/api/health")),
            ("app/routes/api+/health.ts", Some("/api/health")),
            ("app/routes/api.health/route.ts", Some("/api/health")),
            ("app/routes/_auth.login.tsx", Some("/login")),
            ("app/routes/_index.tsx", Some("/")),
            ("app/routes/users.$id_.edit.tsx", Some("/users/:id/edit")),
            ("app/routes/files.$.ts", Some("/files/*")),
            ("app/routes/($lang).about.tsx", Some("/:lang/about")),
            ("app/routes/sitemap[.]xml.ts", Some("/sitemap.xml")),
            ("app/routes/api.health/helpers.ts", None),
            ("app/routes/health.css", None),
            ("src/routes/health.ts", None),
        ];
        for (rel, want) in cases {
            assert_eq!(remix_route(rel).as_deref(), want, "{rel}");
        }
    }
}
