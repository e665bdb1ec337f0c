# Shared part of the ecosystem scripts (sourced, not run). Needs `corpus` (the corpus table),
# `mirrors` (the directory of bare mirrors) and `snapdir` (tests/ecosystem). Sets `rows`
# ("owner/name commit" per corpus row) and `dups` (repositories listed more than once), and
# defines `mirror_of REPO` and `snapshot_name REPO COMMIT`.

# Rows of the corpus table: "owner/name commit".
rows=$(awk -F'|' 'NF >= 5 && $3 ~ /^ *[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+ *$/ && $4 ~ /^ *[0-9a-f]+ *$/ {
  gsub(/ /, "", $3); gsub(/ /, "", $4); print $3, $4 }' "$corpus")
dups=$(echo "$rows" | awk '{print $1}' | sort | uniq -d)

# The bare mirror of owner/name under $mirrors, in any of the layouts the scripts accept.
mirror_of() {
  local owner=${1%%/*} name=${1#*/}
  for d in "$mirrors/$owner+$name/repo" "$mirrors/$owner+$name" "$mirrors/${owner}__$name.git" \
           "$mirrors/$owner/$name.git" "$mirrors/$owner/$name"; do
    if [ -d "$d" ] && git -C "$d" rev-parse --git-dir >/dev/null 2>&1; then echo "$d"; return; fi
  done
}

# The snapshot's name (without .txt) of a corpus row: owner__name, with @commit when the
# repository is listed more than once.
snapshot_name() {
  local snap=${1/\//__}
  if echo "$dups" | grep -qx "$1"; then snap=$snap@$2; fi
  echo "$snap"
}
