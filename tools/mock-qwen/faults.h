// Fault switches (docs/mock-qwen.md, "Fault switches"): which failure the mock
// injects into which requests. Pure; owned by the mock's loop thread.
//
// A fault has a kind, an endpoint, an optional user filter and an optional
// count. Scope "all" = every matching request until cleared; "next N" = the
// next N matching requests; "user U" = only requests by user U (a JWT id, or
// the guest owner id shown in /__mock/state records).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qp::mock {

enum class FaultKind : uint8_t {
  kRateLimited,     // RateLimited envelope with "num" (HTTP 200)
  kWafJson,         // (a) HTTP 200 baxia punish JSON
  kWafHtml,         // (b) HTTP 403 HTML challenge page
  kUnauthorized,    // HTTP 401 Unauthorized "Token has expired"
  kChatInProgress,  // Bad_Request "The chat is in progress!"
  kInternalError,   // Bad_Request "Internal error" before the stream
  kModeration,      // Bad_Request "Content security warning"
  kMidStreamError,  // internal_error event after `after` content events, then EOF
  kSlowFirstByte,   // waits delay_ms before the response headers
  kDropMidStream,   // cuts the connection after `after` content events
  kEmptyAnswer,     // a well-formed stream whose answer is empty (no think, search or text)
  // The document parse endpoints (files_parse, files_parse_status):
  kParseOutage,  // HTTP 200 {"success":true|false,"data":{"code":"Internal_Server_Error"}}
  kWafCaptcha,   // HTTP 200 aliyun_waf_captcha HTML page (~16 KiB), any endpoint
};

// kAny: completions and chats_new (not the file endpoints, which a fault
// names explicitly).
enum class FaultEndpoint : uint8_t {
  kCompletions,
  kChatsNew,
  kAny,
  kFilesParse,
  kFilesParseStatus
};

struct Fault {
  FaultKind kind = FaultKind::kInternalError;
  FaultEndpoint endpoint = FaultEndpoint::kCompletions;
  std::string user;        // empty = any caller
  int64_t remaining = -1;  // -1 = unlimited; else fires this many more times
  int64_t num = 6;         // kRateLimited: hours in "num"
  int64_t after = 0;       // kMidStreamError / kDropMidStream: content events first
  int64_t delay_ms = 0;    // kSlowFirstByte
};

// What fired for one request.
struct FaultHits {
  std::optional<Fault> reject;      // first matching rejecting fault, if any
  int64_t first_byte_delay_ms = 0;  // sum of kSlowFirstByte delays
  int64_t error_after = -1;         // kMidStreamError
  int64_t drop_after = -1;          // kDropMidStream
  bool empty_answer = false;        // kEmptyAnswer
};

std::string_view fault_kind_name(FaultKind kind);
std::optional<FaultKind> fault_kind_from_name(std::string_view name);
std::string_view fault_endpoint_name(FaultEndpoint ep);
std::optional<FaultEndpoint> fault_endpoint_from_name(std::string_view name);
// True for kinds that replace the response (as opposed to shaping the stream).
bool fault_rejects(FaultKind kind);

class FaultSet {
 public:
  void add(Fault fault) { faults_.push_back(std::move(fault)); }
  void clear() { faults_.clear(); }
  const std::vector<Fault>& faults() const { return faults_; }

  // Evaluates the faults for one request at `endpoint` by `user`, in the order
  // they were added. Only the faults that take effect are consumed: the first
  // rejecting one if any (then nothing else applies), else every
  // stream-shaping one (only when `streaming`). Exhausted faults are removed.
  FaultHits fire(FaultEndpoint endpoint, std::string_view user, bool streaming);

  // JSON array of the active faults, for /__mock/state.
  void append_json(std::string* out) const;

 private:
  std::vector<Fault> faults_;
};

}  // namespace qp::mock
