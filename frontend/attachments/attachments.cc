#include "frontend/attachments/attachments.h"

#include <algorithm>

#include "common/media/media.h"
#include "common/strings.h"

namespace qp::frontend::attachments {
namespace {

bool is_http_url(std::string_view u) {
  auto has = [&](std::string_view scheme) {
    return u.size() > scheme.size() && strings::iequals(u.substr(0, scheme.size()), scheme);
  };
  return has("http://") || has("https://");
}

std::string mib(uint64_t bytes) {
  if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + " MiB";
  return std::to_string(bytes) + " bytes";
}

constexpr size_t kMaxUrlBytes = 8192;
constexpr size_t kMaxNameBytes = 255;

}  // namespace

const AttachmentsConfig& default_config() {
  static const AttachmentsConfig c;
  return c;
}

bool Builder::accepted(std::string_view mime) const {
  return std::any_of(config_.types.begin(), config_.types.end(),
                     [&](const std::string& t) { return strings::iequals(t, mime); });
}

bool Builder::add(const MediaInput& in, protocol::Attachment* out, Refusal* why) {
  const char* what = in.image ? "image" : "file";
  uint64_t& count = in.image ? images_ : files_;
  uint64_t max_count = in.image ? config_.max_images : config_.max_files;
  if (++count > max_count) {
    why->message = "Too many " + std::string(what) + "s: at most " + std::to_string(max_count) +
                   " per request.";
    why->code = in.image ? "too_many_images" : "too_many_files";
    return false;
  }
  *out = protocol::Attachment{};
  out->kind = what;
  out->name = std::string(in.filename.substr(0, kMaxNameBytes));
  std::string_view payload = in.base64;
  std::string_view url = in.url;
  // file_data is a data: URL in OpenAI's examples, or bare base64.
  if (url.empty() && payload.size() >= 5 && strings::iequals(payload.substr(0, 5), "data:")) {
    url = payload;
  }
  if (!url.empty()) {
    if (is_http_url(url)) {
      if (url.size() > kMaxUrlBytes) {
        why->message = "The " + std::string(what) + " URL is too long (at most " +
                       std::to_string(kMaxUrlBytes) + " bytes).";
        why->code = "invalid_image_url";
        return false;
      }
      out->url = std::string(url);
      out->digest = media::sha256_hex(url);
      return true;
    }
    media::DataUrl d;
    if (!media::parse_data_url(url, &d)) {
      why->message = "Invalid " + std::string(what) +
                     " URL: expected an http(s) URL or a base64 data URL "
                     "(data:<type>;base64,<data>).";
      why->code = in.image ? "invalid_image_url" : "invalid_file";
      return false;
    }
    payload = d.payload;
  }
  uint64_t max_bytes = in.image ? config_.max_image_bytes : config_.max_file_bytes;
  if (!in.raw.empty() && url.empty()) {
    payload = {};
    out->bytes.data.assign(in.raw.substr(0, max_bytes + 1));
  } else if (payload.size() / 4 * 3 > max_bytes + 3) {  // checked before decoding anything
    why->message = "The " + std::string(what) + " is too large: at most " + mib(max_bytes) + ".";
    why->code = in.image ? "image_too_large" : "file_too_large";
    return false;
  }
  if (!payload.empty() && !media::base64_decode(payload, &out->bytes.data)) {
    out->bytes.data.clear();
  }
  if (out->bytes.data.empty()) {
    why->message = "The " + std::string(what) + " data is not valid base64.";
    why->code = in.image ? "invalid_image" : "invalid_file";
    return false;
  }
  if (out->bytes.data.size() > max_bytes) {
    why->message = "The " + std::string(what) + " is too large: at most " + mib(max_bytes) + ".";
    why->code = in.image ? "image_too_large" : "file_too_large";
    return false;
  }
  media::Type t = media::sniff(out->bytes.data);
  std::string_view mime = media::mime_of(t);
  bool image = media::is_image(t);
  if (t == media::Type::kUnknown || image != in.image || !accepted(mime)) {
    std::string types;
    for (const auto& a : config_.types) {
      if (media::is_image(media::type_of_mime(a)) != in.image) continue;
      if (!types.empty()) types += ", ";
      types += a;
    }
    why->message =
        "Unsupported " + std::string(what) + " type" +
        (t == media::Type::kUnknown ? std::string() : " (the data is " + std::string(mime) + ")") +
        ". Accepted: " + (types.empty() ? std::string("none") : types) + ".";
    why->code = in.image ? "unsupported_image_type" : "unsupported_file_type";
    return false;
  }
  if (image && !media::image_size(out->bytes.data, t, &out->width, &out->height)) {
    why->message = "The image data is not a valid " + std::string(mime) + " image.";
    why->code = "invalid_image";
    return false;
  }
  out->mime = std::string(mime);
  if (out->name.empty()) {
    out->name = std::string(what) + "." + std::string(media::extension_of(t));
  }
  out->digest = media::sha256_hex(out->bytes.data);
  return true;
}

bool has_images(const protocol::JobRequest& job) {
  for (const auto& m : job.messages) {
    for (const auto& a : m.attachments) {
      if (a.kind == "image") return true;
    }
  }
  return false;
}

std::string vision_refusal(const protocol::ModelList& list, std::string_view model) {
  const protocol::ModelInfo* info = nullptr;
  for (const auto& m : list.models) {
    if (m.id == model) info = &m;
  }
  auto vision = [](const protocol::ModelInfo& m) {
    return std::find(m.capabilities.begin(), m.capabilities.end(), "vision") !=
           m.capabilities.end();
  };
  if (info == nullptr || vision(*info)) return {};
  std::string names;
  for (const auto& m : list.models) {
    if (!vision(m)) continue;
    if (!names.empty()) names += ", ";
    names += m.id;
  }
  return "The model '" + std::string(model) +
         "' does not accept images. Models that do: " + (names.empty() ? "none" : names) + ".";
}

}  // namespace qp::frontend::attachments
