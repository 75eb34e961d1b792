#include "common/log.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "common/json/writer.h"

namespace qp::log {
namespace {

std::atomic<uint8_t> g_level{static_cast<uint8_t>(Level::kInfo)};
char g_proc[32] = "qwenproxy";
char g_tag[48] = "";  // " key=value" after proc= (set_process_tag), or empty
bool g_journal = false;

// systemd sets JOURNAL_STREAM=<dev>:<inode> for a service whose stderr (or
// stdout) is connected to the journal. It is inherited by children whose
// stderr may be something else, so compare it with stderr itself.
bool stderr_is_journal() {
  const char* e = std::getenv("JOURNAL_STREAM");
  if (e == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(e, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

// syslog(3) priorities of our levels: debug, info, warning, err.
constexpr char kPriorities[] = {'7', '6', '4', '3'};

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error"};

bool is_secret_key(std::string_view key) {
  // Keys that end with one of these names carry secrets by convention.
  static constexpr std::string_view kSuffixes[] = {
      "cookie", "cookies", "token", "jwt", "secret", "password", "authorization", "api_key"};
  std::string lower(key);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto m : kSuffixes) {
    if (lower.size() >= m.size() && lower.compare(lower.size() - m.size(), m.size(), m) == 0) {
      return true;
    }
  }
  return false;
}

bool is_b64url(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=';
}

void append_value(std::string* out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out->append(v);
    return;
  }
  // Quoted values use JSON string escaping (and are valid UTF-8), so log
  // shippers can parse them.
  json::append_quoted(out, v);
}

}  // namespace

bool parse_level(std::string_view text, Level* out) {
  if (text == "debug")
    *out = Level::kDebug;
  else if (text == "info")
    *out = Level::kInfo;
  else if (text == "warn" || text == "warning")
    *out = Level::kWarn;
  else if (text == "error")
    *out = Level::kError;
  else
    return false;
  return true;
}

void init(std::string_view process_name) {
  size_t n = std::min(process_name.size(), sizeof(g_proc) - 1);
  process_name.copy(g_proc, n);
  g_proc[n] = '\0';
  if (const char* env = std::getenv("LOG_LEVEL")) {
    Level l;
    if (parse_level(env, &l)) set_level(l);
  }
  g_journal = stderr_is_journal();
}

void set_process_tag(std::string_view key, std::string_view value) {
  std::string tag;
  if (!key.empty()) tag.append(" ").append(key).append("=").append(value);
  size_t n = std::min(tag.size(), sizeof(g_tag) - 1);
  tag.copy(g_tag, n);
  g_tag[n] = '\0';
}

bool to_journal() { return g_journal; }

void set_level(Level level) { g_level.store(static_cast<uint8_t>(level)); }

bool enabled(Level level) {
  return static_cast<uint8_t>(level) >= g_level.load(std::memory_order_relaxed);
}

void mask_secrets(std::string* text) {
  // A JWT is three base64url segments joined by dots and starts with "eyJ"
  // (base64 of '{"'). Replace each such run by "[redacted-jwt]".
  size_t pos = 0;
  while ((pos = text->find("eyJ", pos)) != std::string::npos) {
    size_t end = pos;
    int dots = 0;
    while (end < text->size() && (is_b64url((*text)[end]) || (*text)[end] == '.')) {
      if ((*text)[end] == '.') ++dots;
      ++end;
    }
    if (dots >= 2) {
      text->replace(pos, end - pos, "[redacted-jwt]");
      pos += 14;
    } else {
      pos = end;
    }
  }
}

Line::Line(Level level, std::string_view event) : level_(level) {
  buf_.reserve(256);
  if (g_journal) {
    event_.assign(event);
    buf_.append("level=").append(kLevelNames[static_cast<uint8_t>(level)]);
    buf_.append(" proc=").append(g_proc).append(g_tag);
    buf_.append(" event=");
    append_value(&buf_, event);
    return;
  }
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[96];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  buf_.append("ts=").append(ts);
  buf_.append(" level=").append(kLevelNames[static_cast<uint8_t>(level)]);
  buf_.append(" proc=").append(g_proc).append(g_tag);
  buf_.append(" pid=").append(std::to_string(::getpid()));
  buf_.append(" event=");
  append_value(&buf_, event);
}

Line& Line::kv(std::string_view key, std::string_view value) {
  buf_.push_back(' ');
  buf_.append(key);
  buf_.push_back('=');
  if (g_journal) {
    if (key == "request_id") request_id_.assign(value);
    if (key == "account") account_.assign(value);
  }
  if (is_secret_key(key) && !value.empty()) {
    buf_.append("[redacted]");
  } else {
    append_value(&buf_, value);
  }
  return *this;
}

Line& Line::kv(std::string_view key, int64_t value) {
  return kv(key, std::string_view(std::to_string(value)));
}
Line& Line::kv(std::string_view key, uint64_t value) {
  return kv(key, std::string_view(std::to_string(value)));
}
Line& Line::kv(std::string_view key, double value) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", value);
  return kv(key, std::string_view(b));
}

Line::~Line() {
  mask_secrets(&buf_);
  if (g_journal) {
    std::string message = "MESSAGE=" + buf_;
    char priority[] = {'P', 'R', 'I', 'O', 'R',
                       'I', 'T', 'Y', '=', kPriorities[static_cast<uint8_t>(level_)],
                       '\0'};
    std::string event = "EVENT=" + event_;
    std::string process = std::string("PROCESS=") + g_proc;
    // As journald names a service's stderr lines: after the executable.
    std::string identifier = std::string("SYSLOG_IDENTIFIER=") + program_invocation_short_name;
    std::string request_id = "REQUEST_ID=" + request_id_;
    std::string account = "ACCOUNT=" + account_;
    mask_secrets(&event);
    iovec iov[7];
    int n = 0;
    auto add = [&](const char* p, size_t len) { iov[n++] = iovec{const_cast<char*>(p), len}; };
    add(message.data(), message.size());
    add(priority, sizeof priority - 1);
    add(event.data(), event.size());
    add(process.data(), process.size());
    add(identifier.data(), identifier.size());
    if (!request_id_.empty()) add(request_id.data(), request_id.size());
    if (!account_.empty()) add(account.data(), account.size());
    if (sd_journal_sendv(iov, n) >= 0) return;
    // The journal socket is gone (journald restarting): fall back to stderr.
  }
  buf_.push_back('\n');
  // One write(2) per line so lines from concurrent processes never interleave.
  ssize_t r = ::write(STDERR_FILENO, buf_.data(), buf_.size());
  (void)r;
}

}  // namespace qp::log
