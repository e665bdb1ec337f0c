#!/usr/bin/env python3
"""Hostile-input probes: builds each adversarial repository shape and runs a
shipshape binary on it, printing one row per probe (wall time, peak memory,
exit status, finding and notification counts, and what went wrong).

    scripts/probe-hostile.py BIN [BIN2]   # BIN2: a second binary, side by side
    scripts/probe-hostile.py BIN --only needs

Each probe runs under a 90 s timeout; a row's status "timeout" means it did
not finish. Memory is the peak resident set reported by /usr/bin/time.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

TIMEOUT = 90


def w(root, rel, text, mode="w"):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode) as f:
        f.write(text)


def workflow(steps_yaml, on="push"):
    return f"on: {on}\njobs:\n  t:\n    runs-on: x\n    steps:\n{steps_yaml}"


def p_symlink_outside(root):
    os.symlink("/etc/passwd", os.path.join(root, "Dockerfile"))


def p_nested_parens(root):
    w(root, ".github/workflows/ci.yml",
      "on: push\njobs:\n  t:\n    runs-on: x\n    if: " + "(" * 18000 + "true" + ")" * 18000
      + "\n    steps:\n      - run: npm test\n")


def p_many_nots(root):
    w(root, ".github/workflows/ci.yml",
      "on: push\njobs:\n  t:\n    runs-on: x\n    if: ${{ " + "!" * 47000 + "true }}\n"
      "    steps:\n      - run: npm test\n")


def p_tsconfig_ifs(root):
    w(root, "tsconfig.json", "if (a)\n" * 23000 + "x;\n")
    w(root, "package.json", '{"name": "x", "dependencies": {"@medusajs/medusa": "2"}}')


def p_deep_package_json(root):
    deep = "[" * 100 + "]" * 100
    w(root, "package.json",
      '{"name": "x", "deep": ' + deep + ', "dependencies": {"@sentry/node": "8"}}')


def p_nested_subshells(root):
    w(root, ".github/workflows/ci.yml",
      workflow("      - run: ( (npm run lint) )\n"
               "      - run: " + "{ " * 40 + "npm test;" + " }" * 40 + "\n"))


def p_gitlab_extends_cycle(root):
    w(root, ".gitlab-ci.yml",
      ".a:\n  extends: .b\n.b:\n  extends: .a\nt:\n  extends: .a\n  script: [npm test]\n"
      "s:\n  extends: s\n  script: [npm test]\n")


def needs_chain(n, production=False):
    """A workflow whose n jobs form one needs: chain; with `production`, each job deploys
    to production and runs a migration."""
    def make(root):
        s = "on: workflow_dispatch\njobs:\n" if production else "on: push\njobs:\n"
        for i in range(n):
            s += f"  j{i}:\n    runs-on: x\n"
            if production:
                s += "    environment: production\n"
            if i:
                s += f"    needs: j{i-1}\n"
            run = "npx medusa db:migrate" if production else "npm test"
            s += f"    steps:\n      - run: {run}\n"
        w(root, ".github/workflows/ci.yml", s)
    return make


def and_chain(n):
    def make(root):
        w(root, ".github/workflows/ci.yml",
          workflow("      - run: " + "npm run lint && " * n + "true\n"))
    return make


def many_steps(n):
    def make(root):
        s = "".join(f"      - name: s{i}\n        run: |\n          npm ci\n          npm run lint\n"
                    f"          npm test\n" for i in range(n))
        w(root, ".github/workflows/ci.yml", workflow(s))
    return make


def long_promql(n):
    def make(root):
        terms = " + ".join(f"m{i}" for i in range(n))
        w(root, "alerts.yml",
          f"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: {terms} > 1\n"
          "        for: 5m\n")
    return make


def p_binary_dockerfile(root):
    w(root, "Dockerfile", bytes(range(256)) * 64, mode="wb")


def p_alias_bomb(root):
    s = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    prev = "a"
    for i in range(1, 12):
        s += f"b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        prev = f"b{i}"
    w(root, "docker-compose.yml", "services:\n  web:\n    image: x\n" + s)


PROBES = [
    ("symlink Dockerfile -> /etc/passwd", p_symlink_outside),
    ("if: 18,000 nested parentheses", p_nested_parens),
    ("if: 47,000 '!'", p_many_nots),
    ("tsconfig 23,000 unbraced if (a)", p_tsconfig_ifs),
    ("package.json nested 100 deep", p_deep_package_json),
    ("shell ( (x) ) and 40 nested { }", p_nested_subshells),
    ("GitLab extends cycles", p_gitlab_extends_cycle),
    ("needs chain 2,000 jobs", needs_chain(2000)),
    ("needs chain 10,000 jobs", needs_chain(10000)),
    ("&& chain run: 3.8 MB", and_chain(240000)),
    ("workflow 10k steps (50k lines)", many_steps(10000)),
    ("PromQL 16k terms", long_promql(16000)),
    ("PromQL 100k terms", long_promql(100000)),
    ("400 migrating production jobs", needs_chain(400, production=True)),
    ("binary Dockerfile", p_binary_dockerfile),
    ("YAML alias bomb (Compose)", p_alias_bomb),
]


def run(binary, root):
    out = tempfile.NamedTemporaryFile(delete=False, suffix=".json")
    out.close()
    tfile = out.name + ".time"
    cmd = ["/usr/bin/time", "-f", "%e %M", "-o", tfile, binary, "check", root,
           "--format", "json", "--output", out.name]
    start = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT)
        status = str(proc.returncode)
        if proc.returncode < 0 or proc.returncode > 128:
            status = f"signal ({proc.returncode})"
        stderr = proc.stderr.decode("utf-8", "replace")
        if "overflow" in stderr:
            status += " stack overflow"
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "secs": f">{TIMEOUT}", "mb": "?", "findings": "?", "notes": "?"}
    try:
        secs, kb = open(tfile).read().split()[-2:]
    except (OSError, ValueError):
        secs, kb = f"{time.time() - start:.2f}", "0"
    findings = notes = "-"
    try:
        report = json.load(open(out.name))
        roots = report.get("roots", [])
        findings = str(sum(len(r.get("findings", [])) for r in roots))
        notes = str(sum(len(r.get("notifications", [])) for r in roots))
    except (OSError, ValueError):
        pass
    for p in (out.name, tfile):
        try:
            os.unlink(p)
        except OSError:
            pass
    return {"status": status, "secs": secs, "mb": str(int(kb) // 1024),
            "findings": findings, "notes": notes}


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1]
        del args[i:i + 2]
    if not args:
        sys.exit(__doc__)
    bins = args
    print("| probe | " + " | ".join(f"{os.path.basename(b)}: exit, s, MB, findings, notes" for b in bins) + " |")
    print("|---|" + "---|" * len(bins))
    for name, make in PROBES:
        if only and only not in name:
            continue
        cells = []
        for b in bins:
            with tempfile.TemporaryDirectory() as d:
                root = os.path.join(d, "repo")
                os.mkdir(root)
                make(root)
                r = run(os.path.abspath(b), root)
            cells.append(f"{r['status']}, {r['secs']}, {r['mb']}, {r['findings']}, {r['notes']}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
