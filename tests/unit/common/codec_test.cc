#include "common/protocol/codec.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>

#include "common/protocol/wire.h"

using namespace qp;
using namespace qp::protocol;

namespace {

JobRequest sample_job() {
  JobRequest j;
  j.request_id = "req-1";
  j.kind = JobKind::kChat;
  j.model = "qwen3-max";
  j.messages = {{"system", "be brief", "", "", ""},
                {"user", "héllo \"x\"", "bob", "", ""},
                {"assistant", "", "", "", R"([{"id":"c1"}])"},
                {"tool", "42", "", "c1", ""}};
  j.stream = true;
  j.max_tokens = 128;
  j.temperature = 0.5;
  j.stop = {"END", "\n\n"};
  j.user = "u";
  j.created_unix_ms = 1732711466000;
  j.deadline_unix_ms = -1;
  j.parallel_tool_calls = false;
  j.history.key = std::string(64, 'a');
  j.history.new_from = 3;
  j.history.state = std::string(64, 'b');
  j.history.system_hash = "s";
  j.resume.chat_id = "chat-1";  // not encoded: the RESUME frame carries it
  j.resume.parent_id = "resp-0";
  return j;
}

std::string hex(const std::string& s) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(k[c >> 4]);
    out.push_back(k[c & 15]);
  }
  return out;
}

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string read_golden(const std::string& name) {
  std::ifstream in(std::string(QP_TESTDATA_DIR) + "/protocol/" + name + ".hex");
  std::string h;
  in >> h;
  return unhex(h);
}

// Golden files pin the wire format so a change shows in review. Regenerate
// with QP_UPDATE_GOLDEN=1 after an intentional change.
void check_golden(const std::string& name, const std::string& bytes) {
  std::string path = std::string(QP_TESTDATA_DIR) + "/protocol/" + name + ".hex";
  if (std::getenv("QP_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path) << hex(bytes) << "\n";
  }
  std::ifstream in(path);
  REQUIRE(in.good());
  std::string want;
  in >> want;
  CHECK(hex(bytes) == want);
}

}  // namespace

TEST_CASE("JobRequest round-trips", "[protocol]") {
  JobRequest j = sample_job();
  std::string bytes = encode(j);
  JobRequest d;
  REQUIRE(decode(bytes, &d).ok());
  CHECK(d.request_id == j.request_id);
  CHECK(d.model == j.model);
  REQUIRE(d.messages.size() == 4);
  CHECK(d.messages[1].content == "héllo \"x\"");
  CHECK(d.messages[1].name == "bob");
  CHECK(d.messages[2].tool_calls == R"([{"id":"c1"}])");
  CHECK(d.messages[3].tool_call_id == "c1");
  CHECK(d.stream);
  CHECK(d.max_tokens == 128);
  CHECK(d.temperature == 0.5);
  CHECK(d.stop == j.stop);
  CHECK(d.created_unix_ms == 1732711466000);
  CHECK(d.deadline_unix_ms == -1);
  CHECK(d.history.key == j.history.key);
  CHECK(d.history.new_from == 3);
  CHECK(d.history.state == j.history.state);
  CHECK(d.resume.chat_id.empty());  // the broker's RESUME frame, not the body
  CHECK(bytes.find("resume") == std::string::npos);
  CHECK_FALSE(d.parallel_tool_calls);
  check_golden("job_request", bytes);
}

