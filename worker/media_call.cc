#include "worker/media_call.h"

#include <algorithm>

#include "common/ids.h"
#include "common/log.h"
#include "common/model_variants.h"
#include "worker/media_requests.h"
#include "worker/new_chat_parser.h"
#include "worker/worker_metrics.h"

namespace qp::worker {
namespace {

// The upstream model of "<model>-image" / "<model>-video"; <model> may be
// a listed variant ("qwen3-vl-plus-thinking"): its suffixes go too (image
// and video chats neither think nor search).
std::string strip_variant(std::string_view model) {
  for (std::string_view s : {kImageEditSuffix, kImageSuffix, kVideoSuffix}) {
    if (has_model_suffix(model, s)) {
      model.remove_suffix(s.size());
      break;
    }
  }
  return parse_model_variant(model).upstream_model;
}

}  // namespace

MediaCall::MediaCall(QwenClient* client, protocol::JobRequest job, ChatHandler* handler,
                     uint64_t poll_ms)
    : client_(client),
      handler_(handler),
      job_(std::move(job)),
      poll_ms_(poll_ms == 0 ? kDefaultPollMs : poll_ms) {}

MediaCall::~MediaCall() { cancel(); }

Status MediaCall::start() {
  video_ = has_model_suffix(job_.model, kVideoSuffix);
  edit_ = has_model_suffix(job_.model, kImageEditSuffix);
  chat_type_ = video_ ? "t2v" : edit_ ? "image_edit" : "t2i";
  model_ = strip_variant(job_.model);
  const protocol::ChatMessage* user = nullptr;
  for (auto it = job_.messages.rbegin(); it != job_.messages.rend(); ++it) {
    if (it->role == "user") {
      user = &*it;
      prompt_ = it->content;
      break;
    }
  }
  n_ = video_ ? 1 : std::clamp<int32_t>(job_.media.n, 1, protocol::kMaxImagesPerJob);
  b64_ = job_.media.response_format == "b64_json";
  if (prompt_.empty()) return error(Code::kInvalidArgument, "no prompt");
  Status s;
  if (edit_) {
    std::vector<const protocol::Attachment*> items;
    for (const auto& a : user->attachments) {
      if (a.kind == "image") items.push_back(&a);
    }
    if (items.empty()) return error(Code::kInvalidArgument, "no image to edit");
    phase_ = Phase::kUpload;
    upload_ = std::make_unique<UploadCall>(client_, job_.request_id, std::move(items),
                                           [this](const UpstreamFailure* f) { on_uploaded(f); });
    s = upload_->start();
  } else {
    s = next_item();
  }
  if (!s.ok()) phase_ = Phase::kEnded;  // the worker answers the error
  return s;
}

void MediaCall::cancel() {
  if (phase_ == Phase::kEnded) return;
  bool generating = phase_ == Phase::kImage;
  phase_ = Phase::kEnded;
  if (upload_) upload_->cancel();
  if (current_) current_->abort();
  if (poll_timer_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(poll_timer_.get());
  if (generating && !chat_id_.empty()) client_->stop_generation(chat_id_);
}

Status MediaCall::begin(Phase phase, HttpRequestSpec spec) {
  if (current_) spent_.push_back(std::move(current_));
  phase_ = phase;
  current_ = std::make_unique<HttpRequest>(client_->multi(), std::move(spec), listener());
  return current_->start();
}

void MediaCall::on_uploaded(const UpstreamFailure* failure) {
  if (phase_ != Phase::kUpload) return;
  if (failure != nullptr) return fail(*failure);
  images_ = upload_->media();
  check(next_item());
}

Status MediaCall::next_item() {
  chat_id_.clear();
  url_.clear();
  return begin(Phase::kNewChat,
               client_->make_spec(Endpoint::kNewChat, {},
                                  new_chat_body(model_, chat_type_, uv::now_unix_ms())));
}

bool MediaCall::on_stream_data(std::string_view bytes) {
  if (phase_ != Phase::kImage) return false;
  sse_.feed(bytes);
  std::string_view data;
  while (sse_.next(&data)) {
    MediaEvent ev = parse_media_event(data);
    if (ev.error) {
      stream_error_ = true;
      error_event_ = std::string(data.substr(0, 4096));
      return false;
    }
    if (url_.empty() && !ev.urls.empty()) url_ = ev.urls.front();
    if (!ev.task_id.empty()) task_id_ = ev.task_id;
    if (ev.finished) finished_ = true;
  }
  if (!sse_.status().ok()) {
    stream_error_ = true;
    return false;
  }
  // Once the image is known and the answer finished, nothing more matters.
  return true;
}

void MediaCall::on_complete(HttpResult result) {
  spent_.clear();
  switch (phase_) {
    case Phase::kNewChat:
      return on_new_chat(result);
    case Phase::kImage:
      return on_image_end(result);
    case Phase::kTask:
      return on_task(result);
    case Phase::kPoll:
      return on_poll(result);
    case Phase::kDownload:
      return on_download(result);
    default:
      return;
  }
}

void MediaCall::on_new_chat(HttpResult& result) {
  if (result.failure) return fail(*result.failure);
  if (result.status == 200) {
    auto id = parse_new_chat(result.body);
    if (id) {
      chat_id_ = std::move(id.value());
      std::string fid = ids::uuid4();
      std::string child = ids::uuid4();
      MediaParams p;
      p.chat_id = chat_id_;
      p.model = model_;
      p.chat_type = chat_type_;
      p.prompt = prompt_;
      p.images = &images_;
      p.size = job_.media.size;
      p.fid = fid;
      p.child_id = child;
      p.timestamp_s = uv::now_unix_ms() / 1000;
      HttpRequestSpec spec =
          client_->make_spec(Endpoint::kCompletion, chat_id_, media_completion_body(p));
      if (video_) {
        spec.stream = false;  // a JSON answer naming the task
        std::replace(spec.headers.begin(), spec.headers.end(),
                     std::string("Accept: text/event-stream"),
                     std::string("Accept: application/json, text/plain, */*"));
      } else {
        // Image generation is silent for a while: the bounds of the
        // long-running variants (upstream.long_idle_timeout_ms; 0 = none).
        spec.first_byte_timeout_ms = client_->long_idle_timeout_ms();
        spec.idle_timeout_ms = client_->long_idle_timeout_ms();
        sse_ = SseParser();
        finished_ = false;
      }
      return check(begin(video_ ? Phase::kTask : Phase::kImage, std::move(spec)));
    }
    if (!is_error_json(result.body) && !has_waf_marker(result.body))
      return fail(UpstreamFailure{Code::kUpstream, id.error().message(), 0, nullptr});
  }
  if (retry_item(result.body)) return;
  fail(classify_response(result.status, result.content_type, result.body));
}

bool MediaCall::retry_item(std::string_view body) {
  RetryCause cause = retry_cause(body);
  RetryDecision d = decide_retry(cause, /*forwarded=*/false, &retries_);
  if (d.action == RetryAction::kFail) return false;
  QP_INFO("upstream.retry")
      .kv("request_id", job_.request_id)
      .kv("cause", retry_cause_name(cause))
      .kv("action", "new_chat");
  if (WorkerMetrics* m = client_->metrics()) {
    m->count_error(classify_response(200, "application/json", body), false);
    m->count_retry(cause);
  }
  stream_error_ = false;
  error_event_.clear();
  check(next_item());
  return true;
}

void MediaCall::on_image_end(HttpResult& result) {
  if (stream_error_) {
    if (!error_event_.empty() && retry_item(error_event_)) return;
    UpstreamFailure f =
        error_event_.empty()
            ? UpstreamFailure{Code::kUpstream, "Qwen's image stream is malformed", 0, nullptr}
            : classify_response(200, "application/json", error_event_);
    return fail(f);
  }
  if (result.failure) return fail(*result.failure);
  if (!result.streamed) {
    if (retry_item(result.body)) return;
    return fail(classify_response(result.status, result.content_type, result.body));
  }
  sse_.finish();
  std::string_view data;
  while (sse_.next(&data)) {
    MediaEvent ev = parse_media_event(data);
    if (url_.empty() && !ev.urls.empty()) url_ = ev.urls.front();
  }
  if (client_->delete_chats()) client_->delete_chat_soon(chat_id_);
  if (url_.empty()) {
    return fail(UpstreamFailure{Code::kUpstream,
                                "Qwen finished without an image (the prompt may have been "
                                "refused)",
                                0, nullptr, "no_image"});
  }
  got_url(std::move(url_));
}

void MediaCall::on_task(HttpResult& result) {
  if (result.failure) return fail(*result.failure);
  if (result.status == 200 && !is_error_json(result.body)) {
    auto id = parse_video_task(result.body);
    if (!id) return fail(UpstreamFailure{Code::kUpstream, id.error().message(), 0, nullptr});
    task_id_ = std::move(id.value());
    QP_INFO("upstream.video_task").kv("request_id", job_.request_id).kv("task_id", task_id_);
    return poll_now();
  }
  if (retry_item(result.body)) return;
  fail(classify_response(result.status, result.content_type, result.body));
}

void MediaCall::poll_now() {
  check(begin(Phase::kPoll, client_->make_spec(Endpoint::kTaskStatus, task_id_, {})));
}

void MediaCall::poll_later() {
  if (job_.deadline_unix_ms > 0 &&
      uv::now_unix_ms() + static_cast<int64_t>(poll_ms_) > job_.deadline_unix_ms) {
    return fail(UpstreamFailure{Code::kUpstreamTimeout,
                                "the video was not ready before the request's deadline", 0,
                                nullptr});
  }
  phase_ = Phase::kWait;
  if (poll_timer_.base()->type == UV_UNKNOWN_HANDLE &&
      uv_timer_init(client_->multi()->loop(), poll_timer_.get()) != 0) {
    return fail(UpstreamFailure{Code::kInternal, "cannot start the poll timer", 0, nullptr});
  }
  poll_timer_.get()->data = this;
  uv_timer_start(
      poll_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<MediaCall*>(t->data);
        if (self != nullptr && self->phase_ == Phase::kWait) {
          self->spent_.clear();
          self->poll_now();
        }
      },
      poll_ms_, 0);
}

void MediaCall::on_poll(HttpResult& result) {
  if (result.failure) return fail(*result.failure);
  if (result.status != 200 || is_error_json(result.body))
    return fail(classify_response(result.status, result.content_type, result.body));
  auto st = parse_task_status(result.body);
  if (!st) return fail(UpstreamFailure{Code::kUpstream, st.error().message(), 0, nullptr});
  switch (st.value().state) {
    case TaskStatus::State::kRunning:
      return poll_later();
    case TaskStatus::State::kFailed:
      return fail(UpstreamFailure{Code::kUpstream, "Qwen: " + st.value().message, 0, nullptr,
                                  "generation_failed"});
    case TaskStatus::State::kSucceeded:
      if (client_->delete_chats()) client_->delete_chat_soon(chat_id_);
      return got_url(std::move(st.value().url));
  }
}

void MediaCall::got_url(std::string url) {
  url_ = std::move(url);
  if (!b64_) return item_done();
  HttpRequestSpec spec;
  spec.url = url_;
  const std::string& ua = client_->account().user_agent;
  spec.headers = {"Accept: image/*, video/*, */*", "Accept-Encoding: identity",
                  "User-Agent: " + (ua.empty() ? std::string("Mozilla/5.0") : ua)};
  spec.proxy = client_->account().proxy;
  spec.max_body_bytes = kMaxMediaDownloadBytes;
  // No cookies or tokens: the signed URL is on Qwen's CDN, not the site.
  check(begin(Phase::kDownload, std::move(spec)));
}

void MediaCall::on_download(HttpResult& result) {
  if (result.failure) return fail(*result.failure);
  if (result.status != 200 || result.body.empty()) {
    return fail(UpstreamFailure{Code::kUpstream,
                                "downloading the generated " +
                                    std::string(video_ ? "video" : "image") + " failed (HTTP " +
                                    std::to_string(result.status) + ")",
                                0, nullptr});
  }
  protocol::MediaItem item{video_ ? "video" : "image", std::move(url_), base64_encode(result.body),
                           result.content_type};
  items_.push_back(std::move(item));
  url_.clear();
  item_done();
}

void MediaCall::item_done() {
  if (!url_.empty()) {  // url format: no download
    items_.push_back(protocol::MediaItem{video_ ? "video" : "image", std::move(url_), {}, {}});
    url_.clear();
  }
  protocol::JobChunk chunk;
  if (items_.size() > 1) chunk.content = "\n\n";
  chunk.content.append(media_markdown(items_.back().kind, items_.back().url));
  handler_->on_chat_delta(chunk);
  if (phase_ == Phase::kEnded) return;  // the handler cancelled
  if (static_cast<int32_t>(items_.size()) < n_) return check(next_item());
  phase_ = Phase::kEnded;
  ChatResult r;
  r.chat_id = chat_id_;
  r.media = std::move(items_);
  handler_->on_chat_done(r);
}

void MediaCall::fail(const UpstreamFailure& failure) {
  if (phase_ == Phase::kEnded) return;
  if (WorkerMetrics* m = client_->metrics()) m->count_error(failure, false);
  phase_ = Phase::kEnded;
  if (poll_timer_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(poll_timer_.get());
  handler_->on_chat_error(failure);
}

void MediaCall::fail_status(const Status& s) {
  fail(UpstreamFailure{Code::kInternal,
                       "worker could not start an upstream request: " + s.message(), 0, nullptr});
}

}  // namespace qp::worker
