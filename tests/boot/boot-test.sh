#!/usr/bin/env bash
# The installed service under a real, booted systemd.
#
# Builds (and caches) a Debian 12 root file system with mmdebstrap, boots it
# with systemd-nspawn (-b, private network), drives it with nsenter and
# follows docs/deployment.md: installs the Debian package with dpkg inside
# the running container (its postinst makes the user and the directories,
# and starts nothing), or, with QP_BOOT_INSTALL=cmake, installs the build
# tree with `cmake --install` and runs systemd-sysusers and systemd-tmpfiles
# as the guide's "Install from the source tree" says; then account import,
# systemctl enable, and the rest. The upstream is mock-qwen, run as a unit
# inside the container.
#
# Every check prints "ok - …" or "not ok - …"; the last line is
# "N passed, N failed". Exit status 0 only when every check passed. A machine
# that cannot build or boot the container fails the run with the reason: the
# test never skips itself.
#
# Usage: tests/boot/boot-test.sh            (as root)
#   QP_BOOT_INSTALL    deb (default): the package from scripts/build-deb.sh (build-deb/);
#                      cmake: `cmake --install` of a build in build/, configured like scripts/up.sh
#   QP_BOOT_BUILD_DIR  an existing build to use (not built again; with deb, its .deb is used)
#   QP_BOOT_CACHE      where root file systems are cached (default /var/cache/qwenproxy-boot-test)
#   QP_BOOT_KEEP=1     keep the container's directory and logs after the run
#   QP_BOOT_UNITS_FROM=REV  install the systemd/ units of git revision REV instead of the
#                      working tree's (to show that the test fails on old units)
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
INSTALL=${QP_BOOT_INSTALL:-deb}
case $INSTALL in
  deb) BUILD=${QP_BOOT_BUILD_DIR:-$SRC/build-deb} ;;
  cmake) BUILD=${QP_BOOT_BUILD_DIR:-$SRC/build} ;;
  *) echo "boot-test: QP_BOOT_INSTALL must be deb or cmake, not '$INSTALL'"; exit 1 ;;
esac
CACHE=${QP_BOOT_CACHE:-/var/cache/qwenproxy-boot-test}
SUITE=bookworm
# systemd itself, and curl and procps for the checks made inside the
# container. The run-time libraries of the installed programs are added after
# the build (runtime_packages), so the list follows what the build links.
BASE_PACKAGES=(systemd systemd-sysv dbus ca-certificates curl procps)
MOCK_PORT=18080   # inside the container's own network namespace: nothing else can hold it
API_PORT=8080     # the socket unit's shipped ListenStream=127.0.0.1:8080
API_KEY="boot-test-key-$RANDOM$RANDOM"
SECRET="boot-secret-$RANDOM$RANDOM"

passed=0
failed=0
say() { printf '%s\n' "$*"; }
ok() { passed=$((passed + 1)); say "ok - $*"; }
not_ok() { failed=$((failed + 1)); say "not ok - $*"; }
# check NAME CMD...: one check, by the exit status of CMD.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}
die() {
  not_ok "$*"
  finish
}

# json_ok FILTER DOC: DOC is JSON and FILTER holds on it (jq -e alone
# succeeds on empty input).
json_ok() { [ -n "$2" ] && jq -e "$1" >/dev/null 2>&1 <<<"$2"; }
jq_in() { json_ok "$1" "$(cat)"; }  # the same, on stdin

# wait_until SECONDS CMD...: polls CMD (every 0.2 s) until it succeeds. The
# condition is what synchronises; the interval only bounds the polling cost.
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

[ "$(id -u)" -eq 0 ] || { say "boot-test: must run as root (systemd-nspawn, nsenter)"; exit 1; }
for tool in mmdebstrap systemd-nspawn nsenter jq cmake; do
  command -v "$tool" >/dev/null 2>&1 || {
    say "boot-test: $tool is missing: run scripts/install-deps.sh"
    exit 1
  }
done

WORK=$(mktemp -d /var/tmp/qp-boot.XXXXXX)
ROOTFS=$WORK/root
CONSOLE=$WORK/console.log
MACHINE=qpboot-$$
LOOP_PID=
LEADER=

