#include "frontend/admin/admin_api.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include <simdjson.h>

#include "common/ids.h"
#include "common/json/writer.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/uv/callback.h"
#include "frontend/admin/account_import.h"
#include "frontend/admin/render.h"
#include "frontend/chat_call.h"

#ifndef QP_VERSION
#define QP_VERSION "unknown"
#endif

namespace qp::frontend::admin {
namespace {

constexpr uint64_t kTickMs = 1000;
constexpr uint64_t kPingTicks = 15;
constexpr int64_t kTestTimeoutMs = 60'000;
constexpr size_t kEventBacklogBytes = 1 << 20;
constexpr std::string_view kPrefix = "/admin/v1/";
constexpr const char* kTestPrompt = "Reply with the word ok.";

http::Headers json_headers() {
  return {{"content-type", "application/json"}, {"cache-control", "no-store"}};
}

void reply_error(http::Exchange& ex, const ApiError& e) {
  auto h = json_headers();
  if (e.code == Code::kMethodNotAllowed) h.push_back({"allow", e.param});
  ApiError body = e;
  if (e.code == Code::kMethodNotAllowed) body.param.clear();
  ex.respond(http_status(e), std::move(h), error_json(body));
}

ApiError not_found(std::string message) {
  return ApiError{Code::kNotFound, std::move(message), {}, "not_found", 0};
}

// A POST must say its body is JSON (else 415 is sent and false returned).
bool require_json(http::Exchange& ex) {
  const std::string* ct = ex.request().header("content-type");
  std::string_view type = ct != nullptr ? std::string_view(*ct) : std::string_view();
  type = strings::trim_blanks(type.substr(0, type.find(';')));
  if (strings::iequals(type, "application/json")) return true;
  ex.respond(415, json_headers(),
             error_json(ApiError{Code::kInvalidArgument,
                                 "Admin API bodies are JSON: send content-type: application/json.",
                                 {},
                                 "unsupported_media_type",
                                 0}));
  return false;
}

// The JSON body of a POST: `{}` for an empty body; else must be an object
// sent as application/json.
bool parse_body(http::Exchange& ex, simdjson::dom::parser* parser, simdjson::dom::object* obj) {
  if (!require_json(ex)) return false;
  const http::Request& req = ex.request();
  std::string_view body = req.body.empty() ? std::string_view("{}") : std::string_view(req.body);
  simdjson::dom::element doc;
  if (parser->parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS ||
      doc.get(*obj) != simdjson::SUCCESS) {
    reply_error(ex, ApiError::invalid("", "The body is not a JSON object."));
    return false;
  }
  return true;
}

// Optional string member; false (with a 400 sent) if present but not a string.
bool opt_string(http::Exchange& ex, simdjson::dom::object& o, const char* key, std::string* out) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return true;
  std::string_view v;
  if (e.get(v) != simdjson::SUCCESS) {
    reply_error(ex, ApiError::invalid(key, std::string("'") + key + "' must be a string."));
    return false;
  }
  out->assign(v);
  return true;
}

bool opt_bool(http::Exchange& ex, simdjson::dom::object& o, const char* key, bool* out) {
  simdjson::dom::element e;
  if (o[key].get(e) != simdjson::SUCCESS || e.is_null()) return true;
  if (e.get(*out) != simdjson::SUCCESS) {
    reply_error(ex, ApiError::invalid(key, std::string("'") + key + "' must be a boolean."));
    return false;
  }
  return true;
}

int64_t unix_now_s() { return uv::now_unix_ms() / 1000; }

// An event-stream subscriber on one HTTP exchange.
class ExchangeSink final : public EventSink {
 public:
  explicit ExchangeSink(http::Exchange ex) : ex_(ex) {}
  bool send(std::string data) override { return ex_.write(std::move(data)); }
  size_t backlog() const override { return ex_.queued_bytes(); }
  void close() override { ex_.abort(); }  // behind or shutting down: drop it

 private:
  http::Exchange ex_;
};

}  // namespace

