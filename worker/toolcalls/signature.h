// Compact, TypeScript-like signatures for tool schemas, so the prompt costs
// a fraction of the JSON Schema's tokens without losing what the model needs:
// types, which parameters are optional ("?"), allowed values ("a"|"b"),
// nested objects and arrays, nullability, descriptions and defaults. Pure.
//
//   fn_read_file(path: string, mode?: "slice"|"indentation", limit?: integer)
//   fn_ask(question: string, follow_up: {text: string, mode: string|null}[])
#pragma once

#include <string>
#include <string_view>

#include "worker/toolcalls/schema.h"
#include "worker/toolcalls/tool_set.h"

namespace qp::worker::toolcalls {

// The type of one value: `string`, `"a"|"b"`, `{x: integer, y?: string}`,
// `string[]`, `integer|null`, `any`.
std::string type_signature(const Schema& s);

// `upstream_name(p1: T, p2?: T)`.
std::string tool_signature(const Tool& tool);

// One "- path: description (default: x)" line per described parameter,
// nested ones as `files[].path`. Empty when nothing is described.
std::string parameter_notes(const Schema& parameters);

}  // namespace qp::worker::toolcalls