finish() {
  if [ -n "$LOOP_PID" ] && kill -0 "$LOOP_PID" 2>/dev/null; then
    touch "$WORK/stop"
    [ -n "$LEADER" ] && C systemctl poweroff >/dev/null 2>&1
    wait_until 30 bash -c "! kill -0 $LOOP_PID 2>/dev/null" || pkill -KILL -f -- "-D $ROOTFS " 2>/dev/null
    wait "$LOOP_PID" 2>/dev/null
  fi
  if [ "$failed" -ne 0 ]; then
    say "--- last console lines ($CONSOLE)"
    tail -n 40 "$CONSOLE" 2>/dev/null
  fi
  if [ "${QP_BOOT_KEEP:-0}" = 1 ]; then
    say "boot-test: kept $WORK"
  else
    rm -rf "$WORK"
  fi
  say "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
  exit $?
}
trap 'failed=$((failed + 1)); say "not ok - interrupted"; finish' INT TERM

# ---------------------------------------------------------------------------
# 1. The build (the Debian package, or the same configuration as
#    scripts/up.sh) and the root file system.

DEB=
if [ "$INSTALL" = deb ]; then
  if [ -z "${QP_BOOT_BUILD_DIR:-}" ]; then
    QP_DEB_BUILD_DIR=$BUILD "$SRC/scripts/build-deb.sh" >"$WORK/build.log" 2>&1 ||
      { tail -n 30 "$WORK/build.log"; die "scripts/build-deb.sh"; }
  fi
  DEB=$(ls "$BUILD"/qwenproxy_*.deb 2>/dev/null | head -n1)
  [ -s "$DEB" ] || die "no qwenproxy_*.deb in $BUILD"
elif [ -z "${QP_BOOT_BUILD_DIR:-}" ]; then
  launcher=()
  command -v ccache >/dev/null 2>&1 &&
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DQP_BUILD_TESTS=OFF "${launcher[@]}" \
    >/dev/null || die "configure $BUILD"
  cmake --build "$BUILD" -j"$(nproc)" >"$WORK/build.log" 2>&1 ||
    { tail -n 30 "$WORK/build.log"; die "build $BUILD"; }
fi

# The Debian packages that hold the shared libraries the installed programs
# load (what a package's shlibs:Depends would list), looked up on this
# machine, which built them.
runtime_packages() {
  local lib pkg
  for lib in $(ldd "$BUILD"/bin/{qwenproxy,qp-broker,qp-frontend,qp-worker,mock-qwen} |
               awk '/=> \//{print $3}' | sort -u); do
    pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || dpkg -S "${lib#/usr}" 2>/dev/null) ||
      { say "boot-test: no Debian package holds $lib" >&2; return 1; }
    printf '%s\n' "${pkg%%:*}"
  done | sort -u
}
runtime=$(runtime_packages) && [ -n "$runtime" ] || die "run-time packages of $BUILD/bin"
mapfile -t RUNTIME <<<"$runtime"
PACKAGES=("${BASE_PACKAGES[@]}" "${RUNTIME[@]}")
key=$(printf '%s\n' "$SUITE" minbase "${PACKAGES[@]}" | sha256sum | cut -c1-16)
tarball=$CACHE/rootfs-$SUITE-$key.tar
if [ ! -s "$tarball" ]; then
  mkdir -p "$CACHE"
  say "boot-test: building the $SUITE root file system (cached as $tarball)"
  include=$(IFS=,; echo "${PACKAGES[*]}")
  mmdebstrap --variant=minbase --format=tar --include="$include" "$SUITE" "$tarball.tmp" \
    >"$WORK/mmdebstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/mmdebstrap.log"; rm -f "$tarball.tmp"; die "mmdebstrap $SUITE (is the Debian mirror reachable?)"; }
  mv "$tarball.tmp" "$tarball"
fi
mkdir -p "$ROOTFS"
tar -C "$ROOTFS" --numeric-owner -xf "$tarball" || die "unpack $tarball"

# ---------------------------------------------------------------------------
# 2. Install from the source tree as docs/deployment.md "Install from the
#    source tree" says (the package is installed after the boot, in 4). The
#    build was configured with the default prefix (/usr/local): installing
#    with --prefix /usr must give units that name /usr/bin.

# Old units, substituted the way the old CMakeLists.txt did.
old_units() {
  [ -n "${QP_BOOT_UNITS_FROM:-}" ] || return 0
  for unit in qwenproxy-broker.service qwenproxy-frontend.service qwenproxy-frontend.socket \
              'qwenproxy-worker@.service'; do
    git -C "$SRC" show "$QP_BOOT_UNITS_FROM:systemd/$unit.in" |
      sed -e 's|@QP_BINDIR@|/usr/bin|g' -e 's|@QP_SYSCONFDIR@|/etc/qwenproxy|g' \
          -e 's|@QP_DOCDIR@|/usr/share/doc/qwenproxy|g' >"$ROOTFS/usr/lib/systemd/system/$unit"
  done
  say "boot-test: units from $QP_BOOT_UNITS_FROM"
}
units_name_usr_bin() {
  check "installed units name the install prefix (ExecStart=/usr/bin/…)" \
    grep -q '^ExecStart=/usr/bin/qp-worker ' "$ROOTFS/usr/lib/systemd/system/qwenproxy-worker@.service"
}
if [ "$INSTALL" = cmake ]; then
  DESTDIR=$ROOTFS cmake --install "$BUILD" --prefix /usr >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; die "cmake --install"; }
  old_units
  units_name_usr_bin
