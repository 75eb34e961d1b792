#include "tools/mock-qwen/replay.h"

#include <simdjson.h>

#include "common/json/writer.h"
#include "common/log.h"

namespace qp::mock {
namespace {

std::string_view path_of(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

// A recorded `data` or `body`: strings as they are, anything else as JSON.
std::string value_text(simdjson::dom::element v) {
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(v);
}

}  // namespace

Result<ReplayLog> ReplayLog::parse(std::string_view text) {
  ReplayLog log;
  simdjson::dom::parser parser;
  size_t line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto where = [&](std::string_view what) {
      return error(Code::kInvalidArgument,
                   "recording line " + std::to_string(line_no) + ": " + std::string(what));
    };
    simdjson::dom::element doc;
    if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS || !doc.is_object())
      return where("not a JSON object");
    ReplayExchange e;
    std::string_view s;
    if (doc["method"].get_string().get(s) != simdjson::SUCCESS) return where("no method");
    e.method = s;
    if (doc["path"].get_string().get(s) != simdjson::SUCCESS) return where("no path");
    e.path = path_of(s);
    simdjson::dom::object resp;
    if (doc["response"].get_object().get(resp) != simdjson::SUCCESS) return where("no response");
    int64_t status = 0;
    if (resp["status"].get_int64().get(status) != simdjson::SUCCESS || status < 0 || status > 999)
      return where("no response status");
    e.status = static_cast<int>(status);
    simdjson::dom::object headers;
    if (resp["headers"].get_object().get(headers) == simdjson::SUCCESS) {
      for (auto h : headers) {
        if (h.value.get_string().get(s) == simdjson::SUCCESS) e.headers.emplace_back(h.key, s);
      }
    }
    simdjson::dom::array events;
    if (resp["events"].get_array().get(events) == simdjson::SUCCESS) {
      e.sse = true;
      for (auto ev : events) {
        ReplayEvent re;
        uint64_t t = 0;
        if (ev["t_ms"].get_uint64().get(t) == simdjson::SUCCESS) re.t_ms = t;
        simdjson::dom::element data;
        if (ev["data"].get(data) != simdjson::SUCCESS) return where("an event without data");
        re.data = value_text(data);
        e.events.push_back(std::move(re));
      }
    }
    simdjson::dom::element body;
    if (resp["body"].get(body) == simdjson::SUCCESS) e.body = value_text(body);
    if (doc["outcome"].get_string().get(s) == simdjson::SUCCESS) e.failed = s == "failed";
    log.exchanges_.push_back(std::move(e));
  }
  return log;
}

const ReplayExchange* ReplayLog::take(std::string_view method, std::string_view target) {
  std::string_view path = path_of(target);
  for (auto& e : exchanges_) {
    if (!e.served && e.method == method && e.path == path) {
      e.served = true;
      return &e;
    }
  }
  return nullptr;
}

size_t ReplayLog::remaining() const {
  size_t n = 0;
  for (const auto& e : exchanges_) n += e.served ? 0 : 1;
  return n;
}

ReplayServer::ReplayServer(uv_loop_t* loop, ReplayOptions options, ReplayLog log)
    : options_(std::move(options)), log_(std::move(log)), delays_(loop) {
  http::ServerOptions so;
  so.host = options_.host;
  so.port = options_.port;
  server_ = std::make_unique<http::Server>(loop, std::move(so),
                                           [this](http::Exchange ex) { handle(ex); });
}

ReplayServer::~ReplayServer() { close(); }

Status ReplayServer::listen() { return server_->listen(); }

void ReplayServer::close() {
  delays_.clear();
  server_->close();
}

void ReplayServer::handle(http::Exchange ex) {
  const http::Request& req = ex.request();
  if (req.path == "/__mock/replay" || req.path == "/__mock/health") {
    std::string out;
    json::Writer w(&out);
    w.begin_object();
    w.field("served", served_).field("remaining", static_cast<uint64_t>(log_.remaining()));
    w.field("unmatched", unmatched_).end_object();
    return ex.respond(200, {{"content-type", "application/json"}}, std::move(out));
  }
  const ReplayExchange* e = log_.take(req.method, req.target);
  if (e == nullptr) {
    ++unmatched_;
    QP_WARN("replay.unmatched").kv("method", req.method).kv("path", req.path);
    std::string out;
    json::Writer w(&out);
    w.begin_object().field("success", false).key("data").begin_object();
    w.field("code", "ReplayMismatch");
    w.field("details",
            "mock-qwen --replay: no recorded exchange left for " + req.method + " " + req.path);
    w.end_object().end_object();
    return ex.respond(500, {{"content-type", "application/json"}}, std::move(out));
  }
  ++served_;
  QP_DEBUG("replay.served").kv("method", req.method).kv("path", req.path).kv("status", e->status);
  if (e->status == 0) return ex.abort();  // recorded as a transport failure
  http::Headers headers;
  for (const auto& [name, value] : e->headers) headers.push_back({name, value});
  if (!e->sse) {
    if (e->failed) return ex.abort();
    return ex.respond(e->status, std::move(headers), e->body);
  }
  ex.start_stream(e->status, std::move(headers));
  send_events(ex, e, 0);
}

// Sends events from `i` on: each at once while it is due, else after its
// gap to the previous one (scaled by the speed) through the delay queue.
void ReplayServer::send_events(http::Exchange ex, const ReplayExchange* e, size_t i) {
  for (; i < e->events.size(); ++i) {
    if (!ex.alive()) return;
    if (options_.speed > 0) {
      uint64_t prev = i == 0 ? 0 : e->events[i - 1].t_ms;
      uint64_t gap = e->events[i].t_ms > prev ? e->events[i].t_ms - prev : 0;
      auto delay = static_cast<int64_t>(static_cast<double>(gap) / options_.speed);
      if (delay > 0) {
        delays_.after(delay, [this, ex, e, i] { send_due(ex, e, i); });
        return;
      }
    }
    std::string chunk;
    chunk.reserve(e->events[i].data.size() + 8);
    chunk.append("data: ").append(e->events[i].data).append("\n\n");
    ex.write(std::move(chunk));
  }
  end(ex, e);
}

void ReplayServer::send_due(http::Exchange ex, const ReplayExchange* e, size_t i) {
  if (!ex.alive()) return;
  std::string chunk;
  chunk.append("data: ").append(e->events[i].data).append("\n\n");
  ex.write(std::move(chunk));
  send_events(ex, e, i + 1);
}

void ReplayServer::end(http::Exchange ex, const ReplayExchange* e) {
  if (!ex.alive()) return;
  if (e->failed) return ex.abort();
  ex.end();
}

}  // namespace qp::mock
