#include "worker/qwen_client.h"

#include <ctime>
#include <exception>

#include "common/ids.h"
#include "common/log.h"
#include "common/uv/callback.h"
#include "common/uv/handle.h"
#include "worker/models_parser.h"
#include "worker/upstream_recorder.h"
#include "worker/worker_metrics.h"

namespace qp::worker {
namespace {

constexpr uint64_t kStopTimeoutMs = 15'000;
constexpr size_t kMaxModelsBytes = size_t{8} * 1024 * 1024;

UpstreamFailure internal_failure(const Status& s) {
  return UpstreamFailure{Code::kInternal,
                         "worker failed to start the upstream request: " + s.message(), 0, nullptr};
}

}  // namespace

// ---------------------------------------------------------------------------
// ModelsCall

ModelsCall::ModelsCall(QwenClient* client, ModelsHandler* handler)
    : client_(client), handler_(handler) {}

ModelsCall::~ModelsCall() = default;

Status ModelsCall::start() {
  HttpRequestSpec spec = client_->make_lean_spec(Endpoint::kModels, {}, {});
  spec.max_body_bytes = kMaxModelsBytes;
  primary_ = std::make_unique<HttpRequest>(client_->multi(), std::move(spec), listener());
  Status s = primary_->start();
  if (!s.ok()) ended_ = true;
  return s;
}

void ModelsCall::cancel() {
  ended_ = true;
  if (primary_) primary_->abort();
  if (fallback_) fallback_->abort();
}

void ModelsCall::on_complete(HttpResult result) {
  if (ended_) return;
  if (!fallback_ && !result.failure) {
    // /api/models unknown or of another shape: try the v2 path (GO uses it).
    bool retry =
        result.status == 404 || (result.status == 200 && !parse_models(result.body) &&
                                 !is_error_json(result.body) && !has_waf_marker(result.body));
    if (retry) {
      HttpRequestSpec spec = client_->make_lean_spec(Endpoint::kModelsV2, {}, {});
      spec.max_body_bytes = kMaxModelsBytes;
      fallback_ = std::make_unique<HttpRequest>(client_->multi(), std::move(spec), listener());
      Status s = fallback_->start();
      if (s.ok()) return;
      ended_ = true;
      return handler_->on_models_error(internal_failure(s));
    }
  }
  finish(result);
}

void ModelsCall::finish(const HttpResult& result) {
  ended_ = true;
  if (result.failure) {
    if (WorkerMetrics* m = client_->metrics()) m->count_error(*result.failure, true);
    return handler_->on_models_error(*result.failure);
  }
  if (result.status == 200) {
    auto models = parse_models(result.body);
    if (models) {
      add_model_variants(&models.value());
      return handler_->on_models(std::move(models.value()));
    }
    if (!is_error_json(result.body) && !has_waf_marker(result.body)) {
      return handler_->on_models_error(UpstreamFailure{
          Code::kUpstream, "Qwen's model list has an unexpected shape: " + models.error().message(),
          0, nullptr});
    }
  }
  UpstreamFailure f = classify_response(result.status, result.content_type, result.body);
  if (WorkerMetrics* m = client_->metrics()) m->count_error(f, false);
  handler_->on_models_error(f);
}

// ---------------------------------------------------------------------------
// QwenClient

class QwenClient::StopCall final : private HttpRequest::Listener {
 public:
  StopCall(QwenClient* client, Endpoint endpoint, const std::string& chat_id)
      : client_(client),
        chat_id_(chat_id),
        request_(client->multi(), make(client, endpoint, chat_id), this) {}
  Status start() { return request_.start(); }
  void abort() { request_.abort(); }

 private:
  static HttpRequestSpec make(QwenClient* client, Endpoint endpoint, const std::string& chat_id) {
    HttpRequestSpec spec = endpoint == Endpoint::kDeleteChat
                               ? client->make_lean_spec(endpoint, chat_id, {})
                               : client->make_lean_spec(endpoint, chat_id, stop_body(chat_id));
    if (endpoint == Endpoint::kDeleteChat) {
      spec.post = false;
      spec.custom_method = "DELETE";
    }
    spec.total_timeout_ms = kStopTimeoutMs;
    spec.first_byte_timeout_ms = kStopTimeoutMs;
    spec.idle_timeout_ms = kStopTimeoutMs;
    return spec;
  }
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult result) override {
    if (result.failure) {
      QP_DEBUG("upstream.stop_failed").kv("chat_id", chat_id_).kv("error", result.failure->message);
    } else {
      QP_DEBUG("upstream.stop_sent")
          .kv("chat_id", chat_id_)
          .kv("status", static_cast<int64_t>(result.status));
    }
    client_->retire(this);  // last statement
  }

  QwenClient* client_;
  std::string chat_id_;
  HttpRequest request_;
};

QwenClient::QwenClient(CurlMulti* multi, DeferredDelete* deferred, const UpstreamConfig& upstream,
                       AccountConfig account)
    : multi_(multi), deferred_(deferred), upstream_(upstream) {
  set_credentials(account);
}

