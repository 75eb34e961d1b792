// Image and file content parts of the OpenAI-shaped APIs (chat completions
// image_url / file, Responses' input_image / input_file) → attachments of
// the message (frontend/attachments/attachments.h), with OpenAI-shaped
// errors. No I/O.
#pragma once

#include <string>

#include "common/protocol/messages.h"
#include "frontend/attachments/attachments.h"
#include "frontend/openai/json_fields.h"

namespace qp::frontend::fields {

// Adds the part's image (image = true) or file to m->attachments. kSkip
// (no text to join) on success; kFailed with c.err filled otherwise.
PartUse add_media_part(Ctx& c, attachments::Builder& b, bool image, const PartMedia& pm,
                       const std::string& pp, protocol::ChatMessage* m);

}  // namespace qp::frontend::fields
