// Plain message structs carried in the body frame (see wire.h). Encoded as
// MessagePack maps keyed by field name (codec.h), so a field added later with
// a default stays compatible in both directions. Every message that belongs
// to a job carries request_id, except JobChunk: a chunk's request id travels
// only beside its body (the CHUNK envelope's request id frame, or its CHUNKS
// batch entry), not repeated inside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace qp::protocol {

// Raw bytes, encoded as a MessagePack bin (not str: no UTF-8 promise).
struct Bytes {
  std::string data;
  bool empty() const { return data.empty(); }
};

// An image or file the client sent with a message, validated by the frontend
// (frontend/attachments.h): either the bytes, whose type was sniffed from them
// (common/media), or an http(s) URL that goes to Qwen as it is. The worker
// uploads the bytes (worker/upload_call.h).
struct Attachment {
  std::string kind;    // "image" | "file"
  std::string mime;    // sniffed: image/png|jpeg|webp|gif, application/pdf, text/plain; URL: ""
  std::string name;    // file name for the upload; may be empty
  std::string url;     // http(s) URL passed through; empty when bytes are set
  Bytes bytes;         // the content; empty when url is set
  std::string digest;  // hex SHA-256 of the bytes (or of the URL): part of the history key
  uint32_t width = 0;  // images with bytes: pixels, from the header
  uint32_t height = 0;
};

struct ChatMessage {
  std::string role;          // system | user | assistant | tool
  std::string content;       // text; content-part arrays are joined by the frontend
  std::string name;          // optional
  std::string tool_call_id;  // role == tool
  std::string tool_calls;    // role == assistant: the OpenAI tool_calls array as JSON text
  // Images and files of a user message, in order (left out when empty:
  // older peers see the same bytes).
  std::vector<Attachment> attachments = {};
};

enum class JobKind : uint8_t { kChat = 0, kListModels = 1 };

// What identifies the job's conversation (common/conversation/history_key.h),
// computed by the frontend from the request's messages.
struct HistoryInfo {
  std::string key;          // hex; history through the last assistant message; empty: new
  uint32_t new_from = 0;    // index of the first message after that assistant message
  std::string state;        // hex chain value after the last message (extended by the reply)
  std::string system_hash;  // hex; empty if no system message
  std::string tools_hash;   // hex; empty if no tools
};

// Set by the broker when the job continues an indexed upstream chat: the
// worker sends only messages[history.new_from..] into this chat, as a child
// of parent_id. The hashes are the session's, to detect a changed system
// prompt or tool set.
struct Continuation {
  std::string chat_id;  // empty: no continuation (new chat, full transcript)
  std::string parent_id;
  std::string system_hash;
  std::string tools_hash;
};

// Qwen features the request asks for, beyond what the model name's variant
// suffix (-search, -thinking) says; the worker ORs search with the suffix
// and lets an explicit thinking choice override it. Left out of the
// encoding when nothing is set (older peers: as before the field existed).
struct JobFeatures {
  bool search = false;          // web search (chat_type "search"): web_search_options
  int32_t thinking = -1;        // -1: as the model name says; 0: off; 1: on
  int64_t thinking_budget = 0;  // > 0: feature_config.thinking_budget; 0: the worker's default
  // Web search offered, not forced: the model decides (feature_config.
  // auto_search; the chat stays a "t2t" chat). A Responses `web_search` tool.
  bool auto_search = false;
  bool empty() const { return !search && thinking < 0 && thinking_budget == 0 && !auto_search; }
};

// One web search source, carried once in DONE (the frontend renders them as
// url_citation annotations). The worker bounds count and sizes
// (kMaxSources, kMaxSourceUrlBytes, kMaxSourceTitleBytes).
struct SearchSource {
  std::string url;
  std::string title;
};
inline constexpr size_t kMaxSources = 32;
inline constexpr size_t kMaxSourceUrlBytes = 2048;
inline constexpr size_t kMaxSourceTitleBytes = 512;

// Image / video generation (docs/api.md "Images and video"): set on jobs of
// the "<model>-image" (Qwen chat type t2i) and "<model>-video" (t2v)
// variants. Left out of the encoding when unset (older peers: as before
// the field existed). The frontend validates; the worker bounds again.
struct JobMedia {
  std::string size;             // Qwen's aspect ratio ("1:1", "16:9", ...); empty: "1:1"
  int32_t n = 0;                // images to generate; 0: 1
  std::string response_format;  // "url" (default) | "b64_json" (the worker downloads it)
  bool empty() const { return size.empty() && n == 0 && response_format.empty(); }
};
inline constexpr int32_t kMaxImagesPerJob = 4;

// One generated image or video, carried once in DONE.
struct MediaItem {
  std::string kind;      // "image" | "video"
  std::string url;       // Qwen's (signed, expiring) URL
  std::string b64_json;  // response_format b64_json: the downloaded bytes, base64
  std::string mime;      // the download's content type (b64_json only)
};

