// The one configuration shared by every process: a TOML file (optional) plus
// environment overrides. See docs/configuration.md for every key.
//
// Precedence: built-in defaults < config file < environment.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace qp {

// frontend.processes: more than this is a typo, not a machine.
inline constexpr uint64_t kMaxFrontendProcesses = 64;

struct FrontendConfig {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port (tests)
  // Frontend processes sharing the one listening socket (`qwenproxy up`; under
  // systemd: qwenproxy-frontend@K instances). docs/configuration.md.
  uint64_t processes = 1;
  // Large enough for a few base64 images (docs/configuration.md, [attachments]).
  uint64_t max_body_bytes = 20 * 1024 * 1024;
  uint64_t idle_timeout_ms = 60'000;  // keep-alive idle connections
  // Slow clients and resource limits (http::ServerOptions has the contract).
  uint64_t header_timeout_ms = 10'000;                      // whole request head
  uint64_t body_timeout_ms = 30'000;                        // body, plus size allowance:
  uint64_t body_min_bytes_per_s = 16 * 1024;                // +1 s per this many bytes
  uint64_t max_connections = 10'000;                        // 503 above
  uint64_t max_connections_per_address = 256;               // 0 = no limit
  bool loopback_exempt = true;                              // from the per-address limit
  uint64_t max_buffered_body_bytes = 256ULL * 1024 * 1024;  // all connections; 0 = no limit
  uint64_t models_cache_ttl_ms = 300'000;                   // /v1/models cache
  uint64_t request_timeout_ms = 600'000;                    // whole-request safety net
  // The safety net of long-running variants (common/model_variants.h: deep
  // research), whose runs take minutes; 0 = none.
  uint64_t long_request_timeout_ms = 3'600'000;
  // Streamed chat completions: an SSE comment `: keep-alive` after this
  // long without output (search, first-token wait); 0 = never.
  uint64_t sse_keepalive_ms = 5'000;
  std::string api_key;  // if set, clients must send it as Bearer
  // The operator's key for /admin/v1/*, /metrics and /dashboard (Bearer).
  // Empty: those are served only while the frontend listens on loopback.
  std::string admin_key;
  // Client keys with per-key limits (common/keys/client_keys.h). Default:
  // `{config file dir}/keys/keys.toml`, else
  // `$CONFIGURATION_DIRECTORY/keys/keys.toml` (systemd), else
  // `{state_dir}/keys.toml`.
  std::string keys_file;
  // This frontend's CurveZMQ secret key, for a tcp:// broker.frontend_endpoint.
  std::string curve_secret_key_file;
};

struct BrokerConfig {
  std::string frontend_endpoint;  // default ipc://{runtime_dir}/broker-frontend.sock
  std::string worker_endpoint;    // default ipc://{runtime_dir}/broker-workers.sock
  uint64_t queue_limit = 256;     // jobs waiting for a worker before 503
  uint64_t queue_timeout_ms = 30'000;
  uint64_t heartbeat_ms = 1000;
  // Links over tcp:// (common/zmq/link_security.h, docs/deployment.md
  // "Remote workers"). Plain tcp:// is refused unless this is set and the
  // address is loopback.
  bool allow_plaintext_tcp = false;
  std::string curve_secret_key_file;  // the broker's own key (qp-broker)
  std::string curve_public_key_file;  // the broker's public key (workers, frontends)
  std::string authorized_keys_dir;    // NAME.pub per peer the broker admits
  // ZMQ_HEARTBEAT_IVL (0 = heartbeat_ms / 2), ZMQ_HEARTBEAT_TIMEOUT and _TTL
  // (0 = 2 x the link heartbeat), ZMQ_RECONNECT_IVL(_MAX) of tcp:// links.
  uint64_t link_heartbeat_ms = 0;
  uint64_t link_timeout_ms = 0;
  uint64_t reconnect_ivl_ms = 100;
  uint64_t reconnect_ivl_max_ms = 5000;
};

// The broker's conversation index: upstream chat per history key.
struct SessionConfig {
  std::string db_path;             // default {state_dir}/sessions.db; ":memory:" = not persisted
  uint64_t ttl_ms = 3'600'000;     // idle time after which a conversation is forgotten
  uint64_t max_entries = 100'000;  // least recently used beyond this are evicted
};

// The Responses API's store (frontend/responses/response_store.h): responses
// created with store:true, for GET /v1/responses/{id} and
// previous_response_id.
struct ResponsesConfig {
  std::string db_path;            // default {state_dir}/responses.db; ":memory:" = not persisted
  uint64_t ttl_ms = 86'400'000;   // a stored response is forgotten after a day
  uint64_t max_entries = 10'000;  // the oldest beyond this are deleted
  // A `web_search` tool asks for the model's "-search" variant (Qwen's web
  // search); false ignores it (Codex offers it on every request).
  bool web_search = true;
};

// Per-worker behaviour.
struct WorkerConfig {
  // Pre-created upstream chats kept ready per popular model, so a new
  // conversation skips the chats/new round trip. 0 disables pre-warming.
  uint32_t prewarm_chats = 2;
  uint32_t prewarm_models = 2;              // how many of the most used models get a pool
  uint64_t prewarm_ttl_ms = 1'800'000;      // an unused pre-created chat is replaced after this
  std::string default_model = "qwen3-max";  // warmed before any request names a model
  // This worker's CurveZMQ secret key, for a tcp:// broker.worker_endpoint.
  std::string curve_secret_key_file;
};

