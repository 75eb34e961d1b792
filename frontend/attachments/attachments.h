// Images and files in requests (docs/api.md, "Images and files"): turns what a
// content part carried (a data: URL, base64 data or an http(s) URL) into a
// protocol::Attachment, enforcing the [attachments] limits, and checks that a
// model can see images. Shared by the OpenAI chat, Anthropic Messages and
// Responses parsers; each wraps the failure in its own error shape. Pure: no
// I/O.
//
// The type is sniffed from the decoded bytes (common/media), never taken
// from the client's label: a label that disagrees is ignored, bytes of a
// type outside attachments.types are refused. An http(s) URL is passed to
// Qwen as it is (as the site does), unchecked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/protocol/messages.h"

namespace qp::frontend::attachments {

// What one content part carried. Views into the parser's buffers.
struct MediaInput {
  bool image = true;               // an image part; false: a file/document part
  std::string_view url;            // a data: or http(s) URL; empty if base64 is set
  std::string_view base64;         // base64 data (file_data, source.data)
  std::string_view raw;            // the bytes themselves (Anthropic text documents)
  std::string_view filename;       // optional
  std::string_view declared_mime;  // the client's label (only logged in messages)
};

// Why a part was refused: a client-facing message and an OpenAI-style code
// (invalid_image, image_too_large, too_many_images, unsupported_file_type…).
struct Refusal {
  std::string message;
  std::string code;
};

// Builds attachments for one request, counting them against the limits.
class Builder {
 public:
  explicit Builder(const AttachmentsConfig& config) : config_(config) {}
  // false with *why filled when the part is refused.
  bool add(const MediaInput& in, protocol::Attachment* out, Refusal* why);
  uint64_t images() const { return images_; }

 private:
  bool accepted(std::string_view mime) const;
  const AttachmentsConfig& config_;
  uint64_t images_ = 0;
  uint64_t files_ = 0;
};

// The default limits, for parsers not given a configuration.
const AttachmentsConfig& default_config();

// True if any message of the job carries an image.
bool has_images(const protocol::JobRequest& job);

// The 400 message for an image sent to a model without vision, naming the
// models of `list` that have it (capability "vision"); empty if `model` is
// unknown or has vision. Model variants (-thinking…) are judged by their
// own entry.
std::string vision_refusal(const protocol::ModelList& list, std::string_view model);
inline constexpr std::string_view kNotVisionCode = "model_not_vision_capable";

}  // namespace qp::frontend::attachments
