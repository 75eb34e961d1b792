#!/usr/bin/env bash
# The Debian package (docs/deployment.md, "Install the Debian package").
#
# Builds qwenproxy_<version>_<arch>.deb with scripts/build-deb.sh, then:
#   - its control fields (Section, Priority, Maintainer, Description, and
#     Depends computed by dpkg-shlibdeps);
#   - lintian: no error (the warnings are printed);
#   - unpacked with `dpkg -x`: every expected file, with its mode and owner
#     root, and nothing that is not expected under /etc;
#   - the conffiles are exactly the files under /etc;
#   - the maintainer scripts parse, and none of them starts, restarts or
#     enables a unit;
#   - `systemd-analyze verify --root` of every unit in the unpacked tree;
#   - installed with `dpkg --root` into a throwaway root, the maintainer
#     scripts running outside a chroot with $DPKG_ROOT: the qwenproxy user
#     and the 0700 directories it owns are made there (and the host's
#     /etc/passwd is untouched), dpkg records the conffiles, an edited
#     conffile survives a reinstall, and a purge removes the files, the
#     account files and the state directory.
#
# Every check prints "ok - …" or "not ok - …"; the last line is
# "N passed, N failed". Exit status 0 only when every check passed.
#
# Usage: tests/package/package-test.sh      (as root: dpkg --root, chown)
#   QP_PACKAGE_DEB=FILE  test this .deb instead of building one
#   QP_PACKAGE_KEEP=1    keep the work directory
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
SYSCONF=/etc/qwenproxy
UNITDIR=lib/systemd/system   # as scripts/build-deb.sh configures (QP_SYSTEMD_UNIT_DIR)
DOC=usr/share/doc/qwenproxy
BINARIES=(qwenproxy qp-broker qp-frontend qp-worker mock-qwen)
UNITS=(qwenproxy-accounts.path qwenproxy-accounts.service qwenproxy-broker.service
       qwenproxy-frontend.service qwenproxy-frontend.socket 'qwenproxy-frontend@.service'
       'qwenproxy-worker@.service' qwenproxy.target)

passed=0
failed=0
say() { printf '%s\n' "$*"; }
ok() { passed=$((passed + 1)); say "ok - $*"; }
not_ok() { failed=$((failed + 1)); say "not ok - $*"; }
check() { # NAME CMD...: one check, by the exit status of CMD
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}
WORK=
finish() {
  if [ -n "$WORK" ]; then
    if [ "${QP_PACKAGE_KEEP:-0}" = 1 ]; then say "package-test: kept $WORK"; else rm -rf "$WORK"; fi
  fi
  say "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
  exit $?
}
die() {
  not_ok "$*"
  finish
}

[ "$(id -u)" -eq 0 ] || { say "package-test: must run as root (dpkg --root, file owners)"; exit 1; }
for tool in dpkg dpkg-deb lintian systemd-analyze systemd-sysusers systemd-tmpfiles; do
  command -v "$tool" >/dev/null 2>&1 || { say "package-test: $tool is missing: run scripts/install-deps.sh"; exit 1; }
done
WORK=$(mktemp -d /var/tmp/qp-package.XXXXXX)

# ---------------------------------------------------------------------------
# 1. The package and its control fields.

DEB=${QP_PACKAGE_DEB:-}
if [ -z "$DEB" ]; then
  "$SRC/scripts/build-deb.sh" >"$WORK/build.log" 2>&1 || { tail -n 40 "$WORK/build.log"; die "scripts/build-deb.sh"; }
  DEB=$(tail -n 1 "$WORK/build.log")
fi
[ -s "$DEB" ] || die "no package at '$DEB'"
version=$(grep -oP '^project\(qwenproxy VERSION \K[0-9.]+' "$SRC/CMakeLists.txt")
arch=$(dpkg --print-architecture)
check "file name is qwenproxy_${version}_$arch.deb ($(basename "$DEB"))" \
  test "$(basename "$DEB")" = "qwenproxy_${version}_$arch.deb"
