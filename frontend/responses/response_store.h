// The Responses API's store (POST /v1/responses with store:true, read by
// GET /v1/responses/{id} and by a later request's previous_response_id):
// response id -> the Response object as returned, and the whole
// conversation up to and including that response as Responses input items
// (a JSON array: the earlier history, the request's input, the response's
// output). A request that names previous_response_id loads those items,
// appends its input and becomes an ordinary job, whose history key is then
// the one the broker indexed after the previous turn: the upstream chat
// continues natively (docs/architecture.md, "Conversations").
//
// SQLite at `{state_dir}/responses.db` (WAL, synchronous=NORMAL, private
// file: common/sqlite/private_db.h). Writes are single prepared-statement
// autocommits on the frontend's loop (one per stored response; at this
// scale a few hundred microseconds, so no worker thread). Bounded: entries
// older than ttl_ms are not returned and are deleted (at most once a
// minute, on a write), and beyond max_entries the oldest are deleted at
// once. An entry over kMaxEntryBytes (a very long chain of
// previous_response_id turns) is not stored (logged): a later
// previous_response_id naming it gets 404, and the client sends the history
// instead. A database that cannot be opened is replaced by an in-memory one
// (logged): stored responses are then lost on restart, nothing else.
//
// Not thread-safe: the frontend's loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace qp::frontend::responses {

// The largest response + conversation one entry may hold.
inline constexpr size_t kMaxEntryBytes = 16 << 20;

struct StoredResponse {
  std::string response_json;  // the Response object
  std::string items_json;     // the conversation as input items (JSON array)
  int64_t created_unix_ms = 0;
};

class ResponseStore {
 public:
  // Never fails but for an unusable SQLite (nullptr, logged).
  static std::unique_ptr<ResponseStore> open(const std::string& path, uint64_t ttl_ms,
                                             uint64_t max_entries);
  ~ResponseStore();
  ResponseStore(const ResponseStore&) = delete;
  ResponseStore& operator=(const ResponseStore&) = delete;

  // Adds (or replaces) `id`, then deletes what is over the bounds; false
  // (nothing stored) for an entry over kMaxEntryBytes or a failed write.
  bool put(std::string_view id, std::string_view response_json, std::string_view items_json,
           int64_t now_unix_ms);
  // The entry of `id` if stored and younger than ttl_ms.
  std::optional<StoredResponse> find(std::string_view id, int64_t now_unix_ms);
  // Deletes expired entries, then the oldest beyond max_entries; how many.
  uint64_t evict(int64_t now_unix_ms);
  uint64_t size();
  bool persistent() const { return persistent_; }
  const std::string& path() const { return path_; }

 private:
  ResponseStore(sqlite3* db, std::string path, bool persistent, uint64_t ttl_ms,
                uint64_t max_entries);
  bool prepare();
  uint64_t run(sqlite3_stmt* st, int64_t arg);

  sqlite3* db_;
  std::string path_;
  bool persistent_;
  uint64_t ttl_ms_;
  uint64_t max_entries_;
  uint64_t count_ = 0;  // entries, kept in step with writes (re-read after an eviction)
  int64_t last_expiry_unix_ms_ = 0;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* expire_ = nullptr;
  sqlite3_stmt* trim_ = nullptr;
};

}  // namespace qp::frontend::responses
