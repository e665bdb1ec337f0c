#!/bin/sh
# Usage: rollout.sh ENVIRONMENT IMAGE — points the environment's deployment at IMAGE.
set -eu
kubectl --context "$1" set image deployment/store store="$2"
kubectl --context "$1" rollout status deployment/store --timeout=5m
