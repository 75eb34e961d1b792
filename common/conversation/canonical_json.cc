#include "common/conversation/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "common/json/writer.h"

namespace qp::conversation {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

void append_number(std::string* out, double d) {
  // Integral values print as integers, as JavaScript's JSON.stringify does
  // below 1e21, so 1.0 / 1e16 (Python) and 1 / 10000000000000000 agree.
  char buf[64];
  if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e21) {
    if (d == 0) d = 0;  // -0 prints as 0
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 0);
    out->append(buf, r.ptr);
    return;
  }
  auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  out->append(buf, r.ptr);
}

void write(std::string* out, element e) {
  switch (e.type()) {
    case element_type::OBJECT: {
      std::vector<std::pair<std::string_view, element>> fields;
      simdjson::dom::object obj = e.get_object().value_unsafe();
      for (auto field : obj) fields.emplace_back(field.key, field.value);
      std::stable_sort(fields.begin(), fields.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i != 0) out->push_back(',');
        json::append_quoted(out, fields[i].first);
        out->push_back(':');
        write(out, fields[i].second);
      }
      out->push_back('}');
      return;
    }
    case element_type::ARRAY: {
      out->push_back('[');
      bool first = true;
      simdjson::dom::array arr = e.get_array().value_unsafe();
      for (element item : arr) {
        if (!first) out->push_back(',');
        first = false;
        write(out, item);
      }
      out->push_back(']');
      return;
    }
    case element_type::STRING:
      json::append_quoted(out, e.get_string().value_unsafe());
      return;
    case element_type::INT64:
      out->append(std::to_string(e.get_int64().value_unsafe()));
      return;
    case element_type::UINT64:
      out->append(std::to_string(e.get_uint64().value_unsafe()));
      return;
    case element_type::DOUBLE:
      append_number(out, e.get_double().value_unsafe());
      return;
    case element_type::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      return;
    case element_type::NULL_VALUE:
      out->append("null");
      return;
  }
}

}  // namespace

std::optional<std::string> canonical_json(std::string_view json) {
  // A parser per call: keys are computed a few times per request, on
  // documents (tool-call arguments) that are usually small.
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return std::nullopt;
  std::string out;
  out.reserve(json.size());
  write(&out, root);
  return out;
}

}  // namespace qp::conversation
