#include "worker/notice_sender.h"

#include <exception>

#include "common/json/writer.h"
#include "common/log.h"
#include "common/uv/callback.h"

namespace qp::worker {

std::string notice_payload(const notices::AccountState& state, const notices::Notice& notice) {
  std::string out;
  json::Writer w(&out);
  w.begin_object();
  w.key("text").value(notice.message);
  w.key("content").value(notice.message);
  w.key("account").value(state.account);
  w.key("kind").value(notices::kind_name(notice.kind));
  w.key("expires_unix_s").value(state.token_expires_unix_s);
  w.key("health").value(state.health.empty() ? std::string_view("ok") : state.health);
  w.end_object();
  return out;
}

std::string url_host(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    size_t close = rest.find(']');
    return close == std::string_view::npos ? std::string() : std::string(rest.substr(0, close + 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

NoticeSender::NoticeSender(uv_loop_t* loop, CurlMulti* multi, DeferredDelete* deferred,
                           std::string webhook_url)
    : loop_(loop),
      multi_(multi),
      deferred_(deferred),
      url_(std::move(webhook_url)),
      host_(url_host(url_)) {
  uv_timer_init(loop_, retry_timer_.get());
  retry_timer_.get()->data = this;
  uv_unref(retry_timer_.base());
}

NoticeSender::~NoticeSender() { stop(); }

void NoticeSender::stop() {
  stopped_ = true;
  queue_.clear();
  if (request_) {
    request_->abort();
    deferred_->add(std::move(request_));
  }
  if (retry_timer_) uv_timer_stop(retry_timer_.get());
}

void NoticeSender::check(const notices::AccountState& state, int64_t now_unix_s) {
  notices::Notice n = tracker_.update(state, now_unix_s);
  if (n.kind == notices::Kind::kNone) return;
  QP_WARN("account.notice")
      .kv("kind", notices::kind_name(n.kind))
      .kv("account", state.account)
      .kv("expires_in_s", n.expires_in_s)
      .kv("health", state.health)
      .kv("message", n.message);
  if (url_.empty() || stopped_) return;
  if (queue_.size() >= kMaxQueued) {
    // Keep the one in flight; drop the oldest waiting one.
    QP_WARN("notice.webhook_dropped").kv("host", host_).kv("reason", "queue full");
    queue_.erase(queue_.begin() + 1);
  }
  queue_.push_back(notice_payload(state, n));
  if (queue_.size() == 1) send_next();
}

void NoticeSender::send_next() {
  if (stopped_ || queue_.empty() || request_) return;
  HttpRequestSpec spec;
  spec.post = true;
  spec.url = url_;
  spec.headers = {"Content-Type: application/json"};
  spec.body = queue_.front();
  spec.connect_timeout_ms = kTimeoutMs;
  spec.first_byte_timeout_ms = kTimeoutMs;
  spec.idle_timeout_ms = kTimeoutMs;
  spec.total_timeout_ms = kTimeoutMs;
  spec.max_body_bytes = 64 * 1024;
  ++attempt_;
  request_ = std::make_unique<HttpRequest>(multi_, std::move(spec),
                                           static_cast<HttpRequest::Listener*>(this));
  Status s = request_->start();
  if (!s.ok()) {
    deferred_->add(std::move(request_));
    retry_or_drop(s.message());
  }
}

void NoticeSender::on_complete(HttpResult result) {
  deferred_->add(std::move(request_));  // we are inside its callback
  if (result.status >= 200 && result.status < 300) {
    QP_INFO("notice.webhook_sent").kv("host", host_).kv("status", result.status);
    queue_.pop_front();
    attempt_ = 0;
    send_next();
    return;
  }
  retry_or_drop(result.failure ? result.failure->message
                               : "HTTP status " + std::to_string(result.status));
}

void NoticeSender::retry_or_drop(const std::string& why) {
  if (stopped_ || queue_.empty()) return;
  if (attempt_ < 2) {
    QP_WARN("notice.webhook_retry").kv("host", host_).kv("error", why);
    uv_timer_start(retry_timer_.get(), uv::method<&NoticeSender::send_next>, kRetryDelayMs, 0);
    return;
  }
  QP_WARN("notice.webhook_failed").kv("host", host_).kv("error", why);
  queue_.pop_front();
  attempt_ = 0;
  send_next();
}

}  // namespace qp::worker
