// Reshapes a call's arguments to the schema the client declared, before
// arguments.h coerces the values. Pure; one call at a time (never per chunk).
//
// The model writes one shape, the client may have declared another: Roo Code
// v3.37–v3.45 declare read_file as `files: [{path, line_ranges}]`, v3.46+ as
// a flat `path`, and the model writes Roo's XML (`<args><file><path>…`),
// flat parameters or JSON in either shape. The mapping is driven by the
// schema only; it moves values, never changes them:
//
//   - a parameter the schema does not declare whose value is a group (XML
//     elements, a JSON object, or a list of them) is unwrapped: its children
//     become parameters (`args` → `file` → `path`); a list gives its first
//     item to a schema that takes one value;
//   - names match a declared property ignoring case, '-' vs '_' and a plural
//     's' (`line_range` → `line_ranges`, `file` → `files`);
//   - values given several times for an array property become its items;
//   - a parameter that is not declared at the top but is a property of the
//     items of a declared list of objects starts an item of that list (flat
//     `path` → `files: [{path}]`); a repeated one starts the next item;
//   - the same rules apply inside objects and list items.
//
// Special knowledge (not derivable from the schema): a range (`line_range`
// or `line_ranges`, "A-B") given to a schema without such a property but
// with integer `offset` and `limit` becomes offset A and limit B-A+1 (Roo
// Code v3.46+ read_file).
#pragma once

#include <cstdint>
#include <string_view>

#include "worker/toolcalls/raw_call.h"
#include "worker/toolcalls/schema.h"

namespace qp::worker::toolcalls {

// Returns true and sets *out (arguments as JSON, string values still text
// for arguments.h to coerce) when the call had to be reshaped; false when it
// already fits the schema and should be used as is.
bool map_to_schema(const Schema& params, const RawCall& call, RawCall* out);

// A line range written as text: "A-B" or "A,B" (blanks allowed around the
// numbers, optionally in brackets). arguments.h turns it into the [A, B]
// tuple a schema of integer pairs asks for.
bool parse_line_range(std::string_view text, int64_t* first, int64_t* last);

}  // namespace qp::worker::toolcalls
