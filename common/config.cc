#include "common/config.h"

#include <unistd.h>

#include <cstdlib>

#include <toml++/toml.h>

namespace qp {
namespace {

bool parse_u64(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == '-') return false;
  *out = v;
  return true;
}

std::string default_runtime_dir(const EnvLookup& env) {
  std::string v;
  if (env("RUNTIME_DIRECTORY", &v) && !v.empty()) return v;  // systemd RuntimeDirectory=
  if (env("XDG_RUNTIME_DIR", &v) && !v.empty()) return v + "/qwenproxy";
  return "/tmp/qwenproxy-" + std::to_string(::getuid());
}

std::string default_state_dir(const EnvLookup& env) {
  std::string v;
  if (env("STATE_DIRECTORY", &v) && !v.empty()) return v;  // systemd StateDirectory=
  if (env("XDG_STATE_HOME", &v) && !v.empty()) return v + "/qwenproxy";
  if (env("HOME", &v) && !v.empty()) return v + "/.local/state/qwenproxy";
  return "/tmp/qwenproxy-state-" + std::to_string(::getuid());
}

Status bad(const std::string& where, const std::string& what) {
  return error(Code::kInvalidArgument, "config: " + where + ": " + what);
}

template <class T>
Status read_int(const toml::table& t, const char* key, const std::string& where, T* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status();
  auto v = n->value<int64_t>();
  if (!v || *v < 0) return bad(where + "." + key, "must be a non-negative integer");
  *out = static_cast<T>(*v);
  return Status();
}

Status read_bool(const toml::table& t, const char* key, const std::string& where, bool* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status();
  auto v = n->value<bool>();
  if (!v) return bad(where + "." + key, "must be true or false");
  *out = *v;
  return Status();
}

Status read_str(const toml::table& t, const char* key, const std::string& where, std::string* out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status();
  auto v = n->value<std::string>();
  if (!v) return bad(where + "." + key, "must be a string");
  *out = *v;
  return Status();
}

#define QP_TRY(expr)         \
  do {                       \
    Status _s = (expr);      \
    if (!_s.ok()) return _s; \
  } while (0)

Status apply_file(const std::string& path, Config* c) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    return bad(path, std::string(e.description()) + " at line " + std::to_string(src.begin.line));
  } catch (const std::exception& e) {
    return bad(path, e.what());
  }
  QP_TRY(read_str(root, "runtime_dir", path, &c->runtime_dir));
  QP_TRY(read_str(root, "state_dir", path, &c->state_dir));
  if (auto* t = root["frontend"].as_table()) {
    std::string w = path + ": frontend";
    QP_TRY(read_str(*t, "host", w, &c->frontend.host));
    QP_TRY(read_int(*t, "port", w, &c->frontend.port));
    QP_TRY(read_int(*t, "max_body_bytes", w, &c->frontend.max_body_bytes));
    QP_TRY(read_int(*t, "idle_timeout_ms", w, &c->frontend.idle_timeout_ms));
    QP_TRY(read_int(*t, "models_cache_ttl_ms", w, &c->frontend.models_cache_ttl_ms));
    QP_TRY(read_int(*t, "request_timeout_ms", w, &c->frontend.request_timeout_ms));
    QP_TRY(read_str(*t, "api_key", w, &c->frontend.api_key));
  }
  if (auto* t = root["broker"].as_table()) {
    std::string w = path + ": broker";
    QP_TRY(read_str(*t, "frontend_endpoint", w, &c->broker.frontend_endpoint));
    QP_TRY(read_str(*t, "worker_endpoint", w, &c->broker.worker_endpoint));
    QP_TRY(read_int(*t, "queue_limit", w, &c->broker.queue_limit));
    QP_TRY(read_int(*t, "queue_timeout_ms", w, &c->broker.queue_timeout_ms));
    QP_TRY(read_int(*t, "heartbeat_ms", w, &c->broker.heartbeat_ms));
  }
  if (auto* t = root["sessions"].as_table()) {
    std::string w = path + ": sessions";
    QP_TRY(read_str(*t, "db_path", w, &c->sessions.db_path));
    QP_TRY(read_int(*t, "ttl_ms", w, &c->sessions.ttl_ms));
    QP_TRY(read_int(*t, "max_entries", w, &c->sessions.max_entries));
  }
  if (auto* t = root["worker"].as_table()) {
    std::string w = path + ": worker";
    QP_TRY(read_int(*t, "prewarm_chats", w, &c->worker.prewarm_chats));
    QP_TRY(read_int(*t, "prewarm_models", w, &c->worker.prewarm_models));
    QP_TRY(read_int(*t, "prewarm_ttl_ms", w, &c->worker.prewarm_ttl_ms));
    QP_TRY(read_str(*t, "default_model", w, &c->worker.default_model));
  }
  if (auto* t = root["upstream"].as_table()) {
    std::string w = path + ": upstream";
    QP_TRY(read_str(*t, "base_url", w, &c->upstream.base_url));
    QP_TRY(read_int(*t, "connect_timeout_ms", w, &c->upstream.connect_timeout_ms));
    QP_TRY(read_int(*t, "first_byte_timeout_ms", w, &c->upstream.first_byte_timeout_ms));
    QP_TRY(read_int(*t, "idle_timeout_ms", w, &c->upstream.idle_timeout_ms));
    QP_TRY(read_str(*t, "user_agent", w, &c->upstream.user_agent));
    QP_TRY(read_bool(*t, "delete_chats", w, &c->upstream.delete_chats));
  }
  if (auto* arr = root["accounts"].as_array()) {
    size_t i = 0;
    for (auto& node : *arr) {
      std::string w = path + ": accounts[" + std::to_string(i++) + "]";
      auto* t = node.as_table();
      if (t == nullptr) return bad(w, "must be a table ([[accounts]])");
      AccountConfig a;
      QP_TRY(read_str(*t, "name", w, &a.name));
      QP_TRY(read_str(*t, "cookies", w, &a.cookies));
      QP_TRY(read_str(*t, "bx_umidtoken", w, &a.bx_umidtoken));
      QP_TRY(read_str(*t, "bx_ua", w, &a.bx_ua));
      QP_TRY(read_str(*t, "bx_v", w, &a.bx_v));
      QP_TRY(read_int(*t, "capacity", w, &a.capacity));
      c->accounts.push_back(std::move(a));
    }
  }
  return Status();
}

