#include "tools/mock-qwen/media.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <simdjson.h>

#include "common/json/writer.h"
#include "tools/mock-qwen/envelopes.h"
#include "tools/mock-qwen/http_util.h"
#include "tools/mock-qwen/sse_events.h"

namespace qp::mock {
namespace {

uint32_t crc32(std::string_view a, std::string_view b = {}) {
  uint32_t c = 0xFFFFFFFFu;
  for (std::string_view s : {a, b}) {
    for (unsigned char ch : s) {
      c ^= ch;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
  }
  return c ^ 0xFFFFFFFFu;
}

void put32(std::string* out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out->push_back(static_cast<char>((v >> s) & 0xFF));
}

void chunk(std::string* out, std::string_view type, std::string_view data) {
  put32(out, static_cast<uint32_t>(data.size()));
  out->append(type);
  out->append(data);
  put32(out, crc32(type, data));
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

}  // namespace

std::string mock_png(uint32_t width, uint32_t height) {
  width = std::clamp<uint32_t>(width, 1, 64);
  height = std::clamp<uint32_t>(height, 1, 64);
  std::string raw;  // filter byte 0, then RGB, per row: a gradient
  for (uint32_t y = 0; y < height; ++y) {
    raw.push_back(0);
    for (uint32_t x = 0; x < width; ++x) {
      raw.push_back(static_cast<char>(x * 255 / width));
      raw.push_back(static_cast<char>(y * 255 / height));
      raw.push_back(static_cast<char>(0x80));
    }
  }
  // zlib stream: header, one stored block (raw < 64 KiB), Adler-32.
  std::string z = "\x78\x01";
  z.push_back(1);  // BFINAL, stored
  uint16_t len = static_cast<uint16_t>(raw.size());
  z.push_back(static_cast<char>(len & 0xFF));
  z.push_back(static_cast<char>(len >> 8));
  z.push_back(static_cast<char>(~len & 0xFF));
  z.push_back(static_cast<char>((~len >> 8) & 0xFF));
  z.append(raw);
  uint32_t a = 1, b = 0;
  for (unsigned char ch : raw) {
    a = (a + ch) % 65521;
    b = (b + a) % 65521;
  }
  put32(&z, (b << 16) | a);
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put32(&ihdr, width);
  put32(&ihdr, height);
  ihdr.append("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  chunk(&png, "IHDR", ihdr);
  chunk(&png, "IDAT", z);
  chunk(&png, "IEND", {});
  return png;
}

void mock_png_dims(std::string_view size, uint32_t* w, uint32_t* h) {
  *w = 8;
  *h = 8;
  struct Dims {
    std::string_view size;
    uint32_t w, h;
  };
  for (Dims d : {Dims{"16:9", 16, 9}, Dims{"9:16", 9, 16}, Dims{"4:3", 8, 6}, Dims{"3:4", 6, 8}}) {
    if (size == d.size) {
      *w = d.w;
      *h = d.h;
    }
  }
}

std::string completion_size(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view s;
  if (parser.parse(body.data(), body.size()).get(root) || root["size"].get(s)) return {};
  return std::string(s.substr(0, 32));
}

std::string MediaMock::base_url(const http::Exchange& ex) const {
  const std::string* host = ex.request().header("host");
  return "http://" + (host != nullptr ? *host : std::string("127.0.0.1"));
}

void MediaMock::respond(http::Exchange& ex, const MediaCompletion& c, int64_t now_ms) {
  ++seq_;
  const std::string rid = ids_->uuid();
  const std::string expiry = "?Expires=" + std::to_string(now_ms / 1000 + 86400) +
                             "&OSSAccessKeyId=LTAImock&Signature=mock%2Bsignature%3D";
  if (c.chat_type == "t2v") {
    std::string task_id = ids_->uuid();
    Task t{c.owner, base_url(ex) + "/cdn/mock-media/vid-" + std::to_string(seq_) + ".mp4" + expiry,
           now_ms + c.video_duration_ms};
    tasks_[task_id] = std::move(t);
    task_order_.push_back(task_id);
    while (task_order_.size() > kMaxTasks) {
      tasks_.erase(task_order_.front());
      task_order_.pop_front();
    }
    std::string data;
    json::Writer w(&data);
    w.begin_object();
    w.field("chat_id", c.chat_id).field("parent_id", c.user_message_id);
    w.field("message_id", c.response_id);
    w.key("messages").begin_array().begin_object();
    w.field("role", "assistant").field("content", "");
    w.key("extra").begin_object().key("wanx").begin_object().field("task_id", task_id);
    w.end_object().end_object();
    w.end_object().end_array();
    w.end_object();
    ex.respond(200, json_headers(), ok_envelope(rid, data));
    return;
  }
  uint32_t width = 0, height = 0;
  mock_png_dims(c.size, &width, &height);
  std::string source;
  if (c.chat_type == "image_edit") {
    if (c.size.empty() && c.source_width > 0 && c.source_height > 0) {
      width = std::clamp<uint32_t>(c.source_width, 1, 64);
      height = std::clamp<uint32_t>(c.source_height, 1, 64);
    }
    source = "&source=";
    for (size_t i = 0; i < c.sources.size(); ++i) {
      if (i > 0) source += ',';
      source += percent_encode(c.sources[i]);
    }
  }
  const std::string url = base_url(ex) + "/cdn/mock-media/img-" + std::to_string(seq_) + "-" +
                          std::to_string(width) + "x" + std::to_string(height) + ".png" + expiry +
                          source;
  EventStyle style;
  std::string head;
  append_created(&head, c.chat_id, c.user_message_id, c.response_id);
  Usage usage{12, 0};
  append_phase_delta(&head, "", "image_gen", "typing", "", &usage, style);
  ex.start_stream(200, {{"content-type", "text/event-stream"}, {"cache-control", "no-cache"}});
  ex.write(std::move(head));
  auto rest = [ex, url, width, height, usage, style]() mutable {
    if (!ex.alive()) return;
    std::string out;
    std::string extra;
    json::Writer w(&extra);
    w.begin_object().key("image_list").begin_array().begin_object();
    w.field("image", url).field("width", static_cast<int64_t>(width));
    w.field("height", static_cast<int64_t>(height));
    w.end_object().end_array().end_object();
    usage.output_tokens = 1;
    append_phase_delta(&out, url, "image_gen", "typing", extra, &usage, style);
    append_phase_delta(&out, "", "image_gen", "finished", "", nullptr, style);
    append_finished(&out, style);
    ex.write(std::move(out));
    ex.end();
  };
  delays_->after(c.image_delay_ms, std::move(rest));
}

void MediaMock::task_status(http::Exchange& ex, std::string_view task_id, const std::string& owner,
                            int64_t now_ms) {
  auto it = tasks_.find(std::string(task_id));
  const std::string rid = ids_->uuid();
  if (it == tasks_.end() || it->second.owner != owner) {
    ex.respond(200, json_headers(), error_envelope(rid, "Not_Found", "Task not found"));
    return;
  }
  bool done = now_ms >= it->second.ready_ms;
  std::string data;
  json::Writer w(&data);
  w.begin_object().field("task_id", task_id);
  w.field("task_status", done ? "success" : "running");
  if (done) w.field("content", it->second.url);
  w.end_object();
  ex.respond(200, json_headers(), ok_envelope(rid, data));
}

void MediaMock::serve_file(http::Exchange& ex, std::string_view file) {
  size_t q = file.find('?');
  if (q != std::string_view::npos) file = file.substr(0, q);
  if (file.substr(0, 4) == "vid-" && file.size() > 8 && file.substr(file.size() - 4) == ".mp4") {
    ex.respond(200, {{"content-type", "video/mp4"}},
               std::string("\0\0\0\x18"
                           "ftypmp42mock",
                           16));
    return;
  }
  // img-<n>-<W>x<H>.png
  size_t dash = file.rfind('-');
  size_t x = file.rfind('x');
  if (file.substr(0, 4) == "img-" && dash != std::string_view::npos &&
      x != std::string_view::npos && x > dash && file.size() > 4 &&
      file.substr(file.size() - 4) == ".png") {
    uint32_t w = 0, h = 0;
    std::string_view ws = file.substr(dash + 1, x - dash - 1);
    std::string_view hs = file.substr(x + 1, file.size() - 4 - x - 1);
    auto r1 = std::from_chars(ws.data(), ws.data() + ws.size(), w);
    auto r2 = std::from_chars(hs.data(), hs.data() + hs.size(), h);
    if (r1.ec == std::errc() && r2.ec == std::errc() && w >= 1 && w <= 64 && h >= 1 && h <= 64) {
      ex.respond(200, {{"content-type", "image/png"}}, mock_png(w, h));
      return;
    }
  }
  ex.respond(404, json_headers(), R"({"detail":"Not Found"})");
}

}  // namespace qp::mock
