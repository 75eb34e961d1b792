// The upstream model list, cached with a TTL. Pure: time is passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/protocol/messages.h"

namespace qp::frontend {

class ModelsCache {
 public:
  explicit ModelsCache(uint64_t ttl_ms) : ttl_ms_(ttl_ms) {}

  void store(protocol::ModelList list, uint64_t now_ms) {
    list_ = std::move(list);
    stored_at_ms_ = now_ms;
    has_ = true;
  }
  bool has() const { return has_; }
  bool fresh(uint64_t now_ms) const { return has_ && now_ms - stored_at_ms_ < ttl_ms_; }
  const protocol::ModelList& list() const { return list_; }
  const protocol::ModelInfo* find(std::string_view id) const {
    for (const auto& m : list_.models) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }
  // OpenAI ListModelsResponse / Model objects; list_json lists the models
  // for which include(id) is true.
  std::string list_json(const std::function<bool(std::string_view)>& include = nullptr) const;
  static std::string model_json(const protocol::ModelInfo& m);

 private:
  uint64_t ttl_ms_;
  protocol::ModelList list_;
  uint64_t stored_at_ms_ = 0;
  bool has_ = false;
};

}  // namespace qp::frontend
