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
