#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang-14 (ASan + UBSan) and
# runs them: first every committed regression input and seed (each must
# pass), then fuzzing for a while. Any crash, leak, timeout, out-of-memory or
# broken invariant fails the run (exit 1); the input is kept under
# BUILD/artifacts/TARGET/ and the log under BUILD/logs/TARGET.log.
#
#   tests/fuzz/run.sh                      every target, 20 s each (CI)
#   tests/fuzz/run.sh --seconds 600        longer
#   tests/fuzz/run.sh --runs 10000000      a fixed number of executions per target
#   tests/fuzz/run.sh --target codec --target config
#   tests/fuzz/run.sh --regressions        only replay regressions and seeds
#   tests/fuzz/run.sh --fast --runs 10000000
#                   long runs: UBSan only (no ASan), several times faster; it
#                   grows the same corpus (build-fuzz/corpus), so follow it with
#   tests/fuzz/run.sh --runs 0             which replays that corpus under ASan
#
# Options: --jobs J (targets run at once; default: the number of cores, at
# most 2), --build-dir DIR (default build-fuzz at the repository root).
# The corpus each target grows is kept in BUILD/corpus/TARGET and reused by
# the next run; the committed seeds in tests/fuzz/corpus/ are never changed.
# To add a finding as a regression: copy the artifact to
# tests/fuzz/regressions/TARGET/ with a descriptive name.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

SECONDS_EACH=20
RUNS=""
TARGETS=()
JOBS=""
BUILD="$ROOT/build-fuzz"
REGRESSIONS_ONLY=0
FAST=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_EACH="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --target) TARGETS+=("$2"); shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --build-dir) BUILD="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --regressions) REGRESSIONS_ONLY=1; shift ;;
    --fast) FAST=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# Per target: max input length, dictionary, per-input timeout (s).
declare -A MAX_LEN=(
  [http_request]=16384 [chat_request]=16384 [tool_schema]=8192 [tool_arguments]=4096
  [codec]=4096 [sse_stream]=16384 [native_stream]=8192 [xml_stream]=8192
  [account_import]=16384 [config]=4096 [messages_request]=16384 [responses_request]=16384 [multipart]=8192
  [chunk_batch]=4096)
declare -A DICT=(
  [http_request]=http [chat_request]=json [tool_schema]=json [tool_arguments]=json
  [codec]=msgpack [sse_stream]=sse [native_stream]=xml_tools [xml_stream]=xml_tools
  [account_import]=account [config]=toml [messages_request]=json [responses_request]=json
  [multipart]=multipart [chunk_batch]=msgpack)
ALL=(http_request chat_request tool_schema tool_arguments codec sse_stream native_stream
     xml_stream account_import config messages_request responses_request multipart chunk_batch)
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")
for t in "${TARGETS[@]}"; do
  [ -n "${MAX_LEN[$t]:-}" ] || { echo "run.sh: unknown target $t (${ALL[*]})" >&2; exit 2; }
done
if [ -z "$JOBS" ]; then
  JOBS=$(nproc)
  [ "$JOBS" -le 2 ] || JOBS=2
fi
TIMEOUT_S=10     # one input taking longer is a finding (hang / blow-up)
RSS_LIMIT_MB=2048

CORPUS_ROOT="$BUILD/corpus"
SANITIZERS="address,undefined"
if [ "$FAST" -eq 1 ]; then
  CORPUS_ROOT="$BUILD/corpus"        # the ASan build's corpus, grown in place
  BUILD="$BUILD-fast"
  SANITIZERS="undefined"
fi

# ---- build
CXX_BIN=${QP_FUZZ_CXX:-clang++-14}
CC_BIN=${QP_FUZZ_CC:-clang-14}
command -v "$CXX_BIN" >/dev/null || { echo "run.sh: $CXX_BIN not found (scripts/install-deps.sh)" >&2; exit 1; }
LAUNCHER=()
if command -v ccache >/dev/null; then
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
echo "fuzz: building into $BUILD"
cmake -S "$HERE" -B "$BUILD" -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_C_COMPILER="$CC_BIN" \
  -DQP_FUZZ_SANITIZERS="$SANITIZERS" \
  "${LAUNCHER[@]}" >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 1; }
rm -f "$BUILD.configure.log"
cmake --build "$BUILD" -j"$(nproc)" --target "${TARGETS[@]/#/fuzz_}" >"$BUILD/build.log" 2>&1 ||
  { tail -50 "$BUILD/build.log"; exit 1; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$BUILD/logs"

# ---- one target: regressions + seeds, then fuzzing. Writes BUILD/logs/T.{log,result}.
run_target() {
  local t="$1" bin="$BUILD/fuzz_$1" log="$BUILD/logs/$1.log" res="$BUILD/logs/$1.result"
  local art="$BUILD/artifacts/$t/" work="$CORPUS_ROOT/$t"
  local common=(-max_len="${MAX_LEN[$t]}" -rss_limit_mb=$RSS_LIMIT_MB -timeout=$TIMEOUT_S
                -dict="$HERE/dict/${DICT[$t]}.dict" -artifact_prefix="$art")
  mkdir -p "$art" "$work"
  : >"$log"
  local replay=()
  for d in "$HERE/regressions/$t" "$HERE/corpus/$t"; do
    [ -d "$d" ] && while IFS= read -r -d '' f; do replay+=("$f"); done \
      < <(find "$d" -type f ! -name 'README*' -print0 | sort -z)
  done
  if [ ${#replay[@]} -gt 0 ]; then
    if ! "$bin" "${common[@]}" "${replay[@]}" >>"$log" 2>&1; then
      echo "FAIL replay" >"$res"
      return
    fi
  fi
  if [ "$REGRESSIONS_ONLY" -eq 1 ]; then
    echo "ok replay ${#replay[@]} inputs" >"$res"
    return
  fi
  local limit=(-max_total_time="$SECONDS_EACH")
  [ -z "$RUNS" ] || limit=(-runs="$RUNS")
  local rc=0
  "$bin" "${common[@]}" "${limit[@]}" -print_final_stats=1 "$work" "$HERE/corpus/$t" \
    >>"$log" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    # libFuzzer's last status line: "#N DONE cov: C ft: F corp: K/S lim: L exec/s: E rss: R"
    local done_line
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
    echo "ok ${done_line:-"(no DONE line)"}" >"$res"
  else
    local why
    why=$(grep -m1 -E 'ERROR: |INVARIANT BROKEN|SUMMARY' "$log" || true)
    echo "FAIL fuzzing (exit $rc) ${why}" >"$res"
  fi
}

echo "fuzz: ${#TARGETS[@]} targets, ${JOBS} at a time, $([ -n "$RUNS" ] && echo "$RUNS runs" || echo "${SECONDS_EACH}s") each"
pids=()
for t in "${TARGETS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  rm -f "$BUILD/logs/$t.result"
  run_target "$t" &
  pids+=($!)
done
wait

failed=0
printf '%-16s %s\n' target result
for t in "${TARGETS[@]}"; do
  r=$(cat "$BUILD/logs/$t.result" 2>/dev/null || echo "FAIL (no result)")
  printf '%-16s %s\n' "$t" "$r"
  if [[ "$r" != ok* ]]; then
    failed=1
    echo "---- $t: $BUILD/logs/$t.log (tail)"
    tail -40 "$BUILD/logs/$t.log"
    echo "---- artifacts: $(ls "$BUILD/artifacts/$t" 2>/dev/null | tr '\n' ' ')"
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: FAILED (add a fixed finding to tests/fuzz/regressions/TARGET/)"
  exit 1
fi
echo "fuzz: all targets passed"