else
  cp "$DEB" "$ROOTFS/root/" || die "copy $DEB into the container"
fi

# The test's own upstream: mock-qwen as a unit (not part of the product).
cat >"$ROOTFS/etc/systemd/system/mock-qwen.service" <<EOF
[Unit]
Description=mock of chat.qwen.ai for the boot test
Before=qwenproxy.target
[Service]
Type=notify
Environment=MOCK_QWEN_JWT_SECRET=$SECRET
ExecStart=/usr/bin/mock-qwen --port $MOCK_PORT
DynamicUser=yes
[Install]
WantedBy=multi-user.target
EOF
# With the package, /usr/bin/mock-qwen only comes with it: enabled after the install (4).
[ "$INSTALL" = deb ] ||
  ln -s /etc/systemd/system/mock-qwen.service "$ROOTFS/etc/systemd/system/multi-user.target.wants/mock-qwen.service"

# Credentials a browser would give: "Copy as cURL" of a completions request.
TOKEN1=$("$BUILD/bin/mock-qwen" mint-token --user alice --secret "$SECRET") || die "mint-token"
TOKEN2=$("$BUILD/bin/mock-qwen" mint-token --user alice --secret "$SECRET" --ttl-s 1209600)
write_curl() { # FILE TOKEN
  cat >"$1" <<EOF
curl 'https://chat.qwen.ai/api/v2/chat/completions?chat_id=9f2c' \\
  -H 'accept: */*' \\
  -H 'bx-umidtoken: T2gAbootTestUmid$RANDOM==' \\
  -H 'content-type: application/json' \\
  -b 'cna=AbCdEfGh; token=$2; ssxmod_itna=Qq+xuD$RANDOM' \\
  --data-raw '{"stream":true}'
EOF
  chmod 600 "$1"
}
write_curl "$ROOTFS/root/alice.curl" "$TOKEN1"
write_curl "$ROOTFS/root/alice-new.curl" "$TOKEN2"
TOKEN3=$("$BUILD/bin/mock-qwen" mint-token --user bob --secret "$SECRET") || die "mint-token bob"
write_curl "$ROOTFS/root/bob.curl" "$TOKEN3"
fp() { printf '%s' "$1" | sha256sum | cut -c1-16; }

# ---------------------------------------------------------------------------
# 3. Boot. systemd-nspawn exits with 133 when the container reboots; like
#    systemd-nspawn@.service (RestartForceExitStatus=133), start it again.

boot_loop() {
  local rc
  while :; do
    systemd-nspawn -q -D "$ROOTFS" -b --register=no --keep-unit --private-network \
      -M "$MACHINE" >>"$CONSOLE" 2>&1 </dev/null
    rc=$?
    [ $rc -eq 133 ] && [ ! -e "$WORK/stop" ] || break
    echo "=== boot-test: container rebooted" >>"$CONSOLE"
  done
  echo "$rc" >"$WORK/nspawn.rc"
}
boot_loop &
LOOP_PID=$!

