// The client's function tools (OpenAI `tools`), parsed once per job from the
// raw JSON array text that JobRequest carries. Pure.
//
// Upstream, every tool name gets kUpstreamPrefix so it cannot collide with
// the Qwen web model's built-in tools (web_search, code_interpreter, …:
// Qwen answers "Tool X does not exists" for names it thinks are its own).
// find() accepts both spellings and returns the client's tool.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/toolcalls/schema.h"

namespace qp::worker::toolcalls {

inline constexpr std::string_view kUpstreamPrefix = "fn_";

struct Tool {
  std::string name;         // the client's name
  std::string description;  // may be empty
  Schema parameters;        // an object schema (empty object when absent)
  bool strict = false;      // function.strict
};

class ToolSet {
 public:
  ToolSet() = default;
  explicit ToolSet(std::vector<Tool> tools);

  const std::vector<Tool>& tools() const { return tools_; }
  bool empty() const { return tools_.empty(); }
  // By the upstream name (prefix stripped first) or the client's name.
  const Tool* find(std::string_view name) const;
  // FNV-1a 64 of the canonical form of every tool, in order. Equal for the
  // same tools however the JSON was spelled; changes when anything that
  // shows in the prompt changes (the worker resends the tool section then).
  uint64_t hash() const { return hash_; }
  std::string hash_hex() const;

  static std::string upstream_name(std::string_view name);

 private:
  std::vector<Tool> tools_;
  uint64_t hash_ = 0;
};

// `tools_json`: the request's tools array as JSON text (empty: no tools).
// Entries that are not function tools are skipped. Fails only for text that
// is not a JSON array (the frontend validated it already).
Result<ToolSet> parse_tool_set(std::string_view tools_json);

// OpenAI tool_choice: "none" | "auto" | "required" |
// {"type":"function","function":{"name":…}}.
struct ToolChoice {
  enum class Mode : uint8_t { kAuto, kNone, kRequired, kNamed };
  Mode mode = Mode::kAuto;
  std::string name;  // kNamed: the client's tool name
};

// `choice_json`: the request's tool_choice as JSON text; empty or
// unparseable means auto (the frontend validated it already).
ToolChoice parse_tool_choice(std::string_view choice_json);

}  // namespace qp::worker::toolcalls
