// The model list served by GET /api/models and /api/v2/models/: the real
// capture (captures/models.json, copied to tools/mock-qwen/data/ and embedded
// at build time), plus what the mock needs to know about each model. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace qp::mock {

struct ModelInfo {
  std::string id;
  bool thinking = false;  // meta.abilities.thinking != 0 (or true)
  bool search = false;    // "search" in meta.chat_type
  int64_t max_context_length = 0;
};

class ModelCatalog {
 public:
  // Parses a {"data":[{"id":…,"info":{"meta":{…}}}]} document; keeps the text.
  static qp::Result<ModelCatalog> parse(std::string_view json);
  // The embedded capture (qwen3-max, qwen3-vl-plus, qwen3-coder-plus, qwen3-vl-32b).
  static const ModelCatalog& builtin();

  const std::string& json() const { return json_; }
  const ModelInfo* find(std::string_view id) const;
  const std::vector<ModelInfo>& models() const { return models_; }

 private:
  std::string json_;
  std::vector<ModelInfo> models_;
};

}  // namespace qp::mock