TEST_CASE("every message type round-trips", "[protocol]") {
  SECTION("chunk") {
    JobChunk c{"tok", "think", {}, {}};
    JobChunk d;
    REQUIRE(decode(encode(c), &d).ok());
    CHECK(d.content == "tok");
    CHECK(d.reasoning == "think");
    check_golden("job_chunk", encode(c));
  }
  SECTION("chunk with tool call deltas") {
    JobChunk c{"", "", {{0, "call_1", "read_file", ""}, {0, "", "", R"({"path":"a"})"}}, {}};
    JobChunk d;
    REQUIRE(decode(encode(c), &d).ok());
    REQUIRE(d.tool_calls.size() == 2);
    CHECK(d.tool_calls[0].index == 0);
    CHECK(d.tool_calls[0].id == "call_1");
    CHECK(d.tool_calls[0].name == "read_file");
    CHECK(d.tool_calls[1].arguments == R"({"path":"a"})");
    check_golden("job_chunk_tool_calls", encode(c));
  }
  SECTION("a chunk without tool calls encodes as before the field existed") {
    // Empty arrays are omitted, so text chunks keep their size and bytes.
    JobChunk c{"tok", "think", {}, {}};
    CHECK(encode(c).find("tool_calls") == std::string::npos);
  }
  SECTION("done") {
    JobDone x;
    x.request_id = "r";
    x.finish_reason = "length";
    x.has_usage = true;
    x.usage = {33, 838, 871};
    x.chat_id = "chat";
    x.account = "alice";
    x.stop_sequence = "END";
    JobDone d;
    REQUIRE(decode(encode(x), &d).ok());
    CHECK(d.stop_sequence == "END");
    CHECK(d.finish_reason == "length");
    CHECK(d.has_usage);
    CHECK(d.usage.completion_tokens == 838);
    CHECK(d.usage.total_tokens == 871);
    CHECK(d.account == "alice");
    check_golden("job_done", encode(x));
  }
  SECTION("route, resume and session frames") {
    JobRequest j = sample_job();
    j.chat_id = "chat-9";
    j.pin_account = "bob";
    JobRoute r = route_of(j), rd;
    REQUIRE(decode(encode(r), &rd).ok());
    CHECK(rd.kind == JobKind::kChat);
    CHECK(rd.model == j.model);
    CHECK(rd.history_key == j.history.key);
    CHECK(rd.chat_id == "chat-9");
    CHECK(rd.pin_account == "bob");
    check_golden("job_route", encode(r));
    // A new conversation's route is small: empty keys are left out.
    JobRoute fresh{JobKind::kListModels, "m", "", "", ""};
    CHECK(encode(fresh).size() < 24);

    Continuation c{"chat-1", "resp-0", "sh", "th"}, cd;
    REQUIRE(decode(encode(c), &cd).ok());
    CHECK(cd.chat_id == "chat-1");
    CHECK(cd.parent_id == "resp-0");
    CHECK(cd.system_hash == "sh");
    CHECK(cd.tools_hash == "th");
    check_golden("continuation", encode(c));

    SessionUpdate u{"k2", "chat", "resp-1", "alice", "qwen3-max", "sh", "th"}, ud;
    REQUIRE(decode(encode(u), &ud).ok());
    CHECK(ud.session_key == "k2");
    CHECK(ud.chat_id == "chat");
    CHECK(ud.parent_id == "resp-1");
    CHECK(ud.account == "alice");
    CHECK(ud.model == "qwen3-max");
    CHECK(ud.system_hash == "sh");
    CHECK(ud.tools_hash == "th");
    check_golden("session_update", encode(u));
  }
  SECTION("error") {
    JobError x{"r", Code::kRateLimited, "slow down", 3600, "rate_limited", 99, "empty_response"};
    JobError d;
    REQUIRE(decode(encode(x), &d).ok());
    CHECK(d.code == Code::kRateLimited);
    CHECK(d.retry_after_s == 3600);
    CHECK(d.error_code == "empty_response");
    check_golden("job_error", encode(x));
  }
  SECTION("cancel, statuses, models") {
    Cancel c{"r", "client gone"}, cd;
    REQUIRE(decode(encode(c), &cd).ok());
    CHECK(cd.reason == "client gone");
    WorkerStatus w{"alice", "inst", 4, 1, kHealthRateLimited, 99, 1762094985, "quota", 0, 0, {}},
        wd;
    REQUIRE(decode(encode(w), &wd).ok());
    CHECK(wd.capacity == 4);
    CHECK(wd.health == kHealthRateLimited);
    CHECK(wd.token_expires_unix_s == 1762094985);
    CHECK(wd.detail == "quota");
    BrokerStatus b{
        "i", 2, 3, {{"alice", "credentials_invalid", 4, 1, 5, "no token", false, 0, 0, 0, 0}}, {}},
        bd;
    REQUIRE(decode(encode(b), &bd).ok());
    REQUIRE(bd.accounts.size() == 1);
    CHECK(bd.accounts[0].account == "alice");
    CHECK(bd.accounts[0].detail == "no token");
    ModelList m{"r", {{"qwen3-max", "Qwen3-Max", "qwen", 1, 262144, 32768, {"vision"}}}}, md;
    REQUIRE(decode(encode(m), &md).ok());
    REQUIRE(md.models.size() == 1);
    CHECK(md.models[0].context_length == 262144);
    CHECK(md.models[0].capabilities == std::vector<std::string>{"vision"});
    check_golden("worker_status", encode(w));
  }
}

