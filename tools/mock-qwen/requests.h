// Parsers for the request bodies the mock accepts (docs/mock-qwen.md, "Upstream
// API"). Pure: no HTTP, no state. A failed parse returns kInvalidArgument whose
// message is the `details` text the mock sends back in a Bad_Request envelope.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace qp::mock {

// POST /api/v2/chat/completions body.
struct CompletionRequest {
  bool stream = true;
  bool incremental_output = true;
  std::string chat_id;    // body chat_id; empty if absent
  std::string chat_mode;  // "normal", "guest", "local", … ; empty if absent
  std::string model;
  // Top-level parent_id wins; else messages[0].parent_id, else parentId.
  // nullopt = null/absent (a new root).
  std::optional<std::string> parent_id;
  size_t message_count = 0;
  // Of messages[0]:
  std::string role;
  std::string content;  // string content, or the text parts joined with "\n"
  int attachments = 0;  // non-text content parts (images, videos)
  // Of those, {"type": T, T: url} items in order: (T, url).
  std::vector<std::pair<std::string, std::string>> media;
  std::string chat_type = "t2t";
  bool thinking_enabled = false;
  std::string thinking_format;   // "", "detail", "summary"
  int64_t thinking_budget = -1;  // feature_config.thinking_budget; -1 = absent
  std::string thinking_mode;     // feature_config.thinking_mode; empty if absent
  bool auto_search = false;      // feature_config.auto_search
};

qp::Result<CompletionRequest> parse_completion_request(std::string_view body);

// POST /api/v2/chats/new body.
struct NewChatRequest {
  std::string title = "New Chat";
  std::string model;  // models[0]; empty if absent
  std::string chat_mode;
  std::string chat_type = "t2t";
};

qp::Result<NewChatRequest> parse_new_chat_request(std::string_view body);

// POST /api/v1/auths/signin body.
struct SigninRequest {
  std::string email;
  std::string password;  // sha256 hex
};

qp::Result<SigninRequest> parse_signin_request(std::string_view body);

// {"chat_id": "…"} of /completions/stop; empty chat_id if absent.
qp::Result<std::string> parse_chat_id_body(std::string_view body);

// POST /api/v1/files/getstsToken body.
struct StsRequest {
  std::string filename;
  int64_t filesize = 0;
  std::string filetype;
};

qp::Result<StsRequest> parse_sts_request(std::string_view body);

// POST /__mock/token body: {"user": "…", "ttl_s": N} (ttl_s default 7 days,
// may be negative to mint an already expired token).
struct TokenRequest {
  std::string user;
  int64_t ttl_s = 7 * 24 * 3600;
};

qp::Result<TokenRequest> parse_token_request(std::string_view body);

}  // namespace qp::mock
