#include "common/accounts/account_sync.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

namespace qp::accounts {
namespace {

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("account sync: new files start workers, missing files stop them", "[accounts]") {
  auto p = plan_account_sync({"bob", "alice", "carol"}, {"alice", "dave"}, {});
  CHECK(p.start == Names{"bob", "carol"});
  CHECK(p.stop == Names{"dave"});
  CHECK_FALSE(p.empty());
}

TEST_CASE("account sync: nothing changes when the sets agree", "[accounts]") {
  CHECK(plan_account_sync({"a", "b"}, {"b", "a"}, {}).empty());
  CHECK(plan_account_sync({}, {}, {}).empty());
  // Duplicates (a rescan that saw a name twice) do not double-start.
  auto p = plan_account_sync({"a", "a", "b"}, {"b"}, {});
  CHECK(p.start == Names{"a"});
  CHECK(p.stop.empty());
}

TEST_CASE("account sync: pinned accounts are never started or stopped", "[accounts]") {
  // "alice" is an [[accounts]] entry: its file appearing or vanishing changes
  // nothing here (its own worker reloads or reports the file).
  auto p = plan_account_sync({"alice", "bob"}, {}, {"alice"});
  CHECK(p.start == Names{"bob"});
  p = plan_account_sync({}, {"alice", "bob"}, {"alice"});
  CHECK(p.start.empty());
  CHECK(p.stop == Names{"bob"});
}

TEST_CASE("account sync: directory accounts and pinned ones from a loaded config", "[accounts]") {
  char tmpl[] = "/tmp/qp-sync-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  std::filesystem::create_directory(dir + "/accounts");
  std::ofstream(dir + "/accounts/bob.toml") << "token = \"x\"\n";
  std::ofstream(dir + "/accounts/entry.toml") << "token = \"x\"\n";
  std::ofstream(dir + "/qwenproxy.toml")
      << "runtime_dir = \"" << dir << "/run\"\n"
      << "[[accounts]]\nname = \"inline\"\ncookies = \"token=abc\"\n"
      << "[[accounts]]\nname = \"entry\"\n";  // no credentials: its file in accounts_dir
  auto config =
      load_config(dir + "/qwenproxy.toml", [](const char*, std::string*) { return false; });
  REQUIRE(config.has_value());
  CHECK(directory_accounts(*config) == Names{"bob"});
  CHECK(pinned_accounts(*config) == Names{"inline", "entry"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("account sync: files present are regular NAME.toml files only", "[accounts]") {
  char tmpl[] = "/tmp/qp-sync-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  Status status;
  CHECK(account_files_present(dir + "/missing", &status).empty());
  CHECK(status.ok());
  std::ofstream(dir + "/alice.toml") << "x";
  std::ofstream(dir + "/.bob.toml.swp") << "x";        // vim
  std::ofstream(dir + "/bob.toml~") << "x";            // emacs backup
  std::ofstream(dir + "/.carol.toml.tmp") << "x";      // a rename in progress
  std::ofstream(dir + "/dave.toml.removed-1") << "x";  // the console's remove
  std::filesystem::create_directory(dir + "/erin.toml");
  std::filesystem::create_symlink(dir + "/alice.toml", dir + "/frank.toml");
  CHECK(account_files_present(dir, &status) == Names{"alice", "frank"});
  CHECK(status.ok());
  std::filesystem::remove_all(dir);
}

}  // namespace qp::accounts
