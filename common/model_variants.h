// Model-name variants that every process needs to recognise (the worker
// picks Qwen's chat type from them, the frontend its time bounds).
// Header-only and pure. docs/api.md "Deep research".
#pragma once

#include <string_view>

namespace qp {

// "<model>-deep-research": Qwen's deep_research chat type (R21/GO naming).
inline constexpr std::string_view kDeepResearchSuffix = "-deep-research";

constexpr bool has_model_suffix(std::string_view model, std::string_view suffix) {
  return model.size() > suffix.size() && model.substr(model.size() - suffix.size()) == suffix;
}

// Variants whose upstream runs take minutes, with long silences between
// events: they get the longer bounds (frontend.long_request_timeout_ms,
// upstream.long_idle_timeout_ms) instead of the per-chat ones.
constexpr bool long_running_model(std::string_view model) {
  return has_model_suffix(model, kDeepResearchSuffix);
}

}  // namespace qp
