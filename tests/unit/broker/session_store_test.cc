// The broker's conversation index (broker/session_store.h): round trips,
// TTL and LRU bounds (times passed in), persistence across reopen in WAL
// mode, and the fallbacks for a corrupt or unusable database file.
#include "broker/session_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

using qp::broker::Session;
using qp::broker::SessionStore;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kHour = 3'600'000;

Session session(const std::string& chat, const std::string& parent, int64_t t,
                const std::string& account = "alice") {
  Session s;
  s.account = account;
  s.chat_id = chat;
  s.parent_id = parent;
  s.model = "qwen3-max";
  s.system_hash = "sys-" + chat;
  s.tools_hash = "tools-" + chat;
  s.last_used_unix_ms = t;
  return s;
}

// A fresh directory under the system temp dir, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "qp-sessions-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

size_t count_with_prefix(const fs::path& dir, const std::string& prefix) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("sessions: put and find round trip", "[sessions]") {
  auto store = SessionStore::open(":memory:", kHour, 100);
  REQUIRE(store);
  CHECK_FALSE(store->persistent());
  CHECK(store->size() == 0);
  CHECK_FALSE(store->find("k1", 1000).has_value());

  store->put("k1", session("chat-1", "p-1", 1000));
  auto s = store->find("k1", 1000);
  REQUIRE(s);
  CHECK(s->account == "alice");
  CHECK(s->chat_id == "chat-1");
  CHECK(s->parent_id == "p-1");
  CHECK(s->model == "qwen3-max");
  CHECK(s->system_hash == "sys-chat-1");
  CHECK(s->tools_hash == "tools-chat-1");
  CHECK(s->last_used_unix_ms == 1000);
  CHECK_FALSE(store->find("k2", 1000).has_value());
  CHECK_FALSE(store->find("", 1000).has_value());

  // Replacing a key.
  store->put("k1", session("chat-1", "p-2", 2000, "bob"));
  s = store->find("k1", 2000);
  REQUIRE(s);
  CHECK(s->parent_id == "p-2");
  CHECK(s->account == "bob");
  CHECK(s->last_used_unix_ms == 2000);
  store->flush();
  CHECK(store->size() == 1);

  // Empty fields and bytes that need no escaping in SQL.
  Session odd = session("chat-'x'", "", 3000, "");
  odd.system_hash.clear();
  store->put("k'; DROP TABLE sessions; --", odd);
  s = store->find("k'; DROP TABLE sessions; --", 3000);
  REQUIRE(s);
  CHECK(s->chat_id == "chat-'x'");
  CHECK(s->parent_id.empty());
  CHECK(s->account.empty());
  CHECK(s->system_hash.empty());
  CHECK(store->size() == 2);
}

