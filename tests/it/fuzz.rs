//! The fuzz targets of `shipshape::fuzzing` as a bounded property test on stable Rust: for
//! each target, inputs mutated from seeds (the examples and the policies' inline cases) by a
//! fixed-seed generator (byte flips, truncation, splicing, repeated lines, deep nesting,
//! hostile tokens) must all run to completion without a panic.
//!
//! `SHIPSHAPE_FUZZ_ITERS` sets the inputs per target (default [`DEFAULT_ITERS`]; the
//! `repository` target runs a fifth of it, at least 20), `SHIPSHAPE_FUZZ_SEED` the generator
//! seed and `SHIPSHAPE_FUZZ_TARGET` restricts the run to one target. A failing input is
//! written to `target/fuzz-crashes/<target>-<n>` for replay through the `fuzz/` harness.
//! `write_fuzz_corpus` (ignored) writes the seeds to `fuzz/corpus/<target>/`.

use std::collections::BTreeMap;
use std::path::Path;

use shipshape::fuzzing::{self, SECTION, TARGETS};
use shipshape::walk::FileKind;

use crate::support::{builtin, examples};

/// Inputs per target by default: enough to exercise each mutation many times, small enough
/// that the whole test stays well under a minute in a debug build.
const DEFAULT_ITERS: usize = 300;

/// The largest input generated (bytes).
const MAX_INPUT: usize = 256 << 10;

/// A small, fast, reproducible generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Openers and closers for deep nesting, across the languages the targets read.
const NESTING: &[(&str, &str)] = &[
    ("(", ")"),
    ("[", "]"),
    ("{", "}"),
    ("!", ""),
    ("$(", ")"),
    ("{ ", "; }"),
    ("if true; then ", "; fi"),
    ("- ", ""),
    ("a:\n  ", ""),
    ("${{ ", " }}"),
    ("sum(", ")"),
    ("if (a) ", ""),
    ("\"a\": {", "}"),
    ("`", "`"),
];

/// Tokens that tend to matter to the parsers.
const TOKENS: &[&str] = &[
    "${{",
    "}}",
    "$(",
    "`",
    "\0",
    "\r\n",
    "\t",
    "&&",
    "||",
    "|",
    ";",
    "'",
    "\"",
    "\\\n",
    "<<EOF\n",
    "\nEOF\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "!reference [.a, script]",
    "extends: .a\n",
    "include:\n  - local: ci/build.yml\n",
    "uses: ./.github/actions/setup\n",
    "extends:\n  file: common.yml\n  service: a\n",
    "\"extends\": \"./tsconfig.base.json\"",
    "---\n",
    "...\n",
    "@@@ compose.yaml\n",
    "@@@ ci/build.yml\n",
    "@@@ package.json\n",
    "\u{feff}",
    "é",
    "🦀",
    "9999999999999999999999",
    "-1",
    "null",
    "~",
    "on:",
    "FROM ",
    "RUN ",
    "npm ci",
    "npx prisma migrate deploy",
    "histogram_quantile(0.99, ",
    "rate(x[5m])",
    " by (le)",
    "process.env.",
    "import x from './server'\n",
];