struct UpstreamConfig {
  std::string base_url = "https://chat.qwen.ai";
  uint64_t connect_timeout_ms = 10'000;
  uint64_t first_byte_timeout_ms = 60'000;
  uint64_t idle_timeout_ms = 60'000;  // max gap between upstream events
  // First-byte and idle bound of long-running chat types (deep research),
  // whose phases can be silent for minutes; 0 = none.
  uint64_t long_idle_timeout_ms = 600'000;
  bool delete_chats = false;  // DELETE each upstream chat once it is finished with
  // Record every upstream exchange, redacted, to this file as JSON lines
  // (docs/recording.md); "{account}" is replaced by the account name.
  // Empty: off.
  std::string record_file;
  uint64_t record_max_bytes = 100ull * 1024 * 1024;  // recording stops past this file size
  // Alibaba OSS endpoint for uploads (images, files), "scheme://host[:port]";
  // the object goes to {oss_endpoint}/{file_path}. Empty (real use): the
  // host STS names, https://{bucket}.{region}.aliyuncs.com.
  std::string oss_endpoint;
  uint64_t upload_timeout_ms = 120'000;  // one STS request or OSS PUT, whole transfer
  // Long inputs (docs/upstream.md "Long inputs"): a new chat's prompt longer
  // than this goes as a text file (history and system text) plus the latest
  // turn inline. 0 = off.
  uint64_t long_input_bytes = 0;
  // The document parse step after a non-image upload (docs/upstream.md,
  // "Images and files in", step 4): POST files/parse, then poll
  // files/parse/status every parse_poll_interval_ms, at most
  // parse_max_polls times.
  bool parse_documents = true;
  uint64_t parse_poll_interval_ms = 500;
  uint32_t parse_max_polls = 20;
  std::string user_agent =
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/141.0.0.0 Safari/537.36";
};

// Images and files in requests (frontend/attachments.h). Types are judged from
// the bytes, never from the client's label.
struct AttachmentsConfig {
  uint64_t max_image_bytes = 10 * 1024 * 1024;  // decoded bytes per image
  uint64_t max_images = 8;                      // images per request
  uint64_t max_file_bytes = 10 * 1024 * 1024;   // decoded bytes per file
  uint64_t max_files = 4;                       // files per request
  // Accepted sniffed types (MIME names). Images: png, jpeg, webp, gif;
  // files: pdf, text.
  std::vector<std::string> types = {"image/png", "image/jpeg",      "image/webp",
                                    "image/gif", "application/pdf", "text/plain"};
};

// Operator notices (common/notices.h): each worker posts its account's
// notices (token expiring/expired, unhealthy) to this URL as JSON. Empty:
// notices are only logged. The URL may carry a token: it is never logged
// (only its host).
struct NotifyConfig {
  std::string webhook_url;
};

// The Anthropic Messages API (/v1/messages): which Qwen model serves a
// Claude model name. A name starting with "claude" takes the target of the
// longest matching prefix in model_map, else default_model; any other name
// is a Qwen model and passes through.
struct AnthropicConfig {
  std::string default_model = "qwen3-coder-plus";
  std::vector<std::pair<std::string, std::string>> model_map;  // prefix -> Qwen model
};

// One Qwen account. load_config() fills the credentials only for accounts
// written inline (an [[accounts]] entry with `cookies`, or the QWEN_*
// variables); an account backed by a file has just `name`, `capacity` and
// `file` here: its worker reads the file with accounts::load_account()
// (common/accounts/account_loader.h), which validates and normalises it.
struct AccountConfig {
  std::string name;
  std::string cookies;       // full browser cookie string; the JWT is its `token` cookie
  std::string token;         // the session JWT, if given apart from the cookies
  std::string bx_umidtoken;  // QWEN_TOKEN in the old proxy
  std::string bx_ua;
  std::string bx_v;
  std::string email;              // optional: re-login through /api/v1/auths/signin
  std::string password;           // plain text; sent as its sha256 hex
  std::string proxy;              // optional outbound proxy URL for this account
  std::string user_agent;         // optional: overrides upstream.user_agent
  uint32_t capacity = 4;          // concurrent upstream requests for this account
  std::string file;               // the account file (empty: credentials are inline)
  std::string origin;             // where the entry was defined, for messages (no secrets)
  bool from_environment = false;  // defined by the QWEN_* variables (not a file or .env)
};

struct Config {
  std::string config_path;  // file that was loaded, empty if none
  std::string runtime_dir;  // ipc sockets, port files
  std::string state_dir;    // persistent state
  // Directory of account files, NAME.toml = account NAME. Default:
  // `{config file dir}/accounts`, else `$CONFIGURATION_DIRECTORY/accounts`
  // (systemd), else none.
  std::string accounts_dir;
  std::string env_file;  // a .env file read as fallback environment (old proxy), if any
  FrontendConfig frontend;
  BrokerConfig broker;
  SessionConfig sessions;
  ResponsesConfig responses;
  WorkerConfig worker;
  UpstreamConfig upstream;
  NotifyConfig notify;
  AnthropicConfig anthropic;
  AttachmentsConfig attachments;
  std::vector<AccountConfig> accounts;

  const AccountConfig* find_account(const std::string& name) const;
};

// Looks up an environment variable; returns false if unset.
using EnvLookup = std::function<bool(const char* name, std::string* value)>;
EnvLookup process_env();

// Loads `path` (if non-empty; else $QP_CONFIG if set) and applies the
// environment. Errors name the file, the key and what is wrong; they never
// echo secret values.
Result<Config> load_config(const std::string& path, const EnvLookup& env = process_env());

// Extracts the value of cookie `name` from a Cookie header string.
std::string cookie_value(const std::string& cookies, const std::string& name);

}  // namespace qp
