//! `scorecard.html`: one self-contained, offline page (inline style and script, no external
//! asset): summary, a sortable and filterable matrix of repositories × rules coloured by
//! verdict, per-rule and per-team pass rates, the changes since a compared scorecard, and a
//! drill-down per repository listing each finding with its message and `file:line` (a link
//! into the repository's web URL when the manifest gives one). The page's state (filter,
//! team, sort, open repository) lives in the URL's fragment, so a view can be shared, e.g.
//! `scorecard.html#sort=score&team=payments&repo=api`.

use super::scorecard::Scorecard;

/// The page's style.
const STYLE: &str = r#"
:root{--pass:#1a7f37;--fail:#cf222e;--error:#9a6700;--skip:#8c959f;--bg:#fff;--fg:#1f2328;--mute:#656d76;--line:#d0d7de}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 24px 48px}
h1{font-size:22px;margin:20px 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:var(--mute)}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f6f8fa;position:sticky;top:0;cursor:pointer;user-select:none;white-space:nowrap}
th.rule{writing-mode:vertical-rl;transform:rotate(180deg);font-family:ui-monospace,monospace;font-size:11px;font-weight:600;padding:6px 2px}
td.v{width:16px;min-width:16px;height:18px;padding:0;text-align:center;font-size:11px;color:#fff}
tr.open>td:not(.v){background:#fff8c5}td.pass{background:var(--pass)}td.fail{background:var(--fail)}td.error{background:var(--error)}td.skipped{background:var(--skip)}
.bar{display:inline-block;height:9px;background:var(--pass);vertical-align:middle;margin-right:6px}
.controls{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin:8px 0}
input,select{font:inherit;padding:3px 6px}input[type=search]{width:260px}a.repo{cursor:pointer;color:#0969da;text-decoration:none}
#detail{border:1px solid var(--line);border-radius:6px;padding:10px 16px;margin-top:16px}#detail h2{margin:4px 0}
code{font-family:ui-monospace,monospace;font-size:12.5px}.lvl-error{color:var(--fail)}.lvl-warning{color:var(--error)}.lvl-note{color:var(--mute)}
.legend span{display:inline-block;padding:1px 8px;color:#fff;border-radius:3px;margin-right:4px}
"#;

/// The page's script: renders everything from the embedded scorecard.
const SCRIPT: &str = r##"
"use strict";
const S = JSON.parse(document.getElementById("scorecard").textContent);
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));
const num = (x) => x === undefined || x === null ? "–" : Number(x).toFixed(1);
// Matrix columns: rules checked somewhere (not those every repository skips, e.g. left out
// by `--select`); the rules table below still lists every rule.
const rules = S.rules.map((r) => r.id).filter((id) => S.repositories.some((r) => r.rules[id] && r.rules[id].verdict !== "skipped"));
const state = {q: "", team: "", failing: false, sort: "name", desc: false, repo: ""};
function readHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const k of Object.keys(state)) if (p.has(k)) state[k] = (k === "desc" || k === "failing") ? p.get(k) === "1" : p.get(k);
}
function writeHash() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) if (v !== "" && v !== false) p.set(k, v === true ? "1" : v);
  history.replaceState(null, "", "#" + p.toString());
}
function summary() {
  const s = S.summary;
  $("cards").innerHTML = [["repositories", s.repositories], ["passing", s.passing], ["with findings", s.repositories - s.passing - s.errored], ["errored", s.errored], ["findings", s.findings], ["mean score", num(s.mean_score)]]
    .map(([k, v]) => `<div class="card"><b>${esc(v)}</b><span class="muted">${k}</span></div>`).join("");
  const teams = [...new Set(S.repositories.map((r) => r.team).filter(Boolean))].sort();
  $("team").innerHTML = `<option value="">all teams</option>` + teams.map((t) => `<option>${esc(t)}</option>`).join("");
}
function key(r) {
  if (state.sort === "name") return r.name;
  if (state.sort === "team") return r.team || "";
  if (state.sort === "score") return r.score ?? -1;
  if (state.sort === "findings") return r.findings.length;
  const c = r.rules[state.sort];
  return c ? ({fail: 0, error: 1, pass: 2, skipped: 3}[c.verdict] * 1e6 - c.findings) : 9e6;
}
function visible() {
  const q = state.q.toLowerCase();
  return S.repositories.filter((r) =>
    (!q || [r.name, r.team, ...(r.tags || [])].some((x) => (x || "").toLowerCase().includes(q))) &&
    (!state.team || r.team === state.team) &&
    (!state.failing || r.status === "error" || Object.values(r.rules).some((c) => c.verdict === "fail")));
}
function matrix() {
  const rows = visible().sort((a, b) => {
    const x = key(a), y = key(b);
    const c = x < y ? -1 : x > y ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    return state.desc ? -c : c;
  });
  const arrow = (k) => state.sort === k ? (state.desc ? " ▼" : " ▲") : "";
  let h = `<thead><tr><th data-sort="name">repository${arrow("name")}</th><th data-sort="team">team${arrow("team")}</th><th data-sort="score">score${arrow("score")}</th><th data-sort="findings">findings${arrow("findings")}</th>`;
  for (const id of rules) h += `<th class="rule" data-sort="${esc(id)}" title="${esc(S.rules.find((r) => r.id === id).title)}">${esc(id)}${arrow(id)}</th>`;
  h += "</tr></thead><tbody>";
  for (const r of rows) {
    h += `<tr data-repo="${esc(r.name)}"${r.name === state.repo ? ' class="open"' : ""}><td><a class="repo" data-open="${esc(r.name)}">${esc(r.name)}</a></td><td>${esc(r.team)}</td><td>${r.status === "error" ? "<b class=lvl-error>error</b>" : num(r.score)}</td><td>${r.findings.length}</td>`;
    for (const id of rules) {
      const c = r.rules[id];
      h += c ? `<td class="v ${c.verdict}" title="${esc(r.name)} · ${esc(id)}: ${c.verdict}${c.findings ? " (" + c.findings + ")" : ""}">${c.findings || ""}</td>` : `<td></td>`;
    }
    h += "</tr>";
  }
  $("matrix").innerHTML = h + "</tbody>";
  $("shown").textContent = `${rows.length} of ${S.repositories.length} repositories`;
}
function rollups() {
  $("rules").innerHTML = "<tr><th>rule</th><th>title</th><th>pass rate</th><th>passed</th><th>failed</th><th>errored</th><th>findings</th></tr>" +
    S.rules.map((r) => `<tr><td><code>${esc(r.id)}</code></td><td>${esc(r.title)}</td><td><span class="bar" style="width:${(r.pass_rate ?? 0) * 0.8}px"></span>${num(r.pass_rate)}%</td><td>${r.passed}</td><td>${r.failed}</td><td>${r.errored}</td><td>${r.findings}</td></tr>`).join("");
  $("teams").innerHTML = S.teams.length ? "<tr><th>team</th><th>repositories</th><th>errored</th><th>mean score</th><th>pass rate</th><th>findings</th></tr>" +
    S.teams.map((t) => `<tr><td>${esc(t.team)}</td><td>${t.repositories}</td><td>${t.errored}</td><td>${num(t.mean_score)}</td><td><span class="bar" style="width:${(t.pass_rate ?? 0) * 0.8}px"></span>${num(t.pass_rate)}%</td><td>${t.findings}</td></tr>`).join("")
    : "<tr><td class=muted>No repository names a team (the manifest's <code>team</code>).</td></tr>";
  const c = S.compare;
  if (!c) { $("compare-section").hidden = true; return; }
  $("compare").innerHTML = `<p>Since ${esc(c.against)}: <b>${c.improved}</b> checks improved, <b>${c.regressed}</b> regressed; ${c.added.length} repositories added, ${c.removed.length} removed.</p>` +
    (c.repositories.length ? "<table><tr><th>repository</th><th>score</th><th>improved</th><th>regressed</th></tr>" + c.repositories.map((r) => `<tr><td>${esc(r.name)}</td><td>${num(r.old_score)} → ${num(r.new_score)}</td><td>${esc(r.improved.join(", "))}</td><td class="lvl-error">${esc(r.regressed.join(", "))}</td></tr>`).join("") + "</table>" : "");
}
function link(r, f) {
  const where = `${f.file}:${f.line}`;
  if (!r.url) return `<code>${esc(where)}</code>`;
  const at = r.commit || r.ref || "HEAD";
  const href = `${r.url.replace(/\/+$/, "")}/blob/${encodeURIComponent(at)}/${f.file.split("/").map(encodeURIComponent).join("/")}#L${f.line}`;
  return /^https?:\/\//.test(r.url) ? `<a href="${esc(href)}"><code>${esc(where)}</code></a>` : `<code>${esc(where)}</code>`;
}
function detail() {
  const r = S.repositories.find((x) => x.name === state.repo);
  if (!r) { $("detail").hidden = true; return; }
  $("detail").hidden = false;
  let h = `<h2 id="detail-title">${esc(r.name)}</h2><p class="muted">${esc(r.kind)} ${esc(r.source)}${r.commit ? " · commit <code>" + esc(r.commit.slice(0, 12)) + "</code>" : ""}${r.team ? " · team " + esc(r.team) : ""}${(r.tags || []).length ? " · " + esc(r.tags.join(", ")) : ""}</p>`;
  if (r.status === "error") h += `<p class="lvl-error">Could not be checked: ${esc(r.error)}</p>`;
  else h += `<p>Score <b>${num(r.score)}</b>/10 · ${r.findings.length} findings</p>`;
  if (r.findings.length) h += "<table id=findings><tr><th>rule</th><th>level</th><th>where</th><th>message</th></tr>" + r.findings.map((f) => `<tr><td><code>${esc(f.rule)}</code></td><td class="lvl-${esc(f.level)}">${esc(f.level)}</td><td>${link(r, f)}</td><td>${esc(f.message)}</td></tr>`).join("") + "</table>";
  if ((r.problems || []).length) h += "<h3>Problems</h3><ul>" + r.problems.map((p) => `<li>${esc(p)}</li>`).join("") + "</ul>";
  $("detail").innerHTML = h + `<p><a class="repo" data-open="">close</a></p>`;
}
function render() { matrix(); detail(); writeHash(); }
document.addEventListener("click", (e) => {
  const t = e.target.closest("[data-sort],[data-open]");
  if (!t) return;
  if (t.dataset.sort !== undefined) { state.desc = state.sort === t.dataset.sort ? !state.desc : false; state.sort = t.dataset.sort; }
  else { state.repo = t.dataset.open; }
  render();
  if (state.repo) $("detail").scrollIntoView();
});
readHash();
summary();
rollups();
$("q").value = state.q; $("team").value = state.team; $("failing").checked = state.failing;
$("q").addEventListener("input", (e) => { state.q = e.target.value; render(); });
$("team").addEventListener("change", (e) => { state.team = e.target.value; render(); });
$("failing").addEventListener("change", (e) => { state.failing = e.target.checked; render(); });
render();
document.body.dataset.ready = "1";
"##;