TEST_CASE("features and sources: left out when unset, round-trip when set", "[protocol]") {
  JobRequest j = sample_job();
  std::string plain = encode(j);
  CHECK(plain.find("features") == std::string::npos);  // older peers see the same bytes
  JobRequest jd;
  REQUIRE(decode(plain, &jd).ok());
  CHECK(jd.features.empty());
  CHECK(jd.features.thinking == -1);

  j.features.search = true;
  j.features.thinking = 1;
  j.features.thinking_budget = 8192;
  std::string with = encode(j);
  REQUIRE(decode(with, &jd).ok());
  CHECK(jd.features.search);
  CHECK(jd.features.thinking == 1);
  CHECK(jd.features.thinking_budget == 8192);
  check_golden("job_request_features", with);

  j.features = JobFeatures{};
  j.features.thinking = 0;  // explicitly off is not "unset"
  REQUIRE(decode(encode(j), &jd).ok());
  CHECK(jd.features.thinking == 0);
  CHECK_FALSE(jd.features.search);

  j.features = JobFeatures{};
  j.features.auto_search = true;  // alone is enough to carry the features
  REQUIRE(decode(encode(j), &jd).ok());
  CHECK(jd.features.auto_search);
  CHECK_FALSE(jd.features.search);

  JobDone x;
  x.request_id = "r";
  CHECK(encode(x).find("sources") == std::string::npos);
  x.sources = {{"https://example.com/a", "A \"quoted\" title"}, {"https://example.org/b", ""}};
  JobDone d;
  REQUIRE(decode(encode(x), &d).ok());
  REQUIRE(d.sources.size() == 2);
  CHECK(d.sources[0].url == "https://example.com/a");
  CHECK(d.sources[0].title == "A \"quoted\" title");
  CHECK(d.sources[1].title.empty());
  check_golden("job_done_sources", encode(x));
}

TEST_CASE("usage reasoning_tokens: left out when 0, round-trips when set", "[protocol]") {
  JobDone x;
  x.request_id = "r";
  x.has_usage = true;
  x.usage = {33, 838, 871};
  std::string plain = encode(x);
  CHECK(plain.find("reasoning_tokens") == std::string::npos);  // older peers: same bytes
  JobDone d;
  REQUIRE(decode(plain, &d).ok());
  CHECK(d.usage.reasoning_tokens == 0);
  x.usage.reasoning_tokens = 512;
  std::string with = encode(x);
  REQUIRE(decode(with, &d).ok());
  CHECK(d.usage.reasoning_tokens == 512);
  CHECK(d.usage.completion_tokens == 838);
  check_golden("job_done_reasoning_tokens", with);
}

