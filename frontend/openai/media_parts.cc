#include "frontend/openai/media_parts.h"

namespace qp::frontend::fields {

// A media part → an attachment of the message (frontend/attachments.h).
PartUse add_media_part(Ctx& c, attachments::Builder& b, bool image, const PartMedia& pm,
                       const std::string& pp, protocol::ChatMessage* m) {
  if (!pm.file_id.empty()) {
    c.fail(pp + (image ? "" : ".file.file_id"),
           "File ids are not supported by this gateway; send the file's data (file_data).");
    return PartUse::kFailed;
  }
  attachments::MediaInput in;
  in.image = image;
  in.url = pm.url;
  in.base64 = pm.data;
  in.filename = pm.filename;
  if (in.url.empty() && in.base64.empty()) {
    c.fail(pp + (image ? ".image_url.url" : ".file.file_data"),
           std::string("Missing required parameter: '") + pp +
               (image ? ".image_url.url'." : ".file.file_data'."));
    return PartUse::kFailed;
  }
  attachments::Refusal why;
  m->attachments.emplace_back();
  if (!b.add(in, &m->attachments.back(), &why)) {
    *c.err = ApiError{Code::kInvalidArgument, std::move(why.message), pp, std::move(why.code), 0};
    return PartUse::kFailed;
  }
  return PartUse::kSkip;
}

}  // namespace qp::frontend::fields
