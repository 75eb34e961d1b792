#!/usr/bin/env bash
# Runs every test (as root): Catch2 unit tests, integration tests that spawn the real
# processes against the mock upstream, the official-SDK client tests (all built
# with AddressSanitizer + UndefinedBehaviorSanitizer), the dashboard in headless
# Chromium (tests/browser), the real Claude Code and Codex CLIs (tests/agents,
# skipped when they cannot be installed), the libFuzzer targets (tests/fuzz),
# the installed units under a booted systemd (tests/boot) and remote workers
# over CurveZMQ in network namespaces (tests/system).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD=${QP_TEST_BUILD_DIR:-build-test}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DQP_SANITIZE=ON -DQP_WERROR=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
(cd tests && npm ci --no-audit --no-fund --loglevel=error)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
ctest --output-on-failure --timeout 600 "$@"