field() { dpkg-deb --field "$DEB" "$1"; }
check "Package: qwenproxy, Version: $version, Architecture: $arch" \
  test "$(field Package) $(field Version) $(field Architecture)" = "qwenproxy $version $arch"
check "Section: $(field Section), Priority: $(field Priority)" \
  test "$(field Section)/$(field Priority)" = net/optional
check "Maintainer: $(field Maintainer)" grep -qE '^[^<>]+ <[^@<> ]+@[^@<> ]+>$' <<<"$(field Maintainer)"
description_ok() {
  local d
  d=$(field Description)
  # A synopsis line, then a long description (lines indented by one space).
  [ "$(head -n1 <<<"$d")" = "OpenAI-compatible gateway to the Qwen chat website" ] &&
    [ "$(wc -l <<<"$d")" -ge 5 ]
}
check "Description: a synopsis and a long description" description_ok
depends=$(field Depends)
say "# Depends: $depends"
depends_on() { grep -qE "(^|, )$1( |,|$)" <<<"$depends"; }
# What the programs link (CMakeLists.txt), as dpkg-shlibdeps names it on Debian 12.
for pkg in libc6 'libstdc\+\+6' libuv1 libzmq5 'libcurl4(t64)?' libssl3 libsqlite3-0 libsystemd0 \
           libhttp-parser2.9 libsimdjson14 libtomlplusplus3 systemd; do
  check "Depends names $pkg" depends_on "$pkg"
done
check "Depends has versions (dpkg-shlibdeps ran)" grep -q 'libc6 (>= ' <<<"$depends"

# ---------------------------------------------------------------------------
# 2. lintian: no error. Warnings and notes are printed for the reader.

lintian --fail-on error --display-level '>=warning' --tag-display-limit 0 "$DEB" >"$WORK/lintian.txt" 2>&1
lintian_rc=$?
sed -e 's/^/# lintian: /' "$WORK/lintian.txt"
check "lintian: no error ($(grep -c '^E: ' "$WORK/lintian.txt") errors, $(grep -c '^W: ' "$WORK/lintian.txt") warnings)" \
  test "$lintian_rc" -eq 0 -a "$(grep -c '^E: ' "$WORK/lintian.txt")" -eq 0

# ---------------------------------------------------------------------------
# 3. The files, unpacked with dpkg -x.

X=$WORK/x
dpkg-deb -x "$DEB" "$X" || die "dpkg-deb -x"
dpkg-deb -c "$DEB" >"$WORK/contents.txt" || die "dpkg-deb -c"
check "every file in the package belongs to root:root" \
  test -z "$(awk '$2 != "root/root"' "$WORK/contents.txt")"
expect() { # MODE PATH (relative to the root)
  local mode
  mode=$(stat -c %a "$X/$2" 2>/dev/null) || { not_ok "/$2 is missing"; return; }
  if [ "$mode" = "$1" ]; then ok "/$2 ($mode)"; else not_ok "/$2 has mode $mode, expected $1"; fi
}
for b in "${BINARIES[@]}"; do
  expect 755 "usr/bin/$b"
  expect 644 "usr/share/man/man1/$b.1.gz"
done
manpages_ok() { # made from each program's own --help (no grep -q in a pipe: pipefail)
  local worker main
  worker=$(zcat "$X/usr/share/man/man1/qp-worker.1.gz") && main=$(zcat "$X/usr/share/man/man1/qwenproxy.1.gz") ||
    return 1
  grep -q 'account to serve' <<<"$worker" && grep -q '^\.SH "SEE ALSO"' <<<"$main" && grep -qx 'up' <<<"$main"
}
check "the manual pages are the programs' (qp-worker.1 documents --account, qwenproxy.1 the subcommands)" manpages_ok
stripped() { # no .symtab: CPack stripped the binaries
  local b
  local sections
  for b in "${BINARIES[@]}"; do
    sections=$(readelf -S "$X/usr/bin/$b") || return 1
    grep -q '\.symtab' <<<"$sections" && return 1
  done
  return 0
}
check "the binaries are stripped" stripped
for u in "${UNITS[@]}"; do expect 644 "$UNITDIR/$u"; done
check "the units name the installed programs (ExecStart=/usr/bin/qp-worker …)" \
  grep -q '^ExecStart=/usr/bin/qp-worker ' "$X/$UNITDIR/qwenproxy-worker@.service"