TEST_CASE("sessions: entries expire after the idle TTL", "[sessions]") {
  auto store = SessionStore::open(":memory:", /*ttl_ms=*/500, 100);
  REQUIRE(store);
  store->put("k1", session("c1", "p1", 1000));
  store->put("k2", session("c2", "p2", 1400));
  CHECK(store->find("k1", 1500).has_value());  // exactly ttl: still live
  CHECK_FALSE(store->find("k1", 1501).has_value());
  CHECK(store->find("k2", 1501).has_value());
  CHECK_FALSE(store->find_by_chat("c1", 1501).has_value());
  CHECK(store->evict(1500) == 0);
  CHECK(store->size() == 2);
  CHECK(store->evict(1501) == 1);
  CHECK(store->size() == 1);
  CHECK(store->find("k2", 1600).has_value());
  CHECK(store->evict(10'000) == 1);
  CHECK(store->size() == 0);
  // A re-put refreshes the entry.
  store->put("k3", session("c3", "p3", 20'000));
  store->put("k3", session("c3", "p4", 20'400));
  CHECK(store->find("k3", 20'900).has_value());
}

TEST_CASE("sessions: beyond max_entries the least recently used go first", "[sessions]") {
  auto store = SessionStore::open(":memory:", kHour, /*max_entries=*/3);
  REQUIRE(store);
  // Written out of last-used order: eviction follows last_used, not insertion.
  store->put("k4", session("c4", "p", 400));
  store->put("k1", session("c1", "p", 100));
  store->put("k5", session("c5", "p", 500));
  store->put("k2", session("c2", "p", 200));
  store->put("k3", session("c3", "p", 300));
  CHECK(store->size() == 5);
  CHECK(store->evict(600) == 2);
  CHECK(store->size() == 3);
  CHECK_FALSE(store->find("k1", 600).has_value());
  CHECK_FALSE(store->find("k2", 600).has_value());
  CHECK(store->find("k3", 600).has_value());
  CHECK(store->find("k4", 600).has_value());
  CHECK(store->find("k5", 600).has_value());
  CHECK(store->evict(600) == 0);

  // k3 used again: it becomes the newest, k4 is now the oldest.
  store->put("k3", session("c3", "p", 700));
  store->put("k6", session("c6", "p", 650));
  CHECK(store->evict(800) == 1);
  CHECK_FALSE(store->find("k4", 800).has_value());
  CHECK(store->find("k3", 800).has_value());
  CHECK(store->find("k5", 800).has_value());
  CHECK(store->find("k6", 800).has_value());
}

TEST_CASE("sessions: find_by_chat returns the newest entry of the chat", "[sessions]") {
  auto store = SessionStore::open(":memory:", kHour, 100);
  REQUIRE(store);
  store->put("turn2", session("chat-a", "p-2", 2000));
  store->put("turn3", session("chat-a", "p-3", 3000));
  store->put("turn1", session("chat-a", "p-1", 1000));
  store->put("other", session("chat-b", "p-9", 4000));
  auto s = store->find_by_chat("chat-a", 4000);
  REQUIRE(s);
  CHECK(s->parent_id == "p-3");
  CHECK(s->last_used_unix_ms == 3000);
  s = store->find_by_chat("chat-b", 4000);
  REQUIRE(s);
  CHECK(s->parent_id == "p-9");
  CHECK_FALSE(store->find_by_chat("chat-c", 4000).has_value());
}

TEST_CASE("sessions: a file database survives close and reopen (WAL)", "[sessions]") {
  TempDir dir;
  const std::string path = (dir / "sessions.db").string();
  {
    auto store = SessionStore::open(path, kHour, 100);
    REQUIRE(store);
    CHECK(store->persistent());
    CHECK(store->path() == path);
    store->put("k1", session("chat-1", "p-1", 1000));
    store->flush();
    CHECK(fs::exists(path));
    CHECK(fs::exists(path + "-wal"));  // journal_mode=WAL
    // Written without an explicit flush: the destructor commits it.
    store->put("k2", session("chat-2", "p-2", 2000));
  }
  {
    auto store = SessionStore::open(path, kHour, 100);
    REQUIRE(store);
    CHECK(store->persistent());
    CHECK(store->size() == 2);
    auto s = store->find("k1", 1500);
    REQUIRE(s);
    CHECK(s->chat_id == "chat-1");
    CHECK(s->parent_id == "p-1");
    CHECK(s->system_hash == "sys-chat-1");
    s = store->find("k2", 2500);
    REQUIRE(s);
    CHECK(s->parent_id == "p-2");
    // Eviction persists too: k1 (used at 1000) is idle for more than the TTL.
    CHECK(store->evict(static_cast<int64_t>(kHour) + 1500) == 1);
  }
  auto store = SessionStore::open(path, kHour, 100);
  REQUIRE(store);
  CHECK(store->size() == 1);
  CHECK(store->find("k2", 2500).has_value());
  CHECK(count_with_prefix(dir.path(), "sessions.db.corrupt") == 0);
}

// Before, sessions.db and its -wal/-shm files were created 0644: private only
// when the gateway had also created the 0700 directory around them.
TEST_CASE("sessions: the database and its WAL files are readable by the owner only", "[sessions]") {
  TempDir dir;
  const std::string path = (dir / "sessions.db").string();
  const mode_t old_umask = ::umask(022);
  auto mode = [](const std::string& p) { return fs::status(p).permissions() & fs::perms::all; };
  SECTION("a new database") {
    auto store = SessionStore::open(path, kHour, 100);
    REQUIRE(store);
    store->put("k1", session("chat-1", "p-1", 1000));
    store->flush();
    for (const std::string& p : {path, path + "-wal", path + "-shm"}) {
      INFO(p);
      REQUIRE(fs::exists(p));
      CHECK(mode(p) == (fs::perms::owner_read | fs::perms::owner_write));
    }
  }
  SECTION("a database an older version left 0644") {
    { auto store = SessionStore::open(path, kHour, 100); }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read);
    auto store = SessionStore::open(path, kHour, 100);
    REQUIRE(store);
    CHECK(store->persistent());
    CHECK(mode(path) == (fs::perms::owner_read | fs::perms::owner_write));
  }
  ::umask(old_umask);
}

TEST_CASE("sessions: a corrupt file is moved aside and a fresh store works", "[sessions]") {
  TempDir dir;
  const std::string path = (dir / "sessions.db").string();
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 256; ++i) f << "this is not an SQLite database, just garbage bytes\n";
  }
  auto store = SessionStore::open(path, kHour, 100);
  REQUIRE(store);
  CHECK(store->persistent());
  CHECK(store->size() == 0);
  CHECK(count_with_prefix(dir.path(), "sessions.db.corrupt-") == 1);
  store->put("k1", session("chat-1", "p-1", 1000));
  store->flush();
  CHECK(store->find("k1", 1000).has_value());
  store.reset();
  // The new file is a real database now.
  store = SessionStore::open(path, kHour, 100);
  REQUIRE(store);
  CHECK(store->persistent());
  CHECK(store->find("k1", 1000).has_value());
  CHECK(count_with_prefix(dir.path(), "sessions.db.corrupt-") == 1);
}

TEST_CASE("sessions: an unusable path falls back to memory", "[sessions]") {
  TempDir dir;
  SECTION("missing directory") {
    const std::string path = (dir / "no-such-dir" / "sessions.db").string();
    auto store = SessionStore::open(path, kHour, 100);
    REQUIRE(store);
    CHECK_FALSE(store->persistent());
    CHECK(store->path() == ":memory:");
    store->put("k1", session("chat-1", "p-1", 1000));
    store->flush();
    CHECK(store->find("k1", 1000).has_value());
    CHECK(store->evict(1000) == 0);
    CHECK_FALSE(fs::exists(dir / "no-such-dir"));
  }
  SECTION("the path is a directory") {
    auto store = SessionStore::open(dir.path().string(), kHour, 100);
    REQUIRE(store);
    CHECK_FALSE(store->persistent());
    store->put("k1", session("chat-1", "p-1", 1000));
    CHECK(store->find("k1", 1000).has_value());
    CHECK(fs::is_directory(dir.path()));
  }
}

// A database left by another version (a `sessions` table with other
// columns) is a valid SQLite file, so it is not moved aside as corrupt; the
// header promises that open() never fails (today: an in-memory store).
TEST_CASE("sessions: a database with an unexpected schema still gives a store", "[sessions]") {
  TempDir dir;
  const std::string path = (dir / "sessions.db").string();
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE sessions(key TEXT PRIMARY KEY, chat TEXT)", nullptr,
                         nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = SessionStore::open(path, kHour, 100);
  REQUIRE(store);
  store->put("k1", session("chat-1", "p-1", 1000));
  CHECK(store->find("k1", 1000).has_value());
}