/// One mutation of `input`, with `others` (the target's seeds) for splicing.
fn mutate_once(rng: &mut Rng, input: &mut Vec<u8>, others: &[Vec<u8>]) {
    let len = input.len();
    match rng.below(9) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = rng.next() as u8;
        }
        2 => input.truncate(rng.below(len + 1)),
        3 => {
            let other = rng.pick(others);
            let cut = rng.below(len + 1);
            let from = rng.below(other.len() + 1);
            input.truncate(cut);
            input.extend_from_slice(&other[from..]);
        }
        4 => {
            let lines: Vec<&[u8]> = input.split_inclusive(|b| *b == b'\n').collect();
            if lines.is_empty() {
                return;
            }
            let at = rng.below(lines.len());
            let times = [2, 10, 100, 1000][rng.below(4)];
            let mut out = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                out.extend_from_slice(l);
                if i == at {
                    for _ in 0..times {
                        if out.len() > MAX_INPUT {
                            break;
                        }
                        out.extend_from_slice(l);
                    }
                }
            }
            *input = out;
        }
        5 => {
            let (open, close) = *rng.pick(NESTING);
            let depth = [8, 40, 200, 2000, 20000][rng.below(5)];
            let at = rng.below(len + 1);
            let end = at + rng.below(len - at + 1);
            let mut out = input[..at].to_vec();
            out.extend(open.repeat(depth).bytes());
            out.extend_from_slice(&input[at..end]);
            out.extend(close.repeat(depth).bytes());
            out.extend_from_slice(&input[end..]);
            *input = out;
        }
        6 => {
            let t = rng.pick(TOKENS);
            let at = rng.below(len + 1);
            input.splice(at..at, t.bytes());
        }
        7 if len > 0 => {
            let a = rng.below(len);
            let b = a + rng.below((len - a).min(64) + 1);
            input.drain(a..b);
        }
        _ => {
            // Copy a chunk of the input elsewhere in it.
            if len > 0 {
                let a = rng.below(len);
                let b = a + rng.below((len - a).min(256) + 1);
                let chunk = input[a..b].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, chunk);
            }
        }
    }
}

/// An input for the `n`th run: a seed with one to four mutations (the first runs are the
/// seeds themselves).
fn input(rng: &mut Rng, seeds: &[Vec<u8>], n: usize) -> Vec<u8> {
    if n < seeds.len() {
        return seeds[n].clone();
    }
    let mut v = rng.pick(seeds).clone();
    // Truncated after each mutation, so that stacked repetitions stay bounded.
    for _ in 0..=rng.below(4) {
        mutate_once(rng, &mut v, seeds);
        v.truncate(MAX_INPUT);
    }
    v
}

/// Every file of `dir`, relative path → text.
fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if let (Ok(rel), Ok(text)) = (p.strip_prefix(root), std::fs::read_to_string(&p))
            {
                out.insert(rel.to_string_lossy().replace('\\', "/"), text);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The file trees seeds come from: the examples and every inline policy case.
fn trees() -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(examples()) {
        let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        out.extend(dirs.iter().map(|d| read_tree(d)));
    }
    for p in &builtin().policies {
        for t in &p.tests {
            out.push(t.files.clone());
        }
    }
    out
}

/// Whether `rel` (with text `text`) is a main file of `target`.
fn is_main(target: &str, rel: &str, text: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let kind = shipshape::walk::classify(rel);
    match target {
        "github_workflow" => kind == Some(FileKind::GithubWorkflow),
        "github_action" => name == "action.yml" || name == "action.yaml",
        "gitlab_ci" => kind == Some(FileKind::GitlabCi),
        "dockerfile" => kind == Some(FileKind::Dockerfile),
        "compose" => kind == Some(FileKind::Compose),
        "prometheus" => {
            (name.ends_with(".yml") || name.ends_with(".yaml"))
                && (text.contains("expr:") || text.contains("PrometheusRule"))
        }
        "package_json" => kind == Some(FileKind::PackageJson),
        "tsconfig" => name.starts_with("tsconfig") && name.ends_with(".json"),
        "js_scan" => kind == Some(FileKind::JsSource),
        "config" => {
            name.contains("shipshape") && (name.ends_with(".yaml") || name.ends_with(".yml"))
        }
        _ => false,
    }
}

/// The values of `key:` lines in `text` (scripts, conditions, expressions).
fn values_of<'t>(text: &'t str, keys: &[&str]) -> Vec<&'t str> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            keys.iter().find_map(|k| l.strip_prefix(k))
        })
        .map(|v| v.trim().trim_matches(['"', '\'']))
        .filter(|v| !v.is_empty() && *v != "|" && *v != ">")
        .collect()
}

