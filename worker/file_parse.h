// The document parse step of the upload flow (docs/upstream.md, "Images and
// files in", item 4), pure: the request bodies, how each answer is read and
// the polling policy. worker/parse_call.h does the I/O.
//
// After the OSS PUT of a document (any attachment that is not an image, and
// the long-input text file):
//  1. POST /api/v2/files/parse {"file_id": id}: 200 {"success": true, …}
//     accepts it;
//  2. POST /api/v2/files/parse/status {"file_id_list": [id]} until the
//     entry {"file_id": id, "status": s} says success/parsed/done, every
//     `interval_ms`, at most `max_polls` times.
// Known from public client code, not from captures: every shape here is
// assumed. The failure shapes peers saw live are recognised and fail at
// once: {"success":true,"data":{"code":…}} from parse, {"success":false,
// "data":{"code":…}} from status (an upstream outage), a WAF/captcha page
// (classify_response's markers), a status of failed/error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "worker/upstream_errors.h"

namespace qp::worker {

struct ParseLimits {
  uint64_t interval_ms = 500;  // before each status poll
  uint32_t max_polls = 20;     // status polls before giving up
};

// True for the attachments that go through the parse step: every kind but
// "image" (protocol::Attachment::kind "file", and the long-input file).
bool needs_parse(std::string_view kind);

std::string parse_body(std::string_view file_id);
std::string parse_status_body(std::string_view file_id);

enum class ParseState {
  kPending,  // accepted / still parsing: poll (again)
  kReady,    // parsed: the chat message may reference the file
  kFailed,   // give up now: `failure` says why
};

struct ParseAnswer {
  ParseState state = ParseState::kPending;
  std::optional<UpstreamFailure> failure;  // set iff kFailed
  std::string status;                      // the status string read (status answers), bounded
};

// The answer to POST /api/v2/files/parse.
ParseAnswer read_parse_answer(long http_status, std::string_view content_type,
                              std::string_view body);
// The answer to POST /api/v2/files/parse/status for `file_id`. An answer
// without an entry for it counts as pending (bounded by max_polls).
ParseAnswer read_parse_status(long http_status, std::string_view content_type,
                              std::string_view body, std::string_view file_id);

// After `polls_done` status polls answered pending: the delay before the
// next poll, or nullopt when the limit is reached (then parse_timeout()).
std::optional<uint64_t> next_poll_delay(const ParseLimits& limits, uint32_t polls_done);
UpstreamFailure parse_timeout(const ParseLimits& limits, uint32_t polls_done);

}  // namespace qp::worker