struct JobRequest {
  std::string request_id;
  JobKind kind = JobKind::kChat;
  std::string model;
  std::vector<ChatMessage> messages;
  bool stream = false;
  int64_t max_tokens = 0;         // 0 = not set
  double temperature = -1;        // < 0 = not set
  double top_p = -1;              // < 0 = not set
  std::vector<std::string> stop;  // up to 4 stop sequences
  std::string user;
  std::string tools;                // OpenAI tools array as JSON text, empty if none
  std::string tool_choice;          // OpenAI tool_choice as JSON text, empty if none
  bool parallel_tool_calls = true;  // OpenAI parallel_tool_calls (default true)
  std::string response_format;      // OpenAI response_format as JSON text, empty if none
  std::string chat_id;              // optional qwen_chat_id override
  HistoryInfo history;
  // Not part of the body: the broker sends it in the JOB's RESUME frame
  // (wire.h) and the worker fills it in after decoding the body.
  Continuation resume;
  int64_t created_unix_ms = 0;
  int64_t deadline_unix_ms = 0;  // 0 = none
  // Admin test chat: the broker routes the job only to this account's worker
  // (503 if it has none). Empty: any account. Left out of the encoding when
  // empty.
  std::string pin_account;
  // web_search_options / reasoning_effort (or Anthropic's thinking). Left out
  // of the encoding when empty.
  JobFeatures features;
  // Image / video generation parameters. Left out of the encoding when empty.
  JobMedia media;
};

// The JOB's ROUTE frame (wire.h): what the broker needs to route a job, so
// that it never decodes (or copies) the body. Written by the frontend from
// the same JobRequest it encodes as the body (route_of).
struct JobRoute {
  JobKind kind = JobKind::kChat;
  std::string model;
  std::string history_key;  // HistoryInfo::key: the session index lookup
  std::string chat_id;      // JobRequest::chat_id (qwen_chat_id override)
  std::string pin_account;  // JobRequest::pin_account
};

inline JobRoute route_of(const JobRequest& r) {
  return JobRoute{r.kind, r.model, r.history.key, r.chat_id, r.pin_account};
}

// The DONE's SESSION frame (wire.h), worker -> broker only: the conversation's
// new state for the broker's session index. The broker removes the frame
// before it forwards the DONE, so frontends never see it. No frame: nothing
// to index (e.g. the answer was cut short).
struct SessionUpdate {
  std::string session_key;  // key of the request's history plus this reply
  std::string chat_id;      // upstream chat id
  std::string parent_id;    // upstream id of this reply: the next turn's parent
  std::string account;      // account that served the job
  std::string model;        // the job's model
  std::string system_hash;  // the job's HistoryInfo hashes
  std::string tools_hash;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
  // Of completion_tokens, those spent on reasoning (thinking, deep research
  // phases): OpenAI's completion_tokens_details.reasoning_tokens. Left out
  // of the encoding when 0 (older peers: as before the field existed).
  int64_t reasoning_tokens = 0;
};

// One OpenAI tool_calls delta (ChatCompletionMessageToolCallChunk). The
// first delta of a call carries index, id and name; later ones carry index
// and an arguments fragment. Fragments of one index concatenate to the
// call's JSON arguments.
struct ToolCallDelta {
  int32_t index = 0;
  std::string id;         // first delta of a call only ("call_…")
  std::string name;       // first delta of a call only
  std::string arguments;  // JSON text fragment
};

// One delta of the answer, forwarded as soon as it arrives upstream. A chunk
// carrying both text and tool calls means: the text comes first. No
// request_id: the CHUNK envelope or the CHUNKS entry carries it (wire.h).
// Compatibility: a body from an older worker still has a "request_id" key,
// which the decoder skips as unknown; an older frontend decoding a newer body
// finds the key missing and keeps its empty default (it routes by the
// envelope's or entry's id and never read the field).
struct JobChunk {
  std::string content;    // answer text delta
  std::string reasoning;  // reasoning_content delta
  std::vector<ToolCallDelta> tool_calls;
  // The account serving the job: set by the worker on the job's first CHUNK
  // only (the frontend shows it for live requests); empty, and left out of
  // the encoding, on every later one.
  std::string account;
};

struct JobDone {
  std::string request_id;
  std::string finish_reason = "stop";  // stop | length | tool_calls | content_filter
  bool has_usage = false;
  Usage usage;
  std::string chat_id;  // upstream chat id
  std::string account;  // account that served the job
  // finish_reason "stop" because this client stop sequence matched (the
  // Anthropic route reports it); empty otherwise. (Added later: older peers
  // ignore it.)
  std::string stop_sequence;
  // The web search sources the answer used, in upstream order, deduplicated
  // by URL and bounded (SearchSource). Carried here rather than in CHUNK:
  // they are rendered once, on the message or the final delta, and the
  // per-chunk path stays as small as before. Left out when empty.
  std::vector<SearchSource> sources;
  // Generated images / videos (image and video variants). Left out when empty.
  std::vector<MediaItem> media;
};

