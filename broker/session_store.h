// The conversation index: conversation key -> the upstream chat
// that holds that conversation, on which account, and which message to
// continue from. Owned by the broker because routing depends on it.
//
// Persisted in SQLite (WAL mode, synchronous=NORMAL) so restarting the
// broker, or the whole stack, loses no conversation; a crash of the machine
// may lose the last turns, which then replay (no client error). put() joins
// an open transaction that flush() commits; the broker flushes each turn's
// entry before it forwards the turn's DONE, so a client that has seen a reply
// can continue from it even if the broker is killed right after.
//
// Bounded: entries idle for ttl_ms are dropped, and beyond max_entries the
// least recently used are evicted (evict(), called periodically). A key's
// last use is the time its entry was written: every turn writes the key of
// its new history, so an active conversation's newest entry is always fresh.
//
// Errors never stop the broker: a database that cannot be opened (or is
// corrupt: it is moved aside as <path>.corrupt-<unix time>) is replaced by
// an in-memory one, and failing writes are logged; the cost is only that
// conversations replay instead of continuing natively.
//
// Not thread-safe: the broker's loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace qp::broker {

struct Session {
  std::string account;
  std::string chat_id;
  std::string parent_id;  // continue from this upstream message
  std::string model;
  std::string system_hash;
  std::string tools_hash;
  int64_t last_used_unix_ms = 0;
};

class SessionStore {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for none).
  // Never fails: see the header comment; `persistent()` tells.
  static std::unique_ptr<SessionStore> open(const std::string& path, uint64_t ttl_ms,
                                            uint64_t max_entries);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // The live (not expired) session of `key`.
  std::optional<Session> find(std::string_view key, int64_t now_unix_ms);
  // The most recently written live session of upstream chat `chat_id`.
  std::optional<Session> find_by_chat(std::string_view chat_id, int64_t now_unix_ms);
  // Adds or replaces; session.last_used_unix_ms is the time of use.
  void put(std::string_view key, const Session& session);
  // Commits pending writes.
  void flush();
  // Drops expired entries, then the least recently used beyond max_entries.
  // Returns how many were removed.
  uint64_t evict(int64_t now_unix_ms);
  uint64_t size();
  bool persistent() const { return persistent_; }
  const std::string& path() const { return path_; }

 private:
  SessionStore(sqlite3* db, std::string path, bool persistent, uint64_t ttl_ms,
               uint64_t max_entries);
  Status prepare();
  bool begin();
  std::optional<Session> read_row(sqlite3_stmt* st, int64_t now_unix_ms);

  sqlite3* db_;
  std::string path_;
  bool persistent_;
  uint64_t ttl_ms_;
  uint64_t max_entries_;
  bool in_tx_ = false;
  bool dirty_since_count_ = true;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* find_chat_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
};

}  // namespace qp::broker
