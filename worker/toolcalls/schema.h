// A compact view of the JSON Schema subset that OpenAI function parameters
// use, kept for two jobs: rendering tool signatures into the upstream prompt
// (signature.h) and coercing the model's arguments to the schema
// (arguments.h). Pure; no I/O.
//
// What is kept: type (also type arrays and "nullable"), description, enum /
// const, default, object properties (declaration order) with required and
// additionalProperties, array items, anyOf / oneOf alternatives, and allOf
// (merged). Local $ref ("#", "#/$defs/X", "#/definitions/X") are inlined at
// each use, except a $ref to a schema that is already being expanded (a
// cycle), which becomes "any". Other keywords (formats, bounds, patterns)
// are ignored: they are neither rendered nor enforced.
//
// The input is untrusted, so parsing is bounded by a SchemaBudget (schema
// nodes built, bytes of text kept or scanned) and a nesting depth of 24, not
// only by the input's size: with $ref a small schema can describe a huge
// tree. What is left once the budget is spent becomes "any".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace qp::worker::toolcalls {

// JSON value types as bits of a mask. kInteger is a kind of number: a schema
// allowing numbers also allows integers, not the reverse.
enum JsonType : uint8_t {
  kTypeNull = 1,
  kTypeBoolean = 2,
  kTypeInteger = 4,
  kTypeNumber = 8,
  kTypeString = 16,
  kTypeArray = 32,
  kTypeObject = 64,
};

struct Property;

struct Schema {
  uint8_t types = 0;  // JsonType bits; 0 = any type
  std::string description;
  std::vector<std::string> enum_json;  // allowed values as minified JSON; empty = any
  std::string default_json;            // minified JSON of "default"; empty = none
  std::vector<Property> properties;    // object: declared properties, in order
  bool additional_properties = true;   // object: undeclared properties allowed
  std::vector<Schema> items;           // array: the item schema (0 or 1 entry)
  std::vector<Schema> any_of;          // anyOf / oneOf alternatives (tried in order)

  bool any_type() const { return types == 0 && any_of.empty(); }
  // True when a value of type `t` is allowed by `types` (ignores any_of).
  bool allows(JsonType t) const;
  bool nullable() const;
  const Property* property(std::string_view name) const;
};

struct Property {
  std::string name;
  Schema schema;
  bool required = false;
};

// Limits for parse_schema. One budget can be shared by several schemas (a
// tool set) so the total is bounded too.
inline constexpr size_t kMaxSchemaNodes = 4096;
inline constexpr size_t kMaxSchemaBytes = size_t{1} << 20;
struct SchemaBudget {
  size_t nodes = kMaxSchemaNodes;  // Schema objects left to build
  size_t bytes = kMaxSchemaBytes;  // text bytes (and object fields / array items scanned) left
  bool exhausted = false;          // set once a limit was hit: parts became "any"
};

// Parses a JSON Schema object. Never fails: unusable parts, cyclic $ref and
// whatever exceeds *budget become "any". Charges *budget for what it builds.
Schema parse_schema(simdjson::dom::element schema, SchemaBudget* budget);
// The same with a fresh budget of its own.
Schema parse_schema(simdjson::dom::element schema);
// Convenience for tests: parses JSON text (invalid JSON gives "any").
Schema parse_schema_json(std::string_view json);

// The number of Schema nodes in `s` (itself, properties, items, alternatives).
size_t node_count(const Schema& s);

// Appends a canonical text form of `s`, used for the tool-set hash: the same
// for any spelling of the same schema (whitespace, keyword order, "required"
// before or after "properties"); property order is kept, as it shows in the
// prompt.
void append_canonical(const Schema& s, std::string* out);

}  // namespace qp::worker::toolcalls
