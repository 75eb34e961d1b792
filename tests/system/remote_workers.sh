#!/usr/bin/env bash
# Remote workers over CurveZMQ, on separate network stacks (docs/deployment.md,
# "Remote workers"). Builds a small network out of network namespaces: a hub
# namespace holding a bridge (10.199.0.254, where the mock upstream and the test
# itself run) and one namespace per process, each linked to the bridge by a veth
# pair:
#   broker 10.199.0.1   frontend 10.199.0.2
#   worker alice 10.199.0.3   worker bob 10.199.0.4   rogue worker 10.199.0.5
# then runs remote_workers.test.mjs in the hub namespace. Needs root (CI runs
# as root), iproute2, tcpdump and node; it fails, never skips, without them.
# Nothing is left behind: the namespaces (and every process in them) and the
# temporary directory are removed on exit.
#
# Usage: QP_BIN_DIR=build-h/bin/ tests/system/remote_workers.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${QP_BIN_DIR:?QP_BIN_DIR must name the directory of the built binaries}"

if [ "$(id -u)" -ne 0 ]; then
  echo "remote_workers: needs root (network namespaces)" >&2
  exit 1
fi
for tool in ip tcpdump node; do
  command -v "$tool" >/dev/null || { echo "remote_workers: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done

prefix="qprw$(printf '%04x' $((RANDOM)))"  # namespace names unique to this run
dir=$(mktemp -d /tmp/qp-remote-workers-XXXXXX)
roles=(b f w1 w2 w3)
namespaces=("${prefix}hub")
for r in "${roles[@]}"; do namespaces+=("$prefix$r"); done

cleanup() {
  for ns in "${namespaces[@]}"; do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

hub="${prefix}hub"
ip netns add "$hub"
ip -n "$hub" link set lo up
ip -n "$hub" link add br0 type bridge
ip -n "$hub" addr add 10.199.0.254/24 dev br0
ip -n "$hub" link set br0 up
n=1
for r in "${roles[@]}"; do
  ns="$prefix$r"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # veth-<role> stays in the hub on the bridge; its peer is the namespace's eth0.
  ip -n "$hub" link add "veth-$r" type veth peer name eth0 netns "$ns"
  ip -n "$hub" link set "veth-$r" master br0 up
  ip -n "$ns" addr add "10.199.0.$n/24" dev eth0
  ip -n "$ns" link set eth0 up
  n=$((n + 1))
done

cd "$here/.."
QP_RW_PREFIX="$prefix" QP_RW_DIR="$dir" QP_BIN_DIR="$QP_BIN_DIR" \
  ip netns exec "$hub" node --test --test-concurrency=1 "$here/remote_workers.test.mjs"
