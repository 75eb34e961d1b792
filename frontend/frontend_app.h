// The frontend process: HTTP routes, request validation, and the mapping of
// HTTP requests to broker jobs. Wiring only: parsing lives in openai/, the
// broker link in broker_client, per-request streaming in chat_call.
//
// Threading: one libuv loop; nothing here is thread-safe.
#pragma once

#include <functional>
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
#include "frontend/anthropic/messages_request.h"
#include "frontend/api_call.h"
#include "frontend/broker_client.h"
#include "frontend/chat_call.h"
#include "frontend/client_auth.h"
#include "frontend/frontend_metrics.h"
#include "frontend/keys_file_watch.h"
#include "frontend/models_cache.h"
#include "frontend/openai/chat_request.h"
#include "frontend/openai/media_request.h"
#include "frontend/request_observer.h"
#include "frontend/responses/response_store.h"
#include "frontend/responses/responses_request.h"
#include "frontend/video_store.h"

namespace qp::frontend {

class FrontendApp {
 public:
  FrontendApp(uv_loop_t* loop, Config config);
  ~FrontendApp();

  // Which of several frontend processes this is (`--index K`, before
  // start()): names it towards the broker ("frontend-K-…"), in /health
  // ("frontend": {"index", "pid"}) and in /metrics (label frontend="K").
  // -1 (default): the only one; /health says index 0 and /metrics has no
  // such label.
  void set_process_index(int index) { process_index_ = index; }
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
  // POST /v1/messages and /v1/messages/count_tokens (Anthropic).
  void handle_messages(http::Exchange ex, const Caller& caller, bool count_only);
  void submit_messages(http::Exchange ex, anthropic::MessagesRequest m, const std::string& rid,
                       const Caller& caller);
  // POST /v1/responses and GET /v1/responses/{id} (OpenAI Responses API).
  void handle_responses(http::Exchange ex, const Caller& caller);
  void submit_responses(http::Exchange ex, responses::ResponsesRequest r, const std::string& rid,
                        const Caller& caller);
  void handle_response_get(http::Exchange ex, std::string_view id, const Caller& caller);
  // Images and video (frontend_media.cc).
  void handle_images(http::Exchange ex, const Caller& caller);
  void handle_image_edits(http::Exchange ex, const Caller& caller);
  void handle_videos(http::Exchange ex, const Caller& caller);
  void handle_video_get(http::Exchange ex, std::string_view id, const Caller& caller);
  enum class MediaKind { kImage, kVideo, kImageEdit };
  void submit_media(http::Exchange ex, MediaRequest r, const std::string& rid, const Caller& caller,
                    MediaKind kind);
  // The job's "<model>-image" / "<model>-video" / "<model>-image-edit" for
  // the requested model.
  bool resolve_media_model(std::string_view requested, MediaKind kind, std::string* job_model,
                           ApiError* err) const;
  // When `model` is not in a fresh model list and a fetch is under way: runs
  // `then` once the list arrives (or answers the fetch's 503) and returns true.
  // An image for a model whose capabilities lack vision: answers 400
  // model_not_vision_capable (naming the models that have it), true.
  bool refuse_non_vision(http::Exchange& ex, const protocol::JobRequest& job,
                         const std::string& rid, const Caller& caller);
  bool defer_until_models(http::Exchange ex, const std::string& model, const std::string& rid,
                          std::function<void()> then);
  // Stamps the job (id, times) and takes the caller's slot; false: answered.
  // The whole-request safety net for a job of this model (longer for
  // long-running variants such as deep research); 0 = none.
  uint64_t request_timeout_ms(std::string_view model) const;
  bool admit_job(http::Exchange& ex, protocol::JobRequest& job, const std::string& rid,
                 const Caller& caller, KeyLease* lease);
  RequestRecord make_record(const protocol::JobRequest& job, const std::string& rid,
                            const Caller& caller, std::string_view endpoint) const;
  // Sends the job and keeps `call` until it finishes.
  void launch(http::Exchange ex, const protocol::JobRequest& job, std::unique_ptr<ApiCall> call,
              const Caller& caller);
  void handle_models(http::Exchange ex, std::string_view id, const Caller& caller);
  void handle_health(http::Exchange ex);
  void handle_metrics(http::Exchange ex);
  // The error response for a request no ApiCall answers. An API request
  // (/v1/...) is also reported to the observers (on_end without on_start);
  // `model` is kept only if the model list knows it.
  void reply_error(http::Exchange& ex, const ApiError& e, const std::string& request_id,
                   std::string_view model = {}, const Caller* caller = nullptr);
  // Reports a request answered without an ApiCall to the observers.
  void report_end(std::string_view endpoint, std::string_view model, const Caller* caller,
                  const std::string& request_id, const ApiError* e);
  void fetch_models();
  void on_job_finished(const std::string& request_id);
  // Ends live request `id` with an operator-cancelled error (admin API).
  bool cancel_by_operator(const std::string& id);
  void on_sweep();
  void on_drain_tick();  // while draining: closes once idle or past the deadline
  std::string new_request_id(const http::Request& req);
  void close_now();

  uv_loop_t* loop_;
  Config config_;
  zmq::context_t zmq_ctx_;
  std::unique_ptr<BrokerClient> broker_;
  std::unique_ptr<http::Server> server_;
  ChatRequestParser parser_;
  anthropic::MessagesRequestParser messages_parser_;
  responses::ResponsesRequestParser responses_parser_;
  // Before calls_: a ResponsesCall writes finished responses to it.
  std::unique_ptr<responses::ResponseStore> response_store_;
  ModelsCache models_;
  // Before calls_: a call's KeyLease gives its slot back to auth_.
  // Before calls_: a call reports its end to the observers when destroyed
  // unfinished. Objects added to observers_ must be declared before calls_ too.
  FrontendMetrics metrics_;
  RequestObservers observers_;
  std::unique_ptr<admin::AdminApi> admin_;  // an observer: before calls_
  std::unique_ptr<ClientAuth> auth_;
  VideoStore videos_;  // async POST /v1/videos (frontend memory, bounded)
  std::unique_ptr<KeysFileWatch> keys_watch_;
  std::unordered_map<std::string, std::unique_ptr<ApiCall>> calls_;
  std::unordered_map<std::string, uint64_t> deadlines_ms_;  // request id -> loop time
  std::unique_ptr<ModelsFetch> models_fetch_;
  uv::Timer sweep_;
  uv::Timer drain_;
  uint64_t drain_deadline_ms_ = 0;
  bool draining_ = false;
  int process_index_ = -1;  // set_process_index()
  bool closed_ = false;
};

}  // namespace qp::frontend
