// Interprets the JSON payloads of the Qwen completion event stream one event at
// a time. Pure: no I/O. One simdjson on-demand parser per thread is reused
// for every event of every interpreter (an open stream holds none of its
// buffers); what outlives an event is copied. Not re-entrant.
//
// Per event, in this order:
//   1. error detection (success:false, a non-null `error`, a top-level
//      `code`, a `data` object carrying code/error, the WAF `ret` array),
//      before anything of the event is forwarded;
//   2. `response.created` → chat_id / parent_id / response_id;
//   3. `usage` (cumulative: the last one wins);
//   4. choices[0].delta: `answer` (or no phase) text → content; `think`
//      text → reasoning; `thinking_summary` cumulative
//      extra.summary_thought.content[] → the new suffix as reasoning;
//      deep research (docs/upstream.md "Deep research"): `ResearchPlanning`
//      text and `WebResearch`'s extra.deep_research.research.researchGoal
//      (and any text) → reasoning, a blank line between research steps;
//      `KeepAlive` and other phases (web_search, image_gen…) and role
//      "function" are not text;
//   5. status "finished" with phase `answer` ends the answer. A `finished`
//      in another phase (tool results) does not;
//   6. web search sources (docs/upstream.md, "Search and thinking"), in both
//      formats: the newer `extra.tool_result.docs[]` of a web_search result
//      (role "function", phase or name web_search) and the older
//      `extra.web_search_info[]`.
//      Only http(s) URLs, deduplicated, at most protocol::kMaxSources, titles
//      cut at kMaxSourceTitleBytes. Deep research's
//      extra.deep_research.research.webSites[] and
//      extra.deep_research.references[] are sources too. The search phase's `function_call`
//      deltas are not answer text: nothing of them reaches content (so the
//      tool-call layer never sees them).
// `[DONE]`, keep-alives (`response.info`), events without choices and
// unknown fields (2026 `response_id`, `timestamp`) are tolerated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/protocol/messages.h"
#include "worker/upstream_errors.h"

namespace qp::worker {

struct StreamUsage {
  bool present = false;
  int64_t input_tokens = 0;   // → prompt_tokens
  int64_t output_tokens = 0;  // → completion_tokens
  int64_t total_tokens = 0;
  // → completion_tokens_details.reasoning_tokens. Reported when the usage
  // carries output_tokens_details.reasoning_tokens (DashScope's field; no
  // capture shows it from the web API); otherwise derived: the cumulative
  // output_tokens as of the last reasoning-phase event (think,
  // thinking_summary, deep research phases), i.e. the tokens spent before
  // the answer began.
  int64_t reasoning_tokens = 0;
  bool reasoning_reported = false;
};

enum class EventOutcome { kContinue, kFinished, kError };

class QwenEventInterpreter {
 public:
  QwenEventInterpreter() = default;
  QwenEventInterpreter(const QwenEventInterpreter&) = delete;
  QwenEventInterpreter& operator=(const QwenEventInterpreter&) = delete;

  // Interprets one `data:` payload, appending the answer delta to *content
  // and the reasoning delta to *reasoning. After kFinished or kError,
  // further calls change nothing and return the same outcome.
  EventOutcome interpret(std::string_view payload, std::string* content, std::string* reasoning);

  // Forgets the stream (ids, usage, outcome) for a new one; keeps the
  // parser's buffers.
  void reset();

  bool finished() const { return finished_; }
  const UpstreamFailure& failure() const { return failure_; }  // valid after kError
  const StreamUsage& usage() const { return usage_; }
  const std::string& chat_id() const { return chat_id_; }
  const std::string& parent_id() const { return parent_id_; }
  const std::string& response_id() const { return response_id_; }
  uint64_t events() const { return events_; }
  // The search sources seen so far (empty without search).
  const std::vector<protocol::SearchSource>& sources() const { return sources_; }

 private:
  void add_source(std::string_view url, std::string_view title);
  void append_research(std::string* reasoning, std::string_view text);
  EventOutcome fail_malformed(std::string_view payload);
  EventOutcome fail_event(std::string_view payload);

  std::string summary_;          // summary reasoning emitted so far
  bool reasoning_sent_ = false;  // any reasoning text emitted
  bool research_break_ = false;  // a research step ended: next text after a blank line
  uint8_t research_phase_ = 0;   // last research phase: 1 planning, 2 web research
  std::vector<protocol::SearchSource> sources_;
  std::string chat_id_, parent_id_, response_id_;
  StreamUsage usage_;
  UpstreamFailure failure_;
  uint64_t events_ = 0;
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace qp::worker
