#include "worker/toolcalls/schema_map.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <utility>

#include <simdjson.h>

#include "common/json/writer.h"
#include "common/strings.h"
#include "worker/toolcalls/json_repair.h"
#include "worker/toolcalls/xml_fragment.h"

namespace qp::worker::toolcalls {
namespace {

using strings::is_space;
using strings::trim;

constexpr int kMaxDepth = 16;
constexpr size_t kMaxSteps = 8192;  // fields moved per call, all levels together

// A value as the model gave it: text (a parameter or a JSON string), another
// JSON scalar, or a group.
struct Field;

struct Node {
  enum class Kind : uint8_t { kText, kJson, kObject, kArray };
  Kind kind = Kind::kText;
  std::string text;           // kText; kJson: minified scalar
  std::vector<Field> fields;  // kObject (names may repeat)
  std::vector<Node> items;    // kArray

  static Node of_text(std::string_view t);
};
struct Field {
  Field(std::string n, Node v) : first(std::move(n)), second(std::move(v)) {}
  std::string first;
  Node second;
};
using Fields = std::vector<Field>;

Node Node::of_text(std::string_view t) {
  Node n;
  n.text.assign(t);
  return n;
}

Node from_json(simdjson::dom::element e, int depth) {
  Node n;
  if (depth > 64) {
    n.kind = Node::Kind::kJson;
    n.text = simdjson::minify(e);
    return n;
  }
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT:
      n.kind = Node::Kind::kObject;
      for (auto f : e.get_object())
        n.fields.emplace_back(std::string(f.key), from_json(f.value, depth + 1));
      break;
    case simdjson::dom::element_type::ARRAY:
      n.kind = Node::Kind::kArray;
      for (auto x : e.get_array()) n.items.push_back(from_json(x, depth + 1));
      break;
    case simdjson::dom::element_type::STRING: {
      std::string_view s;
      if (e.get_string().get(s)) s = {};
      n.text.assign(s);
      break;
    }
    default:
      n.kind = Node::Kind::kJson;
      n.text = simdjson::minify(e);
  }
  return n;
}

void to_json(const Node& n, std::string* out) {
  switch (n.kind) {
    case Node::Kind::kText:
      json::append_quoted(out, n.text);
      return;
    case Node::Kind::kJson:
      out->append(n.text);
      return;
    case Node::Kind::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : n.fields) {
        if (!first) out->push_back(',');
        first = false;
        json::append_quoted(out, k);
        out->push_back(':');
        to_json(v, out);
      }
      out->push_back('}');
      return;
    }
    case Node::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < n.items.size(); ++i) {
        if (i > 0) out->push_back(',');
        to_json(n.items[i], out);
      }
      out->push_back(']');
      return;
  }
}

// XML elements of a text value (`<file><path>…</path></file>`), or false.
bool xml_in(std::string_view text, std::vector<XmlElement>* elems) {
  std::string_view t = trim(text);
  if (t.empty() || t.front() != '<') return false;
  elems->clear();
  return parse_xml_elements(t, elems) && !elems->empty();
}

bool xml_of(const Node& n, std::vector<XmlElement>* elems) {
  return n.kind == Node::Kind::kText && xml_in(n.text, elems);
}

Fields fields_of_xml(const std::vector<XmlElement>& elems) {
  Fields f;
  for (const auto& e : elems) {
    for (const auto& [k, v] : e.attributes) f.emplace_back(std::string(k), Node::of_text(v));
    f.emplace_back(std::string(e.name), Node::of_text(e.inner));
  }
  return f;
}

// The children of a group value: an object's fields, XML elements, or the
// first item of a list of groups. False for a plain value.
bool children_of(const Node& n, Fields* out) {
  std::vector<XmlElement> elems;
  if (n.kind == Node::Kind::kObject) {
    *out = n.fields;
    return true;
  }
  if (xml_of(n, &elems)) {
    *out = fields_of_xml(elems);
    return true;
  }
  if (n.kind == Node::Kind::kArray && !n.items.empty()) return children_of(n.items[0], out);
  return false;
}

