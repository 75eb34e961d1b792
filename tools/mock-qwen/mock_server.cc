#include "tools/mock-qwen/mock_server.h"

#include <exception>

#include "common/json/writer.h"
#include "common/log.h"
#include "common/media/media.h"
#include "common/uv/handle.h"
#include "tools/mock-qwen/answer_stream.h"
#include "tools/mock-qwen/auth.h"
#include "tools/mock-qwen/envelopes.h"
#include "tools/mock-qwen/http_util.h"
#include "tools/mock-qwen/jwt.h"
#include "tools/mock-qwen/requests.h"
#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {

MockServer::MockServer(uv_loop_t* loop, MockOptions options)
    : loop_(loop),
      options_(std::move(options)),
      initial_config_(options_.config),
      initial_rules_(options_.rules),
      config_(options_.config),
      rules_(options_.rules),
      chats_(options_.max_chats),
      models_(ModelCatalog::builtin()),
      delays_(loop),
      runner_(loop, [this](const StreamJob& job, StreamOutcome outcome) {
        on_stream_done(job, outcome);
      }) {
  state_.set_max_records(static_cast<size_t>(config_.max_records));
  http::ServerOptions so;
  so.host = options_.host;
  so.port = options_.port;
  so.max_connections = options_.max_connections;
  so.max_body_bytes = 32 * 1024 * 1024;
  so.backlog = 4096;  // benchmarks open thousands of connections at once
  so.default_headers = {{"server", "mock-qwen"}};
  server_ = std::make_unique<http::Server>(loop_, std::move(so),
                                           [this](http::Exchange ex) { handle(ex); });
}

MockServer::~MockServer() { close(); }

qp::Status MockServer::listen() { return server_->listen(); }

void MockServer::close() {
  if (closed_) return;
  closed_ = true;
  server_->close();  // in-flight streams get on_abort -> recorded as aborted
  runner_.shutdown();
  delays_.clear();
}

void MockServer::handle(http::Exchange ex) {
  try {
    route(ex);
  } catch (const std::exception& e) {
    QP_ERROR("mock.handler_failed").kv("error", e.what());
    ex.respond(500, json_headers(), admin_error("internal mock error"));
  } catch (...) {
    QP_ERROR("mock.handler_failed").kv("error", "unknown exception");
    ex.respond(500, json_headers(), admin_error("internal mock error"));
  }
}

void MockServer::route(http::Exchange& ex) {
  const http::Request& req = ex.request();
  std::string_view m = req.method;
  std::string_view p = req.path;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  QP_DEBUG("mock.request").kv("method", m).kv("path", p);

  auto method_is = [&](std::string_view want) {
    if (m == want) return true;
    ex.respond(405, json_headers(), admin_error("Method Not Allowed"));
    return false;
  };

  if (starts_with(p, "/__mock/")) {
    handle_admin(ex, p.substr(8));
    return;
  }
  if (p == "/api/models" || p == "/api/v2/models") {
    if (method_is("GET")) handle_models(ex);
    return;
  }
  if (p == "/api/v1/auths/signin") {
    if (method_is("POST")) handle_signin(ex);
    return;
  }
  if (p == "/api/v1/auths") {
    if (method_is("GET")) handle_auths(ex);
    return;
  }
  if (p == "/api/v2/chats/new") {
    if (method_is("POST")) handle_chats_new(ex);
    return;
  }
  if (p == "/api/v2/chat/completions") {
    if (method_is("POST")) handle_completions(ex);
    return;
  }
  if (p == "/api/v2/chat/completions/stop") {
    if (method_is("POST")) handle_stop(ex);
    return;
  }
  if (p == "/api/v2/chats") {
    if (method_is("GET")) handle_chat_list(ex);
    return;
  }
  if (starts_with(p, "/api/v2/chats/")) {
    std::string id(p.substr(14));
    if (m == "GET") {
      handle_chat_get(ex, id);
    } else if (method_is("DELETE")) {
      handle_chat_delete(ex, id);
    }
    return;
  }
  if (p == "/api/v1/files/getstsToken" || p == "/api/v2/files/getstsToken") {
    if (method_is("POST")) handle_sts(ex);
    return;
  }
  if (p == "/api/v2/files/parse") {
    if (method_is("POST")) handle_file_parse(ex);
    return;
  }
  if (p == "/api/v2/files/parse/status") {
    if (method_is("POST")) handle_file_parse_status(ex);
    return;
  }
  if (p == "/api/v2/configs" || p == "/api/v2/configs/setting-config" ||
      p == "/api/v2/users/status" || p == "/api/v2/tts/config") {
    // Guest warm-up endpoints.
    ex.respond(200, json_headers(), R"({"success":true,"data":{}})");
    return;
  }
  if (starts_with(p, "/api/v1/tasks/status/")) {  // video tasks (media.h)
    Caller caller;
    if (method_is("GET") && identify(ex, &caller))
      media_.task_status(ex, p.substr(21), caller.owner, uv::now_unix_ms());
    return;
  }
  if (starts_with(p, "/cdn/mock-media/")) {  // generated media (media.h)
    if (method_is("GET")) media_.serve_file(ex, p.substr(16));
    return;
  }
  if (!starts_with(p, "/api/") && (m == "PUT" || m == "GET")) {
    handle_oss(ex);
    return;
  }
  ex.respond(404, json_headers(), R"({"detail":"Not Found"})");
}

