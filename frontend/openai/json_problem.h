// Messages for JSON values that simdjson refuses although they are
// well-formed enough to have a type: a string with an unpaired UTF-16
// surrogate escape ("\ud800"), a number out of range (1e400), a value nested
// deeper than the parser allows. Without these, such a value would be
// reported as "expected a string, but got a string". Pure.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

namespace qp::frontend {

// The deepest nesting of arrays and objects accepted in a request's
// structured fields (tools, tool_choice, response_format).
inline constexpr size_t kMaxJsonDepth = simdjson::DEFAULT_MAX_DEPTH;

// A 400 message for `param` given simdjson's error `e` on a value whose JSON
// text is `raw` (may be empty when unknown, e.g. a whole-document parse).
// Returns an empty string for errors this does not explain (the caller then
// reports a type mismatch or invalid JSON).
std::string json_problem(simdjson::error_code e, const std::string& param, std::string_view raw);

// "an array", "a string", ... for messages such as "expected a string, but
// got an array".
const char* json_type_name(simdjson::ondemand::json_type t);

// The first "\uXXXX" escape in `raw` that is an unpaired UTF-16 surrogate
// ("\ud800" with no low surrogate after it, or a lone low surrogate), as
// written; empty if none.
std::string_view unpaired_surrogate(std::string_view raw);

}  // namespace qp::frontend
