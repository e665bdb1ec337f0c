#!/usr/bin/env bash
# Validates the deployment examples under examples/fleet/ offline; installs nothing (.ci/run
# installs actionlint, shellcheck and kubernetes-validate from PyPI):
#
#   scripts/validate-examples.sh
#
# - GitHub Actions workflows (examples/fleet/github/*.yml): actionlint, with shellcheck on
#   their `run:` scripts.
# - Kubernetes manifests (examples/fleet/kubernetes/*.yaml): kubernetes-validate, which
#   carries the Kubernetes JSON schemas (nothing is fetched), in strict mode (unknown fields
#   are errors) against Kubernetes $K8S_VERSION (default 1.30). It only warns, and exits 0,
#   for a kind it has no schema for, so any line of its output that is not a pass counts as
#   a failure here, as does a file with no resource. Its schemas do not list the values of
#   enumerated fields: `completionMode: Indexd` is not caught.
#
# Exits 1 when anything fails, after checking everything.
set -euo pipefail
cd "$(dirname "$0")/.."
k8s_version=${K8S_VERSION:-1.30}
failed=0

shopt -s nullglob
workflows=(examples/fleet/github/*.yml)
manifests=(examples/fleet/kubernetes/*.yaml)
if [ ${#workflows[@]} -eq 0 ] || [ ${#manifests[@]} -eq 0 ]; then
  echo "validate-examples: no workflow or no manifest found under examples/fleet/" >&2
  exit 1
fi

if actionlint "${workflows[@]}"; then
  echo "actionlint: ${#workflows[@]} workflow(s) passed"
else
  failed=1
fi

for f in "${manifests[@]}"; do
  if ! out=$(python3 -m kubernetes_validate --strict --kubernetes-version "$k8s_version" "$f" 2>&1); then
    failed=1
  fi
  printf '%s\n' "$out"
  if grep -v '^INFO ' <<<"$out" | grep -q .; then
    failed=1
  elif ! grep -q '^INFO ' <<<"$out"; then
    echo "ERROR $f: no Kubernetes resource in it"
    failed=1
  fi
done

if [ "$failed" -ne 0 ]; then
  echo "validate-examples: FAILED" >&2
fi
exit "$failed"