check "the units' Documentation= file is installed" \
  test -f "$X/$(sed -n 's|^Documentation=file:/||p' "$X/$UNITDIR/qwenproxy-broker.service")"
expect 644 usr/lib/sysusers.d/qwenproxy.conf
expect 644 usr/lib/tmpfiles.d/qwenproxy.conf
expect 755 "${SYSCONF#/}"
expect 644 "${SYSCONF#/}/qwenproxy.toml"
expect 644 "${SYSCONF#/}/qwenproxy.toml.example"
in_etc=$(cd "$X" && find etc | sort | tr '\n' ' ')
check "nothing else under /etc (the accounts and keys directories come from tmpfiles): $in_etc" \
  test "$in_etc" = "etc etc/qwenproxy etc/qwenproxy/qwenproxy.toml etc/qwenproxy/qwenproxy.toml.example "
for f in copyright changelog.gz deployment.md configuration.md examples/qwenproxy.toml.example \
         examples/account.toml.example; do
  expect 644 "$DOC/$f"
done
changelog_ok() { # gzip -9n: no file name, no time stamp; the top entry is this version
  gzip -t "$X/$DOC/changelog.gz" &&
    [ "$(od -An -tu4 -j4 -N4 "$X/$DOC/changelog.gz" | tr -d ' ')" = 0 ] &&
    [ "$(zcat "$X/$DOC/changelog.gz" | head -n1 | cut -d' ' -f1-2)" = "qwenproxy ($version)" ]
}
check "changelog.gz: gzip -9n, top entry qwenproxy ($version)" changelog_ok
check "copyright is machine-readable (DEP-5 Format: line)" \
  grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' "$X/$DOC/copyright"
check "the example configuration loads (qwenproxy account list --config)" \
  "$X/usr/bin/qwenproxy" account list --config "$X$SYSCONF/qwenproxy.toml"

# ---------------------------------------------------------------------------
# 4. The control area: conffiles and maintainer scripts.

C=$WORK/control
dpkg-deb -e "$DEB" "$C" || die "dpkg-deb -e"
conffiles=$(sort "$C/conffiles" 2>/dev/null | tr '\n' ' ')
etc_files=$(cd "$X" && find etc -type f | sed 's|^|/|' | sort | tr '\n' ' ')
check "conffiles lists every file under /etc: $conffiles" test -n "$conffiles" -a "$conffiles" = "$etc_files"
for s in postinst prerm postrm; do
  expect_ctl() { [ "$(stat -c %a "$C/$s")" = 755 ] && sh -n "$C/$s"; }
  check "$s: mode 755, parses (sh -n)" expect_ctl
  # Code only (comments say what the scripts do not do).
  code=$(sed -e 's/#.*//' "$C/$s")
  starts=$(grep -nE '\b(start|restart|try-restart|reload-or-restart|enable|reenable|--now|isolate)\b|invoke-rc\.d|service ' <<<"$code")
  check "$s starts, restarts and enables nothing${starts:+: $starts}" test -z "$starts"
done
check "postinst runs systemd-sysusers, systemd-tmpfiles --create and daemon-reload" \
  bash -c 'grep -q "systemd-sysusers" "$1" && grep -q "systemd-tmpfiles.*--create" "$1" && grep -q "daemon-reload" "$1"' _ "$C/postinst"

# ---------------------------------------------------------------------------
# 5. systemd-analyze verify on the unpacked units. Like tests/integration
#    deploy.test.mjs, the root also needs the manager's own targets and the
#    programs the units run besides ours (/bin/kill).

mkdir -p "$X/usr/lib/systemd/system"
for dir in /usr/lib/systemd/system /lib/systemd/system; do
  for t in "$dir"/*.target; do
    [ -f "$t" ] && [ ! -e "$X/usr/lib/systemd/system/${t##*/}" ] && cp "$t" "$X/usr/lib/systemd/system/"
  done
