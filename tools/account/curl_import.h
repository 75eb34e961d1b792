// Reads a "Copy as cURL" command (bash, cmd or PowerShell quoting, see
// shell_words.h) or Chrome's "Copy as PowerShell" (Invoke-WebRequest) and
// returns the headers that matter (capture.h). Pure.
#pragma once

#include <string_view>

#include "common/status.h"
#include "tools/account/capture.h"

namespace qp::account_tool {

// Errors (kInvalidArgument): not a curl command, quoting errors, a cookie
// *file* (-b FILE) instead of a cookie string. Messages never contain the
// input's text.
Result<Capture> parse_curl(std::string_view text);

// Chrome's "Copy as PowerShell": $session.UserAgent, $session.Cookies.Add(…
// System.Net.Cookie("name", "value", …)), -Uri, -Method and -Headers @{…}.
Result<Capture> parse_invoke_webrequest(std::string_view text);

}  // namespace qp::account_tool
