#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install dependencies, build, and
# start the whole service (demo mode against the built-in mock upstream when
# no Qwen account is configured). Extra arguments go to `qwenproxy up`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DQP_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)"
exec ./build/bin/qwenproxy up "$@"
