// Canonical JSON text: the same value always gives the same bytes, however a
// client re-serialised it. Object keys are sorted (bytewise, after
// unescaping), insignificant whitespace is dropped, strings are re-escaped
// with one escaper, and numbers that are integers in value (1, 1.0, 1e0) are
// written as integers; other numbers with the shortest round-trip form.
//
// Used for conversation keys (history_key.h), where the same tool-call
// arguments come back from clients with different key order and spacing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qp::conversation {

// The canonical form of `json`, or nullopt if it is not valid JSON (or nests
// deeper than simdjson's default limit).
std::optional<std::string> canonical_json(std::string_view json);

}  // namespace qp::conversation
