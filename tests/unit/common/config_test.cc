#include "common/config.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace qp;

namespace {
EnvLookup env_of(std::map<std::string, std::string> m) {
  return [m](const char* k, std::string* v) {
    auto it = m.find(k);
    if (it == m.end()) return false;
    *v = it->second;
    return true;
  };
}
std::string write_tmp(const std::string& text) {
  char path[] = "/tmp/qp-config-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  FILE* f = fdopen(fd, "w");
  fputs(text.c_str(), f);
  fclose(f);
  return path;
}
}  // namespace

TEST_CASE("defaults and ipc endpoints under the runtime dir", "[config]") {
  auto c = load_config("", env_of({{"QP_RUNTIME_DIR", "/run/x"}}));
  REQUIRE(c.has_value());
  CHECK(c->frontend.host == "127.0.0.1");
  CHECK(c->frontend.port == 8080);
  CHECK(c->broker.frontend_endpoint == "ipc:///run/x/broker-frontend.sock");
  CHECK(c->broker.worker_endpoint == "ipc:///run/x/broker-workers.sock");
  CHECK(c->upstream.base_url == "https://chat.qwen.ai");
  CHECK(c->accounts.empty());
}

TEST_CASE("the old proxy's variables make one account", "[config]") {
  auto c = load_config("", env_of({{"QWEN_COOKIES", "a=1; token=eyJx.y.z"},
                                   {"QWEN_TOKEN", "umid"},
                                   {"QWEN_BASE_URL", "http://127.0.0.1:9/"}}));
  REQUIRE(c.has_value());
  REQUIRE(c->accounts.size() == 1);
  CHECK(c->accounts[0].name == "default");
  CHECK(c->accounts[0].bx_umidtoken == "umid");
  CHECK(c->upstream.base_url == "http://127.0.0.1:9");  // trailing slash trimmed
  CHECK(cookie_value(c->accounts[0].cookies, "token") == "eyJx.y.z");
}

TEST_CASE("file values, env overrides and errors", "[config]") {
  std::string path = write_tmp(R"(
runtime_dir = "/tmp/rt"
[frontend]
port = 9000
[broker]
queue_limit = 5
frontend_endpoint = "tcp://127.0.0.1:7000"
[[accounts]]
name = "alice"
cookies = "token=abc"
capacity = 2
)");
  SECTION("file") {
    auto c = load_config(path, env_of({}));
    REQUIRE(c.has_value());
    CHECK(c->frontend.port == 9000);
    CHECK(c->broker.queue_limit == 5);
    CHECK(c->broker.frontend_endpoint == "tcp://127.0.0.1:7000");
    CHECK(c->broker.worker_endpoint == "ipc:///tmp/rt/broker-workers.sock");
    REQUIRE(c->find_account("alice") != nullptr);
    CHECK(c->find_account("alice")->capacity == 2);
  }
  SECTION("env wins") {
    auto c = load_config(path, env_of({{"QP_PORT", "0"}}));
    REQUIRE(c.has_value());
    CHECK(c->frontend.port == 0);
  }
  SECTION("frontend.processes: default 1, env QP_FRONTEND_PROCESSES, 1..64") {
    auto one = load_config(path, env_of({}));
    REQUIRE(one.has_value());
    CHECK(one->frontend.processes == 1);
    auto two = load_config(path, env_of({{"QP_FRONTEND_PROCESSES", "2"}}));
    REQUIRE(two.has_value());
    CHECK(two->frontend.processes == 2);
    for (const char* bad : {"0", "65"}) {
      auto c = load_config(path, env_of({{"QP_FRONTEND_PROCESSES", bad}}));
      REQUIRE_FALSE(c.has_value());
      CHECK(c.error().message().find("frontend.processes") != std::string::npos);
    }
  }
  SECTION("bad env number") {
    auto c = load_config(path, env_of({{"QP_PORT", "abc"}}));
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error().message().find("QP_PORT") != std::string::npos);
  }
  std::remove(path.c_str());
}