# PID 1 of the container: the child of the running systemd-nspawn.
find_leader() {
  local ns
  ns=$(pgrep -f -x -- "systemd-nspawn -q -D $ROOTFS -b --register=no --keep-unit --private-network -M $MACHINE" | head -n1)
  [ -n "$ns" ] || return 1
  local child
  child=$(pgrep -P "$ns" | head -n1)
  [ -n "$child" ] && [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ] || return 1
  LEADER=$child
}
# C CMD...: run CMD inside the container (all its namespaces and its root).
C() {
  nsenter -t "$LEADER" -m -u -i -n -p -r -w -- \
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
booted() { C systemctl is-system-running --wait >/dev/null 2>&1 || [ "$(C systemctl is-system-running 2>/dev/null)" = degraded ]; }

wait_until 60 find_leader || die "the container did not start (systemd-nspawn: $(tail -n 3 "$CONSOLE"))"
wait_until 90 booted || die "the container's systemd did not finish booting: $(C systemctl is-system-running 2>&1)"
ok "a Debian 12 container booted systemd $(C systemctl --version | head -n1 | cut -d' ' -f2)"

# ---------------------------------------------------------------------------
# 4. docs/deployment.md, step by step.

if [ "$INSTALL" = deb ]; then
  # "Install the Debian package", on the running system: postinst makes the
  # user and the directories, reloads systemd, and starts nothing.
  dpkg_install() { C dpkg -i "/root/$(basename "$DEB")" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log"; return 1; }; }
  check "dpkg -i $(basename "$DEB") in the running container" dpkg_install
  check "postinst created the qwenproxy user" C id qwenproxy
  check "postinst (tmpfiles) made /etc/qwenproxy/accounts owned by qwenproxy" \
    test "$(C stat -c %U:%a /etc/qwenproxy/accounts)" = qwenproxy:700
  nothing_running() { [ -z "$(C systemctl list-units --no-legend --plain --state=active,activating 'qwenproxy*')" ]; }
  check "the package started no unit" nothing_running
  check "the package enabled no unit (qwenproxy.target: $(C systemctl is-enabled qwenproxy.target 2>&1))" \
    test "$(C systemctl is-enabled qwenproxy.target 2>&1) $(C systemctl is-enabled qwenproxy-frontend.socket 2>&1)" = "disabled disabled"
  old_units
  [ -z "${QP_BOOT_UNITS_FROM:-}" ] || C systemctl daemon-reload
  units_name_usr_bin
  C systemctl enable --now mock-qwen.service >/dev/null 2>&1
else
  C systemd-sysusers >/dev/null 2>&1
  check "systemd-sysusers created the qwenproxy user" C id qwenproxy
  C systemd-tmpfiles --create qwenproxy.conf >/dev/null 2>&1
  check "systemd-tmpfiles made /etc/qwenproxy/accounts owned by qwenproxy" \
    test "$(C stat -c %U:%a /etc/qwenproxy/accounts)" = qwenproxy:700
  C systemctl daemon-reload
fi
wait_until 30 C systemctl is-active --quiet mock-qwen.service || die "mock-qwen.service did not start"
# "Configure": the upstream is the mock; an API key as the guide recommends.
C sed -i -e "s|^# base_url = .*|base_url = \"http://127.0.0.1:$MOCK_PORT\"|" \
  -e "s|^# api_key = .*|api_key = \"$API_KEY\"|" /etc/qwenproxy/qwenproxy.toml
check "configuration edited" C grep -q "^api_key = \"$API_KEY\"" /etc/qwenproxy/qwenproxy.toml
check "qwenproxy account import alice" C qwenproxy account import alice --from /root/alice.curl
check "the account file is 0600 and owned by qwenproxy" \
  test "$(C stat -c %U:%a /etc/qwenproxy/accounts/alice.toml)" = qwenproxy:600
check "qwenproxy account list" C qwenproxy account list
# "Start", with socket activation chosen from the start (one transaction).
check "systemctl enable --now qwenproxy-frontend.socket qwenproxy.target" \
  C systemctl enable --now qwenproxy-frontend.socket qwenproxy.target
check "systemctl enable --now qwenproxy-worker@alice" C systemctl enable --now qwenproxy-worker@alice

prop() { C systemctl show -P "$2" "$1"; }
active_with_status() { # UNIT: active, and READY=1 came with a STATUS= text
  [ "$(prop "$1" ActiveState)" = active ] && [ "$(prop "$1" SubState)" = running ] &&
    [ -n "$(prop "$1" StatusText)" ]
}
for unit in qwenproxy-broker.service qwenproxy-worker@alice.service; do
  wait_until 30 active_with_status "$unit"
  check "$unit is active, READY, status \"$(prop $unit StatusText)\"" active_with_status "$unit"
done
socket_up() { [[ "$(prop qwenproxy-frontend.socket SubState)" =~ ^(listening|running)$ ]]; }
check "qwenproxy-frontend.socket is $(prop qwenproxy-frontend.socket SubState)" socket_up
check "qwenproxy.target is active" C systemctl is-active --quiet qwenproxy.target

auth=(-H "Authorization: Bearer $API_KEY")
api() { C curl -sS --max-time 30 "${auth[@]}" "$@"; }
chat_body() { # STREAM TEXT
  printf '{"model":"qwen3-max","stream":%s,"messages":[{"role":"user","content":"%s"}]}' "$1" "$2"
}
health_status() { C curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$API_PORT/health"; }

# The first request starts the frontend through its socket. Before it has
# reached the broker /health says 503 "starting", never a 5xx that means broken.
first=$(C curl -s --max-time 10 -w ' %{http_code}' "http://127.0.0.1:$API_PORT/health")
case "$first" in
  *' 200' | *'"starting"'*' 503') ok "first /health on socket activation: ${first##* }" ;;
  *) not_ok "first /health on socket activation: $first"
     C curl -s --max-time 10 -H "Authorization: Bearer $API_KEY" "http://127.0.0.1:$API_PORT/health" || true
     C journalctl -u qwenproxy-frontend -u qwenproxy-broker -u qwenproxy-worker@alice -o short-precise --no-pager | tail -n 30 ;;
esac
wait_until 30 active_with_status qwenproxy-frontend.service
check "qwenproxy-frontend.service is active, READY, status \"$(prop qwenproxy-frontend.service StatusText)\"" \
  active_with_status qwenproxy-frontend.service
by_socket() { [[ "$(prop qwenproxy-frontend.service TriggeredBy)" == *qwenproxy-frontend.socket* ]]; }
check "it was started by its socket (TriggeredBy)" by_socket
health_200() { [ "$(health_status)" = 200 ]; }
wait_until 30 health_200
full_health=$(api "http://127.0.0.1:$API_PORT/health")
check "/health (with the key) is ok and lists alice" \
  json_ok '.status == "ok" and (.accounts | map(.name) | index("alice") != null)' "$full_health"

nonstream=$(api "http://127.0.0.1:$API_PORT/v1/chat/completions" -H 'content-type: application/json' \
  -d "$(chat_body false 'hello from a booted systemd')")
check "chat completion (non-stream) through the socket-activated frontend" \
  json_ok '.choices[0].message.content | length > 0' "$nonstream"
stream=$(api -N "http://127.0.0.1:$API_PORT/v1/chat/completions" -H 'content-type: application/json' \
  -d "$(chat_body true 'stream please')")
check "chat completion (stream) ends with [DONE]" grep -q '^data: \[DONE\]' <<<"$stream"
check "an unauthenticated request is refused" \
  test "$(C curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$API_PORT/v1/chat/completions")" = 401

