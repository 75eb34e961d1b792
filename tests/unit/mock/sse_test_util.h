// Test helpers for the mock's SSE output: split a byte stream into events and
// read the fields the tests check. Uses simdjson's DOM API (tests only).
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace qp::mock::test {

// "data: <payload>\n\n" events -> payloads (without "data: ").
inline std::vector<std::string> split_events(std::string_view bytes) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find("\n\n", pos);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view ev = bytes.substr(pos, end - pos);
    if (ev.substr(0, 6) == "data: ") out.emplace_back(ev.substr(6));
    pos = end + 2;
  }
  return out;
}

// Whole events including the trailing blank line, byte for byte.
inline std::vector<std::string> split_raw_events(std::string_view bytes) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find("\n\n", pos);
    if (end == std::string_view::npos) break;
    out.emplace_back(bytes.substr(pos, end + 2 - pos));
    pos = end + 2;
  }
  return out;
}

inline std::string read_testdata(const std::string& rel) {
  std::ifstream in(std::string(QP_TESTDATA_DIR) + "/" + rel, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What a client reassembles from a completion stream.
struct Reassembled {
  std::string created_chat_id, created_parent_id, created_response_id;
  std::string answer;
  std::string thinking;                      // think-phase deltas
  std::vector<std::string> summary_thought;  // last cumulative array
  int64_t last_input_tokens = -1;
  int64_t last_output_tokens = -1;
  int64_t last_total_tokens = -1;
  int typing_events = 0;
  int finished_events = 0;
  int done_lines = 0;
  int error_events = 0;
  int keep_alives = 0;
  int search_events = 0;
  // Deep research (research_events.h): planning text, research goals, the
  // rounds' source URLs, the report's reference URLs, and the statuses of
  // the research phases in order.
  std::string research_plan, research_goals;
  std::vector<std::string> research_sites, references, research_statuses;
  bool parse_error = false;
};

inline void append_urls(simdjson::dom::element delta, const char* pointer,
                        std::vector<std::string>* out) {
  simdjson::dom::array arr;
  if (delta.at_pointer(pointer).get(arr)) return;
  for (auto v : arr) {
    std::string_view url;
    if (!v["url"].get(url)) out->emplace_back(url);
  }
}

inline Reassembled reassemble(std::string_view bytes) {
  Reassembled r;
  simdjson::dom::parser parser;
  for (const auto& payload : split_events(bytes)) {
    if (payload == "[DONE]") {
      ++r.done_lines;
      continue;
    }
    simdjson::dom::element doc;
    if (parser.parse(payload).get(doc)) {
      r.parse_error = true;
      continue;
    }
    simdjson::dom::element created;
    if (!doc["response.created"].get(created)) {
      std::string_view s;
      if (!created["chat_id"].get(s)) r.created_chat_id = std::string(s);
      if (!created["parent_id"].get(s)) r.created_parent_id = std::string(s);
      if (!created["response_id"].get(s)) r.created_response_id = std::string(s);
      continue;
    }
    if (!doc["response.info"].error()) {
      ++r.keep_alives;
      continue;
    }
    if (!doc["error"].error()) {
      ++r.error_events;
      continue;
    }
    simdjson::dom::element delta;
    if (doc.at_pointer("/choices/0/delta").get(delta)) continue;
    std::string_view status, phase, content;
    if (delta["status"].get(status)) {
    }
    if (delta["phase"].get(phase)) {
    }
    if (delta["content"].get(content)) {
    }
    if (phase == "web_search") {
      ++r.search_events;
      continue;
    }
    if (phase == "ResearchPlanning" || phase == "WebResearch") {
      r.research_statuses.emplace_back(status);
      if (phase == "ResearchPlanning") r.research_plan += content;
      std::string_view goal;
      if (!delta.at_pointer("/extra/deep_research/research/researchGoal").get(goal))
        r.research_goals += goal;
      append_urls(delta, "/extra/deep_research/research/webSites", &r.research_sites);
      simdjson::dom::element usage;
      if (!doc["usage"].get(usage) && usage["output_tokens"].get(r.last_output_tokens)) {
      }
      continue;
    }
    append_urls(delta, "/extra/deep_research/references", &r.references);
    if (status == "finished") {
      ++r.finished_events;
      continue;
    }
    ++r.typing_events;
    if (phase == "answer") r.answer += content;
    if (phase == "think") r.thinking += content;
    if (phase == "thinking_summary") {
      simdjson::dom::array arr;
      if (!delta.at_pointer("/extra/summary_thought/content").get(arr)) {
        r.summary_thought.clear();
        for (auto v : arr) {
          std::string_view s;
          if (!v.get(s)) r.summary_thought.emplace_back(s);
        }
      }
    }
    simdjson::dom::element usage;
    if (!doc["usage"].get(usage)) {
      if (usage["input_tokens"].get(r.last_input_tokens)) {
      }
      if (usage["output_tokens"].get(r.last_output_tokens)) {
      }
      if (usage["total_tokens"].get(r.last_total_tokens)) {
      }
    }
  }
  return r;
}

}  // namespace qp::mock::test
