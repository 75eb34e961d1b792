#include "broker/endpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

using qp::broker::ensure_ipc_directory;
using qp::broker::ipc_path;

TEST_CASE("ipc_path extracts the socket path", "[broker][endpoint]") {
  CHECK(ipc_path("ipc:///run/q/b.sock") == "/run/q/b.sock");
  CHECK(ipc_path("tcp://127.0.0.1:5555").empty());
  CHECK(ipc_path("inproc://x").empty());
}

TEST_CASE("ensure_ipc_directory creates missing directories with mode 0700", "[broker][endpoint]") {
  char tmpl[] = "/tmp/qp-broker-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string root = tmpl;
  const std::string nested = root + "/a/b";
  REQUIRE(ensure_ipc_directory("ipc://" + nested + "/broker.sock").ok());
  struct stat st {};
  REQUIRE(::stat(nested.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(::stat((root + "/a").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  SECTION("existing directories are fine") {
    CHECK(ensure_ipc_directory("ipc://" + nested + "/other.sock").ok());
  }
  SECTION("a file in the way is a clear error") {
    const std::string file = root + "/file";
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fclose(f);
    auto s = ensure_ipc_directory("ipc://" + file + "/x/broker.sock");
    CHECK_FALSE(s.ok());
    CHECK(s.message().find(file) != std::string::npos);
    ::unlink(file.c_str());
  }
  SECTION("other transports need nothing") {
    CHECK(ensure_ipc_directory("tcp://127.0.0.1:*").ok());
    CHECK(ensure_ipc_directory("inproc://broker").ok());
  }
  ::rmdir(nested.c_str());
  ::rmdir((root + "/a").c_str());
  ::rmdir(root.c_str());
}
