// One-line structured logs to stderr: `ts=… level=… proc=… event=… key=value…`.
// Every line about a request carries request_id=…, in every process.
//
// Under systemd, when stderr is the journal (JOURNAL_STREAM names it), each
// line goes to the journal itself (sd_journal_send) with its syslog priority
// (PRIORITY=7/6/4/3 for debug/info/warn/error, so `journalctl -p warning`
// works) and the fields EVENT=, PROCESS=, and REQUEST_ID= / ACCOUNT= when the
// line has them, so `journalctl EVENT=account.reloaded ACCOUNT=alice` works.
// The MESSAGE is the same line without `ts=` (the journal has its own time).
// Anywhere else the output is unchanged.
//
// Secrets (cookies, tokens, API keys) must never be passed as values. As a
// second line of defence, Line masks anything that looks like a JWT and the
// value of any key whose name ends with "cookie(s)", "token", "jwt",
// "secret", "password", "authorization" or "api_key".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qp::log {

enum class Level : uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Sets the process name and the level (from LOG_LEVEL: debug|info|warn|error;
// default info), and detects whether stderr is the journal. Call once at
// start-up, before other threads exist.
void init(std::string_view process_name);
// A process-wide " key=value" written after proc= on every line (one of
// several frontend processes: `frontend=1`); an empty key removes it. Call at
// start-up, before other threads exist.
void set_process_tag(std::string_view key, std::string_view value);
// True when lines go to the journal (see above). Exposed for tests.
bool to_journal();
void set_level(Level level);
bool enabled(Level level);
// Parses "debug", "info", "warn"/"warning", "error". Returns false if unknown.
bool parse_level(std::string_view text, Level* out);

// Masks JWT-looking substrings ("eyJ…" with two dots) in place. Exposed for tests.
void mask_secrets(std::string* text);

class Line {
 public:
  Line(Level level, std::string_view event);
  ~Line();
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;

  Line& kv(std::string_view key, std::string_view value);
  Line& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  Line& kv(std::string_view key, const std::string& value) {
    return kv(key, std::string_view(value));
  }
  Line& kv(std::string_view key, int64_t value);
  Line& kv(std::string_view key, uint64_t value);
  Line& kv(std::string_view key, int value) { return kv(key, static_cast<int64_t>(value)); }
  Line& kv(std::string_view key, unsigned value) { return kv(key, static_cast<uint64_t>(value)); }
  Line& kv(std::string_view key, long long value) { return kv(key, static_cast<int64_t>(value)); }
  Line& kv(std::string_view key, unsigned long long value) {
    return kv(key, static_cast<uint64_t>(value));
  }
  Line& kv(std::string_view key, double value);
  Line& kv(std::string_view key, bool value) { return kv(key, value ? "true" : "false"); }

 private:
  std::string buf_;
  Level level_;
  // Copies of the values that become journal fields (journal mode only).
  std::string event_;
  std::string request_id_;
  std::string account_;
};

}  // namespace qp::log

namespace qp::log {
// Lets QP_LOG be a single expression (glog's LogMessageVoidify), so it is
// safe inside an unbraced if/else.
struct Voidify {
  void operator&(const Line&) {}
};
}  // namespace qp::log

#define QP_LOG(level, event) \
  !::qp::log::enabled(level) ? (void)0 : ::qp::log::Voidify() & ::qp::log::Line(level, event)
#define QP_DEBUG(event) QP_LOG(::qp::log::Level::kDebug, event)
#define QP_INFO(event) QP_LOG(::qp::log::Level::kInfo, event)
#define QP_WARN(event) QP_LOG(::qp::log::Level::kWarn, event)
#define QP_ERROR(event) QP_LOG(::qp::log::Level::kError, event)
