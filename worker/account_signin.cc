#include "worker/account_signin.h"

#include <exception>

#include <openssl/evp.h>
#include <simdjson.h>

#include "common/accounts/credentials.h"
#include "common/json/writer.h"
#include "common/jwt.h"
#include "common/log.h"
#include "worker/qwen_requests.h"
#include "worker/upstream_errors.h"

namespace qp::worker {
namespace {

constexpr uint64_t kSigninTimeoutMs = 30'000;
constexpr size_t kMaxSigninBytes = 64 * 1024;

std::string header(std::string_view name, std::string_view value) {
  std::string h(name);
  h.append(": ");
  for (char c : value) {
    if (c != '\r' && c != '\n') h.push_back(c);  // no header injection from account values
  }
  return h;
}

// The upstream's short `detail` text, if the body is {"detail":"…"}, cut and
// with anything secret-looking masked.
std::string detail_of(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view detail;
  if (parser.parse(body.data(), body.size()).get(root) || root["detail"].get(detail)) return {};
  std::string out(detail.substr(0, 200));
  log::mask_secrets(&out);
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 0xF]);
  }
  return out;
}

std::string signin_body(std::string_view email, std::string_view password) {
  std::string out;
  json::Writer(&out)
      .begin_object()
      .field("email", email)
      .field("password", sha256_hex(password))
      .end_object();
  return out;
}

HttpRequestSpec signin_spec(const UpstreamConfig& upstream, const AccountConfig& account,
                            std::string_view request_uuid) {
  HttpRequestSpec spec;
  spec.post = true;
  spec.url = upstream.base_url + "/api/v1/auths/signin";
  const std::string& ua = account.user_agent.empty() ? upstream.user_agent : account.user_agent;
  spec.headers = {
      header("Accept", "application/json, text/plain, */*"),
      header("Accept-Language", "en-US,en;q=0.9"),
      header("Accept-Encoding", "identity"),
      header("Content-Type", "application/json"),
      header("User-Agent", ua),
      header("Origin", upstream.base_url),
      header("Referer", upstream.base_url + "/auth?action=signin"),
      header("Sec-Fetch-Dest", "empty"),
      header("Sec-Fetch-Mode", "cors"),
      header("Sec-Fetch-Site", "same-origin"),
      header("source", "web"),
      header("version", kWebVersion),
      header("x-request-id", request_uuid),
  };
  if (!account.bx_umidtoken.empty())
    spec.headers.push_back(header("bx-umidtoken", account.bx_umidtoken));
  if (!account.bx_ua.empty()) spec.headers.push_back(header("bx-ua", account.bx_ua));
  if (!account.bx_v.empty()) spec.headers.push_back(header("bx-v", account.bx_v));
  spec.headers.emplace_back("Expect:");
  // The site's other cookies (WAF, device) help the request pass; the old
  // session is not sent.
  spec.cookies = accounts::remove_cookie(account.cookies, "token");
  spec.proxy = account.proxy;
  spec.body = signin_body(account.email, account.password);
  spec.connect_timeout_ms = upstream.connect_timeout_ms;
  spec.first_byte_timeout_ms = kSigninTimeoutMs;
  spec.idle_timeout_ms = kSigninTimeoutMs;
  spec.total_timeout_ms = kSigninTimeoutMs;
  spec.max_body_bytes = kMaxSigninBytes;
  return spec;
}

Result<std::string> parse_signin_response(long http_status, std::string_view body) {
  if (has_waf_marker(body)) {
    return error(Code::kUpstream, "the sign-in needs human verification (WAF challenge, HTTP " +
                                      std::to_string(http_status) + ")");
  }
  if (http_status != 200) {
    std::string detail = detail_of(body);
    Code code = http_status == 400 || http_status == 401 || http_status == 403 ? Code::kUpstreamAuth
                                                                               : Code::kUpstream;
    std::string msg = code == Code::kUpstreamAuth ? "the upstream refused the email or password"
                                                  : "the sign-in failed";
    msg += " (HTTP " + std::to_string(http_status) + (detail.empty() ? "" : ": " + detail) + ")";
    return error(code, std::move(msg));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) || !root.is_object()) {
    return error(Code::kUpstream, "the sign-in answer is not a JSON object");
  }
  std::string_view token;
  // The token is at the top level (docs/upstream.md 1.4); some deployments
  // wrap answers in {"data": …}.
  if (root["token"].get(token) && root.at_pointer("/data/token").get(token)) {
    return error(Code::kUpstream, "the sign-in answer has no token");
  }
  for (char c : token) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '=';
    if (!ok) return error(Code::kUpstream, "the sign-in answer's token is not a JWT");
  }
  auto exp = jwt::expiry_unix_s(token);
  if (!exp) {
    return error(Code::kUpstream,
                 "the sign-in answer's token is not a usable JWT: " + exp.error().message());
  }
  return std::string(token);
}

SigninCall::SigninCall(CurlMulti* multi, HttpRequestSpec spec, Done done)
    : done_(std::move(done)), request_(multi, std::move(spec), this) {}

void SigninCall::on_complete(HttpResult result) {
  Result<std::string> token =
      result.failure
          ? Result<std::string>(error(result.failure->code,
                                      "the sign-in request failed: " + result.failure->message))
          : parse_signin_response(result.status, result.body);
  try {
    done_(std::move(token));
  } catch (const std::exception& e) {
    QP_ERROR("account.signin_exception").kv("error", e.what());
  } catch (...) {
    QP_ERROR("account.signin_exception");
  }
}

}  // namespace qp::worker
