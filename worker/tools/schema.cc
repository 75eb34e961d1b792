#include "worker/tools/schema.h"

namespace qp::worker::tools {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr int kMaxDepth = 24;  // nesting and $ref expansion limit

uint8_t type_bit(std::string_view name) {
  if (name == "null") return kTypeNull;
  if (name == "boolean") return kTypeBoolean;
  if (name == "integer") return kTypeInteger;
  if (name == "number") return kTypeNumber;
  if (name == "string") return kTypeString;
  if (name == "array") return kTypeArray;
  if (name == "object") return kTypeObject;
  return 0;
}

std::string minified(element e) { return simdjson::minify(e); }

// A "simple" alternative only names types (and maybe a description), so
// anyOf [{type:string},{type:null}] folds into a type mask.
bool simple_alternative(const Schema& s) {
  return s.types != 0 && s.enum_json.empty() && s.properties.empty() && s.items.empty() &&
         s.any_of.empty();
}

class Parser {
 public:
  explicit Parser(element root) : root_(root) {}

  Schema parse(element e, int depth) {
    Schema s;
    simdjson::dom::object obj;
    if (depth > kMaxDepth || e.get_object().get(obj)) return s;  // true / {} / garbage: any
    std::string_view ref;
    if (!obj["$ref"].get_string().get(ref)) {
      element target;
      if (resolve(ref, &target)) {
        s = parse(target, depth + 1);
        std::string_view d;  // a description next to $ref wins
        if (!obj["description"].get_string().get(d)) s.description.assign(d);
      }
      return s;
    }
    bool nullable = false;
    for (auto field : obj) {
      std::string_view key = field.key;
      element v = field.value;
      if (key == "type") {
        std::string_view t;
        simdjson::dom::array arr;
        if (!v.get_string().get(t)) {
          s.types |= type_bit(t);
        } else if (!v.get_array().get(arr)) {
          for (element x : arr) {
            if (!x.get_string().get(t)) s.types |= type_bit(t);
          }
        }
      } else if (key == "nullable") {
        bool b = false;
        if (!v.get_bool().get(b) && b) nullable = true;
      } else if (key == "description") {
        std::string_view d;
        if (!v.get_string().get(d)) s.description.assign(d);
      } else if (key == "enum") {
        simdjson::dom::array arr;
        if (!v.get_array().get(arr)) {
          for (element x : arr) s.enum_json.push_back(minified(x));
        }
      } else if (key == "const") {
        s.enum_json = {minified(v)};
      } else if (key == "default") {
        s.default_json = minified(v);
      } else if (key == "properties") {
        simdjson::dom::object props;
        if (!v.get_object().get(props)) {
          for (auto p : props) {
            Property prop;
            prop.name.assign(p.key);
            prop.schema = parse(p.value, depth + 1);
            s.properties.push_back(std::move(prop));
          }
        }
      } else if (key == "additionalProperties") {
        bool b = true;
        if (!v.get_bool().get(b)) s.additional_properties = b;
      } else if (key == "items") {
        simdjson::dom::array tuple;
        if (!v.get_array().get(tuple)) {  // tuple form: keep the first item schema
          for (element x : tuple) {
            s.items.push_back(parse(x, depth + 1));
            break;
          }
        } else {
          s.items.push_back(parse(v, depth + 1));
        }
      } else if (key == "anyOf" || key == "oneOf") {
        simdjson::dom::array arr;
        if (!v.get_array().get(arr)) {
          for (element x : arr) s.any_of.push_back(parse(x, depth + 1));
        }
      } else if (key == "allOf") {
        simdjson::dom::array arr;
        if (!v.get_array().get(arr)) {
          for (element x : arr) merge(&s, parse(x, depth + 1));
        }
      }
    }
    // "required" may come before or after "properties": apply it last.
    simdjson::dom::array req;
    if (!obj["required"].get_array().get(req)) {
      for (element x : req) {
        std::string_view name;
        if (x.get_string().get(name)) continue;
        for (auto& p : s.properties) {
          if (p.name == name) p.required = true;
        }
      }
    }
    if (nullable) s.types |= kTypeNull;
    // Implied types, so "properties" without "type" still renders as an object.
    if (s.types == 0 && s.any_of.empty()) {
      if (!s.properties.empty()) s.types = kTypeObject;
      if (!s.items.empty()) s.types = kTypeArray;
    }
    fold_simple_alternatives(&s);
    return s;
  }

