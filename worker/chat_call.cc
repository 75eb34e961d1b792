#include "worker/chat_call.h"

#include <exception>
#include <utility>

#include "common/conversation/history_key.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/uv/callback.h"
#include "worker/chat_pool.h"
#include "worker/long_input.h"
#include "worker/new_chat_parser.h"
#include "worker/prompt_builder.h"
#include "worker/response_format.h"
#include "worker/toolcalls/prompt_render.h"
#include "worker/worker_metrics.h"

namespace qp::worker {
namespace {

UpstreamFailure internal_failure(const Status& s) {
  return UpstreamFailure{Code::kInternal,
                         "worker failed to start the upstream request: " + s.message(), 0, nullptr};
}

toolcalls::ToolPlan plan_of(const protocol::JobRequest& job) {
  auto plan = toolcalls::plan_tools(job);
  if (plan) return std::move(plan.value());
  QP_WARN("tools.plan_failed").kv("request_id", job.request_id).kv("error", plan.error().message());
  return {};
}

}  // namespace

ChatCall::ChatCall(QwenClient* client, protocol::JobRequest job, ChatHandler* handler)
    : client_(client),
      handler_(handler),
      job_(std::move(job)),
      request_id_(job_.request_id),
      variant_(apply_features(parse_model_variant(job_.model), job_.features)),
      plan_(plan_of(job_)),
      pipeline_(job_.stop, job_.max_tokens, plan_, this) {
  // The reply as the client gets it: a non-streamed JSON answer loses its
  // fence (common/conversation/assistant_message.h).
  pipeline_.set_unfenced_json(!job_.stream &&
                              !response_format_instruction(job_.response_format).empty());
  continuing_ = !job_.resume.chat_id.empty();
  if (continuing_) {
    chat_id_ = job_.resume.chat_id;
    parent_id_ = job_.resume.parent_id;
    bool system_changed = job_.history.system_hash != job_.resume.system_hash;
    // The tool definitions again only if the tool set changed (Roo changes
    // tools with its mode); the chat holds them otherwise.
    bool tools_changed = job_.history.tools_hash != job_.resume.tools_hash;
    prompt_ = compose(build_continuation(job_.messages, job_.history.new_from, system_changed),
                      tools_changed);
  } else {
    prompt_ = replay_prompt();
  }
}

ChatCall::~ChatCall() = default;  // the requests abort their transfers

std::string ChatCall::compose(std::string body, bool with_tools) const {
  std::string out;
  if (with_tools && plan_.mode == toolcalls::ToolMode::kNative) {
    out = toolcalls::render_tool_section(plan_);
    if (!out.empty()) out.append("\n\n");
  }
  out.append(body);
  if (plan_.mode == toolcalls::ToolMode::kXml) {
    std::string reminder = toolcalls::render_xml_reminder(plan_);
    if (!reminder.empty()) out.append("\n\n").append(reminder);
  }
  std::string instruction = response_format_instruction(job_.response_format);
  if (!instruction.empty()) out.append("\n\n").append(instruction);
  return out;
}

std::string ChatCall::replay_prompt() {
  std::string full = compose(build_prompt(job_.messages), true);
  size_t limit = client_->long_input_bytes();
  if (limit == 0 || full.size() <= limit) return full;
  LongInputSplit split = split_long_input(job_.messages);
  if (split.context.empty()) return full;  // a lone message stays inline
  std::string file;
  if (plan_.mode == toolcalls::ToolMode::kNative) {
    file = toolcalls::render_tool_section(plan_);
    if (!file.empty()) file.append("\n\n");
  }
  file.append(split.context);
  QP_DEBUG("upstream.long_input")
      .kv("request_id", request_id_)
      .kv("prompt_bytes", static_cast<uint64_t>(full.size()))
      .kv("file_bytes", static_cast<uint64_t>(file.size()));
  context_file_ = protocol::Attachment{};
  context_file_.kind = "file";
  context_file_.mime = "text/plain";
  context_file_.name = kContextFileName;
  context_file_.bytes.data = std::move(file);
  uploaded_ = false;  // (again, for a replay after a failed continuation)
  media_.clear();
  return compose(long_input_message(split.latest), /*with_tools=*/false);
}

Status ChatCall::start() {
  if (phase_ != Phase::kIdle) return error(Code::kInternal, "ChatCall started twice");
  if (continuing_) {
    QP_DEBUG("upstream.chat_continued")
        .kv("request_id", request_id_)
        .kv("chat_id", chat_id_)
        .kv("parent_id", parent_id_)
        .kv("messages", static_cast<uint64_t>(job_.messages.size() - job_.history.new_from));
    return begin_completion();
  }
  // Deep research is rare and long: no pre-created chat (the pool holds
  // t2t/search chats), and none kept warm for it.
  ChatPool* pool = variant_.deep_research ? nullptr : client_->chat_pool();
  if (pool != nullptr) {
    chat_id_ = pool->take(variant_);
    if (WorkerMetrics* m = client_->metrics()) m->count_pool(!chat_id_.empty());
    if (!chat_id_.empty()) {
      QP_DEBUG("upstream.chat_prewarmed").kv("request_id", request_id_).kv("chat_id", chat_id_);
      return begin_completion();
    }
  }
  return start_new_chat();
}

Status ChatCall::start_new_chat() {
  phase_ = Phase::kNewChat;
  chat_id_.clear();
  int64_t now_ms = uv::now_unix_ms();
  new_chat_ = std::make_unique<HttpRequest>(
      client_->multi(),
      client_->make_lean_spec(
          Endpoint::kNewChat, {},
          new_chat_body(variant_.upstream_model, chat_type_of(variant_), now_ms)),
      listener());
  Status s = new_chat_->start();
  if (!s.ok()) phase_ = Phase::kEnded;
  return s;
}

void ChatCall::cancel() {
  if (phase_ == Phase::kEnded) return;
  bool generating = phase_ == Phase::kStreaming;
  phase_ = Phase::kEnded;
  if (new_chat_) new_chat_->abort();
  if (completion_) completion_->abort();
  if (upload_) upload_->cancel();
  if (retry_timer_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(retry_timer_.get());
  if (generating && !chat_id_.empty()) client_->stop_generation(chat_id_);
  release_chat();
}

void ChatCall::release_chat() {
  // Optional clean-up (upstream.delete_chats) of a chat that will never be
  // used again: not a continued conversation's chat (other turns live
  // there), and not one whose turn is indexed for continuation.
  if (continuing_ || chat_id_.empty() || !client_->delete_chats()) return;
  client_->delete_chat_soon(chat_id_);
}

void ChatCall::on_complete(HttpResult result) {
  if (phase_ == Phase::kNewChat) {
    on_new_chat(std::move(result));
  } else if (phase_ == Phase::kStreaming) {
    on_stream_end(std::move(result));
  }
}

void ChatCall::on_new_chat(HttpResult result) {
  if (result.failure) return fail(*result.failure, /*transport=*/true);
  if (result.status == 200) {
    auto id = parse_new_chat(result.body);
    if (id) {
      chat_id_ = std::move(id.value());
      QP_DEBUG("upstream.chat_created").kv("request_id", request_id_).kv("chat_id", chat_id_);
      return start_completion();
    }
    if (!is_error_json(result.body) && !has_waf_marker(result.body)) {
      return fail(UpstreamFailure{Code::kUpstream, id.error().message(), 0, nullptr});
    }
  }
  UpstreamFailure f = classify_response(result.status, result.content_type, result.body);
  if (retry(retry_cause(result.body), f)) return;
  fail(f);
}

void ChatCall::start_completion() {
  Status s = begin_completion();
  if (!s.ok()) fail(internal_failure(s));
}

bool ChatCall::upload_first(Status* s) {
  if (uploaded_) return false;
  std::vector<const protocol::Attachment*> items;
  if (!context_file_.bytes.empty()) items.push_back(&context_file_);
  size_t from = continuing_ ? job_.history.new_from : 0;
  for (size_t i = from; i < job_.messages.size(); ++i) {
    for (const auto& a : job_.messages[i].attachments) items.push_back(&a);
  }
  if (items.empty()) {
    uploaded_ = true;
    return false;
  }
  upload_ = std::make_unique<UploadCall>(client_, request_id_, std::move(items),
                                         [this](const UpstreamFailure* f) { on_uploaded(f); });
  *s = upload_->start();
  if (!s->ok()) phase_ = Phase::kEnded;
  return true;
}

void ChatCall::on_uploaded(const UpstreamFailure* failure) {
  if (phase_ == Phase::kEnded) return;
  if (failure != nullptr) return fail(*failure);
  uploaded_ = true;
  media_ = upload_->media();
  start_completion();
}

Status ChatCall::begin_completion() {
  if (Status s; upload_first(&s)) return s;
  pipeline_.begin_attempt(tool_attempt_);
  std::string fid = ids::uuid4();
  std::string child = ids::uuid4();
  CompletionParams p;
  p.chat_id = chat_id_;
  p.model = variant_.upstream_model;
  p.content = prompt_;
  p.thinking = variant_.thinking;
  p.thinking_budget = job_.features.thinking_budget;
  p.search = variant_.search;
  p.auto_search = variant_.auto_search;
  p.deep_research = variant_.deep_research;
  p.fid = fid;
  p.child_id = child;
  p.parent_id = parent_id_;
  p.timestamp_s = uv::now_unix_ms() / 1000;
  p.media = &media_;
  std::string body = completion_body(p);  // prompt_ is kept for a retry
  phase_ = Phase::kStreaming;
  HttpRequestSpec spec = client_->make_lean_spec(Endpoint::kCompletion, chat_id_, std::move(body));
  if (variant_.deep_research) {
    // Minutes of research with long silences between events (docs/configuration.md
    // upstream.long_idle_timeout_ms; 0 = no bound).
    spec.first_byte_timeout_ms = client_->long_idle_timeout_ms();
    spec.idle_timeout_ms = client_->long_idle_timeout_ms();
  }
  completion_ = std::make_unique<HttpRequest>(client_->multi(), std::move(spec), listener());
  Status s = completion_->start();
  if (!s.ok()) phase_ = Phase::kEnded;
  return s;
}

bool ChatCall::on_stream_data(std::string_view bytes) {
  if (phase_ != Phase::kStreaming) return false;
  return on_step(pipeline_.feed(bytes));
}

void ChatCall::on_stream_end(HttpResult result) {
  if (result.failure) return fail(*result.failure, /*transport=*/true);
  if (!result.streamed) {
    UpstreamFailure f = classify_response(result.status, result.content_type, result.body);
    if (retry(retry_cause(result.body), f)) return;
    return fail(f);
  }
  if (!on_step(pipeline_.end_of_input())) return;
  fail(stream_ended_early());
}

// Runs inside libcurl's write callback: a false return ends the transfer,
// and the stop requests start on the next loop turn.
bool ChatCall::on_step(AnswerStep step) {
  switch (step) {
    case AnswerStep::kMore:
      return true;
    case AnswerStep::kFinished:
      finish();
      return false;
    case AnswerStep::kLength:
      end_early("length");
      return false;
    case AnswerStep::kStopSequence:
      end_early("stop");
      return false;
    case AnswerStep::kToolStop:
      // The client has its one call (or XML mode's one tool use): the rest of
      // the generation is not needed. Unlike a stop sequence, the turn stays
      // continuable: the call the client saw is the end of the reply.
      QP_DEBUG("tools.upstream_stopped").kv("request_id", request_id_).kv("chat_id", chat_id_);
      if (!chat_id_.empty()) client_->stop_generation_soon(chat_id_);
      finish();
      return false;
    case AnswerStep::kEventError:
      if (retry(pipeline_.error_cause(), pipeline_.failure())) return false;
      pipeline_.flush();
      fail(pipeline_.failure());
      return false;
    case AnswerStep::kStreamError:
      fail(UpstreamFailure{Code::kUpstream, pipeline_.stream_error().message(), 0, nullptr});
      return false;
  }
  return false;
}

void ChatCall::on_answer_chunk(protocol::JobChunk& chunk) { handler_->on_chat_delta(chunk); }

void ChatCall::on_tool_warning(std::string_view detail) {
  QP_WARN("tools.warning").kv("request_id", request_id_).kv("detail", detail);
}

void ChatCall::finish(const char* finish_reason) {
  if (pipeline_.end_answer(tool_attempt_ == 0 && !pipeline_.forwarded())) return retry_tools();
  if (!cut_ && !pipeline_.forwarded() && pipeline_.held() == 0) {
    // The answer ended with nothing in it (no content, reasoning or tool
    // call): try once more in a new chat, then say so instead of returning
    // an empty success.
    UpstreamFailure empty{Code::kUpstream,
                          "the upstream model returned an empty answer (no content, reasoning or "
                          "tool call), also when asked again in a new chat",
                          0, nullptr, "empty_response"};
    if (retry(RetryCause::kEmptyAnswer, empty)) return;
    return fail(empty);
  }
  if (!pipeline_.tool_finish_reason().empty()) finish_reason = "tool_calls";
  phase_ = Phase::kEnded;
  const QwenEventInterpreter& events = pipeline_.events();
  ChatResult r;
  r.finish_reason = finish_reason;
  if (finish_reason == std::string_view("stop")) r.stop_sequence = pipeline_.stop_matched();
  r.usage = pipeline_.usage(finish_reason);
  r.chat_id = events.chat_id().empty() ? chat_id_ : events.chat_id();
  r.response_id = events.response_id();
  r.sources = events.sources();
  if (!cut_ && !r.response_id.empty() && !r.chat_id.empty()) {
    r.session_key = conversation::key_after_reply(job_.history.state, pipeline_.reply());
  }
  if (r.session_key.empty()) release_chat();
  handler_->on_chat_done(r);
}

void ChatCall::end_early(const char* finish_reason) {
  cut_ = true;
  QP_DEBUG("upstream.answer_cut")
      .kv("request_id", request_id_)
      .kv("chat_id", chat_id_)
      .kv("finish_reason", finish_reason);
  if (!chat_id_.empty()) client_->stop_generation_soon(chat_id_);
  finish(finish_reason);
}

// The same chat, as the next turn after the reply without a call.
void ChatCall::retry_tools() {
  QP_INFO("tools.retry").kv("request_id", request_id_).kv("chat_id", chat_id_);
  tool_attempt_ = 1;
  std::string reply = pipeline_.events().response_id();
  if (!reply.empty()) parent_id_ = reply;
  prompt_ = toolcalls::render_retry_instruction(plan_);
  phase_ = Phase::kRetryWait;
  retry_new_chat_ = false;
  arm_retry_timer(0);
}

bool ChatCall::retry(RetryCause cause, const UpstreamFailure& failure) {
  if (cause == RetryCause::kNone || phase_ == Phase::kEnded) return false;
  // Text held back by the stop filter counts as seen: no retry then.
  RetryDecision d = decide_retry(cause, pipeline_.forwarded() || pipeline_.held() > 0, &retries_);
  if (d.action == RetryAction::kFail) return false;
  if (WorkerMetrics* m = client_->metrics()) {
    m->count_error(failure, /*transport=*/false);
    m->count_retry(cause);
  }
  if (retry_timer_.base()->type == UV_UNKNOWN_HANDLE) {
    if (uv_timer_init(client_->multi()->loop(), retry_timer_.get()) != 0) return false;
  }
  retry_new_chat_ = d.action == RetryAction::kNewChat || chat_id_.empty();
  QP_INFO("upstream.retry")
      .kv("request_id", request_id_)
      .kv("cause", retry_cause_name(cause))
      .kv("action", retry_new_chat_ ? "new_chat" : "stop_and_retry")
      .kv("delay_ms", d.delay_ms)
      .kv("chat_id", chat_id_)
      .kv("error", failure.message);
  if (d.action == RetryAction::kStopAndRetry && !chat_id_.empty()) {
    // We may be inside a libcurl callback: the stop starts on the next turn.
    client_->stop_generation_soon(chat_id_);
  }
  // Nothing was forwarded: what the failed attempt parsed is dropped when
  // the next attempt begins (AnswerPipeline::begin_attempt).
  phase_ = Phase::kRetryWait;
  arm_retry_timer(d.delay_ms);
  return true;
}

// Always through the timer: we may be inside the failed transfer's
// callbacks, where it must not be destroyed and curl adds no transfer.
void ChatCall::arm_retry_timer(uint64_t delay_ms) {
  if (retry_timer_.base()->type == UV_UNKNOWN_HANDLE) {
    uv_timer_init(client_->multi()->loop(), retry_timer_.get());
  }
  retry_timer_.get()->data = this;
  uv_timer_start(retry_timer_.get(), uv::method<&ChatCall::on_retry_timer>, delay_ms, 0);
}

void ChatCall::on_retry_timer() {
  if (phase_ != Phase::kRetryWait) return;
  new_chat_.reset();
  completion_.reset();
  if (retry_new_chat_) {
    release_chat();  // the abandoned chat (never the conversation's own)
    if (continuing_) {
      // The conversation's chat cannot be continued: replay it all in a new one.
      QP_INFO("session.replay")
          .kv("request_id", request_id_)
          .kv("chat_id", chat_id_)
          .kv("reason", "upstream refused the continuation");
      continuing_ = false;
      parent_id_.clear();
      // The new chat gets every message's images and files, not only the new ones.
      uploaded_ = false;
      media_.clear();
      prompt_ = replay_prompt();
    }
    Status s = start_new_chat();
    if (!s.ok()) fail(internal_failure(s));
    return;
  }
  start_completion();
}

void ChatCall::fail(const UpstreamFailure& failure, bool transport) {
  if (WorkerMetrics* m = client_->metrics()) m->count_error(failure, transport);
  phase_ = Phase::kEnded;
  release_chat();
  handler_->on_chat_error(failure);
}

}  // namespace qp::worker
