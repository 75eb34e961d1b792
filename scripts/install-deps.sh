#!/usr/bin/env bash
# Installs the build and test dependencies from Debian 12 packages (and the
# npm packages of the test suites). Idempotent; fast when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential cmake pkg-config git ca-certificates
      libuv1-dev libzmq3-dev cppzmq-dev libsimdjson-dev libcurl4-openssl-dev
      libmsgpack-cxx-dev catch2 libhttp-parser-dev libssl-dev libsqlite3-dev
      libsystemd-dev libcli11-dev libtomlplusplus-dev
      systemd   # systemd-analyze, for the unit checks (integration.deploy)
      dbus-daemon  # a private bus for `account sync-units` (integration.sync_units)
      # The boot test (tests/boot/boot-test.sh): a Debian root file system,
      # booted with systemd-nspawn and driven with nsenter; jq reads JSON.
      mmdebstrap systemd-container util-linux jq
      # The Debian package (scripts/build-deb.sh, tests/package): dpkg-shlibdeps
      # and dpkg-buildflags, help2man for the manual pages, lintian to check the .deb.
      dpkg-dev lintian help2man
      clang-14 libclang-rt-14-dev  # libFuzzer + sanitizers for tests/fuzz
      ccache
      prometheus  # promtool, to check the /metrics exposition
      chromium   # the dashboard's browser test (driven by playwright-core)
      # The remote-workers test (tests/system/remote_workers.sh): network
      # namespaces and veth pairs, and a capture of the broker's link.
      iproute2 tcpdump)
command -v node >/dev/null 2>&1 || PKGS+=(nodejs)
command -v npm >/dev/null 2>&1 || PKGS+=(npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Install only: no package's service (e.g. prometheus, installed for promtool) is started.
  # policy-rc.d is Debian's switch for that; ours is removed again afterwards.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && own_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$own_policy" -eq 0 ] || $SUDO rm -f "$policy"
fi
