// The body of POST /v1/images/edits (OpenAI's CreateImageEditRequest, as
// multipart/form-data: common/http/multipart.h), validated into a media
// job's request and its images (docs/api.md "Images and video"). Pure: no
// I/O.
//
//   image / image[]   one or several file parts: the images to edit, sniffed
//                     and bounded like chat attachments ([attachments],
//                     frontend/attachments); at least one
//   prompt            required, 1..kMaxMediaPromptBytes
//   mask              400: Qwen's image_edit takes no mask
//   n, size, response_format, model, user   as for /v1/images/generations;
//                     no size: Qwen keeps the input's proportions (empty)
//   stream "true"     400 (no partial images)
//   anything else (quality, background, input_fidelity, output_format, …)
//                     ignored: Qwen has no such settings
// Scalar fields given twice are a 400.
#pragma once

#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/protocol/messages.h"
#include "frontend/openai/api_error.h"
#include "frontend/openai/media_request.h"

namespace qp::frontend {

// The multipart bounds of this route: parts per request and header bytes
// per part.
inline constexpr size_t kMaxEditParts = 64;
inline constexpr size_t kMaxEditPartHeaderBytes = 8192;

// `content_type` is the request's Content-Type header (empty if none).
// out->size is empty when the request names no size.
bool parse_image_edit_request(std::string_view content_type, std::string_view body,
                              const AttachmentsConfig& limits, MediaRequest* out,
                              std::vector<protocol::Attachment>* images, ApiError* err);

}  // namespace qp::frontend
