// Best-effort repair of almost-JSON the model writes inside tool calls. Pure.
#pragma once

#include <string>
#include <string_view>

namespace qp::worker::toolcalls {

// Escapes raw control characters inside strings (models put literal line
// breaks in code strings), drops commas right before `}` or `]`, and closes
// an unterminated string and any open arrays/objects (a call cut off by the
// end of the stream). Text that is not almost-JSON comes out still invalid.
std::string repair_json(std::string_view text);

}  // namespace qp::worker::toolcalls
