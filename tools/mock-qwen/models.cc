#include "tools/mock-qwen/models.h"

#include <cstdio>
#include <cstdlib>

#include <simdjson.h>

#include "tools/mock-qwen/models_json.h"  // generated: kModelsJson

namespace qp::mock {
namespace {

namespace od = simdjson::ondemand;

qp::Status bad(std::string_view what) {
  return qp::Status(qp::Code::kInvalidArgument, "models: " + std::string(what));
}

// abilities.X is an int in the capture and a bool in GO's reading.
bool truthy(od::value v) {
  bool b = false;
  if (!v.get_bool().get(b)) return b;
  int64_t n = 0;
  if (!v.get_int64().get(n)) return n != 0;
  return false;
}

qp::Status parse_meta(od::object meta, ModelInfo* m) {
  for (auto field : meta) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bad("bad key in meta");
    od::value v;
    if (field.value().get(v)) return bad("bad value in meta");
    if (key == "abilities") {
      od::object ab;
      if (v.get_object().get(ab)) continue;
      for (auto a : ab) {
        std::string_view name;
        od::value av;
        if (a.unescaped_key().get(name) || a.value().get(av)) return bad("bad abilities");
        if (name == "thinking") m->thinking = truthy(av);
      }
    } else if (key == "chat_type") {
      od::array arr;
      if (v.get_array().get(arr)) continue;
      for (auto t : arr) {
        std::string_view s;
        if (!t.get_string().get(s) && s == "search") m->search = true;
      }
    } else if (key == "max_context_length") {
      int64_t n = 0;
      if (!v.get_int64().get(n)) m->max_context_length = n;
    }
  }
  return qp::Status();
}

}  // namespace

qp::Result<ModelCatalog> ModelCatalog::parse(std::string_view json) {
  ModelCatalog cat;
  cat.json_.assign(json);
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  od::array data;
  if (parser.iterate(padded).get(doc) || doc["data"].get_array().get(data)) {
    return bad("expected {\"data\": [...]}");
  }
  for (auto item : data) {
    od::object obj;
    if (item.get_object().get(obj)) return bad("entries must be objects");
    ModelInfo m;
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return bad("bad key");
      od::value v;
      if (field.value().get(v)) return bad("bad value");
      if (key == "id") {
        std::string_view s;
        if (v.get_string().get(s)) return bad("id must be a string");
        m.id.assign(s);
      } else if (key == "info") {
        od::object info;
        if (v.get_object().get(info)) continue;
        od::object meta;
        if (!info["meta"].get_object().get(meta)) {
          if (auto st = parse_meta(meta, &m); !st.ok()) return st;
        }
      }
    }
    if (m.id.empty()) return bad("entry without id");
    cat.models_.push_back(std::move(m));
  }
  return cat;
}

const ModelCatalog& ModelCatalog::builtin() {
  static const ModelCatalog kCatalog = [] {
    auto r = parse(kModelsJson);
    if (!r.has_value()) {
      // The embedded file is checked by the unit tests; this cannot happen in a built binary.
      std::fprintf(stderr, "mock-qwen: embedded models.json is invalid: %s\n",
                   r.error().message().c_str());
      std::abort();
    }
    return std::move(r.value());
  }();
  return kCatalog;
}

const ModelInfo* ModelCatalog::find(std::string_view id) const {
  for (const auto& m : models_) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

}  // namespace qp::mock
