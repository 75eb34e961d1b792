// Shared by the tool-call stream targets (native_stream.cc, xml_stream.cc):
// runs a ToolStream over pieces of the input and describes what came out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/protocol/messages.h"
#include "fuzz_util.h"
#include "worker/toolcalls/tool_plan.h"
#include "worker/toolcalls/tool_stream.h"

namespace qp::fuzz {

inline protocol::JobRequest base_job() {
  protocol::JobRequest job;
  job.model = "qwen3-max";
  job.messages.push_back({"user", "hello", "", "", ""});
  return job;
}

// Small bounds, so the "too long: it is text" paths are reached.
inline worker::toolcalls::StreamOptions small_options(int attempt) {
  worker::toolcalls::StreamOptions o;
  o.attempt = attempt;
  o.max_call_bytes = 8192;
  o.max_held_text_bytes = 8192;
  o.xml_lookahead_bytes = 1024;
  return o;
}

// Every chunk in order; checks the stream contract on the way: memory
// bound, call deltas in order with id and name first, arguments that are a
// JSON object, no reasoning.
inline std::string run_stream(const worker::toolcalls::ToolPlan& plan,
                              const std::vector<std::string_view>& pieces, int attempt) {
  using namespace worker::toolcalls;
  StreamOptions options = small_options(attempt);
  int counter = 0;
  options.next_id = [&counter] { return "call_" + std::to_string(++counter); };
  auto stream = make_tool_stream(plan, options);
  std::string content, log, warnings;  // warnings apart: their place among chunks may vary
  std::string all_input;
  for (std::string_view p : pieces) all_input.append(p);
  std::vector<std::string> args;
  StreamOutput out;
  auto collect = [&] {
    for (const auto& c : out.chunks) {
      if (!c.reasoning.empty()) fail("reasoning in a tool stream chunk");
      content += c.content;
      for (const auto& d : c.tool_calls) {
        if (d.index < 0 || static_cast<size_t>(d.index) > args.size())
          fail("tool call index out of order");
        if (static_cast<size_t>(d.index) == args.size()) {
          if (d.id.empty() || d.name.empty()) fail("first delta of a call without id or name");
          if (!content.empty()) log += "text[" + content + "]\n";
          content.clear();
          log += "call " + d.id + " " + d.name + "\n";
          args.emplace_back();
        } else if (!d.id.empty() || !d.name.empty()) {
          fail("later delta repeats id or name");
        }
        args[static_cast<size_t>(d.index)] += d.arguments;
      }
    }
    for (const auto& w : out.warnings) warnings += "warn " + w + "\n";
  };
  for (std::string_view p : pieces) {
    out.clear();
    stream->feed(p, &out);
    collect();
    if (stream->buffered_bytes() > stream->max_buffered_bytes())
      fail("memory bound exceeded", std::to_string(stream->buffered_bytes()));
    if (stream->stop_upstream()) break;
  }
  log += std::string("stop=") + (stream->stop_upstream() ? "1" : "0") + "\n";
  out.clear();
  stream->finish(&out);
  collect();
  log += "text[" + content + "]\n";
  simdjson::dom::parser parser;
  // The stream parsers' input is answer text decoded from upstream JSON, so
  // it is always valid UTF-8, and arguments taken from it are too. Raw fuzz
  // bytes need not be: then arguments may carry the input's invalid bytes
  // (never a crash), and only their shape is checked.
  for (const auto& a : args) {
    auto doc = parser.parse(a);
    if (doc.error() != simdjson::SUCCESS &&
        !simdjson::validate_utf8(all_input.data(), all_input.size())) {
      if (a.empty() || a.front() != '{' || a.back() != '}')
        fail("call arguments are not a JSON object", a);
    } else if (doc.error() != simdjson::SUCCESS || !doc.value().is_object()) {
      fail("call arguments are not a JSON object", a);
    }
    log += "args " + a + "\n";
  }
  log += "finish=" + std::string(stream->finish_reason()) +
         " retry=" + (stream->retry_wanted() ? "1" : "0") + "\n";
  return log + warnings;
}

// Whole input vs pieces derived from it: the same output.
inline void check_splits(const worker::toolcalls::ToolPlan& plan, std::string_view in,
                         int attempt) {
  std::string whole = run_stream(plan, {in}, attempt);
  std::string split = run_stream(plan, random_pieces(in), attempt);
  if (whole != split) fail("a split changed the result", whole + "---\n" + split);
}

}  // namespace qp::fuzz
