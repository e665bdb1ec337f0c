//! `shipshape fleet`: every kind of source (checkouts, bare mirrors at a ref, YAML and CSV
//! manifests), error rows and exit statuses, `--compare`, the output formats (snapshots,
//! SARIF against its schema); shards merged back into the unsharded scorecard in
//! [`shards`], the HTML page in a headless browser in [`page`]. Fixture repositories are
//! made with `git` in temporary directories at test time, with fixed dates so commit ids are
//! stable.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

mod config;
mod damaged;
mod page;
mod refs;
mod shards;

/// A Dockerfile that passes DF005 and DF006.
const PINNED: &str = "FROM node:20-alpine\nCOPY . .\nUSER node\n";
/// Fails DF005 (error) at line 3.
const ROOT: &str = "FROM node:20-alpine\nCOPY . .\nUSER root\n";
/// Fails DF006 (warning) at line 1.
const LATEST: &str = "FROM node:latest\nUSER node\n";
/// A pull-request workflow that runs the linter (passes CI001).
const WORKFLOW: &str = "on: pull_request\njobs:\n  checks:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm run lint\n";
const PACKAGE: &str = "{\"name\": \"svc\", \"scripts\": {\"lint\": \"eslint .\"}}\n";
/// The message of CI001 in a repository without CI.
const NO_CI: &str = "no CI configuration: expected a pull_request workflow under .github/workflows/ (or .gitlab-ci.yml) that runs the linter";

/// The files of a fixture repository: `docker` as its Dockerfile, with or without CI.
fn files(docker: &'static str, ci: bool) -> Vec<(&'static str, &'static str)> {
    let mut f = vec![("Dockerfile", docker), ("package.json", PACKAGE)];
    if ci {
        f.push((".github/workflows/ci.yml", WORKFLOW));
    }
    f
}

/// A temporary directory holding fixture repositories, a small policy set (DF005, DF006 and
/// CI001 copied from the built-in pack) and the fleet's outputs.
struct Fleet {
    dir: tempfile::TempDir,
}

impl Fleet {
    fn new() -> Fleet {
        let dir = tempfile::tempdir().expect("tempdir");
        let pol = dir.path().join("policies");
        std::fs::create_dir_all(&pol).expect("mkdir");
        for id in ["CI001", "DF005", "DF006"] {
            let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("policies/{id}.yaml"));
            std::fs::copy(from, pol.join(format!("{id}.yaml"))).expect("copy policy");
        }
        Fleet { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs git in `at` with no system or user configuration and fixed identity and dates.
    fn git(&self, at: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(["-c", "user.email=t@t", "-c", "user.name=t"])
            .args(args)
            .current_dir(at)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.dir.path())
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Writes `files` into `repo` (deleting none) and commits them.
    fn commit(&self, repo: &Path, files: &[(&str, &str)]) -> String {
        for (rel, text) in files {
            let p = repo.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write");
        }
        self.git(repo, &["add", "-A"]);
        self.git(repo, &["commit", "-qm", "x"]);
        self.git(repo, &["rev-parse", "HEAD"])
    }

    /// A checkout at `rel` (branch `main`) whose one commit holds `files`.
    fn checkout(&self, rel: &str, files: &[(&str, &str)]) -> PathBuf {
        let repo = self.path(rel);
        std::fs::create_dir_all(&repo).expect("mkdir");
        self.git(&repo, &["init", "-q", "-b", "main"]);
        self.commit(&repo, files);
        repo
    }

    /// A bare clone of `checkout` at `rel`.
    fn mirror(&self, checkout: &Path, rel: &str) -> PathBuf {
        let to = self.path(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        self.git(
            self.dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                checkout.to_str().expect("utf-8"),
                to.to_str().expect("utf-8"),
            ],
        );
        to
    }

    /// `shipshape fleet ARGS` with the fixture policies, from the temporary directory:
    /// (exit status, standard error).
    fn run(&self, args: &[&str]) -> (i32, String) {
        let pol = self.path("policies");
        let mut all: Vec<&str> = vec!["fleet"];
        all.extend_from_slice(args);
        if args.first() != Some(&"merge") {
            all.extend(["--no-builtin", "--policy", pol.to_str().expect("utf-8")]);
        }
        let out = cargo_bin_cmd!("shipshape")
            .args(&all)
            .current_dir(self.dir.path())
            .output()
            .expect("runs");
        (
            out.status.code().expect("exit code"),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `run`, asserting the exit status; the scorecard.json written into `out`.
    fn scorecard(&self, args: &[&str], out: &str, code: i32) -> Value {
        let mut all = args.to_vec();
        all.extend(["--out", out]);
        let (got, err) = self.run(&all);
        assert_eq!(got, code, "fleet {all:?}:\n{err}");
        json(&self.path(out).join("scorecard.json"))
    }

    fn read(&self, out: &str, file: &str) -> String {
        std::fs::read_to_string(self.path(out).join(file)).expect("output file")
    }
}

fn json(file: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).expect("read")).expect("JSON")
}

/// A scorecard without its `run` object.
fn without_run(mut v: Value) -> Value {
    v.as_object_mut().expect("object").remove("run");
    v
}

/// The repositories' names, in order.
fn names(s: &Value) -> Vec<String> {
    s["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect()
}

/// The repository called `name`.
fn repo<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no repository {name} in {s}"))
}

/// `RULE=verdict` per rule of a repository.
fn verdicts(r: &Value) -> Vec<String> {
    r["rules"]
        .as_object()
        .expect("rules")
        .iter()
        .map(|(k, v)| format!("{k}={}", v["verdict"].as_str().expect("verdict")))
        .collect()
}

/// `RULE level file:line` per finding of a repository.
fn findings(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}:{}",
                f["rule"].as_str().expect("rule"),
                f["level"].as_str().expect("level"),
                f["file"].as_str().expect("file"),
                f["line"]
            )
        })
        .collect()
}

