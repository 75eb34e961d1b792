// Checks an answer produced under response_format json_object/json_schema.
// The Qwen web API cannot enforce JSON, so the gateway asks for it in the
// prompt and reports the result (docs/api.md). Pure.
#pragma once

#include <string_view>

namespace qp::frontend {

// True if `text` (surrounding whitespace allowed) is one complete JSON value.
bool parses_as_json(std::string_view text);
// `text` without one surrounding Markdown code fence (``` or ```json …
// ```) and surrounding whitespace; `text` itself if it has no such fence.
std::string_view strip_code_fence(std::string_view text);

}  // namespace qp::frontend
