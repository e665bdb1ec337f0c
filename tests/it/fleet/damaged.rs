//! A bare mirror whose object database is damaged (an object missing or corrupt): an error
//! row that keeps what could be read, and exit status 2, while the other repositories are
//! checked as usual.

use super::{Fleet, PINNED, ROOT, files, repo, verdicts};

#[test]
fn a_missing_or_corrupt_object_makes_the_row_an_error() {
    let f = Fleet::new();
    for (name, docker) in [("gone", ROOT), ("bad", ROOT), ("fine", PINNED)] {
        let c = f.checkout(&format!("c/{name}"), &files(docker, true));
        f.mirror(&c, &format!("m/{name}.git"));
    }
    // Local clones keep loose objects: remove one blob, garble another.
    let object = |repo: &str, path: &str| {
        let id = f.git(&f.path(repo), &["rev-parse", &format!("HEAD:{path}")]);
        f.path(repo)
            .join(format!("objects/{}/{}", &id[..2], &id[2..]))
    };
    std::fs::remove_file(object("m/gone.git", "package.json")).expect("remove");
    let garbled = object("m/bad.git", "Dockerfile");
    // Loose objects are read-only; the owner may write the file again.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&garbled, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::write(&garbled, "not a zlib stream").expect("write");
    let s = f.scorecard(&["m"], "out", 2);
    for name in ["gone", "bad"] {
        let r = repo(&s, name);
        assert_eq!(r["status"], "error", "{name}");
        let why = r["error"].as_str().expect("error");
        assert!(
            why.starts_with("the repository is damaged: 1 object(s) could not be read (object "),
            "{why}"
        );
        assert_eq!(
            verdicts(r),
            ["CI001=error", "DF005=error", "DF006=error"],
            "{name}"
        );
    }
    // What could be read is kept: `gone` still has its DF005 finding.
    let gone = repo(&s, "gone");
    assert!(
        gone["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|x| x["rule"] == "DF005"),
        "{gone}"
    );
    assert_eq!(gone["rules"]["DF005"]["findings"], 1);
    assert_eq!(repo(&s, "fine")["status"], "ok");
    assert_eq!(
        verdicts(repo(&s, "fine")),
        ["CI001=pass", "DF005=pass", "DF006=pass"]
    );
}
