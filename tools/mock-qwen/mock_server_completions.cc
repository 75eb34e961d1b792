// The completion endpoint of MockServer (POST /api/v2/chat/completions, its
// streamed answer and what happens when it ends) and the stop endpoint.
// Routing, auth, faults and chats/new: mock_server.cc.
#include <exception>

#include "common/json/writer.h"
#include "common/log.h"
#include "common/media/media.h"
#include "common/uv/handle.h"
#include "tools/mock-qwen/answer_stream.h"
#include "tools/mock-qwen/auth.h"
#include "tools/mock-qwen/envelopes.h"
#include "tools/mock-qwen/http_util.h"
#include "tools/mock-qwen/jwt.h"
#include "tools/mock-qwen/mock_server.h"
#include "tools/mock-qwen/requests.h"
#include "tools/mock-qwen/tokenizer.h"

namespace qp::mock {
namespace {

void fill_headers(Record* r, const http::Request& req) {
  r->user_agent = header_value(req, "user-agent");
  r->x_request_id = header_value(req, "x-request-id");
  r->source = header_value(req, "source");
  r->bx_v = header_value(req, "bx-v");
  r->version = header_value(req, "version");
  r->accept = header_value(req, "accept");
  r->content_type = header_value(req, "content-type");
  r->has_bx_umidtoken = req.header("bx-umidtoken") != nullptr;
  r->has_bx_ua = req.header("bx-ua") != nullptr;
  r->has_authorization = req.header("authorization") != nullptr;
  const std::string* cookie = req.header("cookie");
  r->has_token_cookie = cookie != nullptr && !cookie_value(*cookie, "token").empty();
  if (const std::string* auth = req.header("authorization");
      auth != nullptr && auth->size() > 7 && auth->compare(0, 7, "Bearer ") == 0) {
    r->authorization_fp = token_fingerprint(std::string_view(*auth).substr(7));
  }
  if (r->has_token_cookie) r->token_cookie_fp = token_fingerprint(cookie_value(*cookie, "token"));
}

}  // namespace

void MockServer::handle_completions(http::Exchange& ex) {
  const http::Request& req = ex.request();
  ++state_.counters.completions_requested;
  Record& rec = state_.add_record(uv::now_unix_ms());
  const uint64_t seq = rec.seq;
  fill_headers(&rec, req);
  std::string rid = ids_.uuid();

  auto reject = [&](int status, std::string body, std::string_view code, std::string_view details) {
    ++state_.counters.completions_rejected;
    if (Record* r = state_.find(seq)) {
      r->outcome = "error";
      r->http_status = status;
      r->error_code = std::string(code);
      r->error_details = std::string(details);
    }
    ex.respond(status, json_headers(), std::move(body));
  };
  auto bad_request = [&](std::string_view details) {
    reject(200, error_envelope(rid, kBadRequest, details), kBadRequest, details);
  };

  auto parsed = parse_completion_request(req.body);
  if (parsed.has_value()) {
    const CompletionRequest& c = parsed.value();
    rec.chat_id = c.chat_id;
    rec.parent_id = c.parent_id.value_or("");
    rec.model = c.model;
    rec.content = c.content;
    rec.chat_mode = c.chat_mode;
    rec.chat_type = c.chat_type;
    rec.stream = c.stream;
    rec.thinking_enabled = c.thinking_enabled;
    rec.thinking_format = c.thinking_format;
    rec.thinking_budget = c.thinking_budget;
    rec.thinking_mode = c.thinking_mode;
    rec.auto_search = c.auto_search;
    rec.attachments = c.attachments;
    rec.message_count = c.message_count;
  }
  std::string query_chat = req.query_param("chat_id");
  if (rec.chat_id.empty()) rec.chat_id = query_chat;

  AuthInfo auth = authenticate(req.headers, options_.jwt_secret, now_s());
  if (auth.kind == AuthInfo::Kind::kInvalid) {
    reject(401, error_envelope(rid, kUnauthorizedCode, kTokenExpired), kUnauthorizedCode,
           kTokenExpired);
    return;
  }
  const bool guest = auth.kind == AuthInfo::Kind::kGuest;
  const std::string owner =
      guest ? guest_owner_id(header_value(req, "bx-umidtoken")) : auth.user_id;
  rec.user_id = owner;

  const bool streaming = !parsed.has_value() || parsed->stream;
  FaultHits hits = faults_.fire(FaultEndpoint::kCompletions, owner, streaming);
  if (hits.reject) {
    ++state_.counters.completions_rejected;
    auto [code, details] = respond_fault(ex, *hits.reject, rid);
    if (Record* r = state_.find(seq)) {
      r->outcome = "error";
      r->http_status = hits.reject->kind == FaultKind::kWafHtml        ? 403
                       : hits.reject->kind == FaultKind::kUnauthorized ? 401
                                                                       : 200;
      r->error_code = code;
      r->error_details = details;
    }
    return;
  }
  if (!is_json_request(req)) {
    bad_request("Invalid Content-Type, expected application/json.");  // invented
    return;
  }
  if (!parsed.has_value()) {
    bad_request(parsed.error().message());
    return;
  }
  const CompletionRequest& c = parsed.value();
  if (guest) {
    if (c.chat_mode != "guest") {
      reject(401, error_envelope(rid, kUnauthorizedCode, kTokenExpired), kUnauthorizedCode,
             kTokenExpired);
      return;
    }
    if (config_.strict_guest && req.header("bx-umidtoken") == nullptr) {
      ++state_.counters.completions_rejected;
      if (Record* r = state_.find(seq)) {
        r->outcome = "error";
        r->http_status = 403;
        r->error_code = "waf";
        r->error_details = "html challenge";
      }
      ex.respond(403, html_headers(), waf_html_page());
      return;
    }
  }
  if (c.message_count > 1) {
    bad_request(kTooManyMessages);
    return;
  }
  if (c.role != "user") {
    bad_request("Invalid input message role must be user.");  // invented
    return;
  }
  if (config_.max_message_bytes > 0 &&
      c.content.size() > static_cast<size_t>(config_.max_message_bytes)) {
    bad_request("Invalid input message content is too long.");  // invented (docs/mock-qwen.md)
    return;
  }
  if (config_.require_parse) {
    // A document stored here must have gone through files/parse first
    // (invented: the site's behaviour is not known, docs/mock-qwen.md).
    for (const auto& [type, url] : c.media) {
      bool done = false;
      if (type == "file" && oss_.stored_url(url, &done) && !done) {
        bad_request("Invalid input file is not parsed.");  // invented
        return;
      }
    }
  }
  if (!query_chat.empty() && !c.chat_id.empty() && query_chat != c.chat_id) {
    bad_request("Invalid input chat_id does not match the query.");  // invented
    return;
  }
  const std::string chat_id = query_chat.empty() ? c.chat_id : query_chat;
  Chat* chat = chats_.find(chat_id, owner);
  if (chat == nullptr) {
    bad_request(unknown_chat_details(chat_id));
    return;
  }
  const std::string parent = c.parent_id.value_or("");
  if (!ChatStore::parent_valid(*chat, parent)) {
    bad_request(bad_parent_details(parent));
    return;
  }
  const ModelInfo* model = models_.find(c.model);
  if (model == nullptr) {
    bad_request(unknown_model_details(c.model));
    return;
  }
  if (chat->busy) {
    bad_request(kChatInProgressDetails);
    return;
  }
  // image_edit (media.h): every input image must be one the OSS stand-in
  // holds (the mock cannot fetch other URLs); at least one.
  MediaCompletion edit;
  if (c.chat_type == "image_edit") {
    for (const auto& [type, url] : c.media) {
      if (type != "image") continue;
      const std::string* bytes = oss_.find_url(url);
      if (bytes == nullptr) {
        bad_request("Invalid input image not found: " + url.substr(0, 200));  // invented
        return;
      }
      if (edit.sources.empty()) {
        media::Type t = media::sniff(*bytes);
        if (!media::is_image(t) ||
            !media::image_size(*bytes, t, &edit.source_width, &edit.source_height)) {
          bad_request("Invalid input the image cannot be read.");  // invented
          return;
        }
      }
      edit.sources.push_back(describe_bytes(*bytes));
    }
    if (edit.sources.empty()) {
      bad_request("Invalid input image_edit needs an image.");  // invented
      return;
    }
  }
  if (quota_exceeded(owner, guest)) {
    reject(200, rate_limited_envelope(rid, config_.quota_num), kRateLimitedCode, kQuotaDetails);
    return;
  }

  // Accepted.
  ++quota_used_[owner];
  ++state_.counters.completions_started;
  if (c.chat_type == "t2i" || c.chat_type == "t2v" || c.chat_type == "image_edit") {  // media.h
    MediaCompletion m{c.chat_type,
                      chat_id,
                      ids_.uuid(),
                      ids_.uuid(),
                      completion_size(req.body),
                      owner,
                      config_.image_delay_ms,
                      config_.video_duration_ms};
    m.sources = std::move(edit.sources);
    m.source_width = edit.source_width;
    m.source_height = edit.source_height;
    media_.respond(ex, m, uv::now_unix_ms());
    return;
  }
  // Images and files (docs/mock-qwen.md): the model "sees" what the OSS stand-in holds.
  Answer answer = rules_.answer(prompt_with_media(c.content, c.media, oss_), c.model,
                                c.thinking_enabled, static_cast<size_t>(config_.echo_max_bytes));
  if (hits.empty_answer) {  // the model generated nothing: the stream carries no text
    answer.reply.clear();
    answer.reply_ends.clear();
    answer.thinking.clear();
    answer.thinking_ends.clear();
  }
  // Deep research: the first turn of a chat asks back (research_clarify, as
  // the site does); a turn with a parent runs the research phases.
  bool research = c.chat_type == "deep_research" && !hits.empty_answer;
  std::string_view topic = utf8_prefix(c.content, 80);
  if (research && config_.research_clarify && parent.empty()) {
    research = false;
    answer.reply = "Before I start the research on \"";
    answer.reply.append(topic).append(
        "\", which aspects matter most to you, and for which region and period?");
    answer.reply_ends.clear();
    tokenize(answer.reply, &answer.reply_ends);
  }
  std::string user_msg_id = ids_.uuid();
  std::string response_id = ids_.uuid();
  rec.context_messages = parent.empty() ? 0 : ChatStore::path_to(*chat, parent).size();
  ChatStore::add_turn(*chat, parent, user_msg_id, response_id, c.content, c.model, now_s());
  chat->busy = true;
  rec.user_message_id = user_msg_id;
  rec.response_id = response_id;
  rec.rule = answer.rule_index;

  int64_t first_token_delay =
      answer.first_token_delay_ms >= 0 ? answer.first_token_delay_ms : config_.first_token_delay_ms;
  int64_t token_delay = answer.token_delay_ms >= 0 ? answer.token_delay_ms : config_.token_delay_ms;

  if (!c.stream) {
    // stream:false ([MOCK DECISION]; docs/mock-qwen.md, "`stream:false`"): the
    // 2025-10 envelope, after the first-token delay; message_id = A, parent_id
    // = U like the stream ids.
    std::string data;
    json::Writer w(&data);
    w.begin_object();
    w.field("chat_id", "").field("parent_id", user_msg_id).field("message_id", response_id);
    w.field_null("messages");
    w.key("choices").begin_array().begin_object().key("message").begin_object();
    w.field("role", "assistant").field("content", answer.reply);
    w.end_object().end_object().end_array();
    w.end_object();
    std::string body = ok_envelope(rid, data);
    int64_t output_tokens = static_cast<int64_t>(answer.reply_ends.size());
    auto finish = [this, ex, seq, chat_id, response_id, body = std::move(body),
                   reply = std::move(answer.reply), output_tokens]() mutable {
      http::Exchange e = ex;
      bool alive = e.alive();
      if (alive) e.respond(200, json_headers(), std::move(body));
      Record* r = state_.find(seq);
      if (alive) {
        ++state_.counters.completions_finished;
      } else {
        ++state_.counters.completions_aborted;
      }
      if (r != nullptr) {
        r->outcome = alive ? "finished" : "aborted";
        r->output_tokens = output_tokens;
      }
      if (Chat* ch = chats_.find_any(chat_id)) {
        ch->busy = false;
        ChatStore::set_content(*ch, response_id, std::move(reply));
      }
    };
    int64_t delay = first_token_delay + hits.first_byte_delay_ms;
    if (delay > 0) {
      delays_.after(delay, std::move(finish));
    } else {
      finish();
    }
    return;
  }

  StreamSpec spec;
  spec.chat_id = chat_id;
  spec.user_message_id = user_msg_id;
  spec.response_id = response_id;
  spec.input_tokens = static_cast<int64_t>(count_tokens(c.content));
  spec.answer = std::move(answer.reply);
  spec.answer_ends = std::move(answer.reply_ends);
  if (c.thinking_enabled) {
    spec.thinking =
        c.thinking_format == "summary" ? ThinkingFormat::kSummary : ThinkingFormat::kDetail;
    spec.thinking_text = std::move(answer.thinking);
    spec.thinking_ends = std::move(answer.thinking_ends);
    spec.summary_title = std::move(answer.summary_title);
  }
  if (c.chat_type == "search" && !hits.empty_answer) {
    spec.search = true;
    spec.search_query = std::string(utf8_prefix(c.content, 200));
    spec.search_format = config_.search_format == "web_search_info" ? SearchFormat::kWebSearchInfo
                                                                    : SearchFormat::kFunctionCall;
  }
  if (research) {
    spec.research = true;
    spec.research_topic = std::string(topic);
    spec.research_rounds = static_cast<int>(config_.research_rounds);
  }
  spec.variant_2026 = config_.variant_2026;
  spec.emit_done = config_.emit_done;
  spec.error_after = hits.error_after;
  spec.drop_after = hits.drop_after;

  StreamJob job;
  job.exchange = ex;
  job.stream = std::make_unique<AnswerStream>(std::move(spec));
  job.timing.first_byte_delay_ms = hits.first_byte_delay_ms;
  job.timing.first_token_delay_ms = first_token_delay;
  job.timing.token_delay_ms = token_delay;
  job.timing.search_delay_ms = config_.search_delay_ms;
  job.timing.research_delay_ms = config_.research_delay_ms;
  job.timing.keepalive_ms = config_.variant_2026 ? config_.keepalive_ms : 0;
  job.timing.chunk_bytes = static_cast<size_t>(config_.chunk_bytes);
  job.timing.backpressure_bytes = static_cast<size_t>(config_.backpressure_bytes);
  job.chat_id = chat_id;
  job.record_seq = seq;
  ++state_.counters.streams_active;
  runner_.start(std::move(job));
}

void MockServer::on_stream_done(const StreamJob& job, StreamOutcome outcome) {
  if (state_.counters.streams_active > 0) --state_.counters.streams_active;
  switch (outcome) {
    case StreamOutcome::kFinished:
      ++state_.counters.completions_finished;
      break;
    case StreamOutcome::kStopped:
      ++state_.counters.completions_stopped;
      break;
    case StreamOutcome::kAborted:
      ++state_.counters.completions_aborted;
      break;
    case StreamOutcome::kError:
    case StreamOutcome::kDropped:
      ++state_.counters.completions_error;
      break;
  }
  const AnswerStream& stream = *job.stream;
  if (Record* r = state_.find(job.record_seq)) {
    r->output_tokens = stream.usage().output_tokens;
    switch (outcome) {
      case StreamOutcome::kError:
        r->outcome = "error";
        r->error_code = "internal_error";
        r->error_details = "mid-stream error";
        break;
      case StreamOutcome::kDropped:
        r->outcome = "error";
        r->error_code = "dropped";
        r->error_details = "connection dropped mid-stream";
        break;
      default:
        r->outcome = std::string(stream_outcome_name(outcome));
        break;
    }
  }
  if (Chat* chat = chats_.find_any(job.chat_id)) {
    chat->busy = false;
    ChatStore::set_content(*chat, stream.spec().response_id, std::string(stream.answer_sent()));
  }
  QP_DEBUG("mock.stream_done")
      .kv("chat_id", job.chat_id)
      .kv("outcome", stream_outcome_name(outcome))
      .kv("output_tokens", stream.usage().output_tokens);
}

void MockServer::handle_stop(http::Exchange& ex) {
  const http::Request& req = ex.request();
  Caller caller;
  if (!identify(ex, &caller)) return;
  std::string rid = ids_.uuid();
  std::string chat_id = req.query_param("chat_id");
  if (chat_id.empty()) {
    auto body_id = parse_chat_id_body(req.body);
    if (!body_id.has_value()) {
      ex.respond(200, json_headers(), error_envelope(rid, kBadRequest, body_id.error().message()));
      return;
    }
    chat_id = std::move(body_id.value());
  }
  if (chats_.find(chat_id, caller.owner) == nullptr) {
    ex.respond(200, json_headers(),
               error_envelope(rid, kBadRequest, unknown_chat_details(chat_id)));
    return;
  }
  ++state_.counters.stops;
  size_t n = runner_.stop_chat(chat_id);
  QP_DEBUG("mock.stop").kv("chat_id", chat_id).kv("streams", static_cast<uint64_t>(n));
  ex.respond(200, json_headers(), ok_envelope(rid, R"({"status":true})"));
}

}  // namespace qp::mock