bool MockServer::identify(http::Exchange& ex, Caller* caller) {
  const http::Request& req = ex.request();
  AuthInfo auth = authenticate(req.headers, options_.jwt_secret, now_s());
  if (auth.kind == AuthInfo::Kind::kInvalid) {
    QP_DEBUG("mock.auth_rejected").kv("reason", auth.error);
    ex.respond(401, json_headers(), error_envelope(ids_.uuid(), kUnauthorizedCode, kTokenExpired));
    return false;
  }
  if (auth.kind == AuthInfo::Kind::kUser) {
    caller->guest = false;
    caller->owner = std::move(auth.user_id);
  } else {
    caller->guest = true;
    caller->owner = guest_owner_id(header_value(req, "bx-umidtoken"));
  }
  return true;
}

std::pair<std::string, std::string> MockServer::respond_fault(http::Exchange& ex,
                                                              const Fault& fault,
                                                              std::string_view request_id) {
  switch (fault.kind) {
    case FaultKind::kRateLimited:
      ex.respond(200, json_headers(), rate_limited_envelope(request_id, fault.num));
      return {std::string(kRateLimitedCode), std::string(kQuotaDetails)};
    case FaultKind::kWafJson:
      ex.respond(200, json_headers(), waf_punish_json(ex.request().path));
      return {"waf", "FAIL_SYS_USER_VALIDATE"};
    case FaultKind::kWafHtml:
      ex.respond(403, html_headers(), waf_html_page());
      return {"waf", "html challenge"};
    case FaultKind::kUnauthorized:
      ex.respond(401, json_headers(), error_envelope(request_id, kUnauthorizedCode, kTokenExpired));
      return {std::string(kUnauthorizedCode), std::string(kTokenExpired)};
    case FaultKind::kChatInProgress:
      ex.respond(200, json_headers(),
                 error_envelope(request_id, kBadRequest, kChatInProgressDetails));
      return {std::string(kBadRequest), std::string(kChatInProgressDetails)};
    case FaultKind::kModeration:
      ex.respond(200, json_headers(), error_envelope(request_id, kBadRequest, kModerationDetails));
      return {std::string(kBadRequest), std::string(kModerationDetails)};
    case FaultKind::kInternalError:
    default:
      ex.respond(200, json_headers(),
                 error_envelope(request_id, kBadRequest, kInternalErrorDetails));
      return {std::string(kBadRequest), std::string(kInternalErrorDetails)};
  }
}

bool MockServer::quota_exceeded(const std::string& owner, bool guest) const {
  int64_t limit = guest ? config_.guest_quota : config_.user_quota;
  if (limit < 0) return false;
  auto it = quota_used_.find(owner);
  int64_t used = it == quota_used_.end() ? 0 : it->second;
  return used >= limit;
}

// ---------------------------------------------------------------- upstream API