# ---------------------------------------------------------------------------
# 5. Failures: kill -9, a frozen worker, a crash-looping unit.

chat_ok() { api "http://127.0.0.1:$API_PORT/v1/chat/completions" -H 'content-type: application/json' \
  -d "$(chat_body false "$1")" | jq_in '.choices[0].message.content | length > 0'; }
restarted() { # UNIT OLD_PID OLD_NRESTARTS
  local pid
  pid=$(prop "$1" MainPID)
  [ "$pid" != 0 ] && [ "$pid" != "$2" ] && [ "$(prop "$1" NRestarts)" -gt "$3" ] && active_with_status "$1"
}
W=qwenproxy-worker@alice.service
pid=$(prop $W MainPID)
n=$(prop $W NRestarts)
C kill -9 "$pid"
wait_until 30 restarted $W "$pid" "$n"
check "kill -9 of the worker: restarted (NRestarts $n → $(prop $W NRestarts))" restarted $W "$pid" "$n"
wait_until 30 chat_ok "after the restart"
check "a request is served after the worker's restart" chat_ok "after the restart"

pid=$(prop $W MainPID)
n=$(prop $W NRestarts)
C kill -STOP "$pid"
# WatchdogSec=30s: systemd kills the frozen worker with SIGABRT and restarts it.
wait_until 60 restarted $W "$pid" "$n"
check "a frozen (SIGSTOP) worker is killed by the watchdog and restarted" restarted $W "$pid" "$n"
journal_has() { # PATTERN JOURNALCTL-ARGS...
  local pattern=$1
  shift
  # Not grep -q: it would stop reading at the first match, journalctl would
  # die of SIGPIPE, and pipefail would turn the match into a failure.
  C journalctl -o cat --no-pager "$@" | grep -- "$pattern" >/dev/null
}
# journald stores a line shortly after it is written: poll for it.
wait_until 15 journal_has 'Watchdog timeout' -u $W
check "the journal says why: watchdog timeout" journal_has 'Watchdog timeout' -u $W
journal_has 'Watchdog timeout' -u $W || C journalctl -u $W -o short-precise --no-pager | tail -n 25
wait_until 30 chat_ok "after the watchdog"

