// The /__mock/ admin API of MockServer (no auth; tests and benchmarks only).
#include <string>

#include "common/json/writer.h"
#include "common/log.h"
#include "tools/mock-qwen/http_util.h"
#include "tools/mock-qwen/jwt.h"
#include "tools/mock-qwen/mock_server.h"
#include "tools/mock-qwen/requests.h"

namespace qp::mock {

void MockServer::handle_admin(http::Exchange& ex, std::string_view what) {
  const http::Request& req = ex.request();
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  auto ok = [&](std::string body) { ex.respond(200, json_headers(), std::move(body)); };
  auto fail = [&](int status, std::string_view msg) {
    ex.respond(status, json_headers(), admin_error(msg));
  };

  if (what == "health" && get) {
    ok(R"({"ok":true})");
  } else if (what == "state" && get) {
    uint64_t since = parse_u64(req.query_param("since"), 0);
    uint64_t limit = parse_u64(req.query_param("limit"), UINT64_MAX);
    std::string body;
    state_.append_json_open(&body, since, static_cast<size_t>(limit));
    body.append(",\"held\":");
    body.append(runner_.hold() ? "true" : "false");
    body.append(",\"parked\":" + std::to_string(runner_.parked()));
    body.append(",\"chats\":" + std::to_string(chats_.size()));
    body.append(",\"rules\":" + std::to_string(rules_.rule_count()));
    body.append(",\"config\":");
    append_config_json(&body, config_);
    body.append(",\"faults\":");
    faults_.append_json(&body);
    body.push_back('}');
    ok(std::move(body));
  } else if (what == "reset" && post) {
    state_.reset();
    chats_.clear();
    faults_.clear();
    quota_used_.clear();
    oss_.clear();
    oss_failures_ = 0;
    config_ = initial_config_;
    rules_ = initial_rules_;
    state_.set_max_records(static_cast<size_t>(config_.max_records));
    runner_.release();
    QP_INFO("mock.reset");
    ok(R"({"ok":true})");
  } else if (what == "config" && (post || get)) {
    if (post) {
      qp::Status st = apply_config_json(req.body, &config_, &faults_);
      if (!st.ok()) {
        fail(400, st.message());
        return;
      }
      state_.set_max_records(static_cast<size_t>(config_.max_records));
      QP_INFO("mock.config_changed").kv("faults", static_cast<uint64_t>(faults_.faults().size()));
    }
    std::string body = "{\"ok\":true,\"config\":";
    append_config_json(&body, config_);
    body.append(",\"faults\":");
    faults_.append_json(&body);
    body.push_back('}');
    ok(std::move(body));
  } else if (what == "rules" && post) {
    auto parsed = AnswerScript::parse(req.body);
    if (!parsed.has_value()) {
      fail(400, parsed.error().message());
      return;
    }
    rules_ = std::move(parsed.value());
    QP_INFO("mock.rules_loaded").kv("rules", static_cast<uint64_t>(rules_.rule_count()));
    ok("{\"ok\":true,\"rules\":" + std::to_string(rules_.rule_count()) + "}");
  } else if (what == "hold" && post) {
    runner_.set_hold(true);
    ok(R"({"ok":true,"held":true})");
  } else if (what == "release" && post) {
    size_t n = runner_.release();
    ok("{\"ok\":true,\"released\":" + std::to_string(n) + "}");
  } else if (what == "token" && post) {
    auto parsed = parse_token_request(req.body);
    if (!parsed.has_value()) {
      fail(400, parsed.error().message());
      return;
    }
    int64_t exp = now_s() + parsed->ttl_s;
    std::string body;
    json::Writer(&body)
        .begin_object()
        .field("token", mint_jwt(options_.jwt_secret, parsed->user, exp))
        .field("exp", exp)
        .end_object();
    ok(std::move(body));
  } else if (what == "health" || what == "state" || what == "reset" || what == "config" ||
             what == "rules" || what == "hold" || what == "release" || what == "token") {
    fail(405, "Method Not Allowed");
  } else {
    fail(404, "unknown admin endpoint");
  }
}

}  // namespace qp::mock
