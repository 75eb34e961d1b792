// Typed readers for the fields of an OpenAI-shaped request body (simdjson
// on-demand values), shared by the chat-completions and Responses parsers:
// each reader either stores the value or fills the ApiError (400, with
// `param`) in OpenAI's wording ("Invalid type for 'x': expected a string,
// but got an array.") and returns false. No I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "frontend/openai/api_error.h"

namespace qp::frontend::fields {

using simdjson::ondemand::json_type;
using simdjson::ondemand::value;

struct Ctx {
  ApiError* err;
  bool fail(std::string param, std::string message) {
    *err = ApiError::invalid(std::move(param), std::move(message));
    return false;
  }
  // A value of the wanted type that simdjson could not read (an unpaired
  // surrogate escape, a number out of range) gets its own message; any other
  // failure is a type mismatch.
  bool bad_value(const std::string& param, const char* want, value v, simdjson::error_code e);
  // A structured field (tools…) that the DOM parser refused.
  bool bad_json(const std::string& param, simdjson::error_code e, std::string fallback);
  bool wrong_type(const std::string& param, const char* want, value v);
  bool missing(const std::string& param) {
    return fail(param, "Missing required parameter: '" + param + "'.");
  }
};

bool is_null(value v);
bool get_string(Ctx& c, value v, const std::string& param, std::string* out);
bool get_bool(Ctx& c, value v, const std::string& param, bool* out);
bool get_number(Ctx& c, value v, const std::string& param, double* out);
bool get_int(Ctx& c, value v, const std::string& param, int64_t* out);
// x within [lo, hi], else "Invalid value for 'p': must be between lo and hi."
bool range(Ctx& c, const std::string& param, double x, double lo, double hi);
// The JSON text of an object or array value, as written.
bool raw_json(Ctx& c, value v, const std::string& param, std::string_view* out);

// What a content part is to its reader: text to join, something to drop, or
// refused (the reader called c.fail()).
enum class PartUse { kText, kSkip, kFailed };
// The media fields of a content part (views into the parser's buffers):
// OpenAI chat `image_url` (a string or {url}) and `file` {file_data,
// filename, file_id}; Responses `image_url`, `file_data`, `filename`,
// `file_url`, `file_id` at the part's top level.
struct PartMedia {
  std::string_view url;
  std::string_view data;  // base64
  std::string_view filename;
  std::string_view file_id;
};
// (part type, whether it has `text`, the part's param "content[j]", media)
using PartFn = std::function<PartUse(const std::string& type, bool has_text, const std::string&,
                                     const PartMedia& media)>;
// Reads one media field `key` of a content part into *m (nested objects of
// image_url and file included).
bool read_part_media(Ctx& c, std::string_view key, value v, const std::string& param, PartMedia* m);
// A message's content: null (nothing), a string, or an array of parts
// {type, text, …} whose text parts (as `classify` says) are joined with "\n"
// into *out.
bool text_content(Ctx& c, value v, const std::string& param, std::string* out,
                  const PartFn& classify);

}  // namespace qp::frontend::fields
