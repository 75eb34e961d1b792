// Reads request headers copied from the browser. Pure. Accepts:
//  - a bare cookie string:            a=1; token=eyJ…; b=2
//  - one Cookie header:               Cookie: a=1; token=eyJ…
//  - a block of request headers, one "Name: value" per line, optionally
//    starting with the request line ("POST /api/… HTTP/2") or HTTP/2
//    pseudo-headers (":authority: chat.qwen.ai"), as "Copy request headers"
//    gives them. Cookie, Authorization, bx-* and User-Agent are kept.
#pragma once

#include <string_view>

#include "common/status.h"
#include "tools/account/capture.h"

namespace qp::account_tool {

// Errors (kInvalidArgument) for empty input or text that is neither headers
// nor name=value cookie pairs; they never quote the input.
Result<Capture> parse_cookie_input(std::string_view text);

}  // namespace qp::account_tool