# docs/deployment.md, "More than one frontend process": a second frontend
# process, qwenproxy-frontend@1, on the same socket. With one of the two
# frozen (SIGSTOP), only the other can accept, so each must answer alone.
F0=qwenproxy-frontend.service
F1=qwenproxy-frontend@1.service
check "systemctl enable --now $F1" C systemctl enable --now $F1
wait_until 30 active_with_status $F1
check "$F1 is active, READY, status \"$(prop $F1 StatusText)\"" active_with_status $F1
served_by() { # INDEX: /health on a new connection names frontend INDEX with the unit's MainPID
  local unit=$F0
  [ "$1" = 1 ] && unit=$F1
  api "http://127.0.0.1:$API_PORT/health" |
    jq_in ".frontend.index == $1 and .frontend.pid == $(prop $unit MainPID)"
}
only() { # UNIT-TO-FREEZE INDEX-THAT-ANSWERS
  local pid rc
  pid=$(prop "$1" MainPID)
  [ "$pid" != 0 ] || return 1  # not running (kill -STOP 0 would stop the kill itself)
  C kill -STOP "$pid"
  served_by "$2" && chat_ok "served by frontend $2"
  rc=$?
  C kill -CONT "$pid"
  return $rc
}
check "with $F0 frozen, $F1 accepts on the shared socket and serves a chat" only $F0 1
check "with $F1 frozen, $F0 accepts and serves a chat" only $F1 0
pid=$(prop $F1 MainPID)
n=$(prop $F1 NRestarts)
C kill -9 "$pid"
check "kill -9 of $F1: the port is still served (by $F0)" chat_ok "while frontend 1 is down"
wait_until 30 restarted $F1 "$pid" "$n"
check "kill -9 of $F1: restarted (NRestarts $n → $(prop $F1 NRestarts))" restarted $F1 "$pid" "$n"
check "the restarted $F1 serves the same socket" only $F0 1
check "$F1 is enabled into qwenproxy.target" \
  test "$(C systemctl is-enabled $F1 2>&1)" = enabled

# A unit that cannot start ends up failed after its start limit, and the
# documented recipe (docs/deployment.md, "Is it running?") shows it although
# the target stays active.
C systemctl start qwenproxy-worker@ghost.service >/dev/null 2>&1
ghost_failed() { [ "$(prop qwenproxy-worker@ghost.service ActiveState)" = failed ]; }
wait_until 60 ghost_failed
check "a worker without an account file ends failed after its start limit, not in a silent loop" \
  ghost_failed
listed_failed() { C systemctl list-units --failed --no-legend --plain 'qwenproxy*' | grep 'qwenproxy-worker@ghost.service' >/dev/null; }
check "systemctl list-units --failed 'qwenproxy*' lists it while the target is $(C systemctl is-active qwenproxy.target)" \
  listed_failed
check "systemctl is-failed 'qwenproxy*' says so (for scripts)" C systemctl is-failed --quiet 'qwenproxy*'
marked() { C systemctl list-dependencies --plain qwenproxy.target | grep 'qwenproxy-worker@ghost.service' >/dev/null; }
check "systemctl list-dependencies qwenproxy.target shows it" marked
check "systemctl is-system-running says degraded" test "$(C systemctl is-system-running)" = degraded
C systemctl reset-failed qwenproxy-worker@ghost.service

# Negative control: without the SystemCallFilter= exception libzmq aborts at
# start (the crash the shipped units had), and this test notices.
C mkdir -p /run/systemd/system/qwenproxy-worker@ctl.service.d
C sh -c 'printf "[Service]\nSystemCallFilter=~sched_setscheduler\nRestart=no\n" > /run/systemd/system/qwenproxy-worker@ctl.service.d/ctl.conf'
C cp -p /etc/qwenproxy/accounts/alice.toml /etc/qwenproxy/accounts/ctl.toml
C systemctl daemon-reload
C systemctl start qwenproxy-worker@ctl.service >/dev/null 2>&1
wait_until 15 journal_has 'status=6/ABRT' -u qwenproxy-worker@ctl.service
check "negative control: with sched_setscheduler filtered the worker dies of SIGABRT" \
  journal_has 'status=6/ABRT' -u qwenproxy-worker@ctl.service
C systemctl stop qwenproxy-worker@ctl.service >/dev/null 2>&1
C rm -rf /run/systemd/system/qwenproxy-worker@ctl.service.d /etc/qwenproxy/accounts/ctl.toml
C systemctl reset-failed qwenproxy-worker@ctl.service >/dev/null 2>&1
C systemctl daemon-reload

# ---------------------------------------------------------------------------
# 6. Rotation: a new account file and `systemctl reload` while a stream is in
#    flight; the stream finishes; new requests use the new token.

mock() { C curl -sS --max-time 10 "$@"; }
mock -X POST "http://127.0.0.1:$MOCK_PORT/__mock/hold" >/dev/null
C curl -sS -N --max-time 120 "${auth[@]}" -H 'content-type: application/json' \
  -d "$(chat_body true 'a stream held across the rotation')" \
  "http://127.0.0.1:$API_PORT/v1/chat/completions" >"$WORK/held.out" 2>&1 &
