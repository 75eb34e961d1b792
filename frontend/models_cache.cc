#include "frontend/models_cache.h"

#include "common/json/writer.h"

namespace qp::frontend {
namespace {
void write_model(json::Writer& w, const protocol::ModelInfo& m) {
  w.begin_object()
      .field("id", m.id)
      .field("object", "model")
      .field("created", m.created)
      .field("owned_by", m.owned_by.empty() ? std::string("qwen") : m.owned_by);
  // Extension: what the upstream model takes (thinking, search, vision…),
  // from Qwen's model list; absent when unknown.
  if (!m.capabilities.empty()) {
    w.key("qwen_capabilities").begin_array();
    for (const auto& c : m.capabilities) w.value(c);
    w.end_array();
  }
  w.end_object();
}
}  // namespace

std::string ModelsCache::list_json(const std::function<bool(std::string_view)>& include) const {
  std::string s;
  json::Writer w(&s);
  w.begin_object().field("object", "list").key("data").begin_array();
  for (const auto& m : list_.models) {
    if (!include || include(m.id)) write_model(w, m);
  }
  w.end_array().end_object();
  return s;
}

std::string ModelsCache::model_json(const protocol::ModelInfo& m) {
  std::string s;
  json::Writer w(&s);
  write_model(w, m);
  return s;
}

}  // namespace qp::frontend