/// The scorecard embedded in scorecard.html.
fn html_data(html: &str) -> Value {
    let start = r#"<script type="application/json" id="scorecard">"#;
    let from = html.find(start).expect("embedded scorecard") + start.len();
    let len = html[from..].find("</script>").expect("end of script");
    serde_json::from_str(&html[from..from + len]).expect("embedded JSON")
}

/// Four checkouts under `c/` (good, latest, nolint, root) and their bare mirrors under `m/`.
fn four(f: &Fleet) {
    for (name, docker, ci) in [
        ("good", PINNED, true),
        ("latest", LATEST, true),
        ("nolint", PINNED, false),
        ("root", ROOT, true),
    ] {
        let c = f.checkout(&format!("c/{name}"), &files(docker, ci));
        f.mirror(&c, &format!("m/{name}.git"));
    }
}

#[test]
fn a_checkout_a_directory_of_checkouts_and_a_directory_of_mirrors() {
    let f = Fleet::new();
    four(&f);
    let head = f.git(&f.path("c/root"), &["rev-parse", "HEAD"]);
    let one = f.scorecard(&["c/root"], "one", 1);
    assert_eq!(names(&one), ["root"]);
    let r = repo(&one, "root");
    assert_eq!(r["kind"], "checkout");
    assert_eq!(r["source"], "c/root");
    assert_eq!(r["commit"], head.as_str());
    assert_eq!(r["status"], "ok");
    assert_eq!(r["score"], 6.7);
    assert_eq!(verdicts(r), ["CI001=pass", "DF005=fail", "DF006=pass"]);
    assert_eq!(findings(r), ["DF005 error Dockerfile:3"]);

    let dir = f.scorecard(&["c"], "dir", 1);
    assert_eq!(names(&dir), ["good", "latest", "nolint", "root"]);
    let mirrors = f.scorecard(&["m"], "mirrors", 1);
    assert_eq!(names(&mirrors), ["good", "latest", "nolint", "root"]);
    for (name, want) in [
        ("good", vec![]),
        ("latest", vec!["DF006 warning Dockerfile:1"]),
        ("nolint", vec!["CI001 error package.json:1"]),
        ("root", vec!["DF005 error Dockerfile:3"]),
    ] {
        let c = repo(&dir, name);
        let m = repo(&mirrors, name);
        assert_eq!(c["kind"], "checkout");
        assert_eq!(c.get("ref"), None);
        assert_eq!(m["kind"], "mirror");
        assert_eq!(m["ref"], "HEAD");
        assert_eq!(m["source"], format!("m/{name}.git"));
        assert_eq!(findings(c), want, "{name}");
        assert_eq!(findings(m), want, "{name}");
        assert_eq!(c["commit"], m["commit"], "{name}");
    }
    assert_eq!(repo(&dir, "nolint")["findings"][0]["message"], NO_CI);
    assert_eq!(
        dir["summary"],
        serde_json::json!({"repositories": 4, "errored": 0, "passing": 1, "findings": 3, "mean_score": 7.5})
    );
    let sarifs: Vec<String> = std::fs::read_dir(f.path("mirrors/sarif"))
        .expect("sarif dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        sarifs,
        ["good.sarif", "latest.sarif", "nolint.sarif", "root.sarif"]
    );
}

