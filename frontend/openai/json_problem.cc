#include "frontend/openai/json_problem.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace qp::frontend {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code unit of a "\uXXXX" escape at raw[i] (raw[i] == '\\'), or -1.
int escape_unit(std::string_view raw, size_t i) {
  if (i + 6 > raw.size() || raw[i] != '\\' || raw[i + 1] != 'u') return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    int h = hex_value(raw[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

bool out_of_range(std::string_view raw) {
  std::string text(raw.substr(0, 64));
  errno = 0;
  double d = std::strtod(text.c_str(), nullptr);
  return errno == ERANGE || !std::isfinite(d);
}

}  // namespace

std::string_view unpaired_surrogate(std::string_view raw) {
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\') continue;
    int u = escape_unit(raw, i);
    if (u < 0) {
      ++i;  // another escape (\n, \", \\): skip its second character
      continue;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) return raw.substr(i, 6);  // low without high
    if (u >= 0xD800 && u <= 0xDBFF) {
      int low = escape_unit(raw, i + 6);
      if (low < 0xDC00 || low > 0xDFFF) return raw.substr(i, 6);
      i += 6;
    }
    i += 5;
  }
  return {};
}

std::string json_problem(simdjson::error_code e, const std::string& param, std::string_view raw) {
  std::string name = param.empty() ? std::string("the request body") : "'" + param + "'";
  switch (e) {
    case simdjson::DEPTH_ERROR:
      return "Invalid " + name + ": nested too deeply (at most " + std::to_string(kMaxJsonDepth) +
             " levels of arrays and objects).";
    case simdjson::STRING_ERROR: {
      std::string_view s = unpaired_surrogate(raw);
      if (!s.empty() || raw.empty()) {
        return "Invalid string in " + name + ": invalid UTF-16 surrogate escape" +
               (s.empty() ? std::string(" or escape sequence") : " '" + std::string(s) + "'") +
               " (a high surrogate \\uD800-\\uDBFF must be followed by a low surrogate "
               "\\uDC00-\\uDFFF).";
      }
      return "Invalid string in " + name + ": invalid escape sequence.";
    }
    case simdjson::UTF8_ERROR:
      return "Invalid string in " + name + ": not valid UTF-8.";
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      if (raw.empty() || out_of_range(raw)) {
        return "Invalid number in " + name + ": out of range" +
               (raw.empty() ? std::string(" or malformed") : "") +
               " (numbers must fit a 64-bit floating point value).";
      }
      return "Invalid number in " + name + ": not a valid JSON number.";
    default:
      return {};
  }
}

const char* json_type_name(simdjson::ondemand::json_type t) {
  using simdjson::ondemand::json_type;
  switch (t) {
    case json_type::array:
      return "an array";
    case json_type::object:
      return "an object";
    case json_type::number:
      return "a number";
    case json_type::string:
      return "a string";
    case json_type::boolean:
      return "a boolean";
    case json_type::null:
      return "null";
  }
  return "unknown";
}

}  // namespace qp::frontend
