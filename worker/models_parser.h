// Parses the upstream model list (`GET /api/models` or `/api/v2/models/`) into
// protocol::ModelInfo. Pure: no I/O.
#pragma once

#include <string_view>
#include <vector>

#include "common/model_variants.h"
#include "common/protocol/messages.h"
#include "common/status.h"

namespace qp::worker {

// Accepts `{"data":[…]}`, `{"success":true,"data":{"data":[…]}}` and a bare
// array. Per model: id and name (top level, else info.*), owned_by,
// created (info.created_at), context_length (meta.max_context_length),
// max_output_tokens (meta.max_generation_length) and capabilities: every
// key of meta.abilities / meta.capabilities whose value is true or a
// non-zero number, plus "search" and "deep_research" when meta.chat_type
// contains them, and "image_generation" / "video_generation" when it
// contains "t2i" / "t2v".
// Capabilities are sorted and unique. Entries without an id are skipped.
// Error (kUpstream) when the body is not JSON or has no model array.
Result<std::vector<protocol::ModelInfo>> parse_models(std::string_view body);

// Suffixes that select upstream features by model name (R21/GO convention).
inline constexpr std::string_view kThinkingSuffix = "-thinking";
inline constexpr std::string_view kSearchSuffix = "-search";

// Appends "<id>-thinking" for models with the "thinking" capability,
// "<id>-search" for models with "search" and "<id>-deep-research"
// (kDeepResearchSuffix) for models with "deep_research", "<id>-image" and
// "<id>-video" for image_generation / video_generation, so clients can
// select those modes by model name (see qwen_requests.h
// parse_model_variant).
void add_model_variants(std::vector<protocol::ModelInfo>* models);

}  // namespace qp::worker
