// Opening a process's private SQLite database (the broker's session index,
// the frontend's response store): created 0600 before SQLite touches it
// (SQLite gives its -wal and -shm files the database's mode), busy timeout,
// and the caller's schema script run once. A corrupt file, or one of another
// schema, is moved aside as `<path>.<why>-<unix time>` so the next open
// starts afresh. Callers decide what to do on failure (both fall back to an
// in-memory database: their state is a cache the system can rebuild).
#pragma once

#include <string>

struct sqlite3;

namespace qp::sqlite {

// Opens (creating) `path` (":memory:" for none) and runs `schema`. On
// failure closes it, sets *error and returns the SQLite result code
// (SQLITE_CORRUPT / SQLITE_NOTADB: the file is not a usable database).
int open_private(const std::string& path, const char* schema, sqlite3** out, std::string* error);

// Renames `path` to `<path>.<why>-<unix time>` and removes its -wal and -shm
// files; returns the new name, or empty if the rename failed.
std::string set_aside(const std::string& path, const char* why);

}  // namespace qp::sqlite