held=$!
parked() { mock "http://127.0.0.1:$MOCK_PORT/__mock/state" | jq_in '.parked >= 1'; }
wait_until 30 parked
check "a stream is in flight (parked at the mock after its first token)" parked
reloads_before=$(C journalctl -u $W EVENT=account.reloaded -o cat --no-pager | wc -l)
check "qwenproxy account import alice --force (the new credentials)" \
  C qwenproxy account import alice --from /root/alice-new.curl --force
check "systemctl reload qwenproxy-worker@alice" C systemctl reload qwenproxy-worker@alice
reloaded() { [ "$(C journalctl -u $W EVENT=account.reloaded -o cat --no-pager | wc -l)" -gt "$reloads_before" ]; }
wait_until 30 reloaded
check "the worker logged account.reloaded (journalctl EVENT=account.reloaded)" reloaded
mock -X POST "http://127.0.0.1:$MOCK_PORT/__mock/release" >/dev/null
wait "$held"
held_done() { grep -q '^data: \[DONE\]' "$WORK/held.out" && ! grep -q '"error"' "$WORK/held.out"; }
check "the stream in flight finished ([DONE], no error)" held_done
last_fp() { mock "http://127.0.0.1:$MOCK_PORT/__mock/state" |
  jq -r '[.records[] | select(.outcome != "running")] | last | (.token_cookie_fp // "") + (.authorization_fp // "")'; }
uses_token2() { chat_ok "$1" && [[ "$(last_fp)" == *"$(fp "$TOKEN2")"* ]]; }
check "new requests use the new token" uses_token2 "after the rotation"

# A bad file (not a JWT) is refused; the worker keeps the credentials it has.
C sh -c 'printf "token = \"not-a-jwt\"\n" > /etc/qwenproxy/accounts/alice.toml && chown qwenproxy:qwenproxy /etc/qwenproxy/accounts/alice.toml && chmod 600 /etc/qwenproxy/accounts/alice.toml'
C systemctl reload qwenproxy-worker@alice
refused() { C journalctl -u $W EVENT=account.reload_failed ACCOUNT=alice -o cat --no-pager | grep . >/dev/null; }
wait_until 30 refused
check "a bad account file is refused (journalctl EVENT=account.reload_failed ACCOUNT=alice)" refused
check "the old credentials are kept: requests still served with the new token" \
  uses_token2 "after the bad file"
alice_ok() { api "http://127.0.0.1:$API_PORT/health" | jq_in '.accounts[] | select(.name == "alice") | .health == "ok"'; }
check "/health still shows alice ok" alice_ok
C qwenproxy account import alice --from /root/alice-new.curl --force >/dev/null

# ---------------------------------------------------------------------------
# 6b. docs/deployment.md, "Adding accounts from the console": an account file
#     that appears starts its worker (qwenproxy-accounts.path → .service →
#     `qwenproxy account sync-units`), one renamed away stops it.

check "qwenproxy-accounts.path is active (pulled in by qwenproxy.target)" \
  C systemctl is-active --quiet qwenproxy-accounts.path
check "qwenproxy account sync-units --dry-run: nothing to do" \
  C qwenproxy account sync-units --dry-run
check "qwenproxy account import bob (no systemctl)" C qwenproxy account import bob --from /root/bob.curl
bob_active() { [ "$(prop qwenproxy-worker@bob.service ActiveState)" = active ]; }
wait_until 30 bob_active
check "qwenproxy-worker@bob was started by the directory watch" bob_active
bob_active || { C systemctl status --no-pager qwenproxy-accounts.path qwenproxy-accounts.service || true
                C journalctl -u qwenproxy-accounts.service -o short-precise --no-pager | tail -n 20; }
bob_ok() { api "http://127.0.0.1:$API_PORT/health" | jq_in '.accounts[] | select(.name == "bob") | .health == "ok"'; }
wait_until 30 bob_ok
check "/health shows bob ok" bob_ok
C mv /etc/qwenproxy/accounts/bob.toml "/etc/qwenproxy/accounts/bob.toml.removed-$(date +%s)"
bob_gone() { [ "$(prop qwenproxy-worker@bob.service ActiveState)" = inactive ]; }
wait_until 30 bob_gone
check "renamed away, qwenproxy-worker@bob is stopped (inactive, not failed)" bob_gone
# The race behind a flaky run of this test: the writer's temporary file
# (write_private_file: .qwenproxy-XXXXXX, then fsync, then rename) already
# triggers PathChanged=, and a rename during that sync's run is merged into
# it. Made deterministic: the rename happens only once the sync says it waits.
waits() { C journalctl -u qwenproxy-accounts.service -o cat --no-pager | grep -c 'waiting for a write in progress'; }
waits_before=$(waits)
C sh -c 'cp /etc/qwenproxy/accounts/bob.toml.removed-* /etc/qwenproxy/accounts/.qwenproxy-boot01 &&
  chown qwenproxy:qwenproxy /etc/qwenproxy/accounts/.qwenproxy-boot01 &&
  chmod 600 /etc/qwenproxy/accounts/.qwenproxy-boot01'