// POST /admin/v1/accounts/{name}/test: one chat job pinned to the account;
// the answer is accumulated and returned as JSON.
class AdminApi::TestChat final : public JobSink {
 public:
  TestChat(http::Exchange ex, std::string account, std::string model, int64_t deadline_unix_ms)
      : ex_(ex),
        account_(std::move(account)),
        model_(std::move(model)),
        start_ns_(steady_now_ns()),
        deadline_unix_ms_(deadline_unix_ms) {}
  void on_chunk(const protocol::JobChunk& c) override {
    if (content_.size() < 64 * 1024) content_.append(c.content);
  }
  void on_done(const protocol::JobDone& d) override {
    std::string body;
    json::Writer w(&body);
    w.begin_object()
        .field("account", d.account.empty() ? account_ : d.account)
        .field("model", model_)
        .field("content", content_)
        .field("duration_ms", static_cast<int64_t>((steady_now_ns() - start_ns_) / 1'000'000))
        .end_object();
    ex_.respond(200, json_headers(), std::move(body));
    done_ = true;
  }
  void on_error(const protocol::JobError& e) override {
    fail(ApiError{e.code, e.message, {}, e.error_code, e.retry_after_s});
  }
  void on_models(const protocol::ModelList&) override {
    fail(ApiError{Code::kInternal, "unexpected reply to a chat request", {}, {}, 0});
  }
  void fail(const ApiError& e) {
    if (done_) return;
    done_ = true;
    reply_error(ex_, e);
  }
  bool expired(int64_t now_unix_ms) const { return now_unix_ms >= deadline_unix_ms_; }
  http::Exchange& exchange() { return ex_; }

 private:
  http::Exchange ex_;
  std::string account_;
  std::string model_;
  std::string content_;
  uint64_t start_ns_;
  int64_t deadline_unix_ms_;
  bool done_ = false;
};

AdminApi::AdminApi(uv_loop_t* loop, const Config& config)
    : loop_(loop),
      config_(config),
      access_(config.frontend.admin_key, config.frontend.host),
      hub_(kEventBacklogBytes) {}

AdminApi::~AdminApi() { close(); }

void AdminApi::start(AdminHost host) {
  host_ = std::move(host);
  started_unix_ms_ = uv::now_unix_ms();
  if (!access_.enabled()) {
    QP_WARN("admin.disabled").kv("reason", access_.why_disabled());
    return;
  }
  uv_timer_init(loop_, tick_.get());
  tick_.get()->data = this;
  uv_timer_start(tick_.get(), uv::method<&AdminApi::on_tick>, kTickMs, kTickMs);
}

void AdminApi::close() {
  if (closed_) return;
  closed_ = true;
  tick_.reset();
  hub_.close_all();
  for (auto& [id, t] : tests_) {
    if (host_.broker != nullptr) host_.broker->cancel(id, "server shutting down");
    t->fail(ApiError{Code::kUnavailable, "The server is shutting down.", {}, {}, 1});
  }
  tests_.clear();
}

const protocol::AccountSummary* AdminApi::find_account(std::string_view name) const {
  if (host_.broker == nullptr) return nullptr;
  for (const auto& a : host_.broker->broker_status().accounts) {
    if (a.account == name) return &a;
  }
  return nullptr;
}

std::string AdminApi::account_json(const protocol::AccountSummary& a, int64_t now_unix_ms) {
  AccountExtras x;
  x.now_unix_ms = now_unix_ms;
  if (auto it = accounts_.find(a.account); it != accounts_.end()) {
    x.last_hour = it->second.hour.totals(now_unix_ms);
    if (it->second.last_error.at_unix_ms != 0) x.last_error = &it->second.last_error;
  }
  std::string out;
  json::Writer w(&out);
  write_account(w, a, x);
  return out;
}

