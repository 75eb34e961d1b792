// Signing an account in again: POST /api/v1/auths/signin with the account's
// email and the SHA-256 hex of its password (docs/upstream.md 1.4; there is
// no refresh-token grant, so "renewal" is a new sign-in). The answer's
// `token` is the new session JWT.
//
// The request and the answer's parsing are pure; SigninCall runs one
// request on the worker's CurlMulti. Secrets (password, token, cookies)
// never appear in a log line or an error message.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/status.h"
#include "worker/curl_multi.h"
#include "worker/http_request.h"

namespace qp::worker {

// Lower-case hex SHA-256 of `data` (the password form the web app sends).
std::string sha256_hex(std::string_view data);

// {"email":"…","password":"<sha256 hex of password>"}
std::string signin_body(std::string_view email, std::string_view password);

// The sign-in request for `account` (email and password set): the browser
// headers (User-Agent, bx-*), the account's cookies without the old `token`
// cookie, and its proxy. `request_uuid` becomes x-request-id.
HttpRequestSpec signin_spec(const UpstreamConfig& upstream, const AccountConfig& account,
                            std::string_view request_uuid);

// The new session token in a sign-in answer, or why there is none
// (kUpstreamAuth: the email or password was refused; kUpstream: human
// verification or an unexpected answer). The token must be a JWT whose
// expiry can be read. Messages never contain the token.
Result<std::string> parse_signin_response(long http_status, std::string_view body);

// One sign-in. `done` is called once from the loop (never inside a libcurl
// callback) with the token or the failure, unless abort() came first; it
// must not destroy the call synchronously (hand it to DeferredDelete).
class SigninCall final : private HttpRequest::Listener {
 public:
  using Done = std::function<void(Result<std::string> token)>;
  SigninCall(CurlMulti* multi, HttpRequestSpec spec, Done done);
  SigninCall(const SigninCall&) = delete;
  SigninCall& operator=(const SigninCall&) = delete;

  Status start() { return request_.start(); }
  void abort() { request_.abort(); }

 private:
  bool on_stream_data(std::string_view) override { return true; }
  void on_complete(HttpResult result) override;

  Done done_;
  HttpRequest request_;
};

}  // namespace qp::worker
