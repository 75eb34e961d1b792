// The worker's operator notices (docs/architecture.md, "Operator console"): on
// every status check the account's state goes through a notices::Tracker
// (common/notices.h); each transition is logged as WARN `account.notice kind=…
// account=… expires_in_s=…` and, when notify.webhook_url is set, POSTed there
// as JSON (notice_payload()):
//   {"text","content","account","kind","expires_unix_s","health"}
// (`text` for Slack/ntfy/Mattermost, `content` for Discord; the same sentence).
//
// Why the worker: it owns its account's state (health, detail, token
// expiry), sees a change the moment it happens, and already drives libcurl
// on its loop (curl_multi.h); the broker has no HTTP client and only a
// heartbeat-delayed copy. The price: the tracker is per process, so a
// restarted worker reports a standing problem once more.
//
// Delivery: one POST at a time, 5 s total timeout, one retry after 1 s on a
// transport error or a non-2xx status, then dropped (logged). Posts queue up
// to kMaxQueued (older ones are dropped beyond). Never blocks the loop. The
// body holds no secret; the URL may (Slack/Discord put a token in it), so
// only its host is ever logged. Thread: the loop's thread only.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include <uv.h>

#include "common/notices.h"
#include "common/uv/handle.h"
#include "worker/curl_multi.h"
#include "worker/deferred_delete.h"
#include "worker/http_request.h"

namespace qp::worker {

// The webhook body for `notice` about `state` (pure).
std::string notice_payload(const notices::AccountState& state, const notices::Notice& notice);
// "hooks.slack.com" for "https://hooks.slack.com/services/T/B/x" (no
// userinfo, port, path or query); empty if there is no host (pure).
std::string url_host(std::string_view url);

class NoticeSender final : private HttpRequest::Listener {
 public:
  static constexpr uint64_t kTimeoutMs = 5000;
  static constexpr uint64_t kRetryDelayMs = 1000;
  static constexpr size_t kMaxQueued = 16;

  // `webhook_url` empty: log only. `multi` and `deferred` outlive this.
  NoticeSender(uv_loop_t* loop, CurlMulti* multi, DeferredDelete* deferred,
               std::string webhook_url);
  ~NoticeSender();
  NoticeSender(const NoticeSender&) = delete;
  NoticeSender& operator=(const NoticeSender&) = delete;

  // Evaluates the state; on a transition, logs and posts. Cheap when nothing
  // changed (call it on every heartbeat).
  void check(const notices::AccountState& state, int64_t now_unix_s);
  // Drops the queue and any post in flight (shutdown).
  void stop();

  size_t queued() const { return queue_.size(); }

 private:
  void send_next();
  void retry_or_drop(const std::string& why);
  // HttpRequest::Listener
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult result) override;

  uv_loop_t* loop_;
  CurlMulti* multi_;
  DeferredDelete* deferred_;
  std::string url_;
  std::string host_;  // what the logs say instead of the URL
  notices::Tracker tracker_;
  std::deque<std::string> queue_;  // bodies; front() is in flight or waiting to retry
  std::unique_ptr<HttpRequest> request_;
  uv::Timer retry_timer_;
  int attempt_ = 0;  // of queue_.front(): 0 = not sent yet
  bool stopped_ = false;
};

}  // namespace qp::worker
