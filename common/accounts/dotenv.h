// Parses a `.env` file like the old Node proxy's dotenv did, so its
// QWEN_COOKIES / QWEN_TOKEN / ... work as a one-account configuration.
// Pure: no I/O.
//
//   # comment
//   KEY=value            unquoted: trimmed, a " #" starts a comment
//   export KEY=value     `export ` is ignored
//   KEY='literal'        single quotes: no escapes
//   KEY="a\nb"           double quotes: \n, \r, \t, \", \\ escapes
//
// Errors give the origin and the line number, never a value.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace qp::accounts {

using DotEnv = std::map<std::string, std::string>;

Result<DotEnv> parse_dotenv(std::string_view text, const std::string& origin);

}  // namespace qp::accounts
