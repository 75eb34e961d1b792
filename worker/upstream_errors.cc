#include "worker/upstream_errors.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <simdjson.h>

#include "common/log.h"
#include "common/numeric.h"
#include "common/protocol/messages.h"
#include "common/strings.h"

namespace qp::worker {
namespace {

using strings::iequals;

using simdjson::dom::element;

constexpr size_t kMaxDetailChars = 300;
constexpr int64_t kDefaultRateLimitHours = 24;  // FQA's default when `num` is absent

// Markers from GO isAlibabaHumanVerification, plus the baxia punish JSON
// markers checked by smaller proxies. Lower-case ASCII; the CJK ones are
// compared byte-wise.
constexpr std::string_view kWafMarkers[] = {
    "captcha",
    "aliyuncaptcha",
    "aliyun_waf",
    "cf_app_waf",
    "verifycenter",
    "punish",
    "x5sec",
    "baxia",
    "awsc",
    "nc_1_n1z",
    "aliyun.com/verify",
    "cf.aliyun.com",
    "fail_sys_user_validate",
    "_____tmd_____",
    "rgv587_error",
    "人机验证",
    "安全验证",
    "验证码",
    "访问验证",
    "滑块验证",
    "完成验证",
};

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
  return it != hay.end();
}

// Upstream text made safe to show: bounded, one line, secrets masked.
std::string sanitize(std::string_view text) {
  // Mask before truncating, so a token cut in half cannot escape the mask.
  std::string s(text.substr(0, size_t{64} * 1024));
  log::mask_secrets(&s);
  bool cut = s.size() > kMaxDetailChars;
  if (cut) {
    s.resize(kMaxDetailChars);
    // Do not leave half a UTF-8 sequence at the end.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && (static_cast<unsigned char>(s.back()) & 0x80) != 0) s.pop_back();
    s += "...";
  }
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

std::string_view str_field(element e, const char* key) {
  std::string_view v;
  if (e.is_object() && !e[key].get(v)) return v;
  return {};
}

// `num` may be an integer, a float or a numeric string.
int64_t num_field(element e, const char* key) {
  if (!e.is_object()) return 0;
  element n;
  if (e[key].get(n)) return 0;
  int64_t i = 0;
  double d = 0;
  std::string_view s;
  if (!n.get(i)) return i;
  if (!n.get(d)) return saturate_to_int64(d);
  if (!n.get(s)) return std::strtoll(std::string(s).c_str(), nullptr, 10);
  return 0;
}

// The fields of every error envelope variant, merged.
struct ErrorFields {
  bool parsed = false;    // body was JSON
  bool is_error = false;  // any error marker present
  bool success_true = false;
  std::string_view code;
  std::string_view details;
  int64_t num = 0;
};

void read_error_object(element err, ErrorFields* f) {
  std::string_view s;
  if (!err.get(s)) {  // "error": "text"
    if (f->details.empty()) f->details = s;
    return;
  }
  if (f->code.empty()) f->code = str_field(err, "code");
  if (f->details.empty()) f->details = str_field(err, "message");
  if (f->details.empty()) f->details = str_field(err, "details");
}

ErrorFields read_fields(simdjson::dom::parser& parser, std::string_view body) {
  ErrorFields f;
  element root;
  if (parser.parse(body.data(), body.size()).get(root) || !root.is_object()) return f;
  f.parsed = true;
  bool success = true;
  if (!root["success"].get(success)) {
    f.success_true = success;
    if (!success) f.is_error = true;
  }
  element data;
  if (!root["data"].get(data) && data.is_object()) {
    f.code = str_field(data, "code");
    f.details = str_field(data, "details");
    if (f.details.empty()) f.details = str_field(data, "detail");
    f.num = num_field(data, "num");
    element err;
    if (!data["error"].get(err) && !err.is_null()) {
      f.is_error = true;
      read_error_object(err, &f);
    }
  }
  element err;
  if (!root["error"].get(err) && !err.is_null()) {
    f.is_error = true;
    read_error_object(err, &f);
  }
  std::string_view top_code = str_field(root, "code");
  if (!top_code.empty()) {
    f.is_error = true;
    if (f.code.empty()) f.code = top_code;
    if (f.details.empty()) f.details = str_field(root, "detail");
    if (f.details.empty()) f.details = str_field(root, "details");
    if (f.details.empty()) f.details = str_field(root, "message");
    if (f.num == 0) f.num = num_field(root, "num");
  }
  return f;
}

UpstreamFailure make(Code code, std::string message, const char* health = nullptr,
                     int64_t retry_after_s = 0) {
  UpstreamFailure f;
  f.code = code;
  f.message = std::move(message);
  f.health = health;
  f.retry_after_s = retry_after_s;
  return f;
}

std::string code_and_details(const ErrorFields& f) {
  std::string s;
  if (!f.code.empty()) s += sanitize(f.code);
  if (!f.details.empty()) {
    if (!s.empty()) s += ": ";
    s += sanitize(f.details);
  }
  return s;
}

}  // namespace

bool has_waf_marker(std::string_view body) {
  for (auto m : kWafMarkers) {
    if (icontains(body, m)) return true;
  }
  return false;
}

bool is_error_json(std::string_view body) {
  simdjson::dom::parser parser;
  return read_fields(parser, body).is_error;
}

UpstreamFailure classify_response(long http_status, std::string_view content_type,
                                  std::string_view body) {
  if (has_waf_marker(body)) {
    return make(Code::kUpstream,
                "Qwen blocked the request with a human-verification (captcha/WAF) challenge: the "
                "account needs human verification; sign in to chat.qwen.ai in a browser with this "
                "account, complete the check and refresh its cookies",
                protocol::kHealthNeedsVerification);
  }
  simdjson::dom::parser parser;
  ErrorFields f = read_fields(parser, body);
  if (iequals(f.code, "RateLimited")) {
    int64_t hours = f.num > 0 ? f.num : kDefaultRateLimitHours;
    std::string msg = "Qwen usage limit reached for this account";
    if (!f.details.empty()) msg += ": " + sanitize(f.details);
    msg += " (retry after " + std::to_string(hours) + " h)";
    return make(Code::kRateLimited, std::move(msg), protocol::kHealthRateLimited, hours * 3600);
  }
  if (http_status == 401 || iequals(f.code, "Unauthorized") ||
      icontains(body, "Token has expired")) {
    std::string msg = "Qwen rejected the account's credentials";
    if (!f.details.empty()) msg += " (" + sanitize(f.details) + ")";
    msg += "; refresh the account's cookies (the token cookie)";
    return make(Code::kUpstreamAuth, std::move(msg), protocol::kHealthCredentialsInvalid);
  }
  if (f.is_error) {
    std::string what = code_and_details(f);
    if (what.empty()) what = "unspecified error";
    // Model-side quota errors (GO maps them to 429); not an account state.
    if (icontains(f.details, "quota") || icontains(f.details, "token-limit") ||
        icontains(f.code, "quota")) {
      return make(Code::kRateLimited, "Qwen quota exceeded: " + what);
    }
    if (icontains(f.details, "in progress")) {
      return make(Code::kUpstream, "Qwen reports the chat is busy: " + what);
    }
    return make(Code::kUpstream, "Qwen returned an error: " + what);
  }
  if (http_status == 429) {
    return make(Code::kRateLimited, "Qwen returned HTTP 429 (too many requests)");
  }
  std::string ct = content_type.empty() ? "no content type" : sanitize(content_type);
  if (http_status != 200) {
    std::string msg = "Qwen returned HTTP " + std::to_string(http_status) + " (" + ct + ")";
    if (f.parsed && !f.details.empty()) msg += ": " + sanitize(f.details);
    return make(Code::kUpstream, std::move(msg));
  }
  if (f.parsed) {
    return make(Code::kUpstream,
                "Qwen answered with a JSON document instead of an event stream (" + ct + ")");
  }
  return make(Code::kUpstream, "Qwen sent an unexpected response body (" + ct + ", " +
                                   std::to_string(body.size()) + " bytes)");
}

UpstreamFailure classify_transport(TransportFailure kind, uint64_t limit, std::string_view detail) {
  std::string d = detail.empty() ? std::string() : " (" + sanitize(detail) + ")";
  std::string ms = std::to_string(limit);
  switch (kind) {
    case TransportFailure::kConnect:
      return make(Code::kUpstream, "cannot reach Qwen" + d, protocol::kHealthUnreachable);
    case TransportFailure::kConnectTimeout:
      return make(Code::kUpstreamTimeout, "cannot connect to Qwen within " + ms + " ms" + d,
                  protocol::kHealthUnreachable);
    case TransportFailure::kFirstByteTimeout:
      return make(Code::kUpstreamTimeout,
                  "Qwen did not start answering within " + ms + " ms (first-byte timeout)");
    case TransportFailure::kIdleTimeout:
      return make(Code::kUpstreamTimeout,
                  "Qwen stopped sending for more than " + ms + " ms (idle timeout)");
    case TransportFailure::kDropped:
      return make(Code::kUpstream, "the connection to Qwen broke during the response" + d);
    case TransportFailure::kTooLarge:
      return make(Code::kUpstream, "Qwen sent a response larger than " + ms + " bytes" + d);
  }
  return make(Code::kUpstream, "upstream transport failure" + d);
}

UpstreamFailure stream_ended_early() {
  return make(Code::kUpstream, "the Qwen stream ended before the answer finished");
}

}  // namespace qp::worker
