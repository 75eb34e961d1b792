// Chat list/detail/delete of MockServer (STS and OSS: sts.cc).
#include <string>

#include "common/json/writer.h"
#include "tools/mock-qwen/envelopes.h"
#include "tools/mock-qwen/http_util.h"
#include "tools/mock-qwen/mock_server.h"
#include "tools/mock-qwen/requests.h"
#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {
namespace {

constexpr int kChatPageSize = 20;

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

}  // namespace qp::mock
