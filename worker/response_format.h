// OpenAI `response_format` → an instruction appended to the upstream prompt.
// The Qwen web API has no structured-output switch, so JSON modes are asked
// for in words (with the schema for json_schema); the frontend then reports
// whether the answer parsed (docs/api.md). Pure.
#pragma once

#include <string>
#include <string_view>

namespace qp::worker {

// `response_format_json` is the request's response_format object as JSON
// text (empty when absent). Returns the instruction, or empty for "text",
// absent or unparseable values (the frontend validated the field already).
std::string response_format_instruction(std::string_view response_format_json);

}  // namespace qp::worker