/// A bundle of `tree` whose main file is `main` (the other files follow as sections, their
/// paths mapped onto the fixed set and the references to them rewritten).
fn bundle(tree: &BTreeMap<String, String>, main: Option<&str>) -> Vec<u8> {
    let mapped: Vec<(&str, &str)> = tree
        .keys()
        .map(|k| (k.as_str(), fuzzing::map_path(k)))
        .collect();
    let rewrite = |text: &str| {
        let mut t = text.to_string();
        for (from, to) in &mapped {
            if from != to && from.contains('/') {
                t = t.replace(from, to);
            }
        }
        t
    };
    let mut out = String::new();
    if let Some(m) = main.and_then(|m| tree.get(m)) {
        out.push_str(&rewrite(m));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    for (rel, to) in &mapped {
        if Some(*rel) == main {
            continue;
        }
        out.push_str(&format!("{SECTION}{to}\n"));
        out.push_str(&rewrite(&tree[*rel]));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Hand-written seeds for the embedded languages, besides those extracted from the trees.
fn extra_seeds(target: &str) -> &'static [&'static str] {
    match target {
        "shell" => &[
            "npm ci && npm run build\n",
            "set -euo pipefail\nfor f in a b; do pnpm --filter \"$f\" test; done\n",
            "( (npm run lint) )\n",
            "cat <<EOF > x\n$HOME\nEOF\nnpx prisma migrate deploy || exit 1\n",
            "if [ -n \"$CI\" ]; then yarn install --frozen-lockfile; else yarn; fi\n",
        ],
        "promql" => &[
            "sum(rate(http_requests_total{code=~\"5..\"}[5m])) / sum(rate(http_requests_total[5m])) > 0.05",
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
            "absent(up{job=\"api\"} == 1)",
        ],
        "github_expression" => &[
            "github.event_name == 'push' && github.ref == 'refs/heads/main'",
            "${{ !cancelled() && (success() || failure()) }}",
            "startsWith(github.ref, 'refs/tags/v') && contains(fromJSON('[\"a\"]'), inputs.env)",
        ],
        "gitlab_expression" => &[
            "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
            "$CI_PIPELINE_SOURCE == \"merge_request_event\" || $CI_COMMIT_TAG =~ /^v\\d+/",
            "($CI_COMMIT_REF_NAME != \"main\") && $DEPLOY",
        ],
        "github_action" => &[
            "name: setup\nruns:\n  using: composite\n  steps:\n    - run: npm ci\n      shell: bash\n    - uses: actions/setup-node@v4\n      with:\n        node-version: 20\n",
            "runs:\n  using: docker\n  image: Dockerfile\n@@@ Dockerfile\nFROM node:20\nRUN npm ci\n",
        ],
        "tsconfig" => &[
            "{\n  // comment\n  \"extends\": \"./tsconfig.base.json\",\n  \"compilerOptions\": { \"paths\": { \"@/*\": [\"./src/*\"] } },\n}\n@@@ tsconfig.base.json\n{ \"compilerOptions\": { \"baseUrl\": \".\", \"paths\": { \"@app/*\": [\"src/*\", \"app/src/*\"] } } }\n",
            "{ \"compilerOptions\": { \"baseUrl\": \"src\" } }\n@@@ app/tsconfig.json\n{ \"extends\": \"../tsconfig.json\", \"compilerOptions\": { \"paths\": { \"~/*\": [\"./src/*\"] } } }\n",
        ],
        "config" => &[
            "rules:\n  CI001: off\n  DF001:\n    severity: error\nexclude:\n  - vendor/**\n",
            "extends: base.shipshape.yaml\nrules:\n  DF002: warning\n@@@ base.shipshape.yaml\nlocked: [DF001]\n",
        ],
        _ => &[],
    }
}

/// The seeds of `target`: its main files from the examples and the inline cases (as bundles
/// for targets that read several files), extracted snippets for embedded languages, and a few
/// written here.
fn seeds(target: &str, trees: &[BTreeMap<String, String>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for tree in trees {
        match target {
            "repository" => out.push(bundle(tree, None)),
            "shell" | "promql" | "github_expression" | "gitlab_expression" => {
                let keys: &[&str] = match target {
                    "shell" => &["run:", "RUN ", "script:", "command:"],
                    "promql" => &["expr:"],
                    _ => &["if:"],
                };
                for text in tree.values() {
                    out.extend(values_of(text, keys).iter().map(|v| v.as_bytes().to_vec()));
                }
                if target == "shell" {
                    out.extend(
                        tree.iter()
                            .filter(|(k, _)| k.ends_with(".sh"))
                            .map(|(_, v)| v.as_bytes().to_vec()),
                    );
                }
            }
            _ => {
                let bundled = fuzzing::main_path(target).is_some();
                for (rel, text) in tree {
                    if is_main(target, rel, text) {
                        out.push(if bundled {
                            bundle(tree, Some(rel))
                        } else {
                            text.as_bytes().to_vec()
                        });
                    }
                }
            }
        }
    }
    out.extend(extra_seeds(target).iter().map(|s| s.as_bytes().to_vec()));
    out.sort();
    out.dedup();
    if out.is_empty() {
        out.push(Vec::new());
    }
    out
}

/// Runs `body` on `input` on a thread with the stack of a main thread (8 MiB, as libFuzzer
/// has); whether it returned. (Debug builds need several times the stack of release builds:
/// the YAML tree at its 64-level nesting budget takes over 2 MiB in debug.)
fn runs(body: fn(&[u8]), input: &[u8]) -> bool {
    let input = input.to_vec();
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || body(&input))
        .map(|h| h.join().is_ok())
        .unwrap_or(false)
}

#[test]
fn every_fuzz_target_survives_mutated_seeds() {
    let env_num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let iters = env_num("SHIPSHAPE_FUZZ_ITERS").map_or(DEFAULT_ITERS, |n| n as usize);
    let seed = env_num("SHIPSHAPE_FUZZ_SEED").unwrap_or(0x5EED_5EED);
    let only = std::env::var("SHIPSHAPE_FUZZ_TARGET").ok();
    let trees = trees();
    let crashes = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-crashes");
    let mut failures = Vec::new();
    for (name, body) in TARGETS {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        let seeds = seeds(name, &trees);
        let runs_here = if *name == "repository" {
            (iters / 5).max(20)
        } else {
            iters
        };
        let mut rng = Rng(seed
            ^ name
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b))));
        let start = std::time::Instant::now();
        let mut slowest = std::time::Duration::ZERO;
        for n in 0..runs_here {
            let data = input(&mut rng, &seeds, n);
            // The input under test, for the case it aborts the process (a stack overflow).
            let _ = std::fs::create_dir_all(&crashes);
            let _ = std::fs::write(crashes.join(format!("last-{name}")), &data);
            let t = std::time::Instant::now();
            if !runs(*body, &data) {
                let path = crashes.join(format!("{name}-{n}"));
                let _ = std::fs::write(&path, &data);
                failures.push(format!("{name}: input {n} panicked (saved to {path:?})"));
            }
            slowest = slowest.max(t.elapsed());
        }
        eprintln!(
            "fuzz {name}: {runs_here} inputs from {} seeds in {:.1} s (slowest {:.0} ms)",
            seeds.len(),
            start.elapsed().as_secs_f64(),
            slowest.as_secs_f64() * 1e3
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Regression inputs: each once crashed a target (file name: `<target>-<anything>`).
#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((_, body)) = TARGETS
            .iter()
            .filter(|(t, _)| name.starts_with(&format!("{t}-")))
            .max_by_key(|(t, _)| t.len())
        else {
            panic!("{name}: no target of that name");
        };
        let data = std::fs::read(e.path()).expect("regression input is readable");
        assert!(runs(*body, &data), "{name} panics");
    }
}

/// Writes each target's seeds to `fuzz/corpus/<target>/` (for `cargo fuzz run`).
#[test]
#[ignore = "writes the fuzz corpus; run by fuzz/seed.sh"]
fn write_fuzz_corpus() {
    let trees = trees();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, _) in TARGETS {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).expect("corpus directory");
        for (i, s) in seeds(name, &trees).iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:04}")), s).expect("corpus file");
        }
    }
}