TEST_CASE("admin fields: optional strings are left out when empty, others round-trip",
          "[protocol]") {
  JobChunk c{"tok", "", {}, {}};
  std::string plain = encode(c);
  c.account = "alice";
  std::string first = encode(c);
  CHECK(first.size() > plain.size());
  CHECK(plain.find("account") == std::string::npos);  // later chunks: as before the field
  JobChunk d;
  REQUIRE(decode(first, &d).ok());
  CHECK(d.account == "alice");
  REQUIRE(decode(plain, &d).ok());
  CHECK(d.account.empty());

  JobRequest j;
  j.request_id = "r";
  CHECK(encode(j).find("pin_account") == std::string::npos);
  j.pin_account = "bob";
  JobRequest jd;
  REQUIRE(decode(encode(j), &jd).ok());
  CHECK(jd.pin_account == "bob");

  WorkerStatus w;
  w.account = "a";
  w.pid = 4242;
  w.started_unix_ms = 1762094985000;
  WorkerStatus wd;
  REQUIRE(decode(encode(w), &wd).ok());
  CHECK(wd.pid == 4242);
  CHECK(wd.started_unix_ms == 1762094985000);

  BrokerStatus b;
  protocol::AccountSummary a;
  a.account = "a";
  a.draining = true;
  a.pid = 7;
  a.started_unix_ms = 11;
  a.restarts = 2;
  a.health_until_unix_ms = 13;
  b.accounts.push_back(a);
  BrokerStatus bd;
  REQUIRE(decode(encode(b), &bd).ok());
  REQUIRE(bd.accounts.size() == 1);
  CHECK(bd.accounts[0].draining);
  CHECK(bd.accounts[0].pid == 7);
  CHECK(bd.accounts[0].started_unix_ms == 11);
  CHECK(bd.accounts[0].restarts == 2);
  CHECK(bd.accounts[0].health_until_unix_ms == 13);

  AdminCommand ac{"drain", "alice"}, acd;
  REQUIRE(decode(encode(ac), &acd).ok());
  CHECK(acd.action == "drain");
  CHECK(acd.account == "alice");
  CHECK(command_name(qp::protocol::Command::kAdmin) == "ADMIN");
}

TEST_CASE("metric families ride in worker and broker heartbeats", "[protocol]") {
  MetricFamily f{"qwenproxy_upstream_calls_total",
                 "counter",
                 "Upstream HTTP calls.",
                 {{"", {"endpoint", "completion"}, 3}, {"", {"endpoint", "new_chat"}, 0.5}}};
  WorkerStatus w{"alice", "inst", 4, 1, kHealthOk, 0, 0, "", 0, 0, {f}}, wd;
  std::string bytes = encode(w);
  REQUIRE(decode(bytes, &wd).ok());
  REQUIRE(wd.metrics.size() == 1);
  CHECK(wd.metrics[0].name == f.name);
  CHECK(wd.metrics[0].type == "counter");
  CHECK(wd.metrics[0].help == f.help);
  REQUIRE(wd.metrics[0].samples.size() == 2);
  CHECK(wd.metrics[0].samples[0].labels == std::vector<std::string>{"endpoint", "completion"});
  CHECK(wd.metrics[0].samples[0].value == 3);
  CHECK(wd.metrics[0].samples[1].value == 0.5);
  check_golden("worker_status_metrics", bytes);

  BrokerStatus b{"i", 1, 0, {}, {f}}, bd;
  REQUIRE(decode(encode(b), &bd).ok());
  REQUIRE(bd.metrics.size() == 1);
  CHECK(bd.metrics[0].samples[1].labels[1] == "new_chat");

  // A peer without the field (older version) decodes with no metrics, and an
  // older peer skips the field (unknown keys are ignored: see below).
  WorkerStatus plain{"alice", "inst", 4, 1, kHealthOk, 0, 0, "", 0, 0, {}};
  CHECK(encode(plain).find("metrics") == std::string::npos);
  WorkerStatus pd;
  REQUIRE(decode(encode(plain), &pd).ok());
  CHECK(pd.metrics.empty());
}

// Found by fuzzing: msgpack-c's integral-double shortcut converted 2^64 to
// uint64_t (undefined behaviour); such doubles are packed as float64.
TEST_CASE("doubles at and beyond 2^64 encode as float64 and round-trip", "[protocol]") {
  for (double d : {18446744073709551616.0, 1e300, -9223372036854775808.0 * 4, 0.5, 3.0}) {
    JobRequest j = sample_job();
    j.temperature = d;
    JobRequest back;
    REQUIRE(decode(encode(j), &back).ok());
    CHECK(back.temperature == d);
  }
}

