// The admin API, /admin/v1/* (docs/api.md, "Admin API"): the operator's view
// of accounts, workers, live requests and recent errors, a live event stream,
// and the actions (import, reload, drain, resume, remove an account; cancel a
// request; a test chat pinned to one account).
//
// Wiring and I/O only: the access rule is access.h, the bookkeeping stats.h,
// the JSON render.h, the event fan-out event_hub.h, the import
// account_import.h. It observes every request (RequestObserver) for the live
// events, the error ring and the last-hour numbers.
//
// Threading: the frontend's loop. Lifetime: a FrontendApp member declared
// before its calls (it observes them) and closed before the broker link.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <uv.h>

#include "common/config.h"
#include "common/http/server.h"
#include "common/uv/handle.h"
#include "frontend/admin/access.h"
#include "frontend/admin/event_hub.h"
#include "frontend/admin/stats.h"
#include "frontend/broker_client.h"
#include "frontend/models_cache.h"
#include "frontend/request_observer.h"

namespace qp::frontend::admin {

// What the admin API needs from the frontend.
struct AdminHost {
  BrokerClient* broker = nullptr;
  const ModelsCache* models = nullptr;
  // Calls fn for every live chat request.
  std::function<void(const std::function<void(const RequestRecord&)>& fn)> for_each_call;
  // Ends live request `id` with an operator-cancelled error; false if unknown.
  std::function<bool(const std::string& id)> cancel_call;
};

class AdminApi final : public RequestObserver {
 public:
  AdminApi(uv_loop_t* loop, const Config& config);
  ~AdminApi() override;
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;

  // Logs `admin.disabled` if off; starts the event timer.
  void start(AdminHost host);
  // Ends the event streams and test chats; stops the timer.
  void close();

  const AdminAccess& access() const { return access_; }
  static bool is_admin_path(std::string_view path) { return path.rfind("/admin/", 0) == 0; }
  // Serves one request under /admin/ (checks access first).
  void handle(http::Exchange ex);
  // BrokerClient finished job `request_id` (its sink may be destroyed now).
  void on_job_finished(const std::string& request_id);

  void on_start(const RequestRecord& r) override;
  void on_end(const RequestRecord& r, const RequestOutcome& out) override;

 private:
  class TestChat;
  struct AccountStats {
    HourSeries hour;
    ErrorEntry last_error;  // at_unix_ms == 0: none
  };

  void get_overview(http::Exchange& ex);
  void get_accounts(http::Exchange& ex);
  void get_workers(http::Exchange& ex);
  void get_requests(http::Exchange& ex);
  void get_errors(http::Exchange& ex);
  void get_events(http::Exchange& ex);
  void post_import(http::Exchange& ex);
  void post_account_action(http::Exchange& ex, const std::string& name, std::string_view action);
  void post_test(http::Exchange& ex, const std::string& name);
  void post_cancel(http::Exchange& ex, const std::string& id);

  std::string account_json(const protocol::AccountSummary& a, int64_t now_unix_ms);
  const protocol::AccountSummary* find_account(std::string_view name) const;
  void on_tick();

  uv_loop_t* loop_;
  const Config& config_;
  AdminAccess access_;
  AdminHost host_;
  HourSeries all_;
  std::map<std::string, AccountStats, std::less<>> accounts_;
  ErrorRing errors_;
  EventHub hub_;
  std::map<std::string, std::string, std::less<>> last_account_json_;  // for `account` events
  std::unordered_map<std::string, std::unique_ptr<TestChat>> tests_;
  uv::Timer tick_;
  uint64_t ticks_ = 0;
  int64_t started_unix_ms_ = 0;
  std::string scratch_;
  bool closed_ = false;
};

}  // namespace qp::frontend::admin
