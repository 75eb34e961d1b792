// Reads a HAR file (HTTP Archive 1.2, "Export HAR" in the network panel) and
// picks the request to take credentials from. Pure (simdjson on-demand).
//
// Candidates are requests to a *.qwen.ai host under /api/. The last one that
// carries a session token (Authorization: Bearer, or the `token` cookie)
// wins: it has the newest credentials. Cookies come from the Cookie header,
// else from the entry's `cookies` array.
#pragma once

#include <string_view>

#include "common/status.h"
#include "tools/account/capture.h"

namespace qp::account_tool {

// Errors (kInvalidArgument) for invalid JSON, a document that is not a HAR,
// or a HAR with no usable request (with a hint about Chrome's sanitised
// export, which drops cookies and Authorization).
Result<Capture> parse_har(std::string_view json);

}  // namespace qp::account_tool
