// FrontendApp's model list job (frontend_models.cc): one /v1/models list
// request to the broker at a time; every request that arrives while it is in
// flight waits for the same answer.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "frontend/frontend_app.h"

namespace qp::frontend {

class FrontendApp::ModelsFetch : public JobSink {
 public:
  ModelsFetch(FrontendApp* app, std::string request_id)
      : app_(app), request_id_(std::move(request_id)) {}
  void wait(http::Exchange ex, std::string model_id, std::string rid, Caller caller);
  // Runs `fn` once the fetch ends: with nullptr after a list, else with the error.
  using Then = std::function<void(const protocol::JobError*)>;
  void then(Then fn) { then_.push_back(std::move(fn)); }
  void on_chunk(const protocol::JobChunk&) override {}
  void on_done(const protocol::JobDone&) override;
  void on_error(const protocol::JobError& e) override;
  void on_models(const protocol::ModelList& list) override;
  const std::string& request_id() const { return request_id_; }

 private:
  struct Waiter {
    http::Exchange ex;
    std::string model_id;
    std::string rid;
    Caller caller;
  };
  void run_then(const protocol::JobError* e);

  FrontendApp* app_;
  std::string request_id_;
  std::vector<Waiter> waiters_;
  std::vector<Then> then_;
};

}  // namespace qp::frontend