Status env_u64(const EnvLookup& env, const char* name, uint64_t* out) {
  std::string v;
  if (!env(name, &v)) return Status();
  if (!parse_u64(v, out))
    return bad(std::string("environment ") + name, "must be a non-negative integer");
  return Status();
}

Status apply_env(const EnvLookup& env, Config* c) {
  std::string v;
  if (env("QP_RUNTIME_DIR", &v)) c->runtime_dir = v;
  if (env("QP_STATE_DIR", &v)) c->state_dir = v;
  if (env("QP_HOST", &v)) c->frontend.host = v;
  uint64_t port = static_cast<uint64_t>(c->frontend.port);
  QP_TRY(env_u64(env, "QP_PORT", &port));
  c->frontend.port = static_cast<int>(port);
  QP_TRY(env_u64(env, "QP_MAX_BODY_BYTES", &c->frontend.max_body_bytes));
  if (env("QP_API_KEY", &v)) c->frontend.api_key = v;
  if (env("QP_BROKER_FRONTEND_ENDPOINT", &v)) c->broker.frontend_endpoint = v;
  if (env("QP_BROKER_WORKER_ENDPOINT", &v)) c->broker.worker_endpoint = v;
  QP_TRY(env_u64(env, "QP_QUEUE_LIMIT", &c->broker.queue_limit));
  QP_TRY(env_u64(env, "QP_QUEUE_TIMEOUT_MS", &c->broker.queue_timeout_ms));
  QP_TRY(env_u64(env, "QP_HEARTBEAT_MS", &c->broker.heartbeat_ms));
  if (env("QP_SESSIONS_DB", &v)) c->sessions.db_path = v;
  QP_TRY(env_u64(env, "QP_SESSION_TTL_MS", &c->sessions.ttl_ms));
  QP_TRY(env_u64(env, "QP_SESSION_MAX_ENTRIES", &c->sessions.max_entries));
  if (env("QWEN_BASE_URL", &v)) c->upstream.base_url = v;
  QP_TRY(env_u64(env, "QP_UPSTREAM_CONNECT_TIMEOUT_MS", &c->upstream.connect_timeout_ms));
  QP_TRY(env_u64(env, "QP_UPSTREAM_FIRST_BYTE_TIMEOUT_MS", &c->upstream.first_byte_timeout_ms));
  QP_TRY(env_u64(env, "QP_UPSTREAM_IDLE_TIMEOUT_MS", &c->upstream.idle_timeout_ms));
  if (env("QP_UPSTREAM_DELETE_CHATS", &v)) {
    if (v == "1" || v == "true")
      c->upstream.delete_chats = true;
    else if (v == "0" || v == "false")
      c->upstream.delete_chats = false;
    else
      return bad("environment QP_UPSTREAM_DELETE_CHATS", "must be true/false or 1/0");
  }
  // The old proxy's one-account configuration.
  std::string cookies;
  if (env("QWEN_COOKIES", &cookies) && !cookies.empty()) {
    AccountConfig a;
    if (!env("QWEN_ACCOUNT", &a.name) || a.name.empty()) a.name = "default";
    a.cookies = cookies;
    env("QWEN_TOKEN", &a.bx_umidtoken);
    env("QWEN_BX_UA", &a.bx_ua);
    env("QWEN_BX_V", &a.bx_v);
    uint64_t cap = a.capacity;
    QP_TRY(env_u64(env, "QWEN_CAPACITY", &cap));
    a.capacity = static_cast<uint32_t>(cap);
    // An env account replaces a file account of the same name.
    std::erase_if(c->accounts, [&](const AccountConfig& x) { return x.name == a.name; });
    c->accounts.push_back(std::move(a));
  }
  return Status();
}

