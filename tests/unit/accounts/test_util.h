// Helpers shared by the account tests: temp dirs, files with a given mode,
// testdata access and the fixed JWTs of tests/testdata/accounts/.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "common/config.h"

namespace qp::test {

// exp 4102444800 (2100-01-01), 1600000000 (2020-09-13) and 1767229200 (now + 1 h).
inline const std::string kJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpZCI6IjZmMWMyYTllLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwdGVzdCIsImxhc3RfcGFzc3dvcmRfY2hhbmdlIjox"
    "NzYwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.dGVzdC1zaWduYXR1cmUtbm90LXJlYWwtMDEyMzQ1Njc4OQ";
inline const std::string kExpiredJwt =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpZCI6IjZmMWMyYTllLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwdGVzdCIsImxhc3RfcGFzc3dvcmRfY2hhbmdlIjox"
    "NzYwMDAwMDAwLCJleHAiOjE2MDAwMDAwMDB9.dGVzdC1zaWduYXR1cmUtbm90LXJlYWwtMDEyMzQ1Njc4OQ";
inline constexpr int64_t kJwtExp = 4102444800;
// "Now" for every time-dependent test: 2026-01-01 00:00 UTC.
inline constexpr int64_t kNow = 1767225600;

inline EnvLookup env_of(std::map<std::string, std::string> m) {
  return [m](const char* k, std::string* v) {
    auto it = m.find(k);
    if (it == m.end()) return false;
    *v = it->second;
    return true;
  };
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/qp-accounts-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string write_file(const std::string& path, const std::string& text,
                              mode_t mode = 0600) {
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
  }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string testdata(const std::string& name) {
  std::string path = std::string(QP_TESTDATA_DIR) + "/accounts/" + name;
  REQUIRE(std::filesystem::exists(path));
  return read_file(path);
}

}  // namespace qp::test
