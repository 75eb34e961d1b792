#!/usr/bin/env bash
# Builds the Debian package: a Release tree in build-deb/ (never build/,
# which scripts/up.sh uses) with Debian's hardening flags (dpkg-buildflags),
# packed by CPack's DEB generator (packaging/CMakeLists.txt) into
# build-deb/qwenproxy_<version>_<arch>.deb. Prints the package's absolute
# path as its last line. Install it with
# `sudo apt install ./build-deb/qwenproxy_*.deb` (README, "Install on a
# server"; docs/deployment.md, "Install the Debian package"). Used by
# tests/package and tests/boot.
#
#   QP_DEB_BUILD_DIR  build directory (default build-deb)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${QP_DEB_BUILD_DIR:-build-deb}
for tool in cmake cpack dpkg-buildflags dpkg-shlibdeps; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build-deb: $tool is missing: run scripts/install-deps.sh" >&2; exit 1; }
done

# Debian's flags with every hardening feature (fortify, stack protector,
# relro + bindnow, PIE). No -g: the package's binaries are stripped anyway.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
flags() { dpkg-buildflags --get "$1" | sed -e 's/\(^\| \)-g\( \|$\)/ /g'; }
cppflags=$(flags CPPFLAGS)
launcher=()
command -v ccache >/dev/null 2>&1 &&
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DQP_BUILD_TESTS=OFF \
  -DCMAKE_INSTALL_PREFIX=/usr -DQP_SYSTEMD_UNIT_DIR=/lib/systemd/system \
  -DCMAKE_C_FLAGS="$(flags CFLAGS) $cppflags" -DCMAKE_CXX_FLAGS="$(flags CXXFLAGS) $cppflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$(flags LDFLAGS)" "${launcher[@]}" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
rm -f "$BUILD"/qwenproxy_*.deb
(cd "$BUILD" && cpack -G DEB >cpack.log 2>&1) || { cat "$BUILD/cpack.log" >&2; exit 1; }
deb=$(realpath "$BUILD"/qwenproxy_*.deb)
echo "build-deb: built $deb"
echo "$deb"