TEST_CASE("decode ignores unknown keys and keeps defaults for missing ones", "[protocol]") {
  // {"request_id":"r","future_field":[1,2],"content":"x"}
  std::string bytes =
      "\x83\xaa"
      "request_id\xa1r\xac"
      "future_field\x92\x01\x02\xa7"
      "content\xa1x";
  JobChunk d;  // JobChunk has no request_id (any more): that key is unknown too
  REQUIRE(decode(bytes, &d).ok());
  CHECK(d.content == "x");
  CHECK(d.reasoning.empty());
  CHECK(d.tool_calls.empty());
  JobRequest r;  // a request from an older frontend: parallel_tool_calls keeps its default
  REQUIRE(decode(std::string("\x81\xaarequest_id\xa1r"), &r).ok());
  CHECK(r.parallel_tool_calls);
}

TEST_CASE("a chunk body from an older worker, with request_id inside, still decodes",
          "[protocol][compat]") {
  // The golden bytes of JobChunk{request_id "r", content "tok", reasoning
  // "think"} as workers encoded it before the field was dropped (messages.h).
  const std::string old_body = read_golden("job_chunk_with_request_id");
  REQUIRE(old_body.size() > 1);
  JobChunk d;
  d.content = "stale";  // decoding starts from a fresh chunk (the frontend reuses one)
  REQUIRE(decode(old_body, &d).ok());
  CHECK(d.content == "tok");
  CHECK(d.reasoning == "think");
  CHECK(d.tool_calls.empty());
  CHECK(d.account.empty());
  // Re-encoded, it is today's golden body: the same minus the request id's
  // 13 bytes (fixstr key "request_id": 11, fixstr "r": 2; the map header
  // stays one byte).
  const std::string now = encode(d);
  CHECK(hex(now) == hex(read_golden("job_chunk")));
  CHECK(old_body.size() - now.size() == 11 + 2);
  CHECK(now.find("request_id") == std::string::npos);
}

TEST_CASE("decode rejects garbage, truncation and wrong types", "[protocol]") {
  JobRequest d;
  SECTION("empty") { CHECK_FALSE(decode(std::string_view{}, &d).ok()); }
  SECTION("not a map") {
    CHECK(decode(std::string("\x93\x01\x02\x03"), &d).code() == Code::kProtocol);
  }
  SECTION("truncated at every length") {
    std::string bytes = encode(sample_job());
    for (size_t n = 0; n < bytes.size(); ++n) {
      Status s = decode(std::string_view(bytes.data(), n), &d);
      CHECK_FALSE(s.ok());
    }
  }
  SECTION("trailing bytes") {
    std::string bytes = encode(sample_job()) + "x";
    CHECK_FALSE(decode(bytes, &d).ok());
  }
  SECTION("wrong type") {
    std::string bytes = "\x81\xa6stream\xa3yes";  // {"stream":"yes"}
    Status s = decode(bytes, &d);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("stream") != std::string::npos);
  }
  SECTION("integer out of range for uint32") {
    std::string bytes = std::string(
        "\x81\xa8"
        "capacity\xcf\x00\x00\x00\x01\x00\x00\x00\x00",
        19);
    WorkerStatus w;
    CHECK_FALSE(decode(bytes, &w).ok());
  }
  // 17 bytes declaring a million messages: msgpack-c would allocate room for
  // them (24 MB) before finding the body short. The declared count is bounded
  // by the body's size, so this is refused as too large up front.
  SECTION("a container larger than the body is refused before allocating") {
    std::string bytes("\x81\xa8messages\xdd\x00\x0f\x42\x40\x90", 16);
    Status s = decode(bytes, &d);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("truncated") == std::string::npos);
    CHECK(s.message().find("size overflow") != std::string::npos);
    std::string map_bytes("\x81\xa8messages\x91\xdf\x00\x01\x00\x00", 16);
    s = decode(map_bytes, &d);
    REQUIRE_FALSE(s.ok());
    CHECK(s.message().find("size overflow") != std::string::npos);
  }
  SECTION("random bytes never crash") {
    std::mt19937 rng(42);
    for (int i = 0; i < 5000; ++i) {
      std::string b(rng() % 64, '\0');
      for (auto& c : b) c = static_cast<char>(rng());
      (void)decode(b, &d);
    }
    SUCCEED();
  }
  SECTION("mutated valid messages never crash") {
    std::string bytes = encode(sample_job());
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) {
      std::string b = bytes;
      b[rng() % b.size()] = static_cast<char>(rng());
      (void)decode(b, &d);
    }
    SUCCEED();
  }
}