void AdminApi::handle(http::Exchange ex) {
  const http::Request& req = ex.request();
  if (ApiError err; !access_.check(req, &err)) return reply_error(ex, err);
  std::string_view path = req.path;
  const std::string& m = req.method;
  if (path.rfind(kPrefix, 0) != 0) return reply_error(ex, not_found("Unknown admin URL."));
  std::string_view rest = path.substr(kPrefix.size());
  auto method_is = [&](const char* want) {
    if (m == want || (std::string_view(want) == "GET" && m == "HEAD")) return true;
    reply_error(ex, ApiError{Code::kMethodNotAllowed,
                             "Method " + m + " is not allowed for " + std::string(path) + ".",
                             want,
                             {},
                             0});
    return false;
  };
  if (rest == "overview") return method_is("GET") ? get_overview(ex) : void();
  if (rest == "accounts") return method_is("GET") ? get_accounts(ex) : void();
  if (rest == "workers") return method_is("GET") ? get_workers(ex) : void();
  if (rest == "requests") return method_is("GET") ? get_requests(ex) : void();
  if (rest == "errors") return method_is("GET") ? get_errors(ex) : void();
  if (rest == "events") return method_is("GET") ? get_events(ex) : void();
  if (rest == "accounts/import") return method_is("POST") ? post_import(ex) : void();
  // {collection}/{name}/{action}
  size_t a = rest.find('/');
  size_t b = a == std::string_view::npos ? a : rest.find('/', a + 1);
  if (b != std::string_view::npos && rest.find('/', b + 1) == std::string_view::npos) {
    std::string_view coll = rest.substr(0, a);
    std::string name(rest.substr(a + 1, b - a - 1));
    std::string_view action = rest.substr(b + 1);
    if (coll == "accounts" && (action == "reload" || action == "drain" || action == "resume" ||
                               action == "remove" || action == "test")) {
      if (!method_is("POST")) return;
      if (!valid_admin_account_name(name))
        return reply_error(ex, not_found("Unknown account '" + name + "'."));
      if (action == "test") return post_test(ex, name);
      return post_account_action(ex, name, action);
    }
    if (coll == "requests" && action == "cancel") {
      if (!method_is("POST")) return;
      return post_cancel(ex, name);
    }
  }
  reply_error(ex, not_found("Unknown admin URL: " + m + " " + std::string(path) +
                            ". See docs/api.md, \"Admin API\"."));
}

