#!/usr/bin/env bash
# The real coding agents as tests (docs/api.md "Coding agents"): installs the
# pinned Claude Code and Codex CLIs from npm into a cache directory (once; later
# runs reuse them), then runs tests/agents/*.test.mjs, which start the real
# stack on mock-qwen (tests/integration/harness.mjs) and drive each CLI
# headless: a plain answer and a tool round through its own shell tool.
#
#   tests/agents/run.sh [claude] [codex]     (default: both)
#
# Environment:
#   QP_BIN_DIR          the built binaries (default: build-test/bin/)
#   QP_AGENTS_CACHE     where the CLIs are installed (default: ~/.cache/qwenproxy/agents)
#   QP_CLAUDE_BIN, QP_CODEX_BIN   use these binaries instead of installing
#   QP_TEST_VERBOSE=1   echo the CLIs' and the stack's output
#
# Exit status: 0 passed, 1 failed, 77 skipped (no CLI could be installed, e.g.
# offline: ctest reports the test as skipped and this script says why).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${QP_AGENTS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/qwenproxy/agents}
CLAUDE_VERSION=2.1.197   # @anthropic-ai/claude-code (Node 20: pin it, a bare install picks an old release)
CODEX_VERSION=0.171.0    # @openai/codex
export QP_BIN_DIR=${QP_BIN_DIR:-$ROOT/build-test/bin/}

agents=("$@")
[ ${#agents[@]} -gt 0 ] || agents=(claude codex)

# install_cli NAME PACKAGE VERSION BIN: prints the binary's path, or fails.
# Installs into a temporary directory renamed into place, so an interrupted
# install is never taken for a complete one.
install_cli() {
  local name=$1 pkg=$2 version=$3 bin=$4
  local dir="$CACHE/$name-$version"
  if [ ! -x "$dir/node_modules/.bin/$bin" ]; then
    mkdir -p "$CACHE"
    local tmp
    tmp=$(mktemp -d "$CACHE/.$name-XXXXXX")
    echo "agents: installing $pkg@$version into $dir" >&2
    if ! npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error "$pkg@$version" >&2; then
      rm -rf "$tmp"
      return 1
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  local got
  got=$(HOME="$CACHE" "$dir/node_modules/.bin/$bin" --version 2>/dev/null) || return 1
  case "$got" in *"$version"*) ;; *) echo "agents: $dir holds '$got', not $version" >&2; return 1 ;; esac
  echo "$dir/node_modules/.bin/$bin"
}

tests=()
skipped=()
for a in "${agents[@]}"; do
  case "$a" in
    claude)
      if [ -z "${QP_CLAUDE_BIN:-}" ]; then
        QP_CLAUDE_BIN=$(install_cli claude-code @anthropic-ai/claude-code "$CLAUDE_VERSION" claude) || QP_CLAUDE_BIN=
      fi
      if [ -n "$QP_CLAUDE_BIN" ]; then export QP_CLAUDE_BIN; tests+=("$ROOT/tests/agents/claude_code.test.mjs")
      else skipped+=("Claude Code $CLAUDE_VERSION"); fi ;;
    codex)
      if [ -z "${QP_CODEX_BIN:-}" ]; then
        QP_CODEX_BIN=$(install_cli codex @openai/codex "$CODEX_VERSION" codex) || QP_CODEX_BIN=
      fi
      if [ -n "$QP_CODEX_BIN" ]; then export QP_CODEX_BIN; tests+=("$ROOT/tests/agents/codex.test.mjs")
      else skipped+=("Codex $CODEX_VERSION"); fi ;;
    *) echo "usage: $0 [claude] [codex]" >&2; exit 2 ;;
  esac
done

for s in "${skipped[@]}"; do
  echo "agents: SKIPPED $s: the CLI could not be installed from npm (offline?) and QP_*_BIN is not set" >&2
done
if [ ${#tests[@]} -eq 0 ]; then exit 77; fi
if [ ! -x "$QP_BIN_DIR/qwenproxy" ]; then
  echo "agents: no qwenproxy in $QP_BIN_DIR (build first, or set QP_BIN_DIR)" >&2
  exit 1
fi
cd "$ROOT/tests"
node --test --test-concurrency=1 "${tests[@]}"
# A CLI that could not be installed is a skip, never a pass in disguise.
if [ ${#skipped[@]} -gt 0 ]; then exit 77; fi
