#include "worker/upload_call.h"

#include <exception>

#include "common/log.h"
#include "common/media/oss_signature.h"
#include "common/uv/callback.h"
#include "common/uv/handle.h"
#include "worker/qwen_client.h"
#include "worker/worker_metrics.h"

namespace qp::worker {

UploadCall::UploadCall(QwenClient* client, std::string request_id,
                       std::vector<const protocol::Attachment*> items, Done done)
    : client_(client),
      request_id_(std::move(request_id)),
      items_(std::move(items)),
      done_(std::move(done)) {}

UploadCall::~UploadCall() { cancel(); }

Status UploadCall::start() {
  if (step_ != Step::kIdle) return error(Code::kInternal, "UploadCall started twice");
  if (int r = uv_timer_init(client_->multi()->loop(), timer_.get()); r != 0)
    return error(Code::kInternal, std::string("uv_timer_init: ") + uv_strerror(r));
  timer_.get()->data = this;
  step_ = Step::kSts;
  schedule(0);
  return Status();
}

void UploadCall::cancel() {
  if (step_ == Step::kEnded) return;
  step_ = Step::kEnded;
  if (request_) request_->abort();
  if (parse_) parse_->cancel();
  if (timer_.base()->type != UV_UNKNOWN_HANDLE) uv_timer_stop(timer_.get());
}

void UploadCall::schedule(uint64_t delay_ms) {
  uv_timer_start(timer_.get(), uv::method<&UploadCall::on_timer>, delay_ms, 0);
}

void UploadCall::on_timer() {
  if (step_ == Step::kEnded) return;
  request_.reset();
  parse_.reset();  // its done callback has returned
  if (parse_failure_) return finish(&*parse_failure_);
  if (put_next_) {
    put_next_ = false;
    start_put();
  } else {
    advance();
  }
}

void UploadCall::advance() {
  // http(s) URLs pass through: the site does not upload them (docs/upstream.md,
  // "Images and files in").
  while (next_ < items_.size() && !items_[next_]->url.empty()) {
    media_.push_back(MediaItem{items_[next_]->kind, items_[next_]->url});
    ++next_;
  }
  if (next_ == items_.size()) return finish(nullptr);
  const protocol::Attachment& a = *items_[next_];
  step_ = Step::kSts;
  HttpRequestSpec spec = client_->make_spec(
      Endpoint::kSts, {}, sts_body(a.name, a.bytes.data.size(), sts_filetype(a.mime)));
  spec.total_timeout_ms = client_->upload_timeout_ms();
  request_ = std::make_unique<HttpRequest>(client_->multi(), std::move(spec), listener());
  if (Status s = request_->start(); !s.ok()) {
    UpstreamFailure f{Code::kInternal, "worker failed to start the upload: " + s.message(), 0,
                      nullptr};
    return finish(&f);
  }
}

void UploadCall::start_put() {
  const protocol::Attachment& a = *items_[next_];
  step_ = Step::kPut;
  OssPut put =
      oss_put(grant_, client_->oss_endpoint(), a.mime, media::http_date(uv::now_unix_ms() / 1000));
  HttpRequestSpec spec;
  spec.url = std::move(put.url);
  spec.headers = std::move(put.headers);
  spec.proxy = client_->account().proxy;
  spec.upload = a.bytes.data;  // a view of the job's bytes
  spec.connect_timeout_ms = client_->connect_timeout_ms();
  spec.first_byte_timeout_ms = 0;  // the body goes out first: the total bound covers it
  spec.idle_timeout_ms = 0;
  spec.total_timeout_ms = client_->upload_timeout_ms();
  spec.max_body_bytes = 64 * 1024;  // OSS answers with an empty body or a short XML error
  request_ = std::make_unique<HttpRequest>(client_->multi(), std::move(spec), listener());
  if (Status s = request_->start(); !s.ok()) {
    UpstreamFailure f{Code::kInternal, "worker failed to start the upload: " + s.message(), 0,
                      nullptr};
    return finish(&f);
  }
}

void UploadCall::on_complete(HttpResult result) {
  if (step_ == Step::kSts) {
    on_sts(std::move(result));
  } else if (step_ == Step::kPut) {
    on_put(std::move(result));
  }
}

void UploadCall::on_sts(HttpResult result) {
  if (result.failure) return failed(*result.failure);
  if (result.status == 200 && !has_waf_marker(result.body)) {
    auto grant = parse_sts(result.body);
    if (grant) {
      grant_ = std::move(grant.value());
      put_next_ = true;
      return schedule(0);
    }
    if (!is_error_json(result.body)) {
      return failed(UpstreamFailure{Code::kUpstream, grant.error().message(), 0, nullptr});
    }
  }
  failed(classify_response(result.status, result.content_type, result.body));
}

void UploadCall::on_put(HttpResult result) {
  if (result.failure) return failed(*result.failure);
  if (result.status < 200 || result.status >= 300) {
    // OSS answers an XML <Error><Code>…; only the status is reported.
    return failed(UpstreamFailure{
        Code::kUpstream,
        "the upload to Alibaba OSS failed with HTTP " + std::to_string(result.status), 0, nullptr});
  }
  QP_DEBUG("upload.done")
      .kv("request_id", request_id_)
      .kv("kind", items_[next_]->kind)
      .kv("bytes", static_cast<uint64_t>(items_[next_]->bytes.data.size()));
  if (client_->upstream_config().parse_documents && needs_parse(items_[next_]->kind)) {
    if (grant_.file_id.empty()) {
      return failed(UpstreamFailure{
          Code::kUpstream, "Qwen's upload token answer has no file_id to parse the document with",
          0, nullptr});
    }
    return start_parse();
  }
  item_done();
}

void UploadCall::start_parse() {
  step_ = Step::kParse;
  const UpstreamConfig& up = client_->upstream_config();
  ParseLimits limits{up.parse_poll_interval_ms, up.parse_max_polls};
  parse_ = std::make_unique<ParseCall>(client_, request_id_, grant_.file_id, limits,
                                       [this](const UpstreamFailure* f) { on_parsed(f); });
  if (Status s = parse_->start(); !s.ok()) {
    UpstreamFailure f{Code::kInternal, "worker failed to start the document parse: " + s.message(),
                      0, nullptr};
    return finish(&f);
  }
}

void UploadCall::on_parsed(const UpstreamFailure* failure) {
  if (step_ != Step::kParse) return;
  if (failure != nullptr) {
    // Not retried (an outage, a WAF challenge or a parse that never ends
    // would not change): reported as it is, from our timer (we are inside
    // the ParseCall's callback).
    parse_failure_ = *failure;
    parse_failure_->message =
        "parsing the uploaded " + items_[next_]->kind + " failed: " + failure->message;
    return schedule(0);
  }
  item_done();
}

void UploadCall::item_done() {
  media_.push_back(MediaItem{items_[next_]->kind, grant_.file_url});
  grant_ = StsGrant{};
  ++next_;
  schedule(0);
}

void UploadCall::failed(const UpstreamFailure& f) {
  // An account state (rate limit, WAF, credentials) is not retried here:
  // the worker's error path reports it to the broker.
  RetryDecision d;
  if (f.health == nullptr) d = decide_retry(RetryCause::kUploadFailed, false, &retries_);
  if (d.action != RetryAction::kRetryUpload) {
    UpstreamFailure out = f;
    out.message = "uploading the " + items_[next_]->kind + " failed: " + f.message;
    return finish(&out);
  }
  if (WorkerMetrics* m = client_->metrics()) {
    m->count_error(f, /*transport=*/false);
    m->count_retry(RetryCause::kUploadFailed);
  }
  QP_INFO("upstream.retry")
      .kv("request_id", request_id_)
      .kv("cause", retry_cause_name(RetryCause::kUploadFailed))
      .kv("delay_ms", d.delay_ms)
      .kv("error", f.message);
  grant_ = StsGrant{};
  put_next_ = false;  // from a new STS token
  schedule(d.delay_ms);
}

void UploadCall::finish(const UpstreamFailure* f) {
  step_ = Step::kEnded;
  uv_timer_stop(timer_.get());
  done_(f);  // last statement: the owner may move on
}

}  // namespace qp::worker
