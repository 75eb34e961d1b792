#include "worker/media_requests.h"

#include <simdjson.h>

#include "common/json/writer.h"
#include "common/strings.h"
#include "worker/qwen_requests.h"

namespace qp::worker {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string_view str(element e, const char* key) {
  std::string_view v;
  if (e.is_object() && !e[key].get(v)) return v;
  return {};
}

bool is_url(std::string_view s) {
  return s.substr(0, 8) == "https://" || s.substr(0, 7) == "http://";
}

bool find_task_id(element e, int depth, std::string* out) {
  if (depth > 8) return false;
  if (e.is_object()) {
    for (auto kv : object(e)) {
      std::string_view s;
      if (kv.key == "task_id" && !kv.value.get(s) && !s.empty()) {
        *out = std::string(s);
        return true;
      }
    }
    for (auto kv : object(e)) {
      if (find_task_id(kv.value, depth + 1, out)) return true;
    }
  } else if (e.is_array()) {
    for (element x : array(e)) {
      if (find_task_id(x, depth + 1, out)) return true;
    }
  }
  return false;
}

}  // namespace

std::string media_completion_body(const MediaParams& p) {
  const bool video = p.chat_type == "t2v";
  std::string out;
  out.reserve(p.prompt.size() + 768);
  json::Writer w(&out);
  w.begin_object();
  w.field("stream", !video);  // GO: t2v is a task, asked for with stream:false
  w.field("version", kCompletionVersion);
  w.field("incremental_output", true);
  w.field("chat_id", p.chat_id);
  w.field("chat_mode", "normal");
  w.field("model", p.model);
  w.field_null("parent_id");
  w.key("messages").begin_array().begin_object();
  w.field("fid", p.fid);
  w.field_null("parentId");
  w.key("childrenIds").begin_array().value(p.child_id).end_array();
  w.field("role", "user");
  if (p.images != nullptr && !p.images->empty()) {
    w.key("content").begin_array();
    w.begin_object().field("type", "text").field("text", p.prompt).end_object();
    for (const auto& m : *p.images) {
      w.begin_object().field("type", m.type).field(m.type, m.url).end_object();
    }
    w.end_array();
  } else {
    w.field("content", p.prompt);
  }
  w.field("user_action", "chat");
  w.key("files").begin_array().end_array();
  w.field("timestamp", p.timestamp_s);
  w.key("models").begin_array().value(p.model).end_array();
  w.field("chat_type", p.chat_type);
  w.key("feature_config").begin_object();
  w.field("thinking_enabled", false);
  w.field("output_schema", "phase");
  w.end_object();
  w.key("extra")
      .begin_object()
      .key("meta")
      .begin_object()
      .field("subChatType", p.chat_type)
      .end_object()
      .end_object();
  w.field("sub_chat_type", p.chat_type);
  w.field_null("parent_id");
  w.end_object().end_array();
  if (!p.size.empty()) {
    w.field("size", p.size);
  } else if (p.chat_type != "image_edit") {
    w.field("size", "1:1");
  }
  w.field("timestamp", p.timestamp_s);
  w.end_object();
  return out;
}

MediaEvent parse_media_event(std::string_view data) {
  MediaEvent ev;
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(data.data(), data.size()).get(root) || !root.is_object()) return ev;
  element err;
  if (!root["error"].get(err) && !err.is_null()) {
    ev.error = true;
    return ev;
  }
  array choices;
  if (root["choices"].get(choices) || choices.size() == 0) return ev;
  element delta;
  if (choices.at(0)["delta"].get(delta) || !delta.is_object()) return ev;
  std::string_view phase = str(delta, "phase");
  std::string_view status = str(delta, "status");
  std::string_view content = str(delta, "content");
  element extra;
  bool has_extra = !delta["extra"].get(extra) && extra.is_object();
  if (has_extra) {
    array images;
    if (!extra["image_list"].get(images)) {
      for (element img : images) {
        std::string_view url = str(img, "image");
        if (url.empty()) url = str(img, "url");
        if (is_url(url)) ev.urls.emplace_back(url);
      }
    }
    element wanx;
    if (!extra["wanx"].get(wanx)) {
      std::string_view id = str(wanx, "task_id");
      if (!id.empty()) ev.task_id = std::string(id);
    }
  }
  // Some sources see the URL as the image_gen delta's text instead.
  if (ev.urls.empty() && phase == "image_gen" && is_url(strings::trim_blanks(content)))
    ev.urls.emplace_back(strings::trim_blanks(content));
  std::string_view role = str(delta, "role");
  ev.finished = status == "finished" && role != "function" && (phase == "answer" || phase.empty());
  return ev;
}

Result<std::string> parse_video_task(std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return error(Code::kUpstream, "Qwen's video task answer is not JSON");
  std::string id;
  if (!find_task_id(root, 0, &id))
    return error(Code::kUpstream, "Qwen's video answer names no task id");
  return id;
}

Result<TaskStatus> parse_task_status(std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  if (parser.parse(body.data(), body.size()).get(root) || !root.is_object())
    return error(Code::kUpstream, "Qwen's task status is not a JSON object");
  element data;
  element where = root;
  if (str(root, "task_status").empty() && str(root, "status").empty() && !root["data"].get(data) &&
      data.is_object())
    where = data;
  std::string_view state = str(where, "task_status");
  if (state.empty()) state = str(where, "status");
  TaskStatus t;
  for (const char* ok : {"success", "succeeded", "completed", "finished"}) {
    if (strings::iequals(state, ok)) t.state = TaskStatus::State::kSucceeded;
  }
  for (const char* bad : {"failed", "fail", "error", "canceled", "cancelled"}) {
    if (strings::iequals(state, bad)) t.state = TaskStatus::State::kFailed;
  }
  if (t.state == TaskStatus::State::kSucceeded) {
    for (const char* k : {"content", "video_url", "url"}) {
      std::string_view u = str(where, k);
      if (is_url(u)) {
        t.url = std::string(u);
        break;
      }
    }
    if (t.url.empty()) {
      t.state = TaskStatus::State::kFailed;
      t.message = "the video task succeeded without a video URL";
    }
  } else if (t.state == TaskStatus::State::kFailed) {
    std::string_view m = str(where, "message");
    if (m.empty()) m = str(where, "details");
    t.message = std::string(m.substr(0, 200));
    if (t.message.empty()) t.message = "the video task failed";
  }
  return t;
}

std::string base64_encode(std::string_view in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t j) { return static_cast<uint32_t>(static_cast<unsigned char>(in[j])); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = b(i) << 16 | b(i + 1) << 8 | b(i + 2);
    out.push_back(k[v >> 18]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(k[(v >> 6) & 63]);
    out.push_back(k[v & 63]);
  }
  if (i < in.size()) {
    uint32_t v = b(i) << 16;
    if (i + 1 < in.size()) v |= b(i + 1) << 8;
    out.push_back(k[v >> 18]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? k[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string media_markdown(std::string_view kind, std::string_view url) {
  std::string out(kind == "video" ? "[video](" : "![image](");
  for (char c : url) {  // characters that would end the link early
    if (c == ' ') {
      out.append("%20");
    } else if (c == '(') {
      out.append("%28");
    } else if (c == ')') {
      out.append("%29");
    } else {
      out.push_back(c);
    }
  }
  out.push_back(')');
  return out;
}

}  // namespace qp::worker
