#include "broker/session_store.h"

#include <sqlite3.h>

#include <cstdio>

#include "common/log.h"
#include "common/sqlite/private_db.h"

namespace qp::broker {
namespace {

constexpr const char* kSchema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS sessions("
    "  key TEXT PRIMARY KEY,"
    "  account TEXT NOT NULL,"
    "  chat_id TEXT NOT NULL,"
    "  parent_id TEXT NOT NULL,"
    "  model TEXT NOT NULL,"
    "  system_hash TEXT NOT NULL,"
    "  tools_hash TEXT NOT NULL,"
    "  last_used INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS sessions_last_used ON sessions(last_used);"
    "CREATE INDEX IF NOT EXISTS sessions_chat ON sessions(chat_id, last_used);";

constexpr const char* kColumns =
    "account, chat_id, parent_id, model, system_hash, tools_hash, last_used";

using sqlite::column_text;
using sqlite::errmsg;

void bind(sqlite3_stmt* st, int i, std::string_view s) { sqlite::bind_text(st, i, s); }

}  // namespace

std::unique_ptr<SessionStore> SessionStore::open(const std::string& path, uint64_t ttl_ms,
                                                 uint64_t max_entries) {
  sqlite::Opened o = sqlite::open_or_memory(
      path, kSchema, "sessions", "conversations are kept in memory only and lost on restart");
  if (o.db == nullptr) return nullptr;
  sqlite3* db = o.db;
  bool persistent = o.persistent;
  std::unique_ptr<SessionStore> store(
      new SessionStore(db, persistent ? path : ":memory:", persistent, ttl_ms, max_entries));
  if (Status s = store->prepare(); !s.ok()) {
    if (!persistent) {
      QP_ERROR("sessions.unavailable").kv("error", s.message());
      return nullptr;
    }
    // A database of another schema (an older or foreign file): set it aside
    // like a corrupt one rather than fall back to memory on every start.
    store.reset();
    std::string aside = sqlite::set_aside(path, "unusable");
    QP_ERROR("sessions.unusable").kv("path", path).kv("moved_to", aside).kv("error", s.message());
    if (aside.empty()) return open(":memory:", ttl_ms, max_entries);
    return open(path, ttl_ms, max_entries);
  }
  QP_INFO("sessions.opened")
      .kv("path", store->path())
      .kv("entries", store->size())
      .kv("ttl_ms", ttl_ms)
      .kv("max_entries", max_entries);
  return store;
}

SessionStore::SessionStore(sqlite3* db, std::string path, bool persistent, uint64_t ttl_ms,
                           uint64_t max_entries)
    : db_(db),
      path_(std::move(path)),
      persistent_(persistent),
      ttl_ms_(ttl_ms),
      max_entries_(max_entries) {}

SessionStore::~SessionStore() {
  flush();
  sqlite3_finalize(find_);
  sqlite3_finalize(find_chat_);
  sqlite3_finalize(put_);
  sqlite3_close(db_);
}

Status SessionStore::prepare() {
  std::string find = std::string("SELECT ") + kColumns + " FROM sessions WHERE key = ?1";
  std::string by_chat = std::string("SELECT ") + kColumns +
                        " FROM sessions WHERE chat_id = ?1 ORDER BY last_used DESC LIMIT 1";
  std::string put = std::string("INSERT OR REPLACE INTO sessions(key, ") + kColumns +
                    ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
  for (auto [sql, st] :
       {std::pair{&find, &find_}, std::pair{&by_chat, &find_chat_}, std::pair{&put, &put_}}) {
    if (sqlite3_prepare_v3(db_, sql->c_str(), -1, SQLITE_PREPARE_PERSISTENT, st, nullptr) !=
        SQLITE_OK) {
      return error(Code::kInternal, "sessions: cannot prepare a statement: " + errmsg(db_));
    }
  }
  return Status();
}

std::optional<Session> SessionStore::read_row(sqlite3_stmt* st, int64_t now_unix_ms) {
  std::optional<Session> out;
  if (sqlite3_step(st) == SQLITE_ROW) {
    Session s;
    s.account = column_text(st, 0);
    s.chat_id = column_text(st, 1);
    s.parent_id = column_text(st, 2);
    s.model = column_text(st, 3);
    s.system_hash = column_text(st, 4);
    s.tools_hash = column_text(st, 5);
    s.last_used_unix_ms = sqlite3_column_int64(st, 6);
    if (now_unix_ms - s.last_used_unix_ms <= static_cast<int64_t>(ttl_ms_)) out = std::move(s);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return out;
}

std::optional<Session> SessionStore::find(std::string_view key, int64_t now_unix_ms) {
  bind(find_, 1, key);
  return read_row(find_, now_unix_ms);
}

std::optional<Session> SessionStore::find_by_chat(std::string_view chat_id, int64_t now_unix_ms) {
  bind(find_chat_, 1, chat_id);
  return read_row(find_chat_, now_unix_ms);
}

bool SessionStore::begin() {
  if (in_tx_) return true;
  if (sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
    QP_WARN("sessions.write_failed").kv("op", "begin").kv("error", errmsg(db_));
    return false;
  }
  in_tx_ = true;
  return true;
}

void SessionStore::put(std::string_view key, const Session& s) {
  begin();  // without a transaction the insert still autocommits
  bind(put_, 1, key);
  bind(put_, 2, s.account);
  bind(put_, 3, s.chat_id);
  bind(put_, 4, s.parent_id);
  bind(put_, 5, s.model);
  bind(put_, 6, s.system_hash);
  bind(put_, 7, s.tools_hash);
  sqlite3_bind_int64(put_, 8, s.last_used_unix_ms);
  if (sqlite3_step(put_) != SQLITE_DONE) {
    QP_WARN("sessions.write_failed").kv("op", "put").kv("error", errmsg(db_));
  }
  sqlite3_reset(put_);
  sqlite3_clear_bindings(put_);
  dirty_since_count_ = true;
}

void SessionStore::flush() {
  if (!in_tx_) return;
  in_tx_ = false;
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    QP_WARN("sessions.write_failed").kv("op", "commit").kv("error", errmsg(db_));
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

uint64_t SessionStore::size() { return sqlite::count_rows(db_, "sessions"); }

uint64_t SessionStore::evict(int64_t now_unix_ms) {
  flush();
  uint64_t removed = 0;
  auto run = [&](const char* sql, int64_t arg) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
      QP_WARN("sessions.write_failed").kv("op", "evict").kv("error", errmsg(db_));
      return;
    }
    sqlite3_bind_int64(st, 1, arg);
    if (sqlite3_step(st) == SQLITE_DONE) {
      removed += static_cast<uint64_t>(sqlite3_changes(db_));
    } else {
      QP_WARN("sessions.write_failed").kv("op", "evict").kv("error", errmsg(db_));
    }
    sqlite3_finalize(st);
  };
  run("DELETE FROM sessions WHERE last_used < ?1", now_unix_ms - static_cast<int64_t>(ttl_ms_));
  if (dirty_since_count_ || removed > 0) {
    dirty_since_count_ = false;
    uint64_t n = size();
    if (n > max_entries_) {
      run("DELETE FROM sessions WHERE key IN "
          "(SELECT key FROM sessions ORDER BY last_used ASC LIMIT ?1)",
          static_cast<int64_t>(n - max_entries_));
    }
  }
  if (removed > 0) QP_DEBUG("sessions.evicted").kv("removed", removed);
  return removed;
}

}  // namespace qp::broker
