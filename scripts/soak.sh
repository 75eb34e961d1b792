#!/usr/bin/env bash
# Soak run (not in CI): builds the Release binaries if needed, then runs
# tests/soak/soak.mjs: the whole stack against mock-qwen with 3 accounts,
# mixed traffic (streaming, non-streaming, tools, conversations) and a fault
# every 20 s (mock fault switches, kill -9 of a worker or of the broker),
# sampling each process's RSS every 10 s. Prints the RSS slope per process and
# the responses by class; exits 1 on any bad response or unexpected exit.
#
#   scripts/soak.sh                  # 30 minutes
#   scripts/soak.sh --minutes 5      # shorter
#   scripts/soak.sh --minutes 60 --clients 16 --json soak.json
# Other options (passed to soak.mjs): --clients N (8), --think-ms MS (100),
# --fault-every-s S (20), --sample-every-s S (10), --warmup-minutes M
# (20% of the run, at most 5), --json FILE, --no-kills (only mock faults, so
# the broker's and workers' RSS is sampled over the whole run).
# QP_SOAK_BUILD_DIR picks the build directory (default build-release).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${QP_SOAK_BUILD_DIR:-build-release}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target qwenproxy qp-frontend qp-broker qp-worker mock-qwen >/dev/null
QP_BIN_DIR="$PWD/$BUILD/bin/" exec node tests/soak/soak.mjs "$@"