Status validate(Config* c) {
  if (c->frontend.port < 0 || c->frontend.port > 65535)
    return bad("frontend.port", "must be 0..65535");
  if (c->broker.heartbeat_ms < 10) return bad("broker.heartbeat_ms", "must be at least 10");
  if (c->sessions.db_path.empty()) c->sessions.db_path = c->state_dir + "/sessions.db";
  if (c->sessions.ttl_ms == 0) return bad("sessions.ttl_ms", "must be positive");
  if (c->sessions.max_entries == 0) return bad("sessions.max_entries", "must be positive");
  if (c->worker.prewarm_chats > 64) return bad("worker.prewarm_chats", "must be at most 64");
  if (c->worker.prewarm_models > 16) return bad("worker.prewarm_models", "must be at most 16");
  if (c->broker.frontend_endpoint.empty()) {
    c->broker.frontend_endpoint = "ipc://" + c->runtime_dir + "/broker-frontend.sock";
  }
  if (c->broker.worker_endpoint.empty()) {
    c->broker.worker_endpoint = "ipc://" + c->runtime_dir + "/broker-workers.sock";
  }
  for (const auto* ep : {&c->broker.frontend_endpoint, &c->broker.worker_endpoint}) {
    if (ep->rfind("ipc://", 0) == 0) {
      if (ep->size() - 6 > 107)
        return bad("broker endpoint " + *ep, "ipc path longer than 107 bytes");
    } else if (ep->rfind("tcp://", 0) != 0 && ep->rfind("inproc://", 0) != 0) {
      return bad("broker endpoint " + *ep, "must start with ipc://, tcp:// or inproc://");
    }
  }
  const std::string& u = c->upstream.base_url;
  if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) {
    return bad("upstream.base_url", "must start with http:// or https://");
  }
  while (!c->upstream.base_url.empty() && c->upstream.base_url.back() == '/')
    c->upstream.base_url.pop_back();
  for (size_t i = 0; i < c->accounts.size(); ++i) {
    const auto& a = c->accounts[i];
    std::string w = "accounts[" + std::to_string(i) + "]";
    if (a.name.empty()) return bad(w, "missing name");
    for (char ch : a.name) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')) {
        return bad(w + " '" + a.name + "'",
                   "name may contain only letters, digits, '-', '_' and '.'");
      }
    }
    if (a.capacity == 0) return bad(w + " '" + a.name + "'", "capacity must be at least 1");
    for (size_t j = 0; j < i; ++j) {
      if (c->accounts[j].name == a.name) return bad(w, "duplicate account name '" + a.name + "'");
    }
  }
  return Status();
}

}  // namespace

const AccountConfig* Config::find_account(const std::string& name) const {
  for (const auto& a : accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

EnvLookup process_env() {
  return [](const char* name, std::string* value) {
    const char* v = std::getenv(name);
    if (v == nullptr) return false;
    *value = v;
    return true;
  };
}

Result<Config> load_config(const std::string& path, const EnvLookup& env) {
  Config c;
  std::string file = path;
  if (file.empty()) env("QP_CONFIG", &file);
  c.runtime_dir = default_runtime_dir(env);
  c.state_dir = default_state_dir(env);
  if (!file.empty()) {
    if (::access(file.c_str(), R_OK) != 0) return bad(file, "cannot read the config file");
    QP_TRY(apply_file(file, &c));
    c.config_path = file;
  }
  QP_TRY(apply_env(env, &c));
  QP_TRY(validate(&c));
  return c;
}

std::string cookie_value(const std::string& cookies, const std::string& name) {
  size_t pos = 0;
  while (pos < cookies.size()) {
    size_t end = cookies.find(';', pos);
    if (end == std::string::npos) end = cookies.size();
    size_t b = pos;
    while (b < end && (cookies[b] == ' ' || cookies[b] == '\t')) ++b;
    size_t eq = cookies.find('=', b);
    if (eq != std::string::npos && eq < end && cookies.compare(b, eq - b, name) == 0) {
      size_t e = end;
      while (e > eq + 1 && (cookies[e - 1] == ' ' || cookies[e - 1] == '\t')) --e;
      return cookies.substr(eq + 1, e - eq - 1);
    }
    pos = end + 1;
  }
  return {};
}

}  // namespace qp
