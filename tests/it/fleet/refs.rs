//! Sources given more than once, and a checkout read at a ref its manifest entry names.

use super::{Fleet, PINNED, ROOT, files, names, repo, verdicts};

#[test]
fn a_checkout_with_a_ref_in_the_manifest_is_read_at_that_ref() {
    let f = Fleet::new();
    let c = f.checkout("c/svc", &files(ROOT, true));
    let old = f.git(&c, &["rev-parse", "HEAD"]);
    f.commit(&c, &[("Dockerfile", PINNED)]);
    // The work tree as it is on disk holds the fix; the first commit does not.
    std::fs::write(
        f.path("fleet.yaml"),
        format!("- {{name: now, path: c/svc}}\n- {{name: then, path: c/svc, ref: {old}}}\n"),
    )
    .expect("write");
    let s = f.scorecard(&["--manifest", "fleet.yaml"], "out", 1);
    let now = repo(&s, "now");
    assert_eq!(now["kind"], "checkout");
    assert!(now.get("ref").is_none());
    assert_eq!(verdicts(now), ["CI001=pass", "DF005=pass", "DF006=pass"]);
    let then = repo(&s, "then");
    assert_eq!(then["ref"], old.as_str());
    assert_eq!(then["commit"], old.as_str());
    assert_eq!(verdicts(then), ["CI001=pass", "DF005=fail", "DF006=pass"]);
}

#[test]
fn the_same_repository_given_twice_is_checked_once() {
    let f = Fleet::new();
    f.checkout("c/svc", &files(PINNED, true));
    std::fs::write(f.path("fleet.yaml"), "- path: c/svc\n").expect("write");
    let s = f.scorecard(&["c/svc", "./c/svc/", "--manifest", "fleet.yaml"], "out", 0);
    assert_eq!(names(&s), ["svc"]);
}
