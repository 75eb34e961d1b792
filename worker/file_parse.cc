#include "worker/file_parse.h"

#include <simdjson.h>

#include "common/json/writer.h"
#include "common/strings.h"

namespace qp::worker {
namespace {

using simdjson::dom::element;
using strings::iequals;

constexpr size_t kMaxShownChars = 64;

// An upstream code or status made safe to show: a short token of
// [A-Za-z0-9_.-], anything else dropped.
std::string shown(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (out.size() == kMaxShownChars) break;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (ok) out.push_back(c);
  }
  return out;
}

ParseAnswer failed(UpstreamFailure f) {
  ParseAnswer a;
  a.state = ParseState::kFailed;
  a.failure = std::move(f);
  return a;
}

ParseAnswer failed(std::string message) {
  return failed(UpstreamFailure{Code::kUpstream, std::move(message), 0, nullptr});
}

// Not a usable JSON answer, or an error envelope: the failure, else nullopt
// with *root set. `step` names the request in messages.
std::optional<ParseAnswer> vet(long http_status, std::string_view content_type,
                               std::string_view body, simdjson::dom::parser& parser, element* root,
                               const char* step) {
  // A WAF page (any status), an auth or rate-limit answer or a non-200:
  // the shared classification, so the account's state is reported.
  if (http_status != 200 || has_waf_marker(body)) {
    return failed(classify_response(http_status, content_type, body));
  }
  if (parser.parse(body.data(), body.size()).get(*root) || !root->is_object()) {
    return failed(std::string("Qwen's document ") + step + " answer is not a JSON object (" +
                  std::to_string(body.size()) + " bytes)");
  }
  bool success = true;
  bool has_success = !(*root)["success"].get(success);
  std::string_view code;
  element data;
  if (!(*root)["data"].get(data) && data.is_object() && data["code"].get(code)) code = {};
  if (code.empty() && (*root)["code"].get(code)) code = {};
  element err;
  bool has_error = !(*root)["error"].get(err) && !err.is_null();
  if ((has_success && !success) || !code.empty() || has_error) {
    UpstreamFailure f = classify_response(http_status, content_type, body);
    // An account state (rate limit, credentials) keeps its classification.
    if (f.health != nullptr || f.code != Code::kUpstream) return failed(std::move(f));
    std::string what = shown(code);
    if (what.empty()) what = "unspecified error";
    return failed("Qwen's document parser failed (" + std::string(step) + ": " + what +
                  "); the site's parse service looks down, try again later");
  }
  return std::nullopt;
}

}  // namespace

bool needs_parse(std::string_view kind) { return kind != "image"; }

std::string parse_body(std::string_view file_id) {
  std::string out;
  json::Writer w(&out);
  w.begin_object().field("file_id", file_id).end_object();
  return out;
}

std::string parse_status_body(std::string_view file_id) {
  std::string out;
  json::Writer w(&out);
  w.begin_object().key("file_id_list").begin_array().value(file_id).end_array().end_object();
  return out;
}

ParseAnswer read_parse_answer(long http_status, std::string_view content_type,
                              std::string_view body) {
  simdjson::dom::parser parser;
  element root;
  if (auto bad = vet(http_status, content_type, body, parser, &root, "parse")) return *bad;
  return ParseAnswer{};  // accepted: poll the status
}

ParseAnswer read_parse_status(long http_status, std::string_view content_type,
                              std::string_view body, std::string_view file_id) {
  simdjson::dom::parser parser;
  element root;
  if (auto bad = vet(http_status, content_type, body, parser, &root, "parse status")) return *bad;
  ParseAnswer a;
  simdjson::dom::array list;
  if (root["data"].get(list)) return a;  // no list: still pending
  size_t n = list.size();
  for (element e : list) {
    std::string_view id;
    bool has_id = !e["file_id"].get(id);
    // An entry for another file is not ours; one without an id is, when alone.
    if (has_id ? id != file_id : n != 1) continue;
    std::string_view s;
    if (e["status"].get(s)) return a;
    a.status = shown(s);
    if (iequals(s, "success") || iequals(s, "parsed") || iequals(s, "done")) {
      a.state = ParseState::kReady;
    } else if (iequals(s, "failed") || iequals(s, "fail") || iequals(s, "error")) {
      ParseAnswer f = failed("Qwen could not parse the document (parse status " + a.status + ")");
      f.status = a.status;
      return f;
    }
    return a;
  }
  return a;
}

std::optional<uint64_t> next_poll_delay(const ParseLimits& limits, uint32_t polls_done) {
  if (polls_done >= limits.max_polls) return std::nullopt;
  return limits.interval_ms;
}

UpstreamFailure parse_timeout(const ParseLimits& limits, uint32_t polls_done) {
  return UpstreamFailure{Code::kUpstreamTimeout,
                         "Qwen did not finish parsing the document after " +
                             std::to_string(polls_done) + " status checks (" +
                             std::to_string(limits.interval_ms) + " ms apart)",
                         0, nullptr};
}

}  // namespace qp::worker
