#include "frontend/admin/render.h"

namespace qp::frontend::admin {
namespace {

int64_t ms_between_ns(uint64_t from, uint64_t to) {
  return to > from ? static_cast<int64_t>((to - from) / 1'000'000) : 0;
}

std::string duration_text(int64_t s) {
  if (s < 3600) return std::to_string(s / 60) + " min";
  return std::to_string(s / 3600) + " h";
}

}  // namespace

void write_account(json::Writer& w, const protocol::AccountSummary& a, const AccountExtras& x) {
  w.begin_object().field("name", a.account).field("health", a.health).field("reason", a.detail);
  if (a.token_expires_unix_s > 0)
    w.field("token_expires_unix_s", a.token_expires_unix_s);
  else
    w.field_null("token_expires_unix_s");
  w.field("capacity", a.capacity).field("in_flight", a.in_flight);
  if (a.health_until_unix_ms > 0 && a.health_until_unix_ms > x.now_unix_ms)
    w.field("cooldown_until_unix_ms", a.health_until_unix_ms);
  else
    w.field_null("cooldown_until_unix_ms");
  w.field("draining", a.draining);
  w.key("last_hour")
      .begin_object()
      .field("requests", x.last_hour.requests)
      .field("errors", x.last_hour.errors)
      .field("tokens_in", x.last_hour.tokens_in)
      .field("tokens_out", x.last_hour.tokens_out)
      .end_object();
  if (x.last_error != nullptr) {
    w.key("last_error")
        .begin_object()
        .field("at_unix_ms", x.last_error->at_unix_ms)
        .field("type", x.last_error->type)
        .field("message", x.last_error->message)
        .end_object();
  } else {
    w.field_null("last_error");
  }
  w.key("worker")
      .begin_object()
      .field("pid", a.pid)
      .field("started_unix_ms", a.started_unix_ms)
      .field("restarts", a.restarts)
      .end_object();
  w.end_object();
}

void write_worker(json::Writer& w, const protocol::AccountSummary& a, std::string_view instance,
                  int64_t now_unix_ms) {
  int64_t uptime_s = a.started_unix_ms > 0 && now_unix_ms > a.started_unix_ms
                         ? (now_unix_ms - a.started_unix_ms) / 1000
                         : 0;
  w.begin_object()
      .field("account", a.account)
      .field("pid", a.pid)
      .field("uptime_s", uptime_s)
      .field("restarts", a.restarts)
      .field("instance", instance)
      .end_object();
}

void write_live_request(json::Writer& w, const RequestRecord& r, int64_t now_unix_ms) {
  int64_t age = now_unix_ms > r.start_unix_ms ? now_unix_ms - r.start_unix_ms : 0;
  w.begin_object()
      .field("id", r.id)
      .field("endpoint", r.endpoint)
      .field("model", r.model)
      .field("account", r.account)
      .field("key", r.key)
      .field("stream", r.stream)
      .field("age_ms", age)
      .field("chunks", r.chunks)
      .end_object();
}

void write_error(json::Writer& w, const ErrorEntry& e) {
  w.begin_object()
      .field("at_unix_ms", e.at_unix_ms)
      .field("request_id", e.request_id)
      .field("endpoint", e.endpoint)
      .field("model", e.model)
      .field("account", e.account)
      .field("status", e.status)
      .field("type", e.type)
      .field("code", e.code)
      .field("message", e.message)
      .end_object();
}

void write_request_start(json::Writer& w, const RequestRecord& r) {
  w.begin_object()
      .field("id", r.id)
      .field("endpoint", r.endpoint)
      .field("model", r.model)
      .field("key", r.key)
      .field("stream", r.stream)
      .end_object();
}

void write_request_end(json::Writer& w, const RequestRecord& r, const RequestOutcome& out,
                       uint64_t end_ns) {
  w.begin_object()
      .field("id", r.id)
      .field("model", r.model)
      .field("account", r.account)
      .field("status", out.http_status)
      .field("type", out.error_type)
      .field("duration_ms", ms_between_ns(r.start_ns, end_ns));
  if (r.first_content_ns != 0)
    w.field("ttfc_ms", ms_between_ns(r.start_ns, r.first_content_ns));
  else
    w.field_null("ttfc_ms");
  w.field("chunks", r.chunks)
      .field("tokens_in", out.usage != nullptr ? out.usage->prompt_tokens : 0)
      .field("tokens_out", out.usage != nullptr ? out.usage->completion_tokens : 0)
      .end_object();
}

std::vector<Notice> account_notices(const std::vector<protocol::AccountSummary>& accounts,
                                    int64_t now_unix_s) {
  std::vector<Notice> out;
  for (const auto& a : accounts) {
    if (a.token_expires_unix_s > 0 && a.token_expires_unix_s <= now_unix_s) {
      out.push_back(
          {a.account, "token_expired",
           "The session token of account " + a.account + " has expired; import fresh credentials.",
           a.token_expires_unix_s});
    } else if (a.token_expires_unix_s > 0 && a.token_expires_unix_s - now_unix_s < 24 * 3600) {
      out.push_back({a.account, "token_expiring",
                     "The session token of account " + a.account + " expires in " +
                         duration_text(a.token_expires_unix_s - now_unix_s) + ".",
                     a.token_expires_unix_s});
    }
    if (a.health != protocol::kHealthOk) {
      std::string m = "Account " + a.account + " is " + a.health;
      if (!a.detail.empty()) m += ": " + a.detail;
      out.push_back({a.account, "unhealthy", m + ".", a.token_expires_unix_s});
    }
  }
  return out;
}

void write_notice(json::Writer& w, const Notice& n) {
  w.begin_object().field("account", n.account).field("kind", n.kind).field("message", n.message);
  if (n.expires_unix_s > 0)
    w.field("expires_unix_s", n.expires_unix_s);
  else
    w.field_null("expires_unix_s");
  w.end_object();
}

void append_sse_event(std::string* out, std::string_view type, std::string_view json) {
  out->append("event: ").append(type).append("\ndata: ").append(json).append("\n\n");
}

}  // namespace qp::frontend::admin
