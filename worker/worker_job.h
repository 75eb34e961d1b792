// Worker::Job, one in-flight job: routes the upstream call's callbacks to
// the Worker. Private to the worker's own files (worker*.cc).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "worker/chat_call.h"
#include "worker/media_call.h"
#include "worker/worker.h"

namespace qp::worker {

struct Worker::Job final : ChatHandler, ModelsHandler {
  Worker* worker = nullptr;
  std::string request_id;
  protocol::JobKind kind = protocol::JobKind::kChat;
  std::unique_ptr<ChatCall> chat;
  std::unique_ptr<ModelsCall> models;
  std::unique_ptr<MediaCall> media;  // image / video variants
  uint64_t started_ms = 0;
  uint64_t health_epoch = 0;  // Worker::health_epoch_ when the job started
  uint64_t chunks = 0;
  bool ended = false;

  void cancel() {
    if (chat) chat->cancel();
    if (models) models->cancel();
    if (media) media->cancel();
  }
  void on_chat_delta(protocol::JobChunk& chunk) override { worker->job_delta(this, chunk); }
  void on_chat_done(const ChatResult& result) override { worker->job_done(this, result); }
  void on_chat_error(const UpstreamFailure& f) override { worker->job_error(this, f); }
  void on_models(std::vector<protocol::ModelInfo> list) override {
    worker->job_models(this, std::move(list));
  }
  void on_models_error(const UpstreamFailure& f) override { worker->job_error(this, f); }
};

}  // namespace qp::worker
