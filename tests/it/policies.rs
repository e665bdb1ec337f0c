//! Runs every policy's inline test cases and checks the meta-rules every policy must meet
//! (documentation present, at least one failing and one passing case).

use shipshape::policy::parse_expectation;

use crate::support::builtin;

#[test]
fn every_inline_case_produces_exactly_its_findings() {
    let set = builtin();
    let results = shipshape::policy_cases::run_cases(&set, None);
    assert!(results.len() > 100, "{} cases", results.len());
    let failures: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| {
            format!(
                "{} / {}: missing {:?}, unexpected {:?}, errors {:?}",
                r.policy, r.case, r.missing, r.unexpected, r.errors
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

#[test]
fn every_policy_is_documented_and_has_failing_and_passing_cases() {
    let set = builtin();
    for p in &set.policies {
        let d = &p.meta.docs;
        for (name, text) in [
            ("what", &d.what),
            ("why", &d.why),
            ("fix", &d.fix),
            ("failing", &d.failing),
            ("passing", &d.passing),
        ] {
            assert!(
                !text.trim().is_empty(),
                "{}: docs.{name} is empty",
                p.meta.id
            );
        }
        assert!(
            p.tests.iter().any(|t| !t.expect.is_empty()),
            "{}: no failing case",
            p.meta.id
        );
        assert!(
            p.tests.iter().any(|t| t.expect.is_empty()),
            "{}: no passing case",
            p.meta.id
        );
        for t in &p.tests {
            for e in &t.expect {
                let (rule, _, _) = parse_expectation(e).expect("validated");
                assert_eq!(
                    rule, p.meta.id,
                    "{}: case {:?} expects another rule",
                    p.meta.id, t.name
                );
            }
        }
    }
}

#[test]
fn the_catalog_rules_of_this_family_exist() {
    let set = builtin();
    let ids: Vec<&str> = set.policies.iter().map(|p| p.meta.id.as_str()).collect();
    for id in [
        "DF001", "DF002", "DF003", "DF004", "DF005", "DF006", "DF007", "SS001",
    ] {
        assert!(ids.contains(&id), "missing built-in policy {id}");
    }
}

#[test]
fn the_rule_reference_is_in_sync_with_the_policies() {
    let set = builtin();
    let want = set.catalog_markdown();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
            std::fs::write(&path, &want).expect("write docs/rules.md");
        } else {
            panic!(
                "docs/rules.md is out of date: run `SHIPSHAPE_BLESS=1 cargo test` to regenerate it"
            );
        }
    }
    for p in &set.policies {
        assert!(
            want.contains(&format!(
                "<a id=\"{}\"></a>",
                p.meta.id.to_ascii_lowercase()
            )),
            "anchor for {}",
            p.meta.id
        );
    }
}

#[test]
fn gitlab_findings_speak_gitlab_terms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: std::collections::BTreeMap<String, String> = [(
        ".gitlab-ci.yml".to_string(),
        "build:\n  script:\n    - docker push $CI_REGISTRY_IMAGE:latest\n    - npm run lint || true\n\
         deploy-staging:\n  script: ./deploy.sh\n  environment: staging\n  when: manual\n\
         deploy-production:\n  script: ./deploy.sh\n  environment: production\n"
            .to_string(),
    )]
    .into_iter()
    .collect();
    crate::support::write_tree(dir.path(), &files);
    let report = crate::support::check(dir.path());
    let ci_cd: Vec<&shipshape::finding::Finding> = report
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("CI") || f.rule.starts_with("CD"))
        .collect();
    assert!(!ci_cd.is_empty());
    // The help under each finding is the rule's GitLab fix.
    let set = builtin();
    let metas = set.metas();
    let ctx = shipshape::report::Context::new(&metas, shipshape::VERSION);
    let human = shipshape::report::human::render(std::slice::from_ref(&report), &ctx);
    assert!(human.contains("when: manual"), "{human}");
    for github in [
        "workflow_dispatch",
        "pull_request",
        "continue-on-error",
        "github.sha",
    ] {
        assert!(
            !human.contains(github),
            "GitHub term `{github}` on GitLab:\n{human}"
        );
    }
    for f in ci_cd {
        for github in [
            "workflow_dispatch",
            "continue-on-error",
            "github.sha",
            "push to main",
        ] {
            assert!(
                !f.message.contains(github),
                "{} speaks GitHub on GitLab: {}",
                f.rule,
                f.message
            );
        }
    }
}

