#include "worker/toolcalls/arguments.h"

#include <cmath>
#include <cstdio>

#include <simdjson.h>

#include "common/json/writer.h"
#include "common/strings.h"
#include "worker/toolcalls/json_repair.h"
#include "worker/toolcalls/schema_map.h"
#include "worker/toolcalls/xml_fragment.h"

namespace qp::worker::toolcalls {
namespace {

using strings::iequals;
using strings::is_space;
using strings::trim;

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr int kMaxDepth = 32;
// What one call may cost: schema nodes visited and bytes of text converted,
// both counted again for every anyOf alternative tried. The text comes from
// the model, which a prompt can steer, and alternatives multiply with array
// items: without a cap, a crafted schema and value could take seconds.
constexpr size_t kMaxVisits = size_t{1} << 18;
constexpr size_t kMaxTextBytes = size_t{64} << 20;

void append_string(std::string* out, std::string_view s) { json::append_quoted(out, s); }

bool write_integral(double v, std::string* out) {
  if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9007199254740992.0) return false;
  out->append(std::to_string(static_cast<int64_t>(v)));
  return true;
}

class Coercer {
 public:
  explicit Coercer(bool relaxed_required) : relaxed_(relaxed_required) {}

  const std::string& error() const { return error_; }

  bool object_from_params(const Schema& s, const std::vector<RawParam>& params, std::string* out) {
    out->push_back('{');
    bool first = true;
    for (const auto& prop : s.properties) {
      const RawParam* given = nullptr;
      for (const auto& p : params) {
        if (p.name == prop.name) given = &p;
      }
      std::string value;
      if (given != nullptr) {
        if (!from_text(prop.schema, given->value, &value, prop.name, 1)) return false;
      }
      if (!put(prop, given != nullptr, value, prop.name, out, &first)) return false;
    }
    for (const auto& p : params) {
      if (s.property(p.name) != nullptr) continue;
      if (!s.additional_properties) continue;  // repaired: undeclared parameter dropped
      if (!first) out->push_back(',');
      first = false;
      append_string(out, p.name);
      out->push_back(':');
      append_string(out, p.value);
    }
    out->push_back('}');
    return true;
  }

  bool from_text(const Schema& s, std::string_view text, std::string* out, const std::string& path,
                 int depth) {
    if (depth > kMaxDepth) return fail(path, "nested too deeply");
    if (!charge(1, text.size(), path)) return false;
    if (!s.any_of.empty()) {
      if (s.nullable() && trim(text) == "null") {
        out->append("null");
        return true;
      }
      for (const auto& alt : s.any_of) {
        std::string scratch;
        if (from_text(alt, text, &scratch, path, depth + 1)) {
          out->append(scratch);
          error_.clear();
          return true;
        }
      }
      if (exhausted_) return false;  // keep "too complex" as the reason
      return fail(path, "matches none of the alternatives");
    }
    std::string v;
    if (!text_value(s, text, &v, path, depth)) return false;
    return check_enum(s, &v, path, out);
  }

  bool from_element(const Schema& s, element e, std::string* out, const std::string& path,
                    int depth) {
    if (depth > kMaxDepth) return fail(path, "nested too deeply");
    if (!charge(1, 0, path)) return false;
    if (!s.any_of.empty()) {
      if (e.is_null() && s.nullable()) {
        out->append("null");
        return true;
      }
      for (const auto& alt : s.any_of) {
        std::string scratch;
        if (from_element(alt, e, &scratch, path, depth + 1)) {
          out->append(scratch);
          error_.clear();
          return true;
        }
      }
      if (exhausted_) return false;  // keep "too complex" as the reason
      return fail(path, "matches none of the alternatives");
    }
    std::string v;
    if (!element_value(s, e, &v, path, depth)) return false;
    return check_enum(s, &v, path, out);
  }