std::string norm(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (char c : s) r.push_back(c == '-' ? '_' : (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c);
  return r;
}

bool same_name(std::string_view declared, std::string_view given) {
  if (declared == given) return true;
  std::string d = norm(declared), g = norm(given);
  return d == g || d == g + "s" || g == d + "s";
}

const Property* find_property(const Schema& s, std::string_view name) {
  if (const Property* p = s.property(name)) return p;
  for (const auto& p : s.properties) {
    if (same_name(p.name, name)) return &p;
  }
  return nullptr;
}

bool wants_group(const Schema& s) { return s.types != 0 && (s.types & kTypeString) == 0; }

// The object schema of a list property's items, or null.
const Schema* object_items(const Schema& s) {
  if (!wants_group(s) || !s.allows(kTypeArray) || s.items.empty()) return nullptr;
  const Schema& item = s.items[0];
  if (!item.allows(kTypeObject) || item.properties.empty()) return nullptr;
  return &item;
}

bool is_range_name(std::string_view name) {
  std::string n = norm(name);
  return n == "line_range" || n == "line_ranges";
}

class Mapper {
 public:
  bool changed = false;

  Node fit(const Schema& s, Node n, int depth) {
    if (depth > kMaxDepth || !s.any_of.empty() || !wants_group(s)) return n;
    if (s.allows(kTypeObject) && !s.properties.empty()) {
      if (n.kind == Node::Kind::kObject) return fit_object(s, std::move(n.fields), depth);
      Fields f;
      bool list = n.kind == Node::Kind::kArray;
      if (!(list && s.allows(kTypeArray)) && n.kind != Node::Kind::kJson && children_of(n, &f)) {
        changed = true;  // XML, or a list where one object is expected (its first item)
        return fit_object(s, std::move(f), depth);
      }
      return n;
    }
    if (s.allows(kTypeArray) && !s.items.empty()) {
      const Schema& item = s.items[0];
      if (n.kind == Node::Kind::kArray) {
        for (auto& x : n.items) x = fit(item, std::move(x), depth + 1);
        return n;
      }
      const Schema* obj = object_items(s);
      if (obj == nullptr) return n;
      if (n.kind == Node::Kind::kObject) {
        changed = true;
        Node list;
        list.kind = Node::Kind::kArray;
        list.items.push_back(fit(*obj, std::move(n), depth + 1));
        return list;
      }
      Node list;
      list.kind = Node::Kind::kArray;
      if (n.kind == Node::Kind::kText && xml_items(*obj, n.text, depth, &list.items) &&
          !list.items.empty()) {
        changed = true;
        return list;
      }
    }
    return n;
  }

 private:
  // The items in XML text: elements that hold item properties form one item;
  // other elements are wrappers (`<file>…</file>`, `<files>…</files>`).
  bool xml_items(const Schema& item, std::string_view text, int depth, std::vector<Node>* out) {
    if (depth > kMaxDepth || !step()) return false;
    std::vector<XmlElement> elems;
    if (!xml_in(text, &elems)) return false;
    for (const auto& e : elems) {
      if (find_property(item, e.name) != nullptr) {
        out->push_back(fit(item, Node::of_text(text), depth + 1));
        return true;
      }
    }
    for (const auto& e : elems) {
      if (!xml_items(item, e.inner, depth + 1, out)) return false;
    }
    return true;
  }

  bool step() { return ++steps_ <= kMaxSteps; }

  bool lift_wanted(const Schema& s, const Fields& children) {
    if (!s.additional_properties) return true;
    for (const auto& [k, v] : children) {
      if (find_property(s, k) != nullptr) return true;
    }
    return false;
  }

  // Roo Code v3.46+ read_file: a range for a schema with offset and limit.
  bool range_to_offset(const Schema& s, const Node& v, Fields* out) {
    const Property* off = s.property("offset");
    const Property* lim = s.property("limit");
    if (off == nullptr || lim == nullptr || !off->schema.allows(kTypeInteger) ||
        !lim->schema.allows(kTypeInteger))
      return false;
    const Node* r = &v;
    while (r->kind == Node::Kind::kArray && !r->items.empty()) {
      if (r->items.size() == 2 && r->items[0].kind == Node::Kind::kJson) break;
      r = &r->items[0];
    }
    int64_t a = 0, b = 0;
    if (r->kind == Node::Kind::kText) {
      if (!parse_line_range(r->text, &a, &b)) return false;
    } else if (r->kind == Node::Kind::kArray && r->items.size() == 2) {
      std::string pair = "[" + r->items[0].text + "," + r->items[1].text + "]";
      if (!parse_line_range(pair, &a, &b)) return false;
    } else {
      return false;
    }
    if (a < 1 || b < a) return false;
    Node o, l;
    o.kind = l.kind = Node::Kind::kJson;
    o.text = std::to_string(a);
    l.text = std::to_string(b - a + 1);
    out->emplace_back("offset", std::move(o));
    out->emplace_back("limit", std::move(l));
    return true;
  }

  Node fit_object(const Schema& s, Fields fields, int depth) {
    std::vector<std::vector<Node>> values(s.properties.size());
    std::vector<Fields> item(s.properties.size());  // items started by loose item properties
    Fields extra;
    auto index_of = [&s](const Property* p) {
      return static_cast<size_t>(p - s.properties.data());
    };
    auto flush = [&](size_t i) {
      if (item[i].empty()) return;
      Node o;
      o.kind = Node::Kind::kObject;
      o.fields = std::move(item[i]);
      item[i].clear();
      values[i].push_back(std::move(o));
    };
    std::deque<Field> work(std::make_move_iterator(fields.begin()),
                           std::make_move_iterator(fields.end()));
    while (!work.empty()) {
      auto [name, v] = std::move(work.front());
      work.pop_front();
      if (!step()) {
        extra.emplace_back(std::move(name), std::move(v));
        continue;
      }
      if (const Property* p = find_property(s, name)) {
        if (p->name != name) changed = true;
        values[index_of(p)].push_back(std::move(v));
        continue;
      }
      Fields derived;
      if (is_range_name(name) && range_to_offset(s, v, &derived)) {
        changed = true;
        for (auto& d : derived) {
          const Property* p = s.property(d.first);
          if (values[index_of(p)].empty()) values[index_of(p)].push_back(std::move(d.second));
        }
        continue;
      }
      Fields children;
      if (children_of(v, &children) && lift_wanted(s, children)) {
        changed = true;
        // A group repeated where the schema has no list for it (several
        // <file> for a flat read_file): the first one counts.
        std::vector<std::string> seen;
        Fields keep;
        for (auto& c : children) {
          bool group = c.second.kind != Node::Kind::kText || xml_in(c.second.text, &scratch_);
          if (group && find_property(s, c.first) == nullptr) {
            if (std::find(seen.begin(), seen.end(), c.first) != seen.end()) continue;
            seen.push_back(c.first);
          }
          keep.push_back(std::move(c));
        }
        for (auto it = keep.rbegin(); it != keep.rend(); ++it) work.push_front(std::move(*it));
        continue;
      }
      bool placed = false;
      for (size_t i = 0; i < s.properties.size() && !placed; ++i) {
        const Schema* obj = object_items(s.properties[i].schema);
        if (obj == nullptr || find_property(*obj, name) == nullptr) continue;
        for (const auto& [k, x] : item[i]) {
          if (same_name(k, name)) {
            flush(i);
            break;
          }
        }
        item[i].emplace_back(std::move(name), std::move(v));
        placed = true;
      }
      if (placed) {
        changed = true;
        continue;
      }
      extra.emplace_back(std::move(name), std::move(v));
    }
    Node out;
    out.kind = Node::Kind::kObject;
    for (size_t i = 0; i < s.properties.size(); ++i) {
      flush(i);
      auto& vals = values[i];
      if (vals.empty()) continue;
      const Schema& ps = s.properties[i].schema;
      Node v;
      if (vals.size() == 1) {
        v = std::move(vals[0]);
      } else if (wants_group(ps) && ps.allows(kTypeArray)) {
        changed = true;
        v.kind = Node::Kind::kArray;
        for (auto& x : vals) {
          if (x.kind == Node::Kind::kArray) {
            for (auto& y : x.items) v.items.push_back(std::move(y));
          } else {
            v.items.push_back(std::move(x));
          }
        }
      } else {
        changed = true;  // one value expected: the first counts
        v = std::move(vals[0]);
      }
      out.fields.emplace_back(s.properties[i].name, fit(ps, std::move(v), depth + 1));
    }
    for (auto& e : extra) out.fields.push_back(std::move(e));
    return out;
  }

  size_t steps_ = 0;
  std::vector<XmlElement> scratch_;
};

}  // namespace

