#!/usr/bin/env bash
# The ecosystem corpus through `shipshape fleet`: every corpus repository read straight from
# its bare mirror at the corpus commit (no checkout), with a generated manifest, and each
# repository's findings compared with its reviewed snapshot in tests/ecosystem/ (which
# scripts/ecosystem-check.sh makes from `git archive` exports). Shows that the git-tree source
# reads what a checkout holds.
#
#   scripts/ecosystem-fleet.sh MIRRORS [--corpus FILE] [--bin PATH]
#
# MIRRORS holds MIRRORS/<owner>+<name>/repo (as `fetch` lays them out). Exit 1 when a
# repository's findings differ from its snapshot; rows the mirror lacks (commit not fetched)
# are listed and skipped.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mirrors=${1:?usage: scripts/ecosystem-fleet.sh MIRRORS [--corpus FILE] [--bin PATH]}
shift
corpus=$here/../shared/corpus.md
bin=$here/target/release/shipshape
while [ $# -gt 0 ]; do
  case $1 in
    --corpus) corpus=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -x "$bin" ] || (cd "$here" && cargo build --release --quiet)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$corpus" "$mirrors" "$work/manifest.yaml" <<'PY'
import os, re, sys
corpus, mirrors, out = sys.argv[1:]
rows = []
for line in open(corpus):
    m = re.match(r'\|\s*([a-z-]+)\s*\|\s*([\w.-]+/[\w.-]+)\s*\|\s*([0-9a-f]{7,40})\s*\|', line)
    if m:
        cat, repo, commit = m.groups()
        path = os.path.join(mirrors, repo.replace('/', '+'), 'repo')
        if os.path.isdir(path):
            rows.append((repo.replace('/', '__'), path, commit, cat))
count = {}
for r in rows:
    count[r[0]] = count.get(r[0], 0) + 1
with open(out, 'w') as f:
    f.write('repositories:\n')
    for name, path, commit, cat in rows:
        name = f'{name}@{commit}' if count[name] > 1 else name
        f.write(f'  - name: "{name}"\n    path: "{path}"\n    ref: "{commit}"\n    team: {cat}\n')
PY
"$bin" fleet --manifest "$work/manifest.yaml" --out "$work/out" --fail-on never || true
python3 - "$work/out/scorecard.json" "$here/tests/ecosystem" <<'PY'
import json, os, sys
scorecard, snaps = sys.argv[1:]
s = json.load(open(scorecard))
files = os.listdir(snaps)
bad = checked = 0
for r in s['repositories']:
    if r['status'] != 'ok':
        print(f"skipped {r['name']}: {r.get('error')}")
        continue
    base, _, commit = r['name'].partition('@')
    cands = [f for f in files if f == base + '.txt' or (commit and f.startswith(base + '@' + commit[:12]))]
    if len(cands) != 1:
        print(f"no snapshot for {r['name']}")
        bad += 1
        continue
    want = sorted(l.rstrip('\n') for l in open(os.path.join(snaps, cands[0])) if l.strip() and not l.startswith('notification'))
    have = sorted(f"{x['rule']} {x['file']}:{x['line']} {x['message']}" for x in r['findings'])
    checked += 1
    if want != have:
        bad += 1
        print(f"DIFF {r['name']}")
        for line in sorted(set(want) - set(have)):
            print('  -', line)
        for line in sorted(set(have) - set(want)):
            print('  +', line)
print(f"{checked} repositories compared, {bad} differ")
sys.exit(1 if bad else 0)
PY
