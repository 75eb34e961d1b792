// Checks an answer produced under response_format json_object/json_schema.
// The Qwen web API cannot enforce JSON, so the gateway asks for it in the
// prompt and reports the result (docs/api.md). Pure. returned_json_answer is
// what conversation::AssistantMessage (common/conversation/assistant_message.h)
// returns in non-streamed JSON mode, for the frontend and the worker alike.
#pragma once

#include <string_view>

namespace qp::json {

// True if `text` (surrounding whitespace allowed) is one complete JSON value.
bool parses_as_json(std::string_view text);
// `text` without one surrounding Markdown code fence (``` or ```json …
// ```) and surrounding whitespace; `text` itself if it has no such fence.
std::string_view strip_code_fence(std::string_view text);
// What a non-streamed JSON-mode answer is returned as: without its fence
// when only the unfenced text is JSON, else unchanged.
std::string_view returned_json_answer(std::string_view content);

}  // namespace qp::json
