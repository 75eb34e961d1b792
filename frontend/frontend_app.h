// The frontend process: HTTP routes, request validation, and the mapping of
// HTTP requests to broker jobs. Wiring only: parsing lives in openai/, the
// broker link in broker_client, per-request streaming in chat_call.
//
// Threading: one libuv loop; nothing here is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <uv.h>
#include <zmq.hpp>

#include "common/config.h"
#include "common/http/server.h"
#include "common/uv/handle.h"
#include "frontend/admin/admin_api.h"
#include "frontend/broker_client.h"
#include "frontend/chat_call.h"
#include "frontend/client_auth.h"
#include "frontend/keys_file_watch.h"
#include "frontend/models_cache.h"
#include "frontend/openai/chat_request.h"
#include "frontend/request_observer.h"

namespace qp::frontend {

class FrontendApp {
 public:
  FrontendApp(uv_loop_t* loop, Config config);
  ~FrontendApp();

  // Connects to the broker and listens (or adopts `listen_fd` if >= 0).
  Status start(int listen_fd = -1);
  int port() const { return server_->port(); }
  // Stops taking requests, lets in-flight ones finish until `drain_ms`, then
  // closes everything so the loop can end.
  void shutdown(uint64_t drain_ms);
  // Reads the keys file again (SIGHUP).
  void reload_keys(const char* why);
  const ClientAuth& client_auth() const { return *auth_; }
  // Where the console's parts (metrics, admin API) subscribe to requests.
  RequestObservers& request_observers() { return observers_; }
  // Who may use /admin/v1, /metrics and /dashboard (frontend/admin/access.h).
  const admin::AdminAccess& admin_access() const { return admin_->access(); }

 private:
  class ModelsFetch;

  void handle(http::Exchange ex);
  void handle_chat(http::Exchange ex, const Caller& caller);
  // Answers 404 for a model missing from a fresh list, else admits the call
  // under the caller's limits and sends the job.
  void submit_chat(http::Exchange ex, ChatRequest chat, const std::string& rid,
                   const Caller& caller);
  void handle_models(http::Exchange ex, std::string_view id, const Caller& caller);
  void handle_health(http::Exchange ex);
  void reply_error(http::Exchange& ex, const ApiError& e, const std::string& request_id);
  void fetch_models();
  void on_job_finished(const std::string& request_id);
  // Ends live request `id` with an operator-cancelled error (admin API).
  bool cancel_by_operator(const std::string& id);
  void on_sweep();
  std::string new_request_id(const http::Request& req);
  void close_now();

  uv_loop_t* loop_;
  Config config_;
  zmq::context_t zmq_ctx_;
  std::unique_ptr<BrokerClient> broker_;
  std::unique_ptr<http::Server> server_;
  ChatRequestParser parser_;
  ModelsCache models_;
  // Before calls_: a call's KeyLease gives its slot back to auth_.
  // Before calls_: a call reports its end to the observers when destroyed
  // unfinished. Objects added to observers_ must be declared before calls_ too.
  RequestObservers observers_;
  std::unique_ptr<admin::AdminApi> admin_;  // an observer: before calls_
  std::unique_ptr<ClientAuth> auth_;
  std::unique_ptr<KeysFileWatch> keys_watch_;
  std::unordered_map<std::string, std::unique_ptr<ChatCall>> calls_;
  std::unordered_map<std::string, uint64_t> deadlines_ms_;  // request id -> loop time
  std::unique_ptr<ModelsFetch> models_fetch_;
  uv::Timer sweep_;
  uv::Timer drain_;
  uint64_t drain_deadline_ms_ = 0;
  bool draining_ = false;
  bool closed_ = false;
};

}  // namespace qp::frontend
