//! GitLab CI loader: `.gitlab-ci.yml` and the local files it includes become one pipeline of
//! the neutral CI model.
//!
//! What GitLab itself does before it runs a pipeline is reproduced here, in its order:
//!
//! 1. **includes**: local includes (a string, a list, `local:` entries, wildcards; paths are
//!    relative to the repository root) are read and followed, nested ones too; the included
//!    files' top-level keys are deep-merged into one configuration, later files winning and
//!    the including file winning over what it includes. Missing or unparseable files and
//!    include cycles become [`LoadError`]s; remote, project, template and component includes
//!    are recorded as [`External`]s and never fetched.
//! 2. **`extends:`** (a name or a list, several levels, across files): mappings are merged
//!    recursively, everything else (arrays included) is replaced by the child's value.
//! 3. **`!reference [job, key, ...]`** tags are replaced by the referenced value (after that
//!    job's `extends`); a reference inside a sequence that yields a sequence is spliced in.
//! 4. **`default:`** and the legacy global `image`/`services`/`cache`/`before_script`/
//!    `after_script` apply to jobs that lack them (honouring `inherit:`).
//!
//! Pipelines are then modelled as the sources that can start them (a push to the default
//! branch, a push to another branch, a merge request, a tag, and `schedule`/`web`/`api` when
//! some rule mentions them). `workflow: rules`, job `rules:` and `only:`/`except:` are
//! evaluated per source with three-valued logic over the predefined variables that the
//! source fixes (`$CI_PIPELINE_SOURCE`, `$CI_COMMIT_BRANCH`, `$CI_COMMIT_TAG`, ...); what
//! cannot be decided is unknown, and an unknown condition lets the source reach the job.
//!
//! Every script line (`before_script` then `script`) is one step whose commands are parsed
//! at their own file lines, in the file that defines the line. Nothing here panics on any
//! input: recursion is depth-limited, and the work done by `extends`/`!reference` expansion is
//! budgeted.

use std::collections::HashMap;

use crate::load::yaml::YamlFailure;
use crate::load::ytree;
use crate::load::{LoadError, Root};
use crate::model::ci::{External, Job, Pipeline};

mod extends;
mod includes;
mod jobs;
mod rules;
mod steps;
mod tree;

use includes::Loader;
use jobs::build;

/// Most local files included, as GitLab limits them.
const MAX_INCLUDES: usize = 150;
/// Deepest chain of nested includes followed.
const MAX_INCLUDE_DEPTH: usize = 100;
/// Deepest chain of `extends:` followed (GitLab allows 11 levels).
const MAX_EXTENDS_DEPTH: usize = 11;
/// Deepest chain of `!reference` tags followed (GitLab allows 10 levels).
const MAX_REFERENCE_DEPTH: usize = 10;
/// Deepest YAML nesting kept; anything deeper is read as null.
const MAX_TREE_DEPTH: usize = 128;
/// Most tree nodes copied while expanding `extends:` and `!reference`.
const WORK_BUDGET: usize = 2_000_000;
/// Most directory entries visited when expanding one wildcard include.
const MAX_GLOB_ENTRIES: usize = 20_000;
/// Deepest directory level visited when expanding one wildcard include.
const MAX_GLOB_DEPTH: usize = 32;

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
];

/// Keys that `default:` gives to jobs that lack them.
const DEFAULT_KEYS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "hooks",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];

