#include "common/accounts/account_sync.h"

#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "common/accounts/private_file.h"

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

// The flaky boot test: systemd's PathChanged= fired on write_private_file's
// temporary file, sync-units listed the directory before the rename (an
// fsync later) and the rename's own trigger was merged into that run. The
// writer's temporary files are what writes_in_progress() finds, and the
// directory sees no other name before the account file itself.
TEST_CASE("account sync: write_private_file's temp file is a write in progress", "[accounts]") {
  char tmpl[] = "/tmp/qp-sync-test-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  int ino = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  REQUIRE(ino >= 0);
  // The events systemd's PathChanged= watches (src/core/path.c).
  REQUIRE(::inotify_add_watch(ino, dir.c_str(),
                              IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                                  IN_MOVED_TO) >= 0);
  REQUIRE(write_private_file(dir + "/alice.toml", "token = \"x\"\n", {}).ok());
  alignas(inotify_event) char buf[8192];
  ssize_t n = ::read(ino, buf, sizeof buf);
  ::close(ino);
  REQUIRE(n > 0);
  std::vector<std::string> names;
  for (ssize_t i = 0; i < n;) {
    const auto* e = reinterpret_cast<const inotify_event*>(buf + i);
    names.emplace_back(e->len > 0 ? e->name : "");
    i += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
  }
  REQUIRE(names.size() >= 2);
  // Every event before the account file's is about the temporary file.
  for (const auto& name : names) {
    INFO(name);
    if (name == "alice.toml") break;
    CHECK(name.rfind(std::string(kPrivateTempPrefix), 0) == 0);
  }
  CHECK(names.back() == "alice.toml");

  // A temporary file like the one above, now: a write in progress; an old
  // one: a writer that died, ignored; other hidden files and accounts: no.
  CHECK(writes_in_progress(dir).empty());
  std::string fresh = dir + "/" + std::string(kPrivateTempPrefix) + "Ab12Cd";
  std::string stale = dir + "/" + std::string(kPrivateTempPrefix) + "Zz99Zz";
  std::ofstream(fresh) << "x";
  std::ofstream(stale) << "x";
  std::ofstream(dir + "/.bob.toml.swp") << "x";
  std::filesystem::last_write_time(stale, std::filesystem::file_time_type::clock::now() -
                                              std::chrono::seconds(kStaleWriteS + 5));
  CHECK(writes_in_progress(dir) == Names{std::string(kPrivateTempPrefix) + "Ab12Cd"});
  CHECK(writes_in_progress(dir + "/missing").empty());
  std::filesystem::remove_all(dir);
}

}  // namespace qp::accounts
