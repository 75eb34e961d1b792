#include "worker/models_parser.h"

#include <algorithm>

#include <simdjson.h>

#include "common/numeric.h"

namespace qp::worker {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string_view str(element e, const char* key) {
  std::string_view v;
  if (e.is_object() && !e[key].get(v)) return v;
  return {};
}

int64_t integer(element e, const char* key) {
  if (!e.is_object()) return 0;
  element n;
  if (e[key].get(n)) return 0;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  if (!n.get(i)) return i;
  if (!n.get(u)) return static_cast<int64_t>(u);
  if (!n.get(d)) return saturate_to_int64(d);
  return 0;
}

// An ability is present when it is true or a non-zero number (the capture has
// ints in `abilities` and bools in `capabilities`).
bool truthy(element v) {
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  if (!v.get(b)) return b;
  if (!v.get(i)) return i != 0;
  if (!v.get(u)) return u != 0;
  if (!v.get(d)) return d != 0;
  return false;
}

void add_flags(element meta, const char* key, std::vector<std::string>* caps) {
  object flags;
  if (!meta.is_object() || meta[key].get(flags)) return;
  for (auto kv : flags) {
    if (truthy(kv.value)) caps->emplace_back(kv.key);
  }
}

bool parse_one(element m, protocol::ModelInfo* out) {
  element info;
  bool has_info = !m["info"].get(info) && info.is_object();
  std::string_view id = str(m, "id");
  if (id.empty() && has_info) id = str(info, "id");
  if (id.empty()) return false;
  out->id = std::string(id);
  std::string_view name = str(m, "name");
  if (name.empty() && has_info) name = str(info, "name");
  out->name = std::string(name.empty() ? id : name);
  std::string_view owner = str(m, "owned_by");
  if (!owner.empty()) out->owned_by = std::string(owner);
  if (!has_info) return true;
  out->created = integer(info, "created_at");
  element meta;
  if (info["meta"].get(meta) || !meta.is_object()) return true;
  out->context_length = integer(meta, "max_context_length");
  out->max_output_tokens = integer(meta, "max_generation_length");
  add_flags(meta, "abilities", &out->capabilities);
  add_flags(meta, "capabilities", &out->capabilities);
  array chat_types;
  if (!meta["chat_type"].get(chat_types)) {
    for (auto t : chat_types) {
      std::string_view s;
      if (t.get(s)) continue;
      if (s == "search") out->capabilities.emplace_back("search");
      if (s == "deep_research") out->capabilities.emplace_back("deep_research");
      if (s == "t2i") out->capabilities.emplace_back("image_generation");
      if (s == "t2v") out->capabilities.emplace_back("video_generation");
      if (s == "image_edit") out->capabilities.emplace_back("image_edit");
    }
  }
  auto& c = out->capabilities;
  std::sort(c.begin(), c.end());
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return true;
}

}  // namespace

Result<std::vector<protocol::ModelInfo>> parse_models(std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(body.data(), body.size()).get(root)) {
    return error(Code::kUpstream, "Qwen model list is not valid JSON");
  }
  array list;
  if (root.is_object()) {
    element data;
    if (root["data"].get(data)) return error(Code::kUpstream, "Qwen model list has no data array");
    if (data.is_object()) {
      if (data["data"].get(list))
        return error(Code::kUpstream, "Qwen model list has no data array");
    } else if (data.get(list)) {
      return error(Code::kUpstream, "Qwen model list has no data array");
    }
  } else if (root.get(list)) {
    return error(Code::kUpstream, "Qwen model list is not an array or an object");
  }
  std::vector<protocol::ModelInfo> models;
  for (element m : list) {
    if (!m.is_object()) continue;
    protocol::ModelInfo info;
    if (parse_one(m, &info)) models.push_back(std::move(info));
  }
  return models;
}

void add_model_variants(std::vector<protocol::ModelInfo>* models) {
  size_t n = models->size();
  auto has = [](const protocol::ModelInfo& m, std::string_view cap) {
    return std::find(m.capabilities.begin(), m.capabilities.end(), cap) != m.capabilities.end();
  };
  for (size_t i = 0; i < n; ++i) {
    for (auto [cap, suffix, label] :
         {std::tuple{"thinking", kThinkingSuffix, " (thinking)"},
          std::tuple{"search", kSearchSuffix, " (web search)"},
          std::tuple{"deep_research", kDeepResearchSuffix, " (deep research)"},
          std::tuple{"image_generation", kImageSuffix, " (image generation)"},
          std::tuple{"video_generation", kVideoSuffix, " (video generation)"}}) {
      if (!has((*models)[i], cap)) continue;
      protocol::ModelInfo v = (*models)[i];
      v.id += suffix;
      v.name += label;
      models->push_back(std::move(v));
    }
  }
}

}  // namespace qp::worker
