// Run-time knobs of the mock and the JSON patch format of POST /__mock/config.
// Pure; owned by the mock's loop thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "tools/mock-qwen/faults.h"

namespace qp::mock {

struct MockConfig {
  int64_t token_delay_ms = 0;               // between stream events; 0 = next loop turn
  int64_t first_token_delay_ms = 0;         // between response.created and the first content event
  int64_t chats_new_delay_ms = 0;           // before answering POST /api/v2/chats/new
  bool emit_done = false;                   // "data: [DONE]" after finished
  bool variant_2026 = false;                // 2026 event fields + response.info keep-alives
  int64_t keepalive_ms = 2000;              // variant_2026: keep-alive period during long waits
  int64_t chunk_bytes = 0;                  // >0: write each event in pieces of this many bytes
  bool strict_guest = false;                // guests must send bx-umidtoken
  int64_t user_quota = -1;                  // completions per signed-in user; -1 = unlimited
  int64_t guest_quota = -1;                 // completions per guest device; -1 = unlimited
  int64_t quota_num = 6;                    // "num" (hours) of the quota RateLimited error
  int64_t max_records = 10000;              // records kept for /__mock/state
  int64_t echo_max_bytes = 0;               // >0: the echo quotes at most this much of the prompt
  int64_t backpressure_bytes = 256 * 1024;  // pause a stream while more is queued
  // chat_type "search": "function_call" (the newer function_call / tool_result
  // events) or "web_search_info" (the older format).
  std::string search_format = "function_call";
  int64_t search_delay_ms = 0;  // the search phase's duration (before its result event)
  // chat_type "deep_research" (research_events.h): the silent "reading" step
  // before each round's sources, the number of search rounds (1..8), and
  // whether the first turn of a chat asks clarifying questions instead of
  // researching (as the site does; the reply in the same chat starts the
  // research).
  int64_t research_delay_ms = 0;
  int64_t research_rounds = 2;
  bool research_clarify = true;
  // chat_types "t2i" and "t2v" (media.h): the wait before the image_gen
  // delta that carries the image URL, and how long a video task runs
  // before its status turns to success.
  int64_t image_delay_ms = 0;
  int64_t video_duration_ms = 3000;
  // Uploads (sts.cc): getstsToken answers in the wrapped form {success, data}
  // instead of the flat one; the OSS stand-in answers this many PUTs with 500
  // before it accepts any (retry tests).
  bool sts_wrapped = false;
  int64_t oss_fail_puts = 0;
  // Long inputs: a completion whose message text is longer than this is a
  // Bad_Request (0 = no limit). The real limit is not known (docs/upstream.md).
  int64_t max_message_bytes = 0;
  // The document parse step (sts.cc): files/parse/status answers "parsing"
  // to this many polls of a file, then "success" (-1 = never finishes).
  // require_parse: a completion whose `file` item names an object stored
  // here that was never parsed is a Bad_Request (the real site's behaviour
  // is not known: docs/mock-qwen.md).
  int64_t parse_polls = 1;
  bool require_parse = true;
};

// Applies a JSON object of knobs (the field names above) to *config and, when
// it has "faults" (array, replaces the list) or "add_faults" (array, appends)
// or "clear_faults": true, to *faults. All-or-nothing: on error nothing
// changes. Unknown keys are errors.
qp::Status apply_config_json(std::string_view json, MockConfig* config, FaultSet* faults);

// Appends the config as a JSON object.
void append_config_json(std::string* out, const MockConfig& config);

}  // namespace qp::mock
