#!/usr/bin/env bash
# Runs the standard benchmark suite and writes docs/benchmarks.md.
#   tools/bench/run-suite.sh [--quick | --smoke] [--only P1,P3] [--bin-dir DIR]
#                            [--out FILE | --no-doc] [--json FILE] [--keep]
# Binaries come from --bin-dir, else $QP_BIN_DIR, else build/bin (a Release
# build: cmake -DCMAKE_BUILD_TYPE=Release -DQP_SANITIZE=OFF).
set -euo pipefail
# 10,000 streams need ~10,000 descriptors in the generator, the frontend, the
# worker and the mock each: raise the soft limit for every child.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$(dirname "$0")/run-suite.mjs" "$@"
