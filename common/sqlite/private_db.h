// Opening a process's private SQLite database (the broker's session index,
// the frontend's response store): created 0600 before SQLite touches it
// (SQLite gives its -wal and -shm files the database's mode), busy timeout,
// and the caller's schema script run once. A corrupt file, or one of another
// schema, is moved aside as `<path>.<why>-<unix time>` so the next open
// starts afresh. Callers decide what to do on failure (both fall back to an
// in-memory database: their state is a cache the system can rebuild).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace qp::sqlite {

// Opens (creating) `path` (":memory:" for none) and runs `schema`. On
// failure closes it, sets *error and returns the SQLite result code
// (SQLITE_CORRUPT / SQLITE_NOTADB: the file is not a usable database).
int open_private(const std::string& path, const char* schema, sqlite3** out, std::string* error);

// Renames `path` to `<path>.<why>-<unix time>` and removes its -wal and -shm
// files; returns the new name, or empty if the rename failed.
std::string set_aside(const std::string& path, const char* why);

// open_private() with the fallbacks both stores want: a corrupt file is set
// aside and replaced; a path that still cannot be opened gives an in-memory
// database. Logged as `<name>.corrupt` / `<name>.not_persistent` (with
// `effect`, what the fallback costs) / `<name>.unavailable` (db nullptr: even
// memory failed).
struct Opened {
  sqlite3* db = nullptr;
  bool persistent = false;
};
Opened open_or_memory(const std::string& path, const char* schema, std::string_view name,
                      std::string_view effect);

// Small helpers over the C API.
std::string errmsg(sqlite3* db);
std::string column_text(sqlite3_stmt* st, int col);
void bind_text(sqlite3_stmt* st, int i, std::string_view s);  // copied (SQLITE_TRANSIENT)
uint64_t count_rows(sqlite3* db, const char* table);          // SELECT COUNT(*); 0 on error

}  // namespace qp::sqlite
