#include "frontend/frontend_app.h"

#include <chrono>
#include <functional>
#include <memory>

#include "common/ids.h"
#include "common/log.h"
#include "common/model_variants.h"
#include "common/strings.h"
#include "common/uv/callback.h"
#include "common/uv/handle.h"
#include "frontend/anthropic/errors.h"
#include "frontend/anthropic/messages_call.h"
#include "frontend/dashboard/dashboard_assets.h"
#include "frontend/models_fetch.h"

namespace qp::frontend {
namespace {

constexpr uint64_t kSweepIntervalMs = 500;
constexpr std::string_view kChatEndpoint = "/v1/chat/completions";
constexpr std::string_view kMessagesEndpoint = "/v1/messages";
constexpr std::string_view kCountTokensEndpoint = "/v1/messages/count_tokens";
constexpr std::string_view kModelsEndpoint = "/v1/models";
constexpr std::string_view kResponsesEndpoint = "/v1/responses";
constexpr std::string_view kOtherEndpoint = "other";

// A static route name for metrics labels (never the raw path).
std::string_view endpoint_name(std::string_view path) {
  if (path == kChatEndpoint) return kChatEndpoint;
  if (path == kMessagesEndpoint) return kMessagesEndpoint;
  if (path == kCountTokensEndpoint) return kCountTokensEndpoint;
  if (path == kResponsesEndpoint || path.rfind("/v1/responses/", 0) == 0) return kResponsesEndpoint;
  if (path == kModelsEndpoint || path.rfind("/v1/models/", 0) == 0) return kModelsEndpoint;
  for (std::string_view media : {"/v1/images/generations", "/v1/images/edits", "/v1/videos"}) {
    if (path == media) return media;
  }
  if (path.rfind("/v1/videos/", 0) == 0) return "/v1/videos";
  return kOtherEndpoint;
}

int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Routes that answer in Anthropic's shapes (errors included).
bool anthropic_path(std::string_view path) {
  return path == "/v1/messages" || path == "/v1/messages/count_tokens";
}

bool valid_client_request_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  }
  return true;
}

}  // namespace

FrontendApp::FrontendApp(uv_loop_t* loop, Config config)
    : loop_(loop),
      config_(std::move(config)),
      models_(config_.frontend.models_cache_ttl_ms),
      admin_(std::make_unique<admin::AdminApi>(loop, config_)),
      auth_(
          std::make_unique<ClientAuth>(config_.frontend.api_key, [loop] { return uv_now(loop); })) {
  parser_.set_attachments(config_.attachments);
  messages_parser_.set_attachments(config_.attachments);
  responses_parser_.set_attachments(config_.attachments);
  observers_.add(&metrics_);
  metrics_.registry().on_collect([this] {
    metrics_.in_flight().set(static_cast<double>(calls_.size()));
    metrics_.broker_connected().set(broker_ && broker_->connected() ? 1 : 0);
    if (auth_) metrics_.refresh_auth(*auth_);
  });
}

FrontendApp::~FrontendApp() { close_now(); }

