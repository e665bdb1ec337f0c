#!/usr/bin/env bash
# Cross-checks alert-rule parsing with promtool (Debian package `prometheus`): every rules file
# that `promtool check rules` accepts must be read by shipshape without an SS001 finding.
# Not part of the test suite.
#
#   scripts/promtool-compare.sh DIR [SHIPSHAPE_BIN]
set -euo pipefail
dir=${1:?usage: promtool-compare.sh DIR [SHIPSHAPE_BIN]}
bin=${2:-target/release/shipshape}
command -v promtool >/dev/null || { echo "promtool not installed (apt-get install prometheus)"; exit 2; }
ss=$(mktemp)
trap 'rm -f "$ss"' EXIT
"$bin" check "$dir" --format json --fail-on never --select SS001 \
  | python3 -c 'import json,sys; [print(f["file"]) for r in json.load(sys.stdin)["roots"] for f in r["findings"]]' \
  | sort -u > "$ss"
accepted=0 mismatches=0
while IFS= read -r -d '' f; do
  grep -q 'groups:' "$f" || continue
  rel=${f#"$dir"/}
  if promtool check rules "$f" >/dev/null 2>&1; then
    accepted=$((accepted + 1))
    if grep -qxF "$rel" "$ss"; then
      echo "MISMATCH: promtool accepts $rel, shipshape reports SS001"
      mismatches=$((mismatches + 1))
    fi
  fi
done < <(find "$dir" -type f \( -name '*.yml' -o -name '*.yaml' \) -not -path '*/node_modules/*' -print0)
echo "promtool accepted $accepted rules files; mismatches: $mismatches"
[ "$mismatches" = 0 ]
