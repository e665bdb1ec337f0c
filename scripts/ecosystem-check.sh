#!/usr/bin/env bash
# Ecosystem check: runs the release binary over every repository of the corpus and compares
# its findings with the reviewed snapshots under tests/ecosystem/.
#
#   scripts/ecosystem-check.sh MIRRORS [--corpus FILE] [--update] [--only REGEX] [--bin PATH]
#
# MIRRORS    a directory of bare git mirrors, one per repository, found as
#            MIRRORS/<owner>+<name>/repo, MIRRORS/<owner>+<name>, MIRRORS/<owner>__<name>.git or
#            MIRRORS/<owner>/<name>(.git).
# --corpus   the corpus table (default: ../shared/corpus.md beside the checkout): markdown rows
#            `| category | owner/name | commit | paths |`.
# --update   write the new findings into the snapshots instead of only showing the diff.
# --only     check only the repositories whose owner/name matches REGEX.
# --bin      the shipshape binary (default: target/release/shipshape, built if missing).
#
# For each row, the tree at the commit is exported with `git archive` (nothing is executed or
# fetched) and checked; every finding becomes one line `RULE file:line message`, sorted, in
# tests/ecosystem/<owner>__<name>[@<commit>].txt (the commit is added only when a repository
# appears more than once in the corpus). Tool notifications follow as `notification LEVEL
# file:line message` lines. The run prints a unified diff per repository whose findings
# changed, then a table (repository, findings, seconds) and exits 1 when anything changed
# (without --update) or a repository could not be checked.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mirrors=
corpus=$here/../shared/corpus.md
update=0
only=.
bin=
while [ $# -gt 0 ]; do
  case $1 in
    --corpus) corpus=$2; shift 2 ;;
    --update) update=1; shift ;;
    --only) only=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) mirrors=$1; shift ;;
  esac
done
[ -n "$mirrors" ] || { echo "usage: $0 MIRRORS [--corpus FILE] [--update] [--only REGEX]" >&2; exit 2; }
[ -f "$corpus" ] || { echo "corpus table not found: $corpus" >&2; exit 2; }
if [ -z "$bin" ]; then
  (cd "$here" && cargo build --release --quiet)
  bin=$here/target/release/shipshape
fi
snapdir=$here/tests/ecosystem
mkdir -p "$snapdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$here/scripts/ecosystem-common.sh"

status=0
summary=()
while read -r repo commit; do
  [ -n "$repo" ] || continue
  echo "$repo" | grep -Eq -- "$only" || continue
  snap=$snapdir/$(snapshot_name "$repo" "$commit").txt
  m=$(mirror_of "$repo")
  if [ -z "$m" ] || ! git -C "$m" cat-file -e "$commit^{commit}" 2>/dev/null; then
    summary+=("$(printf '%-55s %8s %8s' "$repo@$commit" "-" "missing")")
    continue
  fi
  tree=$work/${repo/\//__}@$commit
  mkdir -p "$tree"
  python3 "$here/scripts/export-tree.py" "$m" "$commit" "$tree"
  start=$(date +%s.%N)
  rc=0
  "$bin" check "$tree" --no-config --format json --fail-on never --output "$work/out.json" || rc=$?
  end=$(date +%s.%N)
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then status=1; fi
  jq -r '.roots[0] | (.findings[] | "\(.rule) \(.file):\(.line) \(.message | gsub("\n"; " "))"),
        (.notifications[] | "notification \(.level) \(.file // "-"):\(.line // 0) \(.message | gsub("\n"; " "))")' \
    "$work/out.json" | sed "s|$tree/||g" | LC_ALL=C sort > "$work/new.txt"
  n=$(grep -vc '^notification ' "$work/new.txt" || true)
  changed=
  if [ ! -f "$snap" ] || ! cmp -s "$snap" "$work/new.txt"; then
    changed=changed
    old=/dev/null
    [ -f "$snap" ] && old=$snap
    diff -u --label "$repo (snapshot)" --label "$repo (now)" "$old" "$work/new.txt" || true
    if [ $update -eq 1 ]; then cp "$work/new.txt" "$snap"; else status=1; fi
  fi
  summary+=("$(printf '%-55s %8s %8.2f %s' "$repo@${commit:0:7}" "$n" "$(awk "BEGIN{print $end - $start}")" "$changed")")
  rm -rf "$tree"
done <<< "$rows"

printf '\n%-55s %8s %8s\n' repository findings seconds
printf '%s\n' "${summary[@]}"
exit $status