/// `docs/model.schema.json` and `docs/model.md` are generated from the model's types
/// (regenerate with `SHIPSHAPE_BLESS=1 cargo test`), and the schema describes the model of
/// every example.
#[test]
fn the_model_schema_and_reference_are_in_sync_with_the_model() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = shipshape::model::schema::json_schema();
    let generated = [
        (
            "docs/model.schema.json",
            format!("{}\n", serde_json::to_string_pretty(&schema).expect("json")),
        ),
        ("docs/model.md", shipshape::model::schema::markdown()),
    ];
    for (file, want) in &generated {
        let path = dir.join(file);
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != *want {
            if std::env::var_os("SHIPSHAPE_BLESS").is_some() {
                std::fs::write(&path, want).expect("write");
            } else {
                panic!(
                    "{file} is out of date: run `SHIPSHAPE_BLESS=1 cargo test` to regenerate it"
                );
            }
        }
    }
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let envs = shipshape::facts::ci::Environments::default();
    for name in ["compliant-store", "gitlab-store", "legacy-store"] {
        let root = crate::support::examples().join(name);
        let loaded = shipshape::load_root(&root, name, &envs, &Default::default()).expect("loads");
        let model = serde_json::to_value(&loaded.repo).expect("json");
        let errors: Vec<String> = validator
            .iter_errors(&model)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
    // Map fields are shown as maps, model types as links.
    let md = &generated[1].1;
    assert!(
        md.contains("| `scripts` | map of string to string |"),
        "{md}"
    );
    assert!(
        md.contains("| `stages` | list of [`Stage`](#stage) |"),
        "{md}"
    );
    assert!(
        md.contains("| `user` | [`User`](#user), *optional* |"),
        "{md}"
    );
}

/// A policy directory's fragments (`include/<name>.yaml`) share `let` entries between its
/// policies; the built-in `ci_runs` fragment is available to every policy; an unknown
/// fragment or a name defined twice is an error at load time.
#[test]
fn policies_share_let_entries_through_fragments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = |id: &str, include: &str, lets: &str, require: &str| {
        format!(
            "id: {id}\ntitle: t\nseverity: warning\ninclude: [{include}]\ndocs:\n  what: w\n  why: y\n  fix: f\n\
             let:\n{lets}require: '{require}'\nmessage: m\n"
        )
    };
    let write = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    };
    write(
        "include/shared.yaml",
        "doc: d\nlet:\n  many: wanted.size() > 1\n",
    );
    write(
        "X1.yaml",
        &policy("X1", "shared", "  wanted: repo.dockerfiles\n", "!many"),
    );
    write(
        "X2.yaml",
        &policy(
            "X2",
            "ci_runs",
            "  candidates: repo.ci.runs\n",
            "has_ci || unanalysed_gating",
        ),
    );
    let set = shipshape::policy::PolicySet::load(false, &[dir.path().to_path_buf()])
        .unwrap_or_else(|e| panic!("{:?}", miette::Report::new(*e)));
    assert_eq!(set.policies.len(), 2);
    // X1 uses the fragment's `many` over its own `wanted`: two Dockerfiles fail it.
    let repo = tempfile::tempdir().expect("tempdir");
    for d in ["a", "b"] {
        let p = repo.path().join(d);
        std::fs::create_dir_all(&p).expect("mkdir");
        std::fs::write(p.join("Dockerfile"), "FROM node:20\n").expect("write");
    }
    let report = shipshape::check_root(repo.path(), "r", &set, &shipshape::Settings::default())
        .expect("checks");
    let rules: Vec<&str> = report.findings.iter().map(|f| f.rule.as_str()).collect();
    assert!(rules.contains(&"X1"), "{rules:?}");
    assert!(rules.contains(&"X2"), "{rules:?}");

    // An unknown fragment, and a name both the policy and its fragment define.
    for (text, want) in [
        (policy("X3", "nothing", "  a: 1\n", "true"), "no fragment"),
        (
            policy("X3", "shared", "  many: 1\n", "true"),
            "defined twice",
        ),
    ] {
        write("X3.yaml", &text);
        let err = shipshape::policy::PolicySet::load(false, &[dir.path().to_path_buf()])
            .err()
            .map(|e| format!("{:?}", miette::Report::new(*e)))
            .unwrap_or_default();
        assert!(err.contains(want), "{err}");
    }
}
