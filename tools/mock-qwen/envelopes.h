// JSON (and HTML) response bodies of chat.qwen.ai other than the SSE events:
// the {"success":…,"request_id":…,"data":…} envelope, the exact error texts of
// the upstream errors [MOCK DECISION], and the two WAF pages
// (docs/mock-qwen.md, "Fault switches"). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace qp::mock {

// Error codes and details used by the mock (docs/mock-qwen.md, "Completions:
// validation order and exact errors"). Texts marked "invented" in the spec are
// invented there too.
inline constexpr std::string_view kBadRequest = "Bad_Request";
inline constexpr std::string_view kUnauthorizedCode = "Unauthorized";
inline constexpr std::string_view kRateLimitedCode = "RateLimited";
inline constexpr std::string_view kTooManyMessages = "Invalid input too many messages.";
inline constexpr std::string_view kChatInProgressDetails = "The chat is in progress!";
inline constexpr std::string_view kInternalErrorDetails = "Internal error";
inline constexpr std::string_view kModerationDetails = "Content security warning";
inline constexpr std::string_view kTokenExpired = "Token has expired";
inline constexpr std::string_view kQuotaDetails =
    "You've reached the upper limit for today's usage.";
inline constexpr std::string_view kQuotaTemplate =
    "You have reached the daily usage limit. Please wait {{num}} hours before trying again.";

// "Invalid input chat parent_id <id> is not exist."
std::string bad_parent_details(std::string_view parent_id);
// "Invalid input chat_id <id> is not exist." (invented)
std::string unknown_chat_details(std::string_view chat_id);
// "Model not found: <id>" (invented)
std::string unknown_model_details(std::string_view model);

// {"success":true,"request_id":"…","data":<data_json>}
std::string ok_envelope(std::string_view request_id, std::string_view data_json);
// {"success":false,"request_id":"…","data":{"code":"…","details":"…"}}
std::string error_envelope(std::string_view request_id, std::string_view code,
                           std::string_view details);
// The RateLimited envelope with template and num.
std::string rate_limited_envelope(std::string_view request_id, int64_t num);
// WAF (a): the baxia punish JSON (served with HTTP 200, application/json).
std::string waf_punish_json(std::string_view path);
// WAF (b): a small challenge page with aliyun_waf_aa, punish and captcha
// (served with HTTP 403, text/html).
std::string waf_html_page();
// The WAF challenge peers met on the file endpoints: a ~16 KiB HTML page
// naming aliyun_waf_captcha (served with HTTP 200, text/html).
std::string waf_captcha_page();
// The outage answers peers met on the document parse endpoints (HTTP 200):
// {"success":<success>,"request_id":"…","data":{"code":"Internal_Server_Error"}}
// (success true from files/parse, false from files/parse/status).
std::string parse_outage_envelope(std::string_view request_id, bool success);

}  // namespace qp::mock