done
mkdir -p "$X/bin" && cp /usr/bin/kill "$X/bin/kill"
for u in "${UNITS[@]}"; do
  [ "$u" = 'qwenproxy-worker@.service' ] && u='qwenproxy-worker@alice.service'
  [ "$u" = 'qwenproxy-frontend@.service' ] && u='qwenproxy-frontend@1.service'
  out=$(systemd-analyze verify --root="$X" --man=no --generators=no "$u" 2>&1)
  rc=$?
  check "systemd-analyze verify $u: no error, no warning${out:+: $out}" test "$rc" -eq 0 -a -z "$out"
done

# ---------------------------------------------------------------------------
# 6. Installed with dpkg into a throwaway root, maintainer scripts included.
#    --force-script-chrootless runs them here with DPKG_ROOT set (postinst
#    then passes --root to systemd-sysusers and systemd-tmpfiles, and leaves
#    the host's systemd alone); --force-depends because the throwaway root's
#    database has none of the dependencies.

R=$WORK/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/log" "$R/etc"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
host_passwd=$(sha256sum /etc/passwd /etc/group)
DPKG=(dpkg --root="$R" --force-script-chrootless --force-depends --force-confold)
"${DPKG[@]}" -i "$DEB" >"$WORK/dpkg-install.log" 2>&1
installed() {
  [ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}' qwenproxy 2>/dev/null)" = "install ok installed" ] ||
    { sed -e 's/^/# dpkg: /' "$WORK/dpkg-install.log"; return 1; }
}
check "dpkg --root -i: installed, postinst ran" installed
check "postinst created the qwenproxy user in the root" grep -q '^qwenproxy:' "$R/etc/passwd"
check "the host's /etc/passwd and /etc/group are untouched" test "$(sha256sum /etc/passwd /etc/group)" = "$host_passwd"
owned() { # PATH OWNER:MODE (owner by name, from the root's /etc/passwd)
  local st uid name
  st=$(stat -c '%u %a' "$R$1" 2>/dev/null) || return 1
  uid=${st% *}
  name=$(awk -F: -v u="$uid" '$3 == u { print $1 }' "$R/etc/passwd")
  [ "${name:-$uid}:${st#* }" = "$2" ]
}
for d in accounts keys; do
  check "postinst (tmpfiles) made $SYSCONF/$d owned by qwenproxy, mode 0700" owned "$SYSCONF/$d" qwenproxy:700
done
db_conffiles=$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Conffiles}' qwenproxy | awk 'NF {print $1}' | sort | tr '\n' ' ')
check "dpkg recorded the conffiles: $db_conffiles" test "$db_conffiles" = "$etc_files"

# An operator's edit of a conffile survives a reinstall (an upgrade).
printf '# edited by the operator\n' >>"$R$SYSCONF/qwenproxy.toml"
echo 'token = "x"' >"$R$SYSCONF/accounts/alice.toml"
mkdir -p "$R/var/lib/qwenproxy"
"${DPKG[@]}" -i "$DEB" >"$WORK/dpkg-reinstall.log" 2>&1
check "reinstall: the edited qwenproxy.toml is kept" grep -q '^# edited by the operator' "$R$SYSCONF/qwenproxy.toml"
check "reinstall: the account file is kept" test -f "$R$SYSCONF/accounts/alice.toml"

"${DPKG[@]}" --remove qwenproxy >"$WORK/dpkg-remove.log" 2>&1
check "dpkg --remove: the programs are gone, the configuration is kept" \
  test ! -e "$R/usr/bin/qp-worker" -a -f "$R$SYSCONF/qwenproxy.toml" -a -f "$R$SYSCONF/accounts/alice.toml"
"${DPKG[@]}" --purge qwenproxy >"$WORK/dpkg-purge.log" 2>&1
check "dpkg --purge: $SYSCONF (with the accounts) and /var/lib/qwenproxy are gone" \
  test ! -e "$R$SYSCONF" -a ! -e "$R/var/lib/qwenproxy"
check "dpkg --purge: no qwenproxy file left under /usr or /lib" \
  test -z "$(find "$R/usr" "$R/lib" -name '*qwenproxy*' 2>/dev/null)"

finish