bool parse_line_range(std::string_view text, int64_t* first, int64_t* last) {
  std::string_view t = trim(text);
  if (t.size() >= 2 && t.front() == '[' && t.back() == ']') t = trim(t.substr(1, t.size() - 2));
  auto number = [&t](int64_t* v) {
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *v);
    if (ec != std::errc() || p == t.data()) return false;
    t.remove_prefix(static_cast<size_t>(p - t.data()));
    t = trim(t);
    return true;
  };
  if (!number(first) || t.empty() || (t.front() != '-' && t.front() != ',')) return false;
  t = trim(t.substr(1));
  return number(last) && t.empty();
}

bool map_to_schema(const Schema& params, const RawCall& call, RawCall* out) {
  if (params.properties.empty()) return false;
  Node root;
  root.kind = Node::Kind::kObject;
  if (call.has_json) {
    std::string_view t = trim(call.json);
    simdjson::dom::parser p;
    simdjson::dom::element e;
    std::string fixed;
    if (p.parse(t.data(), t.size()).get(e)) {
      fixed = repair_json(t);
      if (p.parse(fixed).get(e)) return false;
    }
    if (!e.is_object()) return false;
    root = from_json(e, 0);
  } else {
    for (const auto& prm : call.params)
      root.fields.emplace_back(prm.name, Node::of_text(prm.value));
  }
  Mapper m;
  Node fitted = m.fit(params, std::move(root), 0);
  if (!m.changed) return false;
  out->name = call.name;
  out->has_json = true;
  out->json.clear();
  out->params.clear();
  to_json(fitted, &out->json);
  return true;
}

}  // namespace qp::worker::toolcalls
