// The deep research phases of chat_type "deep_research" (docs/upstream.md
// "Deep research", docs/mock-qwen.md): the steps the mock streams between
// response.created and the report, as byte-exact SSE events. Pure and
// deterministic: the same topic and round count give the same bytes.
//
// Steps, in order (phase / status, modelled on Alibaba's documented
// qwen-deep-research stream in the web API's delta shape):
//   ResearchPlanning / typing    one plan token each, counted in usage
//   ResearchPlanning / finished  the plan is done (no text)
//   per round r = 1..rounds:
//     WebResearch / streamingQueries    one research-goal token each, in
//                                       extra.deep_research.research.researchGoal
//     WebResearch / streamingWebResult  two sources in
//                                       extra.deep_research.research.webSites[]
//                                       (the server waits research_delay_ms
//                                       before it: the silent "reading" step)
//     WebResearch / WebResultFinished   the round is done
// The report's first answer delta then carries every source once in
// extra.deep_research.references[] (append_report_delta).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/mock-qwen/sse_events.h"

namespace qp::mock {

struct ResearchStep {
  enum class Kind : uint8_t { kPlan, kPlanDone, kGoal, kSites, kRoundDone };
  Kind kind = Kind::kPlan;
  std::string text;  // kPlan, kGoal: the token
  int round = 0;     // kGoal, kSites, kRoundDone: 1-based
};

// The steps for a topic (the prompt, cut to a short UTF-8 prefix by the
// caller) and 1..8 rounds (clamped).
std::vector<ResearchStep> research_steps(std::string_view topic, int rounds);

// Source i (1 or 2) of round r: https://example.com/mock-research/<r>/<i>,
// titled "Research source <r>.<i>: <topic>".
std::string research_source_url(int round, int i);

// Appends the step's event. Token steps (kPlan, kGoal) carry usage; the
// caller counts the token in it first.
void append_research_step(std::string* out, const ResearchStep& step, std::string_view topic,
                          const Usage& usage, const EventStyle& style);

// The report's first answer delta: `content` with usage and
// extra.deep_research.references[] = every source of `rounds` rounds.
void append_report_delta(std::string* out, std::string_view content, std::string_view topic,
                         int rounds, const Usage& usage, const EventStyle& style);

}  // namespace qp::mock