Status FrontendApp::start(int listen_fd) {
  broker_ = std::make_unique<BrokerClient>(
      loop_, zmq_ctx_, config_.broker.frontend_endpoint, config_.broker.heartbeat_ms,
      config_.broker.queue_timeout_ms, [this](const std::string& id) { on_job_finished(id); });
  auto link = zmqx::load_peer_link(config_, config_.broker.frontend_endpoint,
                                   "broker.frontend_endpoint", "frontend.curve_secret_key_file",
                                   config_.frontend.curve_secret_key_file);
  if (!link) return link.error();
  broker_->set_link(std::move(*link));
  if (process_index_ >= 0) broker_->set_name("frontend-" + std::to_string(process_index_));
  if (Status s = broker_->start(); !s.ok()) return s;
  response_store_ = responses::ResponseStore::open(
      config_.responses.db_path, config_.responses.ttl_ms, config_.responses.max_entries);
  observers_.add(admin_.get());
  admin_->start({broker_.get(), &models_,
                 [this](const std::function<void(const RequestRecord&)>& fn) {
                   for (const auto& [id, call] : calls_) fn(call->record());
                 },
                 [this](const std::string& id) { return cancel_by_operator(id); }});
  keys_watch_ = std::make_unique<KeysFileWatch>(loop_, config_.frontend.keys_file, auth_.get());
  keys_watch_->start();

  http::ServerOptions opts;
  opts.host = config_.frontend.host;
  opts.port = config_.frontend.port;
  opts.max_body_bytes = config_.frontend.max_body_bytes;
  opts.idle_timeout_ms = config_.frontend.idle_timeout_ms;
  opts.header_timeout_ms = config_.frontend.header_timeout_ms;
  opts.body_timeout_ms = config_.frontend.body_timeout_ms;
  opts.body_min_bytes_per_s = config_.frontend.body_min_bytes_per_s;
  opts.max_connections = static_cast<size_t>(config_.frontend.max_connections);
  opts.max_connections_per_address =
      static_cast<size_t>(config_.frontend.max_connections_per_address);
  opts.loopback_exempt = config_.frontend.loopback_exempt;
  opts.max_buffered_body_bytes = static_cast<size_t>(config_.frontend.max_buffered_body_bytes);
  opts.error_body = [](int status, std::string_view message) {
    return error_json(transport_error(status, message));
  };
  opts.default_headers = {{"access-control-allow-origin", "*"},
                          {"access-control-expose-headers", "x-request-id, retry-after"}};
  server_ = std::make_unique<http::Server>(loop_, std::move(opts),
                                           [this](http::Exchange ex) { handle(ex); });
  Status s = listen_fd >= 0 ? server_->listen_fd(listen_fd) : server_->listen();
  if (!s.ok()) return s;

  uv_timer_init(loop_, sweep_.get());
  sweep_.get()->data = this;
  uv_timer_start(sweep_.get(), uv::method<&FrontendApp::on_sweep>, kSweepIntervalMs,
                 kSweepIntervalMs);
  return Status();
}

std::string FrontendApp::new_request_id(const http::Request& req) {
  // Honour a sane client-supplied id for end-to-end tracing; otherwise make one.
  if (const std::string* h = req.header("x-request-id"); h && valid_client_request_id(*h)) {
    if (calls_.count(*h) == 0) return *h;
  }
  return ids::random_hex(24);
}

void FrontendApp::reload_keys(const char* why) {
  if (keys_watch_) keys_watch_->reload(why);
}

void FrontendApp::report_end(std::string_view endpoint, std::string_view model,
                             const Caller* caller, const std::string& request_id,
                             const ApiError* e) {
  RequestRecord r;
  r.id = request_id;
  r.endpoint = endpoint;
  if (!model.empty() && models_.find(model) != nullptr) r.model = std::string(model);
  if (caller != nullptr && caller->key != nullptr) r.key = caller->key->name;
  r.start_unix_ms = uv::now_unix_ms();
  r.start_ns = steady_now_ns();
  RequestOutcome out;
  if (e != nullptr) {
    out.http_status = http_status(*e);
    out.error_type = error_type(*e);
    out.error_code = e->error_code;
    out.message = e->message;
  }
  observers_.on_end(r, out);
}

void FrontendApp::reply_error(http::Exchange& ex, const ApiError& e, const std::string& request_id,
                              std::string_view model, const Caller* caller) {
  if (ex.alive() && ex.request().path.rfind("/v1/", 0) == 0)
    report_end(endpoint_name(ex.request().path), model, caller, request_id, &e);
  auto h = api_headers(request_id, "application/json");
  if (e.retry_after_s > 0) h.push_back({"retry-after", std::to_string(e.retry_after_s)});
  if (e.code == Code::kMethodNotAllowed) h.push_back({"allow", e.param});
  ApiError body = e;
  if (e.code == Code::kMethodNotAllowed) body.param.clear();
  if (ex.alive() && anthropic_path(ex.request().path)) {
    ex.respond(anthropic::status_code(e), std::move(h), anthropic::error_body(body));
    return;
  }
  ex.respond(http_status(e), std::move(h), error_json(body));
}

