#include "worker/qwen_client.h"

#include <ctime>
#include <exception>

#include "common/conversation/history_key.h"
#include "common/ids.h"
#include "common/json/json_output.h"
#include "common/json/writer.h"
#include "common/log.h"
#include "common/uv/handle.h"
#include "worker/chat_pool.h"
#include "worker/long_input.h"
#include "worker/models_parser.h"
#include "worker/new_chat_parser.h"
#include "worker/prompt_builder.h"
#include "worker/response_format.h"
#include "worker/tools/prompt_render.h"
#include "worker/upstream_recorder.h"
#include "worker/worker_metrics.h"

namespace qp::worker {
namespace {
// The prompt plus the response_format instruction, if any.
std::string with_format(std::string prompt, const std::string& response_format) {
  std::string instruction = response_format_instruction(response_format);
  if (!instruction.empty()) prompt.append("\n\n").append(instruction);
  return prompt;
}
}  // namespace

namespace {

constexpr uint64_t kStopTimeoutMs = 15'000;
constexpr size_t kMaxModelsBytes = size_t{8} * 1024 * 1024;

UpstreamFailure internal_failure(const Status& s) {
  return UpstreamFailure{Code::kInternal,
                         "worker failed to start the upstream request: " + s.message(), 0, nullptr};
}

}  // namespace

// ---------------------------------------------------------------------------
// ChatCall

ChatCall::ChatCall(QwenClient* client, protocol::JobRequest job, ChatHandler* handler)
    : client_(client),
      handler_(handler),
      job_(std::move(job)),
      request_id_(job_.request_id),
      variant_(apply_features(parse_model_variant(job_.model), job_.features)),
      stop_(job_.stop),
      max_tokens_(job_.max_tokens) {
  chunk_.request_id = job_.request_id;
  if (auto plan = tools::plan_tools(job_); plan) {
    plan_ = std::move(plan.value());
  } else {
    QP_WARN("tools.plan_failed").kv("request_id", request_id_).kv("error", plan.error().message());
  }
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

std::string ChatCall::compose(std::string body, bool with_tools) const {
  std::string out;
  if (with_tools && plan_.mode == tools::ToolMode::kNative) {
    out = tools::render_tool_section(plan_);
    if (!out.empty()) out.append("\n\n");
  }
  out.append(body);
  if (plan_.mode == tools::ToolMode::kXml) {
    std::string reminder = tools::render_xml_reminder(plan_);
    if (!reminder.empty()) out.append("\n\n").append(reminder);
  }
  return with_format(std::move(out), job_.response_format);
}

std::string ChatCall::replay_prompt() {
  std::string full = compose(build_prompt(job_.messages), true);
  size_t limit = client_->long_input_bytes();
  if (limit == 0 || full.size() <= limit) return full;
  LongInputSplit split = split_long_input(job_.messages);
  if (split.context.empty()) return full;  // a lone message stays inline
  std::string file;
  if (plan_.mode == tools::ToolMode::kNative) {
    file = tools::render_tool_section(plan_);
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

ChatCall::~ChatCall() = default;  // the requests abort their transfers

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
      client_->make_spec(Endpoint::kNewChat, {},
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
  if (tools_on()) {
    tools::StreamOptions options;
    options.attempt = tool_attempt_;
    tstream_ = tools::make_tool_stream(plan_, std::move(options));
    tool_stopped_ = false;
  }
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
  HttpRequestSpec spec = client_->make_spec(Endpoint::kCompletion, chat_id_, std::move(body));
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
  sse_.feed(bytes);
  return drain();
}

bool ChatCall::drain() {
  std::string_view data;
  while (sse_.next(&data)) {
    // With stop sequences the answer text goes through the filter first.
    std::string* text = &chunk_.content;
    if (stop_.active()) {
      raw_.clear();
      text = &raw_;
    }
    size_t text_before = text->size();
    size_t reasoning_before = chunk_.reasoning.size();
    EventOutcome o = events_.interpret(data, text, &chunk_.reasoning);
    if (o == EventOutcome::kContinue && limit_hit_ &&
        (text->size() > text_before || chunk_.reasoning.size() > reasoning_before)) {
      // max_tokens was reached and the model goes on: drop this text.
      text->resize(text_before);
      chunk_.reasoning.resize(reasoning_before);
      flush();
      return end_early("length");
    }
    if (stop_.active() && stop_.feed(raw_, &chunk_.content)) {
      flush();
      return end_early("stop");
    }
    if (o == EventOutcome::kContinue) {
      // output_tokens is cumulative and counts reasoning too (as OpenAI's
      // max_completion_tokens does). The answer ends with "length" only if
      // more text follows: a model that finishes right at the limit stops.
      if (max_tokens_ > 0 && !limit_hit_ && events_.usage().output_tokens >= max_tokens_) {
        limit_hit_ = true;
        limit_usage_ = events_.usage();
      }
      continue;
    }
    if (o == EventOutcome::kError && retry(retry_cause(data), events_.failure())) return false;
    if (o == EventOutcome::kFinished) stop_.finish(&chunk_.content);  // held-back text
    flush();
    if (o == EventOutcome::kFinished) {
      finish();
    } else {
      fail(events_.failure());
    }
    return false;
  }
  flush();
  if (tool_stopped_) {
    // The client has its one call (or XML mode's one tool use): the rest of
    // the generation is not needed. Unlike a stop sequence, the turn stays
    // continuable: the call the client saw is the end of the reply.
    QP_DEBUG("tools.upstream_stopped").kv("request_id", request_id_).kv("chat_id", chat_id_);
    if (!chat_id_.empty()) client_->stop_generation_soon(chat_id_);
    finish();
    return false;
  }
  if (!sse_.status().ok()) {
    fail(UpstreamFailure{Code::kUpstream, sse_.status().message(), 0, nullptr});
    return false;
  }
  return true;
}

void ChatCall::flush() {
  if (chunk_.content.empty() && chunk_.reasoning.empty()) return;
  if (tools_on() && tstream_) {
    if (!chunk_.reasoning.empty()) {
      std::string text = std::move(chunk_.content);
      chunk_.content.clear();
      forwarded_ = true;
      handler_->on_chat_delta(chunk_);  // reasoning only
      chunk_.reasoning.clear();
      chunk_.content = std::move(text);
    }
    if (!chunk_.content.empty()) {
      feed_tools(chunk_.content);
      chunk_.content.clear();
    }
    return;
  }
  forwarded_ = true;
  answer_.append(chunk_.content);
  handler_->on_chat_delta(chunk_);
  chunk_.content.clear();
  chunk_.reasoning.clear();
}

void ChatCall::feed_tools(std::string_view text) {
  if (tool_stopped_) return;
  tout_.clear();
  tstream_->feed(text, &tout_);
  forward_tool_output();
  if (tstream_->stop_upstream()) tool_stopped_ = true;
}

void ChatCall::forward_tool_output() {
  for (const std::string& w : tout_.warnings) {
    QP_WARN("tools.warning").kv("request_id", request_id_).kv("detail", w);
  }
  for (protocol::JobChunk& c : tout_.chunks) {
    if (c.content.empty() && c.reasoning.empty() && c.tool_calls.empty()) continue;
    c.request_id = request_id_;
    answer_.append(c.content);
    for (const auto& d : c.tool_calls) {
      // The calls as the client will send them back, for the session key.
      if (!d.id.empty()) {
        if (!tool_calls_json_.empty()) tool_calls_json_.append("\"}},");
        tool_calls_json_.append("{\"id\":");
        json::append_quoted(&tool_calls_json_, d.id);
        tool_calls_json_.append(",\"type\":\"function\",\"function\":{\"name\":");
        json::append_quoted(&tool_calls_json_, d.name);
        tool_calls_json_.append(",\"arguments\":\"");
      }
      if (!d.arguments.empty()) json::append_escaped(&tool_calls_json_, d.arguments);
    }
    forwarded_ = true;
    handler_->on_chat_delta(c);
  }
  tout_.clear();
}

// The end of the answer for the tool stream: false if the call goes on (a
// retry with the firmer instruction was started).
bool ChatCall::end_tool_answer() {
  if (!tools_on() || !tstream_) return true;
  tout_.clear();
  tstream_->finish(&tout_);
  if (tstream_->retry_wanted() && tool_attempt_ == 0 && !forwarded_) {
    tout_.clear();
    // The same chat, as the next turn after the reply without a call.
    QP_INFO("tools.retry").kv("request_id", request_id_).kv("chat_id", chat_id_);
    tool_attempt_ = 1;
    std::string reply = events_.response_id();
    if (!reply.empty()) parent_id_ = reply;
    prompt_ = tools::render_retry_instruction(plan_);
    phase_ = Phase::kRetryWait;
    retry_new_chat_ = false;
    if (retry_timer_.base()->type == UV_UNKNOWN_HANDLE) {
      uv_timer_init(client_->multi()->loop(), retry_timer_.get());
    }
    retry_timer_.get()->data = this;
    uv_timer_start(
        retry_timer_.get(),
        [](uv_timer_t* t) {
          auto* self = static_cast<ChatCall*>(t->data);
          if (self == nullptr) return;
          try {
            self->on_retry_timer();
          } catch (...) {
            QP_ERROR("upstream.retry_exception");
          }
        },
        0, 0);
    return false;
  }
  forward_tool_output();
  return true;
}

void ChatCall::on_stream_end(HttpResult result) {
  if (result.failure) return fail(*result.failure, /*transport=*/true);
  if (!result.streamed) {
    UpstreamFailure f = classify_response(result.status, result.content_type, result.body);
    if (retry(retry_cause(result.body), f)) return;
    return fail(f);
  }
  sse_.finish();  // the last event may lack its blank line
  if (!drain()) return;
  fail(stream_ended_early());
}

void ChatCall::finish(const char* finish_reason) {
  if (!end_tool_answer()) return;
  if (!cut_ && !forwarded_ && stop_.held() == 0) {
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
  if (tools_on() && tstream_ && !tstream_->finish_reason().empty()) finish_reason = "tool_calls";
  phase_ = Phase::kEnded;
  ChatResult r;
  r.finish_reason = finish_reason;
  if (finish_reason == std::string_view("stop")) r.stop_sequence = stop_.matched();
  r.usage = finish_reason == std::string_view("length") ? limit_usage_ : events_.usage();
  r.chat_id = events_.chat_id().empty() ? chat_id_ : events_.chat_id();
  r.response_id = events_.response_id();
  r.sources = events_.sources();
  if (!cut_ && !r.response_id.empty() && !r.chat_id.empty()) {
    // Hash the answer as the client gets it (a non-streamed JSON answer loses its fence).
    std::string_view returned = answer_;
    if (!job_.stream && !response_format_instruction(job_.response_format).empty()) {
      returned = json::returned_json_answer(answer_);
    }
    if (!tool_calls_json_.empty()) tool_calls_json_ = "[" + tool_calls_json_ + "\"}}]";
    r.session_key = conversation::key_after_reply(job_.history.state, returned, tool_calls_json_);
  }
  if (r.session_key.empty()) release_chat();
  handler_->on_chat_done(r);
}

bool ChatCall::end_early(const char* finish_reason) {
  cut_ = true;
  QP_DEBUG("upstream.answer_cut")
      .kv("request_id", request_id_)
      .kv("chat_id", chat_id_)
      .kv("finish_reason", finish_reason);
  // drain() runs inside libcurl's write callback: the false it returns ends
  // the transfer, and the stop request starts on the next loop turn.
  if (!chat_id_.empty()) client_->stop_generation_soon(chat_id_);
  finish(finish_reason);
  return false;
}

bool ChatCall::retry(RetryCause cause, const UpstreamFailure& failure) {
  if (cause == RetryCause::kNone || phase_ == Phase::kEnded) return false;
  // Text held back by the stop filter counts as seen: no retry then.
  RetryDecision d = decide_retry(cause, forwarded_ || stop_.held() > 0, &retries_);
  if (d.action == RetryAction::kFail) return false;
  if (WorkerMetrics* m = client_->metrics()) {
    m->count_error(failure, /*transport=*/false);
    m->count_retry(cause);
  }
  if (retry_timer_.base()->type == UV_UNKNOWN_HANDLE) {
    if (uv_timer_init(client_->multi()->loop(), retry_timer_.get()) != 0) return false;
  }
  retry_timer_.get()->data = this;
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
  // Nothing was forwarded: what the failed attempt parsed is dropped.
  chunk_.content.clear();
  chunk_.reasoning.clear();
  phase_ = Phase::kRetryWait;
  // Always through the timer: we may be inside the failed transfer's
  // callbacks, where it must not be destroyed and curl adds no transfer.
  uv_timer_start(
      retry_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<ChatCall*>(t->data);
        if (self == nullptr) return;
        try {
          self->on_retry_timer();
        } catch (const std::exception& e) {
          QP_ERROR("upstream.retry_exception").kv("error", e.what());
        } catch (...) {
          QP_ERROR("upstream.retry_exception");
        }
      },
      d.delay_ms, 0);
  return true;
}

void ChatCall::on_retry_timer() {
  if (phase_ != Phase::kRetryWait) return;
  new_chat_.reset();
  completion_.reset();
  sse_ = SseParser();
  events_.reset();
  limit_hit_ = false;
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

// ---------------------------------------------------------------------------
// ModelsCall

ModelsCall::ModelsCall(QwenClient* client, ModelsHandler* handler)
    : client_(client), handler_(handler) {}

ModelsCall::~ModelsCall() = default;

Status ModelsCall::start() {
  HttpRequestSpec spec = client_->make_spec(Endpoint::kModels, {}, {});
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
      HttpRequestSpec spec = client_->make_spec(Endpoint::kModelsV2, {}, {});
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
                               ? client->make_spec(endpoint, chat_id, {})
                               : client->make_spec(endpoint, chat_id, stop_body(chat_id));
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
  uv_timer_start(
      soon_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<QwenClient*>(t->data);
        if (self == nullptr) return;
        try {
          auto calls = std::move(self->soon_);
          self->soon_.clear();
          for (const auto& [endpoint, id] : calls) self->background(endpoint, id);
        } catch (const std::exception& ex) {
          QP_ERROR("upstream.background_exception").kv("error", ex.what());
        } catch (...) {
          QP_ERROR("upstream.background_exception");
        }
      },
      0, 0);
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

HttpRequestSpec QwenClient::make_spec(Endpoint e, std::string_view chat_id,
                                      std::string body) const {
  if (metrics_ != nullptr) metrics_->count_call(e);
  std::string uuid = ids::uuid4();
  std::string tz = js_date_string(std::time(nullptr));
  HeaderParams hp;
  hp.base_url = upstream_.base_url;
  hp.user_agent = account_.user_agent.empty() ? upstream_.user_agent : account_.user_agent;
  hp.jwt = jwt_;
  hp.bx_umidtoken = account_.bx_umidtoken;
  hp.bx_ua = account_.bx_ua;
  hp.bx_v = account_.bx_v;
  hp.chat_id = chat_id;
  hp.request_uuid = uuid;
  hp.timezone = tz;
  HttpRequestSpec spec;
  spec.post = e == Endpoint::kNewChat || e == Endpoint::kCompletion || e == Endpoint::kStop ||
              e == Endpoint::kSts;
  spec.url = endpoint_url(e, upstream_.base_url, chat_id);
  spec.headers = build_headers(e, hp);
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

}  // namespace qp::worker
