#!/usr/bin/env bash
# Scaling of `shipshape fleet` on the shared fleet generator (../shared/bench/gen_fleet.sh
# OUT N: N small Node service repositories as git checkouts and bare mirrors): median wall
# time and peak RSS of RUNS runs per size, from the bare mirrors (read from their object
# databases, no checkout) and from the checkouts, all rules, every output written.
#
#   scripts/bench-fleet.sh [SIZES...]     (default: 250 500 1000 2000; RUNS=3)
#
# FLEET_DIR keeps the generated repositories between runs (default: a temporary directory,
# removed at the end); generating 1,000 repositories takes a minute or two (git is slow at
# creating repositories, not shipshape at reading them).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gen=${GEN:-$here/../shared/bench/gen_fleet.sh}
runs=${RUNS:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(250 500 1000 2000)
(cd "$here" && cargo build --release --quiet)
bin=$here/target/release/shipshape
work=$(mktemp -d)
keep=${FLEET_DIR:-}
trap 'rm -rf "$work"' EXIT

. "$here/scripts/bench-measure.sh"

printf '| repositories | from bare mirrors | from checkouts | findings |\n'
printf '|---:|---|---|---:|\n'
for n in "${sizes[@]}"; do
  fleet=${keep:-$work}/fleet$n
  if [ ! -d "$fleet/mirrors" ] || [ "$(ls "$fleet/mirrors" | wc -l)" -ne "$n" ]; then
    bash "$gen" "$fleet" "$n" >/dev/null
  fi
  mirrors=$(measure "$bin" fleet "$fleet/mirrors" --out "$work/out-m")
  checkouts=$(measure "$bin" fleet "$fleet/checkouts" --out "$work/out-c")
  findings=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["findings"])' "$work/out-m/scorecard.json")
  printf '| %d | %s | %s | %s |\n' "$n" "$mirrors" "$checkouts" "$findings"
done