void AdminApi::get_overview(http::Exchange& ex) {
  int64_t now_ms = uv::now_unix_ms();
  const auto& st = host_.broker->broker_status();
  uint64_t in_flight = 0;
  host_.for_each_call([&](const RequestRecord&) { ++in_flight; });
  std::string body;
  json::Writer w(&body);
  w.begin_object()
      .field("version", QP_VERSION)
      .field("uptime_s", (now_ms - started_unix_ms_) / 1000);
  w.key("broker")
      .begin_object()
      .field("connected", host_.broker->connected())
      .field("instance", st.instance)
      .end_object();
  w.field("in_flight", in_flight).field("queued", st.queued);
  w.key("series").begin_object().field("bucket_s", 60).key("points").begin_array();
  for (const auto& p : all_.points(now_ms)) {
    w.begin_object()
        .field("t", p.t)
        .field("requests", p.requests)
        .field("errors", p.errors)
        .field("tokens_in", p.tokens_in)
        .field("tokens_out", p.tokens_out)
        .field("p50_ms", p.p50_ms)
        .field("p99_ms", p.p99_ms)
        .end_object();
  }
  w.end_array().end_object();
  w.key("notices").begin_array();
  for (const auto& n : account_notices(st.accounts, now_ms / 1000)) write_notice(w, n);
  w.end_array().end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void AdminApi::get_accounts(http::Exchange& ex) {
  int64_t now_ms = uv::now_unix_ms();
  std::string body;
  json::Writer w(&body);
  w.begin_object().key("accounts").begin_array();
  for (const auto& a : host_.broker->broker_status().accounts) w.raw(account_json(a, now_ms));
  w.end_array().end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void AdminApi::get_workers(http::Exchange& ex) {
  int64_t now_ms = uv::now_unix_ms();
  const auto& st = host_.broker->broker_status();
  std::string body;
  json::Writer w(&body);
  w.begin_object().key("workers").begin_array();
  for (const auto& a : st.accounts) write_worker(w, a, st.instance, now_ms);
  w.end_array().end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void AdminApi::get_requests(http::Exchange& ex) {
  int64_t now_ms = uv::now_unix_ms();
  std::string body;
  json::Writer w(&body);
  w.begin_object().key("requests").begin_array();
  host_.for_each_call([&](const RequestRecord& r) { write_live_request(w, r, now_ms); });
  w.end_array().end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void AdminApi::get_errors(http::Exchange& ex) {
  std::string body;
  json::Writer w(&body);
  w.begin_object().key("errors").begin_array();
  for (size_t i = 0; i < errors_.size(); ++i) write_error(w, errors_.newest(i));
  w.end_array().end_object();
  ex.respond(200, json_headers(), std::move(body));
}

void AdminApi::get_events(http::Exchange& ex) {
  int64_t now_ms = uv::now_unix_ms();
  std::string data;
  json::Writer w(&data);
  w.begin_object().key("accounts").begin_array();
  for (const auto& a : host_.broker->broker_status().accounts) {
    std::string one = account_json(a, now_ms);
    w.raw(one);
    last_account_json_[a.account] = std::move(one);
  }
  w.end_array().end_object();
  std::string first;
  append_sse_event(&first, "hello", data);
  ex.start_stream(200, {{"content-type", "text/event-stream; charset=utf-8"},
                        {"cache-control", "no-cache"},
                        {"x-accel-buffering", "no"}});
  uint64_t id = hub_.add(std::make_unique<ExchangeSink>(ex), std::move(first));
  ex.on_abort([this, id] { hub_.remove(id); });
}

void AdminApi::post_import(http::Exchange& ex) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (!parse_body(ex, &parser, &o)) return;
  std::string text, name;
  bool replace = false;
  if (!opt_string(ex, o, "text", &text) || !opt_string(ex, o, "name", &name) ||
      !opt_bool(ex, o, "replace", &replace))
    return;
  if (text.empty())
    return reply_error(
        ex, ApiError::invalid("text", "Paste a cURL command, a Cookie header or a HAR as 'text'."));
  ImportFailure failure = ImportFailure::kNone;
  auto r = import_account(config_.accounts_dir, text, name, replace, unix_now_s(), &failure);
  if (!r) {
    QP_WARN("admin.import_failed").kv("message", r.error().message());
    if (failure == ImportFailure::kExists) {
      return ex.respond(409, json_headers(),
                        error_json(ApiError{Code::kInvalidArgument, r.error().message(), "name",
                                            "account_exists", 0}));
    }
    if (failure == ImportFailure::kBadInput)
      return reply_error(ex, ApiError::invalid("text", r.error().message()));
    return reply_error(
        ex, ApiError{r.error().code() == Code::kUnavailable ? Code::kUnavailable : Code::kInternal,
                     r.error().message(),
                     {},
                     {},
                     0});
  }
  QP_INFO("admin.account_imported").kv("account", r->name).kv("file", r->file);
  std::string body;
  json::Writer w(&body);
  w.begin_object().field("name", r->name).field("user_id", r->user_id);
  if (r->expires_unix_s > 0)
    w.field("expires_unix_s", r->expires_unix_s);
  else
    w.field_null("expires_unix_s");
  w.field("file", r->file).end_object();
  ex.respond(201, json_headers(), std::move(body));
}

void AdminApi::post_account_action(http::Exchange& ex, const std::string& name,
                                   std::string_view action) {
  if (!require_json(ex)) return;
  if (action == "remove") {
    std::string path =
        config_.accounts_dir.empty() ? std::string() : config_.accounts_dir + "/" + name + ".toml";
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0)
      return reply_error(ex, not_found("No account file for '" + name + "'."));
    // Out of rotation first (its streams finish), then the watch stops the worker.
    if (find_account(name) != nullptr) static_cast<void>(host_.broker->send_admin({"drain", name}));
    std::string moved = path + ".removed-" + std::to_string(unix_now_s());
    if (::rename(path.c_str(), moved.c_str()) != 0) {
      return reply_error(
          ex, ApiError{Code::kInternal,
                       "Cannot rename the account file: " + std::string(std::strerror(errno)) + ".",
                       {},
                       {},
                       0});
    }
    QP_INFO("admin.account_removed").kv("account", name).kv("moved_to", moved);
    std::string body;
    json::Writer(&body).begin_object().field("moved_to", moved).end_object();
    return ex.respond(202, json_headers(), std::move(body));
  }
  if (find_account(name) == nullptr)
    return reply_error(ex, not_found("Unknown account '" + name + "'."));
  if (Status s = host_.broker->send_admin({std::string(action), name}); !s.ok())
    return reply_error(ex, ApiError{s.code(), s.message(), {}, {}, 1});
  QP_INFO("admin.account_action").kv("account", name).kv("action", action);
  ex.respond(202, json_headers(), "{}");
}

void AdminApi::post_test(http::Exchange& ex, const std::string& name) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (!parse_body(ex, &parser, &o)) return;
  std::string model, prompt;
  if (!opt_string(ex, o, "model", &model) || !opt_string(ex, o, "prompt", &prompt)) return;
  if (find_account(name) == nullptr)
    return reply_error(ex, not_found("Unknown account '" + name + "'."));
  if (model.empty() && host_.models != nullptr && !host_.models->list().models.empty())
    model = host_.models->list().models.front().id;
  if (model.empty()) model = config_.worker.default_model;
  if (prompt.empty()) prompt = kTestPrompt;
  protocol::JobRequest job;
  job.request_id = "admintest-" + ids::random_hex(16);
  job.model = model;
  job.messages.push_back({"user", prompt, {}, {}, {}});
  job.stream = true;
  job.pin_account = name;
  job.created_unix_ms = uv::now_unix_ms();
  job.deadline_unix_ms = job.created_unix_ms + kTestTimeoutMs;
  auto t = std::make_unique<TestChat>(ex, name, model, job.deadline_unix_ms);
  if (Status s = host_.broker->submit(job, t.get()); !s.ok())
    return reply_error(ex, ApiError{s.code(), s.message(), {}, {}, 0});
  std::string id = job.request_id;
  ex.on_abort([this, id] {
    if (tests_.count(id) == 0) return;
    host_.broker->cancel(id, "client disconnected");  // unregisters the sink first
    tests_.erase(id);
  });
  tests_.emplace(id, std::move(t));
}

void AdminApi::post_cancel(http::Exchange& ex, const std::string& id) {
  if (!require_json(ex)) return;
  if (!host_.cancel_call(id)) return reply_error(ex, not_found("Unknown request '" + id + "'."));
  QP_INFO("admin.request_cancelled").kv("request_id", id);
  ex.respond(202, json_headers(), "{}");
}

void AdminApi::on_job_finished(const std::string& request_id) { tests_.erase(request_id); }

void AdminApi::on_start(const RequestRecord& r) {
  if (hub_.empty()) return;
  scratch_.clear();
  json::Writer w(&scratch_);
  write_request_start(w, r);
  hub_.publish("request.start", scratch_);
}

void AdminApi::on_end(const RequestRecord& r, const RequestOutcome& out) {
  uint64_t end_ns = steady_now_ns();
  int64_t now_ms = uv::now_unix_ms();
  // A client that went away is not the gateway's error.
  bool error = out.http_status >= 400 && out.http_status != 499;
  int64_t tin = out.usage != nullptr ? out.usage->prompt_tokens : 0;
  int64_t tout = out.usage != nullptr ? out.usage->completion_tokens : 0;
  auto latency = static_cast<int64_t>((end_ns > r.start_ns ? end_ns - r.start_ns : 0) / 1'000'000);
  all_.add(now_ms, error, tin, tout, latency);
  AccountStats* acc = nullptr;
  if (!r.account.empty()) {
    auto it = accounts_.find(r.account);
    if (it == accounts_.end()) it = accounts_.emplace(r.account, AccountStats{}).first;
    acc = &it->second;
    acc->hour.add(now_ms, error, tin, tout, latency);
  }
  if (!hub_.empty()) {
    scratch_.clear();
    json::Writer w(&scratch_);
    write_request_end(w, r, out, end_ns);
    hub_.publish("request.end", scratch_);
  }
  if (!error) return;
  ErrorEntry e;
  e.at_unix_ms = now_ms;
  e.request_id = r.id;
  e.endpoint = std::string(r.endpoint);
  e.model = r.model;
  e.account = r.account;
  e.status = out.http_status;
  e.type = std::string(out.error_type);
  e.code = std::string(out.error_code);
  e.message = std::string(out.message);
  if (acc != nullptr) acc->last_error = e;
  if (!hub_.empty()) {
    scratch_.clear();
    json::Writer w(&scratch_);
    write_error(w, e);
    hub_.publish("error", scratch_);
  }
  errors_.push(std::move(e));
}

void AdminApi::on_tick() {
  int64_t now_ms = uv::now_unix_ms();
  // Test chats past their deadline.
  for (auto it = tests_.begin(); it != tests_.end();) {
    if (!it->second->expired(now_ms)) {
      ++it;
      continue;
    }
    host_.broker->cancel(it->first, "admin test chat timed out");
    it->second->fail(
        ApiError{Code::kUpstreamTimeout, "The test chat did not finish in time.", {}, {}, 0});
    it = tests_.erase(it);
  }
  if (hub_.empty()) return;
  if (++ticks_ % kPingTicks == 0) hub_.ping();
  // An `account` event for every account whose object changed.
  for (const auto& a : host_.broker->broker_status().accounts) {
    std::string one = account_json(a, now_ms);
    auto it = last_account_json_.find(a.account);
    if (it != last_account_json_.end() && it->second == one) continue;
    hub_.publish("account", one);
    last_account_json_[a.account] = std::move(one);
  }
}

}  // namespace qp::frontend::admin
