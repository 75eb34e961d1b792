// Redaction for upstream recordings (docs/recording.md): what a recording
// may hold, decided here, apart from the I/O (upstream_recorder.h) and the
// exchange bookkeeping (exchange_record.h). Pure: no I/O, no globals.
//
// By construction, a recording never holds:
//   - a header outside the allow-lists below (so never Cookie, Set-Cookie,
//     Authorization, bx-*, Referer, User-Agent, x-request-id…);
//   - the value of a JSON field whose name says it carries a secret or a
//     personal id (is_secret_key(): token, password, email, user_id…), in
//     request bodies, response bodies and SSE events alike;
//   - the value of a signed URL's credential query parameters
//     (is_signed_url_param(): Signature, OSSAccessKeyId, security-token,
//     x-oss-*, x5secdata…), wherever a URL appears (path, JSON string, text);
//   - anything shaped like a JWT (three base64url segments, the first
//     starting "eyJ");
//   - any known secret (add_secret(), add_account(): every cookie value, the
//     token, the bx-* values, email, password, proxy, and the user id inside
//     the account's JWT), wherever it appears, raw or JSON-escaped.
// Each redacted value becomes the string "[redacted]".
//
// Thread: one thread at a time (the JSON parser is reused).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/config.h"

namespace qp::worker::record {

inline constexpr std::string_view kRedacted = "[redacted]";
// Known secrets shorter than this are not scrubbed from text (a cookie
// value like "1" would mangle everything); they are never in a recorded
// header anyway.
inline constexpr size_t kMinSecretBytes = 6;

// Request and response headers that are recorded (names compared
// case-insensitively). Everything else is dropped.
bool keep_request_header(std::string_view name);
bool keep_response_header(std::string_view name);
// A JSON field whose value is dropped (case-insensitive, '-' = '_'): exact
// names (email, user_id, aui, file_path…), or a name containing "token",
// "secret", "password", "cookie" or "signature" whose value is a string.
bool is_secret_key(std::string_view name, bool string_value);
// A query parameter of a signed URL whose value is dropped.
bool is_signed_url_param(std::string_view name);

class Redactor {
 public:
  // Adds one known secret (ignored if shorter than kMinSecretBytes).
  void add_secret(std::string_view secret);
  // Adds every credential of the account: cookie values, token, bx-*,
  // email, password, proxy, and the `id` claim of its JWTs.
  void add_account(const AccountConfig& account);
  size_t secret_count() const { return secrets_.size(); }

  // Free text: signed-URL parameters, JWT-shaped strings and known secrets
  // replaced.
  std::string text(std::string_view s) const;
  // Appends `body` as a JSON value: redacted JSON if it parses as JSON,
  // else a JSON string of text(body).
  void append_body(std::string_view body, std::string* out);
  // Appends the redacted JSON; false (nothing appended) if `json` is not
  // valid JSON.
  bool append_json(std::string_view json, std::string* out);
  // Removes known secrets (raw or JSON-escaped) from serialised output: the
  // last pass over a finished line.
  void scrub(std::string* line) const;

 private:
  void append_element(simdjson::dom::element e, std::string* out);

  struct Secret {
    std::string raw;
    std::string escaped;  // as inside a JSON string (often equal to raw)
  };
  std::vector<Secret> secrets_;  // longest first
  simdjson::dom::parser parser_;
};

}  // namespace qp::worker::record
