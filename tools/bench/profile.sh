#!/usr/bin/env bash
# Profiles the gateway's per-chunk path (see profile.mjs for the options).
#   tools/bench/profile.sh --tool callgrind --proc frontend --out /tmp/prof
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/profile.mjs" "$@"