 private:
  bool charge(size_t visits, size_t bytes, const std::string& path) {
    if (exhausted_) return false;
    if (visits > visits_left_ || bytes > bytes_left_) {
      exhausted_ = true;
      return fail(path, "too complex to convert");
    }
    visits_left_ -= visits;
    bytes_left_ -= bytes;
    return true;
  }

  bool fail(const std::string& path, std::string_view why) {
    error_ = path.empty() ? std::string("arguments") : path;
    error_.append(": ").append(why);
    return false;
  }

  // Writes one property of an object; `present` says whether a value was given.
  bool put(const Property& prop, bool present, const std::string& value, const std::string& path,
           std::string* out, bool* first) {
    std::string_view v = value;
    if (!present) {
      if (!prop.required) return true;
      if (prop.schema.nullable()) {
        v = "null";
      } else if (relaxed_) {
        return true;  // strict tool: "required" lists every property
      } else {
        return fail(path, "missing required parameter");
      }
    }
    if (v == "null" && !prop.schema.nullable() && prop.schema.types != 0) {
      if (!prop.required || relaxed_) return true;  // null for a non-nullable value: omit
      return fail(path, "null for a required parameter");
    }
    if (!*first) out->push_back(',');
    *first = false;
    append_string(out, prop.name);
    out->push_back(':');
    out->append(v);
    return true;
  }

  bool check_enum(const Schema& s, std::string* v, const std::string& path, std::string* out) {
    if (s.enum_json.empty() || *v == "null") {
      out->append(*v);
      return true;
    }
    for (const auto& e : s.enum_json) {
      if (e == *v) {
        out->append(*v);
        return true;
      }
    }
    // Case-insensitive string match, rewritten to the enum's spelling.
    simdjson::dom::parser p;
    std::string_view got;
    element ge;
    if (!p.parse(*v).get(ge) && !ge.get_string().get(got)) {
      std::string got_copy(trim(got));
      for (const auto& e : s.enum_json) {
        simdjson::dom::parser q;
        element ee;
        std::string_view want;
        if (!q.parse(e).get(ee) && !ee.get_string().get(want) && iequals(trim(want), got_copy)) {
          out->append(e);
          return true;
        }
      }
    }
    return fail(path, "value not in enum");
  }

  bool text_value(const Schema& s, std::string_view text, std::string* out, const std::string& path,
                  int depth) {
    if (s.types == 0 || (s.types & kTypeString) != 0) {
      append_string(out, text);
      return true;
    }
    std::string_view t = trim(text);
    if (s.allows(kTypeNull) && (t == "null" || t.empty())) {
      out->append("null");
      return true;
    }
    if (s.allows(kTypeBoolean)) {
      if (iequals(t, "true") || iequals(t, "yes") || t == "1" || iequals(t, "on")) {
        out->append("true");
        return true;
      }
      if (iequals(t, "false") || iequals(t, "no") || t == "0" || iequals(t, "off")) {
        out->append("false");
        return true;
      }
    }
    if (s.allows(kTypeInteger) || s.allows(kTypeNumber)) {
      simdjson::dom::parser p;
      element e;
      if (!t.empty() && !p.parse(t.data(), t.size()).get(e) && e.is_number()) {
        return number_value(s, e, out, path);
      }
    }
    if (s.allows(kTypeArray) || s.allows(kTypeObject)) {
      if (!t.empty() && (t.front() == '{' || t.front() == '[')) {
        simdjson::dom::parser p;
        element e;
        if (!p.parse(t.data(), t.size()).get(e)) return element_value(s, e, out, path, depth + 1);
        std::string fixed = repair_json(t);
        simdjson::dom::parser p2;
        if (!p2.parse(fixed).get(e)) return element_value(s, e, out, path, depth + 1);
      }
      std::vector<XmlElement> elems;
      if (!t.empty() && t.front() == '<' && parse_xml_elements(t, &elems)) {
        return xml_value(s, elems, out, path, depth + 1);
      }
      int64_t first = 0, last = 0;
      if (s.allows(kTypeArray) && !s.items.empty() && s.items[0].types != 0 &&
          (s.items[0].types & kTypeString) == 0 && s.items[0].allows(kTypeInteger) &&
          parse_line_range(t, &first, &last)) {  // "1-20" where an [a, b] pair is expected
        out->append("[").append(std::to_string(first)).append(",");
        out->append(std::to_string(last)).append("]");
        return true;
      }
      if (s.allows(kTypeArray) && !t.empty()) {  // one value where a list is expected
        Schema any;
        const Schema& item = s.items.empty() ? any : s.items[0];
        std::string v;
        if (from_text(item, text, &v, path + "[0]", depth + 1)) {
          out->push_back('[');
          out->append(v);
          out->push_back(']');
          return true;
        }
        return false;
      }
    }
    return fail(path, "cannot convert the text to the expected type");
  }

