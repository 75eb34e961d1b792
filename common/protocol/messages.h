// Plain message structs carried in the body frame (see wire.h). Encoded as
// MessagePack maps keyed by field name (codec.h), so a field added later with
// a default stays compatible in both directions. Every message that belongs
// to a job carries request_id.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace qp::protocol {

struct ChatMessage {
  std::string role;          // system | user | assistant | tool
  std::string content;       // text; content-part arrays are joined by the frontend
  std::string name;          // optional
  std::string tool_call_id;  // role == tool
  std::string tool_calls;    // role == assistant: the OpenAI tool_calls array as JSON text
};

enum class JobKind : uint8_t { kChat = 0, kListModels = 1 };

struct JobRequest {
  std::string request_id;
  JobKind kind = JobKind::kChat;
  std::string model;
  std::vector<ChatMessage> messages;
  bool stream = false;
  int64_t max_tokens = 0;         // 0 = not set
  double temperature = -1;        // < 0 = not set
  double top_p = -1;              // < 0 = not set
  std::vector<std::string> stop;  // up to 4 stop sequences
  std::string user;
  std::string tools;            // OpenAI tools array as JSON text, empty if none
  std::string tool_choice;      // OpenAI tool_choice as JSON text, empty if none
  bool parallel_tool_calls = true;  // OpenAI parallel_tool_calls (default true)
  std::string response_format;  // OpenAI response_format as JSON text, empty if none
  std::string chat_id;          // optional qwen_chat_id override
  int64_t created_unix_ms = 0;
  int64_t deadline_unix_ms = 0;  // 0 = none
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
};

// One OpenAI tool_calls delta (ChatCompletionMessageToolCallChunk). The
// first delta of a call carries index, id and name; later ones carry index
// and an arguments fragment. Fragments of one index concatenate to the
// call's JSON arguments.
struct ToolCallDelta {
  int32_t index = 0;
  std::string id;         // first delta of a call only ("call_…")
  std::string name;       // first delta of a call only
  std::string arguments;  // JSON text fragment
};

// One delta of the answer, forwarded as soon as it arrives upstream. A chunk
// carrying both text and tool calls means: the text comes first.
struct JobChunk {
  std::string request_id;
  std::string content;    // answer text delta
  std::string reasoning;  // reasoning_content delta
  std::vector<ToolCallDelta> tool_calls;
};

struct JobDone {
  std::string request_id;
  std::string finish_reason = "stop";  // stop | length | tool_calls | content_filter
  bool has_usage = false;
  Usage usage;
  std::string chat_id;  // upstream chat id
  std::string account;  // account that served the job
};

struct JobError {
  std::string request_id;
  Code code = Code::kInternal;
  std::string message;        // safe to show to the client; never contains secrets
  int64_t retry_after_s = 0;  // > 0: the client should retry after this many seconds
};

struct Cancel {
  std::string request_id;
  std::string reason;
};

// Account health as reported by workers.
inline constexpr const char* kHealthOk = "ok";
inline constexpr const char* kHealthRateLimited = "rate_limited";
inline constexpr const char* kHealthNeedsVerification = "needs_verification";
inline constexpr const char* kHealthCredentialsInvalid = "credentials_invalid";
inline constexpr const char* kHealthUnreachable = "upstream_unreachable";

// Body of READY and of worker HEARTBEATs. A heartbeat from an unknown worker
// registers it like READY does (the broker may have restarted).
struct WorkerStatus {
  std::string account;
  std::string instance;  // random per process start
  uint32_t capacity = 1;
  uint32_t in_flight = 0;
  std::string health = kHealthOk;
  int64_t health_until_unix_ms = 0;  // rate_limited: until when
  int64_t token_expires_unix_s = 0;  // 0 = unknown
};

// Body of frontend HEARTBEATs.
struct PeerHello {
  std::string instance;  // random per process start
  std::string role;      // "frontend"
};

struct AccountSummary {
  std::string account;
  std::string health;
  uint32_t capacity = 0;
  uint32_t in_flight = 0;
  int64_t token_expires_unix_s = 0;
};

// Body of broker HEARTBEATs. A change of `instance` tells peers the broker
// restarted and lost every job it was routing.
struct BrokerStatus {
  std::string instance;
  uint32_t workers = 0;
  uint32_t queued = 0;
  std::vector<AccountSummary> accounts;
};

struct ModelInfo {
  std::string id;
  std::string name;
  std::string owned_by = "qwen";
  int64_t created = 0;
  int64_t context_length = 0;
  int64_t max_output_tokens = 0;
  std::vector<std::string> capabilities;  // e.g. vision, thinking, search
};

struct ModelList {
  std::string request_id;
  std::vector<ModelInfo> models;
};

}  // namespace qp::protocol