#[test]
fn a_mirror_is_read_at_the_ref_given() {
    let f = Fleet::new();
    // main: fixed; tag v1 (annotated): runs as root; branch experiment: unpinned base image.
    let c = f.checkout("svc", &files(ROOT, true));
    let v1 = f.git(&c, &["rev-parse", "HEAD"]);
    f.git(&c, &["tag", "-a", "v1", "-m", "v1"]);
    f.git(&c, &["checkout", "-q", "-b", "experiment"]);
    let exp = f.commit(&c, &[("Dockerfile", LATEST)]);
    f.git(&c, &["checkout", "-q", "main"]);
    let main = f.commit(&c, &[("Dockerfile", PINNED)]);
    let m = f.mirror(&c, "svc.git");
    let m = m.to_str().expect("utf-8");
    assert_ne!(v1, main);

    let head = f.scorecard(&[m], "head", 0);
    let r = repo(&head, "svc");
    assert_eq!(r["ref"], "HEAD");
    assert_eq!(r["commit"], main.as_str());
    assert_eq!(verdicts(r), ["CI001=pass", "DF005=pass", "DF006=pass"]);

    let tag = f.scorecard(&[m, "--ref", "v1"], "tag", 1);
    let r = repo(&tag, "svc");
    assert_eq!(r["ref"], "v1");
    assert_eq!(r["commit"], v1.as_str());
    assert_eq!(verdicts(r), ["CI001=pass", "DF005=fail", "DF006=pass"]);
    assert_eq!(findings(r), ["DF005 error Dockerfile:3"]);

    let branch = f.scorecard(
        &[m, "--ref", "experiment", "--fail-on", "warning"],
        "branch",
        1,
    );
    let r = repo(&branch, "svc");
    assert_eq!(r["ref"], "experiment");
    assert_eq!(r["commit"], exp.as_str());
    assert_eq!(findings(r), ["DF006 warning Dockerfile:1"]);

    // A full commit id is a ref too.
    let by_id = f.scorecard(&[m, "--ref", &main], "by-id", 0);
    assert_eq!(repo(&by_id, "svc")["commit"], main.as_str());
}