  bool number_value(const Schema& s, element e, std::string* out, const std::string& path) {
    if (s.allows(kTypeNumber) || e.type() != element_type::DOUBLE) {
      out->append(simdjson::minify(e));
      return true;
    }
    double d = 0;
    if (!e.get_double().get(d) && write_integral(d, out)) return true;
    return fail(path, "expected an integer");
  }

  bool element_value(const Schema& s, element e, std::string* out, const std::string& path,
                     int depth) {
    if (depth > kMaxDepth) return fail(path, "nested too deeply");
    if (s.types == 0) {  // any
      out->append(simdjson::minify(e));
      return true;
    }
    switch (e.type()) {
      case element_type::NULL_VALUE:
        out->append("null");  // put() omits or rejects it for a non-nullable property
        return true;
      case element_type::BOOL: {
        bool b = false;
        if (e.get_bool().get(b)) return fail(path, "bad boolean");
        if (s.allows(kTypeBoolean)) {
          out->append(b ? "true" : "false");
          return true;
        }
        if (s.allows(kTypeString)) {
          append_string(out, b ? "true" : "false");
          return true;
        }
        return fail(path, "unexpected boolean");
      }
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE:
        if (s.allows(kTypeInteger) || s.allows(kTypeNumber)) return number_value(s, e, out, path);
        if (s.allows(kTypeString)) {
          append_string(out, simdjson::minify(e));
          return true;
        }
        if (s.allows(kTypeBoolean)) {
          double d = -1;
          int64_t n = 0;
          if (!e.get_int64().get(n))
            d = static_cast<double>(n);
          else if (e.get_double().get(d))
            d = -1;
          if (d == 0 || d == 1) {
            out->append(d == 1 ? "true" : "false");
            return true;
          }
        }
        if (s.allows(kTypeArray)) return wrap_in_array(s, e, out, path, depth);
        return fail(path, "unexpected number");
      case element_type::STRING: {
        std::string_view str;
        if (e.get_string().get(str)) return fail(path, "bad string");
        return text_value(s, str, out, path, depth);
      }
      case element_type::ARRAY: {
        if (!s.allows(kTypeArray)) {
          if (s.allows(kTypeString)) {
            append_string(out, simdjson::minify(e));
            return true;
          }
          return fail(path, "unexpected array");
        }
        Schema any;
        const Schema& item = s.items.empty() ? any : s.items[0];
        out->push_back('[');
        size_t i = 0;
        for (element x : e.get_array()) {
          if (i > 0) out->push_back(',');
          std::string sub = path + "[" + std::to_string(i) + "]";
          if (x.is_null() && item.types != 0 && !item.nullable()) return fail(sub, "null item");
          if (!from_element(item, x, out, sub, depth + 1)) return false;
          ++i;
        }
        out->push_back(']');
        return true;
      }
      case element_type::OBJECT: {
        if (s.allows(kTypeObject)) return object_value(s, e.get_object(), out, path, depth);
        if (s.allows(kTypeString)) {
          append_string(out, simdjson::minify(e));
          return true;
        }
        if (s.allows(kTypeArray)) return wrap_in_array(s, e, out, path, depth);
        return fail(path, "unexpected object");
      }
    }
    return fail(path, "unexpected value");
  }

