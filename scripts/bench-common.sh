# Shared set-up of the benchmark scripts (sourced, not run): builds the release binary unless
# SHIPSHAPE_BIN names one, sets `bin`, and makes a temporary `work` directory, removed on exit,
# holding an empty repository `repo` with a workflows directory.
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
[ -n "${SHIPSHAPE_BIN:-}" ] || cargo build --release --quiet
bin=${SHIPSHAPE_BIN:-$here/target/release/shipshape}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
mkdir -p "$repo/.github/workflows"
command -v hyperfine >/dev/null || { echo "hyperfine not installed (apt-get install hyperfine)"; exit 1; }
# Peak RSS in KiB of a command.
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -n 1; }