TEST_CASE("media: left out when unset, round-trips when set", "[protocol]") {
  JobRequest j = sample_job();
  std::string plain = encode(j);
  CHECK(plain.find("media") == std::string::npos);  // older peers see the same bytes
  j.media.size = "16:9";
  j.media.n = 2;
  j.media.response_format = "b64_json";
  std::string with = encode(j);
  JobRequest jd;
  REQUIRE(decode(with, &jd).ok());
  CHECK(jd.media.size == "16:9");
  CHECK(jd.media.n == 2);
  CHECK(jd.media.response_format == "b64_json");
  check_golden("job_request_media", with);

  JobDone x;
  x.request_id = "r";
  CHECK(encode(x).find("media") == std::string::npos);
  x.media = {{"image", "https://cdn.example/a.png?Expires=1", "iVBORw0K", "image/png"},
             {"video", "https://cdn.example/v.mp4", "", ""}};
  JobDone d;
  REQUIRE(decode(encode(x), &d).ok());
  REQUIRE(d.media.size() == 2);
  CHECK(d.media[0].kind == "image");
  CHECK(d.media[0].url == "https://cdn.example/a.png?Expires=1");
  CHECK(d.media[0].b64_json == "iVBORw0K");
  CHECK(d.media[0].mime == "image/png");
  CHECK(d.media[1].kind == "video");
  CHECK(d.media[1].b64_json.empty());
  check_golden("job_done_media", encode(x));
}

TEST_CASE("attachments: bytes as bin, left out when none", "[protocol]") {
  JobRequest j = sample_job();
  CHECK(encode(j).find("attachments") == std::string::npos);  // older peers: same bytes
  Attachment img;
  img.kind = "image";
  img.mime = "image/png";
  img.name = "image.png";
  img.bytes.data = std::string("\x89PNG\r\n\x1a\n\x00\xff", 10);
  img.digest = "d1";
  img.width = 37;
  img.height = 23;
  Attachment url;
  url.kind = "image";
  url.url = "https://example.com/cat.png";
  url.digest = "d2";
  j.messages[1].attachments = {img, url};
  std::string bytes = encode(j);
  // The bytes travel as a MessagePack bin 8 (0xc4, length 10), not a str.
  CHECK(bytes.find(std::string("\xc4\x0a\x89PNG", 6)) != std::string::npos);
  JobRequest d;
  REQUIRE(decode(bytes, &d).ok());
  REQUIRE(d.messages[1].attachments.size() == 2);
  const Attachment& a = d.messages[1].attachments[0];
  CHECK(a.kind == "image");
  CHECK(a.mime == "image/png");
  CHECK(a.name == "image.png");
  CHECK(a.bytes.data == img.bytes.data);
  CHECK(a.digest == "d1");
  CHECK(a.width == 37);
  CHECK(a.height == 23);
  CHECK(a.url.empty());
  CHECK(d.messages[1].attachments[1].url == url.url);
  CHECK(d.messages[1].attachments[1].bytes.empty());
  CHECK(d.messages[0].attachments.empty());
  check_golden("job_request_attachments", bytes);
}