void QwenClient::set_credentials(const AccountConfig& account) {
  account_ = account;
  jwt_ = account_.token.empty() ? cookie_value(account_.cookies, "token") : account_.token;
  for (auto& h : headers_) h.reset();  // formatted again with the new credentials
  if (recorder_ != nullptr) recorder_->add_account(account_);
}

void QwenClient::set_recorder(UpstreamRecorder* r) {
  recorder_ = r;
  if (recorder_ != nullptr) recorder_->add_account(account_);
}

QwenClient::~QwenClient() { abort_background(); }

void QwenClient::stop_generation(const std::string& chat_id) {
  background(Endpoint::kStop, chat_id);
}

void QwenClient::stop_generation_soon(const std::string& chat_id) {
  background_soon(Endpoint::kStop, chat_id);
}

void QwenClient::delete_chat_soon(const std::string& chat_id) {
  background_soon(Endpoint::kDeleteChat, chat_id);
}

void QwenClient::background(Endpoint e, const std::string& chat_id) {
  auto call = std::make_unique<StopCall>(this, e, chat_id);
  Status s = call->start();
  if (!s.ok()) {
    QP_WARN("upstream.background_not_sent").kv("chat_id", chat_id).kv("error", s.message());
    return;
  }
  stops_.push_back(std::move(call));
}

void QwenClient::background_soon(Endpoint e, const std::string& chat_id) {
  if (soon_timer_.base()->type == UV_UNKNOWN_HANDLE) {
    if (int r = uv_timer_init(multi_->loop(), soon_timer_.get()); r != 0) {
      QP_WARN("upstream.background_not_sent").kv("chat_id", chat_id).kv("error", uv_strerror(r));
      return;
    }
  }
  soon_timer_.get()->data = this;
  soon_.emplace_back(e, chat_id);
  uv_timer_start(soon_timer_.get(), uv::method<&QwenClient::run_soon>, 0, 0);
}

void QwenClient::run_soon() {
  auto calls = std::move(soon_);
  soon_.clear();
  for (const auto& [endpoint, id] : calls) background(endpoint, id);
}

void QwenClient::abort_background() {
  soon_.clear();
  if (soon_timer_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(soon_timer_.get());
  for (auto& c : stops_) c->abort();
  stops_.clear();
}

void QwenClient::retire(StopCall* call) {
  for (auto it = stops_.begin(); it != stops_.end(); ++it) {
    if (it->get() == call) {
      deferred_->add(std::move(*it));
      stops_.erase(it);
      return;
    }
  }
}

HttpRequestSpec QwenClient::base_spec(Endpoint e, std::string_view chat_id, std::string body,
                                      const HeaderTemplate** t) const {
  if (metrics_ != nullptr) metrics_->count_call(e);
  std::optional<HeaderTemplate>& cached = headers_[static_cast<size_t>(e)];
  if (!cached) {
    HeaderParams hp;
    hp.base_url = upstream_.base_url;
    hp.user_agent = account_.user_agent.empty() ? upstream_.user_agent : account_.user_agent;
    hp.jwt = jwt_;
    hp.bx_umidtoken = account_.bx_umidtoken;
    hp.bx_ua = account_.bx_ua;
    hp.bx_v = account_.bx_v;
    cached = header_template(e, hp);
  }
  *t = &cached.value();
  HttpRequestSpec spec;
  spec.post = e == Endpoint::kNewChat || e == Endpoint::kCompletion || e == Endpoint::kStop ||
              e == Endpoint::kSts;
  spec.url = endpoint_url(e, upstream_.base_url, chat_id);
  spec.cookies = account_.cookies;
  spec.proxy = account_.proxy;
  spec.body = std::move(body);
  spec.connect_timeout_ms = upstream_.connect_timeout_ms;
  spec.first_byte_timeout_ms = upstream_.first_byte_timeout_ms;
  spec.idle_timeout_ms = upstream_.idle_timeout_ms;
  spec.stream = e == Endpoint::kCompletion;
  spec.recorder = recorder_;
  return spec;
}

std::vector<std::string> QwenClient::request_lines(const HeaderTemplate& t,
                                                   std::string_view chat_id) const {
  // The timezone header changes once a second: formatted once per second.
  std::time_t now = std::time(nullptr);
  if (now != timezone_at_s_) {
    timezone_ = js_date_string(now);
    timezone_at_s_ = now;
  }
  return request_headers(t, chat_id, ids::uuid4(), timezone_);
}

HttpRequestSpec QwenClient::make_spec(Endpoint e, std::string_view chat_id,
                                      std::string body) const {
  const HeaderTemplate* t = nullptr;
  HttpRequestSpec spec = base_spec(e, chat_id, std::move(body), &t);
  spec.headers = fill_header_slots(*t->lines, request_lines(*t, chat_id));
  return spec;
}

HttpRequestSpec QwenClient::make_lean_spec(Endpoint e, std::string_view chat_id,
                                           std::string body) const {
  const HeaderTemplate* t = nullptr;
  HttpRequestSpec spec = base_spec(e, chat_id, std::move(body), &t);
  spec.shared_headers = t->lines;
  spec.headers = request_lines(*t, chat_id);
  return spec;
}

}  // namespace qp::worker