struct JobError {
  std::string request_id;
  Code code = Code::kInternal;
  std::string message;        // safe to show to the client; never contains secrets
  int64_t retry_after_s = 0;  // > 0: the client should retry after this many seconds
  // What the failure says about the worker's account (kHealth*), empty if
  // nothing: an account failure before any CHUNK is retried by the broker on
  // another account.
  std::string account_health;
  int64_t health_until_unix_ms = 0;  // rate_limited: until when (0 = unknown)
  // The OpenAI error `code` for the client (e.g. "empty_response"); empty:
  // the frontend derives it from `code`.
  std::string error_code;
};

struct Cancel {
  std::string request_id;
  std::string reason;
};

// One sample of a metric family (common/metrics): the full sample name is
// the family's name plus `suffix` (histograms: "_bucket", "_sum", "_count").
// `labels` holds name, value, name, value, ... (at most a few pairs).
struct MetricSample {
  std::string suffix;
  std::vector<std::string> labels;
  double value = 0;
};

// A process's metric family as carried in heartbeats (docs/metrics.md).
struct MetricFamily {
  std::string name;  // e.g. "qwenproxy_upstream_calls_total"
  std::string type;  // counter | gauge | histogram
  std::string help;
  std::vector<MetricSample> samples;
};

// Account health as reported by workers.
inline constexpr const char* kHealthOk = "ok";
inline constexpr const char* kHealthRateLimited = "rate_limited";
inline constexpr const char* kHealthNeedsVerification = "needs_verification";
inline constexpr const char* kHealthCredentialsInvalid = "credentials_invalid";
inline constexpr const char* kHealthUnreachable = "upstream_unreachable";

// Body of READY and of worker HEARTBEATs. A heartbeat from an unknown worker
// registers it like READY does (the broker may have restarted).
struct WorkerStatus {
  std::string account;
  std::string instance;  // random per process start
  uint32_t capacity = 1;
  uint32_t in_flight = 0;
  std::string health = kHealthOk;
  int64_t health_until_unix_ms = 0;  // rate_limited: until when
  int64_t token_expires_unix_s = 0;  // 0 = unknown
  // Why the account cannot serve, for operators (/health): e.g. what is wrong
  // with its account file. Empty when healthy. Never a secret. (Added later:
  // older peers ignore it.)
  std::string detail;
  int64_t pid = 0;              // the worker's process id (admin API)
  int64_t started_unix_ms = 0;  // when the worker process started
  // The worker's metric families at the time of this heartbeat (empty in
  // READY). Older brokers ignore it.
  std::vector<MetricFamily> metrics;
};

// Body of frontend HEARTBEATs.
struct PeerHello {
  std::string instance;  // random per process start
  std::string role;      // "frontend"
};

struct AccountSummary {
  std::string account;
  std::string health;
  uint32_t capacity = 0;
  uint32_t in_flight = 0;
  int64_t token_expires_unix_s = 0;
  std::string detail;  // WorkerStatus::detail
  // For the admin API (added later: older peers ignore them).
  bool draining = false;        // taken out of rotation by an operator (ADMIN drain)
  int64_t pid = 0;              // WorkerStatus::pid
  int64_t started_unix_ms = 0;  // WorkerStatus::started_unix_ms
  uint32_t restarts = 0;        // re-registrations with a new instance since the broker started
  int64_t health_until_unix_ms = 0;  // WorkerStatus::health_until_unix_ms
};

// Body of broker HEARTBEATs. A change of `instance` tells peers the broker
// restarted and lost every job it was routing.
struct BrokerStatus {
  std::string instance;
  uint32_t workers = 0;
  uint32_t queued = 0;
  std::vector<AccountSummary> accounts;
  // To frontends only: the broker's own metric families, then every live
  // worker's latest ones, each sample labelled process="broker" or
  // process="worker",account=NAME. Older frontends ignore it.
  std::vector<MetricFamily> metrics;
};

// Body of ADMIN (frontend -> broker): an operator's action on one account.
//  drain: route no new job to the account (its running jobs finish);
//  resume: undo drain; reload: the account's worker re-reads its account file.
struct AdminCommand {
  std::string action;  // drain | resume | reload
  std::string account;
};

struct ModelInfo {
  std::string id;
  std::string name;
  std::string owned_by = "qwen";
  int64_t created = 0;
  int64_t context_length = 0;
  int64_t max_output_tokens = 0;
  std::vector<std::string> capabilities;  // e.g. vision, thinking, search
};

struct ModelList {
  std::string request_id;
  std::vector<ModelInfo> models;
};

}  // namespace qp::protocol
