#include "frontend/responses/response_store.h"

#include <sqlite3.h>

#include "common/log.h"
#include "common/sqlite/private_db.h"

namespace qp::frontend::responses {
namespace {

constexpr const char* kSchema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS responses("
    "  id TEXT PRIMARY KEY,"
    "  created INTEGER NOT NULL,"
    "  response TEXT NOT NULL,"
    "  items TEXT NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS responses_created ON responses(created);";

constexpr int64_t kExpiryIntervalMs = 60'000;

using sqlite::errmsg;

}  // namespace

std::unique_ptr<ResponseStore> ResponseStore::open(const std::string& path, uint64_t ttl_ms,
                                                   uint64_t max_entries) {
  sqlite::Opened o = sqlite::open_or_memory(
      path, kSchema, "responses", "stored responses are kept in memory only and lost on restart");
  if (o.db == nullptr) return nullptr;
  sqlite3* db = o.db;
  bool persistent = o.persistent;
  std::unique_ptr<ResponseStore> store(
      new ResponseStore(db, persistent ? path : ":memory:", persistent, ttl_ms, max_entries));
  if (!store->prepare()) {
    std::string why = errmsg(db);
    store.reset();
    if (!persistent) {
      QP_ERROR("responses.unavailable").kv("error", why);
      return nullptr;
    }
    std::string aside = sqlite::set_aside(path, "unusable");
    QP_ERROR("responses.unusable").kv("path", path).kv("moved_to", aside).kv("error", why);
    return open(aside.empty() ? std::string(":memory:") : path, ttl_ms, max_entries);
  }
  store->count_ = store->size();
  QP_INFO("responses.opened")
      .kv("path", store->path())
      .kv("entries", store->count_)
      .kv("ttl_ms", ttl_ms)
      .kv("max_entries", max_entries);
  return store;
}

ResponseStore::ResponseStore(sqlite3* db, std::string path, bool persistent, uint64_t ttl_ms,
                             uint64_t max_entries)
    : db_(db),
      path_(std::move(path)),
      persistent_(persistent),
      ttl_ms_(ttl_ms),
      max_entries_(max_entries) {}

ResponseStore::~ResponseStore() {
  for (sqlite3_stmt* st : {find_, put_, expire_, trim_}) sqlite3_finalize(st);
  sqlite3_close(db_);
}

bool ResponseStore::prepare() {
  const std::pair<const char*, sqlite3_stmt**> stmts[] = {
      {"SELECT response, items, created FROM responses WHERE id = ?1", &find_},
      {"INSERT OR REPLACE INTO responses(id, created, response, items) VALUES(?1, ?2, ?3, ?4)",
       &put_},
      {"DELETE FROM responses WHERE created < ?1", &expire_},
      {"DELETE FROM responses WHERE id IN "
       "(SELECT id FROM responses ORDER BY created ASC LIMIT ?1)",
       &trim_},
  };
  for (const auto& [sql, st] : stmts) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, st, nullptr) != SQLITE_OK)
      return false;
  }
  return true;
}

uint64_t ResponseStore::run(sqlite3_stmt* st, int64_t arg) {
  sqlite3_bind_int64(st, 1, arg);
  uint64_t n = 0;
  if (sqlite3_step(st) == SQLITE_DONE) {
    n = static_cast<uint64_t>(sqlite3_changes(db_));
  } else {
    QP_WARN("responses.write_failed").kv("op", "evict").kv("error", errmsg(db_));
  }
  sqlite3_reset(st);
  return n;
}

bool ResponseStore::put(std::string_view id, std::string_view response_json,
                        std::string_view items_json, int64_t now_unix_ms) {
  if (response_json.size() + items_json.size() > kMaxEntryBytes) {
    QP_WARN("responses.not_stored")
        .kv("id", id)
        .kv("bytes", static_cast<uint64_t>(response_json.size() + items_json.size()))
        .kv("why", "over the entry size bound");
    return false;
  }
  bool ok = false;
  sqlite::bind_text(put_, 1, id);
  sqlite3_bind_int64(put_, 2, now_unix_ms);
  sqlite::bind_text(put_, 3, response_json);
  sqlite::bind_text(put_, 4, items_json);
  if (sqlite3_step(put_) == SQLITE_DONE) {
    ++count_;
    ok = true;
  } else {
    QP_WARN("responses.write_failed").kv("op", "put").kv("error", errmsg(db_));
  }
  sqlite3_reset(put_);
  sqlite3_clear_bindings(put_);
  if (count_ > max_entries_ || now_unix_ms - last_expiry_unix_ms_ >= kExpiryIntervalMs)
    evict(now_unix_ms);
  return ok;
}

std::optional<StoredResponse> ResponseStore::find(std::string_view id, int64_t now_unix_ms) {
  std::optional<StoredResponse> out;
  sqlite::bind_text(find_, 1, id);
  if (sqlite3_step(find_) == SQLITE_ROW) {
    StoredResponse r;
    r.response_json = sqlite::column_text(find_, 0);
    r.items_json = sqlite::column_text(find_, 1);
    r.created_unix_ms = sqlite3_column_int64(find_, 2);
    if (now_unix_ms - r.created_unix_ms <= static_cast<int64_t>(ttl_ms_)) out = std::move(r);
  }
  sqlite3_reset(find_);
  sqlite3_clear_bindings(find_);
  return out;
}

uint64_t ResponseStore::evict(int64_t now_unix_ms) {
  last_expiry_unix_ms_ = now_unix_ms;
  uint64_t removed = run(expire_, now_unix_ms - static_cast<int64_t>(ttl_ms_));
  count_ = size();
  if (count_ > max_entries_) {
    removed += run(trim_, static_cast<int64_t>(count_ - max_entries_));
    count_ = size();
  }
  if (removed > 0) QP_DEBUG("responses.evicted").kv("removed", removed);
  return removed;
}

uint64_t ResponseStore::size() { return sqlite::count_rows(db_, "responses"); }

}  // namespace qp::frontend::responses
