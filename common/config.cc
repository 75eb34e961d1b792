#include "common/config.h"

#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <memory>

#include <toml++/toml.h>

#include "common/accounts/account_loader.h"
#include "common/accounts/dotenv.h"
#include "common/accounts/private_file.h"
#include "common/strings.h"

namespace qp {
namespace {

// AccountConfig::origin of the account defined by the QWEN_* variables.
constexpr const char* kEnvAccountOrigin = "environment (QWEN_COOKIES)";

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
  // Only a TOML integer: toml++'s value<int64_t>() also converts a float, and
  // one out of int64's range (1e30) is undefined behaviour there.
  const toml::value<int64_t>* iv = n->as_integer();
  if (iv == nullptr || iv->get() < 0)
    return bad(where + "." + key, "must be a non-negative integer");
  if (static_cast<uint64_t>(iv->get()) > static_cast<uint64_t>(std::numeric_limits<T>::max()))
    return bad(where + "." + key,
               "must be at most " + std::to_string(std::numeric_limits<T>::max()));
  *out = static_cast<T>(iv->get());
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

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A relative path in the config file is relative to the file's directory.
std::string relative_to(const std::string& config_path, const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  return dir_of(config_path) + "/" + p;
}

Status read_attachments(const toml::table& t, const std::string& path, Config* c) {
  std::string w = path + ": attachments";
  auto& a = c->attachments;
  QP_TRY(read_int(t, "max_image_bytes", w, &a.max_image_bytes));
  QP_TRY(read_int(t, "max_images", w, &a.max_images));
  QP_TRY(read_int(t, "max_file_bytes", w, &a.max_file_bytes));
  QP_TRY(read_int(t, "max_files", w, &a.max_files));
  if (const toml::node* n = t.get("types")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return bad(w + ".types", "must be an array of MIME type names");
    a.types.clear();
    for (const auto& item : *arr) {
      auto s = item.value<std::string>();
      if (!s) return bad(w + ".types", "must be an array of MIME type names");
      a.types.push_back(*s);
    }
  }
  return Status();
}

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
  QP_TRY(read_str(root, "accounts_dir", path, &c->accounts_dir));
  c->accounts_dir = relative_to(path, c->accounts_dir);
  QP_TRY(read_str(root, "env_file", path, &c->env_file));
  c->env_file = relative_to(path, c->env_file);
  if (auto* t = root["frontend"].as_table()) {
    std::string w = path + ": frontend";
    QP_TRY(read_str(*t, "host", w, &c->frontend.host));
    QP_TRY(read_int(*t, "port", w, &c->frontend.port));
    QP_TRY(read_int(*t, "processes", w, &c->frontend.processes));
    QP_TRY(read_int(*t, "max_body_bytes", w, &c->frontend.max_body_bytes));
    QP_TRY(read_int(*t, "idle_timeout_ms", w, &c->frontend.idle_timeout_ms));
    QP_TRY(read_int(*t, "header_timeout_ms", w, &c->frontend.header_timeout_ms));
    QP_TRY(read_int(*t, "body_timeout_ms", w, &c->frontend.body_timeout_ms));
    QP_TRY(read_int(*t, "body_min_bytes_per_s", w, &c->frontend.body_min_bytes_per_s));
    QP_TRY(read_int(*t, "max_connections", w, &c->frontend.max_connections));
    QP_TRY(
        read_int(*t, "max_connections_per_address", w, &c->frontend.max_connections_per_address));
    QP_TRY(read_bool(*t, "loopback_exempt", w, &c->frontend.loopback_exempt));
    QP_TRY(read_int(*t, "max_buffered_body_bytes", w, &c->frontend.max_buffered_body_bytes));
    QP_TRY(read_int(*t, "models_cache_ttl_ms", w, &c->frontend.models_cache_ttl_ms));
    QP_TRY(read_int(*t, "request_timeout_ms", w, &c->frontend.request_timeout_ms));
    QP_TRY(read_int(*t, "long_request_timeout_ms", w, &c->frontend.long_request_timeout_ms));
    QP_TRY(read_int(*t, "sse_keepalive_ms", w, &c->frontend.sse_keepalive_ms));
    QP_TRY(read_str(*t, "api_key", w, &c->frontend.api_key));
    QP_TRY(read_str(*t, "admin_key", w, &c->frontend.admin_key));
    QP_TRY(read_str(*t, "keys_file", w, &c->frontend.keys_file));
    c->frontend.keys_file = relative_to(path, c->frontend.keys_file);
    QP_TRY(read_str(*t, "curve_secret_key_file", w, &c->frontend.curve_secret_key_file));
    c->frontend.curve_secret_key_file = relative_to(path, c->frontend.curve_secret_key_file);
  }
  if (auto* t = root["broker"].as_table()) {
    std::string w = path + ": broker";
    QP_TRY(read_str(*t, "frontend_endpoint", w, &c->broker.frontend_endpoint));
    QP_TRY(read_str(*t, "worker_endpoint", w, &c->broker.worker_endpoint));
    QP_TRY(read_int(*t, "queue_limit", w, &c->broker.queue_limit));
    QP_TRY(read_int(*t, "queue_timeout_ms", w, &c->broker.queue_timeout_ms));
    QP_TRY(read_int(*t, "heartbeat_ms", w, &c->broker.heartbeat_ms));
    QP_TRY(read_bool(*t, "allow_plaintext_tcp", w, &c->broker.allow_plaintext_tcp));
    QP_TRY(read_str(*t, "curve_secret_key_file", w, &c->broker.curve_secret_key_file));
    c->broker.curve_secret_key_file = relative_to(path, c->broker.curve_secret_key_file);
    QP_TRY(read_str(*t, "curve_public_key_file", w, &c->broker.curve_public_key_file));
    c->broker.curve_public_key_file = relative_to(path, c->broker.curve_public_key_file);
    QP_TRY(read_str(*t, "authorized_keys_dir", w, &c->broker.authorized_keys_dir));
    c->broker.authorized_keys_dir = relative_to(path, c->broker.authorized_keys_dir);
    QP_TRY(read_int(*t, "link_heartbeat_ms", w, &c->broker.link_heartbeat_ms));
    QP_TRY(read_int(*t, "link_timeout_ms", w, &c->broker.link_timeout_ms));
    QP_TRY(read_int(*t, "reconnect_ivl_ms", w, &c->broker.reconnect_ivl_ms));
    QP_TRY(read_int(*t, "reconnect_ivl_max_ms", w, &c->broker.reconnect_ivl_max_ms));
  }
  if (auto* t = root["sessions"].as_table()) {
    std::string w = path + ": sessions";
    QP_TRY(read_str(*t, "db_path", w, &c->sessions.db_path));
    QP_TRY(read_int(*t, "ttl_ms", w, &c->sessions.ttl_ms));
    QP_TRY(read_int(*t, "max_entries", w, &c->sessions.max_entries));
  }
  if (auto* t = root["responses"].as_table()) {
    std::string w = path + ": responses";
    QP_TRY(read_str(*t, "db_path", w, &c->responses.db_path));
    QP_TRY(read_int(*t, "ttl_ms", w, &c->responses.ttl_ms));
    QP_TRY(read_int(*t, "max_entries", w, &c->responses.max_entries));
    QP_TRY(read_bool(*t, "web_search", w, &c->responses.web_search));
  }
  if (auto* t = root["worker"].as_table()) {
    std::string w = path + ": worker";
    QP_TRY(read_int(*t, "prewarm_chats", w, &c->worker.prewarm_chats));
    QP_TRY(read_int(*t, "prewarm_models", w, &c->worker.prewarm_models));
    QP_TRY(read_int(*t, "prewarm_ttl_ms", w, &c->worker.prewarm_ttl_ms));
    QP_TRY(read_str(*t, "default_model", w, &c->worker.default_model));
    QP_TRY(read_str(*t, "curve_secret_key_file", w, &c->worker.curve_secret_key_file));
    c->worker.curve_secret_key_file = relative_to(path, c->worker.curve_secret_key_file);
  }
  if (auto* t = root["notify"].as_table()) {
    QP_TRY(read_str(*t, "webhook_url", path + ": notify", &c->notify.webhook_url));
  }
  if (auto* t = root["upstream"].as_table()) {
    std::string w = path + ": upstream";
    QP_TRY(read_str(*t, "base_url", w, &c->upstream.base_url));
    QP_TRY(read_int(*t, "connect_timeout_ms", w, &c->upstream.connect_timeout_ms));
    QP_TRY(read_int(*t, "first_byte_timeout_ms", w, &c->upstream.first_byte_timeout_ms));
    QP_TRY(read_int(*t, "idle_timeout_ms", w, &c->upstream.idle_timeout_ms));
    QP_TRY(read_int(*t, "long_idle_timeout_ms", w, &c->upstream.long_idle_timeout_ms));
    QP_TRY(read_str(*t, "user_agent", w, &c->upstream.user_agent));
    QP_TRY(read_bool(*t, "delete_chats", w, &c->upstream.delete_chats));
    QP_TRY(read_str(*t, "record_file", w, &c->upstream.record_file));
    c->upstream.record_file = relative_to(path, c->upstream.record_file);
    QP_TRY(read_int(*t, "record_max_bytes", w, &c->upstream.record_max_bytes));
    QP_TRY(read_str(*t, "oss_endpoint", w, &c->upstream.oss_endpoint));
    QP_TRY(read_int(*t, "upload_timeout_ms", w, &c->upstream.upload_timeout_ms));
    QP_TRY(read_int(*t, "long_input_bytes", w, &c->upstream.long_input_bytes));
    QP_TRY(read_bool(*t, "parse_documents", w, &c->upstream.parse_documents));
    QP_TRY(read_int(*t, "parse_poll_interval_ms", w, &c->upstream.parse_poll_interval_ms));
    QP_TRY(read_int(*t, "parse_max_polls", w, &c->upstream.parse_max_polls));
  }
  if (auto* t = root["attachments"].as_table()) QP_TRY(read_attachments(*t, path, c));
  if (auto* t = root["anthropic"].as_table()) {
    std::string w = path + ": anthropic";
    QP_TRY(read_str(*t, "default_model", w, &c->anthropic.default_model));
    if (const toml::node* n = t->get("model_map")) {
      const toml::table* map = n->as_table();
      if (map == nullptr) return bad(w + ".model_map", "must be a table of prefix = \"model\"");
      c->anthropic.model_map.clear();
      for (const auto& [k, v] : *map) {
        auto target = v.value<std::string>();
        if (!target || target->empty())
          return bad(w + ".model_map." + std::string(k.str()), "must be a non-empty string");
        c->anthropic.model_map.emplace_back(std::string(k.str()), *target);
      }
    }
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
      QP_TRY(read_str(*t, "token", w, &a.token));
      QP_TRY(read_str(*t, "email", w, &a.email));
      QP_TRY(read_str(*t, "password", w, &a.password));
      QP_TRY(read_str(*t, "proxy", w, &a.proxy));
      QP_TRY(read_str(*t, "user_agent", w, &a.user_agent));
      QP_TRY(read_str(*t, "file", w, &a.file));
      QP_TRY(read_int(*t, "capacity", w, &a.capacity));
      a.file = relative_to(path, a.file);
      a.origin = w;
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
  if (env("QP_ACCOUNTS_DIR", &v)) c->accounts_dir = v;
  if (env("QP_HOST", &v)) c->frontend.host = v;
  uint64_t port = static_cast<uint64_t>(c->frontend.port);
  QP_TRY(env_u64(env, "QP_PORT", &port));
  c->frontend.port = static_cast<int>(port);
  QP_TRY(env_u64(env, "QP_FRONTEND_PROCESSES", &c->frontend.processes));
  QP_TRY(env_u64(env, "QP_MAX_BODY_BYTES", &c->frontend.max_body_bytes));
  if (env("QP_API_KEY", &v)) c->frontend.api_key = v;
  if (env("QP_ADMIN_KEY", &v)) c->frontend.admin_key = v;
  if (env("QP_KEYS_FILE", &v)) c->frontend.keys_file = v;
  if (env("QP_BROKER_FRONTEND_ENDPOINT", &v)) c->broker.frontend_endpoint = v;
  if (env("QP_BROKER_WORKER_ENDPOINT", &v)) c->broker.worker_endpoint = v;
  QP_TRY(env_u64(env, "QP_QUEUE_LIMIT", &c->broker.queue_limit));
  QP_TRY(env_u64(env, "QP_QUEUE_TIMEOUT_MS", &c->broker.queue_timeout_ms));
  QP_TRY(env_u64(env, "QP_HEARTBEAT_MS", &c->broker.heartbeat_ms));
  if (env("QP_ALLOW_PLAINTEXT_TCP", &v)) {
    if (v == "1" || v == "true")
      c->broker.allow_plaintext_tcp = true;
    else if (v == "0" || v == "false")
      c->broker.allow_plaintext_tcp = false;
    else
      return bad("environment QP_ALLOW_PLAINTEXT_TCP", "must be true/false or 1/0");
  }
  if (env("QP_BROKER_CURVE_SECRET_KEY_FILE", &v)) c->broker.curve_secret_key_file = v;
  if (env("QP_BROKER_CURVE_PUBLIC_KEY_FILE", &v)) c->broker.curve_public_key_file = v;
  if (env("QP_AUTHORIZED_KEYS_DIR", &v)) c->broker.authorized_keys_dir = v;
  if (env("QP_WORKER_CURVE_SECRET_KEY_FILE", &v)) c->worker.curve_secret_key_file = v;
  if (env("QP_FRONTEND_CURVE_SECRET_KEY_FILE", &v)) c->frontend.curve_secret_key_file = v;
  QP_TRY(env_u64(env, "QP_LINK_HEARTBEAT_MS", &c->broker.link_heartbeat_ms));
  QP_TRY(env_u64(env, "QP_LINK_TIMEOUT_MS", &c->broker.link_timeout_ms));
  if (env("QP_SESSIONS_DB", &v)) c->sessions.db_path = v;
  QP_TRY(env_u64(env, "QP_SESSION_TTL_MS", &c->sessions.ttl_ms));
  QP_TRY(env_u64(env, "QP_SESSION_MAX_ENTRIES", &c->sessions.max_entries));
  if (env("QP_RESPONSES_DB", &v)) c->responses.db_path = v;
  QP_TRY(env_u64(env, "QP_RESPONSES_TTL_MS", &c->responses.ttl_ms));
  QP_TRY(env_u64(env, "QP_RESPONSES_MAX_ENTRIES", &c->responses.max_entries));
  if (env("QWEN_BASE_URL", &v)) c->upstream.base_url = v;
  if (env("QP_NOTIFY_WEBHOOK_URL", &v)) c->notify.webhook_url = v;
  if (env("QP_ANTHROPIC_DEFAULT_MODEL", &v)) c->anthropic.default_model = v;
  if (env("QP_ANTHROPIC_MODEL_MAP", &v)) {
    // "prefix=model,prefix=model": replaces the file's table.
    c->anthropic.model_map.clear();
    size_t pos = 0;
    while (pos <= v.size()) {
      size_t end = v.find(',', pos);
      if (end == std::string::npos) end = v.size();
      std::string item = v.substr(pos, end - pos);
      pos = end + 1;
      if (strings::trim_blanks(item).empty()) continue;
      size_t eq = item.find('=');
      std::string_view iv(item);
      std::string prefix(eq == std::string::npos ? "" : strings::trim_blanks(iv.substr(0, eq)));
      std::string model(eq == std::string::npos ? "" : strings::trim_blanks(iv.substr(eq + 1)));
      if (prefix.empty() || model.empty())
        return bad("environment QP_ANTHROPIC_MODEL_MAP", "must be prefix=model[,prefix=model...]");
      c->anthropic.model_map.emplace_back(std::move(prefix), std::move(model));
    }
  }
  QP_TRY(env_u64(env, "QP_UPSTREAM_CONNECT_TIMEOUT_MS", &c->upstream.connect_timeout_ms));
  QP_TRY(env_u64(env, "QP_UPSTREAM_FIRST_BYTE_TIMEOUT_MS", &c->upstream.first_byte_timeout_ms));
  QP_TRY(env_u64(env, "QP_UPSTREAM_IDLE_TIMEOUT_MS", &c->upstream.idle_timeout_ms));
  QP_TRY(env_u64(env, "QP_UPSTREAM_LONG_IDLE_TIMEOUT_MS", &c->upstream.long_idle_timeout_ms));
  QP_TRY(env_u64(env, "QP_LONG_REQUEST_TIMEOUT_MS", &c->frontend.long_request_timeout_ms));
  if (env("QP_UPSTREAM_RECORD_FILE", &v)) c->upstream.record_file = v;
  if (env("QP_UPSTREAM_OSS_ENDPOINT", &v)) c->upstream.oss_endpoint = v;
  QP_TRY(env_u64(env, "QP_UPSTREAM_LONG_INPUT_BYTES", &c->upstream.long_input_bytes));
  QP_TRY(env_u64(env, "QP_UPSTREAM_RECORD_MAX_BYTES", &c->upstream.record_max_bytes));
  if (env("QP_RESPONSES_WEB_SEARCH", &v)) {
    if (v == "1" || v == "true")
      c->responses.web_search = true;
    else if (v == "0" || v == "false")
      c->responses.web_search = false;
    else
      return bad("environment QP_RESPONSES_WEB_SEARCH", "must be true/false or 1/0");
  }
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
    env("QWEN_JWT", &a.token);
    env("QWEN_EMAIL", &a.email);
    env("QWEN_PASSWORD", &a.password);
    env("QWEN_PROXY", &a.proxy);
    env("QWEN_USER_AGENT", &a.user_agent);
    a.origin = kEnvAccountOrigin;
    a.from_environment = true;
    uint64_t cap = a.capacity;
    QP_TRY(env_u64(env, "QWEN_CAPACITY", &cap));
    a.capacity = static_cast<uint32_t>(cap);
    // An env account replaces a file account of the same name.
    std::erase_if(c->accounts, [&](const AccountConfig& x) { return x.name == a.name; });
    c->accounts.push_back(std::move(a));
  }
  return Status();
}

// Reads the .env file named by QP_ENV_FILE or `env_file`. Its variables are a
// fallback: the real environment wins, as with the old proxy's dotenv.
Status read_env_file(const EnvLookup& env, Config* c, std::shared_ptr<accounts::DotEnv>* out) {
  std::string v;
  if (env("QP_ENV_FILE", &v)) c->env_file = v;
  if (c->env_file.empty()) return Status();
  auto text = accounts::read_private_file(c->env_file);
  if (!text) return bad("env_file", text.error().message());
  auto parsed = accounts::parse_dotenv(text.value(), c->env_file);
  if (!parsed) return bad("env_file", parsed.error().message());
  *out = std::make_shared<accounts::DotEnv>(std::move(parsed.value()));
  return Status();
}

// Adds an account for every NAME.toml in accounts_dir, and points entries
// without credentials at their file. A directory that is missing or cannot be
// listed adds nothing: `qwenproxy account list` reports it.
void discover_accounts(const EnvLookup& env, Config* c) {
  if (c->accounts_dir.empty()) {
    std::string v;
    if (!c->config_path.empty()) {
      c->accounts_dir = dir_of(c->config_path) + "/accounts";
    } else if (env("CONFIGURATION_DIRECTORY", &v) && !v.empty()) {  // systemd
      c->accounts_dir = v.substr(0, v.find(':')) + "/accounts";
    }
  }
  if (c->accounts_dir.empty()) return;
  for (auto& a : c->accounts) {
    if (a.file.empty() && a.cookies.empty() && a.token.empty() && a.email.empty()) {
      a.file = accounts::account_file_path(c->accounts_dir, a.name);
    }
  }
  auto listing = accounts::list_account_dir(c->accounts_dir);
  for (const auto& name : listing.names) {
    if (c->find_account(name) != nullptr) continue;  // an entry or QWEN_* account wins
    AccountConfig a;
    a.name = name;
    a.file = accounts::account_file_path(c->accounts_dir, name);
    a.origin = a.file;
    c->accounts.push_back(std::move(a));
  }
}

// The keys file's default place (FrontendConfig::keys_file).
void default_keys_file(const EnvLookup& env, Config* c) {
  if (!c->frontend.keys_file.empty()) return;
  std::string v;
  if (!c->config_path.empty()) {
    c->frontend.keys_file = dir_of(c->config_path) + "/keys/keys.toml";
  } else if (env("CONFIGURATION_DIRECTORY", &v) && !v.empty()) {  // systemd
    c->frontend.keys_file = v.substr(0, v.find(':')) + "/keys/keys.toml";
  } else {
    c->frontend.keys_file = c->state_dir + "/keys.toml";
  }
}

Status validate(Config* c) {
  if (c->frontend.port < 0 || c->frontend.port > 65535)
    return bad("frontend.port", "must be 0..65535");
  if (c->frontend.processes < 1 || c->frontend.processes > kMaxFrontendProcesses)
    return bad("frontend.processes", "must be 1.." + std::to_string(kMaxFrontendProcesses));
  if (c->broker.heartbeat_ms < 10) return bad("broker.heartbeat_ms", "must be at least 10");
  if (c->broker.link_heartbeat_ms != 0 && c->broker.link_heartbeat_ms < 10)
    return bad("broker.link_heartbeat_ms", "must be 0 (= heartbeat_ms) or at least 10");
  if (c->broker.link_timeout_ms > 6'553'500)
    return bad("broker.link_timeout_ms", "must be at most 6553500 (ZMQ_HEARTBEAT_TTL)");
  if (c->broker.reconnect_ivl_ms == 0) return bad("broker.reconnect_ivl_ms", "must be positive");
  if (c->broker.reconnect_ivl_max_ms != 0 &&
      c->broker.reconnect_ivl_max_ms < c->broker.reconnect_ivl_ms)
    return bad("broker.reconnect_ivl_max_ms", "must be 0 or at least reconnect_ivl_ms");
  if (c->frontend.max_connections == 0)
    return bad("frontend.max_connections", "must be at least 1");
  if (c->sessions.db_path.empty()) c->sessions.db_path = c->state_dir + "/sessions.db";
  if (c->sessions.ttl_ms == 0) return bad("sessions.ttl_ms", "must be positive");
  if (c->sessions.max_entries == 0) return bad("sessions.max_entries", "must be positive");
  if (c->responses.db_path.empty()) c->responses.db_path = c->state_dir + "/responses.db";
  if (c->responses.ttl_ms == 0) return bad("responses.ttl_ms", "must be positive");
  if (c->responses.max_entries == 0) return bad("responses.max_entries", "must be positive");
  if (c->worker.prewarm_chats > 64) return bad("worker.prewarm_chats", "must be at most 64");
  if (c->worker.prewarm_models > 16) return bad("worker.prewarm_models", "must be at most 16");
  if (c->upstream.parse_max_polls == 0 || c->upstream.parse_max_polls > 1000)
    return bad("upstream.parse_max_polls", "must be 1..1000");
  if (c->upstream.parse_poll_interval_ms > 60'000)
    return bad("upstream.parse_poll_interval_ms", "must be at most 60000");
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
  if (std::string& o = c->upstream.oss_endpoint; !o.empty()) {
    if (o.rfind("http://", 0) != 0 && o.rfind("https://", 0) != 0)
      return bad("upstream.oss_endpoint", "must start with http:// or https://");
    while (o.back() == '/') o.pop_back();
  }
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
  std::shared_ptr<accounts::DotEnv> dotenv;
  QP_TRY(read_env_file(env, &c, &dotenv));
  if (dotenv) {
    EnvLookup with_dotenv = [&env, dotenv](const char* name, std::string* value) {
      if (env(name, value)) return true;
      auto it = dotenv->find(name);
      if (it == dotenv->end()) return false;
      *value = it->second;
      return true;
    };
    QP_TRY(apply_env(with_dotenv, &c));
    std::string port;
    // The old proxy's PORT, only from the .env file (PORT in the real
    // environment is too generic to claim).
    if (!env("QP_PORT", &port) && dotenv->count("QP_PORT") == 0 && dotenv->count("PORT") != 0) {
      uint64_t p = 0;
      if (!parse_u64(dotenv->at("PORT"), &p)) {
        return bad(c.env_file + ": PORT", "must be a non-negative integer");
      }
      c.frontend.port = static_cast<int>(p > 65535 ? 65536 : p);
    }
    for (auto& a : c.accounts) {
      std::string in_env;
      if (a.origin == kEnvAccountOrigin && !env("QWEN_COOKIES", &in_env)) {
        a.origin = c.env_file + " (QWEN_COOKIES)";
        a.from_environment = false;
      }
    }
  } else {
    QP_TRY(apply_env(env, &c));
  }
  discover_accounts(env, &c);
  default_keys_file(env, &c);
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
