//! Configuration in a fleet: each repository's own `shipshape.yaml` (read from the tree of a
//! bare mirror too), `--config` applying one organisation configuration to every repository
//! in place of their own, and a mirror's configuration that names files outside its objects.

use super::{Fleet, PINNED, ROOT, files, repo, verdicts};

#[test]
fn each_repository_has_its_own_configuration_unless_one_is_given_for_all() {
    let f = Fleet::new();
    let mut own_files = files(ROOT, true);
    own_files.push(("shipshape.yaml", "rules:\n  DF005: {enabled: false}\n"));
    let own = f.checkout("c/own", &own_files);
    f.mirror(&own, "m/own.git");
    let plain = f.checkout("c/plain", &files(ROOT, true));
    f.mirror(&plain, "m/plain.git");
    for source in ["c", "m"] {
        let s = f.scorecard(&[source], &format!("{source}-own"), 1);
        // The repository's own configuration turns DF005 off there, and only there: read
        // from the work tree of a checkout and from the tree of a mirror alike.
        assert_eq!(
            verdicts(repo(&s, "own")),
            ["CI001=pass", "DF005=skipped", "DF006=pass"],
            "{source}"
        );
        assert_eq!(
            verdicts(repo(&s, "plain")),
            ["CI001=pass", "DF005=fail", "DF006=pass"],
            "{source}"
        );
    }
    // One configuration for all replaces each repository's own.
    std::fs::write(f.path("org.yaml"), "rules:\n  DF006: {enabled: false}\n").expect("write");
    for source in ["c", "m"] {
        let s = f.scorecard(
            &[source, "--config", "org.yaml"],
            &format!("{source}-org"),
            1,
        );
        for name in ["own", "plain"] {
            assert_eq!(
                verdicts(repo(&s, name)),
                ["CI001=pass", "DF005=fail", "DF006=skipped"],
                "{source} {name}"
            );
        }
    }
    // A broken configuration for all stops the run before anything is checked.
    std::fs::write(f.path("bad.yaml"), "rules: [\n").expect("write");
    let (code, err) = f.run(&["c", "--config", "bad.yaml", "--out", "bad"]);
    assert_eq!(code, 2, "{err}");
    assert!(!f.path("bad/scorecard.json").exists());
}

#[test]
fn a_mirror_configuration_may_not_name_files_outside_its_objects() {
    let f = Fleet::new();
    let mut ext = files(PINNED, true);
    ext.push(("shipshape.yaml", "extends: ../org.yaml\n"));
    let checkout = f.checkout("c/ext", &ext);
    f.mirror(&checkout, "m/ext.git");
    let ok = f.checkout("c/ok", &files(PINNED, true));
    f.mirror(&ok, "m/ok.git");
    let s = f.scorecard(&["m"], "out", 2);
    let r = repo(&s, "ext");
    assert_eq!(r["status"], "error");
    let why = r["error"].as_str().expect("error");
    assert_eq!(
        why,
        "m/ext.git/shipshape.yaml: `extends` is not followed in a configuration read from a git repository's objects; give the configuration with --config"
    );
    assert_eq!(verdicts(r), ["CI001=error", "DF005=error", "DF006=error"]);
    assert_eq!(repo(&s, "ok")["status"], "ok");
}