/// Legacy global keys that act like their `default:` counterparts.
const LEGACY_GLOBALS: &[&str] = &[
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// Result of loading a GitLab CI configuration.
#[derive(Debug, Clone)]
pub struct GitlabCi {
    /// The pipeline: `.gitlab-ci.yml` with everything it includes.
    pub pipeline: Pipeline,
    /// Its jobs: `.gitlab-ci.yml`'s in file order, then those of its local includes in
    /// include order. Each keeps the path and key position of the file that defines it.
    pub jobs: Vec<Job>,
    /// Remote, project, template and component includes (kind `include`), not followed.
    pub external: Vec<External>,
    /// Included local files that are missing, unreadable or invalid (at the position of the
    /// problem), and include cycles (at the include).
    pub errors: Vec<LoadError>,
    /// Notes at includes of files that do not parse (the file's own error is in `errors`,
    /// once however many includes match it), and templated includes that are not YAML.
    pub notes: Vec<LoadError>,
    /// `(relative path, text)` of every local file read, `.gitlab-ci.yml` first.
    pub sources: Vec<(String, String)>,
}

/// Loads `.gitlab-ci.yml` (`rel`, text `text`) of the repository at `root`, following its
/// local includes. Fails only when `text` itself is not valid YAML; every other problem is
/// recorded in [`GitlabCi::errors`].
pub fn load(root: &Root, rel: &str, text: &str) -> Result<GitlabCi, LoadError> {
    let docs = ytree::parse(rel, text).map_err(|e| match e {
        YamlFailure::Invalid(e) | YamlFailure::Template(e) => e,
    })?;
    let mut loader = Loader {
        root,
        files: Vec::new(),
        loaded: HashMap::new(),
        layers: Vec::new(),
        errors: Vec::new(),
        notes: Vec::new(),
        external: Vec::new(),
        sources: vec![(rel.to_string(), text.to_string())],
        includes: 0,
    };
    let idx = loader.add_file(rel, text, docs);
    loader.loaded.insert(rel.to_string(), idx);
    let mut stack = vec![rel.to_string()];
    loader.process(idx, &mut stack);
    Ok(build(loader, rel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ci::{Job, Trigger};

    const ACCEPTANCE_MAIN: &str = r###"include:
  - local: .gitlab/ci/deploy.yml

stages:
  - verify
  - test
  - build
  - deploy

workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

variables:
  npm_config_cache: $CI_PROJECT_DIR/.npm

# Checks that guard merge requests.
.merge_request_rules: &merge_request_rules
  - if: $CI_PIPELINE_SOURCE == "merge_request_event"

.node:
  image: node:18-alpine
  cache:
    key:
      files: [package-lock.json]
    paths: [.npm/]
  before_script:
    - npm ci --prefer-offline --no-audit

lint:
  extends: .node
  stage: verify
  rules: *merge_request_rules
  script:
    - npm run lint

type-check:
  extends: .node
  stage: verify
  rules: *merge_request_rules
  script:
    - npm run type-check

audit:
  extends: .node
  stage: verify
  rules: *merge_request_rules
  before_script: []
  script:
    - npm audit --audit-level=high

secret-scan:
  stage: verify
  image:
    name: trufflesecurity/trufflehog:latest
    entrypoint: [""]
  rules: *merge_request_rules
  variables:
    GIT_DEPTH: 0
  script:
    - trufflehog git file://. --since-commit "$CI_MERGE_REQUEST_DIFF_BASE_SHA" --branch "$CI_COMMIT_SHA" --only-verified --fail

unit-test:
  extends: .node
  stage: test
  rules: *merge_request_rules
  script:
    - npm test

integration-test:
  extends: .node
  stage: test
  rules: *merge_request_rules
  services:
    - name: postgres:14-alpine
      alias: postgres
    - name: redis:7-alpine
      alias: redis
  variables:
    POSTGRES_PASSWORD: postgres
    DB_HOST: postgres
    DB_USERNAME: postgres
    DB_PASSWORD: postgres
    REDIS_URL: redis://redis:6379
  script:
    - npm run test:integration:http

docker-build:
  stage: build
  image: docker:27
  services:
    - docker:27-dind
  rules: *merge_request_rules
  script:
    - docker build --tag "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .

publish-image:
  stage: build
  image: docker:27
  services:
    - docker:27-dind
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - echo "$CI_REGISTRY_PASSWORD" | docker login -u "$CI_REGISTRY_USER" --password-stdin "$CI_REGISTRY"
    - docker build --tag "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" .
    - docker push "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"
"###;
    const ACCEPTANCE_DEPLOY: &str = r###"# Staging follows every merge to the default branch; production is released by hand.

.deploy:
  image: node:18-alpine
  stage: deploy
  needs: [publish-image]
  variables:
    IMAGE: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA
  before_script:
    - apk add --no-cache curl postgresql14-client aws-cli
    - npm ci --prefer-offline --no-audit

deploy-staging:
  extends: .deploy
  environment:
    name: staging
    url: https://staging-api.marrowbone.example.com
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
  script:
    - npx medusa db:migrate
    - curl --fail -sS -X POST "$DEPLOY_HOOK_URL" --data-urlencode "image=$IMAGE"
    - curl --fail -sS --retry 12 --retry-delay 10 --retry-all-errors https://staging-api.marrowbone.example.com/health

deploy-production:
  extends: .deploy
  environment:
    name: production
    url: https://api.marrowbone.example.com
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
  variables:
    SMOKE_BASE_URL: https://api.marrowbone.example.com
  script:
    - pg_dump --format=custom --no-owner --file "medusa-$CI_COMMIT_SHORT_SHA.dump" "$DATABASE_URL"
    - aws s3 cp "medusa-$CI_COMMIT_SHORT_SHA.dump" "s3://marrowbone-db-backups/production/$CI_PIPELINE_ID.dump"
    - npx medusa db:migrate
    - curl --fail -sS -X POST "$DEPLOY_HOOK_URL" --data-urlencode "image=$IMAGE"
    - npm run test:smoke
"###;

    pub(super) fn load_tree(files: &[(&str, &str)]) -> (tempfile::TempDir, GitlabCi) {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let p = dir.path().join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(p, text).expect("write");
        }
        let main = files
            .iter()
            .find(|(p, _)| *p == ".gitlab-ci.yml")
            .map_or("", |(_, t)| *t);
        let ci = load(
            &crate::load::Root::new(dir.path()).expect("root"),
            ".gitlab-ci.yml",
            main,
        )
        .expect("loads");
        (dir, ci)
    }

    pub(super) fn ci(main: &str) -> GitlabCi {
        load_tree(&[(".gitlab-ci.yml", main)]).1
    }

    pub(super) fn job<'a>(ci: &'a GitlabCi, id: &str) -> &'a Job {
        ci.jobs
            .iter()
            .find(|j| j.id == id)
            .unwrap_or_else(|| panic!("no job {id}: {:?}", ids(ci)))
    }

    pub(super) fn ids(ci: &GitlabCi) -> Vec<&str> {
        ci.jobs.iter().map(|j| j.id.as_str()).collect()
    }

    pub(super) fn runs(j: &Job) -> Vec<&str> {
        j.steps.iter().map(|s| s.run.as_str()).collect()
    }

    /// The job's triggers as short names.
    pub(super) fn sources(j: &Job) -> Vec<&'static str> {
        j.triggers.iter().map(trigger_name).collect()
    }

    pub(super) fn trigger_name(t: &Trigger) -> &'static str {
        match (t.event.as_str(), t.default_branch, t.tag_only) {
            ("push", true, _) => "main",
            ("push", _, true) => "tag",
            ("push", _, _) => "branch",
            ("merge_request", _, _) => "mr",
            ("schedule", _, _) => "schedule",
            ("web", _, _) => "web",
            ("api", _, _) => "api",
            _ => "?",
        }
    }

    #[test]
    fn acceptance_example_shape() {
        let (_d, ci) = load_tree(&[
            (".gitlab-ci.yml", ACCEPTANCE_MAIN),
            (".gitlab/ci/deploy.yml", ACCEPTANCE_DEPLOY),
        ]);
        assert!(ci.errors.is_empty(), "{:?}", ci.errors);
        assert!(ci.external.is_empty());
        assert_eq!(ci.sources.len(), 2);
        let p = &ci.pipeline;
        assert_eq!(
            (p.provider.as_str(), p.path.as_str(), p.name.as_str()),
            ("gitlab", ".gitlab-ci.yml", ".gitlab-ci.yml")
        );
        assert_eq!(
            (p.jobs_loc.file.as_str(), p.jobs_loc.line, p.jobs_loc.col),
            (".gitlab-ci.yml", 31, 1)
        );
        assert_eq!(p.loc.line, 1);
        assert_eq!(
            p.triggers.iter().map(trigger_name).collect::<Vec<_>>(),
            vec!["main", "mr"]
        );
        assert!(p.is_pre_merge);
        assert_eq!(
            ids(&ci),
            vec![
                "lint",
                "type-check",
                "audit",
                "secret-scan",
                "unit-test",
                "integration-test",
                "docker-build",
                "publish-image",
                "deploy-staging",
                "deploy-production"
            ]
        );

        let lint = job(&ci, "lint");
        assert_eq!(
            (lint.loc.line, lint.path.as_str(), lint.key.as_str()),
            (31, ".gitlab-ci.yml", ".gitlab-ci.yml#lint")
        );
        assert_eq!(sources(lint), vec!["mr"]);
        assert!(lint.is_pre_merge && !lint.manual && !lint.allow_failure);
        assert_eq!(lint.stage, "verify");
        assert_eq!(
            runs(lint),
            vec!["npm ci --prefer-offline --no-audit", "npm run lint"]
        );
        let before = &lint.steps[0];
        assert_eq!(
            (before.loc.file.as_str(), before.loc.line),
            (".gitlab-ci.yml", 29)
        );
        assert_eq!(before.commands[0].loc.line, 29);
        assert!(before.gating);
        assert_eq!(lint.steps[1].commands[0].argv, vec!["npm", "run", "lint"]);
        assert!(
            lint.condition.contains("merge_request_event"),
            "{}",
            lint.condition
        );

        let audit = job(&ci, "audit");
        assert_eq!(
            runs(audit),
            vec!["npm audit --audit-level=high"],
            "before_script: [] overrides"
        );

        let publish = job(&ci, "publish-image");
        assert_eq!(sources(publish), vec!["main"]);
        assert!(!publish.is_pre_merge);
        assert_eq!(publish.steps.len(), 3);

        let staging = job(&ci, "deploy-staging");
        assert_eq!(
            (staging.path.as_str(), staging.loc.line),
            (".gitlab/ci/deploy.yml", 13)
        );
        assert_eq!(staging.environment, "staging");
        assert!(staging.has_environment && !staging.manual && !staging.is_pre_merge);
        assert_eq!(sources(staging), vec!["main"]);
        assert_eq!(staging.needs, vec!["publish-image"]);
        assert_eq!(staging.stage, "deploy");
        assert_eq!(staging.steps.len(), 5);
        assert_eq!(
            (
                staging.steps[0].loc.file.as_str(),
                staging.steps[0].loc.line
            ),
            (".gitlab/ci/deploy.yml", 10)
        );
        assert_eq!(staging.steps[2].commands[0].program, "npx");
        assert_eq!(staging.steps[2].loc.file, ".gitlab/ci/deploy.yml");
        assert_eq!(
            staging.steps[0].env.get("IMAGE").map(String::as_str),
            Some("$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA")
        );
        assert!(
            job(&ci, "publish-image").rank < staging.rank,
            "stage order ranks jobs"
        );

        let prod = job(&ci, "deploy-production");
        assert!(prod.manual && !prod.is_pre_merge);
        assert_eq!(prod.environment, "production");
        assert_eq!(sources(prod), vec!["main"]);
        assert_eq!(prod.steps[2].commands[0].program, "pg_dump");
    }

    #[test]
    fn malformed_configurations_do_not_panic() {
        let list_root = ci("- a\n- b\n");
        assert!(list_root.jobs.is_empty());
        assert_eq!(list_root.errors.len(), 1);
        assert_eq!(list_root.pipeline.jobs_loc.line, 1);
        let empty = ci("");
        assert!(empty.jobs.is_empty() && empty.errors.is_empty());
        let ci = ci(r#"
include: 5
variables: [1, 2]
default: 3
workflow: {rules: nope}
number:
  script: 42
map-script:
  script: {a: b}
  rules: "x"
  only: {refs: 5, variables: [1]}
  environment: [x]
  needs: {a: b}
  allow_failure: maybe
  extends: 5
loop-a:
  extends: loop-b
  script: [echo a]
loop-b:
  extends: [loop-a, missing]
  script: [echo b]
bad-ref:
  script:
    - !reference [nowhere, script]
    - !reference []
    - !reference [loop-a, script, deeper]
    - echo ok
self-ref:
  script:
    - !reference [self-ref, script]
bad-shell:
  script:
    - "echo $(("
    - if then fi
  stage: [1]
"#);
        assert_eq!(runs(job(&ci, "number")), vec!["42"]);
        assert!(job(&ci, "map-script").steps.is_empty());
        assert_eq!(runs(job(&ci, "bad-ref")), vec!["echo ok"]);
        assert_eq!(runs(job(&ci, "loop-b")), vec!["echo b"]);
        let bad = job(&ci, "bad-shell");
        assert_eq!(bad.steps.len(), 2);
        assert!(bad.steps.iter().all(|s| s.commands.is_empty()));
        assert_eq!(bad.stage, "test");
        let _ = job(&ci, "self-ref");
    }

    #[test]
    fn invalid_main_file_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = load(
            &crate::load::Root::new(dir.path()).expect("root"),
            ".gitlab-ci.yml",
            "a: [1,\n",
        )
        .expect_err("invalid");
        assert_eq!(err.loc.file, ".gitlab-ci.yml");
    }

    #[test]
    fn spec_header_documents_are_skipped() {
        let ci = ci("spec:\n  inputs:\n    env: {default: x}\n---\njob:\n  script: [echo]\n");
        assert_eq!(ids(&ci), vec!["job"]);
        assert_eq!(job(&ci, "job").loc.line, 5);
    }
}
