#!/usr/bin/env bash
# Scaling of `shipshape check` on the shared monorepo generator
# (../shared/bench/gen_monorepo.sh DIR N R, with R = 2N/5 rule files, so 500 services have the
# 200 rule files of the "500-service monorepo"): median wall time and peak RSS of RUNS runs
# per size, all rules, SARIF written to a file. Peer tools on the same inputs where they are
# installed: hadolint (Dockerfiles), zizmor (workflows), checkov (Dockerfiles and workflows).
#
#   scripts/bench-scale.sh [SIZES...]     (default: 250 500 1000 2000; RUNS=3)
#
# Peers run at the sizes in PEER_SIZES (default 500), PEER_RUNS times (default 1: checkov
# takes about a minute there).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gen=${GEN:-$here/../shared/bench/gen_monorepo.sh}
runs=${RUNS:-3}
peer_sizes=" ${PEER_SIZES:-500} "
peer_runs=${PEER_RUNS:-1}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(250 500 1000 2000)
(cd "$here" && cargo build --release --quiet)
bin=$here/target/release/shipshape
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$here/scripts/bench-measure.sh"

printf '| services | files | shipshape | hadolint (Dockerfiles) | zizmor (workflows) | checkov (Dockerfiles + workflows) |\n'
printf '|---:|---:|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  repo=$work/mono$n
  bash "$gen" "$repo" "$n" $((n * 2 / 5)) >/dev/null
  files=$(find "$repo" -type f | wc -l)
  ours=$(measure "$bin" check "$repo" --format sarif --output "$work/out.sarif")
  hado=-; ziz=-; chk=-
  case "$peer_sizes" in *" $n "*) ;; *) printf '| %d | %d | %s | - | - | - |\n' "$n" "$files" "$ours"; continue ;; esac
  local_runs=$runs; runs=$peer_runs
  if command -v hadolint >/dev/null; then
    hado=$(measure sh -c "find '$repo' -name Dockerfile -print0 | xargs -0 hadolint --no-fail")
  fi
  if command -v zizmor >/dev/null; then
    ziz=$(measure zizmor --offline --no-exit-codes "$repo/.github/workflows")
  fi
  if command -v checkov >/dev/null; then
    chk=$(measure checkov -d "$repo" --framework dockerfile github_actions --quiet --compact --skip-download)
  fi
  runs=$local_runs
  printf '| %d | %d | %s | %s | %s | %s |\n' "$n" "$files" "$ours" "$hado" "$ziz" "$chk"
done