void MockServer::handle_models(http::Exchange& ex) {
  ex.respond(200, json_headers(), models_.json());
}

void MockServer::handle_signin(http::Exchange& ex) {
  const http::Request& req = ex.request();
  auto parsed = parse_signin_request(req.body);
  // Open-WebUI-style failure body (invented: no source records it).
  static constexpr std::string_view kBadLogin =
      R"({"detail":"The email or password you entered is incorrect."})";
  if (!parsed.has_value()) {
    ex.respond(400, json_headers(), admin_error(parsed.error().message()));
    return;
  }
  const User* user = options_.users.signin(parsed->email, parsed->password);
  if (user == nullptr) {
    ex.respond(400, json_headers(), std::string(kBadLogin));
    return;
  }
  ++state_.counters.signins;
  int64_t exp = now_s() + options_.token_ttl_s;
  std::string token = mint_jwt(options_.jwt_secret, user->id, exp);
  std::string body;
  json::Writer w(&body);
  w.begin_object();
  w.field("id", user->id).field("email", user->email).field("name", user->name);
  w.field("role", "user").field("token", token).field("token_type", "Bearer");
  w.field("expires_at", exp);
  w.end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void MockServer::handle_auths(http::Exchange& ex) {
  Caller caller;
  if (!identify(ex, &caller)) return;
  if (caller.guest) {
    ex.respond(401, json_headers(), error_envelope(ids_.uuid(), kUnauthorizedCode, kTokenExpired));
    return;
  }
  const User* user = options_.users.find(caller.owner);
  // Re-issue a token for the same user, as GET /api/v1/auths/ does with a cookie session.
  std::string token = mint_jwt(options_.jwt_secret, caller.owner, now_s() + options_.token_ttl_s);
  std::string body;
  json::Writer w(&body);
  w.begin_object();
  w.field("id", caller.owner);
  w.field("email", user != nullptr ? user->email : std::string());
  w.field("name", user != nullptr ? user->name : caller.owner);
  w.field("role", "user").field("token", token).field("token_type", "Bearer");
  w.end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void MockServer::handle_chats_new(http::Exchange& ex) {
  const http::Request& req = ex.request();
  Caller caller;
  if (!identify(ex, &caller)) return;
  std::string rid = ids_.uuid();
  FaultHits hits = faults_.fire(FaultEndpoint::kChatsNew, caller.owner, false);
  if (hits.reject) {
    respond_fault(ex, *hits.reject, rid);
    return;
  }
  if (!is_json_request(req)) {
    ex.respond(
        200, json_headers(),
        error_envelope(rid, kBadRequest, "Invalid Content-Type, expected application/json."));
    return;
  }
  auto parsed = parse_new_chat_request(req.body);
  if (!parsed.has_value()) {
    ex.respond(200, json_headers(), error_envelope(rid, kBadRequest, parsed.error().message()));
    return;
  }
  if (caller.guest) {
    if (parsed->chat_mode != "guest") {
      ex.respond(401, json_headers(), error_envelope(rid, kUnauthorizedCode, kTokenExpired));
      return;
    }
    if (config_.strict_guest && req.header("bx-umidtoken") == nullptr) {
      ex.respond(403, html_headers(), waf_html_page());
      return;
    }
  }
  if (!parsed->model.empty() && models_.find(parsed->model) == nullptr) {
    ex.respond(200, json_headers(),
               error_envelope(rid, kBadRequest, unknown_model_details(parsed->model)));
    return;
  }
  std::string id = ids_.uuid();
  chats_.create(id, caller.owner, parsed->title, parsed->model, parsed->chat_type, now_s());
  ++state_.counters.chats_created;
  std::string data;
  json::Writer(&data).begin_object().field("id", id).end_object();
  std::string body = ok_envelope(rid, data);
  if (config_.chats_new_delay_ms > 0) {
    delays_.after(config_.chats_new_delay_ms, [ex, body = std::move(body)]() mutable {
      http::Exchange e = ex;
      e.respond(200, json_headers(), std::move(body));
    });
    return;
  }
  ex.respond(200, json_headers(), std::move(body));
}

}  // namespace qp::mock
