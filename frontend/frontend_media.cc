// FrontendApp's image and video routes (docs/api.md "Images and video"):
//   POST /v1/images/generations   ImagesCall on a "<model>-image" job
//   POST /v1/images/edits         ImagesCall on a "<model>-image-edit" job:
//                                 multipart/form-data, the images go as
//                                 the user message's attachments
//   POST /v1/videos               VideoCall on a "<model>-video" job:
//                                 stream:true blocks with SSE keep-alives,
//                                 otherwise answers at once (in_progress)
//   GET  /v1/videos/{id}          the VideoStore entry
// The model: the request's, if the model list says it can (its
// image_generation / video_generation / image_edit capability), else the
// first listed model that can when the request names none or an OpenAI
// model (dall-e-*, gpt-image-*, sora-*).
#include "common/ids.h"
#include "common/log.h"
#include "common/model_variants.h"
#include "common/uv/handle.h"
#include "frontend/frontend_app.h"
#include "frontend/media_call.h"
#include "frontend/openai/image_edit_request.h"
#include "frontend/openai/media_request.h"

namespace qp::frontend {
namespace {

bool has_capability(const protocol::ModelInfo& m, std::string_view cap) {
  for (const auto& c : m.capabilities) {
    if (c == cap) return true;
  }
  return false;
}

bool openai_model_name(std::string_view m) {
  return m.empty() || m.rfind("dall-e", 0) == 0 || m.rfind("gpt-image", 0) == 0 ||
         m.rfind("sora", 0) == 0;
}

}  // namespace

bool FrontendApp::resolve_media_model(std::string_view requested, MediaKind kind,
                                      std::string* job_model, ApiError* err) const {
  const bool video = kind == MediaKind::kVideo;
  const bool edit = kind == MediaKind::kImageEdit;
  const std::string_view cap = video  ? "video_generation"
                               : edit ? "image_edit"
                                      : "image_generation";
  const std::string_view suffix = video ? kVideoSuffix : edit ? kImageEditSuffix : kImageSuffix;
  const char* what = video ? "generate videos" : edit ? "edit images" : "generate images";
  std::string base(requested);
  if (has_model_suffix(base, suffix)) {
    base.resize(base.size() - suffix.size());
  } else if (edit && has_model_suffix(base, kImageSuffix)) {  // the listed -image variant
    base.resize(base.size() - kImageSuffix.size());
  }
  if (openai_model_name(requested)) {
    for (const auto& m : models_.list().models) {
      if (has_capability(m, cap) && !media_model(m.id)) {
        *job_model = m.id + std::string(suffix);
        return true;
      }
    }
    *err = ApiError{Code::kInvalidArgument,
                    std::string("No Qwen model in the model list can ") + what + ".", "model",
                    "model_not_found", 0};
    return false;
  }
  const protocol::ModelInfo* m = models_.find(base);
  if (m == nullptr) {
    *err = ApiError{Code::kNotFound,
                    "The model '" + std::string(requested) +
                        "' does not exist or you do not have access to it.",
                    "model", "model_not_found", 0};
    return false;
  }
  if (!has_capability(*m, cap)) {
    std::string able;
    for (const auto& x : models_.list().models) {
      if (has_capability(x, cap) && !media_model(x.id) && able.size() < 400)
        able.append(able.empty() ? "" : ", ").append(x.id);
    }
    *err = ApiError::invalid(
        "model", "The model '" + base + "' cannot " + what +
                     (able.empty() ? std::string(".") : "; models that can: " + able + "."));
    return false;
  }
  *job_model = base + std::string(suffix);
  return true;
}

void FrontendApp::handle_images(http::Exchange ex, const Caller& caller) {
  const http::Request& req = ex.request();
  std::string rid = new_request_id(req);
  auto r = std::make_shared<MediaRequest>();
  ApiError err;
  if (!parse_image_request(req.body, r.get(), &err)) {
    QP_INFO("request.invalid").kv("request_id", rid).kv("param", err.param);
    return reply_error(ex, err, rid, {}, &caller);
  }
  if (defer_until_models(ex, {}, rid, [this, ex, r, rid, caller]() mutable {
        submit_media(ex, std::move(*r), rid, caller, MediaKind::kImage);
      }))
    return;
  submit_media(ex, std::move(*r), rid, caller, MediaKind::kImage);
}

void FrontendApp::handle_videos(http::Exchange ex, const Caller& caller) {
  const http::Request& req = ex.request();
  std::string rid = new_request_id(req);
  auto r = std::make_shared<MediaRequest>();
  ApiError err;
  if (!parse_video_request(req.body, r.get(), &err)) {
    QP_INFO("request.invalid").kv("request_id", rid).kv("param", err.param);
    return reply_error(ex, err, rid, {}, &caller);
  }
  if (defer_until_models(ex, {}, rid, [this, ex, r, rid, caller]() mutable {
        submit_media(ex, std::move(*r), rid, caller, MediaKind::kVideo);
      }))
    return;
  submit_media(ex, std::move(*r), rid, caller, MediaKind::kVideo);
}

void FrontendApp::submit_media(http::Exchange ex, MediaRequest r, const std::string& rid,
                               const Caller& caller, MediaKind kind) {
  const bool video = kind == MediaKind::kVideo;
  const bool edit = kind == MediaKind::kImageEdit;
  protocol::JobRequest job;
  ApiError err;
  if (!resolve_media_model(r.model, kind, &job.model, &err))
    return reply_error(ex, err, rid, {}, &caller);
  // A key's model list names the listed variants: an edit is checked as
  // the model's -image variant (image_edit is not listed on its own).
  std::string key_model = edit ? job.model.substr(0, job.model.size() - kImageEditSuffix.size()) +
                                     std::string(kImageSuffix)
                               : job.model;
  if (!auth_->check_model(caller, key_model, &err)) return reply_error(ex, err, rid, {}, &caller);
  job.messages.push_back(protocol::ChatMessage{"user", std::move(r.prompt), {}, {}, {}});
  job.messages.back().attachments = std::move(r.images);
  job.user = r.user;
  job.stream = video && r.stream;
  job.media.size = r.size;
  if (!video) {
    job.media.n = r.n;
    job.media.response_format = r.response_format;
  }
  KeyLease lease;
  if (!admit_job(ex, job, rid, caller, &lease)) return;
  const char* endpoint = video  ? "/v1/videos"
                         : edit ? "/v1/images/edits"
                                : "/v1/images/generations";
  if (!video) {
    auto call = std::make_unique<ImagesCall>(ex, rid, job.created_unix_ms / 1000);
    call->hold(std::move(lease));
    call->observe(&observers_, make_record(job, rid, caller, endpoint));
    return launch(ex, job, std::move(call), caller);
  }
  VideoEntry entry;
  entry.id = video_id(rid);
  entry.model = job.model.substr(0, job.model.size() - kVideoSuffix.size());
  entry.size = job.media.size;
  entry.owner = caller.id;
  entry.created_unix_ms = job.created_unix_ms;
  if (job.stream) {
    auto call = std::make_unique<VideoCall>(ex, rid, entry);
    call->hold(std::move(lease));
    call->observe(&observers_, make_record(job, rid, caller, endpoint));
    call->start_stream(loop_, config_.frontend.sse_keepalive_ms);
    return launch(ex, job, std::move(call), caller);
  }
  // Asynchronous: the job outlives this exchange; the client polls.
  videos_.add(entry, job.created_unix_ms);
  auto call = std::make_unique<VideoCall>(&videos_, rid, entry);
  call->hold(std::move(lease));
  call->observe(&observers_, make_record(job, rid, caller, endpoint));
  if (Status s = broker_->submit(job, call.get()); !s.ok()) {
    call->fail(ApiError{s.code(), s.message(), {}, {}, 0});
    return reply_error(ex, ApiError{s.code(), s.message(), {}, {}, 0}, rid, {}, &caller);
  }
  QP_INFO("request.accepted").kv("request_id", rid).kv("model", job.model).kv("key", caller.id);
  if (uint64_t timeout = request_timeout_ms(job.model); timeout > 0)
    deadlines_ms_[rid] = uv_now(loop_) + timeout;
  calls_.emplace(rid, std::move(call));
  ex.respond(200, api_headers(rid, "application/json"), video_json(entry));
}

void FrontendApp::handle_video_get(http::Exchange ex, std::string_view id, const Caller& caller) {
  std::string rid = ids::random_hex(24);
  auto e = videos_.find(id, uv::now_unix_ms());
  if (!e || e->owner != caller.id) {
    return reply_error(ex,
                       ApiError{Code::kNotFound,
                                "Video with id '" + std::string(id) +
                                    "' not found (the gateway keeps videos in "
                                    "memory for a limited time).",
                                "video_id", "video_not_found", 0},
                       rid, {}, &caller);
  }
  ex.respond(200, api_headers(rid, "application/json"), video_json(*e));
}

void FrontendApp::handle_image_edits(http::Exchange ex, const Caller& caller) {
  const http::Request& req = ex.request();
  std::string rid = new_request_id(req);
  auto r = std::make_shared<MediaRequest>();
  ApiError err;
  const std::string* type = req.header("content-type");
  if (!parse_image_edit_request(type != nullptr ? std::string_view(*type) : std::string_view(),
                                req.body, config_.attachments, r.get(), &r->images, &err)) {
    QP_INFO("request.invalid").kv("request_id", rid).kv("param", err.param);
    return reply_error(ex, err, rid, {}, &caller);
  }
  if (defer_until_models(ex, {}, rid, [this, ex, r, rid, caller]() mutable {
        submit_media(ex, std::move(*r), rid, caller, MediaKind::kImageEdit);
      }))
    return;
  submit_media(ex, std::move(*r), rid, caller, MediaKind::kImageEdit);
}

}  // namespace qp::frontend