 private:
  bool resolve(std::string_view ref, element* out) {
    constexpr std::string_view kDefs = "#/$defs/";
    constexpr std::string_view kDefinitions = "#/definitions/";
    std::string_view section, name;
    if (ref.substr(0, kDefs.size()) == kDefs) {
      section = "$defs";
      name = ref.substr(kDefs.size());
    } else if (ref.substr(0, kDefinitions.size()) == kDefinitions) {
      section = "definitions";
      name = ref.substr(kDefinitions.size());
    } else if (ref == "#") {
      *out = root_;
      return true;
    } else {
      return false;
    }
    return !root_[section][name].get(*out);
  }

  static void merge(Schema* into, Schema from) {
    if (into->types == 0)
      into->types = from.types;
    else if (from.types != 0)
      into->types &= from.types;
    if (into->description.empty()) into->description = std::move(from.description);
    if (into->enum_json.empty()) into->enum_json = std::move(from.enum_json);
    for (auto& p : from.properties) {
      bool found = false;
      for (auto& q : into->properties) {
        if (q.name == p.name) {
          q.required = q.required || p.required;
          found = true;
        }
      }
      if (!found) into->properties.push_back(std::move(p));
    }
    if (!from.additional_properties) into->additional_properties = false;
    if (into->items.empty()) into->items = std::move(from.items);
  }

  static void fold_simple_alternatives(Schema* s) {
    if (s->any_of.empty()) return;
    uint8_t mask = 0;
    bool all_simple = true;
    for (const auto& a : s->any_of) {
      if (simple_alternative(a))
        mask |= a.types;
      else if (a.types == kTypeNull && a.any_of.empty())
        mask |= kTypeNull;
      else
        all_simple = false;
    }
    if (all_simple) {
      s->types |= mask;
      s->any_of.clear();
      return;
    }
    // Complex alternatives stay; a null alternative still makes the whole nullable.
    for (auto it = s->any_of.begin(); it != s->any_of.end();) {
      if (it->types == kTypeNull && it->properties.empty() && it->enum_json.empty()) {
        s->types |= kTypeNull;
        it = s->any_of.erase(it);
      } else {
        ++it;
      }
    }
    if (s->any_of.size() == 1 && s->types == kTypeNull) {  // X | null
      Schema only = std::move(s->any_of[0]);
      std::string desc = std::move(s->description);
      *s = std::move(only);
      s->types |= kTypeNull;
      if (!desc.empty()) s->description = std::move(desc);
    }
  }

  element root_;
};

void canonical_string(std::string_view v, std::string* out) {
  out->append(std::to_string(v.size())).push_back(':');
  out->append(v);
}

}  // namespace

bool Schema::allows(JsonType t) const {
  if (types == 0) return true;
  if (t == kTypeInteger) return (types & (kTypeInteger | kTypeNumber)) != 0;
  return (types & t) != 0;
}

bool Schema::nullable() const {
  if ((types & kTypeNull) != 0) return true;
  for (const auto& a : any_of) {
    if (a.nullable()) return true;
  }
  return false;
}

const Property* Schema::property(std::string_view name) const {
  for (const auto& p : properties) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Schema parse_schema(simdjson::dom::element schema) { return Parser(schema).parse(schema, 0); }

Schema parse_schema_json(std::string_view json) {
  simdjson::dom::parser p;
  element e;
  if (p.parse(json.data(), json.size()).get(e)) return Schema{};
  return parse_schema(e);
}

void append_canonical(const Schema& s, std::string* out) {
  out->append("{t").append(std::to_string(s.types));
  out->append("d");
  canonical_string(s.description, out);
  out->append("e");
  for (const auto& e : s.enum_json) canonical_string(e, out);
  out->append("f");
  canonical_string(s.default_json, out);
  out->append(s.additional_properties ? "a1" : "a0");
  out->append("p");
  for (const auto& p : s.properties) {
    canonical_string(p.name, out);
    out->push_back(p.required ? 'r' : 'o');
    append_canonical(p.schema, out);
  }
  out->append("i");
  for (const auto& i : s.items) append_canonical(i, out);
  out->append("u");
  for (const auto& a : s.any_of) append_canonical(a, out);
  out->push_back('}');
}

}  // namespace qp::worker::tools
