#include "common/sqlite/private_db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "common/log.h"

namespace qp::sqlite {
namespace {

// Only the service user may read these files. SQLite creates a database 0644
// (less the umask) and gives its -wal and -shm files the database's mode, so
// create the database 0600 first, and tighten files an older version left
// readable.
void make_private(const std::string& path) {
  if (path == ":memory:" || path.empty()) return;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) ::fchmod(fd, 0600);
    ::close(fd);
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string side = path + suffix;
    struct stat st {};
    if (::lstat(side.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
      ::chmod(side.c_str(), 0600);
    }
  }
}

}  // namespace

int open_private(const std::string& path, const char* schema, sqlite3** out, std::string* error) {
  make_private(path);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    char* err = nullptr;
    rc = sqlite3_exec(db, schema, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      *error = err != nullptr ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
    }
  } else {
    *error = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  }
  if (rc != SQLITE_OK) {
    sqlite3_close(db);
    return rc;
  }
  *out = db;
  return SQLITE_OK;
}

std::string set_aside(const std::string& path, const char* why) {
  std::string aside = path + "." + why + "-" + std::to_string(std::time(nullptr));
  if (std::rename(path.c_str(), aside.c_str()) != 0) return {};
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  return aside;
}

Opened open_or_memory(const std::string& path, const char* schema, std::string_view name,
                      std::string_view effect) {
  Opened o;
  std::string error;
  std::string n(name);
  o.persistent = path != ":memory:";
  int rc = open_private(path, schema, &o.db, &error);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
    std::string aside = set_aside(path, "corrupt");
    QP_ERROR(n + ".corrupt").kv("path", path).kv("moved_to", aside).kv("error", error);
    rc = open_private(path, schema, &o.db, &error);
  }
  if (rc != SQLITE_OK && o.persistent) {
    QP_ERROR(n + ".not_persistent").kv("path", path).kv("error", error).kv("effect", effect);
    o.persistent = false;
    rc = open_private(":memory:", schema, &o.db, &error);
  }
  if (rc != SQLITE_OK) {
    QP_ERROR(n + ".unavailable").kv("error", error);
    o.db = nullptr;
  }
  return o;
}

std::string errmsg(sqlite3* db) { return db != nullptr ? sqlite3_errmsg(db) : "out of memory"; }

std::string column_text(sqlite3_stmt* st, int col) {
  const unsigned char* p = sqlite3_column_text(st, col);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                    static_cast<size_t>(sqlite3_column_bytes(st, col)))
                      : std::string();
}

void bind_text(sqlite3_stmt* st, int i, std::string_view s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

uint64_t count_rows(sqlite3* db, const char* table) {
  std::string sql = std::string("SELECT COUNT(*) FROM ") + table;
  sqlite3_stmt* st = nullptr;
  uint64_t n = 0;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    n = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
  }
  sqlite3_finalize(st);
  return n;
}

}  // namespace qp::sqlite
