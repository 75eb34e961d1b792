// Parses the answer of `POST /api/v2/chats/new`:
// {"success":true,"request_id":"…","data":{"id":"<chat_id>"}}. Pure.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::worker {

// The chat id, or kUpstream when the body is not that shape (the caller
// then classifies the body with classify_response).
Result<std::string> parse_new_chat(std::string_view body);

}  // namespace qp::worker