  bool wrap_in_array(const Schema& s, element e, std::string* out, const std::string& path,
                     int depth) {
    Schema any;
    const Schema& item = s.items.empty() ? any : s.items[0];
    out->push_back('[');
    if (!from_element(item, e, out, path + "[0]", depth + 1)) return false;
    out->push_back(']');
    return true;
  }

  bool object_value(const Schema& s, simdjson::dom::object obj, std::string* out,
                    const std::string& path, int depth) {
    out->push_back('{');
    bool first = true;
    for (const auto& prop : s.properties) {
      element v;
      bool present = !obj[prop.name].get(v);
      if (present && v.is_null() && prop.schema.types != 0 && !prop.schema.nullable())
        present = false;  // null for a non-nullable value: treated as absent
      std::string value;
      std::string sub = path.empty() ? prop.name : path + "." + prop.name;
      if (present && !from_element(prop.schema, v, &value, sub, depth + 1)) return false;
      if (!put(prop, present, value, sub, out, &first)) return false;
    }
    for (auto field : obj) {
      if (s.property(field.key) != nullptr || !s.additional_properties) continue;
      if (!first) out->push_back(',');
      first = false;
      append_string(out, field.key);
      out->push_back(':');
      out->append(simdjson::minify(field.value));
    }
    out->push_back('}');
    return true;
  }

  // Elements → object (children by name, attributes as properties) or array
  // (each child one item).
  bool xml_value(const Schema& s, const std::vector<XmlElement>& elems, std::string* out,
                 const std::string& path, int depth) {
    if (s.allows(kTypeArray) && (!s.allows(kTypeObject) || elems.size() > 1)) {
      Schema any;
      const Schema& item = s.items.empty() ? any : s.items[0];
      // A single wrapper element around the items: <follow_up><suggest>…</suggest>…</follow_up>.
      std::vector<XmlElement> inner;
      if (elems.size() == 1 && parse_xml_elements(elems[0].inner, &inner) && inner.size() > 1 &&
          !item.allows(kTypeObject)) {
        return xml_value(s, inner, out, path, depth + 1);
      }
      out->push_back('[');
      for (size_t i = 0; i < elems.size(); ++i) {
        if (i > 0) out->push_back(',');
        if (!element_from_xml(item, elems[i], out, path + "[" + std::to_string(i) + "]", depth + 1))
          return false;
      }
      out->push_back(']');
      return true;
    }
    if (s.allows(kTypeObject)) return object_from_xml(s, elems, {}, "", out, path, depth);
    return fail(path, "unexpected XML");
  }

  bool element_from_xml(const Schema& s, const XmlElement& e, std::string* out,
                        const std::string& path, int depth) {
    if (s.allows(kTypeObject) && s.types != 0 && (s.types & kTypeString) == 0) {
      std::vector<XmlElement> children;
      std::string_view text;
      if (!parse_xml_elements(e.inner, &children)) {
        children.clear();
        text = e.inner;
      }
      return object_from_xml(s, children, e.attributes, text, out, path, depth);
    }
    return from_text(s, e.inner, out, path, depth);
  }

