# `measure COMMAND...` (sourced, not run): the median wall seconds and the peak RSS (MB) of
# that run, of `runs` runs of a command, as "1.23 s 45 MB". Needs `runs` and a `work`
# directory.
measure() {
  local out=() i
  for i in $(seq 1 "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/t" "$@" >/dev/null 2>&1 || true
    out+=("$(tail -1 "$work/t")")
  done
  printf '%s\n' "${out[@]}" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.2f s %d MB", $1, $2 / 1024 }'
}
