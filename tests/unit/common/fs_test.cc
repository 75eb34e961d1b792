#include "common/fs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

namespace {

// A fresh directory under /tmp, removed (with what the test left) at exit.
class TempRoot {
 public:
  TempRoot() {
    char tmpl[] = "/tmp/qp-fs-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempRoot() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("dir_of", "[fs]") {
  CHECK(qp::fs::dir_of("/run/q/b.sock") == "/run/q");
  CHECK(qp::fs::dir_of("/b.sock") == "/");
  CHECK(qp::fs::dir_of("b.sock") == ".");
}

TEST_CASE("ensure_ipc_directory creates missing directories with mode 0700", "[fs]") {
  TempRoot root;
  const std::string nested = root.path() + "/a/b";
  REQUIRE(qp::fs::ensure_ipc_directory("ipc://" + nested + "/broker.sock").ok());
  CHECK(mode_of(nested) == 0700);
  CHECK(mode_of(root.path() + "/a") == 0700);
  SECTION("existing directories are fine") {
    CHECK(qp::fs::ensure_ipc_directory("ipc://" + nested + "/other.sock").ok());
  }
  SECTION("a file in the way is a clear error") {
    const std::string file = root.path() + "/file";
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fclose(f);
    auto s = qp::fs::ensure_ipc_directory("ipc://" + file + "/x/broker.sock");
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(file) != std::string::npos);
  }
  SECTION("other transports and abstract sockets need nothing") {
    CHECK(qp::fs::ensure_ipc_directory("tcp://127.0.0.1:*").ok());
    CHECK(qp::fs::ensure_ipc_directory("inproc://broker").ok());
    CHECK(qp::fs::ensure_ipc_directory("ipc://@qwenproxy").ok());
  }
}

TEST_CASE("make_dirs gives parents and the leaf their own modes", "[fs]") {
  TempRoot root;
  ::umask(022);
  REQUIRE(qp::fs::make_dirs(root.path() + "/p/q/accounts", 0700, 0755).ok());
  CHECK(mode_of(root.path() + "/p") == 0755);
  CHECK(mode_of(root.path() + "/p/q") == 0755);
  CHECK(mode_of(root.path() + "/p/q/accounts") == 0700);
}

// The attack: another local user pre-creates the runtime directory (e.g.
// /tmp/qwenproxy-UID) world-writable and plants a socket in it. Before, an
// existing directory was accepted whatever its owner and mode.
TEST_CASE("a runtime directory others could have prepared is refused", "[fs]") {
  TempRoot root;
  const std::string dir = root.path() + "/qwenproxy-1000";
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  CHECK(qp::fs::ensure_private_dir(dir).ok());

  SECTION("world-writable") {
    REQUIRE(::chmod(dir.c_str(), 0777) == 0);
    auto s = qp::fs::ensure_private_dir(dir);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("mode 0777") != std::string::npos);
    CHECK(s.message().find("chmod 700 " + dir) != std::string::npos);
    CHECK_FALSE(qp::fs::ensure_ipc_directory("ipc://" + dir + "/broker-frontend.sock").ok());
  }
  SECTION("group-writable") {
    REQUIRE(::chmod(dir.c_str(), 0770) == 0);
    CHECK_FALSE(qp::fs::ensure_private_dir(dir).ok());
  }
  SECTION("group- and world-readable but not writable is fine (systemd's 0750)") {
    REQUIRE(::chmod(dir.c_str(), 0755) == 0);
    CHECK(qp::fs::ensure_private_dir(dir).ok());
  }
  SECTION("a symbolic link to a private directory") {
    const std::string link = root.path() + "/link";
    REQUIRE(::symlink(dir.c_str(), link.c_str()) == 0);
    auto s = qp::fs::ensure_private_dir(link);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("symbolic link") != std::string::npos);
  }
  SECTION("owned by another user") {
    // Needs the right to give a file away: root (as CI runs), else a
    // directory that already belongs to someone else.
    std::string foreign = dir;
    if (::geteuid() == 0) {
      REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0);
    } else {
      foreign = "/";  // owned by root, and we are not root
    }
    auto s = qp::fs::check_private_dir(foreign);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("not to this user") != std::string::npos);
  }
}