  bool object_from_xml(const Schema& s, const std::vector<XmlElement>& children,
                       const std::vector<std::pair<std::string_view, std::string_view>>& attrs,
                       std::string_view text, std::string* out, const std::string& path,
                       int depth) {
    // `json`: the value is JSON already (repeated children made into an
    // array), not text to convert. A flag, not a marker byte in the value:
    // the model's text may hold any byte (an in-band \x01 marker let text
    // through unquoted; found by fuzzing).
    struct Param {
      std::string name;
      std::string value;
      bool json = false;
    };
    std::vector<Param> params;
    std::string text_target;  // the string property the element's own text fills
    if (!trim(text).empty()) {
      for (const auto& p : s.properties) {
        if ((p.schema.types & kTypeString) != 0) {
          text_target = p.name;
          break;
        }
      }
      if (text_target.empty()) return fail(path, "text where an object is expected");
    }
    for (const auto& [k, v] : attrs) params.push_back({std::string(k), std::string(v), false});
    if (!text_target.empty()) params.push_back({text_target, std::string(trim(text)), false});
    // Repeated children of one name become a JSON array text for that property.
    for (const auto& c : children) {
      const Property* prop = s.property(c.name);
      bool many = false;
      for (const auto& d : children) many = many || (d.name == c.name && &d != &c);
      if (prop != nullptr && many && prop->schema.allows(kTypeArray)) {
        bool seen = false;
        for (const auto& p : params) seen = seen || p.name == c.name;
        if (seen) continue;
        std::vector<XmlElement> same;
        for (const auto& d : children) {
          if (d.name == c.name) same.push_back(d);
        }
        std::string v;
        if (!xml_value(prop->schema, same, &v, path + "." + std::string(c.name), depth + 1))
          return false;
        params.push_back({std::string(c.name), std::move(v), true});
        continue;
      }
      params.push_back({std::string(c.name), std::string(c.inner), false});
    }
    // Build via the params path, taking `json` values as they are.
    out->push_back('{');
    bool first = true;
    for (const auto& prop : s.properties) {
      const Param* given = nullptr;
      for (const auto& p : params) {
        if (p.name == prop.name) given = &p;
      }
      std::string value;
      std::string sub = path.empty() ? prop.name : path + "." + prop.name;
      if (given != nullptr) {
        if (given->json) {
          value = given->value;
        } else if (!from_text(prop.schema, given->value, &value, sub, depth + 1)) {
          return false;
        }
      }
      if (!put(prop, given != nullptr, value, sub, out, &first)) return false;
    }
    for (const auto& p : params) {
      if (s.property(p.name) != nullptr || !s.additional_properties) continue;
      if (!first) out->push_back(',');
      first = false;
      append_string(out, p.name);
      out->push_back(':');
      if (p.json)
        out->append(p.value);
      else
        append_string(out, p.value);
    }
    out->push_back('}');
    return true;
  }

  bool relaxed_;
  std::string error_;
  bool exhausted_ = false;
  size_t visits_left_ = kMaxVisits;
  size_t bytes_left_ = kMaxTextBytes;
};

}  // namespace

bool build_arguments(const Tool& tool, const RawCall& given, std::string* json,
                     std::string* error) {
  RawCall mapped;
  const RawCall& call = map_to_schema(tool.parameters, given, &mapped) ? mapped : given;
  Coercer c(tool.strict);
  json->clear();
  const Schema& s = tool.parameters;
  bool ok;
  if (call.has_json) {
    simdjson::dom::parser p;
    element e;
    std::string_view t = trim(call.json);
    if (t.empty()) t = "{}";
    std::string fixed;
    if (p.parse(t.data(), t.size()).get(e)) {
      fixed = repair_json(t);
      if (p.parse(fixed).get(e)) {
        *error = "arguments: not valid JSON";
        return false;
      }
    }
    if (!e.is_object()) {
      *error = "arguments: not a JSON object";
      return false;
    }
    ok = c.from_element(s, e, json, "", 0);
  } else {
    ok = c.object_from_params(s, call.params, json);
  }
  if (!ok) {
    *error = c.error();
    return false;
  }
  // A parameters schema of another type ({"type":"string"}) coerces the
  // object away; tool_calls arguments must stay an object.
  if (json->empty() || json->front() != '{') {
    json->clear();
    *error = "arguments: the tool's parameters are not an object schema";
    return false;
  }
  return true;
}

}  // namespace qp::worker::toolcalls