#[test]
fn yaml_and_csv_manifests_give_names_teams_tags_urls_and_refs() {
    let f = Fleet::new();
    four(&f);
    // The mirror of root gets a fixed branch, read through the manifest's `ref`.
    let c = f.path("c/root");
    f.git(&c, &["checkout", "-q", "-b", "fixed"]);
    f.commit(&c, &[("Dockerfile", PINNED)]);
    f.git(
        &f.path("m/root.git"),
        &["fetch", "-q", c.to_str().expect("utf-8"), "fixed:fixed"],
    );
    std::fs::write(
        f.path("fleet.yaml"),
        "repositories:\n\
         - name: api\n  path: c/good\n  team: payments\n  tags: [node, tier1]\n  url: https://git.example/org/api\n\
         - path: m/root.git\n  ref: fixed\n  team: payments\n\
         - {name: web, path: m/latest.git, team: storefront, tags: [edge]}\n\
         - path: c/nolint\n",
    )
    .expect("write");
    std::fs::write(
        f.path("fleet.csv"),
        "name,path,ref,team,tags,url\n\
         api,c/good,,payments,node;tier1,https://git.example/org/api\n\
         ,m/root.git,fixed,payments,,\n\
         web,m/latest.git,,storefront,edge,\n\
         ,c/nolint,,,,\n",
    )
    .expect("write");
    let yaml = f.scorecard(&["--manifest", "fleet.yaml"], "yaml", 1);
    let csv = f.scorecard(&["--manifest", "fleet.csv"], "csv", 1);
    assert_eq!(names(&yaml), ["api", "nolint", "root", "web"]);
    let api = repo(&yaml, "api");
    assert_eq!(api["team"], "payments");
    assert_eq!(api["tags"], serde_json::json!(["node", "tier1"]));
    assert_eq!(api["url"], "https://git.example/org/api");
    let root = repo(&yaml, "root");
    assert_eq!(root["kind"], "mirror");
    assert_eq!(root["ref"], "fixed");
    assert_eq!(findings(root), Vec::<String>::new());
    assert_eq!(repo(&yaml, "web")["tags"], serde_json::json!(["edge"]));
    assert_eq!(repo(&yaml, "nolint").get("team"), None);
    assert_eq!(
        yaml["teams"],
        serde_json::json!([
            {"team": "payments", "repositories": 2, "errored": 0, "mean_score": 10.0, "pass_rate": 100.0, "findings": 0},
            {"team": "storefront", "repositories": 1, "errored": 0, "mean_score": 6.7, "pass_rate": 66.7, "findings": 1},
        ])
    );
    // Both manifests say the same; only the sources' spelling may differ.
    let strip = |mut v: Value| {
        for r in v["repositories"].as_array_mut().expect("repositories") {
            r.as_object_mut().expect("repo").remove("source");
        }
        without_run(v)
    };
    assert_eq!(strip(yaml), strip(csv.clone()));
    // The URL reaches the page's data, where findings link to it.
    let data = html_data(&f.read("csv", "scorecard.html"));
    assert_eq!(repo(&data, "api")["url"], "https://git.example/org/api");
    assert_eq!(without_run(data), without_run(csv));
    let md = f.read("yaml", "scorecard.md");
    assert!(
        md.contains(
            "| payments | 2 | 0 | 10.0 | 100.0% | 0 |\n| storefront | 1 | 0 | 6.7 | 66.7% | 1 |\n"
        ),
        "{md}"
    );
}

#[test]
fn a_checkout_and_its_mirror_give_the_same_rows() {
    let f = Fleet::new();
    four(&f);
    for name in ["good", "latest", "nolint", "root"] {
        let c = f.scorecard(
            &[&format!("c/{name}"), "--fail-on", "never"],
            &format!("c-{name}"),
            0,
        );
        let m = f.scorecard(
            &[&format!("m/{name}.git"), "--fail-on", "never"],
            &format!("m-{name}"),
            0,
        );
        assert_eq!(
            f.read(&format!("c-{name}"), "scorecard.csv"),
            f.read(&format!("m-{name}"), "scorecard.csv")
        );
        let (c, m) = (repo(&c, name), repo(&m, name));
        assert_eq!(m["name"], name);
        for k in ["rules", "findings", "score", "status", "commit"] {
            assert_eq!(c[k], m[k], "{name} {k}");
        }
    }
}

