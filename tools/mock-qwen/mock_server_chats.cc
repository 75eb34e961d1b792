// Chat list/detail/delete, STS token and the fake OSS sink of MockServer.
#include <string>

#include "common/json/writer.h"
#include "tools/mock-qwen/envelopes.h"
#include "tools/mock-qwen/http_util.h"
#include "tools/mock-qwen/mock_server.h"
#include "tools/mock-qwen/requests.h"
#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {
namespace {

constexpr size_t kOssMaxBytes = 64 * 1024 * 1024;  // the fake OSS keeps at most this much
constexpr int kChatPageSize = 20;

std::string sanitize_filename(std::string_view name) {
  std::string out;
  for (char c : utf8_prefix(name, 128)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? std::string("file") : out;
}

void append_message_json(json::Writer& w, const Message& m) {
  w.begin_object();
  w.field("id", m.id);
  if (m.parent_id.empty()) {
    w.field_null("parentId");
  } else {
    w.field("parentId", m.parent_id);
  }
  w.key("childrenIds").begin_array();
  for (const auto& c : m.children) w.value(c);
  w.end_array();
  w.field("role", m.role);
  w.field("content", m.content);
  w.key("models").begin_array().value(m.model).end_array();
  w.field("timestamp", m.timestamp_s);
  w.end_object();
}

}  // namespace

void MockServer::handle_chat_list(http::Exchange& ex) {
  Caller caller;
  if (!identify(ex, &caller)) return;
  int page = static_cast<int>(parse_u64(ex.request().query_param("page"), 1));
  std::string body;
  json::Writer w(&body);
  w.begin_object().field("success", true).key("data").begin_array();
  for (const Chat* c : chats_.list(caller.owner, page, kChatPageSize)) {
    w.begin_object();
    w.field("id", c->id).field("title", c->title);
    w.field("updated_at", c->updated_at_s).field("created_at", c->created_at_s);
    w.field("chat_type", c->chat_type);
    w.end_object();
  }
  w.end_array().end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void MockServer::handle_chat_get(http::Exchange& ex, std::string_view chat_id) {
  Caller caller;
  if (!identify(ex, &caller)) return;
  const Chat* c = chats_.find(chat_id, caller.owner);
  if (c == nullptr) {
    ex.respond(200, json_headers(),
               error_envelope(ids_.uuid(), kBadRequest, unknown_chat_details(chat_id)));
    return;
  }
  std::string body;
  json::Writer w(&body);
  w.begin_object().field("success", true).key("data").begin_object();
  w.field("id", c->id).field("title", c->title).field("chat_type", c->chat_type);
  w.field("created_at", c->created_at_s).field("updated_at", c->updated_at_s);
  w.field("currentId", c->current_id);
  w.key("chat").begin_object();
  w.key("models").begin_array().value(c->model).end_array();
  w.key("history").begin_object();
  w.key("messages").begin_object();
  for (const auto& [id, msg] : c->messages) {
    w.key(id);
    append_message_json(w, msg);
  }
  w.end_object();
  w.field("currentId", c->current_id);
  w.end_object();  // history
  w.end_object();  // chat
  w.end_object().end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void MockServer::handle_chat_delete(http::Exchange& ex, std::string_view chat_id) {
  Caller caller;
  if (!identify(ex, &caller)) return;
  if (chats_.find(chat_id, caller.owner) == nullptr) {
    ex.respond(200, json_headers(),
               error_envelope(ids_.uuid(), kBadRequest, unknown_chat_details(chat_id)));
    return;
  }
  runner_.stop_chat(chat_id);
  (void)chats_.erase(chat_id, caller.owner);
  ex.respond(200, json_headers(), R"({"success":true,"data":{"status":true}})");
}

void MockServer::handle_sts(http::Exchange& ex) {
  const http::Request& req = ex.request();
  Caller caller;
  if (!identify(ex, &caller)) return;
  std::string rid = ids_.uuid();
  auto parsed = parse_sts_request(req.body);
  if (!parsed.has_value()) {
    ex.respond(200, json_headers(), error_envelope(rid, kBadRequest, parsed.error().message()));
    return;
  }
  std::string file_id = ids_.uuid();
  std::string file_path = caller.owner + "/" + file_id + "_" + sanitize_filename(parsed->filename);
  std::string host = options_.host == "0.0.0.0" ? "127.0.0.1" : options_.host;
  std::string base = "http://" + host + ":" + std::to_string(port());
  std::string body;
  json::Writer w(&body);
  // Flat form (spec 2.6 [MOCK DECISION]); every credential is a fixed fake.
  w.begin_object();
  w.field("access_key_id", "STS.mockAccessKeyId");
  w.field("access_key_secret", "mockAccessKeySecret");
  w.field("security_token", "CAISmockSecurityToken");
  w.field("file_url", base + "/" + file_path);
  w.field("file_path", file_path);
  w.field("file_id", file_id);
  w.field("bucketname", "qwen-webui-prod");
  w.field("region", "oss-accelerate");
  w.end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void MockServer::handle_oss(http::Exchange& ex) {
  const http::Request& req = ex.request();
  std::string key = req.path;
  while (key.size() > 1 && key.front() == '/') key.erase(0, 1);
  if (req.method == "PUT") {
    auto it = oss_objects_.find(key);
    if (it != oss_objects_.end()) {
      oss_bytes_ -= it->second.size();
      oss_objects_.erase(it);
    }
    if (oss_bytes_ + req.body.size() <= kOssMaxBytes) {
      oss_bytes_ += req.body.size();
      oss_objects_[key] = req.body;
    }
    ex.respond(200, {{"etag", "\"mock-etag\""}, {"x-oss-request-id", ids_.uuid()}}, "");
    return;
  }
  auto it = oss_objects_.find(key);
  if (it == oss_objects_.end()) {
    ex.respond(404, json_headers(), R"({"detail":"Not Found"})");
    return;
  }
  ex.respond(200, {{"content-type", "application/octet-stream"}}, it->second);
}

}  // namespace qp::mock
