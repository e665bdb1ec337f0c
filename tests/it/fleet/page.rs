//! The fleet page in a headless Chromium: the rendered DOM with its state taken from the URL's
//! fragment (sort, filter, team, open repository), and hostile names kept as text.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// A headless Chromium, or `None` (with a line on standard error) when there is none; with
/// `SHIPSHAPE_REQUIRE_BROWSER=1` its absence fails the test.
pub(super) fn browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|b| std::env::split_paths(&path).map(move |d| d.join(b)))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var("SHIPSHAPE_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "SHIPSHAPE_REQUIRE_BROWSER=1 but no chromium on PATH"
        );
        eprintln!("skipped: no chromium on PATH (SHIPSHAPE_REQUIRE_BROWSER=1 makes this fail)");
    }
    found
}

/// The DOM of `page#hash` after its script ran.
pub(super) fn dump_dom(browser: &Path, page: &Path, hash: &str) -> String {
    let profile = tempfile::tempdir().expect("tempdir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}#{hash}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text from `start` (excluded) to the next `end`.
pub(super) fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s.find(start).unwrap_or_else(|| panic!("no {start} in {s}")) + start.len();
    let len = s[from..].find(end).unwrap_or(s.len() - from);
    &s[from..from + len]
}

/// The matrix rows of a rendered page: (repository, verdict class per rule).
fn matrix(dom: &str) -> Vec<(String, Vec<String>)> {
    let table = between(dom, r#"<table id="matrix">"#, "</table>");
    table
        .split(r#"<tr data-repo=""#)
        .skip(1)
        .map(|row| {
            let name = row[..row.find('"').expect("quote")].to_string();
            let cells = row
                .split(r#"<td class="v "#)
                .skip(1)
                .map(|c| c[..c.find('"').expect("quote")].to_string())
                .collect();
            (name, cells)
        })
        .collect()
}

#[test]
fn the_page_renders_in_a_browser_with_state_from_the_url() {
    let Some(b) = browser() else { return };
    let f = Fleet::new();
    ten(&f);
    f.scorecard(&["--manifest", "fleet.csv"], "out", 1);
    let page = f.path("out/scorecard.html");
    let dom = dump_dom(&b, &page, "sort=score&repo=billing");
    assert!(dom.contains(r#"<body data-ready="1">"#), "{dom}");
    let rows = matrix(&dom);
    let order: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    // Scores: cart 3.3; billing, checkout, edge, fraud, gateway, ledger 6.7; api, docs,
    // inventory 10.0; ties by name.
    assert_eq!(
        order,
        [
            "cart",
            "billing",
            "checkout",
            "edge",
            "fraud",
            "gateway",
            "ledger",
            "api",
            "docs",
            "inventory"
        ]
    );
    let cells: Vec<(&str, Vec<&str>)> = rows
        .iter()
        .map(|(n, c)| (n.as_str(), c.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(cells[0], ("cart", vec!["fail", "pass", "fail"]));
    assert_eq!(cells[1], ("billing", vec!["pass", "fail", "pass"]));
    assert_eq!(cells[2], ("checkout", vec!["fail", "pass", "pass"]));
    assert_eq!(cells[7], ("api", vec!["pass", "pass", "pass"]));
    assert!(dom.contains(r#"<span id="shown" class="muted">10 of 10 repositories</span>"#));
    // The open repository's row is marked, and only it.
    assert_eq!(
        dom.matches(r#"<tr data-repo="billing" class="open">"#)
            .count(),
        1
    );
    let table = between(&dom, r#"<table id="matrix">"#, "</table>");
    assert_eq!(table.matches(r#"class="open""#).count(), 1);
    // The detail panel of the repository in the URL, linking into its web URL at the commit.
    let detail = between(&dom, r#"<div id="detail">"#, "</div>");
    assert!(
        detail.starts_with(r#"<h2 id="detail-title">billing</h2>"#),
        "{detail}"
    );
    let commit = f.git(&f.path("c/billing"), &["rev-parse", "HEAD"]);
    let finding = format!(
        r#"<tr><td><code>DF005</code></td><td class="lvl-error">error</td><td><a href="https://git.example/org/billing/blob/{commit}/Dockerfile#L3"><code>Dockerfile:3</code></a></td><td>the final stage runs as root (USER root)</td></tr>"#
    );
    assert!(detail.contains(&finding), "{detail}");
    // Descending, then filtered by the text box and by team.
    let rows = matrix(&dump_dom(&b, &page, "sort=name&desc=1"));
    assert_eq!(rows.first().map(|r| r.0.as_str()), Some("ledger"));
    assert_eq!(rows.last().map(|r| r.0.as_str()), Some("api"));
    let dom = dump_dom(&b, &page, "q=tier2");
    let shown: Vec<String> = matrix(&dom).into_iter().map(|r| r.0).collect();
    assert_eq!(shown, ["billing", "checkout", "edge", "gateway", "ledger"]);
    assert!(dom.contains("5 of 10 repositories"));
    assert!(between(&dom, r#"<div id="detail""#, ">").contains("hidden"));
    let dom = dump_dom(&b, &page, "team=platform&sort=findings&desc=1");
    let shown: Vec<String> = matrix(&dom).into_iter().map(|r| r.0).collect();
    assert_eq!(shown, ["cart", "edge", "inventory"]);
    assert!(dom.contains("3 of 10 repositories"));
    let dom = dump_dom(&b, &page, "failing=1&q=ge");
    let shown: Vec<String> = matrix(&dom).into_iter().map(|r| r.0).collect();
    assert_eq!(shown, ["edge", "ledger"]);
    // Rules every repository skips (left out by --select) are no columns of the matrix.
    f.scorecard(
        &["--manifest", "fleet.csv", "--select", "DF005,CI001"],
        "sel",
        1,
    );
    let rows = matrix(&dump_dom(&b, &f.path("sel/scorecard.html"), "repo=cart"));
    assert_eq!(rows.len(), 10);
    assert_eq!(
        rows[2],
        (
            "cart".to_string(),
            vec!["fail".to_string(), "pass".to_string()]
        )
    );
}

#[test]
fn hostile_names_teams_and_urls_stay_text_in_the_page() {
    let Some(b) = browser() else { return };
    let f = Fleet::new();
    four(&f);
    let evil = r#"</script><img src=x onerror="document.body.dataset.pwned=1">"#;
    std::fs::write(
        f.path("fleet.yaml"),
        format!(
            "- name: '{evil}'\n  path: c/root\n  team: '<b>team</b>'\n  tags: ['<i>t</i>']\n  url: 'javascript:document.body.dataset.pwned=1'\n"
        ),
    )
    .expect("write");
    let s = f.scorecard(&["--manifest", "fleet.yaml"], "out", 1);
    assert_eq!(names(&s), [evil]);
    let page = f.path("out/scorecard.html");
    let html = std::fs::read_to_string(&page).expect("page");
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "only the page's own scripts end"
    );
    let dom = dump_dom(
        &b,
        &page,
        "repo=%3C%2Fscript%3E%3Cimg%20src%3Dx%20onerror%3D%22document.body.dataset.pwned%3D1%22%3E",
    );
    assert!(dom.contains(r#"<body data-ready="1">"#), "{dom}");
    assert!(!dom.contains("data-pwned"), "{dom}");
    let table = between(&dom, r#"<table id="matrix">"#, "</table>");
    assert!(!table.contains("<img"), "{table}");
    assert!(table.contains("&lt;/script&gt;&lt;img src=x"), "{table}");
    assert!(
        table.contains("<td>&lt;b&gt;team&lt;/b&gt;</td>"),
        "{table}"
    );
    // The detail panel is open, and a URL that is not http(s) is no link.
    let detail = between(&dom, r#"<div id="detail">"#, "</div>");
    assert!(detail.contains("<code>Dockerfile:3</code>"), "{detail}");
    assert!(!detail.contains("<a href"), "{detail}");
}
