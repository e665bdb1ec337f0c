//! `--shard I/N` and `fleet merge`: the shards' outputs merged are the unsharded run's, byte
//! for byte but for the run metadata, including with N = 1 and with an empty shard.

use std::path::{Path, PathBuf};

use super::*;

#[test]
fn shards_merged_equal_the_unsharded_run() {
    let f = Fleet::new();
    ten(&f);
    let all = f.scorecard(&["--manifest", "fleet.csv"], "all", 1);
    assert_eq!(all["summary"]["repositories"], 10);
    let mut shards = Vec::new();
    let mut seen = 0;
    for i in 1..=4 {
        let out = format!("shard{i}");
        let (code, err) = f.run(&[
            "--manifest",
            "fleet.csv",
            "--shard",
            &format!("{i}/4"),
            "--out",
            &out,
        ]);
        let s = json(&f.path(&out).join("scorecard.json"));
        // A shard exits 1 when one of its repositories has an error-level finding.
        let failing = s["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .flat_map(|r| r["findings"].as_array().expect("findings"))
            .any(|x| x["level"] == "error");
        assert_eq!(code, i32::from(failing), "{err}");
        assert_eq!(s["run"]["shard"], format!("{i}/4"));
        let n = names(&s).len();
        assert!(n > 0, "shard {i}/4 is empty");
        seen += n;
        shards.push(out);
    }
    assert_eq!(seen, 10);
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    args.extend(["--out", "merged"]);
    let (code, err) = f.run(&args);
    assert_eq!(code, 1, "{err}");
    assert_same(&f, "all", "merged");
    assert_eq!(json(&f.path("merged/scorecard.json"))["run"]["merged"], 4);

    // N = 1 is the whole fleet.
    let one = f.scorecard(&["--manifest", "fleet.csv", "--shard", "1/1"], "one", 1);
    assert_eq!(one["run"]["shard"], "1/1");
    assert_same(&f, "all", "one");
}

/// Two output directories hold the same scorecard (but for `run`), byte-identical CSV,
/// Markdown and SARIF files.
fn assert_same(f: &Fleet, a: &str, b: &str) {
    assert_eq!(
        without_run(json(&f.path(a).join("scorecard.json"))),
        without_run(json(&f.path(b).join("scorecard.json")))
    );
    for file in ["scorecard.csv", "scorecard.md"] {
        assert_eq!(f.read(a, file), f.read(b, file), "{file}");
    }
    let list = |d: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(f.path(d).join("sarif"))
            .expect("sarif dir")
            .map(|e| PathBuf::from(e.expect("entry").file_name()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(list(a), list(b));
    for s in list(a) {
        let file = Path::new("sarif").join(&s);
        let file = file.to_str().expect("utf-8");
        assert_eq!(f.read(a, file), f.read(b, file), "{file}");
    }
}

#[test]
fn an_empty_shard_is_an_empty_scorecard_and_merges() {
    let f = Fleet::new();
    f.checkout("c/api", &files(ROOT, true));
    let all = f.scorecard(&["c/api"], "all", 1);
    assert_eq!(names(&all), ["api"]);
    let mut empty = None;
    for i in 1..=2 {
        let out = format!("s{i}");
        let (code, err) = f.run(&["c/api", "--shard", &format!("{i}/2"), "--out", &out]);
        let s = json(&f.path(&out).join("scorecard.json"));
        if names(&s).is_empty() {
            assert_eq!(code, 0, "{err}");
            assert_eq!(
                s["summary"],
                serde_json::json!({"repositories": 0, "errored": 0, "passing": 0, "findings": 0, "mean_score": 0.0})
            );
            assert_eq!(
                f.read(&out, "scorecard.csv"),
                "repository,rule,verdict,findings\n"
            );
            empty = Some(i);
        } else {
            assert_eq!(code, 1, "{err}");
        }
    }
    assert!(
        empty.is_some(),
        "one of two shards of one repository is empty"
    );
    let (code, err) = f.run(&["merge", "s1", "s2", "--out", "merged"]);
    assert_eq!(code, 1, "{err}");
    assert_same(&f, "all", "merged");
    // Merging the same shard twice is refused.
    let (code, err) = f.run(&["merge", "all", "all", "--out", "twice"]);
    assert_eq!(code, 2);
    assert!(err.contains("api occur in more than one shard"), "{err}");
}
