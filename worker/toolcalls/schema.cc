#include "worker/toolcalls/schema.h"

namespace qp::worker::toolcalls {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr int kMaxDepth = 24;  // nesting limit (also bounds the recursion's stack)

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

// Every schema node and every byte of text the parser keeps or scans is
// charged to a SchemaBudget, so the work is bounded whatever the input: $ref
// inlines a copy of its target at each use, and a target that references
// itself (directly, or through "#") is not inlined again but becomes "any".
class Parser {
 public:
  Parser(element root, SchemaBudget* budget) : root_(root), budget_(budget) {
    active_refs_.push_back("#");  // the root is being expanded
  }

  Schema parse(element e, int depth) {
    Schema s;
    simdjson::dom::object obj;
    if (depth > kMaxDepth || e.get_object().get(obj)) return s;  // true / {} / garbage: any
    if (!take_node() || !take_bytes(obj.size())) return s;
    std::string_view ref;
    if (!obj["$ref"].get_string().get(ref)) {
      element target;
      bool cyclic = false;
      for (std::string_view a : active_refs_) cyclic = cyclic || a == ref;
      if (!cyclic && resolve(ref, &target)) {
        active_refs_.push_back(ref);
        s = parse(target, depth + 1);
        active_refs_.pop_back();
      }
      std::string_view d;  // a description next to $ref wins
      if (!obj["description"].get_string().get(d)) assign(&s.description, d);
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
        } else if (!v.get_array().get(arr) && take_bytes(arr.size())) {
          for (element x : arr) {
            if (!x.get_string().get(t)) s.types |= type_bit(t);
          }
        }
      } else if (key == "nullable") {
        bool b = false;
        if (!v.get_bool().get(b) && b) nullable = true;
      } else if (key == "description") {
        std::string_view d;
        if (!v.get_string().get(d)) assign(&s.description, d);
      } else if (key == "enum") {
        simdjson::dom::array arr;
        if (!v.get_array().get(arr) && take_bytes(arr.size())) {
          for (element x : arr) {
            std::string m;
            if (!take_minified(x, &m)) break;
            s.enum_json.push_back(std::move(m));
          }
        }
      } else if (key == "const") {
        std::string m;
        if (take_minified(v, &m)) s.enum_json = {std::move(m)};
      } else if (key == "default") {
        take_minified(v, &s.default_json);
      } else if (key == "properties") {
        simdjson::dom::object props;
        if (!v.get_object().get(props)) {
          for (auto p : props) {
            if (!take_bytes(p.key.size() + 1)) break;
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
        if (!v.get_array().get(arr) && take_bytes(arr.size())) {
          for (element x : arr) s.any_of.push_back(parse(x, depth + 1));
        }
      } else if (key == "allOf") {
        simdjson::dom::array arr;
        if (!v.get_array().get(arr) && take_bytes(arr.size())) {
          for (element x : arr) merge(&s, parse(x, depth + 1));
        }
      }
    }
    // "required" may come before or after "properties": apply it last.
    simdjson::dom::array req;
    if (!obj["required"].get_array().get(req) && take_bytes(req.size() * s.properties.size())) {
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
  bool take_node() {
    if (budget_->nodes == 0) return exhaust();
    --budget_->nodes;
    return true;
  }
  bool take_bytes(size_t n) {
    if (n > budget_->bytes) return exhaust();
    budget_->bytes -= n;
    return true;
  }
  bool exhaust() {
    budget_->exhausted = true;
    budget_->nodes = 0;
    budget_->bytes = 0;
    return false;
  }
  void assign(std::string* to, std::string_view text) {
    if (take_bytes(text.size())) to->assign(text);
  }
  // Minifies `v` into *out if its text fits the budget. An oversized value is
  // minified once and then exhausts the budget, so this costs at most one
  // extra pass over the input.
  bool take_minified(element v, std::string* out) {
    if (budget_->bytes == 0) return exhaust();
    std::string m = minified(v);
    if (!take_bytes(m.size())) return false;
    *out = std::move(m);
    return true;
  }

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
  SchemaBudget* budget_;
  std::vector<std::string_view> active_refs_;  // $ref targets being expanded, outermost first
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

Schema parse_schema(simdjson::dom::element schema, SchemaBudget* budget) {
  return Parser(schema, budget).parse(schema, 0);
}

Schema parse_schema(simdjson::dom::element schema) {
  SchemaBudget budget;
  return parse_schema(schema, &budget);
}

Schema parse_schema_json(std::string_view json) {
  simdjson::dom::parser p;
  element e;
  if (p.parse(json.data(), json.size()).get(e)) return Schema{};
  return parse_schema(e);
}

size_t node_count(const Schema& s) {
  size_t n = 1;
  for (const auto& p : s.properties) n += node_count(p.schema);
  for (const auto& i : s.items) n += node_count(i);
  for (const auto& a : s.any_of) n += node_count(a);
  return n;
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

}  // namespace qp::worker::toolcalls