void FrontendApp::handle(http::Exchange ex) {
  const http::Request& req = ex.request();
  const std::string& path = req.path;
  const std::string& m = req.method;
  if (m == "OPTIONS") {  // CORS preflight
    http::Headers h = {{"access-control-allow-methods", "GET, POST, OPTIONS"},
                       {"access-control-max-age", "86400"}};
    const std::string* req_headers = req.header("access-control-request-headers");
    h.push_back({"access-control-allow-headers",
                 req_headers ? *req_headers : std::string("authorization, content-type")});
    ex.respond(204, std::move(h), "");
    return;
  }
  auto method_not_allowed = [&](const char* allow) {
    reply_error(ex,
                ApiError{Code::kMethodNotAllowed,
                         "Method " + m + " is not allowed for " + path + ".",
                         allow,
                         {},
                         0},
                ids::random_hex(24));
  };
  if (path == "/health" || path == "/healthz") {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_health(ex);
  }
  if (admin::AdminApi::is_admin_path(path)) return admin_->handle(ex);
  if (path == "/metrics") {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_metrics(ex);
  }
  if (dashboard::is_dashboard_path(path))  // docs/dashboard.md
    return dashboard::serve(ex, admin_->access().why_disabled());
  bool is_api = path.rfind("/v1/", 0) == 0;
  Caller caller;
  const std::string* authorization = req.header("authorization");
  std::string api_key_bearer;  // Anthropic clients send the key as x-api-key
  if (const std::string* k = req.header("x-api-key"); authorization == nullptr && k != nullptr) {
    api_key_bearer = "Bearer " + *k;
    authorization = &api_key_bearer;
  }
  if (is_api && admin_->access().is_admin_key(authorization)) {
    return reply_error(ex,
                       ApiError{Code::kUnauthenticated,
                                "The admin key is not an API key: use a client key for /v1.",
                                {},
                                "invalid_api_key",
                                0},
                       ids::random_hex(24));
  }
  if (ApiError err; is_api && !auth_->authenticate(authorization, &caller, &err)) {
    return reply_error(ex, err, ids::random_hex(24));
  }
  if (draining_ && is_api) {
    return reply_error(
        ex, ApiError{Code::kUnavailable, "The server is shutting down; please retry.", {}, {}, 1},
        ids::random_hex(24), {}, &caller);
  }
  if (path == "/v1/chat/completions") {
    if (m != "POST") return method_not_allowed("POST");
    return handle_chat(ex, caller);
  }
  if (anthropic_path(path)) {  // anthropic-version, anthropic-beta and ?beta=true: accepted
    if (m != "POST") return method_not_allowed("POST");
    return handle_messages(ex, caller, path == "/v1/messages/count_tokens");
  }
  if (path == kResponsesEndpoint) {
    if (m != "POST") return method_not_allowed("POST");
    return handle_responses(ex, caller);
  }
  if (path.rfind("/v1/responses/", 0) == 0) {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_response_get(ex, std::string_view(path).substr(kResponsesEndpoint.size() + 1),
                               caller);
  }
  if (path == "/v1/images/generations") {
    if (m != "POST") return method_not_allowed("POST");
    return handle_images(ex, caller);
  }
  if (path == "/v1/images/edits") {
    if (m != "POST") return method_not_allowed("POST");
    return handle_image_edits(ex, caller);
  }
  if (path == "/v1/videos") {
    if (m != "POST") return method_not_allowed("POST");
    return handle_videos(ex, caller);
  }
  if (path.rfind("/v1/videos/", 0) == 0) {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    return handle_video_get(ex, std::string_view(path).substr(11), caller);
  }
  if (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0) {
    if (m != "GET" && m != "HEAD") return method_not_allowed("GET, HEAD");
    std::string_view id;
    if (path.size() > 11) id = std::string_view(path).substr(11);
    return handle_models(ex, id, caller);
  }
  reply_error(ex,
              ApiError{Code::kNotFound,
                       "Unknown request URL: " + m + " " + path +
                           ". Please check the URL for typos, or see the docs at docs/api.md.",
                       {},
                       "unknown_url",
                       0},
              ids::random_hex(24));
}

