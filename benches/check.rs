//! Benchmark: discovery + load + evaluation of every built-in policy on a generated
//! repository of N services (Dockerfile, Compose file, workflow and package.json each).

use std::path::Path;

use shipshape::policy::PolicySet;
use shipshape::{Settings, check_root};

fn main() {
    divan::main();
}

/// Writes a synthetic monorepo with `n` services under `root`.
fn generate(root: &Path, n: usize) {
    let w = |p: &str, s: &str| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, s).expect("write");
    };
    w(
        "package.json",
        r#"{"name": "mono", "private": true, "workspaces": ["services/*"]}"#,
    );
    for i in 0..n {
        let d = format!("services/svc{i}");
        w(
            &format!("{d}/package.json"),
            &format!(r#"{{"name": "svc{i}", "scripts": {{"build": "tsc", "test": "jest"}}}}"#),
        );
        w(
            &format!("{d}/Dockerfile"),
            "ARG NODE=18\nFROM node:${NODE}-alpine AS builder\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build && npm prune --omit=dev\n\nFROM node:${NODE}-alpine\nENV NODE_ENV=production\nWORKDIR /app\nCOPY --from=builder /app/dist ./dist\nCOPY --from=builder /app/node_modules ./node_modules\nUSER node\nCMD [\"node\", \"dist/main.js\"]\n",
        );
        w(
            &format!("{d}/docker-compose.yml"),
            "services:\n  app:\n    build: .\n    environment:\n      DATABASE_URL: ${DATABASE_URL}\n  db:\n    image: postgres:14-alpine\n",
        );
        w(
            &format!(".github/workflows/svc{i}.yml"),
            &format!(
                "name: svc{i}\non:\n  pull_request:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n          npm ci\n          npm run lint\n          npm test\n"
            ),
        );
    }
}

#[divan::bench(args = [10, 100])]
fn check_generated_repo(bencher: divan::Bencher, n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    generate(dir.path(), n);
    let set = PolicySet::load(true, &[]).expect("built-in policies load");
    bencher.bench(|| check_root(dir.path(), "bench", &set, &Settings::default()).expect("checks"));
}

#[divan::bench]
fn compile_builtin_policies() -> PolicySet {
    PolicySet::load(true, &[]).expect("built-in policies load")
}

/// Input shapes whose cost once grew faster than their size: each must stay linear.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// A GitHub workflow whose jobs form one `needs:` chain.
    GithubNeedsChain,
    /// A GitLab pipeline whose jobs form one `needs:` chain.
    GitlabNeedsChain,
    /// A chain of production deploy jobs, each running a migration.
    MigratingProductionChain,
    /// One job with many steps of a few script lines each.
    ManySteps,
    /// One `run:` script of `&&`-chained commands.
    AndChainScript,
    /// One alert expression made of a long chain of additions.
    LongPromql,
}

/// Writes the repository of one shape with `n` jobs, steps, commands or terms.
fn generate_shape(root: &Path, shape: Shape, n: usize) {
    let w = |p: &str, s: &str| {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, s).expect("write");
    };
    let mut s = String::new();
    match shape {
        Shape::GithubNeedsChain | Shape::MigratingProductionChain => {
            let prod = matches!(shape, Shape::MigratingProductionChain);
            s.push_str(if prod {
                "on: workflow_dispatch\njobs:\n"
            } else {
                "on: push\njobs:\n"
            });
            for i in 0..n {
                s.push_str(&format!("  j{i}:\n    runs-on: x\n"));
                if prod {
                    s.push_str("    environment: production\n");
                }
                if i > 0 {
                    s.push_str(&format!("    needs: j{}\n", i - 1));
                }
                let cmd = if prod {
                    "npx medusa db:migrate"
                } else {
                    "npm test"
                };
                s.push_str(&format!("    steps:\n      - run: {cmd}\n"));
            }
            w(".github/workflows/ci.yml", &s);
        }
        Shape::GitlabNeedsChain => {
            s.push_str("stages: [test]\n");
            for i in 0..n {
                s.push_str(&format!("j{i}:\n  stage: test\n"));
                if i > 0 {
                    s.push_str(&format!("  needs: [j{}]\n", i - 1));
                }
                s.push_str("  script:\n    - npm test\n");
            }
            w(".gitlab-ci.yml", &s);
        }
        Shape::ManySteps => {
            s.push_str("on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n");
            for i in 0..n {
                s.push_str(&format!(
                    "      - name: s{i}\n        run: |\n          npm ci\n          npm run lint\n          npm test\n"
                ));
            }
            w(".github/workflows/ci.yml", &s);
        }
        Shape::AndChainScript => {
            s.push_str("on: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: ");
            s.push_str(&"npm run lint && ".repeat(n));
            s.push_str("true\n");
            w(".github/workflows/ci.yml", &s);
        }
        Shape::LongPromql => {
            let terms: Vec<String> = (0..n).map(|i| format!("m{i}")).collect();
            s.push_str(&format!(
                "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: {} > 1\n        for: 5m\n",
                terms.join(" + ")
            ));
            w("alerts.yml", &s);
        }
    }
}

fn check_shape(bencher: divan::Bencher, shape: Shape, n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    generate_shape(dir.path(), shape, n);
    let set = PolicySet::load(true, &[]).expect("built-in policies load");
    bencher.bench(|| check_root(dir.path(), "bench", &set, &Settings::default()).expect("checks"));
}

#[divan::bench(args = [500, 2000])]
fn github_needs_chain(bencher: divan::Bencher, n: usize) {
    check_shape(bencher, Shape::GithubNeedsChain, n);
}

#[divan::bench(args = [500, 2000])]
fn gitlab_needs_chain(bencher: divan::Bencher, n: usize) {
    check_shape(bencher, Shape::GitlabNeedsChain, n);
}

#[divan::bench(args = [100, 400])]
fn migrating_production_chain(bencher: divan::Bencher, n: usize) {
    check_shape(bencher, Shape::MigratingProductionChain, n);
}

#[divan::bench(args = [1000, 4000])]
fn many_steps(bencher: divan::Bencher, n: usize) {
    check_shape(bencher, Shape::ManySteps, n);
}

#[divan::bench(args = [5000, 20000])]
fn and_chain_script(bencher: divan::Bencher, n: usize) {
    check_shape(bencher, Shape::AndChainScript, n);
}

#[divan::bench(args = [1000, 16000])]
fn long_promql(bencher: divan::Bencher, n: usize) {
    check_shape(bencher, Shape::LongPromql, n);
}