/// Text safe inside an HTML element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page.
pub fn render(s: &Scorecard) -> String {
    // JSON inside <script>: `<` escaped so no `</script>` or `<!--` can end or change it.
    let data = serde_json::to_string(s)
        .unwrap_or_else(|_| "{}".to_string())
        .replace('<', "\\u003c");
    let subtitle = format!(
        "{} repositories · shipshape {} · {}{}",
        s.summary.repositories,
        s.run.version,
        s.run.started,
        s.run
            .shard
            .as_deref()
            .map(|x| format!(" · shard {x}"))
            .unwrap_or_default()
    );
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shipshape fleet scorecard</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Fleet scorecard</h1>
<p class="muted">{subtitle}</p>
<div class="cards" id="cards"></div>
<section id="compare-section"><h2>Changes</h2><div id="compare"></div></section>
<h2>Repositories × rules</h2>
<div class="controls">
<input id="q" type="search" placeholder="filter by name, team or tag" aria-label="filter">
<select id="team" aria-label="team"></select>
<label><input id="failing" type="checkbox"> failing or errored only</label>
<span id="shown" class="muted"></span>
<span class="legend"><span style="background:var(--pass)">pass</span><span style="background:var(--fail)">fail</span><span style="background:var(--error)">error</span><span style="background:var(--skip)">skipped</span></span>
</div>
<table id="matrix"></table>
<div id="detail" hidden></div>
<h2>Rules</h2>
<table id="rules"></table>
<h2>Teams</h2>
<table id="teams"></table>
<noscript><p>This page needs JavaScript to draw the matrix; <code>scorecard.md</code> and <code>scorecard.csv</code> hold the same results.</p></noscript>
<script type="application/json" id="scorecard">{data}</script>
<script>{SCRIPT}</script>
</body>
</html>
"#,
        subtitle = escape(&subtitle)
    )
}