TEST_CASE("invalid files give errors that name the problem and never echo secrets", "[config]") {
  SECTION("syntax") {
    std::string p = write_tmp("[frontend\nport = 1\n");
    auto c = load_config(p, env_of({}));
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error().message().find("line") != std::string::npos);
    std::remove(p.c_str());
  }
  SECTION("wrong type") {
    std::string p = write_tmp("[frontend]\nport = \"x\"\n");
    auto c = load_config(p, env_of({}));
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error().message().find("frontend.port") != std::string::npos);
    std::remove(p.c_str());
  }
  // Found by fuzzing: toml++ converts a float to an integer, and 1e30 is
  // out of range there (undefined behaviour); a port above 65535 was cut to
  // 16 bits silently.
  SECTION("a float or an out-of-range integer where an integer belongs") {
    for (const char* text :
         {"[frontend]\nport = 1e30\n", "[frontend]\nport = 80.0\n", "[frontend]\nport = 70000\n",
          "[[accounts]]\nname = \"x\"\ncapacity = 1e30\n"}) {
      std::string p = write_tmp(text);
      auto c = load_config(p, env_of({}));
      INFO(text);
      REQUIRE_FALSE(c.has_value());
      CHECK(c.error().message().find(std::string(text).find("port") != std::string::npos
                                         ? "frontend.port"
                                         : "capacity") != std::string::npos);
      std::remove(p.c_str());
    }
  }
  SECTION("bad account name, no secret in message") {
    std::string p = write_tmp("[[accounts]]\nname = \"a b\"\ncookies = \"token=SECRET123\"\n");
    auto c = load_config(p, env_of({}));
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error().message().find("SECRET123") == std::string::npos);
    std::remove(p.c_str());
  }
  SECTION("missing file") {
    auto c = load_config("/nonexistent/qp.toml", env_of({}));
    REQUIRE_FALSE(c.has_value());
  }
  SECTION("bad endpoint scheme") {
    auto c = load_config("", env_of({{"QP_BROKER_WORKER_ENDPOINT", "udp://x"}}));
    REQUIRE_FALSE(c.has_value());
  }
}

TEST_CASE("upstream.record_file and record_max_bytes", "[config]") {
  auto none = load_config("", env_of({}));
  REQUIRE(none.has_value());
  CHECK(none->upstream.record_file.empty());
  CHECK(none->upstream.record_max_bytes == 100ull * 1024 * 1024);
  std::string path =
      write_tmp("[upstream]\nrecord_file = \"rec/{account}.jsonl\"\nrecord_max_bytes = 5000\n");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  std::string dir = path.substr(0, path.rfind('/'));
  CHECK(c->upstream.record_file == dir + "/rec/{account}.jsonl");  // relative to the file
  CHECK(c->upstream.record_max_bytes == 5000);
  auto e = load_config(path, env_of({{"QP_UPSTREAM_RECORD_FILE", "/tmp/r.jsonl"},
                                     {"QP_UPSTREAM_RECORD_MAX_BYTES", "77"}}));
  REQUIRE(e.has_value());
  CHECK(e->upstream.record_file == "/tmp/r.jsonl");
  CHECK(e->upstream.record_max_bytes == 77);
  CHECK_FALSE(load_config(path, env_of({{"QP_UPSTREAM_RECORD_MAX_BYTES", "lots"}})).has_value());
  std::remove(path.c_str());
}

TEST_CASE("upstream.delete_chats from the file and the environment", "[config]") {
  std::string path = write_tmp("[upstream]\ndelete_chats = true\n");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->upstream.delete_chats);
  auto off = load_config(path, env_of({{"QP_UPSTREAM_DELETE_CHATS", "0"}}));
  REQUIRE(off.has_value());
  CHECK_FALSE(off->upstream.delete_chats);
  CHECK_FALSE(load_config(path, env_of({{"QP_UPSTREAM_DELETE_CHATS", "maybe"}})).has_value());
  std::string bad = write_tmp("[upstream]\ndelete_chats = \"yes\"\n");
  CHECK_FALSE(load_config(bad, env_of({})).has_value());
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

