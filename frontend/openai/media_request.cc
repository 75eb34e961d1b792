#include "frontend/openai/media_request.h"

#include <charconv>

#include <simdjson.h>

#include "common/protocol/messages.h"
#include "frontend/openai/json_fields.h"

namespace qp::frontend {
namespace {

using fields::Ctx;
using fields::value;

constexpr std::string_view kRatios[] = {"1:1", "16:9", "9:16", "4:3", "3:4"};

bool parse_dims(std::string_view s, uint64_t* w, uint64_t* h) {
  size_t x = s.find('x');
  if (x == std::string_view::npos) return false;
  auto num = [](std::string_view t, uint64_t* out) {
    if (t.empty() || t.size() > 6) return false;
    auto r = std::from_chars(t.data(), t.data() + t.size(), *out);
    return r.ec == std::errc() && r.ptr == t.data() + t.size() && *out > 0;
  };
  return num(s.substr(0, x), w) && num(s.substr(x + 1), h);
}

bool parse_common(std::string_view body, MediaRequest* out, ApiError* err, bool video) {
  Ctx c{err};
  *out = MediaRequest{};
  std::string padded(body);
  padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  auto malformed = [&] {
    return c.fail("",
                  "We could not parse the JSON body of your request. (HINT: This likely means "
                  "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                  "payload, but what was sent was not valid JSON.)");
  };
  if (parser.iterate(padded.data(), body.size(), padded.size()).get(doc)) return malformed();
  simdjson::ondemand::object root;
  if (doc.get_object().get(root)) return malformed();
  bool has_prompt = false;
  std::string size;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed();
    value v = field.value();
    if (fields::is_null(v)) continue;
    if (key == "prompt") {
      if (!fields::get_string(c, v, "prompt", &out->prompt)) return false;
      has_prompt = true;
    } else if (key == "model") {
      if (!fields::get_string(c, v, "model", &out->model)) return false;
    } else if (key == "size") {
      if (!fields::get_string(c, v, "size", &size)) return false;
    } else if (key == "user") {
      if (!fields::get_string(c, v, "user", &out->user)) return false;
    } else if (!video && key == "n") {
      int64_t n = 0;
      if (!fields::get_int(c, v, "n", &n)) return false;
      if (n < 1 || n > protocol::kMaxImagesPerJob)
        return c.fail("n", "Invalid 'n': must be between 1 and " +
                               std::to_string(protocol::kMaxImagesPerJob) +
                               " (Qwen generates one image per request; the gateway runs "
                               "at most that many).");
      out->n = static_cast<int32_t>(n);
    } else if (!video && key == "response_format") {
      if (!fields::get_string(c, v, "response_format", &out->response_format)) return false;
      if (out->response_format != "url" && out->response_format != "b64_json")
        return c.fail("response_format", "Invalid value: '" + out->response_format +
                                             "'. Supported values are: 'url' and 'b64_json'.");
    } else if (!video && key == "stream") {
      bool stream = false;
      if (!fields::get_bool(c, v, "stream", &stream)) return false;
      if (stream)
        return c.fail("stream",
                      "Streaming image generation (partial images) is not supported: Qwen "
                      "sends the finished image only. Leave 'stream' unset.");
    } else if (video && key == "stream") {
      if (!fields::get_bool(c, v, "stream", &out->stream)) return false;
    }  // everything else (quality, style, seconds, ...) is ignored: Qwen decides
  }
  if (!has_prompt) return c.missing("prompt");
  if (out->prompt.empty())
    return c.fail("prompt", "Invalid 'prompt': empty string. Expected a non-empty prompt.");
  if (out->prompt.size() > kMaxMediaPromptBytes)
    return c.fail("prompt",
                  "Invalid 'prompt': string too long. Expected a string with maximum "
                  "length " +
                      std::to_string(kMaxMediaPromptBytes) + ".");
  if (size.empty()) {
    out->size = "1:1";
  } else if (auto r = qwen_aspect_ratio(size)) {
    out->size = std::string(*r);
  } else {
    return c.fail("size", "Invalid value: '" + size.substr(0, 64) +
                              "'. Supported values are: '1:1', '16:9', '9:16', '4:3', '3:4' "
                              "(Qwen's aspect ratios), or a 'WxH' size of one of them (e.g. "
                              "'1024x1024', '1280x720', '720x1280', '1792x1024', '1024x1792', "
                              "'1536x1024', '1024x1536').");
  }
  if (out->response_format.empty()) out->response_format = "url";
  return true;
}

}  // namespace

std::optional<std::string_view> qwen_aspect_ratio(std::string_view size) {
  for (auto r : kRatios) {
    if (size == r) return r;
  }
  if (size == "auto") return kRatios[0];
  if (size == "1792x1024") return kRatios[1];
  if (size == "1024x1792") return kRatios[2];
  if (size == "1536x1024") return kRatios[3];
  if (size == "1024x1536") return kRatios[4];
  uint64_t w = 0, h = 0;
  if (!parse_dims(size, &w, &h)) return std::nullopt;
  constexpr uint64_t kRw[] = {1, 16, 9, 4, 3}, kRh[] = {1, 9, 16, 3, 4};
  for (size_t i = 0; i < 5; ++i) {
    if (w * kRh[i] == h * kRw[i]) return kRatios[i];
  }
  return std::nullopt;
}

bool parse_image_request(std::string_view body, MediaRequest* out, ApiError* err) {
  return parse_common(body, out, err, false);
}

bool parse_video_request(std::string_view body, MediaRequest* out, ApiError* err) {
  return parse_common(body, out, err, true);
}

}  // namespace qp::frontend