sync_waits() { [ "$(waits)" -gt "$waits_before" ]; }
wait_until 30 sync_waits
check "a write in progress (its temp file) makes the sync wait for it" sync_waits
C mv /etc/qwenproxy/accounts/.qwenproxy-boot01 /etc/qwenproxy/accounts/carol.toml
carol_active() { [ "$(prop qwenproxy-worker@carol.service ActiveState)" = active ]; }
wait_until 30 carol_active
check "renamed in during the sync's run, qwenproxy-worker@carol is started" carol_active
C mv /etc/qwenproxy/accounts/carol.toml "/etc/qwenproxy/accounts/carol.toml.removed-$(date +%s)"
carol_gone() { [ "$(prop qwenproxy-worker@carol.service ActiveState)" = inactive ]; }
wait_until 30 carol_gone
check "alice still serves" chat_ok "after bob left"

# ---------------------------------------------------------------------------
# 7. The journal: priorities and structured fields, and no secret anywhere.

warnings=$(C journalctl -p warning -u 'qwenproxy*' -o cat --no-pager)
check "journalctl -p warning shows the warnings ($(grep -c . <<<"$warnings") lines)" \
  grep -q 'event=account.reload_failed' <<<"$warnings"
no_info() { ! grep -q 'event=account.reloaded ' <<<"$warnings"; }
check "info lines are not warnings (account.reloaded is not in -p warning)" no_info
check "journal field PROCESS= (journalctl PROCESS=broker)" journal_has 'event=' PROCESS=broker
C journalctl -o json --no-pager >"$WORK/journal.json"
leaked=0
for secret in "$TOKEN1" "$TOKEN2" "$TOKEN3" "${TOKEN1##*.}" "${TOKEN2##*.}" "${TOKEN3##*.}" "$API_KEY" "$SECRET"; do
  grep -qF -- "$secret" "$WORK/journal.json" && leaked=$((leaked + 1))
done
check "no token, signature or key anywhere in journalctl -o json ($(wc -l <"$WORK/journal.json") entries)" \
  test "$leaked" -eq 0

# ---------------------------------------------------------------------------
# 8. Exposure, on the real manager.

for unit in qwenproxy-broker.service qwenproxy-frontend.service qwenproxy-frontend@1.service \
  qwenproxy-worker@alice.service qwenproxy-accounts.service; do
  score=$(C systemd-analyze security --no-pager "$unit" 2>/dev/null |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  check "systemd-analyze security $unit: ${score:-?} ≤ 2.0" \
    awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
done

# ---------------------------------------------------------------------------
# 9. Reboot: everything enabled comes back by itself.

old=$LEADER
C systemctl reboot
new_leader() { find_leader && [ "$LEADER" != "$old" ]; }
wait_until 60 new_leader || die "the container did not come back after a reboot"
wait_until 90 booted
ok "the container rebooted"
for unit in qwenproxy-broker.service qwenproxy-worker@alice.service; do
  wait_until 30 active_with_status "$unit"
  check "after the reboot $unit is active" active_with_status "$unit"
done
check "after the reboot the socket is up ($(prop qwenproxy-frontend.socket SubState))" socket_up
wait_until 30 active_with_status qwenproxy-frontend@1.service
check "after the reboot qwenproxy-frontend@1.service is active (enabled, on the socket)" \
  active_with_status qwenproxy-frontend@1.service
wait_until 30 chat_ok "after the reboot"
check "after the reboot a request is served" chat_ok "after the reboot"

# ---------------------------------------------------------------------------
# 10. docs/deployment.md "Purge": prerm stops every running qwenproxy unit,
#     postrm deletes the configuration, accounts, state and enablement links.

if [ "$INSTALL" = deb ]; then
  purge() { C dpkg --purge qwenproxy >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; return 1; }; }
  check "dpkg --purge qwenproxy while the service runs" purge
  check "no qwenproxy unit is running after the purge" nothing_running
  check "/etc/qwenproxy (with the accounts), /var/lib/qwenproxy and the programs are gone" \
    C sh -c '! [ -e /etc/qwenproxy ] && ! [ -e /var/lib/qwenproxy ] && ! [ -e /usr/bin/qp-worker ]'
  check "the links made by systemctl enable are gone" \
    C sh -c '! ls -d /etc/systemd/system/*.wants/qwenproxy* >/dev/null 2>&1'
fi

finish
