#!/usr/bin/env bash
# The ecosystem corpus through `shipshape fleet`: every corpus repository read straight from
# its bare mirror at the corpus commit (no checkout), through a generated manifest, and each
# repository's findings compared with its reviewed snapshot in tests/ecosystem/ (which
# scripts/ecosystem-check.sh makes from `git archive` exports, in the same line format).
# Shows that the git-tree source reads what a checkout holds.
#
#   scripts/ecosystem-fleet.sh MIRRORS [--corpus FILE] [--bin PATH]
#
# MIRRORS is laid out as for scripts/ecosystem-check.sh. Exit 1 when a repository's findings
# differ from its snapshot; rows whose commit the mirror lacks are listed and skipped.
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
snapdir=$here/tests/ecosystem
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$here/scripts/ecosystem-common.sh"

# The manifest: one entry per corpus row whose commit its mirror holds, named as its snapshot.
names=()
echo "repositories:" > "$work/manifest.yaml"
while read -r repo commit; do
  [ -n "$repo" ] || continue
  m=$(mirror_of "$repo")
  if [ -z "$m" ] || ! git -C "$m" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "missing $repo@$commit"
    continue
  fi
  name=$(snapshot_name "$repo" "$commit")
  names+=("$name")
  printf '  - {name: "%s", path: "%s", ref: "%s"}\n' "$name" "$m" "$commit" >> "$work/manifest.yaml"
done <<< "$rows"

"$bin" fleet --manifest "$work/manifest.yaml" --no-config --fail-on never --out "$work/out" || true

status=0
compared=0
for name in "${names[@]}"; do
  row=$(jq -c --arg n "$name" '.repositories[] | select(.name == $n)' "$work/out/scorecard.json")
  if [ "$(jq -r .status <<< "$row")" != ok ]; then
    echo "error $name: $(jq -r .error <<< "$row")"
    status=1
    continue
  fi
  jq -r '.findings[] | "\(.rule) \(.file):\(.line) \(.message | gsub("\n"; " "))"' <<< "$row" |
    LC_ALL=C sort > "$work/new.txt"
  grep -v '^notification ' "$snapdir/$name.txt" > "$work/want.txt" || true
  compared=$((compared + 1))
  if ! cmp -s "$work/want.txt" "$work/new.txt"; then
    diff -u --label "$name (snapshot)" --label "$name (fleet)" "$work/want.txt" "$work/new.txt" || true
    status=1
  fi
done
echo "$compared repositories compared; exit $status"
exit $status
