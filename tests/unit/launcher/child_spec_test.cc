#include "tools/launcher/child_spec.h"

#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include <catch2/catch.hpp>

namespace qp::launcher {
namespace {

using Args = std::vector<std::string>;
using EnvMap = std::map<std::string, std::string>;

EnvLookup fake_env(const EnvMap& vars) {
  return [vars](const char* name, std::string* value) {
    auto it = vars.find(name);
    if (it == vars.end()) return false;
    *value = it->second;
    return true;
  };
}

// A config file in a fresh temporary directory, removed at scope exit.
class TempConfig {
 public:
  explicit TempConfig(const std::string& toml) {
    char tmpl[] = "/tmp/qp-launcher-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/qwenproxy.toml";
    std::ofstream(path_) << toml;
  }
  ~TempConfig() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

Config load(const std::string& path, const EnvMap& env = {}) {
  EnvMap full = env;
  full.emplace("QP_RUNTIME_DIR", "/tmp/qp-launcher-test-rt");
  auto c = load_config(path, fake_env(full));
  REQUIRE(c.has_value());
  return *c;
}

std::vector<std::string> names(const LaunchPlan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.children) out.push_back(c.name);
  return out;
}

// The environment a child sees: `base` (the launcher's) with the spec applied.
EnvMap child_env(const ChildSpec& spec, EnvMap base) {
  for (const auto& e : spec.env) {
    if (e.value)
      base[e.name] = *e.value;
    else
      base.erase(e.name);
  }
  return base;
}

const EnvVar* find_env(const ChildSpec& spec, const std::string& name) {
  for (const auto& e : spec.env) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

TEST_CASE("no account configured means demo mode: mock, broker, frontend", "[launcher][spec]") {
  Config config = load("");
  LaunchPlan plan = plan_launch(config, LaunchOptions{}, "s3cret");
  CHECK(plan.demo);
  CHECK(names(plan) == Args{"mock", "broker", "frontend"});
  const ChildSpec& mock = plan.children[0];
  CHECK(mock.kind == ChildKind::kMock);
  CHECK(mock.program == "mock-qwen");
  CHECK(mock.args == Args{"--port", "0", "--jwt-secret", "s3cret", "--token-delay-ms", "30"});
  for (const auto& e : mock.env) CHECK_FALSE(e.value.has_value());  // only secrets removed
  CHECK(plan.children[1].program == "qp-broker");
  CHECK(plan.children[1].args.empty());  // no --config: children read $QP_CONFIG themselves
  CHECK(plan.children[2].kind == ChildKind::kFrontend);
  CHECK(plan.children[2].program == "qp-frontend");
  CHECK(plan.children[2].args.empty());
}

TEST_CASE("the demo worker talks to the mock with a token cookie", "[launcher][spec]") {
  ChildSpec w = demo_worker_spec(LaunchOptions{}, 43210, "eyJ.payload.sig");
  CHECK(w.name == "worker:demo");
  CHECK(w.kind == ChildKind::kWorker);
  CHECK(w.program == "qp-worker");
  CHECK(w.args == Args{"--account", "demo"});
  REQUIRE(find_env(w, "QWEN_BASE_URL") != nullptr);
  CHECK(find_env(w, "QWEN_BASE_URL")->value == "http://127.0.0.1:43210");
  REQUIRE(find_env(w, "QWEN_COOKIES") != nullptr);
  CHECK(find_env(w, "QWEN_COOKIES")->value == "token=eyJ.payload.sig");
  REQUIRE(find_env(w, "QWEN_ACCOUNT") != nullptr);
  CHECK(find_env(w, "QWEN_ACCOUNT")->value == "demo");
  SECTION("a real account's extra credentials are removed") {
    for (const char* name : {"QWEN_TOKEN", "QWEN_BX_UA", "QWEN_BX_V"}) {
      INFO(name);
      REQUIRE(find_env(w, name) != nullptr);
      CHECK_FALSE(find_env(w, name)->value.has_value());
    }
  }
  SECTION("with --config the file is passed first") {
    ChildSpec wc = demo_worker_spec(LaunchOptions{"/etc/qp.toml", false}, 1, "t");
    CHECK(wc.args == Args{"--config", "/etc/qp.toml", "--account", "demo"});
  }
}

TEST_CASE("the demo worker's environment loads as account 'demo' on the mock", "[launcher][spec]") {
  ChildSpec w = demo_worker_spec(LaunchOptions{}, 5555, "jwt-value");
  // What the worker sees: the launcher's environment with the spec applied.
  EnvMap env = child_env(w, {{"QWEN_TOKEN", "real-umid"}, {"QP_RUNTIME_DIR", "/tmp/x"}});
  auto c = load_config("", fake_env(env));
  REQUIRE(c.has_value());
  const AccountConfig* a = c->find_account("demo");
  REQUIRE(a != nullptr);
  CHECK(c->accounts.size() == 1);
  CHECK(cookie_value(a->cookies, "token") == "jwt-value");
  CHECK(a->bx_umidtoken.empty());
  CHECK(c->upstream.base_url == "http://127.0.0.1:5555");
}

TEST_CASE("two file accounts give two workers with the right arguments", "[launcher][spec]") {
  TempConfig file(R"(
[[accounts]]
name = "alice"
cookies = "token=a"

[[accounts]]
name = "bob"
cookies = "token=b"
)");
  Config config = load(file.path());
  LaunchOptions options{file.path(), false};
  LaunchPlan plan = plan_launch(config, options, "unused");
  CHECK_FALSE(plan.demo);
  CHECK(names(plan) == Args{"broker", "worker:alice", "worker:bob", "frontend"});
  CHECK(plan.children[0].args == Args{"--config", file.path()});
  CHECK(plan.children[1].kind == ChildKind::kWorker);
  CHECK(plan.children[1].program == "qp-worker");
  CHECK(plan.children[1].args == Args{"--config", file.path(), "--account", "alice"});
  CHECK(plan.children[2].args == Args{"--config", file.path(), "--account", "bob"});
  CHECK(plan.children[3].args == Args{"--config", file.path()});
  for (const auto& c : plan.children) {
    INFO(c.name);
    // Credentials reach workers through the config, never argv or env.
    for (const auto& e : c.env) CHECK_FALSE(e.value.has_value());
  }
}

TEST_CASE("secrets in the environment reach only the process that needs them", "[launcher][spec]") {
  // The launcher's environment: an account from the old proxy's variables
  // and the client API key. Before, every child inherited all of them.
  const EnvMap launcher_env = {
      {"QWEN_COOKIES", "token=secret-jwt"}, {"QWEN_TOKEN", "umid"}, {"QWEN_PASSWORD", "pw"},
      {"QP_API_KEY", "sk-client"},          {"PATH", "/usr/bin"},   {"QP_RUNTIME_DIR", "/tmp/x"}};
  TempConfig file("[[accounts]]\nname = \"alice\"\ncookies = \"token=a\"\n");
  Config config = load(file.path(), launcher_env);
  LaunchPlan plan = plan_launch(config, LaunchOptions{file.path(), false}, "s");
  REQUIRE(names(plan) == Args{"broker", "worker:alice", "worker:default", "frontend"});
  auto seen = [&](size_t i) { return child_env(plan.children[i], launcher_env); };
  auto has = [](const EnvMap& env, const char* name) { return env.count(name) != 0; };

  EnvMap broker = seen(0), alice = seen(1), env_worker = seen(2), frontend = seen(3);
  for (const char* secret : {"QWEN_COOKIES", "QWEN_TOKEN", "QWEN_PASSWORD", "QP_API_KEY"}) {
    INFO(secret);
    CHECK_FALSE(has(broker, secret));
    CHECK_FALSE(has(alice, secret));  // its account is the file's, not the environment's
  }
  for (const char* secret : {"QWEN_COOKIES", "QWEN_TOKEN", "QWEN_PASSWORD"}) {
    INFO(secret);
    CHECK(has(env_worker, secret));
    CHECK_FALSE(has(frontend, secret));
  }
  CHECK_FALSE(has(env_worker, "QP_API_KEY"));
  CHECK(frontend.at("QP_API_KEY") == "sk-client");
  CHECK(broker.at("PATH") == "/usr/bin");  // the rest is inherited as before
  EnvMap mock = child_env(mock_spec("k", 0), launcher_env);
  CHECK_FALSE(has(mock, "QWEN_COOKIES"));
  CHECK_FALSE(has(mock, "QP_API_KEY"));
}

TEST_CASE("the old proxy's env variables give one worker", "[launcher][spec]") {
  SECTION("named 'default'") {
    Config config = load("", {{"QWEN_COOKIES", "token=x"}, {"QWEN_TOKEN", "t"}});
    LaunchPlan plan = plan_launch(config, LaunchOptions{}, "unused");
    CHECK_FALSE(plan.demo);
    CHECK(names(plan) == Args{"broker", "worker:default", "frontend"});
    CHECK(plan.children[1].args == Args{"--account", "default"});
    for (const auto& e : plan.children[1].env) {  // the worker inherits QWEN_COOKIES itself
      CHECK(e.name != "QWEN_COOKIES");
    }
  }
  SECTION("named by QWEN_ACCOUNT") {
    Config config = load("", {{"QWEN_COOKIES", "token=x"}, {"QWEN_ACCOUNT", "mine"}});
    CHECK(names(plan_launch(config, LaunchOptions{}, "s")) ==
          Args{"broker", "worker:mine", "frontend"});
  }
  SECTION("an empty QWEN_COOKIES is no account") {
    Config config = load("", {{"QWEN_COOKIES", ""}});
    CHECK(plan_launch(config, LaunchOptions{}, "s").demo);
  }
  SECTION("next to file accounts") {
    TempConfig file("[[accounts]]\nname = \"alice\"\ncookies = \"token=a\"\n");
    Config config = load(file.path(), {{"QWEN_COOKIES", "token=x"}});
    CHECK(names(plan_launch(config, LaunchOptions{file.path(), false}, "s")) ==
          Args{"broker", "worker:alice", "worker:default", "frontend"});
  }
}

TEST_CASE("the demo flag forces demo mode even with accounts", "[launcher][spec]") {
  Config config = load("", {{"QWEN_COOKIES", "token=x"}});
  LaunchPlan plan = plan_launch(config, LaunchOptions{"", true}, "sec");
  CHECK(plan.demo);
  CHECK(names(plan) == Args{"mock", "broker", "frontend"});
}

TEST_CASE("mock spec with a fixed port", "[launcher][spec]") {
  CHECK(mock_spec("k", 4321).args ==
        Args{"--port", "4321", "--jwt-secret", "k", "--token-delay-ms", "30"});
  CHECK(mock_base_url(4321) == "http://127.0.0.1:4321");
}

}  // namespace
TEST_CASE("frontend.processes N: N frontends frontend:K, each --index K, all on the one socket",
          "[launcher][spec]") {
  Config config = load("", {{"QP_FRONTEND_PROCESSES", "3"}});
  LaunchOptions options;
  options.listen_fd = 7;
  LaunchPlan plan = plan_launch(config, options, "s3cret");
  CHECK(names(plan) == Args{"mock", "broker", "frontend:0", "frontend:1", "frontend:2"});
  for (uint64_t i = 0; i < 3; ++i) {
    const ChildSpec& fe = plan.children[2 + i];
    INFO(fe.name);
    CHECK(fe.kind == ChildKind::kFrontend);
    CHECK(fe.program == "qp-frontend");
    CHECK(fe.args == Args{"--index", std::to_string(i), "--listen-fd", "3"});
    CHECK(fe.inherit_fds == std::vector<int>{7});  // one bind, shared
  }
  // One process: the name and the arguments of before (no --index).
  Config one = load("");
  LaunchPlan single = plan_launch(one, options, "s3cret");
  CHECK(names(single) == Args{"mock", "broker", "frontend"});
  CHECK(single.children[2].args == Args{"--listen-fd", "3"});
  CHECK(frontend_name(0, 1) == "frontend");
  CHECK(frontend_name(1, 2) == "frontend:1");
}

}  // namespace qp::launcher
