// Builds the requests of the Qwen web API: URLs, browser-like headers and JSON
// bodies. Pure (time and ids are inputs), so every field is unit-tested.
//
// Auth (like R21 and GO; docs/upstream.md, "[MOCK DECISION]s and the reading
// the client uses"): `Authorization: Bearer <jwt>` in the headers built here
// AND the account's whole cookie string (which holds `token=<jwt>`), which the
// caller sets with CURLOPT_COOKIE. These values are secrets: never log a header
// list.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/protocol/messages.h"

namespace qp::worker {

// The SPA version header (GO sends 0.2.68, R21 0.2.63).
inline constexpr std::string_view kWebVersion = "0.2.68";
// The body `version` field of completions.
inline constexpr std::string_view kCompletionVersion = "2.1";
inline constexpr int64_t kThinkingBudget = 38912;
// The largest budget sent: models' max_thinking_generation_length
// (docs/upstream.md, "Search and thinking").
inline constexpr int64_t kMaxThinkingBudget = 81920;

// kTaskStatus: GET /api/v1/tasks/status/<task_id> (video tasks; the id goes
// where the others take the chat id). kSts: POST /api/v1/files/getstsToken
// (uploads, docs/upstream.md "Images and files in"; worker/upload_requests.h).
// kFileParse, kFileParseStatus: POST /api/v2/files/parse and …/parse/status
// (the document parse step; worker/file_parse.h).
enum class Endpoint {
  kModels,
  kModelsV2,
  kNewChat,
  kCompletion,
  kStop,
  kDeleteChat,
  kTaskStatus,
  kSts,
  kFileParse,
  kFileParseStatus,
};

// Model-name suffixes select features (R21/GO convention):
// "<id>-thinking", "<id>-search", "<id>-thinking-search", and
// "<id>-deep-research" (outermost; it may wrap the others).
struct ModelVariant {
  std::string upstream_model;
  bool thinking = false;
  bool search = false;         // forced: a "search" chat
  bool auto_search = false;    // offered: the model decides (JobFeatures.auto_search)
  bool deep_research = false;  // a "deep_research" chat (wins over search)
};
ModelVariant parse_model_variant(std::string_view model);
// The request's explicit wishes (protocol::JobFeatures) on top of the
// suffix: search is on if either asks; an explicit thinking on/off wins
// over the suffix.
ModelVariant apply_features(ModelVariant v, const protocol::JobFeatures& f);
// The chat type of chats/new and of the message (docs/upstream.md, "Search and
// thinking"): "deep_research", "search" or "t2t".
std::string_view chat_type_of(const ModelVariant& v);

// base_url has no trailing slash (load_config strips it). chat_id is
// percent-encoded into the query where the endpoint takes one.
std::string endpoint_url(Endpoint e, std::string_view base_url, std::string_view chat_id = {});

struct HeaderParams {
  std::string_view base_url;
  std::string_view user_agent;
  std::string_view jwt;           // empty: no Authorization header
  std::string_view bx_umidtoken;  // each bx-* header only when non-empty
  std::string_view bx_ua;
  std::string_view bx_v;
  std::string_view chat_id;       // completion and stop: for the Referer
  std::string_view request_uuid;  // x-request-id
  std::string_view timezone;      // js_date_string()
};
// "Name: value" lines for curl_slist. CR/LF in values are dropped.
std::vector<std::string> build_headers(Endpoint e, const HeaderParams& p);

// JavaScript Date.toString() without the zone name, in local time:
// "Fri Apr 24 2026 12:00:00 GMT+0800".
std::string js_date_string(std::time_t t);

// POST /api/v2/chats/new; timestamp in milliseconds; chat_type from
// chat_type_of().
std::string new_chat_body(std::string_view model, std::string_view chat_type, int64_t timestamp_ms);

// One content item besides the text (the `content` array; docs/upstream.md,
// "Images and files in").
struct MediaItem {
  std::string type;  // "image" | "file"
  std::string url;
};

struct CompletionParams {
  std::string_view chat_id;
  std::string_view model;    // upstream model id (variant suffix removed)
  std::string_view content;  // the single user message
  bool thinking = false;
  int64_t thinking_budget = 0;  // > 0: sent, at most kMaxThinkingBudget; 0: kThinkingBudget
  bool search = false;          // chat_type "search" (and auto_search)
  bool auto_search = false;     // feature_config.auto_search only
  bool deep_research = false;   // chat_type "deep_research" (wins over search)
  std::string_view fid;         // client uuid of the user message
  std::string_view child_id;    // client uuid for childrenIds
  std::string_view parent_id;   // empty: null (a new chat)
  int64_t timestamp_s = 0;
  // Uploaded or passed-through images and files of this message
  // (docs/upstream.md, "Images and files in", step 2); null or empty: `content`
  // is the plain string.
  const std::vector<MediaItem>* media = nullptr;
};
// POST /api/v2/chat/completions?chat_id=; timestamps in seconds. With p.media,
// `content` is an array: the text item, then one {"type":"image","image":url} /
// {"type":"file","file":url} item each.
std::string completion_body(const CompletionParams& p);

// POST /api/v2/chat/completions/stop?chat_id=.
std::string stop_body(std::string_view chat_id);

}  // namespace qp::worker