void FrontendApp::handle_chat(http::Exchange ex, const Caller& caller) {
  const http::Request& req = ex.request();
  std::string rid = new_request_id(req);
  ChatRequest chat;
  ApiError err;
  if (!parser_.parse(req.body, &chat, &err)) {
    QP_INFO("request.invalid")
        .kv("request_id", rid)
        .kv("param", err.param)
        .kv("message", err.message);
    return reply_error(ex, err, rid, chat.job.model, &caller);
  }
  // A key limited to some models gets 403 for any other, listed or not.
  if (!auth_->check_model(caller, chat.job.model, &err))
    return reply_error(ex, err, rid, chat.job.model, &caller);
  // An unknown model gets 404 from the model list. A model that is not in the
  // list we have (none yet right after start, or a stale one) waits for the
  // list instead of going upstream, where it would fail as a 502.
  uint64_t now = uv_now(loop_);
  bool listed = models_.has() && models_.find(chat.job.model) != nullptr;
  if (!models_.fresh(now)) fetch_models();  // refresh in the background
  if (!listed && !models_.fresh(now) && models_fetch_) {
    auto held = std::make_shared<ChatRequest>(std::move(chat));
    models_fetch_->then([this, ex, held, rid, caller](const protocol::JobError* e) mutable {
      if (!ex.alive()) return;
      // No worker or broker to list the models: none to answer the chat either.
      if (e != nullptr && e->code == Code::kUnavailable) {
        return reply_error(ex, ApiError{e->code, e->message, {}, {}, e->retry_after_s}, rid,
                           held->job.model, &caller);
      }
      submit_chat(ex, std::move(*held), rid, caller);
    });
    return;
  }
  submit_chat(ex, std::move(chat), rid, caller);
}

void FrontendApp::submit_chat(http::Exchange ex, ChatRequest chat, const std::string& rid,
                              const Caller& caller) {
  uint64_t now = uv_now(loop_);
  if (models_.fresh(now) && models_.find(chat.job.model) == nullptr) {
    return reply_error(ex,
                       ApiError{Code::kNotFound,
                                "The model '" + chat.job.model +
                                    "' does not exist or you do not have access to it.",
                                "model", "model_not_found", 0},
                       rid, {}, &caller);
  }
  if (refuse_non_vision(ex, chat.job, rid, caller)) return;
  KeyLease lease;
  if (!admit_job(ex, chat.job, rid, caller, &lease)) return;
  auto call = std::make_unique<ChatCall>(ex, rid, chat.job.model, chat.job.stream,
                                         chat.include_usage, unix_now_s(), chat.want_json);
  call->start_keepalive(loop_, config_.frontend.sse_keepalive_ms);
  call->hold(std::move(lease));
  call->observe(&observers_, make_record(chat.job, rid, caller, "/v1/chat/completions"));
  launch(ex, chat.job, std::move(call), caller);
}

bool FrontendApp::refuse_non_vision(http::Exchange& ex, const protocol::JobRequest& job,
                                    const std::string& rid, const Caller& caller) {
  if (!models_.has() || !attachments::has_images(job)) return false;
  std::string why = attachments::vision_refusal(models_.list(), job.model);
  if (why.empty()) return false;
  reply_error(ex,
              ApiError{Code::kInvalidArgument, std::move(why), "model",
                       std::string(attachments::kNotVisionCode), 0},
              rid, job.model, &caller);
  return true;
}

uint64_t FrontendApp::request_timeout_ms(std::string_view model) const {
  // Deep research runs for minutes: its own, longer safety net.
  return long_running_model(model) ? config_.frontend.long_request_timeout_ms
                                   : config_.frontend.request_timeout_ms;
}

bool FrontendApp::admit_job(http::Exchange& ex, protocol::JobRequest& job, const std::string& rid,
                            const Caller& caller, KeyLease* lease) {
  job.request_id = rid;
  job.created_unix_ms = uv::now_unix_ms();
  if (uint64_t timeout = request_timeout_ms(job.model); timeout > 0)
    job.deadline_unix_ms = job.created_unix_ms + static_cast<int64_t>(timeout);
  ApiError err;
  if (!auth_->admit(caller, lease, &err)) {
    QP_INFO("request.rate_limited").kv("request_id", rid).kv("key", caller.id);
    reply_error(ex, err, rid, job.model, &caller);
    return false;
  }
  return true;
}

