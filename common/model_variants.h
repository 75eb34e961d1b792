// Model-name variants that every process needs to recognise (the worker
// picks Qwen's chat type from them, the frontend its time bounds).
// Header-only and pure. docs/api.md "Deep research".
#pragma once

#include <string_view>

namespace qp {

// "<model>-deep-research": Qwen's deep_research chat type (R21/GO naming).
inline constexpr std::string_view kDeepResearchSuffix = "-deep-research";

// "<model>-image": Qwen's t2i chat type (text to image); "<model>-video":
// its t2v chat type (text to video, a polled task). docs/api.md "Images and
// video".
inline constexpr std::string_view kImageSuffix = "-image";
inline constexpr std::string_view kVideoSuffix = "-video";
// "<model>-image-edit": its image_edit chat type (an uploaded image and a
// prompt; R21/GO naming). Internal to POST /v1/images/edits: not listed in
// /v1/models.
inline constexpr std::string_view kImageEditSuffix = "-image-edit";

constexpr bool has_model_suffix(std::string_view model, std::string_view suffix) {
  return model.size() > suffix.size() && model.substr(model.size() - suffix.size()) == suffix;
}

// Variants whose upstream runs take minutes, with long silences between
// events: they get the longer bounds (frontend.long_request_timeout_ms,
// upstream.long_idle_timeout_ms) instead of the per-chat ones. Video
// tasks take minutes too.
constexpr bool long_running_model(std::string_view model) {
  return has_model_suffix(model, kDeepResearchSuffix) || has_model_suffix(model, kVideoSuffix);
}

// The image or video variants: the worker runs them as media jobs
// (worker/media_call.h), not as chats.
constexpr bool media_model(std::string_view model) {
  return has_model_suffix(model, kImageSuffix) || has_model_suffix(model, kVideoSuffix) ||
         has_model_suffix(model, kImageEditSuffix);
}
}  // namespace qp
