#include "tools/mock-qwen/research_events.h"

#include <algorithm>

#include "common/json/writer.h"

namespace qp::mock {
namespace {

// Splits text into word tokens, each keeping its trailing space.
void add_tokens(std::string_view text, ResearchStep::Kind kind, int round,
                std::vector<ResearchStep>* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t sp = text.find(' ', pos);
    size_t end = sp == std::string_view::npos ? text.size() : sp + 1;
    out->push_back({kind, std::string(text.substr(pos, end - pos)), round});
    pos = end;
  }
}

void write_site(json::Writer& w, std::string_view topic, int round, int i) {
  std::string title = "Research source " + std::to_string(round) + "." + std::to_string(i) + ": ";
  title.append(topic);
  w.begin_object()
      .field("url", research_source_url(round, i))
      .field("title", title)
      .field("description", "A deterministic mock page about the topic.")
      .end_object();
}

}  // namespace

std::vector<ResearchStep> research_steps(std::string_view topic, int rounds) {
  rounds = std::clamp(rounds, 1, 8);
  std::vector<ResearchStep> steps;
  std::string plan = "Research plan: 1. Background of ";
  plan.append(topic).append(". 2. Recent developments. 3. Write the report.");
  add_tokens(plan, ResearchStep::Kind::kPlan, 0, &steps);
  steps.push_back({ResearchStep::Kind::kPlanDone, {}, 0});
  for (int r = 1; r <= rounds; ++r) {
    std::string goal = "Round " + std::to_string(r) + ": find sources on ";
    goal.append(topic).append(".");
    add_tokens(goal, ResearchStep::Kind::kGoal, r, &steps);
    steps.push_back({ResearchStep::Kind::kSites, {}, r});
    steps.push_back({ResearchStep::Kind::kRoundDone, {}, r});
  }
  return steps;
}

std::string research_source_url(int round, int i) {
  return "https://example.com/mock-research/" + std::to_string(round) + "/" + std::to_string(i);
}

void append_research_step(std::string* out, const ResearchStep& step, std::string_view topic,
                          const Usage& usage, const EventStyle& style) {
  std::string extra;
  json::Writer w(&extra);
  switch (step.kind) {
    case ResearchStep::Kind::kPlan:
      append_phase_delta(out, step.text, "ResearchPlanning", "typing", {}, &usage, style);
      return;
    case ResearchStep::Kind::kPlanDone:
      append_phase_delta(out, "", "ResearchPlanning", "finished", {}, nullptr, style);
      return;
    case ResearchStep::Kind::kGoal:
      w.begin_object().key("deep_research").begin_object().key("research").begin_object();
      w.field("researchGoal", step.text);
      w.end_object().end_object().end_object();
      append_phase_delta(out, "", "WebResearch", "streamingQueries", extra, &usage, style);
      return;
    case ResearchStep::Kind::kSites:
      w.begin_object().key("deep_research").begin_object().key("research").begin_object();
      w.key("webSites").begin_array();
      write_site(w, topic, step.round, 1);
      write_site(w, topic, step.round, 2);
      w.end_array().end_object().end_object().end_object();
      append_phase_delta(out, "", "WebResearch", "streamingWebResult", extra, &usage, style);
      return;
    case ResearchStep::Kind::kRoundDone:
      append_phase_delta(out, "", "WebResearch", "WebResultFinished", {}, &usage, style);
      return;
  }
}

void append_report_delta(std::string* out, std::string_view content, std::string_view topic,
                         int rounds, const Usage& usage, const EventStyle& style) {
  rounds = std::clamp(rounds, 1, 8);
  std::string extra;
  json::Writer w(&extra);
  w.begin_object().key("deep_research").begin_object().key("references").begin_array();
  for (int r = 1; r <= rounds; ++r) {
    write_site(w, topic, r, 1);
    write_site(w, topic, r, 2);
  }
  w.end_array().end_object().end_object();
  append_phase_delta(out, content, "answer", "typing", extra, &usage, style);
}

}  // namespace qp::mock