RequestRecord FrontendApp::make_record(const protocol::JobRequest& job, const std::string& rid,
                                       const Caller& caller, std::string_view endpoint) const {
  RequestRecord record;
  record.id = rid;
  record.endpoint = endpoint;
  record.model = job.model;
  record.key = caller.key != nullptr ? caller.key->name : std::string();
  record.stream = job.stream;
  record.start_unix_ms = job.created_unix_ms;
  record.start_ns = steady_now_ns();
  return record;
}

void FrontendApp::launch(http::Exchange ex, const protocol::JobRequest& job,
                         std::unique_ptr<ApiCall> call, const Caller& caller) {
  const std::string& rid = job.request_id;
  if (Status s = broker_->submit(job, call.get()); !s.ok()) {
    call->fail(ApiError{s.code(), s.message(), {}, {}, 0});
    return;
  }
  QP_INFO("request.accepted")
      .kv("request_id", rid)
      .kv("model", job.model)
      .kv("key", caller.id)
      .kv("stream", job.stream)
      .kv("messages", static_cast<uint64_t>(job.messages.size()));
  ex.on_abort([this, rid] {
    auto it = calls_.find(rid);
    if (it == calls_.end()) return;
    QP_INFO("request.client_gone").kv("request_id", rid);
    broker_->cancel(rid, "client disconnected");
    it->second->abandon("client disconnected");
    deadlines_ms_.erase(rid);
    calls_.erase(it);
  });
  if (uint64_t timeout = request_timeout_ms(job.model); timeout > 0)
    deadlines_ms_[rid] = uv_now(loop_) + timeout;
  calls_.emplace(rid, std::move(call));
}

bool FrontendApp::cancel_by_operator(const std::string& id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return false;
  broker_->cancel(id, "cancelled by an operator");
  ApiError e{Code::kUnavailable, "The request was cancelled by an operator.", {}, "cancelled", 0};
  e.type = "cancelled";
  it->second->fail(e);
  deadlines_ms_.erase(id);
  calls_.erase(it);
  return true;
}

void FrontendApp::on_job_finished(const std::string& request_id) {
  admin_->on_job_finished(request_id);
  deadlines_ms_.erase(request_id);
  calls_.erase(request_id);
  if (models_fetch_ && models_fetch_->request_id() == request_id) models_fetch_.reset();
}

void FrontendApp::on_sweep() {
  uint64_t now = uv_now(loop_);
  std::vector<std::string> expired;
  for (auto& [id, deadline] : deadlines_ms_) {
    if (now >= deadline) expired.push_back(id);
  }
  for (const auto& id : expired) {
    deadlines_ms_.erase(id);
    auto it = calls_.find(id);
    if (it == calls_.end()) continue;
    broker_->cancel(id, "request timeout");
    it->second->fail(ApiError{Code::kUpstreamTimeout,
                              "The request took longer than the gateway's request timeout.",
                              {},
                              {},
                              0});
    calls_.erase(it);
  }
}

void FrontendApp::shutdown(uint64_t drain_ms) {
  if (draining_) {
    close_now();
    return;
  }
  draining_ = true;
  // No new connections; idle keep-alive connections close; streams finish.
  if (server_) server_->stop_accepting();
  if (calls_.empty()) {
    close_now();
    return;
  }
  QP_INFO("frontend.draining")
      .kv("in_flight", static_cast<uint64_t>(calls_.size()))
      .kv("deadline_ms", drain_ms);
  drain_deadline_ms_ = uv_now(loop_) + drain_ms;
  uv_timer_init(loop_, drain_.get());
  drain_.get()->data = this;
  uv_timer_start(drain_.get(), uv::method<&FrontendApp::on_drain_tick>, 50, 50);
}

void FrontendApp::on_drain_tick() {
  if (calls_.empty() || uv_now(loop_) >= drain_deadline_ms_) close_now();
}

void FrontendApp::close_now() {
  if (closed_) return;
  closed_ = true;
  drain_.reset();
  sweep_.reset();
  if (keys_watch_) keys_watch_->stop();
  admin_->close();
  for (auto& [id, call] : calls_) broker_->cancel(id, "server shutting down");
  calls_.clear();
  models_fetch_.reset();
  if (server_) server_->close();
  if (broker_) broker_->close();
}

}  // namespace qp::frontend
