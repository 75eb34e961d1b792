#include "frontend/openai/image_edit_request.h"

#include <charconv>

#include "common/http/multipart.h"
#include "frontend/attachments/attachments.h"

namespace qp::frontend {
namespace {

bool fail(ApiError* err, std::string param, std::string message, std::string code = {}) {
  *err = ApiError::invalid(std::move(param), std::move(message));
  err->error_code = std::move(code);
  return false;
}

}  // namespace

bool parse_image_edit_request(std::string_view content_type, std::string_view body,
                              const AttachmentsConfig& limits, MediaRequest* out,
                              std::vector<protocol::Attachment>* images, ApiError* err) {
  *out = MediaRequest{};
  images->clear();
  auto boundary = http::multipart::boundary_of(content_type);
  if (!boundary) {
    return fail(err, "",
                "Invalid request body: /v1/images/edits takes multipart/form-data (" +
                    boundary.error().message() + ").",
                "invalid_content_type");
  }
  std::vector<http::multipart::Part> parts;
  http::multipart::Limits bounds{kMaxEditParts, kMaxEditPartHeaderBytes};
  if (Status s = http::multipart::parse(body, *boundary, &parts, bounds); !s.ok()) {
    return fail(err, "", "Invalid multipart/form-data body: " + s.message() + ".",
                "invalid_multipart");
  }
  attachments::Builder builder(limits);
  bool has_prompt = false, has_n = false, has_size = false, has_format = false, has_model = false,
       has_user = false;
  std::string size;
  auto once = [&](bool* seen, std::string_view name) {
    if (!*seen) return *seen = true;
    return fail(err, std::string(name), "The field '" + std::string(name) + "' is given twice.");
  };
  for (const auto& p : parts) {
    std::string_view name = p.name;
    if (name == "image" || name == "image[]") {
      if (p.body.empty())
        return fail(err, "image", "The image is empty (0 bytes).", "invalid_image");
      attachments::MediaInput in;
      in.image = true;
      in.raw = p.body;
      in.filename = p.filename;
      in.declared_mime = p.content_type;
      protocol::Attachment a;
      attachments::Refusal why;
      if (!builder.add(in, &a, &why)) return fail(err, "image", why.message, why.code);
      images->push_back(std::move(a));
    } else if (name == "mask") {
      return fail(err, "mask",
                  "'mask' is not supported: Qwen's image editing takes no mask; describe the "
                  "area to change in the prompt instead.",
                  "unsupported_parameter");
    } else if (name == "prompt") {
      if (!once(&has_prompt, name)) return false;
      out->prompt = std::string(p.body);
    } else if (name == "model") {
      if (!once(&has_model, name)) return false;
      out->model = std::string(p.body);
    } else if (name == "user") {
      if (!once(&has_user, name)) return false;
      out->user = std::string(p.body);
    } else if (name == "size") {
      if (!once(&has_size, name)) return false;
      size = std::string(p.body.substr(0, 64));
    } else if (name == "response_format") {
      if (!once(&has_format, name)) return false;
      out->response_format = std::string(p.body.substr(0, 64));
      if (out->response_format != "url" && out->response_format != "b64_json")
        return fail(err, "response_format",
                    "Invalid value: '" + out->response_format +
                        "'. Supported values are: 'url' and 'b64_json'.");
    } else if (name == "n") {
      if (!once(&has_n, name)) return false;
      int32_t n = 0;
      auto r = std::from_chars(p.body.data(), p.body.data() + p.body.size(), n);
      if (r.ec != std::errc() || r.ptr != p.body.data() + p.body.size() || n < 1 ||
          n > protocol::kMaxImagesPerJob)
        return fail(err, "n",
                    "Invalid 'n': must be an integer between 1 and " +
                        std::to_string(protocol::kMaxImagesPerJob) +
                        " (Qwen makes one image per request; the gateway runs at most that "
                        "many).");
      out->n = n;
    } else if (name == "stream") {
      if (p.body == "true")
        return fail(err, "stream",
                    "Streaming image edits (partial images) are not supported: Qwen sends the "
                    "finished image only. Leave 'stream' unset.");
    }  // quality, background, input_fidelity, output_format, …: ignored
  }
  if (images->empty()) return fail(err, "image", "Missing required parameter: 'image'.");
  if (!has_prompt) return fail(err, "prompt", "Missing required parameter: 'prompt'.");
  if (out->prompt.empty())
    return fail(err, "prompt", "Invalid 'prompt': empty string. Expected a non-empty prompt.");
  if (out->prompt.size() > kMaxMediaPromptBytes)
    return fail(err, "prompt",
                "Invalid 'prompt': string too long. Expected a string with maximum length " +
                    std::to_string(kMaxMediaPromptBytes) + ".");
  if (!size.empty()) {
    auto r = qwen_aspect_ratio(size);
    if (!r)
      return fail(err, "size",
                  "Invalid value: '" + size +
                      "'. Supported values are: '1:1', '16:9', '9:16', '4:3', '3:4' (Qwen's "
                      "aspect ratios), 'auto', or a 'WxH' size of one of them (e.g. "
                      "'1024x1024', '1536x1024', '1024x1536').");
    out->size = size == "auto" ? std::string() : std::string(*r);
  }
  if (out->response_format.empty()) out->response_format = "url";
  return true;
}

}  // namespace qp::frontend