TEST_CASE("frontend connection and body limits: defaults and file values", "[config]") {
  auto d = load_config("", env_of({}));
  REQUIRE(d.has_value());
  CHECK(d->frontend.header_timeout_ms == 10'000);
  CHECK(d->frontend.body_timeout_ms == 30'000);
  CHECK(d->frontend.body_min_bytes_per_s == 16 * 1024);
  CHECK(d->frontend.max_connections == 10'000);
  CHECK(d->frontend.max_connections_per_address == 256);
  CHECK(d->frontend.loopback_exempt);
  CHECK(d->frontend.max_buffered_body_bytes == 256ULL * 1024 * 1024);
  CHECK(d->frontend.sse_keepalive_ms == 5'000);
  std::string path = write_tmp(R"([frontend]
sse_keepalive_ms = 250
header_timeout_ms = 500
body_timeout_ms = 700
body_min_bytes_per_s = 0
max_connections = 20
max_connections_per_address = 3
loopback_exempt = false
max_buffered_body_bytes = 4096
)");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->frontend.header_timeout_ms == 500);
  CHECK(c->frontend.body_timeout_ms == 700);
  CHECK(c->frontend.body_min_bytes_per_s == 0);
  CHECK(c->frontend.max_connections == 20);
  CHECK(c->frontend.max_connections_per_address == 3);
  CHECK_FALSE(c->frontend.loopback_exempt);
  CHECK(c->frontend.max_buffered_body_bytes == 4096);
  CHECK(c->frontend.sse_keepalive_ms == 250);
  std::string zero = write_tmp("[frontend]\nmax_connections = 0\n");
  auto z = load_config(zero, env_of({}));
  REQUIRE_FALSE(z.has_value());
  CHECK(z.error().message().find("frontend.max_connections") != std::string::npos);
  std::remove(path.c_str());
  std::remove(zero.c_str());
}

TEST_CASE("cookie_value finds cookies with spaces and at the ends", "[config]") {
  CHECK(cookie_value("token=a", "token") == "a");
  CHECK(cookie_value("x=1;  token=abc ; y=2", "token") == "abc");
  CHECK(cookie_value("xtoken=1; token=2", "token") == "2");
  CHECK(cookie_value("x=1", "token").empty());
}

TEST_CASE("frontend.admin_key from the file and QP_ADMIN_KEY", "[config]") {
  auto none = load_config("", env_of({}));
  REQUIRE(none.has_value());
  CHECK(none->frontend.admin_key.empty());
  std::string path = write_tmp("[frontend]\nadmin_key = \"from-file\"\n");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->frontend.admin_key == "from-file");
  auto env = load_config(path, env_of({{"QP_ADMIN_KEY", "from-env"}}));
  REQUIRE(env.has_value());
  CHECK(env->frontend.admin_key == "from-env");
  std::string bad = write_tmp("[frontend]\nadmin_key = 42\n");
  auto b = load_config(bad, env_of({}));
  REQUIRE_FALSE(b.has_value());
  CHECK(b.error().message().find("admin_key") != std::string::npos);
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

TEST_CASE("notify.webhook_url: default off, file value, environment wins", "[config]") {
  auto d = load_config("", env_of({}));
  REQUIRE(d.has_value());
  CHECK(d->notify.webhook_url.empty());
  std::string path = write_tmp("[notify]\nwebhook_url = \"https://hooks.example/T/secret\"\n");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->notify.webhook_url == "https://hooks.example/T/secret");
  auto e = load_config(path, env_of({{"QP_NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/x"}}));
  REQUIRE(e.has_value());
  CHECK(e->notify.webhook_url == "http://127.0.0.1:9/x");
  std::string bad = write_tmp("[notify]\nwebhook_url = 3\n");
  CHECK_FALSE(load_config(bad, env_of({})).has_value());
}

TEST_CASE("anthropic.model_map and default_model: file, environment, errors", "[config]") {
  auto d = load_config("", env_of({}));
  REQUIRE(d.has_value());
  CHECK(d->anthropic.default_model == "qwen3-coder-plus");
  CHECK(d->anthropic.model_map.empty());
  std::string path = write_tmp(R"([anthropic]
default_model = "qwen3-max"
[anthropic.model_map]
"claude-haiku" = "qwen-flash"
claude-opus = "qwen3-max"
)");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->anthropic.default_model == "qwen3-max");
  REQUIRE(c->anthropic.model_map.size() == 2);
  CHECK(c->anthropic.model_map[0] ==
        std::pair<std::string, std::string>{"claude-haiku", "qwen-flash"});
  auto e = load_config(path, env_of({{"QP_ANTHROPIC_MODEL_MAP", " claude-3 = a , claude = b,"},
                                     {"QP_ANTHROPIC_DEFAULT_MODEL", "qwen3-coder-flash"}}));
  REQUIRE(e.has_value());
  CHECK(e->anthropic.default_model == "qwen3-coder-flash");
  REQUIRE(e->anthropic.model_map.size() == 2);
  CHECK(e->anthropic.model_map[0] == std::pair<std::string, std::string>{"claude-3", "a"});
  CHECK(e->anthropic.model_map[1] == std::pair<std::string, std::string>{"claude", "b"});
  CHECK_FALSE(load_config(path, env_of({{"QP_ANTHROPIC_MODEL_MAP", "claude"}})).has_value());
  std::string bad = write_tmp("[anthropic.model_map]\nclaude = 3\n");
  auto b = load_config(bad, env_of({}));
  REQUIRE_FALSE(b.has_value());
  CHECK(b.error().message().find("anthropic.model_map.claude") != std::string::npos);
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

TEST_CASE("responses.*: defaults under the state dir, file values, environment wins, errors",
          "[config]") {
  auto c = load_config("", env_of({{"QP_STATE_DIR", "/var/lib/x"}}));
  REQUIRE(c.has_value());
  CHECK(c->responses.db_path == "/var/lib/x/responses.db");
  CHECK(c->responses.ttl_ms == 86'400'000);
  CHECK(c->responses.max_entries == 10'000);
  CHECK(c->responses.web_search);
  std::string path =
      write_tmp("[responses]\ndb_path = \":memory:\"\nttl_ms = 5000\nmax_entries = 7\n");
  c = load_config(path, env_of({{"QP_RESPONSES_MAX_ENTRIES", "9"}}));
  REQUIRE(c.has_value());
  CHECK(c->responses.db_path == ":memory:");
  CHECK(c->responses.ttl_ms == 5000);
  CHECK(c->responses.max_entries == 9);
  c = load_config("", env_of({{"QP_RESPONSES_DB", "/tmp/r.db"}, {"QP_RESPONSES_TTL_MS", "1"}}));
  REQUIRE(c.has_value());
  CHECK(c->responses.db_path == "/tmp/r.db");
  CHECK(c->responses.ttl_ms == 1);
  c = load_config("", env_of({{"QP_RESPONSES_WEB_SEARCH", "false"}}));
  REQUIRE(c.has_value());
  CHECK_FALSE(c->responses.web_search);
  CHECK_FALSE(load_config("", env_of({{"QP_RESPONSES_WEB_SEARCH", "maybe"}})).has_value());
  auto bad = load_config("", env_of({{"QP_RESPONSES_TTL_MS", "0"}}));
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message(), Catch::Contains("responses.ttl_ms"));
  std::remove(path.c_str());
}

TEST_CASE("long-running bounds: defaults, file values, environment wins", "[config]") {
  auto d = load_config("", env_of({}));
  REQUIRE(d.has_value());
  CHECK(d->frontend.long_request_timeout_ms == 3'600'000);
  CHECK(d->upstream.long_idle_timeout_ms == 600'000);
  std::string path = write_tmp(
      "[frontend]\nlong_request_timeout_ms = 7200000\n[upstream]\nlong_idle_timeout_ms = 0\n");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->frontend.long_request_timeout_ms == 7'200'000);
  CHECK(c->upstream.long_idle_timeout_ms == 0);
  auto e = load_config(path, env_of({{"QP_LONG_REQUEST_TIMEOUT_MS", "5"},
                                     {"QP_UPSTREAM_LONG_IDLE_TIMEOUT_MS", "6"}}));
  REQUIRE(e.has_value());
  CHECK(e->frontend.long_request_timeout_ms == 5);
  CHECK(e->upstream.long_idle_timeout_ms == 6);
  auto bad = load_config(path, env_of({{"QP_UPSTREAM_LONG_IDLE_TIMEOUT_MS", "-1"}}));
  CHECK_FALSE(bad.has_value());
  std::remove(path.c_str());
}

TEST_CASE("CurveZMQ settings: relative paths, environment, link bounds", "[config]") {
  std::string path = write_tmp(R"(
[broker]
worker_endpoint = "tcp://10.0.0.1:5556"
allow_plaintext_tcp = true
curve_secret_key_file = "curve/broker.key"
curve_public_key_file = "/etc/q/broker.pub"
authorized_keys_dir = "curve/authorized"
link_heartbeat_ms = 250
link_timeout_ms = 900
reconnect_ivl_ms = 50
reconnect_ivl_max_ms = 2000
[worker]
curve_secret_key_file = "curve/w.key"
[frontend]
curve_secret_key_file = "curve/f.key"
)");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->broker.allow_plaintext_tcp);
  CHECK(c->broker.curve_secret_key_file == "/tmp/curve/broker.key");
  CHECK(c->broker.curve_public_key_file == "/etc/q/broker.pub");
  CHECK(c->broker.authorized_keys_dir == "/tmp/curve/authorized");
  CHECK(c->worker.curve_secret_key_file == "/tmp/curve/w.key");
  CHECK(c->frontend.curve_secret_key_file == "/tmp/curve/f.key");
  CHECK(c->broker.link_heartbeat_ms == 250);
  CHECK(c->broker.link_timeout_ms == 900);
  CHECK(c->broker.reconnect_ivl_ms == 50);
  CHECK(c->broker.reconnect_ivl_max_ms == 2000);

  auto e = load_config(path, env_of({{"QP_ALLOW_PLAINTEXT_TCP", "0"},
                                     {"QP_WORKER_CURVE_SECRET_KEY_FILE", "/k/w2.key"},
                                     {"QP_AUTHORIZED_KEYS_DIR", "/k/auth"}}));
  REQUIRE(e.has_value());
  CHECK_FALSE(e->broker.allow_plaintext_tcp);
  CHECK(e->worker.curve_secret_key_file == "/k/w2.key");
  CHECK(e->broker.authorized_keys_dir == "/k/auth");
  CHECK_FALSE(load_config(path, env_of({{"QP_ALLOW_PLAINTEXT_TCP", "yes"}})).has_value());
  std::remove(path.c_str());

  std::string bad = write_tmp("[broker]\nreconnect_ivl_ms = 500\nreconnect_ivl_max_ms = 100\n");
  auto b = load_config(bad, env_of({}));
  REQUIRE_FALSE(b.has_value());
  CHECK(b.error().message().find("broker.reconnect_ivl_max_ms") != std::string::npos);
}

TEST_CASE("upstream.parse_* keys of the document parse step", "[config]") {
  auto none = load_config("", env_of({}));
  REQUIRE(none.has_value());
  CHECK(none->upstream.parse_documents);
  CHECK(none->upstream.parse_poll_interval_ms == 500);
  CHECK(none->upstream.parse_max_polls == 20);
  std::string path = write_tmp(
      "[upstream]\nparse_documents = false\nparse_poll_interval_ms = 1000\nparse_max_polls = 30\n");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK_FALSE(c->upstream.parse_documents);
  CHECK(c->upstream.parse_poll_interval_ms == 1000);
  CHECK(c->upstream.parse_max_polls == 30);
  std::remove(path.c_str());
  for (const char* bad :
       {"[upstream]\nparse_max_polls = 0\n", "[upstream]\nparse_max_polls = 1001\n",
        "[upstream]\nparse_poll_interval_ms = 60001\n",
        "[upstream]\nparse_documents = \"yes\"\n"}) {
    std::string p = write_tmp(bad);
    auto b = load_config(p, env_of({}));
    CHECK_FALSE(b.has_value());
    if (!b.has_value()) CHECK(b.error().message().find("upstream.parse_") != std::string::npos);
    std::remove(p.c_str());
  }
}

TEST_CASE("[attachments], upstream.oss_endpoint and long_input_bytes", "[config]") {
  auto none = load_config("", env_of({}));
  REQUIRE(none.has_value());
  CHECK(none->frontend.max_body_bytes == 20ull * 1024 * 1024);
  CHECK(none->attachments.max_image_bytes == 10ull * 1024 * 1024);
  CHECK(none->attachments.max_images == 8);
  CHECK(none->attachments.types.size() == 6);
  CHECK(none->upstream.oss_endpoint.empty());
  CHECK(none->upstream.long_input_bytes == 0);
  std::string path = write_tmp(
      "[upstream]\noss_endpoint = \"http://127.0.0.1:9/\"\nlong_input_bytes = 4000\n"
      "[attachments]\nmax_image_bytes = 1000\nmax_images = 2\nmax_files = 1\n"
      "types = [\"image/png\"]\n");
  auto c = load_config(path, env_of({}));
  REQUIRE(c.has_value());
  CHECK(c->upstream.oss_endpoint == "http://127.0.0.1:9");  // trailing slash dropped
  CHECK(c->upstream.long_input_bytes == 4000);
  CHECK(c->attachments.max_image_bytes == 1000);
  CHECK(c->attachments.max_images == 2);
  CHECK(c->attachments.max_files == 1);
  CHECK(c->attachments.types == std::vector<std::string>{"image/png"});
  auto e = load_config(path, env_of({{"QP_UPSTREAM_OSS_ENDPOINT", "https://oss.example"},
                                     {"QP_UPSTREAM_LONG_INPUT_BYTES", "9"}}));
  REQUIRE(e.has_value());
  CHECK(e->upstream.oss_endpoint == "https://oss.example");
  CHECK(e->upstream.long_input_bytes == 9);
  CHECK_FALSE(load_config(path, env_of({{"QP_UPSTREAM_OSS_ENDPOINT", "ftp://x"}})).has_value());
  std::remove(path.c_str());
  std::string bad = write_tmp("[attachments]\ntypes = \"image/png\"\n");
  auto b = load_config(bad, env_of({}));
  REQUIRE_FALSE(b.has_value());
  CHECK(b.error().message().find("attachments.types") != std::string::npos);
  std::remove(bad.c_str());
}
