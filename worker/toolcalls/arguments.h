// Turns a RawCall's arguments into the JSON object text the client's schema
// asks for, repairing what can be repaired. Pure. The call is first reshaped
// to the schema (schema_map.h: Roo's `<args><file>…`, flat vs `files[]`).
//
// Repairs (each keeps the call; none guesses content):
//   - values are coerced to the schema's types: "true"/"yes"/"1" → true,
//     "42" → 42, "4.0" → 4 for integers, 7 → "7" for strings, JSON text →
//     arrays and objects, objects → JSON text for string parameters
//     (use_mcp_tool's `arguments`), a single value → a one-item array,
//     "1-20" → [1,20] where an integer pair is expected;
//   - XML-looking values become objects/arrays (`<file><path>…</path></file>`);
//   - almost-JSON is repaired (raw line breaks in strings, trailing commas,
//     unclosed brackets);
//   - enum values match case-insensitively and are rewritten to the enum's
//     spelling;
//   - undeclared properties are dropped when additionalProperties is false;
//   - a missing required property is set to null when the schema allows
//     null; for strict tools (function.strict, where converters such as Roo
//     Code's list every property as required) it is left out instead.
// Anything else (a missing required property of a non-strict tool, a value
// of the wrong type that cannot be converted, an enum mismatch, arguments
// that are not an object) fails: the caller turns the call into text.
#pragma once

#include <string>

#include "worker/toolcalls/raw_call.h"
#include "worker/toolcalls/tool_set.h"

namespace qp::worker::toolcalls {

// On success writes minified JSON to *json. On failure returns false and
// names the first problem in *error (a parameter path and the reason; no
// argument values, so it is safe to log).
bool build_arguments(const Tool& tool, const RawCall& call, std::string* json, std::string* error);

}  // namespace qp::worker::toolcalls
