#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "frontend/admin/account_import.h"

using namespace qp::frontend::admin;
namespace fs = std::filesystem;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr int64_t kNow = 1'761'488'630;
const char* kToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJpZCI6IjZmMWMyYTllLTAwMDAtNDAwMC04MDAwLTAwMDAwMDAwdGVzdCIsImxhc3RfcGFzc3dvcmRfY2hhbmdlIjoxNz"
    "YwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.dGVzdC1zaWduYXR1cmUtbm90LXJlYWwtMDEyMzQ1Njc4OQ";

}  // namespace

TEST_CASE("admin account names", "[admin]") {
  CHECK(valid_admin_account_name("alice"));
  CHECK(valid_admin_account_name("a-b_C9"));
  CHECK(valid_admin_account_name(std::string(64, 'x')));
  CHECK_FALSE(valid_admin_account_name(""));
  CHECK_FALSE(valid_admin_account_name(std::string(65, 'x')));
  CHECK_FALSE(valid_admin_account_name("a.b"));
  CHECK_FALSE(valid_admin_account_name("../x"));
  CHECK_FALSE(valid_admin_account_name("a b"));
}

TEST_CASE("import writes a private account file and returns no secret", "[admin]") {
  fs::path dir = fs::temp_directory_path() / ("qp-admin-import-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string curl = read(std::string(QP_TESTDATA_DIR) + "/accounts/chrome_bash.curl");
  ImportFailure f;
  auto r = import_account(dir.string(), curl, "carol", false, kNow, &f);
  REQUIRE(r);
  CHECK(f == ImportFailure::kNone);
  CHECK(r->name == "carol");
  CHECK(r->user_id == "6f1c2a9e-0000-4000-8000-00000000test");
  CHECK(r->expires_unix_s == 4'102'444'800);
  CHECK(r->file == (dir / "carol.toml").string());
  struct stat st {};
  REQUIRE(::stat(r->file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::string text = read(r->file);
  CHECK(text.find(kToken) != std::string::npos);
  CHECK(text.find("bx_umidtoken = \"T2gAfakeUmidToken_0123456789abcdef==\"") != std::string::npos);

  // Exists: refused unless replace.
  auto again = import_account(dir.string(), curl, "carol", false, kNow, &f);
  REQUIRE_FALSE(again);
  CHECK(f == ImportFailure::kExists);
  CHECK(again.error().message().find(kToken) == std::string::npos);
  CHECK(import_account(dir.string(), curl, "carol", true, kNow, &f));

  // No name: derived from the token's user id.
  auto derived = import_account(dir.string(), curl, "", false, kNow, &f);
  REQUIRE(derived);
  CHECK(derived->name == "6f1c2a9e-0000-4000-8000-00000000test");

  // Garbage and bad names: 400-class failures that echo nothing.
  auto bad = import_account(dir.string(), "curl 'https://chat.qwen.ai/' -H 'cookie: a=b'", "dave",
                            false, kNow, &f);
  REQUIRE_FALSE(bad);
  CHECK(f == ImportFailure::kBadInput);
  auto badname = import_account(dir.string(), curl, "../etc", false, kNow, &f);
  REQUIRE_FALSE(badname);
  CHECK(f == ImportFailure::kBadInput);
  CHECK_FALSE(fs::exists(dir / "dave.toml"));
  fs::remove_all(dir);
}

TEST_CASE("import refuses oversized text before parsing it", "[admin]") {
  ImportFailure f;
  std::string big = "curl 'https://chat.qwen.ai/' -H 'x: " + std::string(1100 * 1024, 'a') + "'";
  auto r = import_account("/nonexistent-qp-dir", big, "eve", false, kNow, &f);
  REQUIRE_FALSE(r);
  CHECK(f == ImportFailure::kBadInput);
  CHECK(r.error().message().find("too large") != std::string::npos);
}