#[test]
fn a_repository_that_cannot_be_read_is_an_error_row_and_exit_two() {
    let f = Fleet::new();
    four(&f);
    std::fs::create_dir_all(f.path("plain")).expect("mkdir");
    std::fs::write(f.path("plain/Dockerfile"), ROOT).expect("write");
    std::fs::write(
        f.path("fleet.yaml"),
        "- path: c/good\n- path: gone\n- {path: m/root.git, ref: nope}\n- path: plain\n",
    )
    .expect("write");
    let (code, err) = f.run(&["--manifest", "fleet.yaml", "--out", "out"]);
    assert_eq!(code, 2, "{err}");
    let s = json(&f.path("out/scorecard.json"));
    assert_eq!(names(&s), ["gone", "good", "plain", "root"]);
    assert_eq!(repo(&s, "good")["status"], "ok");
    assert_eq!(repo(&s, "good")["score"], 10.0);
    // Paths in a manifest are relative to its directory (here the working directory).
    for (name, why) in [
        ("gone", "gone: no such directory"),
        (
            "plain",
            "plain is neither a git checkout nor a bare repository",
        ),
    ] {
        let r = repo(&s, name);
        assert_eq!(r["status"], "error");
        assert_eq!(r["error"], why);
        assert_eq!(r.get("score"), None);
        assert_eq!(verdicts(r), ["CI001=error", "DF005=error", "DF006=error"]);
        assert!(err.contains(&format!("error: {name}: {why}\n")), "{err}");
    }
    let root = repo(&s, "root");
    assert_eq!(root["status"], "error");
    let why = root["error"].as_str().expect("error");
    assert!(why.starts_with("cannot read m/root.git: "), "{why}");
    assert!(
        why.contains("cannot resolve nope: no such branch, tag or commit"),
        "{why}"
    );
    assert_eq!(
        s["summary"],
        serde_json::json!({"repositories": 4, "errored": 3, "passing": 1, "findings": 0, "mean_score": 10.0})
    );
    let md = f.read("out", "scorecard.md");
    assert!(md.contains("| gone |  | error |  | 0 |\n"), "{md}");
    assert!(
        md.contains("## Could not be checked\n\n- **gone**: gone: no such directory\n"),
        "{md}"
    );
    assert!(!f.path("out/sarif/gone.sarif").exists());
    assert!(f.path("out/sarif/good.sarif").exists());
    // --fail-on never does not hide errors.
    let (code, _) = f.run(&[
        "--manifest",
        "fleet.yaml",
        "--out",
        "out2",
        "--fail-on",
        "never",
    ]);
    assert_eq!(code, 2);
    // Rules left out by --select are skipped in an error row, as in the others.
    let s = f.scorecard(&["c/good", "gone", "--select", "DF005"], "select", 2);
    assert_eq!(
        verdicts(repo(&s, "gone")),
        ["CI001=skipped", "DF005=error", "DF006=skipped"]
    );
    assert_eq!(
        verdicts(repo(&s, "good")),
        ["CI001=skipped", "DF005=pass", "DF006=skipped"]
    );
    let errored: Vec<&Value> = s["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| &r["errored"])
        .collect();
    assert_eq!(errored, [0, 1, 0]);
    // A bad --ref for a whole directory of mirrors: every row errors, nothing is lost.
    let s = f.scorecard(&["m", "--ref", "no-such-branch"], "bad-ref", 2);
    assert_eq!(s["summary"]["errored"], 4);
}

#[test]
fn exit_status_follows_fail_on() {
    let f = Fleet::new();
    four(&f);
    for (args, code) in [
        (vec!["c/good"], 0),
        (vec!["c/root"], 1),
        (vec!["c/nolint"], 1),
        (vec!["c"], 1),
        (vec!["c", "--fail-on", "never"], 0),
        // DF006 is a warning: it fails only from `warning` down.
        (vec!["c/latest"], 0),
        (vec!["c/latest", "--fail-on", "error"], 0),
        (vec!["c/latest", "--fail-on", "warning"], 1),
        (vec!["c/latest", "--fail-on", "note"], 1),
        (vec!["c/good", "--fail-on", "note"], 0),
    ] {
        let mut all = args.clone();
        all.extend(["--out", "out"]);
        let (got, err) = f.run(&all);
        assert_eq!(got, code, "{args:?}: {err}");
    }
    // The same repository given twice is checked once.
    let twice = f.scorecard(&["c", "c/good"], "twice", 1);
    assert_eq!(twice["summary"]["repositories"], 4);
    // Usage errors: two repositories with one name among them.
    f.checkout("d/good", &files(PINNED, true));
    for args in [
        vec!["--out", "out"],
        vec!["c", "--out", "out", "--shard", "5/4"],
        vec!["c", "d/good", "--out", "out"],
    ] {
        let (got, err) = f.run(&args);
        assert_eq!(got, 2, "{args:?}: {err}");
    }
    let (_, err) = f.run(&["c", "d/good", "--out", "out"]);
    assert!(
        err.contains("more than one repository is named good"),
        "{err}"
    );
    // Names that differ only where a SARIF file name cannot would overwrite each other's file.
    std::fs::write(
        f.path("clash.yaml"),
        "- {name: pay/api, path: c/good}\n- {name: pay-api, path: c/root}\n",
    )
    .expect("write");
    let (code, err) = f.run(&["--manifest", "clash.yaml", "--out", "clash"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pay/api, pay-api → sarif/pay-api.sarif"),
        "{err}"
    );
    assert!(!f.path("clash").exists());
}

/// Ten repositories (half of them mirrors) in `fleet.csv`, with teams, tags and URLs.
fn ten(f: &Fleet) {
    let mut manifest = String::from("name,path,team,tags,url\n");
    for (i, name) in [
        "api",
        "billing",
        "cart",
        "checkout",
        "docs",
        "edge",
        "fraud",
        "gateway",
        "inventory",
        "ledger",
    ]
    .iter()
    .enumerate()
    {
        let (docker, ci) = match i % 4 {
            0 => (PINNED, true),
            1 => (ROOT, true),
            2 => (LATEST, i % 3 == 0),
            _ => (PINNED, false),
        };
        let c = f.checkout(&format!("c/{name}"), &files(docker, ci));
        let path = if i % 2 == 0 {
            f.mirror(&c, &format!("m/{name}.git"));
            format!("m/{name}.git")
        } else {
            format!("c/{name}")
        };
        let team = ["payments", "storefront", "platform"][i % 3];
        manifest.push_str(&format!(
            "{name},{path},{team},tier{} node,https://git.example/org/{name}\n",
            i % 2 + 1
        ));
    }
    std::fs::write(f.path("fleet.csv"), manifest).expect("write");
}

#[test]
fn compare_reports_what_improved_and_what_regressed() {
    let f = Fleet::new();
    four(&f);
    let old = f.scorecard(&["c"], "old", 1);
    // root: DF005 fixed, DF006 broken.
    f.commit(
        &f.path("c/root"),
        &[("Dockerfile", "FROM node\nUSER node\n")],
    );
    let new = f.scorecard(&["c", "--compare", "old/scorecard.json"], "new", 1);
    let started = old["run"]["started"].as_str().expect("started");
    assert_eq!(
        new["compare"],
        serde_json::json!({
            "against": started,
            "added": [],
            "removed": [],
            "repositories": [
                {"name": "root", "old_score": 6.7, "new_score": 6.7, "improved": ["DF005"], "regressed": ["DF006"]}
            ],
            "rules": [
                {"id": "DF005", "old_pass_rate": 75.0, "new_pass_rate": 100.0, "improved": 1, "regressed": 0},
                {"id": "DF006", "old_pass_rate": 75.0, "new_pass_rate": 50.0, "improved": 0, "regressed": 1}
            ],
            "improved": 1,
            "regressed": 1
        })
    );
    let md = f.read("new", "scorecard.md");
    let want = format!(
        "## Since {started}\n\n1 checks improved, 1 regressed; 0 repositories added, 0 removed.\n\n\
         | repository | score | improved | regressed |\n|---|---|---|---|\n| root | 6.7 → 6.7 | DF005 | DF006 |\n\n\
         | rule | pass rate | improved | regressed |\n|---|---|---|---|\n\
         | DF005 | 75.0% → 100.0% | 1 | 0 |\n| DF006 | 75.0% → 50.0% | 0 | 1 |\n"
    );
    assert!(md.contains(&want), "{md}");
    assert!(!f.read("old", "scorecard.md").contains("## Since"));
    // The CSV gains a `change` column with a comparison, and only then.
    let csv = f.read("new", "scorecard.csv");
    assert!(
        csv.starts_with("repository,rule,verdict,findings,change\n"),
        "{csv}"
    );
    assert!(csv.contains("\nroot,DF005,pass,0,improved\n"), "{csv}");
    assert!(csv.contains("\nroot,DF006,fail,1,regressed\n"), "{csv}");
    assert!(csv.contains("\nroot,CI001,pass,0,\n"), "{csv}");
    assert!(
        f.read("old", "scorecard.csv")
            .starts_with("repository,rule,verdict,findings\n")
    );
    let data = html_data(&f.read("new", "scorecard.html"));
    assert_eq!(data["compare"], new["compare"]);
    // SARIF results carry their baseline state: only root's DF006 finding is new.
    let states = |out: &str| {
        let mut states = Vec::new();
        for name in ["good", "latest", "nolint", "root"] {
            let doc = json(&f.path(out).join(format!("sarif/{name}.sarif")));
            crate::sarif::validate(&doc);
            for r in doc["runs"][0]["results"].as_array().expect("results") {
                states.push(format!(
                    "{name} {} {}",
                    r["ruleId"].as_str().expect("rule"),
                    r["baselineState"].as_str().unwrap_or("-")
                ));
            }
        }
        states
    };
    assert_eq!(
        states("new"),
        [
            "latest DF006 unchanged",
            "nolint CI001 unchanged",
            "root DF006 new"
        ]
    );
    assert_eq!(
        states("old"),
        ["latest DF006 -", "nolint CI001 -", "root DF005 -"]
    );
    // `fleet merge --compare` marks the SARIF files it gathers (here from a run without
    // `--compare`) the same way.
    f.scorecard(&["c"], "plain", 1);
    assert_eq!(states("plain")[2], "root DF006 -");
    let (code, err) = f.run(&[
        "merge",
        "plain",
        "--out",
        "merged",
        "--compare",
        "old/scorecard.json",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(states("merged"), states("new"));
    // A removed repository and an added one.
    std::fs::rename(f.path("c/nolint"), f.path("c/renamed")).expect("rename");
    let moved = f.scorecard(&["c", "--compare", "new/scorecard.json"], "moved", 1);
    assert_eq!(moved["compare"]["added"], serde_json::json!(["renamed"]));
    assert_eq!(moved["compare"]["removed"], serde_json::json!(["nolint"]));
    assert!(
        f.read("moved", "scorecard.csv")
            .contains("\nrenamed,DF005,pass,0,new\n")
    );
    // A compare file that is no scorecard is a usage error.
    let (code, _) = f.run(&["c", "--out", "bad", "--compare", "c/good/package.json"]);
    assert_eq!(code, 2);
    if let Some(b) = page::browser() {
        let dom = page::dump_dom(&b, &f.path("new/scorecard.html"), "");
        let section = page::between(&dom, r#"<section id="compare-section""#, "</section>");
        assert!(!section.starts_with(" hidden"), "{section}");
        assert!(
            section.contains("<b>1</b> checks improved, <b>1</b> regressed"),
            "{section}"
        );
        assert!(
            section.contains(r#"<tr><td>root</td><td>6.7 → 6.7</td><td>DF005</td><td class="lvl-error">DF006</td></tr>"#),
            "{section}"
        );
    }
}

#[test]
fn outputs_match_snapshots_and_sarif_validates() {
    let f = Fleet::new();
    four(&f);
    std::fs::write(
        f.path("fleet.yaml"),
        "- {path: c/good, team: payments, url: https://git.example/org/good}\n\
         - {path: m/root.git, team: payments, tags: [tier1]}\n\
         - {path: c/latest, team: storefront}\n\
         - {path: c/nolint}\n",
    )
    .expect("write");
    let s = f.scorecard(&["--manifest", "fleet.yaml"], "out", 1);
    insta::assert_json_snapshot!("fleet_scorecard_json", s, {
        ".run" => "[run]",
        ".repositories[].source" => "[source]",
    });
    insta::assert_snapshot!("fleet_scorecard_md", f.read("out", "scorecard.md"));
    insta::assert_snapshot!("fleet_scorecard_csv", f.read("out", "scorecard.csv"));
    for name in ["good", "latest", "nolint", "root"] {
        let doc = json(&f.path(&format!("out/sarif/{name}.sarif")));
        crate::sarif::validate(&doc);
        let runs = doc["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1);
        assert_eq!(
            runs[0]["automationDetails"]["id"],
            format!("shipshape-fleet/{name}/")
        );
        let results: Vec<String> = runs[0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                let loc = &r["locations"][0]["physicalLocation"];
                format!(
                    "{} {}:{}",
                    r["ruleId"].as_str().expect("ruleId"),
                    loc["artifactLocation"]["uri"].as_str().expect("uri"),
                    loc["region"]["startLine"]
                )
            })
            .collect();
        let want: Vec<String> = findings(repo(&s, name))
            .iter()
            .map(|x| {
                let mut p = x.split(' ');
                format!("{} {}", p.next().unwrap_or(""), p.nth(1).unwrap_or(""))
            })
            .collect();
        assert_eq!(results, want, "{name}");
    }
    // The mirror's SARIF names the files of the repository, not of the directory it is in.
    let root = json(&f.path("out/sarif/root.sarif"));
    assert_eq!(
        root["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "Dockerfile"
    );
}
